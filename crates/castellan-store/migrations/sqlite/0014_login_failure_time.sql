-- When a (user, address) pair last failed, so that housekeeping can forget counters that
-- have been quiet for a day. Rows from before this migration keep their block time when
-- they have one; a counter without a block gets 0 and is forgotten at the next purge.

ALTER TABLE login_failures ADD COLUMN last_failed_at BIGINT NOT NULL DEFAULT 0;
UPDATE login_failures SET last_failed_at = blocked_at WHERE blocked_at IS NOT NULL;
CREATE INDEX login_failures_by_time ON login_failures (last_failed_at);
