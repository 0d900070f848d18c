//! The registry on PostgreSQL: STOA's own `clients` table, or the console's copy.

use chrono::{DateTime, Utc};
use sqlx::Connection;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions, PgRow};
use sqlx::{QueryBuilder, Row};

use super::seed::SeedRow;
use super::{CONNECT_TIMEOUT, OpenMode, Rotation, SchemaState, StoreError, describe};
use crate::config::redact_url;
use crate::domain::Client;
use crate::domain::client::RawClient;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The columns read, as text where STOA's types (uuid, enum) would need Rust types.
macro_rules! columns {
    () => {
        "id::text AS id, tenant_id, name, certificate_cn, certificate_serial, \
         certificate_fingerprint, certificate_not_before, certificate_not_after, \
         status::text AS status, created_at, updated_at, certificate_fingerprint_previous, \
         previous_cert_expires_at, last_rotated_at, rotation_count::bigint AS rotation_count"
    };
}

/// Rows per INSERT statement: 16 parameters each stays far below PostgreSQL's 65,535.
const BATCH: usize = 1000;

#[derive(Clone)]
pub struct PgRegistry {
    pool: PgPool,
    location: String,
    stoa: bool,
}

impl PgRegistry {
    pub async fn open(url: &str, mode: OpenMode) -> Result<Self, StoreError> {
        let shown = redact_url(url);
        let options: PgConnectOptions =
            url.parse().map_err(|e: sqlx::Error| StoreError::Database {
                location: shown.clone(),
                message: describe(&e),
            })?;
        let addr = format!("{}:{}", options.get_host(), options.get_port());
        let location = format!(
            "PostgreSQL database {:?} at {addr}",
            options.get_database().unwrap_or("postgres")
        );
        // One direct attempt first: a pool retries until its timeout and would hide
        // "connection refused" behind "timed out".
        let probe = PgConnection::connect_with(&options);
        match tokio::time::timeout(CONNECT_TIMEOUT, probe).await {
            Err(_) => {
                return Err(StoreError::Unreachable {
                    addr,
                    reason: format!("no answer within {} s", CONNECT_TIMEOUT.as_secs()),
                });
            }
            Ok(Err(e @ sqlx::Error::Database(_))) => {
                return Err(StoreError::Database {
                    location,
                    message: describe(&e),
                });
            }
            Ok(Err(e)) => {
                return Err(StoreError::Unreachable {
                    addr,
                    reason: describe(&e),
                });
            }
            Ok(Ok(conn)) => {
                let _ = conn.close().await;
            }
        }
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(CONNECT_TIMEOUT)
            .connect_lazy_with(options);
        let db_err = |e: sqlx::Error| StoreError::Database {
            location: location.clone(),
            message: describe(&e),
        };
        let state = inspect(&pool).await.map_err(db_err)?;
        if state.plan(&location, mode)? {
            MIGRATOR
                .run(&pool)
                .await
                .map_err(|e| StoreError::Database {
                    location: location.clone(),
                    message: format!("creating the console's clients table failed: {e}"),
                })?;
        }
        Ok(Self {
            pool,
            location,
            stoa: state.has_alembic,
        })
    }

    pub fn location(&self) -> &str {
        &self.location
    }

    pub fn is_stoa(&self) -> bool {
        self.stoa
    }

    fn err(&self, e: sqlx::Error) -> StoreError {
        StoreError::Database {
            location: self.location.clone(),
            message: describe(&e),
        }
    }

    pub async fn list(&self, tenant: &str) -> Result<Vec<Client>, StoreError> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM clients WHERE tenant_id = $1"
        ))
        .bind(tenant)
        .fetch_all(&self.pool)
        .await
        .map_err(|e| self.err(e))?;
        rows.iter()
            .map(|r| raw_from_row(r).map(Client::from).map_err(|e| self.err(e)))
            .collect()
    }

    pub async fn get(&self, tenant: &str, id: &str) -> Result<Option<Client>, StoreError> {
        let Ok(id) = uuid::Uuid::parse_str(id) else {
            return Ok(None);
        };
        let row = sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM clients WHERE tenant_id = $1 AND id = $2"
        ))
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
        let n: i64 = sqlx::query_scalar("SELECT count(*) FROM clients WHERE tenant_id = $1")
            .bind(tenant)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| self.err(e))?;
        Ok(n as u64)
    }

    /// Inserts in one transaction; rows whose CN the tenant already has are left alone.
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
                b.push_bind(r.id)
                    .push_bind(&r.tenant_id)
                    .push_bind(&r.name)
                    .push_bind(&r.cn)
                    .push_bind(&r.serial)
                    .push_bind(&r.fingerprint)
                    .push_bind(&r.pem)
                    .push_bind(r.not_before)
                    .push_bind(r.not_after)
                    .push_bind(r.status)
                    .push_unseparated("::clientstatus")
                    .push_bind(r.created_at)
                    .push_bind(r.updated_at)
                    .push_bind(&r.fingerprint_previous)
                    .push_bind(r.previous_cert_expires_at)
                    .push_bind(r.last_rotated_at)
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
        let Ok(id) = uuid::Uuid::parse_str(id) else {
            return Ok(None);
        };
        let row = sqlx::query(concat!(
            "UPDATE clients SET certificate_fingerprint_previous = certificate_fingerprint, \
             previous_cert_expires_at = $3, certificate_fingerprint = $4, certificate_serial = $5, \
             certificate_pem = $6, certificate_not_before = $7, certificate_not_after = $8, \
             last_rotated_at = $9, updated_at = $9, rotation_count = rotation_count + 1 \
             WHERE tenant_id = $1 AND id = $2 AND status = 'active' RETURNING ",
            columns!()
        ))
        .bind(tenant)
        .bind(id)
        .bind(r.grace_ends)
        .bind(&r.fingerprint)
        .bind(&r.serial)
        .bind(&r.pem)
        .bind(r.not_before)
        .bind(r.not_after)
        .bind(r.now)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| self.err(e))?;
        row.map(|r| raw_from_row(&r).map(Client::from))
            .transpose()
            .map_err(|e| self.err(e))
    }
}

async fn inspect(pool: &PgPool) -> Result<SchemaState, sqlx::Error> {
    let exists = |table: &'static str| {
        sqlx::query_scalar::<_, bool>(
            "SELECT EXISTS (SELECT 1 FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name = $1)",
        )
        .bind(table)
        .fetch_one(pool)
    };
    let has_clients = exists("clients").await?;
    let has_alembic = exists("alembic_version").await?;
    let ours = if exists("_sqlx_migrations").await? {
        sqlx::query_scalar::<_, bool>(
            "SELECT EXISTS (SELECT 1 FROM _sqlx_migrations WHERE version = $1 AND success)",
        )
        .bind(first_migration_version())
        .fetch_one(pool)
        .await?
    } else {
        false
    };
    let columns = sqlx::query_scalar::<_, String>(
        "SELECT column_name::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = 'clients'",
    )
    .fetch_all(pool)
    .await?;
    Ok(SchemaState {
        has_clients,
        has_alembic,
        ours,
        columns,
    })
}

fn first_migration_version() -> i64 {
    MIGRATOR
        .iter()
        .next()
        .map(|m| m.version)
        .unwrap_or_default()
}

fn raw_from_row(row: &PgRow) -> Result<RawClient, sqlx::Error> {
    let ts = |col: &str| row.try_get::<Option<DateTime<Utc>>, _>(col);
    Ok(RawClient {
        id: row.try_get("id")?,
        tenant_id: row.try_get("tenant_id")?,
        name: row.try_get("name")?,
        certificate_cn: row.try_get("certificate_cn")?,
        certificate_serial: row.try_get("certificate_serial")?,
        certificate_fingerprint: row.try_get("certificate_fingerprint")?,
        certificate_not_before: ts("certificate_not_before")?,
        certificate_not_after: ts("certificate_not_after")?,
        status: row.try_get("status")?,
        created_at: ts("created_at")?,
        updated_at: ts("updated_at")?,
        certificate_fingerprint_previous: row.try_get("certificate_fingerprint_previous")?,
        previous_cert_expires_at: ts("previous_cert_expires_at")?,
        last_rotated_at: ts("last_rotated_at")?,
        rotation_count: row.try_get("rotation_count")?,
        bad_dates: Vec::new(),
    })
}
