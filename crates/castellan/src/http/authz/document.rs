//! The extension's storage document (its export format), read and written as it is, so a
//! tenant's data moves over in one call: `_id` GUIDs, group `members`/`roles`/`nested`/
//! `mappings`, role `permissions`/`users`, permission `applicationType`/`applicationId`.

use castellan_core::directory::extension::configuration::SETTINGS;
use castellan_core::model::{
    ExtensionData, ExtensionPermission, Group, GroupMapping, GroupRecord, Role, RoleRecord,
};
use serde_json::{Map, Value, json};

use super::error::AuthzError;
use super::wire;

/// The configuration record: the settings under the extension's one id, `v1`.
pub fn configuration_record(settings: Map<String, Value>) -> Value {
    let mut record = Map::new();
    record.insert("_id".into(), json!("v1"));
    record.extend(settings);
    Value::Object(record)
}

pub fn export(data: &ExtensionData) -> Value {
    json!({
        "configuration": data.settings.clone().map(configuration_record).into_iter().collect::<Vec<_>>(),
        "groups": data.groups.iter().map(wire::group_record).collect::<Vec<_>>(),
        "roles": data.roles.iter().map(wire::role_record).collect::<Vec<_>>(),
        "permissions": data.permissions.iter().map(wire::permission_record).collect::<Vec<_>>(),
        "applications": [],
        "rules": [],
    })
}

fn invalid(message: String) -> AuthzError {
    AuthzError::validation(message)
}

fn items<'a>(doc: &'a Value, key: &str) -> Result<&'a [Value], AuthzError> {
    match &doc[key] {
        Value::Null => Ok(&[]),
        Value::Array(list) => Ok(list),
        _ => Err(invalid(format!("\"{key}\" must be an array"))),
    }
}

fn string(item: &Value, collection: &str, key: &str) -> Result<String, AuthzError> {
    item[key].as_str().map(str::to_string).ok_or_else(|| {
        invalid(format!(
            "\"{key}\" of every entry in \"{collection}\" must be a string"
        ))
    })
}

/// An optional string, empty when absent.
fn text(item: &Value, key: &str) -> String {
    item[key].as_str().unwrap_or_default().to_string()
}

fn strings(item: &Value, collection: &str, key: &str) -> Result<Vec<String>, AuthzError> {
    match &item[key] {
        Value::Null => Ok(vec![]),
        Value::Array(list) => list
            .iter()
            .map(|v| {
                v.as_str().map(str::to_string).ok_or_else(|| {
                    invalid(format!("\"{key}\" in \"{collection}\" must hold strings"))
                })
            })
            .collect(),
        _ => Err(invalid(format!(
            "\"{key}\" in \"{collection}\" must be an array"
        ))),
    }
}

/// The `_id`, or a fresh GUID for a record written by hand without one.
fn id(item: &Value) -> String {
    item["_id"]
        .as_str()
        .map_or_else(castellan_core::ids::guid, str::to_string)
}

/// Reads the document. Settings other than the extension's known flags (and the raw
/// `apikey`, which Castellan never stores) are dropped.
pub fn import(doc: &Value, now: i64) -> Result<ExtensionData, AuthzError> {
    if !doc.is_object() {
        return Err(invalid("The document must be an object".into()));
    }
    let settings = items(doc, "configuration")?.first().map(|record| {
        record
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(k, v)| SETTINGS.contains(&k.as_str()) && v.is_boolean())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    });
    let mut groups = Vec::new();
    for item in items(doc, "groups")? {
        let mut mappings = Vec::new();
        for m in items(item, "mappings")? {
            mappings.push(GroupMapping {
                id: id(m),
                group_name: string(m, "mappings", "groupName")?,
                connection_name: string(m, "mappings", "connectionName")?,
            });
        }
        groups.push(GroupRecord {
            group: Group {
                id: format!("grp_{}", castellan_core::ids::alphanumeric(16)),
                guid: id(item),
                name: string(item, "groups", "name")?,
                description: text(item, "description"),
                created_at: now,
            },
            members: strings(item, "groups", "members")?,
            roles: strings(item, "groups", "roles")?,
            nested: strings(item, "groups", "nested")?,
            mappings,
        });
    }
    let mut roles = Vec::new();
    for item in items(doc, "roles")? {
        let application_id = text(item, "applicationId");
        roles.push(RoleRecord {
            role: Role {
                id: castellan_core::ids::role_id(),
                guid: id(item),
                name: string(item, "roles", "name")?,
                description: text(item, "description"),
                application_type: item["applicationType"].as_str().map(str::to_string),
                application_id: (!application_id.is_empty()).then_some(application_id),
                created_at: now,
            },
            permissions: strings(item, "roles", "permissions")?,
            users: strings(item, "roles", "users")?,
        });
    }
    let mut permissions = Vec::new();
    for item in items(doc, "permissions")? {
        permissions.push(ExtensionPermission {
            guid: id(item),
            name: string(item, "permissions", "name")?,
            description: text(item, "description"),
            application_type: string(item, "permissions", "applicationType")?,
            application_id: string(item, "permissions", "applicationId")?,
            created_at: now,
        });
    }
    Ok(ExtensionData {
        settings,
        groups,
        roles,
        permissions,
    })
}
