//! Names of tenants and users (contract §1).

use std::fmt;

use super::InvalidValue;

fn parse_identifier(value: &str, what: &str, extra: &[char]) -> Result<String, InvalidValue> {
    if value.is_empty() || value.chars().count() > 64 {
        return Err(InvalidValue::new(format!("{what} must be 1 to 64 characters")));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') || extra.contains(&c);
    if !value.chars().all(allowed) {
        return Err(InvalidValue::new(format!("{what} may only contain letters, digits, '_', '.' and '-'")));
    }
    Ok(value.to_owned())
}

/// A tenant's name: 1–64 characters from `[A-Za-z0-9_.-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TenantName(String);

impl TenantName {
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        parse_identifier(value, "tenant name", &[]).map(TenantName)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A username, unique within its tenant: like a tenant name, `@` allowed too.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    pub fn parse(value: &str) -> Result<Self, InvalidValue> {
        parse_identifier(value, "username", &['@']).map(Username)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tenant_names_follow_the_contract() {
        assert!(TenantName::parse("default").is_ok());
        assert!(TenantName::parse("acme-1.eu_west").is_ok());
        assert!(TenantName::parse(&"a".repeat(64)).is_ok());
        for bad in ["", "has space", "ñandú", "a/b", &"a".repeat(65)] {
            assert!(TenantName::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn usernames_may_carry_an_at_sign() {
        assert!(Username::parse("ops@acme").is_ok());
        assert!(Username::parse("a:b").is_err());
    }
}
