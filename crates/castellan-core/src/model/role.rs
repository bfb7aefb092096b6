/// A role: a name, a description and permissions on APIs. The Management API shows `id`
/// (`rol_…`), the Authorization Extension API shows `guid`; both find it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Role {
    pub id: String,
    pub guid: String,
    pub name: String,
    pub description: String,
    /// The extension binds a role to one application (a client id); `None` otherwise.
    pub application_id: Option<String>,
    pub application_type: Option<String>,
    pub created_at: i64,
}

/// Where a user's permission comes from, as Auth0's `sources` shows it: `DIRECT`, or
/// `ROLE` with the role (held directly or through a group).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct PermissionSource {
    pub source_type: String,
    /// Empty for a direct permission.
    pub source_id: String,
    pub source_name: String,
}

/// A permission a user holds, with every source it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldPermission {
    pub permission: Permission,
    pub sources: Vec<PermissionSource>,
}

/// A scope name on an API, granted through a role.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Permission {
    pub resource_server_identifier: String,
    pub permission_name: String,
}
