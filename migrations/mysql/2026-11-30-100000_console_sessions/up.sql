-- Sessions of the console (contract §8): the SHA-256 of the cookie's secret, never the
-- secret; the fingerprint of the user's hash and permissions at sign-in, so that a
-- changed password or permission ends the session; removing the user removes it.
-- Text compares exactly: the binary NO PAD collation of 2026-11-24-090000_no_pad_collation.
SET @c = IF(VERSION() LIKE '%MariaDB%', 'utf8mb4_nopad_bin', 'utf8mb4_0900_bin');

SET @s = CONCAT('CREATE TABLE console_sessions (
    secret_hash CHAR(64) NOT NULL PRIMARY KEY,
    tenant_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    fingerprint CHAR(64) NOT NULL,
    created_at_ms BIGINT NOT NULL,
    last_seen_at_ms BIGINT NOT NULL,
    INDEX console_sessions_last_seen (last_seen_at_ms),
    INDEX console_sessions_user (user_id),
    FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = ', @c);
PREPARE st FROM @s;
EXECUTE st;
DEALLOCATE PREPARE st;
