//! The demo fleet of contract §3, generated as rows to insert. Pure: the caller
//! gives the clock and the random source, so a seed is reproducible in tests.

use chrono::{DateTime, Duration, Utc};
use rand::Rng;

use crate::domain::{Fingerprint, Health};

pub const SECTORS: [&str; 8] = [
    "banque",
    "assurance",
    "logistique",
    "industrie",
    "telecom",
    "energie",
    "sante",
    "retail",
];
pub const COMPANIES: [&str; 16] = [
    "bnp",
    "axa",
    "geodis",
    "airbus",
    "orange",
    "engie",
    "sanofi",
    "carrefour",
    "socgen",
    "allianz",
    "dhl",
    "safran",
    "sfr",
    "edf",
    "pfizer",
    "auchan",
];
pub const SERVICES: [&str; 12] = [
    "paiement",
    "sinistre",
    "tracking",
    "inventory",
    "billing",
    "pricing",
    "kyc",
    "compliance",
    "analytics",
    "reporting",
    "notification",
    "scoring",
];

/// The kinds of the seed and their share in percent, in seeding order.
pub const MIX: [(Health, u64); 5] = [
    (Health::Healthy, 60),
    (Health::ExpiringSoon, 15),
    (Health::Critical, 10),
    (Health::GracePeriod, 10),
    (Health::Revoked, 5),
];

#[derive(Debug, Clone)]
pub struct SeedRow {
    pub id: uuid::Uuid,
    pub tenant_id: String,
    pub name: String,
    pub cn: String,
    pub serial: String,
    pub fingerprint: String,
    pub pem: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    pub status: &'static str,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub fingerprint_previous: Option<String>,
    pub previous_cert_expires_at: Option<DateTime<Utc>>,
    pub last_rotated_at: Option<DateTime<Utc>>,
    pub rotation_count: i32,
}

/// Which kind row `i` of `count` is, keeping the §3 proportions for any count.
pub fn kind_of(i: u64, count: u64) -> Health {
    let mut cumulative = 0;
    for (kind, share) in MIX {
        cumulative += share;
        // Rounded boundary, so 100 rows give exactly 60/15/10/10/5.
        if i < (count * cumulative + 50) / 100 {
            return kind;
        }
    }
    Health::Revoked
}

pub fn client_name(i: u64) -> String {
    let i_us = i as usize;
    format!(
        "{}-{}-{}-{:03}",
        SECTORS[i_us % SECTORS.len()],
        COMPANIES[i_us % COMPANIES.len()],
        SERVICES[i_us % SERVICES.len()],
        i
    )
}

/// Builds the rows. Unlike STOA's seeder, every date sits half a day inside its
/// band, so the fleet reads exactly 60/15/10/10/5 for hours after seeding.
pub fn generate(tenant: &str, count: u64, now: DateTime<Utc>, rng: &mut impl Rng) -> Vec<SeedRow> {
    let half_day = Duration::hours(12);
    (0..count)
        .map(|i| {
            let kind = kind_of(i, count);
            let n = i as i64;
            let name = client_name(i);
            let mut row = SeedRow {
                id: uuid::Builder::from_random_bytes(rng.random()).into_uuid(),
                tenant_id: tenant.to_string(),
                cn: format!("{name}.client.stoa.internal"),
                serial: hex::encode(rng.random::<[u8; 16]>()),
                fingerprint: Fingerprint::from_bytes(rng.random()).to_hex(),
                pem: format!(
                    "-----BEGIN CERTIFICATE-----\nMIID...MOCK...{}...\n-----END CERTIFICATE-----",
                    name.chars().take(20).collect::<String>()
                ),
                name,
                not_before: now - Duration::days(30),
                not_after: now + Duration::days(60 + n % 300) + half_day,
                status: "active",
                created_at: now - Duration::days(1 + (count as i64 - 1 - n) % 90),
                updated_at: now,
                fingerprint_previous: None,
                previous_cert_expires_at: None,
                last_rotated_at: None,
                rotation_count: 0,
            };
            match kind {
                Health::ExpiringSoon => row.not_after = now + Duration::days(7 + n % 23) + half_day,
                Health::Critical => row.not_after = now + Duration::days(1 + n % 6) + half_day,
                Health::GracePeriod => {
                    row.fingerprint_previous = Some(Fingerprint::from_bytes(rng.random()).to_hex());
                    row.previous_cert_expires_at = Some(now + Duration::hours(6 + n % 18));
                    row.last_rotated_at = Some(now - Duration::hours(1 + n % 12));
                    row.rotation_count = 1 + (n % 3) as i32;
                }
                Health::Revoked => {
                    row.not_after = now + Duration::days(60);
                    row.status = "revoked";
                }
                _ => {}
            }
            row
        })
        .collect()
}

/// A tenant with at least this many clients is left as it is.
pub fn skip_threshold(count: u64) -> u64 {
    (count / 2).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Client, client::RawClient};
    use std::collections::BTreeMap;

    fn health_counts(rows: &[SeedRow], now: DateTime<Utc>) -> BTreeMap<Health, usize> {
        let mut counts = BTreeMap::new();
        for r in rows {
            let c = Client::from(RawClient {
                certificate_fingerprint: Some(r.fingerprint.clone()),
                certificate_not_after: Some(r.not_after),
                status: r.status.into(),
                certificate_fingerprint_previous: r.fingerprint_previous.clone(),
                previous_cert_expires_at: r.previous_cert_expires_at,
                ..Default::default()
            });
            *counts.entry(c.health(now)).or_default() += 1;
        }
        counts
    }

    #[test]
    fn hundred_rows_read_exactly_as_the_contract_mix_for_hours() {
        let now = Utc::now();
        let rows = generate("acme", 100, now, &mut rand::rng());
        let expected = BTreeMap::from([
            (Health::Healthy, 60),
            (Health::ExpiringSoon, 15),
            (Health::Critical, 10),
            (Health::GracePeriod, 10),
            (Health::Revoked, 5),
        ]);
        assert_eq!(health_counts(&rows, now), expected);
        assert_eq!(health_counts(&rows, now + Duration::hours(5)), expected);
        assert_eq!(rows[0].name, "banque-bnp-paiement-000");
        assert_eq!(
            rows[99].cn,
            "industrie-airbus-inventory-099.client.stoa.internal"
        );
    }

    #[test]
    fn larger_fleets_keep_the_proportions() {
        let counts: Vec<usize> = MIX
            .iter()
            .map(|(kind, _)| (0..10_000).filter(|i| kind_of(*i, 10_000) == *kind).count())
            .collect();
        assert_eq!(counts, [6000, 1500, 1000, 1000, 500]);
        let names: std::collections::HashSet<_> = (0..10_000).map(client_name).collect();
        assert_eq!(names.len(), 10_000);
    }
}
