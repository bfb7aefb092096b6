-- A redeemed authorization code is kept, marked, until it expires, with the refresh-token
-- family its tokens belong to: presenting it again revokes that family (RFC 6749 §4.1.2).
-- `replayed_at` lets the first exchange see a replay that came while it was minting.

ALTER TABLE authorization_codes ADD COLUMN redeemed_at BIGINT;
ALTER TABLE authorization_codes ADD COLUMN refresh_family TEXT;
ALTER TABLE authorization_codes ADD COLUMN replayed_at BIGINT;
CREATE INDEX authorization_codes_by_expiry ON authorization_codes (expires_at);
