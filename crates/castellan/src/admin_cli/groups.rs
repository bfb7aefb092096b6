//! `castellan groups create|list|assign`: groups as the Authorization Extension keeps them,
//! changed through its use cases (which audit every change).

use castellan_core::directory::extension::{self, ExtensionError};
use castellan_core::model::Group;
use serde_json::{Value, json};

use super::error::CliError;
use super::output::{show, table, when};
use super::tenant::Tenant;

#[derive(Debug, clap::Subcommand)]
pub enum GroupsAction {
    /// Create a group.
    Create {
        name: String,
        #[arg(long, default_value = "")]
        description: String,
    },
    /// List groups by name, with their number of direct members.
    List,
    /// Add users (ids or emails) to a group (id or name).
    Assign {
        group: String,
        #[arg(required = true)]
        users: Vec<String>,
        /// The connection of users given by an email held in several.
        #[arg(long)]
        connection: Option<String>,
    },
}

fn wire(g: &Group) -> Value {
    json!({
        "id": g.id,
        "guid": g.guid,
        "name": g.name,
        "description": g.description,
        "created_at": castellan_core::oidc::claims::timestamp(g.created_at),
    })
}

pub async fn run(tenant: &Tenant, action: GroupsAction, json_wanted: bool) -> Result<(), CliError> {
    match action {
        GroupsAction::Create { name, description } => {
            // The extension's check refuses an empty description; the command line does not
            // make people invent one.
            let description = if description.is_empty() {
                name.clone()
            } else {
                description
            };
            if tenant.find_group(&name).await?.is_some() {
                return Err(CliError::Input(format!(
                    "a group named \"{name}\" already exists"
                )));
            }
            let group = extension::groups::create(&tenant.editor(), &name, &description).await?;
            show(json_wanted, wire(&group), || {
                format!("created the group {} ({})\n", group.name, group.id)
            });
        }
        GroupsAction::List => {
            let mut records = extension::groups::records(tenant.store.as_ref()).await?;
            records.sort_by(|a, b| a.group.name.cmp(&b.group.name));
            show(
                json_wanted,
                Value::Array(
                    records
                        .iter()
                        .map(|r| {
                            let mut v = wire(&r.group);
                            v["members"] = json!(r.members.len());
                            v
                        })
                        .collect(),
                ),
                || {
                    let rows: Vec<Vec<String>> = records
                        .iter()
                        .map(|r| {
                            vec![
                                r.group.id.clone(),
                                r.group.name.clone(),
                                r.group.description.clone(),
                                r.members.len().to_string(),
                                when(r.group.created_at),
                            ]
                        })
                        .collect();
                    table(&["ID", "NAME", "DESCRIPTION", "MEMBERS", "CREATED"], &rows)
                },
            );
        }
        GroupsAction::Assign {
            group,
            users,
            connection,
        } => {
            let group = tenant.group(&group).await?;
            let mut user_ids = Vec::with_capacity(users.len());
            for reference in &users {
                user_ids.push(tenant.user(reference, connection.as_deref()).await?.user_id);
            }
            extension::groups::add_members(&tenant.editor(), &group.id, &user_ids)
                .await
                .map_err(|e| match e {
                    ExtensionError::NotFound { .. } => {
                        CliError::Input(format!("no group \"{}\"", group.name))
                    }
                    other => other.into(),
                })?;
            show(
                json_wanted,
                json!({"group": wire(&group), "users": user_ids}),
                || {
                    format!(
                        "added {} to the group {}\n",
                        user_ids.join(", "),
                        group.name
                    )
                },
            );
        }
    }
    Ok(())
}
