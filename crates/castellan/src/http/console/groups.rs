//! Groups: the nesting shown as a tree, and a group's page with its members, roles and
//! nested groups. Changes go through the Authorization Extension's use cases, which audit
//! them with the administrator as the actor.

use std::collections::{HashMap, HashSet};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use castellan_core::directory::extension::{ExtensionError, groups};
use castellan_core::model::GroupRecord;
use castellan_core::paging::PageRequest;
use minijinja::context;
use serde::Deserialize;
use serde_json::{Value as Json, json};

use super::users::{role_row, user_row};
use super::{
    Admin, Confirm, ConsoleError, Outcome, Posted, done, done_or_again, finish, page,
    refused_or_failed, segment,
};
use crate::app::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/admin/groups", get(list).post(create))
        .route("/admin/groups/{id}", get(show).post(update))
        .route("/admin/groups/{id}/{part}", post(change))
        .route("/admin/groups/{id}/delete", post(delete))
}

impl From<ExtensionError> for ConsoleError {
    fn from(e: ExtensionError) -> Self {
        match e {
            ExtensionError::NotFound {
                collection: "groups",
                ..
            } => ConsoleError::NotFound("group"),
            ExtensionError::NotFound { .. } | ExtensionError::Validation(_) => {
                ConsoleError::Refused(e.to_string())
            }
            ExtensionError::Core(e) => e.into(),
        }
    }
}

/// The groups in nesting order, each with its depth; a group nested in several parents
/// appears under each of them.
fn tree(records: &[GroupRecord]) -> Vec<Json> {
    let by_guid: HashMap<&str, &GroupRecord> =
        records.iter().map(|r| (r.group.guid.as_str(), r)).collect();
    let nested: HashSet<&str> = records
        .iter()
        .flat_map(|r| r.nested.iter().map(String::as_str))
        .collect();
    let mut rows = Vec::new();
    fn walk<'a>(
        record: &'a GroupRecord,
        depth: usize,
        by_guid: &HashMap<&str, &'a GroupRecord>,
        path: &mut Vec<&'a str>,
        rows: &mut Vec<Json>,
    ) {
        rows.push(json!({
            "name": record.group.name,
            "description": record.group.description,
            "link": format!("/admin/groups/{}", segment(&record.group.id)),
            "members": record.members.len(),
            "roles": record.roles.len(),
            "depth": depth.min(9),
        }));
        path.push(&record.group.guid);
        let mut children: Vec<&GroupRecord> = record
            .nested
            .iter()
            .filter_map(|g| by_guid.get(g.as_str()).copied())
            .filter(|child| !path.contains(&child.group.guid.as_str()))
            .collect();
        children.sort_by(|a, b| a.group.name.cmp(&b.group.name));
        for child in children {
            walk(child, depth + 1, by_guid, path, rows);
        }
        path.pop();
    }
    let mut roots: Vec<&GroupRecord> = records
        .iter()
        .filter(|r| !nested.contains(r.group.guid.as_str()))
        .collect();
    roots.sort_by(|a, b| a.group.name.cmp(&b.group.name));
    for root in roots {
        walk(root, 0, &by_guid, &mut Vec::new(), &mut rows);
    }
    rows
}

#[derive(Deserialize, Default)]
pub struct GroupForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
}

async fn list_page(
    s: &AppState,
    admin: &Admin,
    status: StatusCode,
    form: &GroupForm,
    error: Option<String>,
) -> Outcome {
    let records = groups::records(s.store.as_ref())
        .await
        .map_err(ConsoleError::from)?;
    Ok(page(
        s,
        admin,
        status,
        "admin/groups.html",
        "groups",
        context! {
            tree => super::to_value(tree(&records)),
            name => form.name.as_str(),
            description => form.description.as_str(),
            error => error,
        },
    ))
}

async fn list(State(s): State<AppState>, admin: Admin) -> Response {
    let outcome = list_page(&s, &admin, StatusCode::OK, &GroupForm::default(), None).await;
    finish(&s, outcome)
}

async fn create(State(s): State<AppState>, posted: Posted<GroupForm>) -> Response {
    let Posted { admin, form } = posted;
    let description = if form.description.trim().is_empty() {
        form.name.trim()
    } else {
        form.description.trim()
    };
    match groups::create(&admin.editor(&s), form.name.trim(), description).await {
        Ok(group) => done(&format!("/admin/groups/{}", segment(&group.id)), "created"),
        Err(e) => {
            refused_or_failed(&s, e.into(), |message| {
                list_page(&s, &admin, StatusCode::BAD_REQUEST, &form, Some(message))
            })
            .await
        }
    }
}

async fn group_page(
    s: &AppState,
    admin: &Admin,
    id: &str,
    status: StatusCode,
    error: Option<String>,
) -> Outcome {
    let store = s.store.as_ref();
    let group = groups::find(store, id).await.map_err(ConsoleError::from)?;
    let members = groups::members(
        store,
        &group.id,
        PageRequest {
            offset: 0,
            limit: 200,
        },
    )
    .await
    .map_err(ConsoleError::from)?;
    let roles = groups::roles(store, &group.id)
        .await
        .map_err(ConsoleError::from)?;
    let inherited = groups::nested_roles(store, &group.id)
        .await
        .map_err(ConsoleError::from)?;
    let children = store.list_nested_groups(&group.id).await?;
    let parents = store.group_parents(&group.id).await?;
    let all_roles = store.list_roles(None, PageRequest::ALL).await?.items;
    let all_groups = store.list_groups(PageRequest::ALL).await?.items;
    let group_row = |g: &castellan_core::model::Group| json!({"id": g.id, "name": g.name, "link": format!("/admin/groups/{}", segment(&g.id))});
    let inherited: Vec<Json> = inherited
        .iter()
        .filter(|g| g.group.id != group.id)
        .map(|g| json!({"role": role_row(&g.role), "from": group_row(&g.group)}))
        .collect();
    Ok(page(
        s,
        admin,
        status,
        "admin/group.html",
        "groups",
        context! {
            group => super::to_value(json!({"id": group.id, "guid": group.guid, "name": group.name, "description": group.description, "link": format!("/admin/groups/{}", segment(&group.id))})),
            members => super::to_value(members.items.iter().map(user_row).collect::<Vec<_>>()),
            members_total => members.total,
            roles => super::to_value(roles.iter().map(|r| role_row(&r.role)).collect::<Vec<_>>()),
            inherited => super::to_value(&inherited),
            children => super::to_value(children.iter().map(group_row).collect::<Vec<_>>()),
            parents => super::to_value(parents.iter().map(group_row).collect::<Vec<_>>()),
            all_roles => super::to_value(all_roles.iter().map(role_row).collect::<Vec<_>>()),
            all_groups => super::to_value(all_groups.iter().filter(|g| g.id != group.id).map(group_row).collect::<Vec<_>>()),
            error => error,
        },
    ))
}

async fn show(State(s): State<AppState>, admin: Admin, Path(id): Path<String>) -> Response {
    let outcome = group_page(&s, &admin, &id, StatusCode::OK, None).await;
    finish(&s, outcome)
}

async fn changed(
    s: &AppState,
    admin: &Admin,
    id: &str,
    notice: &str,
    result: Result<(), ConsoleError>,
) -> Response {
    let path = format!("/admin/groups/{}", segment(id));
    done_or_again(s, result, &path, notice, |message| {
        group_page(s, admin, id, StatusCode::BAD_REQUEST, Some(message))
    })
    .await
}

async fn update(
    State(s): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<GroupForm>,
) -> Response {
    let Posted { admin, form } = posted;
    let result = groups::update(
        &admin.editor(&s),
        &id,
        form.name.trim(),
        form.description.trim(),
    )
    .await
    .map(|_| ())
    .map_err(ConsoleError::from);
    changed(&s, &admin, &id, "saved", result).await
}

#[derive(Deserialize)]
pub struct RefForm {
    #[serde(default)]
    value: String,
}

/// A user by id, or by email address when the text holds an `@`.
async fn user_id(s: &AppState, text: &str) -> Result<String, ConsoleError> {
    let text = text.trim();
    let found = if text.contains('@') {
        castellan_core::directory::users::by_email(s.store.as_ref(), text)
            .await?
            .into_iter()
            .next()
    } else {
        s.store.find_user(text).await?
    };
    found
        .map(|u| u.user_id)
        .ok_or_else(|| ConsoleError::Refused(format!("There is no user \"{text}\".")))
}

/// `members`, `members/remove` style changes, named by the last path segment.
async fn change(
    State(s): State<AppState>,
    Path((id, part)): Path<(String, String)>,
    posted: Posted<RefForm>,
) -> Response {
    let Posted { admin, form } = posted;
    let ed = admin.editor(&s);
    let value = form.value.trim().to_string();
    let result: Result<&str, ConsoleError> = async {
        match part.as_str() {
            "add-member" => {
                let user = user_id(&s, &value).await?;
                groups::add_members(&ed, &id, &[user]).await?;
                Ok("assigned")
            }
            "remove-member" => {
                groups::remove_members(&ed, &id, &[value]).await?;
                Ok("removed")
            }
            "add-role" => {
                groups::add_roles(&ed, &id, &[value]).await?;
                Ok("assigned")
            }
            "remove-role" => {
                groups::remove_roles(&ed, &id, &[value]).await?;
                Ok("removed")
            }
            "add-nested" => {
                groups::add_nested(&ed, &id, &[value]).await?;
                Ok("assigned")
            }
            "remove-nested" => {
                groups::remove_nested(&ed, &id, &[value]).await?;
                Ok("removed")
            }
            _ => Err(ConsoleError::NotFound("page")),
        }
    }
    .await;
    match result {
        Ok(notice) => changed(&s, &admin, &id, notice, Ok(())).await,
        Err(e) => changed(&s, &admin, &id, "", Err(e)).await,
    }
}

async fn delete(
    State(s): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<Confirm>,
) -> Response {
    let admin = posted.admin;
    match groups::delete(&admin.editor(&s), &id).await {
        Ok(()) => done("/admin/groups", "deleted"),
        Err(e) => changed(&s, &admin, &id, "", Err(e.into())).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use castellan_core::model::Group;

    fn record(name: &str, nested: &[&str]) -> GroupRecord {
        GroupRecord {
            group: Group {
                id: format!("grp_{name}"),
                guid: name.into(),
                name: name.into(),
                description: String::new(),
                created_at: 0,
            },
            members: vec![],
            roles: vec![],
            nested: nested.iter().map(|n| n.to_string()).collect(),
            mappings: vec![],
        }
    }

    #[test]
    fn nesting_becomes_a_tree() {
        let records = [
            record("b", &[]),
            record("a", &["c"]),
            record("c", &["b"]),
            record("d", &[]),
        ];
        let rows: Vec<(String, u64)> = tree(&records)
            .iter()
            .map(|r| {
                (
                    r["name"].as_str().unwrap().into(),
                    r["depth"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [
                ("a".into(), 0),
                ("c".into(), 1),
                ("b".into(), 2),
                ("d".into(), 0)
            ]
        );
    }
}
