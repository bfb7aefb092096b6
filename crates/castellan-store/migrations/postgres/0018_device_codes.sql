-- Device authorization (RFC 8628): a device's code and the code its user types, both
-- stored as SHA-256 digests only. The row is pending until the user approves
-- (`approved`, with who and when) or refuses; the device's poll that finds it approved
-- deletes it, so it is exchanged once. `polled_too_fast` is set by each poll from the
-- previous one, in the same statement that records it, so two polls racing still see
-- each other.

CREATE TABLE device_codes (
    device_code_hash TEXT PRIMARY KEY,
    user_code_hash TEXT NOT NULL UNIQUE,
    client_id TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    scope TEXT NOT NULL,
    audience TEXT,
    interval_secs BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    last_polled_at BIGINT,
    polled_too_fast BOOLEAN NOT NULL,
    approved BOOLEAN,
    user_id TEXT REFERENCES users (user_id) ON DELETE CASCADE,
    auth_time BIGINT
);

CREATE INDEX device_codes_by_expiry ON device_codes (expires_at);
