-- The change history and the outbox of change events (contract §7): one row per
-- change, written in the change's own transaction. Text compares exactly: the binary
-- NO PAD collation of 2026-11-24-090000_no_pad_collation, picked the same way.
SET @c = IF(VERSION() LIKE '%MariaDB%', 'utf8mb4_nopad_bin', 'utf8mb4_0900_bin');

SET @s = CONCAT('CREATE TABLE changes (
    id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
    tenant_id BIGINT NOT NULL,
    at_ms BIGINT NOT NULL,
    actor_kind VARCHAR(16) NOT NULL,
    actor_name VARCHAR(255) NOT NULL,
    request_id VARCHAR(128) NULL,
    entity VARCHAR(32) NOT NULL,
    entity_id VARCHAR(255) NOT NULL,
    action VARCHAR(16) NOT NULL,
    changed_fields TEXT NOT NULL,
    before_state MEDIUMTEXT NULL,
    after_state MEDIUMTEXT NULL,
    published BOOLEAN NOT NULL DEFAULT FALSE,
    INDEX changes_tenant (tenant_id, id),
    INDEX changes_entity (tenant_id, entity, entity_id, id),
    INDEX changes_waiting (published, id),
    FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = ', @c);
PREPARE st FROM @s;
EXECUTE st;
DEALLOCATE PREPARE st;

-- Which instance publishes events, until when (milliseconds since the epoch).
SET @s = CONCAT('CREATE TABLE event_relay_lease (
    name VARCHAR(32) NOT NULL PRIMARY KEY,
    holder VARCHAR(64) NOT NULL,
    expires_at_ms BIGINT NOT NULL
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = ', @c);
PREPARE st FROM @s;
EXECUTE st;
DEALLOCATE PREPARE st;
INSERT INTO event_relay_lease (name, holder, expires_at_ms) VALUES ('events', '', 0);

-- Users who held every permission before these two existed receive them (contract §8).
UPDATE users SET permissions = CONCAT(permissions, ',SPCM_AUDIT_READ_PERMISSION,SPCM_TENANT_ADMIN_PERMISSION')
WHERE permissions LIKE '%SPCM_PROVISION_PROFILE_READ_PERMISSION%'
  AND permissions LIKE '%SPCM_PROVISION_PROFILE_CREATE_PERMISSION%'
  AND permissions LIKE '%SPCM_PROVISION_PROFILE_UPDATE_PERMISSION%'
  AND permissions LIKE '%SPCM_PROVISION_PROFILE_DELETE_PERMISSION%'
  AND permissions LIKE '%CATALOGUE_READ_PERMISSION%'
  AND permissions LIKE '%CATALOGUE_WRITE_PERMISSION%'
  AND permissions NOT LIKE '%SPCM_AUDIT_READ_PERMISSION%';
