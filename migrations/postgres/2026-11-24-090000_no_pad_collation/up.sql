-- Only MySQL/MariaDB compares with PAD SPACE; here text already compares exactly.
SELECT 1;
