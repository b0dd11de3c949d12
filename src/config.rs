//! Settings from flags and `SPCM_*` variables: the database for every command, the rest
//! for `spcm serve` only.

use std::time::Duration;

use clap::Args;

use secrecy::SecretString;

/// The database every command works on: a global flag, accepted before or after the command.
#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite://PATH` (or a plain path), `postgres://…`, `mysql://…`.
    // The URL may carry a password: help shows the variable's name, never its value.
    #[arg(long, env = "SPCM_DATABASE_URL", hide_env_values = true, default_value = DEFAULT_DATABASE_URL, global = true)]
    pub database_url: String,
}

pub const DEFAULT_DATABASE_URL: &str = "sqlite://spcm.db";

/// Settings of the HTTP server (`spcm serve`), plus the database URL taken from the
/// global `--database-url`. A flag wins over its variable.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Set from [`DatabaseArgs`], never parsed here.
    #[arg(skip = DEFAULT_DATABASE_URL.to_owned())]
    pub database_url: String,

    /// Address to listen on.
    #[arg(long, env = "SPCM_BIND", default_value = "127.0.0.1:8080")]
    pub bind: String,

    /// Database connections in the pool.
    #[arg(long, env = "SPCM_POOL_SIZE", default_value_t = 8)]
    pub pool_size: u32,

    /// Milliseconds a request waits for a database connection before it gets a 503.
    #[arg(long, env = "SPCM_POOL_TIMEOUT_MS", default_value_t = 1000)]
    pub pool_timeout_ms: u64,

    /// HTTP worker threads (0: one per core).
    #[arg(long, env = "SPCM_WORKERS", default_value_t = 0)]
    pub workers: usize,

    /// Largest accepted request body, in bytes.
    #[arg(long, env = "SPCM_BODY_LIMIT", default_value_t = 1024 * 1024)]
    pub body_limit: usize,

    /// Requests handled at once; beyond, a fast 503 (health and metrics are exempt).
    #[arg(long, env = "SPCM_MAX_IN_FLIGHT", default_value_t = 512)]
    pub max_in_flight: usize,

    /// Seconds in-flight requests get to finish after SIGTERM or SIGINT before the process exits.
    #[arg(long, env = "SPCM_SHUTDOWN_GRACE_SECS", default_value_t = 30)]
    pub shutdown_grace_secs: u64,

    /// Expensive requests (catalogue imports, exports and views not answered from memory,
    /// listings without `limit`, 207 batches, pages of the change history and feed) one
    /// tenant may run at once; beyond, that tenant gets 429 with Retry-After and the
    /// others are not slowed.
    #[arg(long, env = "SPCM_TENANT_EXPENSIVE_LIMIT", default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..))]
    pub tenant_expensive_limit: u16,

    /// Largest accepted catalogue document (`PUT /v2/orgs/{org_id}/catalogue`), in bytes.
    #[arg(long, env = "SPCM_CATALOGUE_LIMIT", default_value_t = 64 * 1024 * 1024)]
    pub catalogue_limit: usize,

    /// Seconds a request body may take to arrive; beyond, 408 and the connection is closed.
    #[arg(long, env = "SPCM_BODY_TIMEOUT_SECS", default_value_t = 10)]
    pub body_timeout_secs: u64,

    /// Longest run of one database statement on PostgreSQL and MySQL, in milliseconds.
    #[arg(long, env = "SPCM_STATEMENT_TIMEOUT_MS", default_value_t = 30_000)]
    pub statement_timeout_ms: u64,

    /// Failed sign-ins allowed per tenant and username from one client address within
    /// the window; then that address gets 429 for that account (a login verified before
    /// is not refused by it).
    #[arg(long, env = "SPCM_SIGNIN_ACCOUNT_LIMIT", default_value_t = 10)]
    pub signin_account_limit: u32,

    /// Failed sign-ins allowed per client address within the window; then 429 for every
    /// sign-in from it.
    #[arg(long, env = "SPCM_SIGNIN_ADDRESS_LIMIT", default_value_t = 100)]
    pub signin_address_limit: u32,

    /// The window of the failed sign-in limits, in seconds.
    #[arg(long, env = "SPCM_SIGNIN_WINDOW_SECS", default_value_t = 300)]
    pub signin_window_secs: u64,

    /// Password checks per second of a suspect account: one that failed within the
    /// window. Its sign-ins wait for their turn and are never refused for it; a login
    /// verified before does not wait.
    #[arg(long, env = "SPCM_SIGNIN_SUSPECT_CHECKS_PER_SEC", default_value_t = 4)]
    pub signin_suspect_checks_per_sec: u32,

    /// Password checks (argon2) run at once (0: half the cores, at least one); more
    /// wait up to the pool timeout, then 503.
    #[arg(long, env = "SPCM_PASSWORD_CHECK_THREADS", default_value_t = 0)]
    pub password_check_threads: usize,

    /// Seconds a console session may stay unused before it ends (contract §8: 30 minutes).
    #[arg(long, env = "SPCM_CONSOLE_IDLE_SECS", default_value_t = 30 * 60)]
    pub console_idle_secs: u64,

    /// Seconds a console session lasts in all, however busy (contract §8: 12 hours).
    #[arg(long, env = "SPCM_CONSOLE_ABSOLUTE_SECS", default_value_t = 12 * 3600)]
    pub console_absolute_secs: u64,

    /// AMQP 0-9-1 URL of the RabbitMQ broker that change events are published to, such as
    /// `amqp://user:password@host:5672/%2f`; unset, no events are published.
    // The URL may carry a password: help shows the variable's name, never its value.
    #[arg(long, env = "SPCM_AMQP_URL", hide_env_values = true, global = true, value_parser = secret)]
    pub amqp_url: Option<SecretString>,

    /// The durable topic exchange that change events are published to (declared by the service).
    #[arg(long, env = "SPCM_AMQP_EXCHANGE", default_value = "spcm.events", global = true)]
    pub amqp_exchange: String,

    /// Days a change is kept in the history; one not yet published is kept until it is.
    #[arg(long, env = "SPCM_CHANGES_RETENTION_DAYS", default_value_t = 90, global = true)]
    pub changes_retention_days: u32,

    /// The address clients reach the service at, such as `https://api.example.com/spcm`
    /// behind a gateway that adds a prefix: links in answers are then absolute under it.
    /// Unset, links are paths.
    #[arg(long, env = "SPCM_PUBLIC_URL", value_parser = public_url)]
    pub public_url: Option<String>,

    /// Origins whose browser applications may call both APIs, comma-separated, such as
    /// `https://app.example.com,http://localhost:3000`. Unset: no cross-origin access.
    #[arg(long, env = "SPCM_CORS_ORIGINS", value_delimiter = ',', value_parser = cors_origin)]
    pub cors_origins: Vec<String>,
}

/// Why a CORS origin is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a CORS origin is `http://` or `https://` and a host, with an optional port and nothing else: `{0}` is not")]
pub struct BadOrigin(String);

/// An origin as browsers send it in `Origin`: scheme and host in lower case, the port if
/// any, no path, no trailing `/`.
fn cors_origin(value: &str) -> Result<String, BadOrigin> {
    let bad = || BadOrigin(value.chars().take(100).collect());
    let origin = value.trim().trim_end_matches('/').to_ascii_lowercase();
    let authority = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://")).ok_or_else(bad)?;
    let (host, port) = match authority.rsplit_once(':') {
        Some((host, _)) if !host.ends_with(']') && host.contains(':') => (authority, None),
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    };
    let host_ok = !host.is_empty()
        && host.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'[' | b']' | b':'));
    let port_ok =
        port.is_none_or(|port| !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit()));
    if host_ok && port_ok {
        Ok(origin)
    } else {
        Err(bad())
    }
}

/// Why `SPCM_PUBLIC_URL` is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PublicUrlError {
    #[error("the public URL must start with http:// or https://")]
    Scheme,
    #[error("the public URL must name a host")]
    NoHost,
    #[error("the public URL must have no query, fragment, spaces or control characters")]
    Extra,
}

/// An `http` or `https` URL without query or fragment; a trailing `/` is dropped.
fn public_url(value: &str) -> Result<String, PublicUrlError> {
    let rest =
        value.strip_prefix("https://").or_else(|| value.strip_prefix("http://")).ok_or(PublicUrlError::Scheme)?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(PublicUrlError::NoHost);
    }
    if value.contains(['?', '#']) || value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(PublicUrlError::Extra);
    }
    Ok(value.trim_end_matches('/').to_owned())
}

fn secret(value: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(value.to_owned()))
}

/// Only the server settings, for reading them from `SPCM_*` variables alone.
#[derive(Debug, clap::Parser)]
#[command(no_binary_name = true)]
struct FromEnv {
    #[command(flatten)]
    settings: Settings,
}

impl Settings {
    /// The server settings from `SPCM_*` variables and defaults, with `database_url`:
    /// what `spcm` without a command serves with, and what other commands use for their
    /// pool timeout and catalogue limit.
    pub fn from_env(database_url: String) -> Result<Settings, clap::Error> {
        let mut settings = <FromEnv as clap::Parser>::try_parse_from(std::iter::empty::<String>())?.settings;
        settings.database_url = database_url;
        Ok(settings)
    }

    pub fn pool_timeout(&self) -> Duration {
        Duration::from_millis(self.pool_timeout_ms.max(1))
    }

    pub fn body_timeout(&self) -> Duration {
        Duration::from_secs(self.body_timeout_secs.max(1))
    }

    pub fn statement_timeout(&self) -> Duration {
        Duration::from_millis(self.statement_timeout_ms.max(1000))
    }

    /// Argon2 verifications run at once: half the cores unless set, so that a flood of
    /// wrong passwords leaves the other half to everyone else.
    pub fn password_check_threads(&self) -> usize {
        match self.password_check_threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get() / 2).max(1),
            n => n,
        }
    }

    /// How long changes are kept (contract §7).
    pub fn changes_retention(&self) -> Duration {
        Duration::from_secs(u64::from(self.changes_retention_days.max(1)) * 86_400)
    }

    /// How long a console session may stay unused, and how long it lasts in all.
    pub fn console_session_limits(&self) -> (Duration, Duration) {
        (Duration::from_secs(self.console_idle_secs.max(1)), Duration::from_secs(self.console_absolute_secs.max(1)))
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database_url: DEFAULT_DATABASE_URL.into(),
            bind: "127.0.0.1:8080".into(),
            pool_size: 8,
            pool_timeout_ms: 1000,
            workers: 0,
            body_limit: 1024 * 1024,
            catalogue_limit: 64 * 1024 * 1024,
            tenant_expensive_limit: 2,
            max_in_flight: 512,
            shutdown_grace_secs: 30,
            body_timeout_secs: 10,
            statement_timeout_ms: 30_000,
            signin_account_limit: 10,
            signin_address_limit: 100,
            signin_window_secs: 300,
            signin_suspect_checks_per_sec: 4,
            password_check_threads: 0,
            console_idle_secs: 30 * 60,
            console_absolute_secs: 12 * 3600,
            amqp_url: None,
            amqp_exchange: "spcm.events".into(),
            changes_retention_days: 90,
            public_url: None,
            cors_origins: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::public_url;

    #[test]
    fn a_cors_origin_is_a_scheme_and_a_host_as_browsers_send_it() {
        use super::cors_origin;
        assert_eq!(cors_origin("https://App.Example.com/").unwrap(), "https://app.example.com");
        assert_eq!(cors_origin("http://127.0.0.1:3000").unwrap(), "http://127.0.0.1:3000");
        assert_eq!(cors_origin("http://[::1]:3000").unwrap(), "http://[::1]:3000");
        for bad in [
            "app.example.com",
            "https://",
            "https://a.example/path",
            "https://a.example?x",
            "ftp://a.example",
            "https://a.example:",
            "https://a.example:123456",
            "https://user@a.example",
            "*",
        ] {
            assert!(cors_origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_public_url_is_an_http_address_without_query() {
        assert_eq!(public_url("https://api.example.com/spcm/").unwrap(), "https://api.example.com/spcm");
        assert_eq!(public_url("http://127.0.0.1:8080").unwrap(), "http://127.0.0.1:8080");
        for bad in
            ["api.example.com", "ftp://x", "https://", "https:///path", "https://x/?a=1", "https://x/#f", "https://x y"]
        {
            assert!(public_url(bad).is_err(), "{bad}");
        }
    }
}
