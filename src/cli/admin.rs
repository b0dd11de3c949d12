//! The administrative commands: synchronous, one connection, output on stdout.

use std::io::BufRead;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context};
use secrecy::{ExposeSecret, SecretString};

use super::{CatalogueCommand, TenantCommand, TokenCommand, UserCommand};
use crate::auth::{self, Permission, PermissionSet};
use crate::config::Settings;
use crate::domain::catalogue::CatalogueDocument;
use crate::domain::{TenantName, Username};
use crate::store::catalogue::ImportError;
use crate::store::{self, Authority, DbConnection, DbPool, StoreError};

fn open(settings: &Settings) -> anyhow::Result<DbPool> {
    let pool = DbPool::new(&settings.database_url, 1, settings.pool_timeout()).map_err(anyhow::Error::msg)?;
    pool.migrate().map_err(anyhow::Error::msg)?;
    Ok(pool)
}

fn tenant_id(conn: &mut DbConnection, name: &str) -> anyhow::Result<i64> {
    let name = TenantName::parse(name).map_err(anyhow::Error::msg)?;
    store::tenants::find_id(conn, &name)?.ok_or_else(|| anyhow!("no tenant '{name}'"))
}

fn permissions(names: &[String], all: bool) -> anyhow::Result<PermissionSet> {
    if all {
        return Ok(PermissionSet::all());
    }
    names
        .iter()
        .map(|name| Permission::parse(name).map_err(anyhow::Error::msg))
        .collect::<anyhow::Result<Vec<_>>>()
        .map(|list| list.into_iter().collect())
}

/// The first line of stdin, without its line ending; never from argv.
fn read_password() -> anyhow::Result<SecretString> {
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("cannot read the password from stdin")?;
    let password = line.trim_end_matches(['\n', '\r']);
    if password.is_empty() {
        bail!("no password on stdin");
    }
    Ok(SecretString::from(password.to_owned()))
}

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

pub fn migrate(settings: &Settings) -> anyhow::Result<()> {
    open(settings)?;
    println!("migrations applied");
    Ok(())
}

pub fn tenant(settings: &Settings, command: TenantCommand) -> anyhow::Result<()> {
    let pool = open(settings)?;
    let mut conn = pool.get()?;
    match command {
        TenantCommand::Add { name } => {
            let name = TenantName::parse(&name).map_err(anyhow::Error::msg)?;
            match store::tenants::create(&mut conn, &name) {
                Ok(_) => println!("tenant '{name}' created"),
                Err(StoreError::UniqueViolation(_)) => bail!("tenant '{name}' already exists"),
                Err(err) => return Err(err.into()),
            }
        }
        TenantCommand::List => {
            for name in store::tenants::list(&mut conn)? {
                println!("{name}");
            }
        }
    }
    Ok(())
}

pub fn user(settings: &Settings, command: UserCommand) -> anyhow::Result<()> {
    let pool = open(settings)?;
    let mut conn = pool.get()?;
    match command {
        UserCommand::Add { tenant, username, permissions: names, all_permissions } => {
            let tenant_id = tenant_id(&mut conn, &tenant)?;
            let username = Username::parse(&username).map_err(anyhow::Error::msg)?;
            let granted = permissions(&names, all_permissions)?;
            let hash = auth::hash_password(&read_password()?).map_err(anyhow::Error::msg)?;
            match store::users::add(
                &mut conn,
                &pool.write_scope(tenant_id, Authority::Cli),
                username.as_str(),
                &hash,
                &granted.to_stored(),
            ) {
                Ok(()) => println!("user '{username}' added to tenant '{tenant}'"),
                Err(StoreError::UniqueViolation(_)) => bail!("user '{username}' already exists in tenant '{tenant}'"),
                Err(err) => return Err(err.into()),
            }
        }
        UserCommand::Passwd { tenant, username } => {
            let tenant_id = tenant_id(&mut conn, &tenant)?;
            let hash = auth::hash_password(&read_password()?).map_err(anyhow::Error::msg)?;
            if !store::users::set_password(&mut conn, &pool.write_scope(tenant_id, Authority::Cli), &username, &hash)? {
                bail!("no user '{username}' in tenant '{tenant}'");
            }
            println!("password of '{username}' changed");
        }
        UserCommand::Remove { tenant, username } => {
            let tenant_id = tenant_id(&mut conn, &tenant)?;
            if !store::users::remove(&mut conn, &pool.write_scope(tenant_id, Authority::Cli), &username)? {
                bail!("no user '{username}' in tenant '{tenant}'");
            }
            println!("user '{username}' removed");
        }
        UserCommand::List { tenant } => {
            let tenant_id = tenant_id(&mut conn, &tenant)?;
            for (username, stored) in store::users::list(&mut conn, tenant_id)? {
                println!("{username}\t{stored}");
            }
        }
    }
    Ok(())
}

pub fn token(settings: &Settings, command: TokenCommand) -> anyhow::Result<()> {
    let pool = open(settings)?;
    let mut conn = pool.get()?;
    match command {
        TokenCommand::Create { tenant, permissions: names, expires_in } => {
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
            store::tokens::create(
                &mut conn,
                &pool.write_scope(tenant_id, Authority::Cli),
                &digest,
                &granted.to_stored(),
                created_at,
                expires_at,
            )?;
            println!("{}", token.expose_secret());
        }
        TokenCommand::List { tenant } => {
            let tenant_id = tenant_id(&mut conn, &tenant)?;
            let now = now();
            for token in store::tokens::list(&mut conn, tenant_id)? {
                let status = match token.expires_at {
                    _ if token.revoked => "revoked",
                    Some(at) if at <= now => "expired",
                    _ => "active",
                };
                let expires = token.expires_at.map_or("never".to_owned(), |at| at.to_string());
                println!(
                    "{}\t{status}\tcreated={}\texpires={expires}\t{}",
                    token.id, token.created_at, token.permissions
                );
            }
        }
        TokenCommand::Revoke { tenant, id } => {
            let tenant_id = tenant_id(&mut conn, &tenant)?;
            if !store::tokens::revoke(&mut conn, &pool.write_scope(tenant_id, Authority::Cli), id)? {
                bail!("no token {id} in tenant '{tenant}'");
            }
            println!("token {id} revoked");
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
            match store::catalogue::import_within(&mut conn, &scope, document, settings.catalogue_limit) {
                Ok(counts) => println!("{}", serde_json::to_string(&counts)?),
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
            println!("{}", serde_json::to_string_pretty(&document)?);
        }
    }
    Ok(())
}
