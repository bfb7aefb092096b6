//! The extension's JSON shapes: `_id` is the GUID, camel-case field names.

use castellan_core::model::{
    ExtensionPermission, Group, GroupMapping, GroupRecord, Role, RoleRecord, User,
};
use castellan_core::oidc::claims::timestamp;
use serde_json::{Value, json};

pub fn group(g: &Group) -> Value {
    json!({"_id": g.guid, "name": g.name, "description": g.description})
}

pub fn mapping(m: &GroupMapping) -> Value {
    json!({"_id": m.id, "groupName": m.group_name, "connectionName": m.connection_name})
}

/// A group with its members, roles, nested groups and mappings, as the extension stores it.
pub fn group_record(r: &GroupRecord) -> Value {
    json!({
        "_id": r.group.guid,
        "name": r.group.name,
        "description": r.group.description,
        "members": r.members,
        "roles": r.roles,
        "nested": r.nested,
        "mappings": r.mappings.iter().map(mapping).collect::<Vec<_>>(),
    })
}

pub fn role(r: &Role) -> Value {
    json!({"_id": r.guid, "name": r.name, "description": r.description})
}

/// A user's role: `{_id, name, applicationId, description}`.
pub fn user_role(r: &Role) -> Value {
    json!({"_id": r.guid, "name": r.name, "applicationId": r.application_id, "description": r.description})
}

pub fn role_record(r: &RoleRecord) -> Value {
    json!({
        "_id": r.role.guid,
        "name": r.role.name,
        "description": r.role.description,
        "applicationType": r.role.application_type,
        "applicationId": r.role.application_id,
        "permissions": r.permissions,
        "users": r.users,
    })
}

/// A role with its permissions spelled out (`?expand`).
pub fn expanded_role(r: &Role, permissions: &[ExtensionPermission]) -> Value {
    json!({
        "_id": r.guid,
        "name": r.name,
        "description": r.description,
        "applicationId": r.application_id,
        "applicationType": r.application_type,
        "permissions": permissions.iter().map(permission).collect::<Vec<_>>(),
    })
}

pub fn permission(p: &ExtensionPermission) -> Value {
    json!({"_id": p.guid, "name": p.name, "description": p.description})
}

pub fn permission_record(p: &ExtensionPermission) -> Value {
    json!({
        "_id": p.guid,
        "name": p.name,
        "description": p.description,
        "applicationType": p.application_type,
        "applicationId": p.application_id,
    })
}

/// The Management API's user object, as the extension passes it through.
pub fn user(u: &User) -> Value {
    json!({
        "user_id": u.user_id,
        "email": u.email,
        "email_verified": u.email_verified,
        "username": u.username,
        "name": u.name,
        "nickname": u.nickname,
        "picture": u.picture,
        "given_name": u.given_name,
        "family_name": u.family_name,
        "identities": [{
            "connection": u.connection,
            "provider": User::PROVIDER,
            "user_id": u.local_id(),
            "isSocial": false,
        }],
        "app_metadata": u.app_metadata,
        "user_metadata": u.user_metadata,
        "created_at": timestamp(u.created_at),
        "updated_at": timestamp(u.updated_at),
        "last_login": u.last_login.map_or(Value::Null, timestamp),
        "last_ip": u.last_ip,
        "logins_count": u.logins_count,
        "blocked": u.blocked,
        "multifactor": [],
    })
}
