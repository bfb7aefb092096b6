//! Connections: where users come from, and the commands every front end changes them
//! through. Only database connections (`auth0`) exist so far.

use super::{Editor, default_assignments, validate};
use crate::audit::ApplicationChange;
use crate::error::{Error, Result};
use crate::model::{Connection, DefaultAssignments};
use crate::store::{AuthorizationStore, ConnectionStore, Store};

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

async fn apply<S: AuthorizationStore + ?Sized>(
    store: &S,
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

fn set_defaults(c: &Connection) -> ApplicationChange {
    ApplicationChange::SetDefaultAssignments {
        connection_id: c.id.clone(),
        connection: c.name.clone(),
        defaults: c.default_assignments.clone(),
    }
}

pub async fn create(ed: &Editor<'_>, fields: ConnectionFields) -> Result<Connection> {
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
    let defaults_given = fields.default_assignments.is_some();
    let tx = ed.begin().await?;
    apply(
        tx.as_ref(),
        &mut connection,
        ConnectionFields {
            name: None,
            strategy: None,
            ..fields
        },
    )
    .await?;
    tx.create_connection(&connection).await?;
    let mut changes = vec![ApplicationChange::CreateConnection {
        connection_id: connection.id.clone(),
        name: connection.name.clone(),
    }];
    if defaults_given {
        changes.push(set_defaults(&connection));
    }
    ed.commit(tx, changes).await?;
    Ok(connection)
}

pub async fn get(store: &dyn Store, id: &str) -> Result<Connection> {
    find(store, id).await
}

async fn find<S: ConnectionStore + ?Sized>(store: &S, id: &str) -> Result<Connection> {
    store
        .find_connection(id)
        .await?
        .ok_or(Error::NotFound { kind: "connection" })
}

/// Changes the given fields. Its options and enabled clients are audited as an update of
/// the connection, its default assignments on their own, as they decide who gets which
/// roles.
pub async fn update(ed: &Editor<'_>, id: &str, fields: ConnectionFields) -> Result<Connection> {
    let tx = ed.begin().await?;
    let mut connection = find(tx.as_ref(), id).await?;
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
    let settings_given = fields.options.is_some() || fields.enabled_clients.is_some();
    let defaults_given = fields.default_assignments.is_some();
    apply(tx.as_ref(), &mut connection, fields).await?;
    tx.update_connection(&connection).await?;
    let mut changes = Vec::new();
    if settings_given {
        changes.push(ApplicationChange::UpdateConnection {
            connection_id: connection.id.clone(),
            name: connection.name.clone(),
        });
    }
    if defaults_given {
        changes.push(set_defaults(&connection));
    }
    ed.commit(tx, changes).await?;
    Ok(connection)
}

pub async fn delete(ed: &Editor<'_>, id: &str) -> Result<Connection> {
    let tx = ed.begin().await?;
    let connection = find(tx.as_ref(), id).await?;
    tx.delete_connection(&connection.id).await?;
    let change = ApplicationChange::DeleteConnection {
        connection_id: connection.id.clone(),
        name: connection.name.clone(),
    };
    ed.commit(tx, [change]).await?;
    Ok(connection)
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
