DROP TABLE event_relay_lease;
DROP TABLE changes;
UPDATE users SET permissions = REPLACE(permissions, ',SPCM_AUDIT_READ_PERMISSION,SPCM_TENANT_ADMIN_PERMISSION', '');
