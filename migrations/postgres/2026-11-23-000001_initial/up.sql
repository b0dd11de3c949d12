CREATE TABLE tenants (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);

CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    username TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    permissions TEXT NOT NULL,
    UNIQUE (tenant_id, username)
);

CREATE TABLE api_tokens (
    id BIGSERIAL PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    permissions TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked BOOLEAN NOT NULL DEFAULT FALSE
);

CREATE TABLE provisioning_profiles (
    id BIGSERIAL PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    default_profile BOOLEAN NOT NULL,
    locale TEXT,
    initial_core_plan_name TEXT,
    subscriber_class TEXT,
    subscriber_type TEXT,
    dps_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    dps_notification BOOLEAN NOT NULL DEFAULT FALSE,
    eos_notification BOOLEAN NOT NULL DEFAULT FALSE,
    payg_notification BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (tenant_id, name)
);

CREATE INDEX provisioning_profiles_tenant_id ON provisioning_profiles (tenant_id, id);
-- At most one default per tenant (contract §2), enforced by the database too.
CREATE UNIQUE INDEX provisioning_profiles_one_default
    ON provisioning_profiles (tenant_id) WHERE default_profile;
