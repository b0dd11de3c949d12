-- Back to utf8mb4_bin (PAD SPACE). Fails on a unique key if rows now differ only by
-- trailing spaces, which the old collation cannot tell apart.
ALTER TABLE catalogue_profile_refs DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
    MODIFY bundled_product_id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL;
ALTER TABLE catalogues DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
ALTER TABLE provisioning_profiles DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
    MODIFY name VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    MODIFY locale VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
    MODIFY initial_core_plan_name VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
    MODIFY subscriber_class VARCHAR(100) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
    MODIFY subscriber_type VARCHAR(16) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL;
ALTER TABLE api_tokens DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
    MODIFY token_hash CHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    MODIFY permissions VARCHAR(1024) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL;
ALTER TABLE users DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
    MODIFY username VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    MODIFY password_hash VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    MODIFY permissions VARCHAR(1024) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL;
ALTER TABLE tenants DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
    MODIFY name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL;
