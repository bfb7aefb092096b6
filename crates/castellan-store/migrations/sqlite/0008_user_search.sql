-- Indexes for the Management API's lists: users in creation order (the default order of
-- `/api/v2/users`), and log searches by type or client, newest first (`/api/v2/logs`).

CREATE INDEX users_by_created ON users (created_at, user_id);
CREATE INDEX logs_by_type ON logs (type, log_id);
CREATE INDEX logs_by_client ON logs (client_id, log_id);
