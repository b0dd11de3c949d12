//! The connection enum over every compiled-in backend and the choice of backend from
//! the database URL. Each backend's setup, the pool, the writers' queue and the
//! migrations have a file of their own.

mod manager;
mod migrations;
#[cfg(feature = "mysql")]
mod mysql;
mod pool;
#[cfg(feature = "postgres")]
mod postgres;
mod sqlite;
mod url_secrets;
mod writer;

pub use migrations::MigrationError;
pub use pool::{run_db, DbPool};
pub use writer::{CommitSignal, WriteScope};

/// One database connection; the variant is chosen from the URL's scheme.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Sqlite(diesel::SqliteConnection),
    #[cfg(feature = "postgres")]
    Postgres(diesel::PgConnection),
    #[cfg(feature = "mysql")]
    Mysql(diesel::MysqlConnection),
}

/// Runs `$body` with `$c` bound to the connection of `$conn`'s own backend.
///
/// Diesel's connection over several backends writes the SQL text of every statement
/// anew on each run and converts every row; on a backend's own connection a statement of
/// fixed shape is prepared once and found again by its type. The statements that run on
/// every request go this way.
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::store::DbConnection::Sqlite($c) => $body,
            #[cfg(feature = "postgres")]
            $crate::store::DbConnection::Postgres($c) => $body,
            #[cfg(feature = "mysql")]
            $crate::store::DbConnection::Mysql($c) => $body,
        }
    };
}
pub(crate) use on_backend;

/// Why a database URL is refused. No message quotes the URL: it may hold a password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DatabaseUrlError {
    #[error("the database URL is malformed: write it {scheme}://[user[:password]@]host[:port]/database")]
    NoAuthority { scheme: String },
    #[error("unsupported database URL scheme '{0}://'")]
    UnsupportedScheme(String),
    #[error("the database URL names no supported scheme (sqlite://, postgres://, mysql://)")]
    NoScheme,
    #[error("the database URL names no database")]
    NoDatabase,
    /// The user name or password could be read two ways (`url_secrets`).
    #[error(
        "the database URL is malformed: write '@', '/', '?', '#' and spaces in its user name and password \
         percent-encoded (%40, %2F, %3F, %23, %20)"
    )]
    AmbiguousCredentials,
    #[error(
        "the database URL is malformed: its user name or password has a '%' that is not followed by two \
         hexadecimal digits (write '%' as %25), or encodes a NUL (%00)"
    )]
    BadEscape,
    #[error("this build has no {} support; rebuild with `--features {}`", .0.name(), .0.feature())]
    NotCompiled(Backend),
}

/// The database products spcm speaks to (contract §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    Mysql,
}

impl Backend {
    /// Picks the backend from the URL's scheme and returns it with the string its
    /// driver expects. A plain path is a SQLite file. A server URL whose password is
    /// not plainly delimited is refused (`url_secrets`); no error quotes the URL.
    pub fn from_url(url: &str) -> Result<(Backend, String), DatabaseUrlError> {
        let scheme = url.split_once(':').map(|(scheme, _)| scheme.to_ascii_lowercase()).unwrap_or_default();
        if matches!(scheme.as_str(), "postgres" | "postgresql" | "mysql" | "mariadb") && !url.contains("://") {
            return Err(DatabaseUrlError::NoAuthority { scheme });
        }
        let (backend, target) = if let Some(path) = url.strip_prefix("sqlite://") {
            (Backend::Sqlite, path.to_owned())
        } else if let Some(path) = url.strip_prefix("sqlite:") {
            (Backend::Sqlite, path.to_owned())
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            (Backend::Postgres, url.to_owned())
        } else if url.starts_with("mysql://") || url.starts_with("mariadb://") {
            let rest = url.split_once("://").map(|(_, rest)| rest).unwrap_or_default();
            (Backend::Mysql, format!("mysql://{rest}"))
        } else if let Some((scheme, _)) = url.split_once("://") {
            // Only a scheme is named: anything else before `://` could be a password.
            let named = !scheme.is_empty()
                && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
            return Err(match named {
                true => DatabaseUrlError::UnsupportedScheme(scheme.to_owned()),
                false => DatabaseUrlError::NoScheme,
            });
        } else {
            (Backend::Sqlite, url.to_owned())
        };
        if target.is_empty() {
            return Err(DatabaseUrlError::NoDatabase);
        }
        if backend != Backend::Sqlite {
            url_secrets::check_credentials(url)?;
        }
        if !backend.compiled_in() {
            return Err(DatabaseUrlError::NotCompiled(backend));
        }
        Ok((backend, target))
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
            Backend::Mysql => "MySQL",
        }
    }

    fn feature(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
            Backend::Mysql => "mysql",
        }
    }

    fn compiled_in(self) -> bool {
        match self {
            Backend::Sqlite => true,
            Backend::Postgres => cfg!(feature = "postgres"),
            Backend::Mysql => cfg!(feature = "mysql"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_the_fault_without_quoting_the_url() {
        let cases = [
            (
                "postgres:db",
                "the database URL is malformed: write it postgres://[user[:password]@]host[:port]/database",
            ),
            ("ftp://secret@host/db", "unsupported database URL scheme 'ftp://'"),
            ("://x", "the database URL names no supported scheme (sqlite://, postgres://, mysql://)"),
            ("sqlite://", "the database URL names no database"),
            (
                "postgres://u:se/cret@host/db",
                "the database URL is malformed: write '@', '/', '?', '#' and spaces in its user name and password \
                 percent-encoded (%40, %2F, %3F, %23, %20)",
            ),
            (
                "postgres://u:sec%zzret@host/db",
                "the database URL is malformed: its user name or password has a '%' that is not followed by two \
                 hexadecimal digits (write '%' as %25), or encodes a NUL (%00)",
            ),
        ];
        for (url, message) in cases {
            assert_eq!(Backend::from_url(url).map(|(backend, _)| backend).unwrap_err().to_string(), message, "{url}");
        }
        assert_eq!(
            DatabaseUrlError::NotCompiled(Backend::Mysql).to_string(),
            "this build has no MySQL support; rebuild with `--features mysql`"
        );
    }
}
