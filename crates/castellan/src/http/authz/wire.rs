//! The extension's JSON shapes: `_id` is the GUID, camel-case field names. Each is a type
//! whose schema the API's OpenAPI document shows.

use castellan_core::model::{
    ExtensionPermission, Group, GroupMapping, GroupRecord, Role, RoleRecord, User,
};
use castellan_core::oidc::claims::rfc3339;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AuthzGroup)]
pub struct GroupWire {
    #[serde(rename = "_id")]
    pub id: String,
    pub name: String,
    pub description: String,
    /// With `?expand`: the roles of the group and its ancestors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<ExpandedRoleWire>>,
}

pub fn group(g: &Group) -> GroupWire {
    GroupWire {
        id: g.guid.clone(),
        name: g.name.clone(),
        description: g.description.clone(),
        roles: None,
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AuthzMapping)]
pub struct MappingWire {
    #[serde(rename = "_id")]
    pub id: String,
    pub group_name: String,
    /// `"<name> (<strategy>)"` where the extension shows the connection.
    pub connection_name: String,
}

pub fn mapping(m: &GroupMapping) -> MappingWire {
    MappingWire {
        id: m.id.clone(),
        group_name: m.group_name.clone(),
        connection_name: m.connection_name.clone(),
    }
}

/// A group with its members, roles, nested groups and mappings, as the extension stores it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AuthzGroupRecord)]
pub struct GroupRecordWire {
    #[serde(rename = "_id")]
    pub id: String,
    pub name: String,
    pub description: String,
    pub members: Vec<String>,
    pub roles: Vec<String>,
    pub nested: Vec<String>,
    pub mappings: Vec<MappingWire>,
}

pub fn group_record(r: &GroupRecord) -> GroupRecordWire {
    GroupRecordWire {
        id: r.group.guid.clone(),
        name: r.group.name.clone(),
        description: r.group.description.clone(),
        members: r.members.clone(),
        roles: r.roles.clone(),
        nested: r.nested.clone(),
        mappings: r.mappings.iter().map(mapping).collect(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AuthzRole)]
pub struct RoleWire {
    #[serde(rename = "_id")]
    pub id: String,
    pub name: String,
    pub description: String,
}

pub fn role(r: &Role) -> RoleWire {
    RoleWire {
        id: r.guid.clone(),
        name: r.name.clone(),
        description: r.description.clone(),
    }
}

/// A user's role: `{_id, name, applicationId, description}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AuthzUserRole)]
pub struct UserRoleWire {
    #[serde(rename = "_id")]
    pub id: String,
    pub name: String,
    pub application_id: Option<String>,
    pub description: String,
}

pub fn user_role(r: &Role) -> UserRoleWire {
    UserRoleWire {
        id: r.guid.clone(),
        name: r.name.clone(),
        application_id: r.application_id.clone(),
        description: r.description.clone(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AuthzRoleRecord)]
pub struct RoleRecordWire {
    #[serde(rename = "_id")]
    pub id: String,
    pub name: String,
    pub description: String,
    pub application_type: Option<String>,
    pub application_id: Option<String>,
    pub permissions: Vec<String>,
    pub users: Vec<String>,
}

pub fn role_record(r: &RoleRecord) -> RoleRecordWire {
    RoleRecordWire {
        id: r.role.guid.clone(),
        name: r.role.name.clone(),
        description: r.role.description.clone(),
        application_type: r.role.application_type.clone(),
        application_id: r.role.application_id.clone(),
        permissions: r.permissions.clone(),
        users: r.users.clone(),
    }
}

/// A role with its permissions spelled out (`?expand`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AuthzExpandedRole)]
pub struct ExpandedRoleWire {
    #[serde(rename = "_id")]
    pub id: String,
    pub name: String,
    pub description: String,
    pub application_id: Option<String>,
    pub application_type: Option<String>,
    pub permissions: Vec<PermissionWire>,
}

pub fn expanded_role(r: &Role, permissions: &[ExtensionPermission]) -> ExpandedRoleWire {
    ExpandedRoleWire {
        id: r.guid.clone(),
        name: r.name.clone(),
        description: r.description.clone(),
        application_id: r.application_id.clone(),
        application_type: r.application_type.clone(),
        permissions: permissions.iter().map(permission).collect(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AuthzPermission)]
pub struct PermissionWire {
    #[serde(rename = "_id")]
    pub id: String,
    pub name: String,
    pub description: String,
}

pub fn permission(p: &ExtensionPermission) -> PermissionWire {
    PermissionWire {
        id: p.guid.clone(),
        name: p.name.clone(),
        description: p.description.clone(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AuthzPermissionRecord)]
pub struct PermissionRecordWire {
    #[serde(rename = "_id")]
    pub id: String,
    pub name: String,
    pub description: String,
    pub application_type: String,
    pub application_id: String,
}

pub fn permission_record(p: &ExtensionPermission) -> PermissionRecordWire {
    PermissionRecordWire {
        id: p.guid.clone(),
        name: p.name.clone(),
        description: p.description.clone(),
        application_type: p.application_type.clone(),
        application_id: p.application_id.clone(),
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(as = AuthzIdentity)]
pub struct IdentityWire {
    pub connection: String,
    pub provider: &'static str,
    pub user_id: String,
    pub is_social: bool,
}

/// The Management API's user object, as the extension passes it through.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = AuthzUser)]
pub struct UserWire {
    pub user_id: String,
    pub email: Option<String>,
    pub email_verified: bool,
    pub username: Option<String>,
    pub name: Option<String>,
    pub nickname: Option<String>,
    pub picture: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub identities: Vec<IdentityWire>,
    #[schema(value_type = Object)]
    pub app_metadata: Map<String, Value>,
    #[schema(value_type = Object)]
    pub user_metadata: Map<String, Value>,
    pub created_at: Option<String>,
    pub updated_at: Option<String>,
    pub last_login: Option<String>,
    pub last_ip: Option<String>,
    pub logins_count: i64,
    pub blocked: bool,
    /// Always empty: no factors are enrolled through the extension.
    pub multifactor: Vec<String>,
}

pub fn user(u: &User) -> UserWire {
    UserWire {
        user_id: u.user_id.clone(),
        email: u.email.clone(),
        email_verified: u.email_verified,
        username: u.username.clone(),
        name: u.name.clone(),
        nickname: u.nickname.clone(),
        picture: u.picture.clone(),
        given_name: u.given_name.clone(),
        family_name: u.family_name.clone(),
        identities: vec![IdentityWire {
            connection: u.connection.clone(),
            provider: User::PROVIDER,
            user_id: u.local_id().to_string(),
            is_social: false,
        }],
        app_metadata: u.app_metadata.clone(),
        user_metadata: u.user_metadata.clone(),
        created_at: rfc3339(u.created_at),
        updated_at: rfc3339(u.updated_at),
        last_login: u.last_login.and_then(rfc3339),
        last_ip: u.last_ip.clone(),
        logins_count: u.logins_count,
        blocked: u.blocked,
        multifactor: vec![],
    }
}
