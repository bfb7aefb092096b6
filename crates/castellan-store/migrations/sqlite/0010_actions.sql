-- Actions: the draft the Management API edits, the versions deploying it makes (what runs),
-- and each trigger's ordered list of bound actions. Secrets are JSON lists of
-- {name, sealed_value, updated_at}, sealed with the master key; the API never returns them.

CREATE TABLE actions (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    trigger_id TEXT NOT NULL,
    code TEXT NOT NULL,
    runtime TEXT NOT NULL,
    secrets TEXT NOT NULL,
    all_changes_deployed BOOLEAN NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- The latest version of an action (highest number) is the deployed one.
CREATE TABLE action_versions (
    id TEXT PRIMARY KEY,
    action_id TEXT NOT NULL REFERENCES actions (id) ON DELETE CASCADE,
    number BIGINT NOT NULL,
    code TEXT NOT NULL,
    runtime TEXT NOT NULL,
    secrets TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (action_id, number)
);

-- A bound action cannot be deleted: the bindings go first (`force=true` does both).
CREATE TABLE action_bindings (
    id TEXT PRIMARY KEY,
    trigger_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    action_id TEXT NOT NULL REFERENCES actions (id) ON DELETE RESTRICT,
    display_name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (trigger_id, position),
    UNIQUE (trigger_id, action_id)
);

CREATE INDEX action_bindings_by_action ON action_bindings (action_id);
