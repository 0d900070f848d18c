//! The embedded registry on SQLite: in memory for the built-in demo, or a file the
//! user keeps. Dates are stored as RFC 3339 text and read leniently.

use std::path::Path;
use std::str::FromStr;

use chrono::{DateTime, NaiveDateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions, SqliteRow};
use sqlx::{QueryBuilder, Row};

use super::seed::SeedRow;
use super::{CONNECT_TIMEOUT, OpenMode, Rotation, SchemaState, StoreError, describe};
use crate::domain::Client;
use crate::domain::client::RawClient;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

macro_rules! select {
    () => {
        "SELECT id, tenant_id, name, certificate_cn, certificate_serial, \
    certificate_fingerprint, certificate_not_before, certificate_not_after, status, \
    created_at, updated_at, certificate_fingerprint_previous, previous_cert_expires_at, \
    last_rotated_at, rotation_count FROM clients"
    };
}

/// 16 parameters per row stays below SQLite's 32,766 variables.
const BATCH: usize = 1000;

#[derive(Clone)]
pub struct SqliteRegistry {
    pool: SqlitePool,
    location: String,
    stoa: bool,
    created: bool,
}

impl SqliteRegistry {
    /// A private in-memory database. One connection only: each SQLite memory
    /// connection would otherwise be a database of its own.
    pub async fn open_memory() -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::from_str("sqlite::memory:").expect("static URL");
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_with(options);
        Self::finish(pool.await, "embedded SQLite registry (in memory)".into()).await
    }

    pub async fn open_file(path: &Path) -> Result<Self, StoreError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .busy_timeout(CONNECT_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_with(options);
        Self::finish(pool.await, format!("SQLite file {}", path.display())).await
    }

    async fn finish(
        pool: Result<SqlitePool, sqlx::Error>,
        location: String,
    ) -> Result<Self, StoreError> {
        let db_err = |e: sqlx::Error| StoreError::Database {
            location: location.clone(),
            message: describe(&e),
        };
        let pool = pool.map_err(db_err)?;
        let state = inspect(&pool).await.map_err(db_err)?;
        let created = !state.has_clients;
        if state.plan(&location, OpenMode::CreateIfMissing)? {
            MIGRATOR
                .run(&pool)
                .await
                .map_err(|e| StoreError::Database {
                    location: location.clone(),
                    message: format!("creating the clients table failed: {e}"),
                })?;
        }
        Ok(Self {
            pool,
            location,
            stoa: state.has_alembic,
            created,
        })
    }

    pub fn location(&self) -> &str {
        &self.location
    }

    pub fn is_stoa(&self) -> bool {
        self.stoa
    }

    /// True when opening created the table (a new file or the memory database).
    pub fn was_created(&self) -> bool {
        self.created
    }

    fn err(&self, e: sqlx::Error) -> StoreError {
        StoreError::Database {
            location: self.location.clone(),
            message: describe(&e),
        }
    }

    pub async fn list(&self, tenant: &str) -> Result<Vec<Client>, StoreError> {
        let rows = sqlx::query(concat!(select!(), " WHERE tenant_id = ?1"))
            .bind(tenant)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| self.err(e))?;
        rows.iter()
            .map(|r| raw_from_row(r).map(Client::from).map_err(|e| self.err(e)))
            .collect()
    }

    pub async fn get(&self, tenant: &str, id: &str) -> Result<Option<Client>, StoreError> {
        let row = sqlx::query(concat!(select!(), " WHERE tenant_id = ?1 AND id = ?2"))
            .bind(tenant)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| self.err(e))?;
        row.map(|r| raw_from_row(&r).map(Client::from))
            .transpose()
            .map_err(|e| self.err(e))
    }

    pub async fn count(&self, tenant: &str) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM clients WHERE tenant_id = ?1")
            .bind(tenant)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| self.err(e))?;
        Ok(n as u64)
    }

    pub async fn insert(&self, rows: &[SeedRow]) -> Result<u64, StoreError> {
        let mut tx = self.pool.begin().await.map_err(|e| self.err(e))?;
        let mut inserted = 0;
        for chunk in rows.chunks(BATCH) {
            let mut qb = QueryBuilder::new(
                "INSERT INTO clients (id, tenant_id, name, certificate_cn, certificate_serial, \
                 certificate_fingerprint, certificate_pem, certificate_not_before, \
                 certificate_not_after, status, created_at, updated_at, \
                 certificate_fingerprint_previous, previous_cert_expires_at, last_rotated_at, \
                 rotation_count) ",
            );
            qb.push_values(chunk, |mut b, r| {
                b.push_bind(r.id.to_string())
                    .push_bind(&r.tenant_id)
                    .push_bind(&r.name)
                    .push_bind(&r.cn)
                    .push_bind(&r.serial)
                    .push_bind(&r.fingerprint)
                    .push_bind(&r.pem)
                    .push_bind(ts(r.not_before))
                    .push_bind(ts(r.not_after))
                    .push_bind(r.status)
                    .push_bind(ts(r.created_at))
                    .push_bind(ts(r.updated_at))
                    .push_bind(&r.fingerprint_previous)
                    .push_bind(r.previous_cert_expires_at.map(ts))
                    .push_bind(r.last_rotated_at.map(ts))
                    .push_bind(r.rotation_count);
            });
            qb.push(" ON CONFLICT (tenant_id, certificate_cn) DO NOTHING");
            let done = qb
                .build()
                .execute(&mut *tx)
                .await
                .map_err(|e| self.err(e))?;
            inserted += done.rows_affected();
        }
        tx.commit().await.map_err(|e| self.err(e))?;
        Ok(inserted)
    }

    pub async fn rotate(
        &self,
        tenant: &str,
        id: &str,
        r: &Rotation,
    ) -> Result<Option<Client>, StoreError> {
        let done = sqlx::query(
            "UPDATE clients SET certificate_fingerprint_previous = certificate_fingerprint, \
             previous_cert_expires_at = ?3, certificate_fingerprint = ?4, certificate_serial = ?5, \
             certificate_pem = ?6, certificate_not_before = ?7, certificate_not_after = ?8, \
             last_rotated_at = ?9, updated_at = ?9, rotation_count = rotation_count + 1 \
             WHERE tenant_id = ?1 AND id = ?2 AND status = 'active'",
        )
        .bind(tenant)
        .bind(id)
        .bind(ts(r.grace_ends))
        .bind(&r.fingerprint)
        .bind(&r.serial)
        .bind(&r.pem)
        .bind(ts(r.not_before))
        .bind(ts(r.not_after))
        .bind(ts(r.now))
        .execute(&self.pool)
        .await
        .map_err(|e| self.err(e))?;
        if done.rows_affected() == 0 {
            return Ok(None);
        }
        self.get(tenant, id).await
    }
}

async fn inspect(pool: &SqlitePool) -> Result<SchemaState, sqlx::Error> {
    let tables: Vec<String> =
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table'")
            .fetch_all(pool)
            .await?;
    let has = |t: &str| tables.iter().any(|n| n == t);
    let ours = if has("_sqlx_migrations") {
        sqlx::query_scalar::<_, bool>(
            "SELECT EXISTS (SELECT 1 FROM _sqlx_migrations WHERE version = ?1 AND success)",
        )
        .bind(
            MIGRATOR
                .iter()
                .next()
                .map(|m| m.version)
                .unwrap_or_default(),
        )
        .fetch_one(pool)
        .await?
    } else {
        false
    };
    let columns = sqlx::query_scalar("SELECT name FROM pragma_table_info('clients')")
        .fetch_all(pool)
        .await?;
    Ok(SchemaState {
        has_clients: has("clients"),
        has_alembic: has("alembic_version"),
        ours,
        columns,
    })
}

/// The stored form: RFC 3339 in UTC with microseconds.
fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Reads RFC 3339 and the `YYYY-MM-DD HH:MM:SS[.f][+00]` form of PostgreSQL dumps.
pub fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    let s = s.strip_suffix("+00").unwrap_or(s).trim_end_matches('Z');
    ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
        .map(|n| n.and_utc())
}

fn raw_from_row(row: &SqliteRow) -> Result<RawClient, sqlx::Error> {
    let mut bad_dates = Vec::new();
    let mut date = |col: &'static str| -> Result<Option<DateTime<Utc>>, sqlx::Error> {
        let text: Option<String> = row.try_get(col)?;
        Ok(match text {
            None => None,
            Some(t) if t.trim().is_empty() => None,
            Some(t) => match parse_timestamp(&t) {
                Some(d) => Some(d),
                None => {
                    bad_dates.push((col, t));
                    None
                }
            },
        })
    };
    let certificate_not_before = date("certificate_not_before")?;
    let certificate_not_after = date("certificate_not_after")?;
    let created_at = date("created_at")?;
    let updated_at = date("updated_at")?;
    let previous_cert_expires_at = date("previous_cert_expires_at")?;
    let last_rotated_at = date("last_rotated_at")?;
    Ok(RawClient {
        id: row.try_get("id")?,
        tenant_id: row.try_get("tenant_id")?,
        name: row.try_get("name")?,
        certificate_cn: row.try_get("certificate_cn")?,
        certificate_serial: row.try_get("certificate_serial")?,
        certificate_fingerprint: row.try_get("certificate_fingerprint")?,
        certificate_not_before,
        certificate_not_after,
        status: row.try_get("status")?,
        created_at,
        updated_at,
        certificate_fingerprint_previous: row.try_get("certificate_fingerprint_previous")?,
        previous_cert_expires_at,
        last_rotated_at,
        rotation_count: row
            .try_get::<Option<i64>, _>("rotation_count")?
            .unwrap_or(0),
        bad_dates,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_in_every_stored_form() {
        let want = "2026-12-04T15:06:59.101544Z"
            .parse::<DateTime<Utc>>()
            .unwrap();
        assert_eq!(parse_timestamp("2026-12-04T15:06:59.101544Z"), Some(want));
        assert_eq!(parse_timestamp("2026-12-04 15:06:59.101544+00"), Some(want));
        assert_eq!(parse_timestamp("2026-12-04 15:06:59.101544"), Some(want));
        assert_eq!(
            parse_timestamp("2026-12-04T16:06:59.101544+01:00"),
            Some(want)
        );
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(ts(want), "2026-12-04T15:06:59.101544Z");
    }
}
