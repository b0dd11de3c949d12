DROP TABLE provisioning_profiles;
DROP TABLE api_tokens;
DROP TABLE users;
DROP TABLE tenants;
