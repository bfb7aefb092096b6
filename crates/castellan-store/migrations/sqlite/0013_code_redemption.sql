-- A redeemed authorization code is kept, marked, until it expires, with the refresh-token
-- family its tokens belong to: presenting it again revokes that family (RFC 6749 §4.1.2).

ALTER TABLE authorization_codes ADD COLUMN redeemed_at BIGINT;
ALTER TABLE authorization_codes ADD COLUMN refresh_family TEXT;
CREATE INDEX authorization_codes_by_expiry ON authorization_codes (expires_at);
