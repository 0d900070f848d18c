//! The client registry: STOA's `clients` table on PostgreSQL, or the console's
//! embedded SQLite copy of it. The console reads; it writes only when told to seed
//! (and, for its own built-in control plane, when rotating).

mod postgres;
pub mod seed;
mod sqlite;

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::DbTarget;
use crate::domain::{Client, client::display_order};

pub use postgres::PgRegistry;
pub use sqlite::SqliteRegistry;

/// How long a database may take to answer the first connection.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The columns of STOA's `clients` table (migration 014), all required.
pub const COLUMNS: [&str; 16] = [
    "id",
    "tenant_id",
    "name",
    "certificate_cn",
    "certificate_serial",
    "certificate_fingerprint",
    "certificate_pem",
    "certificate_not_before",
    "certificate_not_after",
    "status",
    "created_at",
    "updated_at",
    "certificate_fingerprint_previous",
    "previous_cert_expires_at",
    "last_rotated_at",
    "rotation_count",
];

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "cannot reach PostgreSQL at {addr}: {reason}; check that it runs and that --db-url (DB_URL) is right"
    )]
    Unreachable { addr: String, reason: String },
    #[error("{location} has no `clients` table; {hint}")]
    MissingTable { location: String, hint: String },
    #[error(
        "the `clients` table in {location} lacks column(s) {missing}: it is not a STOA client registry (STOA migration 014 or later)"
    )]
    WrongSchema { location: String, missing: String },
    #[error("{location}: {message}")]
    Database { location: String, message: String },
}

/// What the console may do to a database's schema when opening it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// Read an existing registry; create nothing.
    Existing,
    /// Create the console's own table if the database has none and is not STOA's.
    CreateIfMissing,
}

/// What a database holds before the console touches it.
#[derive(Debug, Clone, Default)]
pub struct SchemaState {
    pub has_clients: bool,
    /// STOA's migration history table: the database is STOA's.
    pub has_alembic: bool,
    /// The console's migration history names its own `clients` migration.
    pub ours: bool,
    pub columns: Vec<String>,
}

impl SchemaState {
    /// Decides whether to run the console's migrations, or which error to give.
    fn plan(&self, location: &str, mode: OpenMode) -> Result<bool, StoreError> {
        if self.has_clients {
            let missing: Vec<&str> = COLUMNS
                .iter()
                .copied()
                .filter(|c| !self.columns.iter().any(|have| have == c))
                .collect();
            if !missing.is_empty() {
                return Err(StoreError::WrongSchema {
                    location: location.to_string(),
                    missing: missing.join(", "),
                });
            }
            // Only a table the console created is ever migrated.
            return Ok(self.ours && !self.has_alembic);
        }
        if self.has_alembic {
            return Err(StoreError::MissingTable {
                location: location.to_string(),
                hint: "it is a STOA database whose migrations have not created it yet: run STOA's migrations (alembic upgrade head) first".into(),
            });
        }
        match mode {
            OpenMode::CreateIfMissing => Ok(true),
            OpenMode::Existing => Err(StoreError::MissingTable {
                location: location.to_string(),
                hint: "point --db-url at a STOA database, or run `mtls-console seed` to create and fill a demo registry there".into(),
            }),
        }
    }
}

/// What a seed did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SeedOutcome {
    Inserted { inserted: u64, already_there: u64 },
    Skipped { existing: u64, threshold: u64 },
}

/// A certificate rotation, as the built-in control plane applies it.
#[derive(Debug, Clone)]
pub struct Rotation {
    pub serial: String,
    pub fingerprint: String,
    pub pem: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    pub grace_ends: DateTime<Utc>,
    pub now: DateTime<Utc>,
}

#[derive(Clone)]
pub enum Registry {
    Postgres(PgRegistry),
    Sqlite(SqliteRegistry),
}

impl Registry {
    pub async fn open(target: &DbTarget, mode: OpenMode) -> Result<Self, StoreError> {
        match target {
            DbTarget::Postgres(url) => Ok(Self::Postgres(PgRegistry::open(url, mode).await?)),
            DbTarget::Sqlite(path) => Ok(Self::Sqlite(SqliteRegistry::open_file(path).await?)),
            DbTarget::Embedded => Ok(Self::Sqlite(SqliteRegistry::open_memory().await?)),
        }
    }

    /// The embedded demo registry: in memory, freshly seeded for `tenant`.
    pub async fn embedded_demo(tenant: &str, count: u64) -> Result<Self, StoreError> {
        let reg = Self::Sqlite(SqliteRegistry::open_memory().await?);
        reg.seed(tenant, count, Utc::now()).await?;
        Ok(reg)
    }

    /// Where it lives, with any password redacted.
    pub fn location(&self) -> String {
        match self {
            Self::Postgres(r) => r.location().to_string(),
            Self::Sqlite(r) => r.location().to_string(),
        }
    }

    /// True when the database is STOA's own (it has `alembic_version`).
    pub fn is_stoa(&self) -> bool {
        match self {
            Self::Postgres(r) => r.is_stoa(),
            Self::Sqlite(r) => r.is_stoa(),
        }
    }

    /// Every client of the tenant, unusable rows included (flagged), in display order.
    pub async fn list(&self, tenant: &str) -> Result<Vec<Client>, StoreError> {
        let mut clients = match self {
            Self::Postgres(r) => r.list(tenant).await?,
            Self::Sqlite(r) => r.list(tenant).await?,
        };
        clients.sort_by(display_order);
        Ok(clients)
    }

    pub async fn count(&self, tenant: &str) -> Result<u64, StoreError> {
        match self {
            Self::Postgres(r) => r.count(tenant).await,
            Self::Sqlite(r) => r.count(tenant).await,
        }
    }

    /// Writes the demo fleet in one transaction, unless the tenant already has one.
    pub async fn seed(
        &self,
        tenant: &str,
        count: u64,
        now: DateTime<Utc>,
    ) -> Result<SeedOutcome, StoreError> {
        let existing = self.count(tenant).await?;
        let threshold = seed::skip_threshold(count);
        if existing >= threshold {
            return Ok(SeedOutcome::Skipped {
                existing,
                threshold,
            });
        }
        let rows = seed::generate(tenant, count, now, &mut rand::rng());
        let inserted = match self {
            Self::Postgres(r) => r.insert(&rows).await?,
            Self::Sqlite(r) => r.insert(&rows).await?,
        };
        Ok(SeedOutcome::Inserted {
            inserted,
            already_there: count - inserted,
        })
    }

    /// Applies a rotation to an active client; `None` when no such active client.
    pub async fn rotate(
        &self,
        tenant: &str,
        id: &str,
        rotation: &Rotation,
    ) -> Result<Option<Client>, StoreError> {
        match self {
            Self::Postgres(r) => r.rotate(tenant, id, rotation).await,
            Self::Sqlite(r) => r.rotate(tenant, id, rotation).await,
        }
    }

    pub async fn get(&self, tenant: &str, id: &str) -> Result<Option<Client>, StoreError> {
        match self {
            Self::Postgres(r) => r.get(tenant, id).await,
            Self::Sqlite(r) => r.get(tenant, id).await,
        }
    }
}

/// A short description of a database error for one-line messages.
pub(crate) fn describe(err: &sqlx::Error) -> String {
    match err {
        sqlx::Error::Io(e) => match e.kind() {
            std::io::ErrorKind::ConnectionRefused => "connection refused".into(),
            std::io::ErrorKind::TimedOut => "connection timed out".into(),
            _ => e.to_string(),
        },
        sqlx::Error::PoolTimedOut => format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()),
        sqlx::Error::Database(db) => db.message().to_string(),
        sqlx::Error::Tls(e) => format!("TLS error: {e}"),
        sqlx::Error::Configuration(e) => format!("bad connection settings: {e}"),
        other => other.to_string(),
    }
}
