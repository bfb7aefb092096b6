use serde_json::{Map, Value};

use super::{GroupRecord, Role};

/// One of the Authorization Extension's permissions: a name bound to an application (a client
/// id, or an API identifier when `application_type` is `resource_server`; those count in
/// access tokens for that API).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionPermission {
    pub guid: String,
    pub name: String,
    pub description: String,
    pub application_type: String,
    pub application_id: String,
    pub created_at: i64,
}

/// A role with the extension's view of it: its permission GUIDs and its direct users.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRecord {
    pub role: Role,
    pub permissions: Vec<String>,
    pub users: Vec<String>,
}

/// The extension's settings (`groupsInToken`, ...) and the digest of its API key. The key
/// itself is never stored.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExtensionConfiguration {
    pub settings: Map<String, Value>,
    pub api_key_digest: Option<String>,
}

/// Everything the extension's import replaces, in one transaction.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ExtensionData {
    /// `None` keeps the stored settings.
    pub settings: Option<Map<String, Value>>,
    pub groups: Vec<GroupRecord>,
    pub roles: Vec<RoleRecord>,
    pub permissions: Vec<ExtensionPermission>,
}

/// What the extension's rule asks at every log-in: names, de-duplicated and sorted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Policy {
    pub groups: Vec<String>,
    pub roles: Vec<String>,
    pub permissions: Vec<String>,
}
