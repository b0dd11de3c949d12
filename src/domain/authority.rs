//! Who may do what to whom among a tenant's users and tokens (contract §1.2).
//!
//! One pure function, `decide`, over the caller, the action and the tenant's users as
//! they are inside the write's transaction. The console, the CLI and any API that
//! manages users or tokens call it through `store::users` and `store::tokens`, never on
//! their own.

use std::fmt;

use super::permissions::{Permission, PermissionSet};

/// Who acts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The command line, which works on the database itself: it may grant any permission
    /// to a user and any catalogue permission to a token. With `force` it may remove or
    /// demote a tenant's last administrator.
    Operator { force: bool },
    /// A user of the tenant, holding `permissions` now.
    User { user_id: i64, permissions: PermissionSet },
    /// A bearer token: it manages nobody.
    Token,
}

/// A user of the tenant, as the write's transaction reads it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub user_id: i64,
    pub username: String,
    pub permissions: PermissionSet,
}

/// What the actor asks to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action<'a> {
    AddUser {
        permissions: PermissionSet,
    },
    SetPermissions {
        target: &'a str,
        permissions: PermissionSet,
    },
    ResetPassword {
        target: &'a str,
    },
    RemoveUser {
        target: &'a str,
    },
    CreateToken {
        permissions: PermissionSet,
    },
    /// Taking a token away grants nothing: any administrator of the tenant may.
    RevokeToken,
}

impl Action<'_> {
    fn target(&self) -> Option<&str> {
        match self {
            Action::SetPermissions { target, .. }
            | Action::ResetPassword { target }
            | Action::RemoveUser { target } => Some(target),
            _ => None,
        }
    }

    /// The permissions the action gives someone.
    fn granted(&self) -> PermissionSet {
        match self {
            Action::AddUser { permissions }
            | Action::SetPermissions { permissions, .. }
            | Action::CreateToken { permissions } => *permissions,
            _ => PermissionSet::default(),
        }
    }
}

/// Why `decide` refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// The acting user does not hold the tenant-admin permission (a token never does).
    NotAdministrator,
    /// The action would grant permissions the actor does not hold.
    Grant(PermissionSet),
    /// The target user holds permissions the actor does not.
    Outranked { target: String, lacking: PermissionSet },
    /// The tenant has no such user.
    NoSuchUser(String),
    /// A token must carry at least one permission.
    EmptyToken,
    /// A token carries only catalogue permissions.
    NotForTokens(PermissionSet),
    /// The tenant would be left without a user holding the tenant-admin permission.
    LastAdministrator,
}

impl fmt::Display for Denied {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Denied::NotAdministrator => {
                write!(f, "only a holder of {} manages users and tokens", Permission::TenantAdmin)
            }
            Denied::Grant(lacking) => write!(f, "nobody grants a permission they do not hold: you lack {lacking}"),
            Denied::Outranked { target, lacking } => {
                write!(f, "user '{target}' holds {lacking}, which you do not: only someone who holds every permission of a user may act on it")
            }
            Denied::NoSuchUser(name) => write!(f, "the tenant has no user '{name}'"),
            Denied::EmptyToken => write!(f, "a token must carry at least one permission"),
            Denied::NotForTokens(extra) => {
                write!(
                    f,
                    "a token carries only catalogue permissions ({}); {extra} cannot be given to one",
                    PermissionSet::catalogue()
                )
            }
            Denied::LastAdministrator => write!(
                f,
                "the tenant keeps its last user holding {}; give another user that permission first",
                Permission::TenantAdmin
            ),
        }
    }
}

/// Whether `actor` may do `action` to a tenant whose users are `members`.
pub fn decide(actor: &Actor, action: &Action, members: &[Member]) -> Result<(), Denied> {
    let target = match action.target() {
        Some(name) => {
            Some(members.iter().find(|m| m.username == name).ok_or_else(|| Denied::NoSuchUser(name.to_owned()))?)
        }
        None => None,
    };
    if let Action::CreateToken { permissions } = action {
        if permissions.is_empty() {
            return Err(Denied::EmptyToken);
        }
        let extra = permissions.without(PermissionSet::catalogue());
        if !extra.is_empty() {
            return Err(Denied::NotForTokens(extra));
        }
    }
    let force = match actor {
        Actor::Operator { force } => *force,
        Actor::Token => return Err(Denied::NotAdministrator),
        Actor::User { permissions: held, .. } => {
            if !held.contains(Permission::TenantAdmin) {
                return Err(Denied::NotAdministrator);
            }
            let lacking = action.granted().without(*held);
            if !lacking.is_empty() {
                return Err(Denied::Grant(lacking));
            }
            if let Some(target) = target {
                let lacking = target.permissions.without(*held);
                if !lacking.is_empty() {
                    return Err(Denied::Outranked { target: target.username.clone(), lacking });
                }
            }
            false
        }
    };
    let demotes = match (action, target) {
        (Action::RemoveUser { .. }, Some(target)) => target.permissions.contains(Permission::TenantAdmin),
        (Action::SetPermissions { permissions, .. }, Some(target)) => {
            target.permissions.contains(Permission::TenantAdmin) && !permissions.contains(Permission::TenantAdmin)
        }
        _ => false,
    };
    if demotes && !force {
        let others = members.iter().filter(|m| Some(m.user_id) != target.map(|t| t.user_id));
        if !others.into_iter().any(|m| m.permissions.contains(Permission::TenantAdmin)) {
            return Err(Denied::LastAdministrator);
        }
    }
    Ok(())
}

/// Where a token stands at `now` (Unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStatus {
    Active,
    Revoked,
    Expired,
}

impl TokenStatus {
    pub fn of(revoked: bool, expires_at: Option<i64>, now: i64) -> TokenStatus {
        if revoked {
            TokenStatus::Revoked
        } else if expires_at.is_some_and(|at| at <= now) {
            TokenStatus::Expired
        } else {
            TokenStatus::Active
        }
    }

    pub fn is_active(self) -> bool {
        self == TokenStatus::Active
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TokenStatus::Active => "active",
            TokenStatus::Revoked => "revoked",
            TokenStatus::Expired => "expired",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(permissions: &[Permission]) -> PermissionSet {
        permissions.iter().copied().collect()
    }

    fn member(user_id: i64, username: &str, permissions: PermissionSet) -> Member {
        Member { user_id, username: username.into(), permissions }
    }

    fn tenant() -> Vec<Member> {
        vec![
            member(1, "admin", PermissionSet::all()),
            member(2, "helpdesk", set(&[Permission::TenantAdmin, Permission::ProfileRead])),
            member(3, "reader", set(&[Permission::ProfileRead])),
        ]
    }

    fn user(members: &[Member], name: &str) -> Actor {
        let m = members.iter().find(|m| m.username == name).unwrap();
        Actor::User { user_id: m.user_id, permissions: m.permissions }
    }

    #[test]
    fn a_tenant_administrator_cannot_act_on_a_user_who_holds_more() {
        let members = tenant();
        let helpdesk = user(&members, "helpdesk");
        for action in [
            Action::ResetPassword { target: "admin" },
            Action::RemoveUser { target: "admin" },
            Action::SetPermissions { target: "admin", permissions: set(&[Permission::ProfileRead]) },
        ] {
            assert!(matches!(decide(&helpdesk, &action, &members), Err(Denied::Outranked { .. })), "{action:?}");
        }
        assert_eq!(decide(&helpdesk, &Action::ResetPassword { target: "reader" }, &members), Ok(()));
        assert_eq!(decide(&helpdesk, &Action::ResetPassword { target: "helpdesk" }, &members), Ok(()), "itself");
        let grant = Action::SetPermissions { target: "reader", permissions: set(&[Permission::AuditRead]) };
        assert_eq!(decide(&helpdesk, &grant, &members), Err(Denied::Grant(set(&[Permission::AuditRead]))));
        assert_eq!(decide(&user(&members, "reader"), &Action::RevokeToken, &members), Err(Denied::NotAdministrator));
        assert_eq!(decide(&Actor::Token, &Action::RevokeToken, &members), Err(Denied::NotAdministrator));
        assert_eq!(
            decide(&helpdesk, &Action::RemoveUser { target: "ghost" }, &members),
            Err(Denied::NoSuchUser("ghost".into()))
        );
    }

    #[test]
    fn tokens_carry_one_or_more_catalogue_permissions_the_creator_holds() {
        let members = tenant();
        let operator = Actor::Operator { force: false };
        let create = |permissions| Action::CreateToken { permissions };
        assert_eq!(decide(&operator, &create(PermissionSet::default()), &members), Err(Denied::EmptyToken));
        assert_eq!(
            decide(&operator, &create(set(&[Permission::CatalogueRead, Permission::ProfileRead])), &members),
            Err(Denied::NotForTokens(set(&[Permission::ProfileRead])))
        );
        assert_eq!(decide(&operator, &create(PermissionSet::catalogue()), &members), Ok(()));
        assert_eq!(
            decide(&user(&members, "helpdesk"), &create(set(&[Permission::CatalogueRead])), &members),
            Err(Denied::Grant(set(&[Permission::CatalogueRead])))
        );
        assert_eq!(decide(&user(&members, "admin"), &create(PermissionSet::catalogue()), &members), Ok(()));
    }

    #[test]
    fn the_last_administrator_stays_unless_the_operator_forces_it() {
        let members =
            vec![member(1, "admin", PermissionSet::all()), member(3, "reader", set(&[Permission::ProfileRead]))];
        let admin = user(&members, "admin");
        let demote = Action::SetPermissions { target: "admin", permissions: set(&[Permission::ProfileRead]) };
        assert_eq!(decide(&admin, &demote, &members), Err(Denied::LastAdministrator));
        assert_eq!(decide(&admin, &Action::RemoveUser { target: "admin" }, &members), Err(Denied::LastAdministrator));
        let operator = Actor::Operator { force: false };
        assert_eq!(
            decide(&operator, &Action::RemoveUser { target: "admin" }, &members),
            Err(Denied::LastAdministrator)
        );
        assert_eq!(decide(&Actor::Operator { force: true }, &Action::RemoveUser { target: "admin" }, &members), Ok(()));
        assert_eq!(decide(&operator, &Action::RemoveUser { target: "reader" }, &members), Ok(()));
        let mut two = tenant();
        two.retain(|m| m.username != "reader");
        assert_eq!(
            decide(&user(&two, "admin"), &Action::RemoveUser { target: "admin" }, &two),
            Ok(()),
            "helpdesk stays"
        );
    }

    #[test]
    fn token_status_is_revoked_then_expired_then_active() {
        assert_eq!(TokenStatus::of(true, Some(5), 10), TokenStatus::Revoked);
        assert_eq!(TokenStatus::of(false, Some(10), 10), TokenStatus::Expired);
        assert_eq!(TokenStatus::of(false, Some(11), 10), TokenStatus::Active);
        assert!(TokenStatus::of(false, None, i64::MAX).is_active());
    }
}
