-- Multi-factor authentication.
--
-- A user's enrolled factors (Auth0's authenticators / authentication methods). Secrets that
-- must be read back (a TOTP key, a WebAuthn credential) are sealed with the master key and
-- bound to the row's id; a recovery code is kept as a digest. `last_step` is the last time
-- step a one-time code was accepted at, so a code is taken once; `failures` counts wrong
-- codes in a row, and `locked_until` is when the factor may be tried again. A pending
-- one-time code sent by email (and a WebAuthn challenge) is kept as `challenge`, sealed or
-- as a digest, until `challenge_expires_at`. Gone with the user.
CREATE TABLE authenticators (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    name TEXT,
    secret TEXT,
    email TEXT,
    confirmed BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    last_auth_at BIGINT,
    last_step BIGINT,
    failures BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT,
    challenge TEXT,
    challenge_expires_at BIGINT
);

CREATE INDEX authenticators_by_user ON authenticators (user_id, created_at);

-- "Remember this browser": a browser's signed cookie counts only if it was issued after the
-- user's `remember_not_before` (raised by invalidate-remember-browser and by a factor reset).
CREATE TABLE mfa_user_state (
    user_id TEXT PRIMARY KEY REFERENCES users (user_id) ON DELETE CASCADE,
    remember_not_before BIGINT NOT NULL
);

-- Tenant-wide settings with no table of their own, as JSON by name (the MFA policy,
-- Guardian factors' enabled flags).
CREATE TABLE tenant_settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- How a session's user authenticated (Auth0's `authentication.methods`), as JSON
-- `[{"name": "pwd", "timestamp": ...}, {"name": "mfa", ...}]`.
ALTER TABLE sessions ADD COLUMN methods TEXT NOT NULL DEFAULT '[]';
