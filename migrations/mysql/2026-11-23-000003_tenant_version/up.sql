-- Raised by every write of the tenant's data (profiles, users, tokens, catalogue) in
-- the write's own transaction: an unchanged version means unchanged data, which is
-- what lets a server answer repeated reads from memory (docs/architecture.md).
ALTER TABLE tenants ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
