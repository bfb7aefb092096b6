//! APIs: the audiences tokens are issued for, with their scopes and token settings; the
//! commands every front end makes them through.

use serde_json::{Map, Value, json};

use super::{Editor, validate};
use crate::audit::ApplicationChange;
use crate::error::{Error, Result};
use crate::model::{Named, ResourceServer, Scope, SigningAlg, TokenDialect};
use crate::store::{ResourceServerStore, Store};

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

pub async fn create(ed: &Editor<'_>, mut fields: ResourceServerFields) -> Result<ResourceServer> {
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
    let tx = ed.begin().await?;
    tx.create_resource_server(&api).await?;
    let change = ApplicationChange::CreateResourceServer {
        id: api.id.clone(),
        name: api.name.clone(),
        identifier: api.identifier.clone(),
    };
    ed.commit(tx, [change]).await?;
    Ok(api)
}

/// By id, or by identifier (the Authorization Extension looks APIs up by identifier).
pub async fn get(store: &dyn Store, id_or_identifier: &str) -> Result<ResourceServer> {
    find(store, id_or_identifier).await
}

async fn find<S: ResourceServerStore + ?Sized>(
    store: &S,
    id_or_identifier: &str,
) -> Result<ResourceServer> {
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

/// Each changed setting with its new value, and the scopes added, removed or redescribed.
fn changes(before: &ResourceServer, after: &ResourceServer) -> Map<String, Value> {
    let mut out = Map::new();
    let mut put = |key: &str, differs: bool, value: Value| {
        if differs {
            out.insert(key.into(), value);
        }
    };
    put("name", before.name != after.name, json!(after.name));
    put(
        "token_lifetime",
        before.token_lifetime != after.token_lifetime,
        json!(after.token_lifetime),
    );
    put(
        "signing_alg",
        before.signing_alg != after.signing_alg,
        json!(after.signing_alg.name()),
    );
    put(
        "enforce_policies",
        before.enforce_policies != after.enforce_policies,
        json!(after.enforce_policies),
    );
    put(
        "token_dialect",
        before.token_dialect != after.token_dialect,
        json!(after.token_dialect.name()),
    );
    put(
        "allow_offline_access",
        before.allow_offline_access != after.allow_offline_access,
        json!(after.allow_offline_access),
    );
    put(
        "skip_consent_for_verifiable_first_party_clients",
        before.skip_consent_for_verifiable_first_party_clients
            != after.skip_consent_for_verifiable_first_party_clients,
        json!(after.skip_consent_for_verifiable_first_party_clients),
    );
    let old = |value: &str| before.scopes.iter().find(|s| s.value == value);
    let new = |value: &str| after.scopes.iter().find(|s| s.value == value);
    let values = |scopes: &[Scope], keep: &dyn Fn(&Scope) -> bool| -> Vec<String> {
        scopes
            .iter()
            .filter(|s| keep(s))
            .map(|s| s.value.clone())
            .collect()
    };
    let added = values(&after.scopes, &|s| old(&s.value).is_none());
    let removed = values(&before.scopes, &|s| new(&s.value).is_none());
    let redescribed = values(&after.scopes, &|s| {
        old(&s.value).is_some_and(|o| o.description != s.description)
    });
    put("added_scopes", !added.is_empty(), json!(added));
    put("removed_scopes", !removed.is_empty(), json!(removed));
    put(
        "updated_scopes",
        !redescribed.is_empty(),
        json!(redescribed),
    );
    out
}

pub async fn update(
    ed: &Editor<'_>,
    id_or_identifier: &str,
    fields: ResourceServerFields,
) -> Result<ResourceServer> {
    let tx = ed.begin().await?;
    let before = find(tx.as_ref(), id_or_identifier).await?;
    if fields
        .identifier
        .as_ref()
        .is_some_and(|i| *i != before.identifier)
    {
        return Err(Error::Invalid("identifier cannot be changed".into()));
    }
    let mut api = before.clone();
    apply(
        &mut api,
        ResourceServerFields {
            identifier: None,
            ..fields
        },
    )?;
    tx.update_resource_server(&api).await?;
    let change = ApplicationChange::UpdateResourceServer {
        id: api.id.clone(),
        name: api.name.clone(),
        changes: changes(&before, &api),
    };
    ed.commit(tx, [change]).await?;
    Ok(api)
}

pub async fn delete(ed: &Editor<'_>, id_or_identifier: &str) -> Result<ResourceServer> {
    let tx = ed.begin().await?;
    let api = find(tx.as_ref(), id_or_identifier).await?;
    if api.is_system {
        return Err(Error::Invalid("a system API cannot be deleted".into()));
    }
    tx.delete_resource_server(&api.id).await?;
    let change = ApplicationChange::DeleteResourceServer {
        identifier: api.identifier.clone(),
    };
    ed.commit(tx, [change]).await?;
    Ok(api)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::changes;
    use crate::model::{ResourceServer, Scope};

    fn scope(value: &str, description: &str) -> Scope {
        Scope {
            value: value.into(),
            description: description.into(),
        }
    }

    #[test]
    fn an_update_names_only_what_changed() {
        let mut before = ResourceServer::new("id".into(), "Reports".into(), "https://r".into());
        before.scopes = vec![scope("read", "Read"), scope("write", "Write")];
        let mut after = before.clone();
        assert!(changes(&before, &after).is_empty());
        after.token_lifetime = 60;
        after.scopes = vec![scope("read", "Read all"), scope("delete", "Delete")];
        assert_eq!(
            serde_json::Value::Object(changes(&before, &after)),
            json!({"token_lifetime": 60, "added_scopes": ["delete"],
                   "removed_scopes": ["write"], "updated_scopes": ["read"]})
        );
    }
}
