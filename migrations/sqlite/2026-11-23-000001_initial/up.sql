CREATE TABLE tenants (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    username TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    permissions TEXT NOT NULL,
    UNIQUE (tenant_id, username)
);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    permissions TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked BOOLEAN NOT NULL DEFAULT 0
);

-- AUTOINCREMENT: a deleted profile's id is never handed out again.
CREATE TABLE provisioning_profiles (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    default_profile BOOLEAN NOT NULL,
    locale TEXT,
    initial_core_plan_name TEXT,
    subscriber_class TEXT,
    subscriber_type TEXT,
    dps_enabled BOOLEAN NOT NULL DEFAULT 0,
    dps_notification BOOLEAN NOT NULL DEFAULT 0,
    eos_notification BOOLEAN NOT NULL DEFAULT 0,
    payg_notification BOOLEAN NOT NULL DEFAULT 0,
    UNIQUE (tenant_id, name)
);

CREATE INDEX provisioning_profiles_tenant_id ON provisioning_profiles (tenant_id, id);
-- At most one default per tenant (contract §2), enforced by the database too.
CREATE UNIQUE INDEX provisioning_profiles_one_default
    ON provisioning_profiles (tenant_id) WHERE default_profile;
