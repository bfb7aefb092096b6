-- Clients, APIs, client grants, connections and signing keys.
-- Lists and objects are JSON text; timestamps are Unix seconds.

CREATE TABLE clients (
    client_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    app_type TEXT NOT NULL,
    is_first_party BOOLEAN NOT NULL,
    grant_types TEXT NOT NULL,
    callbacks TEXT NOT NULL,
    allowed_logout_urls TEXT NOT NULL,
    web_origins TEXT NOT NULL,
    token_endpoint_auth_method TEXT NOT NULL,
    client_metadata TEXT NOT NULL,
    secret_hash TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE resource_servers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    identifier TEXT NOT NULL UNIQUE,
    scopes TEXT NOT NULL,
    token_lifetime BIGINT NOT NULL,
    signing_alg TEXT NOT NULL,
    enforce_policies BOOLEAN NOT NULL,
    token_dialect TEXT NOT NULL,
    allow_offline_access BOOLEAN NOT NULL,
    skip_consent BOOLEAN NOT NULL,
    is_system BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE client_grants (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    audience TEXT NOT NULL REFERENCES resource_servers (identifier) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (client_id, audience)
);

CREATE TABLE connections (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    strategy TEXT NOT NULL,
    options TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE connection_clients (
    connection_id TEXT NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    client_id TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    PRIMARY KEY (connection_id, client_id)
);

CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    public_jwk TEXT NOT NULL,
    sealed_private_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    retired_at BIGINT
);

-- At most one current key per algorithm, even when several nodes start at once.
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys (alg) WHERE retired_at IS NULL;
