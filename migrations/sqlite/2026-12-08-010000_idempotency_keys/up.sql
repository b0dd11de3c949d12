-- Idempotency-Key (contract §2.2): per tenant, caller and key (hashed together), the
-- hash of the request it came with and, once answered, the answer to give a retry.
-- Bounded per tenant in keys and in bytes kept, oldest first: idempotency_keys_tenant_created
-- is that order.
CREATE TABLE idempotency_keys (
    scope_hash TEXT PRIMARY KEY NOT NULL,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    request_hash TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    status INTEGER,
    answer TEXT,
    answer_bytes BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX idempotency_keys_tenant_created ON idempotency_keys (tenant_id, created_at_ms);
