-- Whether a refresh token's family began with a log-in that passed a second factor: such a
-- family is not asked for one again at a refresh; any other is, when MFA is required.
ALTER TABLE refresh_tokens ADD COLUMN mfa BOOLEAN NOT NULL DEFAULT FALSE;
