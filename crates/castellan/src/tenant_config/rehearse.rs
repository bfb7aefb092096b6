//! A rehearsal ground: a scratch SQLite database holding a copy of the tenant's
//! configuration (ids included, no users, no keys, no logs), on which a plan runs first.
//! Only when every step succeeds there does `apply` touch the real tenant, so a value the
//! use cases refuse leaves the tenant as it was.

use std::path::PathBuf;
use std::sync::Arc;

use castellan_core::mfa::policy;
use castellan_core::model::{Named, Trigger};
use castellan_core::paging::PageRequest;
use castellan_core::store::{ActionFilter, ClientGrantFilter, Store, StoreError};

use super::ConfigError;

pub struct Scratch {
    pub store: Arc<dyn Store>,
    dir: PathBuf,
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn copy_failed(e: StoreError) -> ConfigError {
    ConfigError::Tenant(format!(
        "cannot copy the configuration to rehearse the plan: {e}"
    ))
}

/// Copies `source`'s configuration into a new scratch database.
pub async fn copy(source: &dyn Store, now: i64) -> Result<Scratch, ConfigError> {
    let dir = std::env::temp_dir().join(format!(
        "castellan-apply-{}",
        castellan_core::ids::alphanumeric(16).to_lowercase()
    ));
    std::fs::create_dir_all(&dir).map_err(|cause| ConfigError::Io {
        path: dir.display().to_string(),
        cause,
    })?;
    let url = format!("sqlite://{}", dir.join("rehearsal.db").display());
    let store = castellan_store::open(&url)
        .await
        .map_err(|e| ConfigError::Tenant(format!("cannot open a scratch database: {e}")))?;
    let scratch = Scratch { store, dir };
    fill(source, scratch.store.as_ref(), now)
        .await
        .map_err(copy_failed)?;
    Ok(scratch)
}

async fn fill(from: &dyn Store, to: &dyn Store, now: i64) -> Result<(), StoreError> {
    let all = PageRequest::ALL;
    for api in from.list_resource_servers(all).await?.items {
        to.create_resource_server(&api).await?;
    }
    // Before any connection exists, so none is enabled for them by the store.
    for client in from.list_clients(all).await?.items {
        to.create_client(&client).await?;
    }
    for connection in from.list_connections(all).await?.items {
        to.create_connection(&connection).await?;
    }
    for grant in from
        .list_client_grants(&ClientGrantFilter::default(), all)
        .await?
        .items
    {
        to.create_client_grant(&grant).await?;
    }
    for permission in from.list_permissions().await? {
        to.create_permission(&permission).await?;
    }
    let records = from.role_records().await?;
    for record in &records {
        if record.role.application_id.is_some() {
            to.create_extension_role(&record.role, &record.permissions)
                .await?;
        } else {
            to.create_role(&record.role).await?;
        }
        let permissions = from
            .list_role_permissions(&record.role.id, all)
            .await?
            .items;
        if !permissions.is_empty() {
            to.add_role_permissions(&record.role.id, &permissions)
                .await?;
        }
    }
    let role_id = |guid: &String| {
        records
            .iter()
            .find(|r| r.role.guid == *guid || r.role.id == *guid)
            .map(|r| r.role.id.clone())
    };
    let groups = from.group_records().await?;
    for g in &groups {
        to.create_group(&g.group).await?;
    }
    for g in &groups {
        let roles: Vec<String> = g.roles.iter().filter_map(role_id).collect();
        if !roles.is_empty() {
            to.add_group_roles(&g.group.id, &roles).await?;
        }
        let children: Vec<String> = g
            .nested
            .iter()
            .filter_map(|n| {
                groups
                    .iter()
                    .find(|c| c.group.guid == *n || c.group.id == *n)
                    .map(|c| c.group.id.clone())
            })
            .collect();
        if !children.is_empty() {
            to.add_nested_groups(&g.group.id, &children).await?;
        }
        let mappings = from.list_group_mappings(&g.group.id).await?;
        if !mappings.is_empty() {
            to.add_group_mappings(&g.group.id, &mappings).await?;
        }
    }
    for rule in from.list_rules(None, all).await?.items {
        to.create_rule(&rule).await?;
    }
    for (key, sealed) in from.sealed_rules_configs().await? {
        to.set_rules_config(&key, &sealed, now).await?;
    }
    for action in from
        .list_actions(&ActionFilter::default(), all)
        .await?
        .items
    {
        to.create_action(&action).await?;
        if let Some(version) = &action.deployed {
            to.deploy_action(version).await?;
            // The draft and its flag as they are, which the deployment may have changed.
            to.update_action(&action).await?;
        }
    }
    for trigger in Trigger::ALL {
        let bindings = from.list_action_bindings(*trigger).await?;
        if !bindings.is_empty() {
            to.replace_action_bindings(*trigger, &bindings).await?;
        }
    }
    if let Some(configuration) = from.configuration().await? {
        to.save_settings(&configuration.settings, now).await?;
    }
    // The MFA policy and factors, so the plan starts from the tenant's.
    let names = std::iter::once(policy::POLICIES_SETTING.to_string()).chain(
        policy::FACTORS
            .iter()
            .map(|(n, _)| policy::factor_setting(n)),
    );
    for name in names {
        if let Some(value) = from.find_tenant_setting(&name).await? {
            to.save_tenant_setting(&name, &value).await?;
        }
    }
    Ok(())
}
