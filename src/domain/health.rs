//! Certificate health, classified exactly as STOA's dashboard colours a client.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::client::ClientStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    Healthy,
    ExpiringSoon,
    Critical,
    Expired,
    GracePeriod,
    Revoked,
}

impl Health {
    pub const ALL: [Health; 6] = [
        Health::Healthy,
        Health::ExpiringSoon,
        Health::Critical,
        Health::Expired,
        Health::GracePeriod,
        Health::Revoked,
    ];

    /// Human label for tables and the screen.
    pub fn label(self) -> &'static str {
        match self {
            Health::Healthy => "healthy",
            Health::ExpiringSoon => "expiring soon",
            Health::Critical => "critical",
            Health::Expired => "expired",
            Health::GracePeriod => "grace period",
            Health::Revoked => "revoked",
        }
    }

    /// Classifies in the dashboard's order: revoked, grace, no expiry, then days left.
    /// A status of `expired` is not a rule of its own there, so it is not one here:
    /// such a row is classified by its dates like any other.
    pub fn classify(
        status: &ClientStatus,
        not_after: Option<DateTime<Utc>>,
        previous_cert_expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Health {
        if *status == ClientStatus::Revoked {
            return Health::Revoked;
        }
        if previous_cert_expires_at.is_some_and(|end| end > now) {
            return Health::GracePeriod;
        }
        let Some(not_after) = not_after else {
            return Health::Healthy;
        };
        match days_left(not_after, now) {
            d if d <= 0 => Health::Expired,
            d if d < 7 => Health::Critical,
            d if d < 30 => Health::ExpiringSoon,
            _ => Health::Healthy,
        }
    }
}

/// Whole days until `not_after`, floored like Python's `timedelta.days`
/// (so 6 days 23 hours is 6, and one microsecond past expiry is -1).
pub fn days_left(not_after: DateTime<Utc>, now: DateTime<Utc>) -> i64 {
    const DAY_US: i64 = 86_400 * 1_000_000;
    let delta = not_after - now;
    match delta.num_microseconds() {
        Some(us) => us.div_euclid(DAY_US),
        // Beyond ±292,000 years: whole days are exact enough.
        None => delta.num_days(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 4, 15, 0, 0).unwrap()
    }

    fn classify_days(days: Duration) -> Health {
        Health::classify(&ClientStatus::Active, Some(now() + days), None, now())
    }

    #[test]
    fn boundaries_of_days_left() {
        assert_eq!(classify_days(Duration::zero()), Health::Expired);
        assert_eq!(classify_days(Duration::hours(-1)), Health::Expired);
        assert_eq!(classify_days(Duration::hours(23)), Health::Expired);
        assert_eq!(classify_days(Duration::days(1)), Health::Critical);
        assert_eq!(
            classify_days(Duration::days(7) - Duration::microseconds(1)),
            Health::Critical
        );
        assert_eq!(classify_days(Duration::days(7)), Health::ExpiringSoon);
        assert_eq!(
            classify_days(Duration::days(30) - Duration::microseconds(1)),
            Health::ExpiringSoon
        );
        assert_eq!(classify_days(Duration::days(30)), Health::Healthy);
        assert_eq!(classify_days(Duration::days(3000)), Health::Healthy);
    }

    #[test]
    fn missing_not_after_is_healthy() {
        assert_eq!(
            Health::classify(&ClientStatus::Active, None, None, now()),
            Health::Healthy
        );
    }

    #[test]
    fn revoked_wins_over_grace() {
        let in_grace = Some(now() + Duration::hours(5));
        assert_eq!(
            Health::classify(&ClientStatus::Revoked, None, in_grace, now()),
            Health::Revoked
        );
        assert_eq!(
            Health::classify(&ClientStatus::Active, Some(now()), in_grace, now()),
            Health::GracePeriod
        );
    }

    #[test]
    fn grace_just_ended_falls_back_to_dates() {
        let not_after = Some(now() + Duration::days(100));
        assert_eq!(
            Health::classify(&ClientStatus::Active, not_after, Some(now()), now()),
            Health::Healthy
        );
        assert_eq!(
            Health::classify(
                &ClientStatus::Active,
                Some(now() + Duration::days(3)),
                Some(now() - Duration::seconds(1)),
                now()
            ),
            Health::Critical
        );
    }

    #[test]
    fn days_left_floors_like_python() {
        assert_eq!(days_left(now() + Duration::hours(167), now()), 6);
        assert_eq!(days_left(now() - Duration::microseconds(1), now()), -1);
        assert_eq!(days_left(now() + Duration::days(30), now()), 30);
    }
}
