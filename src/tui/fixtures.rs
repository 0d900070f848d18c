//! A fixed fleet and clock for the console's unit and snapshot tests.

use std::time::Instant;

use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::domain::client::RawClient;
use crate::domain::{Client, Fingerprint};
use crate::store::seed;

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 12, 4, 15, 0, 0).unwrap()
}

/// The 100 seeded clients of the demo, with fixed ids, fingerprints and dates.
pub fn fleet(count: u64) -> Vec<Client> {
    let now = now();
    (0..count)
        .map(|i| {
            let kind = seed::kind_of(i, count);
            let name = seed::client_name(i);
            let n = i as i64;
            let mut raw = RawClient {
                id: format!("00000000-0000-4000-8000-{i:012}"),
                tenant_id: "acme".into(),
                certificate_fingerprint: Some(
                    Fingerprint::from_bytes([(i % 251) as u8 + 1; 32]).to_hex(),
                ),
                certificate_serial: Some(format!("{i:032x}")),
                certificate_not_before: Some(now - Duration::days(30)),
                certificate_not_after: Some(
                    now + Duration::days(60 + n % 300) + Duration::hours(12),
                ),
                status: "active".into(),
                name: name.clone(),
                certificate_cn: format!("{name}.client.stoa.internal"),
                ..Default::default()
            };
            use crate::domain::Health::*;
            match kind {
                ExpiringSoon => {
                    raw.certificate_not_after =
                        Some(now + Duration::days(7 + n % 23) + Duration::hours(12))
                }
                Critical => {
                    raw.certificate_not_after =
                        Some(now + Duration::days(1 + n % 6) + Duration::hours(12))
                }
                GracePeriod => {
                    raw.certificate_fingerprint_previous =
                        Some(Fingerprint::from_bytes([0xee; 32]).to_hex());
                    raw.previous_cert_expires_at = Some(now + Duration::seconds(90));
                    raw.last_rotated_at = Some(now - Duration::hours(1));
                    raw.rotation_count = 1;
                }
                Revoked => raw.status = "revoked".into(),
                _ => {}
            }
            Client::from(raw)
        })
        .collect()
}

pub fn app(count: u64) -> super::app::App {
    let mut app = super::app::App::new(true, "acme", Instant::now(), now());
    app.update(super::app::Msg::Ready {
        gateway: "http://127.0.0.1:8080".into(),
        api: "ready".into(),
        registry: "embedded".into(),
    });
    app.update(super::app::Msg::Clients(Ok(fleet(count))));
    app.update(super::app::Msg::Resize(120, 40));
    app
}
