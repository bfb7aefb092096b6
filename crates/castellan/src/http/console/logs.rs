//! The tenant log with filters (event type, user, application, dates, and any search in the
//! log's query syntax), newest first, and one event with its details.

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use castellan_core::directory::logs;
use minijinja::{Value, context};
use serde::Deserialize;

use super::users::log_row;
use super::{Admin, ConsoleError, finish, page, page_request, pager, pretty, when};
use crate::app::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/logs", get(list))
        .route("/admin/logs/{id}", get(show))
}

/// Auth0's event types the console offers in its filter, with their meaning.
const TYPES: &[(&str, &str)] = &[
    ("s", "Successful log-in"),
    ("f", "Failed log-in"),
    ("fp", "Wrong password"),
    ("fu", "Unknown user"),
    ("ss", "Successful sign-up"),
    ("fs", "Failed sign-up"),
    ("sapi", "Management change"),
    ("seacft", "Code exchanged"),
    ("feacft", "Code exchange failed"),
    ("seccft", "Client credentials"),
    ("feccft", "Client credentials failed"),
    ("sertft", "Refresh token used"),
    ("fertft", "Refresh token failed"),
    ("slo", "Log-out"),
    ("scp", "Password changed"),
    ("sv", "Email verified"),
    ("limit_wc", "Blocked after failed log-ins"),
    ("w", "Warning"),
];

#[derive(Deserialize, Default)]
pub struct Filters {
    #[serde(default, rename = "type")]
    event_type: String,
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    page: u64,
}

fn quoted(value: &str) -> String {
    format!("\"{}\"", value.replace('\\', "\\\\").replace('"', "\\\""))
}

/// A date bound as the search syntax takes it unquoted: a date or an RFC 3339 time.
fn bound(value: &str) -> Result<String, String> {
    if value.is_empty() {
        return Ok("*".into());
    }
    if value
        .chars()
        .all(|c| c.is_ascii_digit() || "-:TZ+.".contains(c))
    {
        Ok(value.to_string())
    } else {
        Err(format!("\"{value}\" is not a date (YYYY-MM-DD)"))
    }
}

/// The filters as one query in the log's search syntax.
fn query(f: &Filters) -> Result<Option<String>, String> {
    let mut terms = Vec::new();
    for (field, value) in [
        ("type", &f.event_type),
        ("user_id", &f.user_id),
        ("client_id", &f.client_id),
    ] {
        let value = value.trim();
        if !value.is_empty() {
            terms.push(format!("{field}:{}", quoted(value)));
        }
    }
    let (from, to) = (f.from.trim(), f.to.trim());
    if !from.is_empty() || !to.is_empty() {
        terms.push(format!("date:[{} TO {}]", bound(from)?, bound(to)?));
    }
    if !f.q.trim().is_empty() {
        terms.push(format!("({})", f.q.trim()));
    }
    Ok((!terms.is_empty()).then(|| terms.join(" AND ")))
}

async fn list(State(s): State<AppState>, admin: Admin, Query(f): Query<Filters>) -> Response {
    let found = match query(&f) {
        Ok(q) => {
            logs::search(
                s.store.as_ref(),
                q.as_deref(),
                None,
                false,
                page_request(f.page),
            )
            .await
        }
        Err(e) => Err(castellan_core::Error::InvalidQuery(e)),
    };
    let (status, rows, total, error) = match found {
        Ok(found) => (
            StatusCode::OK,
            found.items.iter().map(log_row).collect::<Vec<_>>(),
            found.total,
            None,
        ),
        Err(castellan_core::Error::InvalidQuery(e)) => {
            (StatusCode::BAD_REQUEST, Vec::new(), 0, Some(e))
        }
        Err(e) => return ConsoleError::from(e).respond(&s),
    };
    let types: Vec<Value> = TYPES
        .iter()
        .map(|(code, label)| {
            context! { code => *code, label => *label, selected => *code == f.event_type }
        })
        .collect();
    // The filters again, for the pager's links.
    let filters = serde_urlencoded::to_string([
        ("type", f.event_type.as_str()),
        ("user_id", &f.user_id),
        ("client_id", &f.client_id),
        ("from", &f.from),
        ("to", &f.to),
        ("q", &f.q),
    ])
    .unwrap_or_default();
    page(
        &s,
        &admin,
        status,
        "admin/logs.html",
        "logs",
        context! {
            logs => super::to_value(&rows),
            types => types,
            user_id => f.user_id,
            client_id => f.client_id,
            from => f.from,
            to => f.to,
            q => f.q,
            filters => filters,
            pager => pager(f.page, total),
            error => error,
        },
    )
}

async fn show(State(s): State<AppState>, admin: Admin, Path(id): Path<String>) -> Response {
    let outcome = async {
        let event = logs::get(s.store.as_ref(), &id).await?;
        Ok(page(
            &s,
            &admin,
            StatusCode::OK,
            "admin/log.html",
            "logs",
            context! {
                event => super::to_value(log_row(&event)),
                date => when(event.date),
                client_id => event.client_id,
                connection => event.connection,
                user_agent => event.user_agent,
                details => pretty(&event.details),
            },
        ))
    }
    .await;
    finish(&s, outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_make_one_query() {
        let f = Filters {
            event_type: "sapi".into(),
            user_id: "auth0|a\"b".into(),
            from: "2024-01-01".into(),
            q: "ip:1.2.3.4 OR ip:5.6.7.8".into(),
            ..Filters::default()
        };
        assert_eq!(
            query(&f).unwrap().unwrap(),
            r#"type:"sapi" AND user_id:"auth0|a\"b" AND date:[2024-01-01 TO *] AND (ip:1.2.3.4 OR ip:5.6.7.8)"#
        );
        assert_eq!(query(&Filters::default()), Ok(None));
        let bad = Filters {
            to: "soon]".into(),
            ..Filters::default()
        };
        assert!(query(&bad).is_err());
    }
}
