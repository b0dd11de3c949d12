//! The permissions of contract §1, and sets of them as they are stored: the names joined
//! by commas. The stored form is read here and nowhere else.

use super::InvalidValue;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    ProfileRead,
    ProfileCreate,
    ProfileUpdate,
    ProfileDelete,
    CatalogueRead,
    CatalogueWrite,
    AuditRead,
    TenantAdmin,
}

impl Permission {
    pub const ALL: [Permission; 8] = [
        Permission::ProfileRead,
        Permission::ProfileCreate,
        Permission::ProfileUpdate,
        Permission::ProfileDelete,
        Permission::CatalogueRead,
        Permission::CatalogueWrite,
        Permission::AuditRead,
        Permission::TenantAdmin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::ProfileRead => "SPCM_PROVISION_PROFILE_READ_PERMISSION",
            Permission::ProfileCreate => "SPCM_PROVISION_PROFILE_CREATE_PERMISSION",
            Permission::ProfileUpdate => "SPCM_PROVISION_PROFILE_UPDATE_PERMISSION",
            Permission::ProfileDelete => "SPCM_PROVISION_PROFILE_DELETE_PERMISSION",
            Permission::CatalogueRead => "CATALOGUE_READ_PERMISSION",
            Permission::CatalogueWrite => "CATALOGUE_WRITE_PERMISSION",
            Permission::AuditRead => "SPCM_AUDIT_READ_PERMISSION",
            Permission::TenantAdmin => "SPCM_TENANT_ADMIN_PERMISSION",
        }
    }

    pub fn parse(value: &str) -> Result<Permission, InvalidValue> {
        Permission::ALL.into_iter().find(|p| p.as_str() == value).ok_or_else(|| {
            InvalidValue::new(format!(
                "unknown permission '{value}'; the permissions are {}",
                Permission::names().join(", ")
            ))
        })
    }

    /// Every permission's name, in a fixed order.
    pub fn names() -> Vec<&'static str> {
        Permission::ALL.into_iter().map(Permission::as_str).collect()
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A set of permissions, stored as their names joined by commas.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PermissionSet(u8);

impl PermissionSet {
    pub fn all() -> Self {
        Permission::ALL.into_iter().collect()
    }

    /// The permissions a catalogue token can carry: the catalogue face checks no other.
    pub fn catalogue() -> Self {
        [Permission::CatalogueRead, Permission::CatalogueWrite].into_iter().collect()
    }

    pub fn contains(self, permission: Permission) -> bool {
        self.0 & permission.bit() != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// True when every permission of `self` is in `other`.
    pub fn is_subset_of(self, other: PermissionSet) -> bool {
        self.0 & !other.0 == 0
    }

    /// The permissions of `self` that `other` lacks.
    pub fn without(self, other: PermissionSet) -> PermissionSet {
        PermissionSet(self.0 & !other.0)
    }

    /// The permissions of the set, in a fixed order.
    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL.into_iter().filter(move |p| self.contains(*p))
    }

    /// The names of the set's permissions, in a fixed order.
    pub fn names(self) -> Vec<&'static str> {
        self.iter().map(Permission::as_str).collect()
    }

    /// Reads the stored form: names split at commas, spaces around them trimmed (as the
    /// PostgreSQL fast path of a create reads it too); names this version does not know
    /// are ignored.
    pub fn parse_stored(stored: &str) -> Self {
        stored.split(',').filter_map(|name| Permission::parse(name.trim_matches(' ')).ok()).collect()
    }

    pub fn to_stored(self) -> String {
        self.names().join(",")
    }
}

impl fmt::Display for PermissionSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names().join(", "))
    }
}

impl FromIterator<Permission> for PermissionSet {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        PermissionSet(iter.into_iter().fold(0, |bits, p| bits | p.bit()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_form_round_trips() {
        let set: PermissionSet = [Permission::ProfileRead, Permission::CatalogueWrite].into_iter().collect();
        let stored = set.to_stored();
        assert_eq!(stored, "SPCM_PROVISION_PROFILE_READ_PERMISSION,CATALOGUE_WRITE_PERMISSION");
        assert_eq!(PermissionSet::parse_stored(&stored), set);
        assert!(!set.contains(Permission::ProfileDelete));
        assert_eq!(PermissionSet::parse_stored(&PermissionSet::all().to_stored()), PermissionSet::all());
        assert_eq!(
            PermissionSet::parse_stored(" CATALOGUE_WRITE_PERMISSION , ,UNKNOWN"),
            PermissionSet::catalogue().without([Permission::CatalogueRead].into_iter().collect())
        );
    }

    #[test]
    fn subsets_and_differences() {
        let catalogue = PermissionSet::catalogue();
        assert!(catalogue.is_subset_of(PermissionSet::all()));
        assert!(!PermissionSet::all().is_subset_of(catalogue));
        assert!(PermissionSet::default().is_subset_of(catalogue) && PermissionSet::default().is_empty());
        assert_eq!(PermissionSet::all().without(catalogue).iter().count(), 6);
    }
}
