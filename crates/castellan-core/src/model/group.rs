use super::{Role, User};

/// A group of users. Like a role it has two ids: `grp_…` for the Management API and a GUID
/// for the Authorization Extension API; both find it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: String,
    pub guid: String,
    pub name: String,
    pub description: String,
    pub created_at: i64,
}

/// Dynamic membership: users of `connection_name` who are in a group named `group_name` at
/// their identity provider (or in a Castellan group of that name) are members too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupMapping {
    /// A GUID, as the extension gives every mapping.
    pub id: String,
    pub group_name: String,
    pub connection_name: String,
}

/// A group with everything attached to it, in the extension's terms: member user ids, role
/// GUIDs, child group GUIDs and mappings. What the extension lists and exports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupRecord {
    pub group: Group,
    pub members: Vec<String>,
    pub roles: Vec<String>,
    pub nested: Vec<String>,
    pub mappings: Vec<GroupMapping>,
}

/// A member of a group or of one of its descendants, with the group that holds them directly.
#[derive(Debug, Clone, PartialEq)]
pub struct NestedMember {
    pub user: User,
    pub group: Group,
}

/// A role and the group that grants it (the group itself or one of its ancestors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GrantedRole {
    pub role: Role,
    pub group: Group,
}
