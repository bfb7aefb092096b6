-- A user's sessions and refresh tokens are listed, ended and revoked together (the
-- Management API, every password change).

CREATE INDEX sessions_by_user ON sessions (user_id);
CREATE INDEX refresh_tokens_by_user ON refresh_tokens (user_id);
