//! The extension's configuration: its settings, its API key, and the export and import of
//! all its data as one document.

use serde_json::{Map, Value};

use super::roles::check_application;
use super::{Editor, ExtensionError, Result, text};
use crate::audit::ExtensionChange;
use crate::model::ExtensionData;
use crate::secrets::{generate_client_secret, token_digest};
use crate::store::{ExtensionStore, ResourceServerStore, Store};

/// The settings the extension knows; its rule reads them.
pub const SETTINGS: &[&str] = &[
    "groupsInToken",
    "rolesInToken",
    "permissionsInToken",
    "persistGroups",
    "persistRoles",
    "persistPermissions",
    "groupsPassthrough",
    "rolesPassthrough",
    "permissionsPassthrough",
];

pub async fn settings<S: ExtensionStore + ?Sized>(store: &S) -> Result<Option<Map<String, Value>>> {
    Ok(store.configuration().await?.map(|c| c.settings))
}

/// Booleans, or the extension's `"yes"`/`"no"`.
fn flag(name: &str, value: &Value) -> Result<bool> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::String(s) if s == "yes" || s == "true" => Ok(true),
        Value::String(s) if s == "no" || s == "false" => Ok(false),
        _ => Err(ExtensionError::Validation(format!(
            "\"{name}\" must be a boolean"
        ))),
    }
}

/// Merges `patch` into the stored settings and returns them.
pub async fn update_settings(
    ed: &Editor<'_>,
    patch: &Map<String, Value>,
) -> Result<Map<String, Value>> {
    let mut changes = Map::new();
    for (name, value) in patch {
        if !SETTINGS.contains(&name.as_str()) {
            return Err(ExtensionError::Validation(format!(
                "\"{name}\" is not allowed"
            )));
        }
        changes.insert(name.clone(), Value::Bool(flag(name, value)?));
    }
    let tx = ed.begin().await?;
    let mut current = settings(tx.as_ref()).await?.unwrap_or_default();
    current.extend(changes.clone());
    tx.save_settings(&current, ed.clock.now()).await?;
    ed.commit(tx, [ExtensionChange::UpdateSettings { changes }])
        .await?;
    Ok(current)
}

/// A new API key for the policy endpoint's `x-api-key`; only its digest is kept, so this is
/// the one time it is shown.
pub async fn rotate_api_key(ed: &Editor<'_>) -> Result<String> {
    let key = generate_client_secret();
    let tx = ed.begin().await?;
    tx.save_api_key_digest(&token_digest(&key), ed.clock.now())
        .await?;
    ed.commit(tx, [ExtensionChange::RotateApiKey]).await?;
    Ok(key)
}

pub async fn export(store: &dyn Store) -> Result<ExtensionData> {
    Ok(ExtensionData {
        settings: settings(store).await?,
        groups: store.group_records().await?,
        roles: store.role_records().await?,
        permissions: store.list_permissions().await?,
    })
}

fn check(data: &ExtensionData) -> Result<()> {
    for r in &data.groups {
        text("name", &r.group.name, 50)?;
        for m in &r.mappings {
            text("groupName", &m.group_name, 50)?;
            text("connectionName", &m.connection_name, 50)?;
        }
    }
    for r in &data.roles {
        text("name", &r.role.name, 50)?;
        if let (Some(t), Some(id)) = (&r.role.application_type, &r.role.application_id) {
            check_application(t, id)?;
        }
    }
    for p in &data.permissions {
        text("name", &p.name, 100)?;
        check_application(&p.application_type, &p.application_id)?;
    }
    Ok(())
}

/// Replaces the extension's data with the document's, in one transaction. Members and role
/// users that Castellan does not know are skipped (memberships refer to existing users).
pub async fn import(ed: &Editor<'_>, data: &ExtensionData) -> Result<()> {
    check(data)?;
    let tx = ed.begin().await?;
    tx.replace_extension_data(data, ed.clock.now()).await?;
    let change = ExtensionChange::Import {
        groups: data.groups.len(),
        roles: data.roles.len(),
        permissions: data.permissions.len(),
    };
    ed.commit(tx, [change]).await?;
    Ok(())
}

/// The extension's "API access" is Castellan's built-in `urn:auth0-authz-api`: always there.
pub async fn api<S: ResourceServerStore + ?Sized>(
    store: &S,
) -> Result<crate::model::ResourceServer> {
    store
        .find_resource_server_by_identifier(crate::system_apis::AUTHZ_API_IDENTIFIER)
        .await?
        .ok_or_else(|| {
            super::not_found("resource-server", crate::system_apis::AUTHZ_API_IDENTIFIER)
        })
}

/// Access tokens for this API live `seconds`; turning API access off is refused, because the
/// API is part of Castellan rather than something the extension created.
pub async fn update_api_access(
    ed: &Editor<'_>,
    api_access: bool,
    token_lifetime: Option<i64>,
) -> Result<()> {
    if !api_access {
        return Err(built_in());
    }
    let Some(seconds) = token_lifetime else {
        return Ok(());
    };
    if seconds <= 0 {
        return Err(ExtensionError::Validation(
            "\"token_lifetime\" must be a positive number".into(),
        ));
    }
    let tx = ed.begin().await?;
    let mut api = api(tx.as_ref()).await?;
    api.token_lifetime = seconds;
    tx.update_resource_server(&api).await?;
    let change = ExtensionChange::UpdateApiTokenLifetime {
        identifier: api.identifier,
        seconds,
    };
    ed.commit(tx, [change]).await?;
    Ok(())
}

pub fn built_in() -> ExtensionError {
    ExtensionError::Validation(
        "API access cannot be turned off: the Authorization Extension API is built into Castellan"
            .into(),
    )
}
