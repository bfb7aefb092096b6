//! Where what scripts change for the logging-in user lands: the store for a real log-in (one
//! transaction per script, audited with the script as the actor), or memory for a dry run.

use std::sync::Mutex;

use serde_json::{Map, Value, json};

use crate::audit::{self, Actor, UserChange};
use crate::clock::Clock;
use crate::directory::users::merge_metadata;
use crate::error::{Error, Result};
use crate::model::User;
use crate::store::{ScriptChanges, Store};

/// What one script asked to change, as it named things (role and group names or ids).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UserEdit {
    /// First-level merges, as `PATCH /api/v2/users/{id}` does them.
    pub app_metadata: Vec<Value>,
    pub user_metadata: Vec<Value>,
    pub assign_roles: Vec<String>,
    pub remove_roles: Vec<String>,
    pub add_groups: Vec<String>,
    pub remove_groups: Vec<String>,
}

impl UserEdit {
    pub fn is_empty(&self) -> bool {
        *self == UserEdit::default()
    }

    pub fn changes_authorization(&self) -> bool {
        !(self.assign_roles.is_empty()
            && self.remove_roles.is_empty()
            && self.add_groups.is_empty()
            && self.remove_groups.is_empty())
    }

    /// The edit as a JSON summary, for audit entries and dry-run reports.
    pub fn describe(&self) -> Value {
        let mut out = Map::new();
        let lists = [
            ("assign_roles", &self.assign_roles),
            ("remove_roles", &self.remove_roles),
            ("add_to_groups", &self.add_groups),
            ("remove_from_groups", &self.remove_groups),
        ];
        for (name, list) in lists {
            if !list.is_empty() {
                out.insert(name.into(), json!(list));
            }
        }
        for (name, patches) in [
            ("app_metadata", &self.app_metadata),
            ("user_metadata", &self.user_metadata),
        ] {
            if !patches.is_empty() {
                out.insert(name.into(), json!(patches));
            }
        }
        Value::Object(out)
    }
}

/// Roles and groups a user holds, by name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Held {
    pub roles: Vec<String>,
    pub groups: Vec<String>,
}

#[async_trait::async_trait]
pub trait ChangeTarget: Send + Sync {
    /// What the user holds now.
    async fn held(&self, user: &User) -> Result<Held>;
    /// Applies one script's edit, all or nothing, and returns the user as changed.
    /// `Error::Invalid` names what the script got wrong (an unknown role, bad metadata).
    async fn apply(&self, script: &str, user: &User, edit: &UserEdit) -> Result<User>;
    /// Whether this is a real log-in, whose scripts share `global` with the log-ins
    /// before and after it; a dry run must neither see nor change it.
    fn is_real(&self) -> bool {
        true
    }
}

fn merged(user: &User, edit: &UserEdit) -> Result<User> {
    let mut user = user.clone();
    for patch in &edit.app_metadata {
        merge_metadata("app_metadata", &mut user.app_metadata, patch)?;
    }
    for patch in &edit.user_metadata {
        merge_metadata("user_metadata", &mut user.user_metadata, patch)?;
    }
    Ok(user)
}

/// A real log-in: changes go to the store.
pub struct StoreTarget<'a> {
    pub store: &'a dyn Store,
    pub clock: &'a dyn Clock,
}

impl StoreTarget<'_> {
    async fn resolve(
        &self,
        kind: &'static str,
        refs: &[String],
        roles: bool,
    ) -> Result<Vec<String>> {
        if refs.is_empty() {
            return Ok(Vec::new());
        }
        let found = if roles {
            self.store.resolve_role_refs(refs).await?
        } else {
            self.store.resolve_group_refs(refs).await?
        };
        refs.iter()
            .zip(found)
            .map(|(given, id)| {
                id.ok_or_else(|| Error::Invalid(format!("unknown {kind} '{given}'")))
            })
            .collect()
    }
}

#[async_trait::async_trait]
impl ChangeTarget for StoreTarget<'_> {
    async fn held(&self, user: &User) -> Result<Held> {
        // Two reads side by side: the pool has more than one connection.
        let (roles, groups) = tokio::join!(
            self.store.effective_roles(&user.user_id),
            self.store.user_groups_with_ancestors(&user.user_id)
        );
        let (roles, groups) = (roles?, groups?);
        Ok(Held {
            roles: roles.into_iter().map(|r| r.name).collect(),
            groups: groups.into_iter().map(|g| g.name).collect(),
        })
    }

    async fn apply(&self, script: &str, user: &User, edit: &UserEdit) -> Result<User> {
        if edit.is_empty() {
            return Ok(user.clone());
        }
        // Merged onto the stored user, not the one the scripts were handed.
        let stored = self
            .store
            .find_user(&user.user_id)
            .await?
            .ok_or(Error::NotFound { kind: "user" })?;
        let after = merged(&stored, edit)?;
        let changes = ScriptChanges {
            app_metadata: (!edit.app_metadata.is_empty()).then(|| after.app_metadata.clone()),
            user_metadata: (!edit.user_metadata.is_empty()).then(|| after.user_metadata.clone()),
            assign_role_ids: self.resolve("role", &edit.assign_roles, true).await?,
            remove_role_ids: self.resolve("role", &edit.remove_roles, true).await?,
            add_group_ids: self.resolve("group", &edit.add_groups, false).await?,
            remove_group_ids: self.resolve("group", &edit.remove_groups, false).await?,
        };
        let now = self.clock.now();
        self.store
            .apply_script_changes(&user.user_id, &changes, now)
            .await?;
        if changes.changes_authorization() {
            let change = UserChange::ScriptAuthorization {
                user_id: user.user_id.clone(),
                script: script.to_string(),
                assigned_roles: changes.assign_role_ids.clone(),
                removed_roles: changes.remove_role_ids.clone(),
                added_groups: changes.add_group_ids.clone(),
                removed_groups: changes.remove_group_ids.clone(),
            };
            audit::record(self.store, self.clock, &Actor::Rule(script.into()), change).await;
        }
        Ok(User {
            updated_at: now,
            ..after
        })
    }
}

/// A dry run (`castellan rules test`): changes are kept in memory and reported, role and
/// group references are taken as names.
pub struct DryRunTarget {
    state: Mutex<DryRunState>,
}

#[derive(Default)]
struct DryRunState {
    held: Held,
    edits: Vec<(String, UserEdit)>,
}

impl DryRunTarget {
    pub fn new(held: Held) -> DryRunTarget {
        DryRunTarget {
            state: Mutex::new(DryRunState {
                held,
                edits: Vec::new(),
            }),
        }
    }

    /// Every script's edit, in order, with the script's name.
    pub fn edits(&self) -> Vec<(String, UserEdit)> {
        self.state
            .lock()
            .map(|s| s.edits.clone())
            .unwrap_or_default()
    }

    pub fn held_now(&self) -> Held {
        self.state
            .lock()
            .map(|s| s.held.clone())
            .unwrap_or_default()
    }
}

fn add_all(list: &mut Vec<String>, names: &[String]) {
    for name in names {
        if !list.contains(name) {
            list.push(name.clone());
        }
    }
}

#[async_trait::async_trait]
impl ChangeTarget for DryRunTarget {
    async fn held(&self, _user: &User) -> Result<Held> {
        Ok(self.held_now())
    }

    fn is_real(&self) -> bool {
        false
    }

    async fn apply(&self, script: &str, user: &User, edit: &UserEdit) -> Result<User> {
        let after = merged(user, edit)?;
        let mut state = self
            .state
            .lock()
            .map_err(|_| Error::Internal("dry run state".into()))?;
        add_all(&mut state.held.roles, &edit.assign_roles);
        state.held.roles.retain(|r| !edit.remove_roles.contains(r));
        add_all(&mut state.held.groups, &edit.add_groups);
        state
            .held
            .groups
            .retain(|g| !edit.remove_groups.contains(g));
        if !edit.is_empty() {
            state.edits.push((script.to_owned(), edit.clone()));
        }
        Ok(after)
    }
}
