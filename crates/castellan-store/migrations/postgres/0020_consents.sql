-- What a user allowed a third-party application, per API (the empty audience stands for
-- none), so that the consent page is shown once and again only for new scopes (Auth0's
-- user grants). Gone with the user or the application.

CREATE TABLE consents (
    user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    client_id TEXT NOT NULL REFERENCES clients (client_id) ON DELETE CASCADE,
    audience TEXT NOT NULL,
    scope TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, client_id, audience)
);
