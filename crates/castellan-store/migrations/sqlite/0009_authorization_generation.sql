-- Two counters that changes to what users hold move forward, so a node can keep computed
-- permissions in memory and know, with one read, whether they still hold. `generation`
-- moves with changes to what roles and groups grant (shared by many users); `membership`
-- with changes to who holds which role, group or direct permission. Triggers move them
-- whatever code path (API, import, default assignments, cascades) makes the change.

CREATE TABLE authorization_generation (
    id INTEGER PRIMARY KEY,
    generation BIGINT NOT NULL,
    membership BIGINT NOT NULL
);

INSERT INTO authorization_generation (id, generation, membership) VALUES (1, 0, 0);

CREATE TRIGGER group_roles_insert_moves_authorization AFTER INSERT ON group_roles
BEGIN UPDATE authorization_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER group_roles_update_moves_authorization AFTER UPDATE ON group_roles
BEGIN UPDATE authorization_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER group_roles_delete_moves_authorization AFTER DELETE ON group_roles
BEGIN UPDATE authorization_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER group_nesting_insert_moves_authorization AFTER INSERT ON group_nesting
BEGIN UPDATE authorization_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER group_nesting_update_moves_authorization AFTER UPDATE ON group_nesting
BEGIN UPDATE authorization_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER group_nesting_delete_moves_authorization AFTER DELETE ON group_nesting
BEGIN UPDATE authorization_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER group_mappings_insert_moves_authorization AFTER INSERT ON group_mappings
BEGIN UPDATE authorization_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER group_mappings_update_moves_authorization AFTER UPDATE ON group_mappings
BEGIN UPDATE authorization_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER group_mappings_delete_moves_authorization AFTER DELETE ON group_mappings
BEGIN UPDATE authorization_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER role_permissions_insert_moves_authorization AFTER INSERT ON role_permissions
BEGIN UPDATE authorization_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER role_permissions_update_moves_authorization AFTER UPDATE ON role_permissions
BEGIN UPDATE authorization_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER role_permissions_delete_moves_authorization AFTER DELETE ON role_permissions
BEGIN UPDATE authorization_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER role_extension_permissions_insert_moves_authorization AFTER INSERT ON role_extension_permissions
BEGIN UPDATE authorization_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER role_extension_permissions_update_moves_authorization AFTER UPDATE ON role_extension_permissions
BEGIN UPDATE authorization_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER role_extension_permissions_delete_moves_authorization AFTER DELETE ON role_extension_permissions
BEGIN UPDATE authorization_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER extension_permissions_insert_moves_authorization AFTER INSERT ON extension_permissions
BEGIN UPDATE authorization_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER extension_permissions_update_moves_authorization AFTER UPDATE ON extension_permissions
BEGIN UPDATE authorization_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER extension_permissions_delete_moves_authorization AFTER DELETE ON extension_permissions
BEGIN UPDATE authorization_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER user_roles_insert_moves_authorization AFTER INSERT ON user_roles
BEGIN UPDATE authorization_generation SET membership = membership + 1 WHERE id = 1; END;

CREATE TRIGGER user_roles_update_moves_authorization AFTER UPDATE ON user_roles
BEGIN UPDATE authorization_generation SET membership = membership + 1 WHERE id = 1; END;

CREATE TRIGGER user_roles_delete_moves_authorization AFTER DELETE ON user_roles
BEGIN UPDATE authorization_generation SET membership = membership + 1 WHERE id = 1; END;

CREATE TRIGGER user_permissions_insert_moves_authorization AFTER INSERT ON user_permissions
BEGIN UPDATE authorization_generation SET membership = membership + 1 WHERE id = 1; END;

CREATE TRIGGER user_permissions_update_moves_authorization AFTER UPDATE ON user_permissions
BEGIN UPDATE authorization_generation SET membership = membership + 1 WHERE id = 1; END;

CREATE TRIGGER user_permissions_delete_moves_authorization AFTER DELETE ON user_permissions
BEGIN UPDATE authorization_generation SET membership = membership + 1 WHERE id = 1; END;

CREATE TRIGGER group_members_insert_moves_authorization AFTER INSERT ON group_members
BEGIN UPDATE authorization_generation SET membership = membership + 1 WHERE id = 1; END;

CREATE TRIGGER group_members_update_moves_authorization AFTER UPDATE ON group_members
BEGIN UPDATE authorization_generation SET membership = membership + 1 WHERE id = 1; END;

CREATE TRIGGER group_members_delete_moves_authorization AFTER DELETE ON group_members
BEGIN UPDATE authorization_generation SET membership = membership + 1 WHERE id = 1; END;

CREATE TRIGGER groups_rename_moves_authorization AFTER UPDATE OF name ON directory_groups
BEGIN UPDATE authorization_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER groups_delete_moves_authorization AFTER DELETE ON directory_groups
BEGIN UPDATE authorization_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER roles_delete_moves_authorization AFTER DELETE ON roles
BEGIN UPDATE authorization_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER apis_delete_moves_authorization AFTER DELETE ON resource_servers
BEGIN UPDATE authorization_generation SET generation = generation + 1 WHERE id = 1; END;

CREATE TRIGGER users_connection_moves_authorization AFTER UPDATE OF connection ON users
BEGIN UPDATE authorization_generation SET membership = membership + 1 WHERE id = 1; END;

CREATE TRIGGER users_delete_moves_authorization AFTER DELETE ON users
BEGIN UPDATE authorization_generation SET membership = membership + 1 WHERE id = 1; END;
