//! The `spcm` command line (contract §6): parse, then call into the library.

mod admin;
mod changes;

use clap::{Parser, Subcommand};

use crate::config::Settings;

#[derive(Debug, Parser)]
#[command(name = "spcm", version, about = "Provisioning-profile admin service")]
pub struct Cli {
    #[command(flatten)]
    pub settings: Settings,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP service (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Manage users of the SPCM face (passwords are read from stdin).
    #[command(subcommand)]
    User(UserCommand),
    /// Manage bearer tokens of the catalogue face.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Print the OpenAPI document.
    Openapi,
    /// Import or export a tenant's catalogue document.
    #[command(subcommand)]
    Catalogue(CatalogueCommand),
    /// Print a tenant's changes, oldest first, one JSON change a line.
    Changes {
        #[arg(long)]
        tenant: String,
        /// Only changes with a greater id.
        #[arg(long, default_value_t = 0)]
        after: i64,
        /// Print at most this many changes.
        #[arg(long)]
        limit: Option<u64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum CatalogueCommand {
    /// Replace the tenant's catalogue with the document in FILE (`-` for stdin).
    Import {
        #[arg(long)]
        tenant: String,
        file: std::path::PathBuf,
    },
    /// Print the tenant's catalogue document on stdout.
    Export {
        #[arg(long)]
        tenant: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TenantCommand {
    /// Create a tenant.
    Add { name: String },
    /// List tenants, one name per line.
    List,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is the first line of stdin.
    Add {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        username: String,
        /// A permission to grant (repeatable).
        #[arg(long = "permission", required_unless_present = "all_permissions")]
        permissions: Vec<String>,
        /// Grant every permission.
        #[arg(long, conflicts_with = "permissions")]
        all_permissions: bool,
    },
    /// Set a user's password from the first line of stdin.
    Passwd {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        username: String,
    },
    /// Remove a user.
    Remove {
        #[arg(long)]
        tenant: String,
        #[arg(long)]
        username: String,
    },
    /// List a tenant's users and their permissions.
    List {
        #[arg(long)]
        tenant: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it, alone, on stdout.
    Create {
        #[arg(long)]
        tenant: String,
        /// A permission to grant (repeatable).
        #[arg(long = "permission", required = true)]
        permissions: Vec<String>,
        /// Seconds until the token expires; without it, it never does.
        #[arg(long)]
        expires_in: Option<u64>,
    },
    /// List a tenant's tokens (never the secrets).
    List {
        #[arg(long)]
        tenant: String,
    },
    /// Revoke a token by id.
    Revoke {
        #[arg(long)]
        tenant: String,
        id: i64,
    },
}

/// Runs the parsed command; `Err` carries the one-line reason for stderr.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    let settings = cli.settings;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings),
        Command::Migrate => admin::migrate(&settings),
        Command::Tenant(command) => admin::tenant(&settings, command),
        Command::User(command) => admin::user(&settings, command),
        Command::Token(command) => admin::token(&settings, command),
        Command::Catalogue(command) => admin::catalogue(&settings, command),
        Command::Changes { tenant, after, limit } => changes::run(&settings, &tenant, after, limit),
        Command::Openapi => {
            println!("{}", crate::api::openapi::document().to_pretty_json()?);
            Ok(())
        }
    }
}

fn serve(settings: Settings) -> anyhow::Result<()> {
    // Checked before logging starts, so that a refused setting is the only line on stderr.
    let bootstrap = crate::startup::Bootstrap::from_env()?;
    let _log_guard = crate::telemetry::init("info")?;
    actix_web::rt::System::new().block_on(async move {
        let app = crate::startup::Application::build(settings, bootstrap).await?;
        app.run_until_stopped().await?;
        Ok(())
    })
}
