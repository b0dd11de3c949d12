-- Console sessions are bounded (contract §1.1). Ending sessions past their absolute
-- limit reads a range of console_sessions_created instead of the whole table (idle ones
-- use console_sessions_last_seen); a user's sessions, newest first, are one range of
-- console_sessions_user_created, which replaces the index on user_id alone.
CREATE INDEX console_sessions_created ON console_sessions (created_at_ms);
CREATE INDEX console_sessions_user_created ON console_sessions (user_id, created_at_ms);
DROP INDEX console_sessions_user;
