-- Roles and their permissions (scope names on an API). A role has two ids: `rol_…` for the
-- Management API and a GUID for the Authorization Extension API; both are accepted.

CREATE TABLE roles (
    id TEXT PRIMARY KEY,
    guid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    name_lower TEXT NOT NULL,
    description TEXT NOT NULL,
    -- The extension binds a role to an application; '' when it is not bound.
    application_id TEXT NOT NULL,
    application_type TEXT,
    created_at BIGINT NOT NULL
);

CREATE UNIQUE INDEX roles_name ON roles (name_lower, application_id);

CREATE TABLE role_permissions (
    role_id TEXT NOT NULL REFERENCES roles (id) ON DELETE CASCADE,
    resource_server_identifier TEXT NOT NULL REFERENCES resource_servers (identifier) ON DELETE CASCADE,
    permission_name TEXT NOT NULL,
    PRIMARY KEY (role_id, resource_server_identifier, permission_name)
);
