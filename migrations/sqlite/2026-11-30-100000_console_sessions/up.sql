-- Sessions of the console (contract §8): the SHA-256 of the cookie's secret, never the
-- secret; the fingerprint of the user's hash and permissions at sign-in, so that a
-- changed password or permission ends the session; removing the user removes it.
CREATE TABLE console_sessions (
    secret_hash TEXT PRIMARY KEY NOT NULL,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    fingerprint TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    last_seen_at_ms BIGINT NOT NULL
);
CREATE INDEX console_sessions_last_seen ON console_sessions (last_seen_at_ms);
CREATE INDEX console_sessions_user ON console_sessions (user_id);
