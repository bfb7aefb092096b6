//! APIs: the audiences tokens are issued for, with their scopes and token settings.

use super::validate;
use crate::error::{Error, Result};
use crate::model::{ResourceServer, Scope, SigningAlg, TokenDialect};
use crate::store::Store;

const MAX_TOKEN_LIFETIME: i64 = 2_592_000;

#[derive(Debug, Default, Clone)]
pub struct ResourceServerFields {
    pub name: Option<String>,
    pub identifier: Option<String>,
    pub scopes: Option<Vec<Scope>>,
    pub token_lifetime: Option<i64>,
    pub signing_alg: Option<String>,
    pub enforce_policies: Option<bool>,
    pub token_dialect: Option<String>,
    pub allow_offline_access: Option<bool>,
    pub skip_consent_for_verifiable_first_party_clients: Option<bool>,
}

fn apply(api: &mut ResourceServer, fields: ResourceServerFields) -> Result<()> {
    if api.is_system
        && (fields.name.is_some()
            || fields.scopes.is_some()
            || fields.enforce_policies.is_some()
            || fields.token_dialect.is_some())
    {
        return Err(Error::Invalid(
            "a system API only allows changes to token_lifetime, signing_alg and allow_offline_access".into(),
        ));
    }
    if let Some(name) = fields.name {
        validate::non_empty("name", &name, 200)?;
        api.name = name;
    }
    if let Some(scopes) = fields.scopes {
        let values: Vec<String> = scopes.iter().map(|s| s.value.clone()).collect();
        validate::tokens("scopes", &values)?;
        validate::no_duplicates("scopes", &values)?;
        api.scopes = scopes;
    }
    if let Some(lifetime) = fields.token_lifetime {
        if !(1..=MAX_TOKEN_LIFETIME).contains(&lifetime) {
            return Err(Error::Invalid(format!(
                "token_lifetime must be between 1 and {MAX_TOKEN_LIFETIME} seconds"
            )));
        }
        api.token_lifetime = lifetime;
    }
    if let Some(alg) = fields.signing_alg {
        api.signing_alg = validate::named::<SigningAlg>("signing_alg", &alg)?;
    }
    if let Some(enforce) = fields.enforce_policies {
        api.enforce_policies = enforce;
    }
    if let Some(dialect) = fields.token_dialect {
        api.token_dialect = validate::named::<TokenDialect>("token_dialect", &dialect)?;
    }
    if let Some(offline) = fields.allow_offline_access {
        api.allow_offline_access = offline;
    }
    if let Some(skip) = fields.skip_consent_for_verifiable_first_party_clients {
        api.skip_consent_for_verifiable_first_party_clients = skip;
    }
    Ok(())
}

pub async fn create(store: &dyn Store, mut fields: ResourceServerFields) -> Result<ResourceServer> {
    let Some(identifier) = fields.identifier.take() else {
        return Err(Error::Invalid("identifier is required".into()));
    };
    validate::non_empty("identifier", &identifier, 600)?;
    let mut api = ResourceServer::new(
        crate::ids::resource_server_id(),
        identifier.clone(),
        identifier,
    );
    apply(&mut api, fields)?;
    store.create_resource_server(&api).await?;
    Ok(api)
}

/// By id, or by identifier (the Authorization Extension looks APIs up by identifier).
pub async fn get(store: &dyn Store, id_or_identifier: &str) -> Result<ResourceServer> {
    if let Some(api) = store.find_resource_server(id_or_identifier).await? {
        return Ok(api);
    }
    store
        .find_resource_server_by_identifier(id_or_identifier)
        .await?
        .ok_or(Error::NotFound {
            kind: "resource server",
        })
}

pub async fn update(
    store: &dyn Store,
    id_or_identifier: &str,
    fields: ResourceServerFields,
) -> Result<ResourceServer> {
    let mut api = get(store, id_or_identifier).await?;
    if fields
        .identifier
        .as_ref()
        .is_some_and(|i| *i != api.identifier)
    {
        return Err(Error::Invalid("identifier cannot be changed".into()));
    }
    apply(
        &mut api,
        ResourceServerFields {
            identifier: None,
            ..fields
        },
    )?;
    store.update_resource_server(&api).await?;
    Ok(api)
}

pub async fn delete(store: &dyn Store, id_or_identifier: &str) -> Result<()> {
    let api = get(store, id_or_identifier).await?;
    if api.is_system {
        return Err(Error::Invalid("a system API cannot be deleted".into()));
    }
    store.delete_resource_server(&api.id).await?;
    Ok(())
}
