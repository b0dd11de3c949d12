//! The `spcm` command line: parse, then call into the library.

mod admin;
mod backup;
mod changes;
mod output;

use clap::{Parser, Subcommand};

use crate::config::{DatabaseArgs, Settings};

pub use output::is_broken_pipe;

const PERMISSIONS_HELP: &str = "SPCM_PROVISION_PROFILE_READ_PERMISSION, SPCM_PROVISION_PROFILE_CREATE_PERMISSION, \
     SPCM_PROVISION_PROFILE_UPDATE_PERMISSION, SPCM_PROVISION_PROFILE_DELETE_PERMISSION, \
     CATALOGUE_READ_PERMISSION, CATALOGUE_WRITE_PERMISSION, SPCM_AUDIT_READ_PERMISSION, SPCM_TENANT_ADMIN_PERMISSION";

#[derive(Debug, Parser)]
#[command(
    name = "spcm",
    version,
    about = "Provisioning-profile admin service",
    after_help = "Without a command, spcm serves (as `spcm serve`, with settings from SPCM_* variables)."
)]
pub struct Cli {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (the default): migrations, the bootstrap tenant on a database
    /// without tenants, then serve until SIGTERM or SIGINT.
    Serve(Settings),
    /// Apply pending database migrations (creating a SQLite file if needed) and exit.
    Migrate,
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Manage users of the SPCM API (passwords are read from stdin, or prompted for).
    #[command(subcommand)]
    User(UserCommand),
    /// Manage bearer tokens of the catalogue API.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Print the OpenAPI document.
    Openapi,
    /// Import or export a tenant's catalogue document.
    #[command(subcommand)]
    Catalogue(CatalogueCommand),
    /// Print a tenant's changes, oldest first, one JSON change a line.
    Changes {
        /// The tenant whose changes to print.
        #[arg(long)]
        tenant: String,
        /// Only changes with a greater id.
        #[arg(long, default_value_t = 0)]
        after: i64,
        /// Print at most this many changes.
        #[arg(long)]
        limit: Option<u64>,
    },
    /// Write a consistent copy of the SQLite database to FILE while the service runs.
    ///
    /// The copy is readable by its owner only (mode 0600). PostgreSQL and MySQL/MariaDB
    /// are backed up with their own tools (pg_dump, mysqldump); for them this command
    /// says how and exits non-zero.
    Backup {
        /// The copy to write; it must not exist yet, not even as a symbolic link.
        file: std::path::PathBuf,
    },
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Subcommand)]
pub enum CatalogueCommand {
    /// Replace the tenant's catalogue with the document in FILE (`-` for stdin).
    Import {
        /// The tenant whose catalogue is replaced.
        #[arg(long)]
        tenant: String,
        /// The catalogue document (JSON), or `-` for stdin.
        file: std::path::PathBuf,
    },
    /// Print the tenant's catalogue document on stdout.
    Export {
        /// The tenant whose catalogue is printed.
        #[arg(long)]
        tenant: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant.
    Add {
        /// The new tenant's name (the `tenant` header and the catalogue's org id).
        name: String,
    },
    /// List tenants, one name per line.
    List,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user. The password is prompted for on a terminal, else read from the
    /// first line of stdin; it needs at least 12 characters.
    Add {
        /// The tenant the user belongs to.
        #[arg(long)]
        tenant: String,
        /// The user's name, as sent in HTTP Basic credentials.
        #[arg(long)]
        username: String,
        /// A permission to grant (repeatable).
        #[arg(long = "permission", value_name = "PERMISSION", required_unless_present = "all_permissions",
            long_help = format!("A permission to grant (repeatable): {PERMISSIONS_HELP}"))]
        permissions: Vec<String>,
        /// Grant every permission.
        #[arg(long, conflicts_with = "permissions")]
        all_permissions: bool,
    },
    /// Set a user's password: prompted for on a terminal, else the first line of stdin.
    Passwd {
        /// The tenant the user belongs to.
        #[arg(long)]
        tenant: String,
        /// The user whose password changes.
        #[arg(long)]
        username: String,
    },
    /// Replace a user's permissions.
    Permissions {
        /// The tenant the user belongs to.
        #[arg(long)]
        tenant: String,
        /// The user whose permissions change.
        #[arg(long)]
        username: String,
        /// A permission the user keeps or gets (repeatable); the others are taken away.
        #[arg(long = "permission", value_name = "PERMISSION", required_unless_present = "all_permissions",
            long_help = format!("A permission the user keeps or gets (repeatable); the others are taken away: {PERMISSIONS_HELP}"))]
        permissions: Vec<String>,
        /// Grant every permission.
        #[arg(long, conflicts_with = "permissions")]
        all_permissions: bool,
        /// Take SPCM_TENANT_ADMIN_PERMISSION even from the tenant's last user holding it,
        /// leaving nobody who can manage the tenant's users and tokens from the console.
        #[arg(long)]
        force: bool,
    },
    /// Remove a user.
    Remove {
        /// The tenant the user belongs to.
        #[arg(long)]
        tenant: String,
        /// The user to remove.
        #[arg(long)]
        username: String,
        /// Remove even the tenant's last user holding SPCM_TENANT_ADMIN_PERMISSION,
        /// leaving nobody who can manage the tenant's users and tokens from the console.
        #[arg(long)]
        force: bool,
    },
    /// List a tenant's users and their permissions.
    List {
        /// The tenant whose users are listed.
        #[arg(long)]
        tenant: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it, alone, on stdout (or with its id).
    Create {
        /// The tenant (the catalogue's org id) the token is for.
        #[arg(long)]
        tenant: String,
        /// A permission to grant (repeatable).
        #[arg(
            long = "permission",
            value_name = "PERMISSION",
            required = true,
            long_help = "A permission to grant (repeatable): CATALOGUE_READ_PERMISSION, CATALOGUE_WRITE_PERMISSION"
        )]
        permissions: Vec<String>,
        /// Seconds until the token expires; without it, it never does.
        #[arg(long)]
        expires_in: Option<u64>,
        /// Print the token's id, a tab, then the token (the id is what `token revoke` takes).
        #[arg(long, conflicts_with = "json")]
        print_id: bool,
        /// Print one JSON object: id, token, tenant, permissions, createdAt, expiresAt.
        #[arg(long)]
        json: bool,
    },
    /// List a tenant's tokens (never the secrets): a header row, then one token a line.
    List {
        /// The tenant whose tokens are listed.
        #[arg(long)]
        tenant: String,
    },
    /// Revoke a token by its id (as `token list` and `token create --print-id` show it).
    Revoke {
        /// The tenant the token belongs to.
        #[arg(long)]
        tenant: String,
        /// The token's id.
        id: i64,
    },
}

/// Runs the parsed command; `Err` carries the one-line reason for stderr. Output to a
/// closed pipe (`spcm … | head`) ends the command quietly and successfully.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match run_command(cli) {
        Err(err) if is_broken_pipe(&err) => Ok(()),
        other => other,
    }
}

fn run_command(cli: Cli) -> anyhow::Result<()> {
    let database_url = cli.database.database_url;
    let command = match cli.command {
        Some(command) => command,
        None => Command::Serve(Settings::from_env(database_url.clone())?),
    };
    let settings = || Settings::from_env(database_url.clone());
    match command {
        Command::Serve(mut settings) => {
            settings.database_url = database_url;
            serve(settings)
        }
        Command::Migrate => admin::migrate(&settings()?),
        Command::Tenant(command) => admin::tenant(&settings()?, command),
        Command::User(command) => admin::user(&settings()?, command),
        Command::Token(command) => admin::token(&settings()?, command),
        Command::Catalogue(command) => admin::catalogue(&settings()?, command),
        Command::Backup { file } => backup::run(&settings()?, &file),
        Command::Changes { tenant, after, limit } => changes::run(&settings()?, &tenant, after, limit),
        Command::Openapi => output::line(crate::api::openapi::document().to_pretty_json()?),
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut <Cli as clap::CommandFactory>::command(), "spcm", &mut script);
            output::bytes(&script)
        }
    }
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    // Checked before logging starts, so that a refused setting is the only line on stderr.
    let bootstrap = crate::startup::Bootstrap::from_env()?;
    let _log_guard = crate::telemetry::init("info")?;
    actix_web::rt::System::new().block_on(async move {
        let app = crate::startup::Application::build(settings, bootstrap).await?;
        stop_on_signals(&app.server_handle())?;
        app.run_until_stopped().await?;
        Ok(())
    })
}

/// SIGTERM and SIGINT (Ctrl-C) stop gracefully: the listener closes, requests in flight
/// get the shutdown grace period. SIGQUIT stops at once.
fn stop_on_signals(server: &actix_web::dev::ServerHandle) -> anyhow::Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let signals = [
        (SignalKind::terminate(), "SIGTERM", true),
        (SignalKind::interrupt(), "SIGINT", true),
        (SignalKind::quit(), "SIGQUIT", false),
    ];
    for (kind, name, graceful) in signals {
        let mut received = signal(kind).map_err(|e| anyhow::anyhow!("cannot listen for {name}: {e}"))?;
        let server = server.clone();
        actix_web::rt::spawn(async move {
            if received.recv().await.is_some() {
                match graceful {
                    true => tracing::info!("{name} received; finishing the requests in flight"),
                    false => tracing::info!("{name} received; stopping at once"),
                }
                server.stop(graceful).await;
            }
        });
    }
    Ok(())
}
