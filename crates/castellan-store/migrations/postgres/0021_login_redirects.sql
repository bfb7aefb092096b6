-- Log-ins a rule or an action sent to another site, waiting for the browser to come back
-- to /continue (Auth0's redirect rules and actions). The state and the browser's
-- transaction cookie are kept as digests; a row is taken once, by the browser that holds
-- the cookie, before it expires. Gone with the user.

CREATE TABLE login_redirects (
    state_hash TEXT PRIMARY KEY,
    browser_hash TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (user_id) ON DELETE CASCADE,
    transaction_data TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX login_redirects_by_expiry ON login_redirects (expires_at);

-- What the scripts of a browser log-in left for its tokens (they run at /authorize, where
-- they may still redirect), kept with the code until it is exchanged.
ALTER TABLE authorization_codes ADD COLUMN scripted TEXT;
