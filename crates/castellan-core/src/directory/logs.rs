//! Reading the tenant log (`/api/v2/logs`): searches in the Lucene subset of `search`, and
//! checkpoint reads that go forward from a known event.

use crate::error::{Error, Result};
use crate::model::LogEvent;
use crate::paging::{Page, PageRequest};
use crate::search::{self, Condition, Filter, Kind, Scalar, SyntaxError, Term, Test};
use crate::store::{LogField, LogQuery, Store};

const SEARCHABLE: &str =
    "log_id, type, description, user_id, user_name, client_id, client_name, connection, ip, date";

fn field(name: &str) -> Option<(LogField, Kind)> {
    Some(match name {
        "log_id" | "_id" => (LogField::LogId, Kind::Text),
        "type" => (LogField::Type, Kind::Text),
        "description" => (LogField::Description, Kind::Folded),
        "user_id" => (LogField::UserId, Kind::Text),
        "user_name" => (LogField::UserName, Kind::Folded),
        "client_id" => (LogField::ClientId, Kind::Text),
        "client_name" => (LogField::ClientName, Kind::Folded),
        "connection" => (LogField::Connection, Kind::Text),
        "ip" => (LogField::Ip, Kind::Text),
        "date" => (LogField::Date, Kind::Time),
        _ => return None,
    })
}

fn term(field: LogField, test: Test) -> Filter<Condition<LogField>> {
    Filter::Term(Condition { field, test })
}

fn search_filter(q: &str) -> Result<Filter<Condition<LogField>>> {
    let parsed = search::parse(q)?;
    Ok(parsed.try_map(&mut |t: Term| {
        let Some(name) = t.field else {
            return Err(SyntaxError(format!(
                "name the field to search (one of {SEARCHABLE})"
            )));
        };
        let (field, kind) = field(&name).ok_or_else(|| {
            SyntaxError(format!(
                "\"{name}\" is not a searchable field (searchable: {SEARCHABLE})"
            ))
        })?;
        Ok(term(field, search::typed(&name, kind, t.pattern)?))
    })?)
}

/// Newest first unless `oldest_first`. `user_id` restricts to one user's events
/// (`/users/{id}/logs`).
pub async fn search(
    store: &dyn Store,
    q: Option<&str>,
    user_id: Option<&str>,
    oldest_first: bool,
    page: PageRequest,
) -> Result<Page<LogEvent>> {
    let filter = q.map(search_filter).transpose()?;
    let by_user =
        user_id.map(|id| term(LogField::UserId, Test::Equals(Scalar::Text(id.to_string()))));
    let query = LogQuery {
        filter: Filter::and(filter, by_user),
        oldest_first,
    };
    Ok(store.query_logs(&query, page).await?)
}

/// Up to `take` events written after the event `from`, oldest first: how log exporters
/// follow the log without missing or repeating events.
pub async fn after(store: &dyn Store, from: &str, take: u64) -> Result<Vec<LogEvent>> {
    let query = LogQuery {
        filter: Some(term(
            LogField::LogId,
            Test::Range {
                from: Some(Scalar::Text(from.to_string())),
                to: None,
                inclusive: false,
            },
        )),
        oldest_first: true,
    };
    let page = PageRequest {
        offset: 0,
        limit: take,
    };
    Ok(store.query_logs(&query, page).await?.items)
}

pub async fn get(store: &dyn Store, log_id: &str) -> Result<LogEvent> {
    store
        .find_log(log_id)
        .await?
        .ok_or(Error::NotFound { kind: "log" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_fields_are_checked() {
        assert!(search_filter("type:sapi AND date:[2024-01-01 TO *]").is_ok());
        assert!(search_filter("sapi").is_err());
        assert!(search_filter("colour:red").is_err());
    }
}
