-- The origins a client's browser code may call the authentication API from (Auth0's
-- "Allowed Origins (CORS)"), a JSON list like the client's other URL lists. Clients made
-- before it allow none beyond what their web origins and callbacks already allow.

ALTER TABLE clients ADD COLUMN allowed_origins TEXT NOT NULL DEFAULT '[]';
