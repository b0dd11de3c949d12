-- The change history and the outbox of change events (contract §7): one row per
-- change, written in the change's own transaction.
CREATE TABLE changes (
    id BIGSERIAL PRIMARY KEY,
    tenant_id BIGINT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    at_ms BIGINT NOT NULL,
    actor_kind TEXT NOT NULL,
    actor_name TEXT NOT NULL,
    request_id TEXT,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    action TEXT NOT NULL,
    changed_fields TEXT NOT NULL,
    before_state TEXT,
    after_state TEXT,
    published BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX changes_tenant ON changes (tenant_id, id);
CREATE INDEX changes_entity ON changes (tenant_id, entity, entity_id, id);
CREATE INDEX changes_waiting ON changes (id) WHERE NOT published;

-- Which instance publishes events, until when (milliseconds since the epoch).
CREATE TABLE event_relay_lease (
    name TEXT PRIMARY KEY NOT NULL,
    holder TEXT NOT NULL,
    expires_at_ms BIGINT NOT NULL
);
INSERT INTO event_relay_lease (name, holder, expires_at_ms) VALUES ('events', '', 0);

-- Users who held every permission before these two existed receive them (contract §8).
UPDATE users SET permissions = permissions || ',SPCM_AUDIT_READ_PERMISSION,SPCM_TENANT_ADMIN_PERMISSION'
WHERE permissions LIKE '%SPCM_PROVISION_PROFILE_READ_PERMISSION%'
  AND permissions LIKE '%SPCM_PROVISION_PROFILE_CREATE_PERMISSION%'
  AND permissions LIKE '%SPCM_PROVISION_PROFILE_UPDATE_PERMISSION%'
  AND permissions LIKE '%SPCM_PROVISION_PROFILE_DELETE_PERMISSION%'
  AND permissions LIKE '%CATALOGUE_READ_PERMISSION%'
  AND permissions LIKE '%CATALOGUE_WRITE_PERMISSION%'
  AND permissions NOT LIKE '%SPCM_AUDIT_READ_PERMISSION%';
