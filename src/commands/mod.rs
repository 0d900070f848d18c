//! The subcommands that print and exit.

pub mod clients;
pub mod config;
pub mod failures;
pub mod metrics;
pub mod scenario;
pub mod seed;
pub mod serve;
pub mod token;
pub mod traffic;

use color_eyre::eyre::{Result, bail};

use crate::config::{DbTarget, Settings};
use crate::store::{OpenMode, Registry, SeedOutcome};

/// Opens the configured registry for reading. The embedded one is seeded at start,
/// and so is a new SQLite file; a PostgreSQL database is only ever read here.
pub async fn open_registry(settings: &Settings) -> Result<Registry> {
    let registry = match &settings.db {
        DbTarget::Embedded => Registry::embedded_demo(&settings.tenant, 100).await?,
        target => Registry::open(target, OpenMode::Existing).await?,
    };
    if let Registry::Sqlite(r) = &registry
        && r.was_created()
        && settings.db != DbTarget::Embedded
    {
        registry
            .seed(&settings.tenant, 100, chrono::Utc::now())
            .await?;
    }
    Ok(registry)
}

/// Opens the registry for `seed`: the console may create its own table, but only in
/// a database that is not STOA's.
pub async fn open_for_seeding(settings: &Settings) -> Result<Registry> {
    if settings.db == DbTarget::Embedded {
        bail!(
            "seed needs a database: pass --db-url (DB_URL); the embedded registry is already seeded at every start"
        );
    }
    Ok(Registry::open(&settings.db, OpenMode::CreateIfMissing).await?)
}

pub fn describe_seed(outcome: &SeedOutcome, tenant: &str, location: &str) -> String {
    match outcome {
        SeedOutcome::Inserted {
            inserted,
            already_there,
        } => {
            let mut s = format!("seeded {inserted} clients for tenant {tenant} in {location}");
            if *already_there > 0 {
                s.push_str(&format!(" ({already_there} already there, left unchanged)"));
            }
            s
        }
        SeedOutcome::Skipped {
            existing,
            threshold,
        } => format!(
            "tenant {tenant} already has {existing} clients in {location} ({threshold} or more): nothing seeded"
        ),
    }
}
