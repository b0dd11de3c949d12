//! Who may do what to whom (contract §1.2), as a property of the real store: random
//! sequences of actions by random users of a tenant are applied both to a model (a
//! list of users and `authority::decide`) and to the store. Their answers must agree,
//! and after every step the stored tenant must show that nobody holds a permission that
//! was not already someone's when they got it, and that an administrator is left.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use spcm::auth::{Permission, PermissionSet};
use spcm::domain::authority::{self, Action, Actor, Denied, Member};
use spcm::domain::TenantName;
use spcm::store::{self, Authority, DbConnection, DbPool, StoreError};

use crate::helpers::backend_tests;

const NAMES: [&str; 5] = ["ana", "ben", "cai", "dee", "eli"];

#[derive(Debug, Clone)]
enum Step {
    Add { actor: usize, target: usize, permissions: u8 },
    SetPermissions { actor: usize, target: usize, permissions: u8 },
    ResetPassword { actor: usize, target: usize },
    Remove { actor: usize, target: usize },
    CreateToken { actor: usize, permissions: u8 },
    RevokeToken { actor: usize, token: usize },
}

fn set(bits: u8) -> PermissionSet {
    Permission::ALL.into_iter().enumerate().filter(|(i, _)| bits & (1 << i) != 0).map(|(_, p)| p).collect()
}

/// Any set of permissions, as bits in `Permission::ALL` order.
fn permissions() -> impl Strategy<Value = u8> {
    any::<u8>()
}

fn step() -> impl Strategy<Value = Step> {
    let who = 0..NAMES.len();
    prop_oneof![
        (who.clone(), who.clone(), permissions()).prop_map(|(actor, target, permissions)| Step::Add {
            actor,
            target,
            permissions
        }),
        (who.clone(), who.clone(), permissions()).prop_map(|(actor, target, permissions)| Step::SetPermissions {
            actor,
            target,
            permissions
        }),
        (who.clone(), who.clone()).prop_map(|(actor, target)| Step::ResetPassword { actor, target }),
        (who.clone(), who.clone()).prop_map(|(actor, target)| Step::Remove { actor, target }),
        (who.clone(), 0u8..4)
            .prop_map(|(actor, permissions)| Step::CreateToken { actor, permissions: permissions << 4 }),
        (who, 0usize..4).prop_map(|(actor, token)| Step::RevokeToken { actor, token }),
    ]
}

/// What an attempt came to, from the model or from the store.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Done,
    Denied(Denied),
    /// The actor is gone, changed password, or no longer administers the tenant.
    Unauthorized,
    NameTaken,
    NoSuchToken,
}

fn outcome<T>(result: Result<T, StoreError>) -> Outcome {
    match result {
        Ok(_) => Outcome::Done,
        Err(StoreError::Denied(denied)) => Outcome::Denied(denied),
        Err(StoreError::Unauthorized) => Outcome::Unauthorized,
        Err(StoreError::UniqueViolation(_)) => Outcome::NameTaken,
        Err(other) => panic!("the store failed: {other}"),
    }
}

/// A user as the model keeps it: the store's row and the hash its sessions know.
#[derive(Debug, Clone)]
struct ModelUser {
    member: Member,
    hash: String,
}

struct Tenant {
    id: i64,
    users: Vec<ModelUser>,
    tokens: Vec<(i64, bool)>,
    resets: usize,
}

impl Tenant {
    fn members(&self) -> Vec<Member> {
        self.users.iter().map(|u| u.member.clone()).collect()
    }

    fn find(&self, name: &str) -> Option<&ModelUser> {
        self.users.iter().find(|u| u.member.username == name)
    }

    /// The scope of `name`'s write, as its console session would carry it (a user
    /// removed earlier keeps the id and hash it had, as a stale session does).
    fn scope_of(&self, name: &str, stale: &[ModelUser]) -> (Authority, Option<ModelUser>) {
        let user = self.find(name).or_else(|| stale.iter().rev().find(|u| u.member.username == name)).cloned();
        let authority = match &user {
            Some(user) => Authority::User {
                user_id: user.member.user_id,
                username: name.to_owned(),
                password_hash: user.hash.clone(),
                permission: Permission::TenantAdmin,
            },
            None => Authority::User {
                user_id: -1,
                username: name.to_owned(),
                password_hash: String::new(),
                permission: Permission::TenantAdmin,
            },
        };
        (authority, user)
    }

    fn stored(&self, conn: &mut DbConnection) -> Vec<(String, PermissionSet)> {
        store::users::list(conn, self.id).expect("users listed")
    }
}

/// What the model says of `action` by `actor`, a user whose session knows `known`.
fn expected(tenant: &Tenant, actor: &str, known: Option<&ModelUser>, action: &Action) -> Outcome {
    let current = tenant.find(actor);
    let still_valid = match (current, known) {
        (Some(now), Some(known)) => now.member.user_id == known.member.user_id && now.hash == known.hash,
        _ => false,
    };
    let Some(current) = current.filter(|u| still_valid && u.member.permissions.contains(Permission::TenantAdmin))
    else {
        return Outcome::Unauthorized;
    };
    let actor = Actor::User { user_id: current.member.user_id, permissions: current.member.permissions };
    match authority::decide(&actor, action, &tenant.members()) {
        Err(denied) => Outcome::Denied(denied),
        Ok(()) => Outcome::Done,
    }
}

fn run_steps(pool: &DbPool, case: usize, steps: &[Step]) -> Result<(), TestCaseError> {
    let mut conn = pool.get().expect("connection");
    let name = TenantName::parse(&format!("t{case}")).expect("tenant name");
    let id = store::tenants::create(&mut conn, &name).expect("tenant created");
    let operator = pool.write_scope(id, Authority::Cli);
    // Two administrators who hold different things, and a reader: nobody holds everything.
    let start = [
        ("ana", set(0b1000_0001) /* read, tenant admin */),
        ("ben", PermissionSet::catalogue().iter().chain([Permission::TenantAdmin, Permission::AuditRead]).collect()),
        ("cai", set(0b0000_0011)),
    ];
    let mut tenant = Tenant { id, users: Vec::new(), tokens: Vec::new(), resets: 0 };
    for (username, permissions) in start {
        let hash = format!("hash-{username}");
        store::users::add(&mut conn, &operator, username, &hash, permissions).expect("user added");
        let user_id =
            store::users::find_login(&mut conn, name.as_str(), username).expect("read").expect("there").user_id;
        tenant.users.push(ModelUser { member: Member { user_id, username: username.into(), permissions }, hash });
    }
    let held_at_start: PermissionSet = start.iter().flat_map(|(_, p)| p.iter()).collect();
    let mut removed: Vec<ModelUser> = Vec::new();

    for step in steps {
        let actor = match step {
            Step::Add { actor, .. }
            | Step::SetPermissions { actor, .. }
            | Step::ResetPassword { actor, .. }
            | Step::Remove { actor, .. }
            | Step::CreateToken { actor, .. }
            | Step::RevokeToken { actor, .. } => NAMES[*actor],
        };
        let (authority, known) = tenant.scope_of(actor, &removed);
        // Read from the store, not the model: the checks below do not trust `decide`.
        let before = tenant.stored(&mut conn);
        let held_by = |name: &str| before.iter().find(|(n, _)| n == name).map(|(_, p)| *p).unwrap_or_default();
        let actor_held = held_by(actor);
        let scope = pool.write_scope(id, authority);
        let (model, real) = match step {
            Step::Add { target, permissions, .. } => {
                let (target, permissions) = (NAMES[*target], set(*permissions));
                let mut model = expected(&tenant, actor, known.as_ref(), &Action::AddUser { permissions });
                if model == Outcome::Done && tenant.find(target).is_some() {
                    model = Outcome::NameTaken;
                }
                let hash = format!("hash-{target}-new");
                let real = outcome(store::users::add(&mut conn, &scope, target, &hash, permissions));
                if real == Outcome::Done {
                    let user_id = store::users::find_login(&mut conn, name.as_str(), target)
                        .expect("read")
                        .expect("added")
                        .user_id;
                    tenant
                        .users
                        .push(ModelUser { member: Member { user_id, username: target.into(), permissions }, hash });
                }
                (model, real)
            }
            Step::SetPermissions { target, permissions, .. } => {
                let (target, permissions) = (NAMES[*target], set(*permissions));
                let model = expected(&tenant, actor, known.as_ref(), &Action::SetPermissions { target, permissions });
                let real = outcome(store::users::set_permissions(&mut conn, &scope, target, permissions, false));
                if real == Outcome::Done {
                    let user = tenant.users.iter_mut().find(|u| u.member.username == target).expect("a member");
                    user.member.permissions = permissions;
                }
                (model, real)
            }
            Step::ResetPassword { target, .. } => {
                let target = NAMES[*target];
                let model = expected(&tenant, actor, known.as_ref(), &Action::ResetPassword { target });
                tenant.resets += 1;
                let hash = format!("hash-{target}-{}", tenant.resets);
                let real = outcome(store::users::set_password(&mut conn, &scope, target, &hash));
                if real == Outcome::Done {
                    tenant.users.iter_mut().find(|u| u.member.username == target).expect("a member").hash = hash;
                }
                (model, real)
            }
            Step::Remove { target, .. } => {
                let target = NAMES[*target];
                let model = expected(&tenant, actor, known.as_ref(), &Action::RemoveUser { target });
                let real = outcome(store::users::remove(&mut conn, &scope, target, false));
                if real == Outcome::Done {
                    let at = tenant.users.iter().position(|u| u.member.username == target).expect("a member");
                    removed.push(tenant.users.remove(at));
                }
                (model, real)
            }
            Step::CreateToken { permissions, .. } => {
                let permissions = set(*permissions);
                let model = expected(&tenant, actor, known.as_ref(), &Action::CreateToken { permissions });
                let created = store::tokens::create(
                    &mut conn,
                    &scope,
                    &format!("digest-{case}-{}", tenant.tokens.len()),
                    permissions,
                    0,
                    None,
                );
                if let Ok(token_id) = created {
                    tenant.tokens.push((token_id, false));
                    prop_assert!(
                        permissions.is_subset_of(actor_held),
                        "token got {permissions} from {actor} holding {actor_held}"
                    );
                }
                (model, outcome(created))
            }
            Step::RevokeToken { token, .. } => {
                let model = expected(&tenant, actor, known.as_ref(), &Action::RevokeToken);
                let token_id = tenant.tokens.get(*token).map_or(-1, |(id, _)| *id);
                let real = match store::tokens::revoke(&mut conn, &scope, token_id) {
                    Ok(false) => Outcome::NoSuchToken,
                    other => outcome(other),
                };
                let model = if model == Outcome::Done && token_id == -1 { Outcome::NoSuchToken } else { model };
                (model, real)
            }
        };
        prop_assert_eq!(&model, &real, "{:?} by {}", step, actor);

        // The stored tenant, whatever the model thinks.
        let stored = tenant.stored(&mut conn);
        let expected_users: Vec<(String, PermissionSet)> = {
            let mut users: Vec<_> =
                tenant.users.iter().map(|u| (u.member.username.clone(), u.member.permissions)).collect();
            users.sort_by(|a, b| a.0.cmp(&b.0));
            users
        };
        prop_assert_eq!(&stored, &expected_users);
        prop_assert!(
            stored.iter().any(|(_, p)| p.contains(Permission::TenantAdmin)),
            "the tenant lost its last administrator after {:?}",
            step
        );
        let held_now: PermissionSet = stored.iter().flat_map(|(_, p)| p.iter()).collect();
        prop_assert!(
            held_now.is_subset_of(held_at_start),
            "{} appeared from nowhere after {:?}",
            held_now.without(held_at_start),
            step
        );
        if real == Outcome::Done {
            if let Step::Add { permissions, .. } | Step::SetPermissions { permissions, .. } = step {
                let granted = set(*permissions);
                prop_assert!(
                    granted.is_subset_of(actor_held),
                    "{} granted {} holding only {}",
                    actor,
                    granted,
                    actor_held
                );
            }
            // Whoever can set a user's password or permissions can act as that user.
            if let Step::SetPermissions { target, .. }
            | Step::ResetPassword { target, .. }
            | Step::Remove { target, .. } = step
            {
                let target_held = held_by(NAMES[*target]);
                prop_assert!(
                    target_held.is_subset_of(actor_held),
                    "{} holding {} acted on {} holding {}",
                    actor,
                    actor_held,
                    NAMES[*target],
                    target_held
                );
            }
        }
    }
    Ok(())
}

backend_tests! {
    async fn two_administrators_demoting_themselves_at_once_leave_one(app) {
        let pool = app.pool.clone();
        for round in 0..8 {
            let mut conn = pool.get().expect("connection");
            let name = TenantName::parse(&format!("pair{round}")).expect("tenant name");
            let id = store::tenants::create(&mut conn, &name).expect("tenant created");
            let admin: PermissionSet = [Permission::TenantAdmin, Permission::ProfileRead].into_iter().collect();
            let mut scopes = Vec::new();
            for username in ["left", "right"] {
                store::users::add(&mut conn, &pool.write_scope(id, Authority::Cli), username, "hash", admin).expect("added");
                let user_id = store::users::find_login(&mut conn, name.as_str(), username).expect("read").expect("there").user_id;
                let authority = Authority::User { user_id, username: username.into(), password_hash: "hash".into(), permission: Permission::TenantAdmin };
                scopes.push((username, pool.write_scope(id, authority)));
            }
            drop(conn);
            let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
            let demotions: Vec<_> = scopes
                .into_iter()
                .map(|(username, scope)| {
                    let (pool, barrier) = (pool.clone(), barrier.clone());
                    std::thread::spawn(move || {
                        let mut conn = pool.get().expect("connection");
                        barrier.wait();
                        let reader: PermissionSet = [Permission::ProfileRead].into_iter().collect();
                        outcome(store::users::set_permissions(&mut conn, &scope, username, reader, false))
                    })
                })
                .collect();
            let mut outcomes: Vec<Outcome> = demotions.into_iter().map(|t| t.join().expect("joined")).collect();
            outcomes.sort_by_key(|o| format!("{o:?}"));
            assert_eq!(outcomes, [Outcome::Denied(Denied::LastAdministrator), Outcome::Done], "round {round}");
            let mut conn = pool.get().expect("connection");
            let admins = store::users::list(&mut conn, id).expect("listed").iter().filter(|(_, p)| p.contains(Permission::TenantAdmin)).count();
            assert_eq!(admins, 1, "round {round}");
        }
    }

    async fn no_sequence_of_actions_grants_what_nobody_held_or_loses_the_last_administrator(app) {
        let mut runner = TestRunner::new(Config { cases: 48, failure_persistence: None, ..Config::default() });
        let case = std::cell::Cell::new(0usize);
        let result = runner.run(&proptest::collection::vec(step(), 1..30), |steps| {
            case.set(case.get() + 1);
            run_steps(&app.pool, case.get(), &steps)
        });
        if let Err(failure) = result {
            panic!("{failure}");
        }
    }
}
