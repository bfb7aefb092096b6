//! Connections: where users come from. Only database connections (`auth0`) exist so far.

use super::default_assignments;
use super::validate;
use crate::error::{Error, Result};
use crate::model::{Connection, DefaultAssignments};
use crate::store::Store;

pub const DATABASE_STRATEGY: &str = "auth0";

#[derive(Debug, Default, Clone)]
pub struct ConnectionFields {
    pub name: Option<String>,
    pub strategy: Option<String>,
    pub options: Option<serde_json::Value>,
    pub enabled_clients: Option<Vec<String>>,
    /// `Some(None)` removes them.
    pub default_assignments: Option<Option<DefaultAssignments>>,
}

/// Auth0's rule: letters and digits, single hyphens between them, at most 128 characters.
fn check_name(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    if valid {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "name \"{name}\" must be letters and digits with single hyphens between them, at most 128 characters"
        )))
    }
}

async fn apply(
    store: &dyn Store,
    connection: &mut Connection,
    fields: ConnectionFields,
) -> Result<()> {
    if let Some(options) = fields.options {
        if !options.is_object() {
            return Err(Error::Invalid("options must be an object".into()));
        }
        connection.options = options;
    }
    if let Some(clients) = fields.enabled_clients {
        validate::no_duplicates("enabled_clients", &clients)?;
        connection.enabled_clients = clients;
    }
    if let Some(defaults) = fields.default_assignments {
        if let Some(d) = &defaults {
            validate::no_duplicates("default_assignments.roles", &d.roles)?;
            validate::no_duplicates("default_assignments.groups", &d.groups)?;
            default_assignments::validate(store, d).await?;
        }
        connection.default_assignments = defaults;
    }
    Ok(())
}

pub async fn create(store: &dyn Store, fields: ConnectionFields) -> Result<Connection> {
    let name = fields
        .name
        .clone()
        .ok_or_else(|| Error::Invalid("name is required".into()))?;
    check_name(&name)?;
    let strategy = fields
        .strategy
        .clone()
        .ok_or_else(|| Error::Invalid("strategy is required".into()))?;
    if strategy != DATABASE_STRATEGY {
        return Err(Error::Invalid(format!(
            "strategy \"{strategy}\" is not supported; Castellan has database connections (\"{DATABASE_STRATEGY}\")"
        )));
    }
    let mut connection = Connection {
        id: crate::ids::connection_id(),
        name,
        strategy,
        options: serde_json::json!({}),
        enabled_clients: vec![],
        default_assignments: None,
    };
    apply(
        store,
        &mut connection,
        ConnectionFields {
            name: None,
            strategy: None,
            ..fields
        },
    )
    .await?;
    store.create_connection(&connection).await?;
    Ok(connection)
}

pub async fn get(store: &dyn Store, id: &str) -> Result<Connection> {
    store
        .find_connection(id)
        .await?
        .ok_or(Error::NotFound { kind: "connection" })
}

pub async fn update(store: &dyn Store, id: &str, fields: ConnectionFields) -> Result<Connection> {
    let mut connection = get(store, id).await?;
    if fields.name.as_ref().is_some_and(|n| *n != connection.name)
        || fields
            .strategy
            .as_ref()
            .is_some_and(|s| *s != connection.strategy)
    {
        return Err(Error::Invalid(
            "name and strategy of a connection cannot be changed".into(),
        ));
    }
    apply(store, &mut connection, fields).await?;
    store.update_connection(&connection).await?;
    Ok(connection)
}

pub async fn delete(store: &dyn Store, id: &str) -> Result<()> {
    if store.delete_connection(id).await? {
        Ok(())
    } else {
        Err(Error::NotFound { kind: "connection" })
    }
}

#[cfg(test)]
mod tests {
    use super::check_name;

    #[test]
    fn connection_names() {
        assert!(check_name("Username-Password-Authentication").is_ok());
        for bad in ["", "-a", "a-", "a--b", "a b", "ä"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }
}
