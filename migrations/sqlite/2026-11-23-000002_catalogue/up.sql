-- The catalogue document of each tenant (contract §3.1), replaced whole by an import.
CREATE TABLE catalogues (
    tenant_id INTEGER PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    document TEXT NOT NULL
);

-- Which SPCM profiles the catalogue uses: a profile in use cannot be deleted.
CREATE TABLE catalogue_profile_refs (
    tenant_id INTEGER NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    profile_id INTEGER NOT NULL REFERENCES provisioning_profiles (id) ON DELETE RESTRICT,
    bundled_product_id TEXT NOT NULL,
    PRIMARY KEY (tenant_id, profile_id, bundled_product_id)
);
CREATE INDEX catalogue_profile_refs_profile ON catalogue_profile_refs (profile_id);
