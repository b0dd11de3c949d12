-- The catalogue document of each tenant (contract §3.1), replaced whole by an import.
-- LONGTEXT: a catalogue of thousands of services is several megabytes.
CREATE TABLE catalogues (
    tenant_id BIGINT NOT NULL PRIMARY KEY,
    version BIGINT NOT NULL,
    document LONGTEXT NOT NULL,
    FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;

-- Which SPCM profiles the catalogue uses: a profile in use cannot be deleted.
CREATE TABLE catalogue_profile_refs (
    tenant_id BIGINT NOT NULL,
    profile_id BIGINT NOT NULL,
    bundled_product_id VARCHAR(255) NOT NULL,
    PRIMARY KEY (tenant_id, profile_id, bundled_product_id),
    KEY catalogue_profile_refs_profile (profile_id),
    FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE,
    FOREIGN KEY (profile_id) REFERENCES provisioning_profiles (id) ON DELETE RESTRICT
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin;
