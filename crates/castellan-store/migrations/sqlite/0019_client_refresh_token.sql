-- Each client's refresh-token settings, Auth0's `refresh_token` object as JSON. Clients
-- made before it keep rotation with reuse detection; the month each exchange used to
-- give becomes their idle lifetime, within a family's year, Auth0's longest for rotation.
ALTER TABLE clients ADD COLUMN refresh_token TEXT NOT NULL DEFAULT '{"rotation_type":"rotating","expiration_type":"expiring","leeway":0,"token_lifetime":31557600,"infinite_token_lifetime":false,"idle_token_lifetime":2592000,"infinite_idle_token_lifetime":false}';

-- A token now ends at the first of two moments, either of which may be never (null): its
-- family's absolute end, fixed when the family starts, and its idle end, pushed back by
-- each exchange. Existing tokens keep their end as their idle end, and their family gets
-- a year from its first token.
ALTER TABLE refresh_tokens ADD COLUMN family_expires_at BIGINT;
ALTER TABLE refresh_tokens ADD COLUMN idle_expires_at BIGINT;
UPDATE refresh_tokens SET
    idle_expires_at = expires_at,
    family_expires_at = 31557600 + (SELECT MIN(f.created_at) FROM refresh_tokens f
                                    WHERE f.family_id = refresh_tokens.family_id);
ALTER TABLE refresh_tokens DROP COLUMN expires_at;

-- Whether the token was issued rotating, as Auth0's refresh-token object says; every one
-- was until now.
ALTER TABLE refresh_tokens ADD COLUMN rotating BOOLEAN NOT NULL DEFAULT TRUE;
