-- Signing keys follow Auth0's next / current / previous cycle. A key is published in the
-- JWKS from `created_at`; it signs from `current_since` (NULL: the `next` key, published
-- but not yet scheduled) until `retired_at`; `revoked_at` withdraws a retired key from the
-- JWKS before its tokens expire. Every node reads the same schedule, so all of them switch
-- keys at the same moment rather than each at its own refresh.

ALTER TABLE signing_keys ADD COLUMN current_since BIGINT;
ALTER TABLE signing_keys ADD COLUMN revoked_at BIGINT;
UPDATE signing_keys SET current_since = created_at;

-- One key per algorithm signs with no end in sight, and one waits as its `next`; a `next`
-- key has no `retired_at` either, so the old index (one key without `retired_at`) goes.
DROP INDEX signing_keys_one_current;
CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys (alg)
    WHERE retired_at IS NULL AND current_since IS NOT NULL;
CREATE UNIQUE INDEX signing_keys_one_next ON signing_keys (alg) WHERE current_since IS NULL;
