-- One row that `/readyz` writes: a store that answers but cannot commit a write (a full
-- disk, a read-only database) is not ready.

CREATE TABLE readiness (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    checked_at BIGINT NOT NULL
);
