-- Trailing spaces are significant on every backend (contract §1.1): utf8mb4_bin is a
-- PAD SPACE collation, so 'pad' = 'pad ' in comparisons and unique keys. Every string
-- column moves to a binary NO PAD collation, and each table's default with it, so that
-- columns added later compare exactly too. MariaDB calls it utf8mb4_nopad_bin, MySQL 8
-- utf8mb4_0900_bin; ALTER TABLE takes no variable, hence the prepared statements.
-- Lengths, nullability and indexes stay as they were. catalogues.document is never
-- compared and keeps its collation (changing it would rewrite every catalogue).
SET @c = IF(VERSION() LIKE '%MariaDB%', 'utf8mb4_nopad_bin', 'utf8mb4_0900_bin');
SET @t = CONCAT(' CHARACTER SET utf8mb4 COLLATE ', @c);

SET @s = CONCAT('ALTER TABLE tenants DEFAULT', @t,
    ', MODIFY name VARCHAR(64)', @t, ' NOT NULL');
PREPARE st FROM @s;
EXECUTE st;
DEALLOCATE PREPARE st;

SET @s = CONCAT('ALTER TABLE users DEFAULT', @t,
    ', MODIFY username VARCHAR(64)', @t, ' NOT NULL',
    ', MODIFY password_hash VARCHAR(255)', @t, ' NOT NULL',
    ', MODIFY permissions VARCHAR(1024)', @t, ' NOT NULL');
PREPARE st FROM @s;
EXECUTE st;
DEALLOCATE PREPARE st;

SET @s = CONCAT('ALTER TABLE api_tokens DEFAULT', @t,
    ', MODIFY token_hash CHAR(64)', @t, ' NOT NULL',
    ', MODIFY permissions VARCHAR(1024)', @t, ' NOT NULL');
PREPARE st FROM @s;
EXECUTE st;
DEALLOCATE PREPARE st;

SET @s = CONCAT('ALTER TABLE provisioning_profiles DEFAULT', @t,
    ', MODIFY name VARCHAR(100)', @t, ' NOT NULL',
    ', MODIFY locale VARCHAR(100)', @t, ' NULL',
    ', MODIFY initial_core_plan_name VARCHAR(100)', @t, ' NULL',
    ', MODIFY subscriber_class VARCHAR(100)', @t, ' NULL',
    ', MODIFY subscriber_type VARCHAR(16)', @t, ' NULL');
PREPARE st FROM @s;
EXECUTE st;
DEALLOCATE PREPARE st;

SET @s = CONCAT('ALTER TABLE catalogues DEFAULT', @t);
PREPARE st FROM @s;
EXECUTE st;
DEALLOCATE PREPARE st;

SET @s = CONCAT('ALTER TABLE catalogue_profile_refs DEFAULT', @t,
    ', MODIFY bundled_product_id VARCHAR(255)', @t, ' NOT NULL');
PREPARE st FROM @s;
EXECUTE st;
DEALLOCATE PREPARE st;
