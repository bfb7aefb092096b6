-- Users of database connections, their consecutive failed log-ins, and the tenant's log.

CREATE TABLE users (
    user_id TEXT PRIMARY KEY,
    connection TEXT NOT NULL REFERENCES connections (name) ON DELETE CASCADE,
    email TEXT,
    email_verified BOOLEAN NOT NULL,
    username TEXT,
    username_lower TEXT,
    name TEXT,
    nickname TEXT,
    picture TEXT,
    given_name TEXT,
    family_name TEXT,
    app_metadata TEXT NOT NULL,
    user_metadata TEXT NOT NULL,
    password_hash TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    last_login BIGINT,
    last_ip TEXT,
    logins_count BIGINT NOT NULL,
    blocked BOOLEAN NOT NULL,
    last_password_reset BIGINT
);

-- Emails are stored lower-cased; NULLs do not collide.
CREATE UNIQUE INDEX users_email ON users (connection, email);
CREATE UNIQUE INDEX users_username ON users (connection, username_lower);

CREATE TABLE login_failures (
    user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    ip TEXT NOT NULL,
    failures BIGINT NOT NULL,
    blocked_at BIGINT,
    PRIMARY KEY (user_id, ip)
);

CREATE TABLE logs (
    log_id TEXT PRIMARY KEY,
    date BIGINT NOT NULL,
    type TEXT NOT NULL,
    description TEXT NOT NULL,
    client_id TEXT,
    client_name TEXT,
    connection TEXT,
    user_id TEXT,
    user_name TEXT,
    ip TEXT,
    user_agent TEXT,
    details TEXT NOT NULL
);

CREATE INDEX logs_by_user ON logs (user_id, log_id);
