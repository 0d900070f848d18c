//! `mtls-console seed`: the demo fleet, written in one transaction.

use color_eyre::eyre::Result;
use serde_json::json;

use crate::cli::SeedArgs;
use crate::config::Settings;
use crate::store::SeedOutcome;

pub async fn run(settings: &Settings, args: &SeedArgs) -> Result<()> {
    let registry = super::open_for_seeding(settings).await?;
    let outcome = registry
        .seed(&settings.tenant, args.count, chrono::Utc::now())
        .await?;
    let location = registry.location();
    if args.json {
        let value = match &outcome {
            SeedOutcome::Inserted {
                inserted,
                already_there,
            } => {
                json!({"seeded": true, "inserted": inserted, "already_there": already_there, "tenant": settings.tenant})
            }
            SeedOutcome::Skipped {
                existing,
                threshold,
            } => {
                json!({"seeded": false, "existing": existing, "threshold": threshold, "tenant": settings.tenant})
            }
        };
        println!("{value}");
    } else {
        println!(
            "{}",
            super::describe_seed(&outcome, &settings.tenant, &location)
        );
    }
    Ok(())
}
