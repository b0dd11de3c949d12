-- Idempotency-Key (contract §2.2): per tenant, caller and key (hashed together), the
-- hash of the request it came with and, once answered, the answer to give a retry.
-- Bounded per tenant in keys and in bytes kept, oldest first: idempotency_keys_tenant_created
-- is that order.
-- Text compares exactly: the binary NO PAD collation of 2026-11-24-090000_no_pad_collation.
SET @c = IF(VERSION() LIKE '%MariaDB%', 'utf8mb4_nopad_bin', 'utf8mb4_0900_bin');

SET @s = CONCAT('CREATE TABLE idempotency_keys (
    scope_hash CHAR(64) NOT NULL PRIMARY KEY,
    tenant_id BIGINT NOT NULL,
    request_hash CHAR(64) NOT NULL,
    created_at_ms BIGINT NOT NULL,
    status INTEGER,
    answer LONGTEXT,
    answer_bytes BIGINT NOT NULL DEFAULT 0,
    INDEX idempotency_keys_tenant_created (tenant_id, created_at_ms),
    FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = ', @c);
PREPARE st FROM @s;
EXECUTE st;
DEALLOCATE PREPARE st;
