//! The administrative commands: synchronous, one connection, output on stdout.

use std::io::{BufRead, IsTerminal};
use std::path::Path;

use anyhow::{anyhow, bail, Context};
use secrecy::{ExposeSecret, SecretString};

use super::output::{line, lines};
use super::{CatalogueCommand, TenantCommand, TokenCommand, UserCommand};
use crate::auth::{self, Permission, PermissionSet};
use crate::config::Settings;
use crate::domain::authority::Denied;
use crate::domain::catalogue::CatalogueDocument;
use crate::domain::{TenantName, Username};
use crate::store::catalogue::ImportError;
use crate::store::{self, Authority, Backend, DbConnection, DbPool, StoreError};

/// A pool of one connection to an existing database, migrated. Only `serve` and `migrate`
/// create a SQLite file: any other command refuses a path where there is none, rather
/// than work on a new empty database (a typo, or another working directory).
pub(super) fn open(settings: &Settings) -> anyhow::Result<DbPool> {
    let pool = open_existing(settings)?;
    pool.migrate()?;
    Ok(pool)
}

pub(super) fn open_existing(settings: &Settings) -> anyhow::Result<DbPool> {
    if let Some(path) = missing_sqlite_file(&settings.database_url) {
        bail!(
            "no SQLite database at {}; run `spcm migrate` (or start `spcm serve`) to create it, or name another with --database-url",
            path.display()
        );
    }
    Ok(DbPool::new(&settings.database_url, 1, settings.pool_timeout())?)
}

/// The file a SQLite URL names, when it does not exist (`:memory:` and `file:` URIs are
/// left to SQLite).
fn missing_sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let Ok((Backend::Sqlite, target)) = Backend::from_url(url) else { return None };
    if target == ":memory:" || target.starts_with("file:") {
        return None;
    }
    let path = Path::new(target.split('?').next().unwrap_or_default()).to_path_buf();
    (!path.exists()).then_some(path)
}

fn tenant_id(conn: &mut DbConnection, name: &str) -> anyhow::Result<i64> {
    let name = TenantName::parse(name).map_err(anyhow::Error::msg)?;
    store::tenants::find_id(conn, &name)?.ok_or_else(|| anyhow!("no tenant '{name}'"))
}

fn permissions(names: &[String], all: bool) -> anyhow::Result<PermissionSet> {
    // Checked before any password prompt.
    if all {
        return Ok(PermissionSet::all());
    }
    names
        .iter()
        .map(|name| Permission::parse(name).map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<Vec<_>>>()
        .map(|list| list.into_iter().collect())
}

/// The new password of `username`, never from argv: prompted for twice without echo when
/// stdin is a terminal, else the first line of stdin without its line ending. Shorter
/// than the minimum is refused.
fn read_password(username: &str) -> anyhow::Result<SecretString> {
    let password = if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("New password for '{username}': "))
            .context("cannot read the password from the terminal")?;
        let again =
            rpassword::prompt_password("The same again: ").context("cannot read the password from the terminal")?;
        if first != again {
            bail!("the two passwords differ");
        }
        first
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).context("cannot read the password from stdin")?;
        line.trim_end_matches(['\n', '\r']).to_owned()
    };
    if password.is_empty() {
        bail!("no password on stdin");
    }
    let password = SecretString::from(password);
    auth::check_new_password(&password)?;
    Ok(password)
}

/// Unix seconds as RFC 3339 in UTC.
fn timestamp(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map_or_else(|| seconds.to_string(), |at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

fn now() -> i64 {
    crate::clock::unix_secs().unwrap_or(0)
}

pub fn migrate(settings: &Settings) -> anyhow::Result<()> {
    let pool = DbPool::new(&settings.database_url, 1, settings.pool_timeout())?;
    let applied = pool.migrate()?;
    match applied.len() {
        0 => line("nothing to apply: the database is up to date"),
        1 => line(format!("applied 1 migration: {}", applied[0])),
        n => line(format!("applied {n} migrations: {}", applied.join(", "))),
    }
}

pub fn tenant(settings: &Settings, command: TenantCommand) -> anyhow::Result<()> {
    let pool = open(settings)?;
    let mut conn = pool.get()?;
    match command {
        TenantCommand::Add { name } => {
            let name = TenantName::parse(&name).map_err(anyhow::Error::msg)?;
            let first = store::tenants::count(&mut conn)? == 0;
            match store::tenants::create(&mut conn, &name).and_then(|_| pool.commit_durably()) {
                Ok(()) => {
                    line(format!("tenant '{name}' created"))?;
                    if first {
                        eprintln!(
                            "spcm: note: this is the database's first tenant, so `spcm serve` will not create the \
                             bootstrap tenant and its 'admin' user; add users with `spcm user add --tenant {name}`"
                        );
                    }
                }
                Err(StoreError::UniqueViolation(_)) => bail!("tenant '{name}' already exists"),
                Err(err) => return Err(err.into()),
            }
        }
        TenantCommand::List => lines(store::tenants::list(&mut conn)?)?,
    }
    Ok(())
}

/// The store's refusal, in the command line's words.
fn refused(err: StoreError, tenant: &str) -> anyhow::Error {
    match err {
        StoreError::Denied(Denied::NoSuchUser(name)) => anyhow!("no user '{name}' in tenant '{tenant}'"),
        StoreError::Denied(Denied::LastAdministrator) => {
            anyhow!("refused: {}; --force does it anyway", Denied::LastAdministrator)
        }
        StoreError::Denied(denied) => anyhow!("refused: {denied}"),
        err => err.into(),
    }
}

pub fn user(settings: &Settings, command: UserCommand) -> anyhow::Result<()> {
    let pool = open(settings)?;
    let mut conn = pool.get()?;
    match command {
        UserCommand::Add { tenant, username, permissions: names, all_permissions } => {
            let tenant_id = tenant_id(&mut conn, &tenant)?;
            let username = Username::parse(&username).map_err(anyhow::Error::msg)?;
            let granted = permissions(&names, all_permissions)?;
            let hash = auth::hash_password(&read_password(username.as_str())?)?;
            let scope = pool.write_scope(tenant_id, Authority::Cli);
            match store::users::add(&mut conn, &scope, username.as_str(), &hash, granted) {
                Ok(()) => line(format!("user '{username}' added to tenant '{tenant}'"))?,
                Err(StoreError::UniqueViolation(_)) => bail!("user '{username}' already exists in tenant '{tenant}'"),
                Err(err) => return Err(refused(err, &tenant)),
            }
        }
        UserCommand::Passwd { tenant, username } => {
            let tenant_id = tenant_id(&mut conn, &tenant)?;
            // Asked before the password is: a typo costs no prompt.
            if !store::users::list(&mut conn, tenant_id)?.iter().any(|(name, _)| *name == username) {
                bail!("no user '{username}' in tenant '{tenant}'");
            }
            let hash = auth::hash_password(&read_password(&username)?)?;
            store::users::set_password(&mut conn, &pool.write_scope(tenant_id, Authority::Cli), &username, &hash)
                .map_err(|err| refused(err, &tenant))?;
            line(format!("password of '{username}' changed"))?;
        }
        UserCommand::Permissions { tenant, username, permissions: names, all_permissions, force } => {
            let tenant_id = tenant_id(&mut conn, &tenant)?;
            let granted = permissions(&names, all_permissions)?;
            let scope = pool.write_scope(tenant_id, Authority::Cli);
            store::users::set_permissions(&mut conn, &scope, &username, granted, force)
                .map_err(|err| refused(err, &tenant))?;
            line(format!("permissions of '{username}': {}", granted.to_stored()))?;
        }
        UserCommand::Remove { tenant, username, force } => {
            let tenant_id = tenant_id(&mut conn, &tenant)?;
            store::users::remove(&mut conn, &pool.write_scope(tenant_id, Authority::Cli), &username, force)
                .map_err(|err| refused(err, &tenant))?;
            line(format!("user '{username}' removed"))?;
        }
        UserCommand::List { tenant } => {
            let tenant_id = tenant_id(&mut conn, &tenant)?;
            lines(
                store::users::list(&mut conn, tenant_id)?
                    .into_iter()
                    .map(|(name, granted)| format!("{name}\t{}", granted.to_stored())),
            )?;
        }
    }
    Ok(())
}

pub fn token(settings: &Settings, command: TokenCommand) -> anyhow::Result<()> {
    let pool = open(settings)?;
    let mut conn = pool.get()?;
    match command {
        TokenCommand::Create { tenant, permissions: names, expires_in, print_id, json } => {
            let tenant_id = tenant_id(&mut conn, &tenant)?;
            let granted = permissions(&names, false)?;
            let created_at = now();
            let expires_at = match expires_in {
                Some(seconds) => Some(
                    i64::try_from(seconds)
                        .ok()
                        .and_then(|s| created_at.checked_add(s))
                        .ok_or_else(|| anyhow!("--expires-in is too large"))?,
                ),
                None => None,
            };
            let token = auth::generate_token();
            let digest = auth::token_digest(&token);
            let scope = pool.write_scope(tenant_id, Authority::Cli);
            let id = store::tokens::create(&mut conn, &scope, &digest, granted, created_at, expires_at)
                .map_err(|err| refused(err, &tenant))?;
            if json {
                line(serde_json::json!({
                    "id": id,
                    "token": token.expose_secret(),
                    "tenant": tenant,
                    "permissions": granted.names(),
                    "createdAt": timestamp(created_at),
                    "expiresAt": expires_at.map(timestamp),
                }))?;
            } else if print_id {
                line(format!("{id}\t{}", token.expose_secret()))?;
            } else {
                line(token.expose_secret())?;
            }
        }
        TokenCommand::List { tenant } => {
            let tenant_id = tenant_id(&mut conn, &tenant)?;
            let now = now();
            let rows = store::tokens::list(&mut conn, tenant_id)?.into_iter().map(|token| {
                let expires = token.expires_at.map_or("never".to_owned(), timestamp);
                format!(
                    "{}\t{}\t{}\t{expires}\t{}",
                    token.id,
                    token.status(now).as_str(),
                    timestamp(token.created_at),
                    token.permissions.to_stored()
                )
            });
            lines(std::iter::once("ID\tSTATUS\tCREATED\tEXPIRES\tPERMISSIONS".to_owned()).chain(rows))?;
        }
        TokenCommand::Revoke { tenant, id } => {
            let tenant_id = tenant_id(&mut conn, &tenant)?;
            if !store::tokens::revoke(&mut conn, &pool.write_scope(tenant_id, Authority::Cli), id)? {
                bail!("no token {id} in tenant '{tenant}'; `spcm token list --tenant {tenant}` shows its token ids");
            }
            line(format!("token {id} revoked"))?;
        }
    }
    Ok(())
}

pub fn catalogue(settings: &Settings, command: CatalogueCommand) -> anyhow::Result<()> {
    let pool = open(settings)?;
    let mut conn = pool.get()?;
    match command {
        CatalogueCommand::Import { tenant, file } => {
            let tenant_id = tenant_id(&mut conn, &tenant)?;
            let bytes = if file.as_os_str() == "-" {
                let mut bytes = Vec::new();
                std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes).context("cannot read stdin")?;
                bytes
            } else {
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?
            };
            let json = crate::api::json::from_slice(&bytes)
                .map_err(|err| anyhow!("the catalogue is not valid JSON: {err}"))?;
            let document = CatalogueDocument::from_json(json)
                .map_err(|(path, why)| anyhow!("the catalogue is invalid: {path}: {why}"))?;
            let scope = pool.write_scope(tenant_id, Authority::Cli);
            match store::catalogue::import(&mut conn, &scope, document, settings.catalogue_limit) {
                Ok(counts) => line(serde_json::to_string(&counts)?)?,
                Err(ImportError::Invalid(problems)) => {
                    let listed: Vec<String> = problems.iter().map(|(path, why)| format!("{path}: {why}")).collect();
                    bail!("the catalogue is invalid ({} problems): {}", problems.len(), listed.join("; "));
                }
                Err(ImportError::Store(err)) => return Err(err.into()),
            }
        }
        CatalogueCommand::Export { tenant } => {
            let tenant_id = tenant_id(&mut conn, &tenant)?;
            let document = store::catalogue::export(&mut conn, tenant_id)?;
            line(serde_json::to_string_pretty(&document)?)?;
        }
    }
    Ok(())
}
