CREATE INDEX console_sessions_user ON console_sessions (user_id);
DROP INDEX console_sessions_user_created;
DROP INDEX console_sessions_created;
