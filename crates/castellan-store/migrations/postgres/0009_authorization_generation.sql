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

CREATE FUNCTION move_authorization_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE authorization_generation SET generation = generation + 1 WHERE id = 1;
    RETURN NULL;
END;
$$;

CREATE FUNCTION move_authorization_membership() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE authorization_generation SET membership = membership + 1 WHERE id = 1;
    RETURN NULL;
END;
$$;

CREATE TRIGGER group_roles_moves_authorization AFTER INSERT OR UPDATE OR DELETE ON group_roles
    FOR EACH STATEMENT EXECUTE FUNCTION move_authorization_generation();
CREATE TRIGGER group_nesting_moves_authorization AFTER INSERT OR UPDATE OR DELETE ON group_nesting
    FOR EACH STATEMENT EXECUTE FUNCTION move_authorization_generation();
CREATE TRIGGER group_mappings_moves_authorization AFTER INSERT OR UPDATE OR DELETE ON group_mappings
    FOR EACH STATEMENT EXECUTE FUNCTION move_authorization_generation();
CREATE TRIGGER role_permissions_moves_authorization AFTER INSERT OR UPDATE OR DELETE ON role_permissions
    FOR EACH STATEMENT EXECUTE FUNCTION move_authorization_generation();
CREATE TRIGGER role_extension_permissions_moves_authorization AFTER INSERT OR UPDATE OR DELETE ON role_extension_permissions
    FOR EACH STATEMENT EXECUTE FUNCTION move_authorization_generation();
CREATE TRIGGER extension_permissions_moves_authorization AFTER INSERT OR UPDATE OR DELETE ON extension_permissions
    FOR EACH STATEMENT EXECUTE FUNCTION move_authorization_generation();
CREATE TRIGGER user_roles_moves_authorization AFTER INSERT OR UPDATE OR DELETE ON user_roles
    FOR EACH STATEMENT EXECUTE FUNCTION move_authorization_membership();
CREATE TRIGGER user_permissions_moves_authorization AFTER INSERT OR UPDATE OR DELETE ON user_permissions
    FOR EACH STATEMENT EXECUTE FUNCTION move_authorization_membership();
CREATE TRIGGER group_members_moves_authorization AFTER INSERT OR UPDATE OR DELETE ON group_members
    FOR EACH STATEMENT EXECUTE FUNCTION move_authorization_membership();
CREATE TRIGGER groups_rename_moves_authorization AFTER UPDATE OF name ON directory_groups
    FOR EACH STATEMENT EXECUTE FUNCTION move_authorization_generation();
CREATE TRIGGER groups_delete_moves_authorization AFTER DELETE ON directory_groups
    FOR EACH STATEMENT EXECUTE FUNCTION move_authorization_generation();
CREATE TRIGGER roles_delete_moves_authorization AFTER DELETE ON roles
    FOR EACH STATEMENT EXECUTE FUNCTION move_authorization_generation();
CREATE TRIGGER apis_delete_moves_authorization AFTER DELETE ON resource_servers
    FOR EACH STATEMENT EXECUTE FUNCTION move_authorization_generation();
CREATE TRIGGER users_connection_moves_authorization AFTER UPDATE OF connection ON users
    FOR EACH STATEMENT EXECUTE FUNCTION move_authorization_membership();
CREATE TRIGGER users_delete_moves_authorization AFTER DELETE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION move_authorization_membership();
