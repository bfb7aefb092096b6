-- The rest of the authorization model: groups (members, roles, nested groups, connection
-- mappings), the Authorization Extension's own permissions, permissions given to users
-- directly, default assignments on connections, and rules with their configuration.

-- `{"roles": [...], "groups": [...], "on": "signup"}` as the administrator wrote it (names or
-- ids); NULL when the connection has none.
ALTER TABLE connections ADD COLUMN default_assignments TEXT;

-- Set in the transaction that applies the connection's defaults, so they are applied once per
-- user, also under concurrent log-ins, and a role removed later is never re-added.
ALTER TABLE users ADD COLUMN defaults_applied BOOLEAN NOT NULL DEFAULT FALSE;

-- Like roles, a group has two ids: `grp_…` for the Management API and a GUID for the
-- Authorization Extension API.
CREATE TABLE directory_groups (
    id TEXT PRIMARY KEY,
    guid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    name_lower TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE group_members (
    group_id TEXT NOT NULL REFERENCES directory_groups (id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, user_id)
);

CREATE INDEX group_members_by_user ON group_members (user_id, group_id);

-- A role still used by a group cannot be deleted (RESTRICT), as in the extension.
CREATE TABLE group_roles (
    group_id TEXT NOT NULL REFERENCES directory_groups (id) ON DELETE CASCADE,
    role_id TEXT NOT NULL REFERENCES roles (id) ON DELETE RESTRICT,
    PRIMARY KEY (group_id, role_id)
);

CREATE INDEX group_roles_by_role ON group_roles (role_id);

-- Members of the child count as members of the parent. A group nested in another cannot be
-- deleted (RESTRICT); cycles are refused by the store before insertion.
CREATE TABLE group_nesting (
    parent_id TEXT NOT NULL REFERENCES directory_groups (id) ON DELETE CASCADE,
    child_id TEXT NOT NULL REFERENCES directory_groups (id) ON DELETE RESTRICT,
    PRIMARY KEY (parent_id, child_id),
    CHECK (parent_id <> child_id)
);

CREATE INDEX group_nesting_by_child ON group_nesting (child_id, parent_id);

-- Dynamic membership: a user of `connection_name` who is in a group named `group_name` (or
-- whose identity provider says so) is also a member of `group_id`.
CREATE TABLE group_mappings (
    id TEXT PRIMARY KEY,
    group_id TEXT NOT NULL REFERENCES directory_groups (id) ON DELETE CASCADE,
    group_name TEXT NOT NULL,
    connection_name TEXT NOT NULL
);

CREATE INDEX group_mappings_by_connection ON group_mappings (connection_name, group_name);
CREATE INDEX group_mappings_by_group ON group_mappings (group_id);

-- The extension's permissions: named records bound to an application (a client id, or an API
-- identifier when `application_type` is `resource_server`).
CREATE TABLE extension_permissions (
    guid TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    description TEXT NOT NULL,
    application_type TEXT NOT NULL,
    application_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (application_id, name_lower)
);

-- A permission used by a role cannot be deleted (RESTRICT), as in the extension.
CREATE TABLE role_extension_permissions (
    role_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    permission_guid TEXT NOT NULL REFERENCES extension_permissions (guid) ON DELETE RESTRICT,
    PRIMARY KEY (role_id, permission_guid)
);

CREATE INDEX role_extension_permissions_by_permission ON role_extension_permissions (permission_guid);

-- The extension's settings (`groupsInToken`, ...) and the digest of its API key.
CREATE TABLE extension_configuration (
    id TEXT PRIMARY KEY,
    settings TEXT NOT NULL,
    api_key_digest TEXT,
    updated_at BIGINT NOT NULL
);

-- Permissions given to a user directly (`/api/v2/users/{id}/permissions`).
CREATE TABLE user_permissions (
    user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    resource_server_identifier TEXT NOT NULL REFERENCES resource_servers (identifier) ON DELETE CASCADE,
    permission_name TEXT NOT NULL,
    PRIMARY KEY (user_id, resource_server_identifier, permission_name)
);

CREATE INDEX role_permissions_by_api ON role_permissions (resource_server_identifier, role_id);

-- Rules run in `rule_order` (Auth0's `order`, a reserved word in SQL).
CREATE TABLE rules (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    script TEXT NOT NULL,
    rule_order BIGINT NOT NULL UNIQUE,
    enabled BOOLEAN NOT NULL,
    stage TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Values are sealed with the master key: rules read them, the API never returns them.
CREATE TABLE rules_configs (
    config_key TEXT PRIMARY KEY,
    sealed_value TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
