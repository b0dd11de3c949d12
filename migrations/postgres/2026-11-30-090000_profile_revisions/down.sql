ALTER TABLE provisioning_profiles DROP COLUMN revision;
