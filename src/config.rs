//! Settings shared by every command, from flags and `SPCM_*` variables (contract §6).

use std::time::Duration;

use clap::Args;

use secrecy::SecretString;

use crate::auth::SignInLimits;

/// Settings of the database and the HTTP server. A flag wins over its variable.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Database URL: `sqlite://PATH` (or a plain path), `postgres://…`, `mysql://…`.
    // The URL may carry a password: help shows the variable's name, never its value.
    #[arg(long, env = "SPCM_DATABASE_URL", hide_env_values = true, default_value = "sqlite://spcm.db", global = true)]
    pub database_url: String,

    /// Address to listen on.
    #[arg(long, env = "SPCM_BIND", default_value = "127.0.0.1:8080", global = true)]
    pub bind: String,

    /// Database connections in the pool.
    #[arg(long, env = "SPCM_POOL_SIZE", default_value_t = 8, global = true)]
    pub pool_size: u32,

    /// Milliseconds a request waits for a database connection before it gets a 503.
    #[arg(long, env = "SPCM_POOL_TIMEOUT_MS", default_value_t = 1000, global = true)]
    pub pool_timeout_ms: u64,

    /// HTTP worker threads (0: one per core).
    #[arg(long, env = "SPCM_WORKERS", default_value_t = 0, global = true)]
    pub workers: usize,

    /// Largest accepted request body, in bytes.
    #[arg(long, env = "SPCM_BODY_LIMIT", default_value_t = 1024 * 1024, global = true)]
    pub body_limit: usize,

    /// Requests handled at once; beyond, a fast 503 (health and metrics are exempt).
    #[arg(long, env = "SPCM_MAX_IN_FLIGHT", default_value_t = 512, global = true)]
    pub max_in_flight: usize,

    /// Seconds in-flight requests get to finish after SIGTERM before the process exits.
    #[arg(long, env = "SPCM_SHUTDOWN_GRACE_SECS", default_value_t = 30, global = true)]
    pub shutdown_grace_secs: u64,

    /// Largest accepted catalogue document (`PUT /v2/orgs/{org_id}/catalogue`), in bytes.
    #[arg(long, env = "SPCM_CATALOGUE_LIMIT", default_value_t = 64 * 1024 * 1024, global = true)]
    pub catalogue_limit: usize,

    /// Seconds a request body may take to arrive; beyond, 408 and the connection is closed.
    #[arg(long, env = "SPCM_BODY_TIMEOUT_SECS", default_value_t = 10, global = true)]
    pub body_timeout_secs: u64,

    /// Longest run of one database statement on PostgreSQL and MySQL, in milliseconds.
    #[arg(long, env = "SPCM_STATEMENT_TIMEOUT_MS", default_value_t = 30_000, global = true)]
    pub statement_timeout_ms: u64,

    /// Failed sign-ins allowed per tenant and username within the window; then 429.
    #[arg(long, env = "SPCM_SIGNIN_ACCOUNT_LIMIT", default_value_t = 10, global = true)]
    pub signin_account_limit: u32,

    /// Failed sign-ins allowed per client address within the window; then 429.
    #[arg(long, env = "SPCM_SIGNIN_ADDRESS_LIMIT", default_value_t = 100, global = true)]
    pub signin_address_limit: u32,

    /// The window of the failed sign-in limits, in seconds.
    #[arg(long, env = "SPCM_SIGNIN_WINDOW_SECS", default_value_t = 300, global = true)]
    pub signin_window_secs: u64,

    /// Password checks (argon2) run at once (0: half the cores, at least one); more
    /// wait up to the pool timeout, then 503.
    #[arg(long, env = "SPCM_PASSWORD_CHECK_THREADS", default_value_t = 0, global = true)]
    pub password_check_threads: usize,

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
}

fn secret(value: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(value.to_owned()))
}

impl Settings {
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

    /// Where change events go, when anywhere.
    pub fn broker(&self) -> Option<crate::events::Broker> {
        self.amqp_url.clone().map(|url| crate::events::Broker { url, exchange: self.amqp_exchange.clone() })
    }

    pub fn sign_in_limits(&self) -> SignInLimits {
        SignInLimits {
            per_account: self.signin_account_limit.max(1),
            per_address: self.signin_address_limit.max(1),
            window: Duration::from_secs(self.signin_window_secs.max(1)),
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            database_url: "sqlite://spcm.db".into(),
            bind: "127.0.0.1:8080".into(),
            pool_size: 8,
            pool_timeout_ms: 1000,
            workers: 0,
            body_limit: 1024 * 1024,
            catalogue_limit: 64 * 1024 * 1024,
            max_in_flight: 512,
            shutdown_grace_secs: 30,
            body_timeout_secs: 10,
            statement_timeout_ms: 30_000,
            signin_account_limit: 10,
            signin_address_limit: 100,
            signin_window_secs: 300,
            password_check_threads: 0,
            amqp_url: None,
            amqp_exchange: "spcm.events".into(),
            changes_retention_days: 90,
        }
    }
}
