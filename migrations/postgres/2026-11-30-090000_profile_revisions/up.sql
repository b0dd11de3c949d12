-- Every profile has a revision that each change of it raises: its ETag, and what a
-- conditional write (If-Match) compares against.
ALTER TABLE provisioning_profiles ADD COLUMN revision BIGINT NOT NULL DEFAULT 1;
