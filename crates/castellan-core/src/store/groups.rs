use crate::model::{GrantedRole, Group, GroupMapping, GroupRecord, NestedMember, Role, User};
use crate::paging::{Page, PageRequest};

use super::StoreResult;

/// Groups: members, roles, nested groups and connection mappings. Group ids taken by the
/// methods below are stored `grp_…` ids; `find_group` turns a GUID into one. Changes of
/// several rows are one transaction.
#[async_trait::async_trait]
pub trait GroupStore: Send + Sync {
    /// `Conflict` when the name is taken (case-insensitively).
    async fn create_group(&self, group: &Group) -> StoreResult<()>;
    /// By `grp_…` id or by GUID.
    async fn find_group(&self, id_or_guid: &str) -> StoreResult<Option<Group>>;
    /// Ordered by name.
    async fn list_groups(&self, page: PageRequest) -> StoreResult<Page<Group>>;
    /// Name and description; `NotFound` if the group is gone, `Conflict` on a taken name.
    async fn update_group(&self, group: &Group) -> StoreResult<()>;
    /// False if there was none; `Conflict` while the group is nested in another (the
    /// schema's RESTRICT decides).
    async fn delete_group(&self, id: &str) -> StoreResult<bool>;
    /// Every group with its members, role GUIDs, child GUIDs and mappings, ordered by name.
    async fn group_records(&self) -> StoreResult<Vec<GroupRecord>>;
    /// The groups `id` is nested in directly, ordered by name.
    async fn group_parents(&self, id: &str) -> StoreResult<Vec<Group>>;

    /// Adds the users that exist (the others are skipped) and returns their ids.
    async fn add_group_members(
        &self,
        group_id: &str,
        user_ids: &[String],
    ) -> StoreResult<Vec<String>>;
    async fn remove_group_members(&self, group_id: &str, user_ids: &[String]) -> StoreResult<()>;
    /// Direct members, ordered by user id.
    async fn list_group_members(
        &self,
        group_id: &str,
        page: PageRequest,
    ) -> StoreResult<Page<User>>;
    /// Members of the group and of all its descendants, ordered by user name.
    async fn list_nested_group_members(
        &self,
        group_id: &str,
        page: PageRequest,
    ) -> StoreResult<Page<NestedMember>>;

    async fn add_group_roles(&self, group_id: &str, role_ids: &[String]) -> StoreResult<()>;
    async fn remove_group_roles(&self, group_id: &str, role_ids: &[String]) -> StoreResult<()>;
    /// The roles on the group itself, ordered by name.
    async fn list_group_roles(&self, group_id: &str, page: PageRequest) -> StoreResult<Page<Role>>;
    /// The roles of the group and of every ancestor, with the group granting each.
    async fn roles_of_group_and_ancestors(&self, group_id: &str) -> StoreResult<Vec<GrantedRole>>;
    /// The groups that hold the role, ordered by name.
    async fn groups_using_role(&self, role_id: &str) -> StoreResult<Vec<Group>>;

    /// Nests the children in the parent, all or none. A child that would close a cycle is
    /// refused with `Conflict` naming the groups.
    async fn add_nested_groups(&self, parent_id: &str, child_ids: &[String]) -> StoreResult<()>;
    async fn remove_nested_groups(&self, parent_id: &str, child_ids: &[String]) -> StoreResult<()>;
    /// The direct children, ordered by name.
    async fn list_nested_groups(&self, parent_id: &str) -> StoreResult<Vec<Group>>;

    async fn add_group_mappings(
        &self,
        group_id: &str,
        mappings: &[GroupMapping],
    ) -> StoreResult<()>;
    async fn remove_group_mappings(
        &self,
        group_id: &str,
        mapping_ids: &[String],
    ) -> StoreResult<()>;
    async fn list_group_mappings(&self, group_id: &str) -> StoreResult<Vec<GroupMapping>>;

    /// The groups the user is a direct member of, ordered by name.
    async fn list_user_groups(&self, user_id: &str, page: PageRequest) -> StoreResult<Page<Group>>;
    /// Direct groups and every ancestor of them, ordered by name.
    async fn user_groups_with_ancestors(&self, user_id: &str) -> StoreResult<Vec<Group>>;
    /// Adds the user to each group, all or none.
    async fn add_user_to_groups(&self, user_id: &str, group_ids: &[String]) -> StoreResult<()>;
    /// Direct roles plus the roles of direct groups and their ancestors (no mapped groups:
    /// the extension's "calculate"), ordered by name.
    async fn calculated_user_roles(&self, user_id: &str) -> StoreResult<Vec<Role>>;
}
