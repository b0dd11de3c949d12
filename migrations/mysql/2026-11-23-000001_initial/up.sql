-- utf8mb4_bin everywhere: names compare exactly, case-sensitively (contract §2).
CREATE TABLE tenants (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(64) NOT NULL UNIQUE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE users (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    tenant_id BIGINT NOT NULL,
    username VARCHAR(64) NOT NULL,
    password_hash VARCHAR(255) NOT NULL,
    permissions VARCHAR(1024) NOT NULL,
    UNIQUE (tenant_id, username),
    FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

CREATE TABLE api_tokens (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    tenant_id BIGINT NOT NULL,
    token_hash CHAR(64) NOT NULL UNIQUE,
    permissions VARCHAR(1024) NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NULL,
    revoked BOOLEAN NOT NULL DEFAULT FALSE,
    FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- MySQL has no partial index: the generated column holds the tenant only for its
-- default profile (NULL otherwise), and NULLs do not collide in a unique index.
CREATE TABLE provisioning_profiles (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    tenant_id BIGINT NOT NULL,
    name VARCHAR(100) NOT NULL,
    default_profile BOOLEAN NOT NULL,
    locale VARCHAR(100) NULL,
    initial_core_plan_name VARCHAR(100) NULL,
    subscriber_class VARCHAR(100) NULL,
    subscriber_type VARCHAR(16) NULL,
    dps_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    dps_notification BOOLEAN NOT NULL DEFAULT FALSE,
    eos_notification BOOLEAN NOT NULL DEFAULT FALSE,
    payg_notification BOOLEAN NOT NULL DEFAULT FALSE,
    default_tenant_id BIGINT AS (CASE WHEN default_profile THEN tenant_id ELSE NULL END) STORED,
    UNIQUE KEY provisioning_profiles_name (tenant_id, name),
    UNIQUE KEY provisioning_profiles_one_default (default_tenant_id),
    KEY provisioning_profiles_tenant_id (tenant_id, id),
    FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
