//! A connection's default roles and groups: checked when an administrator sets them,
//! resolved to ids when the triggering event happens, and applied by the store in that
//! event's transaction (exactly once per user).

use crate::audit::{self, Actor, UserChange};
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::model::{AssignOn, Connection, DefaultAssignments, Named};
use crate::store::{AuthorizationStore, DefaultGrant, Store};

/// Every role and group named must exist now; a typo is refused rather than silently
/// never applied.
pub async fn validate<S: AuthorizationStore + ?Sized>(
    store: &S,
    d: &DefaultAssignments,
) -> Result<()> {
    let roles = store.resolve_role_refs(&d.roles).await?;
    if let Some((name, _)) = d.roles.iter().zip(&roles).find(|(_, id)| id.is_none()) {
        return Err(Error::Invalid(format!(
            "default_assignments.roles: no role named or with id \"{name}\""
        )));
    }
    let groups = store.resolve_group_refs(&d.groups).await?;
    if let Some((name, _)) = d.groups.iter().zip(&groups).find(|(_, id)| id.is_none()) {
        return Err(Error::Invalid(format!(
            "default_assignments.groups: no group named or with id \"{name}\""
        )));
    }
    Ok(())
}

/// The grant to apply when `trigger` happens to a user of `connection`, if any. A role or
/// group deleted since the defaults were set is skipped.
pub async fn grant_on<S: crate::store::AuthorizationStore + ?Sized>(
    store: &S,
    connection: &Connection,
    trigger: AssignOn,
) -> Result<Option<DefaultGrant>> {
    let Some(d) = connection
        .default_assignments
        .as_ref()
        .filter(|d| d.on == trigger)
    else {
        return Ok(None);
    };
    let grant = DefaultGrant {
        role_ids: store
            .resolve_role_refs(&d.roles)
            .await?
            .into_iter()
            .flatten()
            .collect(),
        group_ids: store
            .resolve_group_refs(&d.groups)
            .await?
            .into_iter()
            .flatten()
            .collect(),
    };
    Ok((!grant.is_empty()).then_some(grant))
}

/// `grant_on` for a connection known by name.
pub async fn grant_for(
    store: &dyn Store,
    connection_name: &str,
    trigger: AssignOn,
) -> Result<Option<DefaultGrant>> {
    match store.find_connection_by_name(connection_name).await? {
        Some(connection) => grant_on(store, &connection, trigger).await,
        None => Ok(None),
    }
}

/// The audit entry for defaults the store reports as applied.
pub async fn record_applied(
    store: &dyn Store,
    clock: &dyn Clock,
    user_id: &str,
    trigger: AssignOn,
    grant: &DefaultGrant,
) {
    let change = UserChange::ApplyDefaultAssignments {
        user_id: user_id.to_string(),
        on: trigger.name(),
        role_ids: grant.role_ids.clone(),
        group_ids: grant.group_ids.clone(),
    };
    audit::record(store, clock, &Actor::Default, change).await;
}
