//! Building the application exactly as `spcm serve` runs it: pool, migrations,
//! bootstrap, routes, listener. Tests bind port 0 and read `port()`.

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::{from_fn, Condition};
use actix_web::{web, App, HttpServer};
use secrecy::{ExposeSecret, SecretString};
use utoipa_swagger_ui::SwaggerUi;

use crate::api::admission::Admission;
use crate::api::catalogue::CatalogueCache;
use crate::api::spcm::ReadCache;
use crate::api::{self, ops, AppState};
use crate::auth::{self, LoginCache, PasswordChecks, PermissionSet, SignInGuard, SignInLimits};
use crate::config::Settings;
use crate::console::ConsoleConfig;
use crate::domain::TenantName;
use crate::events::{Broker, Relay, RelayMetrics};
use crate::metrics::Metrics;
use crate::store::{self, Authority, DbPool, StoreError, VersionChecker};

/// The tenant and admin created on a database without tenants.
pub struct Bootstrap {
    pub tenant: String,
    /// `SPCM_BOOTSTRAP_PASSWORD`; generated and printed once on stderr when absent.
    pub password: Option<SecretString>,
}

impl Bootstrap {
    /// Reads `SPCM_BOOTSTRAP_TENANT` and `SPCM_BOOTSTRAP_PASSWORD`. A password that is set
    /// but empty (or only white space), or shorter than the CLI's minimum, is refused rather
    /// than given to an admin.
    pub fn from_env() -> anyhow::Result<Bootstrap> {
        let tenant = match std::env::var("SPCM_BOOTSTRAP_TENANT") {
            Ok(tenant) => tenant,
            Err(std::env::VarError::NotPresent) => "default".into(),
            Err(std::env::VarError::NotUnicode(_)) => anyhow::bail!("SPCM_BOOTSTRAP_TENANT is not valid UTF-8"),
        };
        let password = match std::env::var("SPCM_BOOTSTRAP_PASSWORD") {
            Ok(password) if password.trim().is_empty() => anyhow::bail!(
                "SPCM_BOOTSTRAP_PASSWORD is set but empty; set a password or unset it to have one generated"
            ),
            Ok(password) => {
                let password = SecretString::from(password);
                auth::check_new_password(&password).map_err(|why| anyhow::anyhow!("SPCM_BOOTSTRAP_PASSWORD: {why}"))?;
                Some(password)
            }
            Err(std::env::VarError::NotPresent) => None,
            Err(std::env::VarError::NotUnicode(_)) => anyhow::bail!("SPCM_BOOTSTRAP_PASSWORD is not valid UTF-8"),
        };
        Ok(Bootstrap { tenant, password })
    }
}

pub struct Application {
    port: u16,
    server: Server,
    pool: DbPool,
    /// Publishes change events and prunes old changes; stopped after the server.
    relay: Relay,
}

impl Application {
    pub async fn build(settings: Settings, bootstrap: Bootstrap) -> anyhow::Result<Application> {
        let pool = DbPool::with_statement_timeout(
            &settings.database_url,
            settings.pool_size,
            settings.pool_timeout(),
            settings.statement_timeout(),
        )?
        .with_request_ids(crate::telemetry::current_request_id);
        let setup_pool = pool.clone();
        actix_web::rt::task::spawn_blocking(move || prepare_database(&setup_pool, bootstrap)).await??;

        let listener = TcpListener::bind(&settings.bind)
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.bind))?;
        let port = listener.local_addr()?.port();
        let logins = Arc::new(LoginCache::default());
        let reads = Arc::new(ReadCache::default());
        let catalogues = Arc::new(CatalogueCache::default());
        let view_answers = Arc::new(api::catalogue::ViewAnswers::default());
        let sign_ins = Arc::new(SignInGuard::new(SignInLimits::of(&settings)));
        let background =
            crate::background::Background::start(std::thread::available_parallelism().map_or(1, |n| n.get()))?;
        let fair_share = api::fair_share::FairShare::new(settings.tenant_expensive_limit.into(), background);
        let admission_bound = Arc::new(Admission::new(settings.max_in_flight));
        let password_threads = settings.password_check_threads();
        let passwords = Arc::new(PasswordChecks::new(password_threads, settings.pool_timeout())?);
        let relay_metrics = Arc::new(RelayMetrics::default());
        let broker = Broker::of(&settings);
        if let Some(broker) = &broker {
            broker.uri()?;
        }
        let relay = Relay::start(&pool, broker, settings.changes_retention(), relay_metrics.clone())?;
        let in_flight = admission_bound.clone();
        let metrics = Metrics::new(
            pool.clone(),
            move || in_flight.in_flight(),
            |registry| {
                relay_metrics.register(registry);
                logins.register_metrics(registry);
                reads.register_metrics(registry);
                sign_ins.register_metrics(registry);
                passwords.register_metrics(registry);
                catalogues.register_metrics(registry);
                view_answers.register_metrics(registry);
                fair_share.register_metrics(registry);
            },
        );
        let state = web::Data::new(AppState {
            metrics: Arc::new(metrics),
            admission: admission_bound,
            pool: pool.clone(),
            logins,
            passwords,
            sign_ins,
            reads,
            versions: Arc::new(VersionChecker::start(&pool)?),
            catalogues,
            view_answers,
            body_limit: settings.body_limit,
            body_timeout: settings.body_timeout(),
            catalogue_limit: settings.catalogue_limit,
            fair_share,
            link_base: settings.public_url.clone().unwrap_or_default().into(),
        });
        let (idle, absolute) = settings.console_session_limits();
        let secure_cookie = settings.public_url.as_deref().is_some_and(|url| url.starts_with("https://"));
        let console = ConsoleConfig { idle, absolute, secure_cookie };
        let openapi = api::openapi::document();
        let cors_origins = settings.cors_origins.clone();
        let mut server = HttpServer::new(move || {
            App::new()
                .app_data(state.clone())
                .wrap(api::cors::layer(&cors_origins))
                .wrap(Condition::new(!cors_origins.is_empty(), from_fn(api::cors::finish)))
                .wrap(from_fn(api::envelope::envelope))
                .configure(api::configure)
                .configure(|cfg| crate::console::configure(cfg, console.clone()))
                .service(web::redirect("/swagger-ui", "/swagger-ui/").permanent())
                .service(SwaggerUi::new("/swagger-ui/{_:.*}").url("/api-docs/openapi.json", openapi.clone()))
                .default_service(web::to(ops::not_found))
        })
        .shutdown_timeout(settings.shutdown_grace_secs)
        // actix-web stops at once on SIGINT; `spcm serve` handles the signals itself so that
        // SIGINT is as graceful as SIGTERM (see `cli::serve`).
        .disable_signals()
        // Blocking work is database calls, bounded by the pool; password checks have
        // threads of their own.
        .worker_max_blocking_threads((settings.pool_size as usize).max(4))
        .listen(listener)?;
        if settings.workers > 0 {
            server = server.workers(settings.workers);
        }
        tracing::info!(port, backend = state_backend_name(&settings), "listening");
        Ok(Application { port, server: server.run(), pool, relay })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's own pool (its counters are what the service did).
    pub fn pool(&self) -> DbPool {
        self.pool.clone()
    }

    /// Stops the server from elsewhere (tests, signal handling).
    pub fn server_handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        // Gives the publisher's lease up, so that another instance takes over at once.
        let relay = self.relay;
        let _ = actix_web::rt::task::spawn_blocking(move || relay.stop()).await;
        served
    }
}

fn state_backend_name(settings: &Settings) -> &'static str {
    store::Backend::from_url(&settings.database_url).map(|(b, _)| b.name()).unwrap_or("?")
}

/// Migrations, then the bootstrap tenant and admin if the database has no tenant yet.
pub fn prepare_database(pool: &DbPool, bootstrap: Bootstrap) -> anyhow::Result<()> {
    pool.migrate()?;
    let tenant = TenantName::parse(&bootstrap.tenant).map_err(|e| anyhow::anyhow!("SPCM_BOOTSTRAP_TENANT: {e}"))?;
    let mut conn = pool.get()?;
    if store::tenants::count(&mut conn)? > 0 {
        log_bootstrap_skipped(&store::tenants::list(&mut conn)?, &tenant, bootstrap.password.is_some());
        return Ok(());
    }
    let generated = bootstrap.password.is_none();
    let password = bootstrap.password.unwrap_or_else(auth::generate_password);
    let hash = auth::hash_password(&password)?;
    let created = diesel::Connection::transaction(&mut *conn, |conn| {
        let tenant_id = store::tenants::create(conn, &tenant)?;
        let scope = pool.write_scope(tenant_id, Authority::Cli);
        store::users::add(conn, &scope, "admin", &hash, PermissionSet::all())
    })
    .and_then(|()| pool.commit_durably());
    match created {
        Ok(()) => {
            tracing::info!(tenant = tenant.as_str(), "bootstrap tenant and admin user created");
            if generated {
                eprintln!(
                    "spcm: created tenant '{tenant}' and user 'admin' with password: {}",
                    password.expose_secret()
                );
            }
            Ok(())
        }
        // Another instance bootstrapped the same empty database first.
        Err(StoreError::UniqueViolation(_)) => Ok(()),
        Err(err) => Err(err.into()),
    }
}

/// The bootstrap runs only on a database without tenants; says so, and what is ignored.
fn log_bootstrap_skipped(tenants: &[String], bootstrap_tenant: &TenantName, password_set: bool) {
    const SHOWN: usize = 5;
    let mut names = tenants.iter().take(SHOWN).map(|name| format!("'{name}'")).collect::<Vec<_>>().join(", ");
    if tenants.len() > SHOWN {
        names.push_str(&format!(" and {} more", tenants.len() - SHOWN));
    }
    if password_set {
        let line = format!(
            "bootstrap skipped: the database already has tenants ({names}); SPCM_BOOTSTRAP_PASSWORD is ignored \
             and no tenant '{bootstrap_tenant}' or user 'admin' is created (use `spcm user add` or `spcm user passwd`)"
        );
        tracing::warn!(tenants = tenants.len(), "{line}");
        eprintln!("spcm: {line}");
    } else {
        tracing::info!(tenants = tenants.len(), "bootstrap skipped: the database already has tenants ({names})");
    }
}
