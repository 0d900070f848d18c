//! A client of the registry as the console uses it, built from a raw row that may
//! be incomplete: what is wrong with a row is recorded, never fatal.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::fingerprint::{Fingerprint, FingerprintError};
use super::health::{self, Health};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub enum ClientStatus {
    Active,
    Revoked,
    Expired,
    /// A value outside STOA's `clientstatus` enum, kept as read.
    Unknown(String),
}

impl ClientStatus {
    pub fn parse(s: &str) -> Self {
        match s {
            "active" => Self::Active,
            "revoked" => Self::Revoked,
            "expired" => Self::Expired,
            other => Self::Unknown(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Self::Active => "active",
            Self::Revoked => "revoked",
            Self::Expired => "expired",
            Self::Unknown(s) => s,
        }
    }
}

impl From<ClientStatus> for String {
    fn from(s: ClientStatus) -> String {
        s.as_str().to_string()
    }
}

/// Something about a row that keeps part of it from being used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowProblem {
    MissingFingerprint,
    BadFingerprint(FingerprintError),
    BadPreviousFingerprint(FingerprintError),
    UnknownStatus(String),
    MissingNotAfter,
    BadDate { column: &'static str, value: String },
}

impl fmt::Display for RowProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingFingerprint => f.write_str("no certificate fingerprint"),
            Self::BadFingerprint(e) => write!(f, "bad certificate fingerprint: {e}"),
            Self::BadPreviousFingerprint(e) => write!(f, "bad previous fingerprint: {e}"),
            Self::UnknownStatus(s) => write!(f, "unknown status {s:?}"),
            Self::MissingNotAfter => f.write_str("no certificate expiry date"),
            Self::BadDate { column, value } => write!(f, "unreadable {column} {value:?}"),
        }
    }
}

/// A row of the `clients` table, as read, before interpretation.
#[derive(Debug, Clone, Default)]
pub struct RawClient {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub certificate_cn: String,
    pub certificate_serial: Option<String>,
    pub certificate_fingerprint: Option<String>,
    pub certificate_not_before: Option<DateTime<Utc>>,
    pub certificate_not_after: Option<DateTime<Utc>>,
    pub status: String,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub certificate_fingerprint_previous: Option<String>,
    pub previous_cert_expires_at: Option<DateTime<Utc>>,
    pub last_rotated_at: Option<DateTime<Utc>>,
    pub rotation_count: i64,
    /// Date columns whose text could not be read (SQLite stores dates as text).
    pub bad_dates: Vec<(&'static str, String)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Client {
    pub id: String,
    pub tenant_id: String,
    pub name: String,
    pub cn: String,
    pub serial: Option<String>,
    pub fingerprint: Option<Fingerprint>,
    pub fingerprint_previous: Option<Fingerprint>,
    pub not_before: Option<DateTime<Utc>>,
    pub not_after: Option<DateTime<Utc>>,
    pub status: ClientStatus,
    pub created_at: Option<DateTime<Utc>>,
    pub updated_at: Option<DateTime<Utc>>,
    pub previous_cert_expires_at: Option<DateTime<Utc>>,
    pub last_rotated_at: Option<DateTime<Utc>>,
    pub rotation_count: i64,
    pub problems: Vec<RowProblem>,
}

impl From<RawClient> for Client {
    fn from(raw: RawClient) -> Self {
        let mut problems = Vec::new();
        let fingerprint = match raw.certificate_fingerprint.as_deref().map(str::trim) {
            None | Some("") => {
                problems.push(RowProblem::MissingFingerprint);
                None
            }
            Some(s) => Fingerprint::parse(s)
                .map_err(|e| problems.push(RowProblem::BadFingerprint(e)))
                .ok(),
        };
        let fingerprint_previous = match raw.certificate_fingerprint_previous.as_deref() {
            None => None,
            Some(s) if s.trim().is_empty() => None,
            Some(s) => Fingerprint::parse(s)
                .map_err(|e| problems.push(RowProblem::BadPreviousFingerprint(e)))
                .ok(),
        };
        let status = ClientStatus::parse(raw.status.trim());
        if let ClientStatus::Unknown(s) = &status {
            problems.push(RowProblem::UnknownStatus(s.clone()));
        }
        for (column, value) in raw.bad_dates {
            problems.push(RowProblem::BadDate { column, value });
        }
        if raw.certificate_not_after.is_none() && !problems.iter().any(is_not_after_problem) {
            problems.push(RowProblem::MissingNotAfter);
        }
        Client {
            id: raw.id,
            tenant_id: raw.tenant_id,
            name: raw.name,
            cn: raw.certificate_cn,
            serial: raw.certificate_serial,
            fingerprint,
            fingerprint_previous,
            not_before: raw.certificate_not_before,
            not_after: raw.certificate_not_after,
            status,
            created_at: raw.created_at,
            updated_at: raw.updated_at,
            previous_cert_expires_at: raw.previous_cert_expires_at,
            last_rotated_at: raw.last_rotated_at,
            rotation_count: raw.rotation_count,
            problems,
        }
    }
}

fn is_not_after_problem(p: &RowProblem) -> bool {
    matches!(p, RowProblem::BadDate { column, .. } if *column == "certificate_not_after")
}

impl Client {
    pub fn health(&self, now: DateTime<Utc>) -> Health {
        Health::classify(
            &self.status,
            self.not_after,
            self.previous_cert_expires_at,
            now,
        )
    }

    pub fn days_left(&self, now: DateTime<Utc>) -> Option<i64> {
        self.not_after.map(|na| health::days_left(na, now))
    }

    /// True while the previous certificate is still accepted.
    pub fn in_grace(&self, now: DateTime<Utc>) -> bool {
        self.fingerprint_previous.is_some()
            && self.previous_cert_expires_at.is_some_and(|end| end > now)
    }

    /// A client traffic can be sent for: active, with a usable fingerprint.
    pub fn is_usable_for_traffic(&self) -> bool {
        self.status == ClientStatus::Active && self.fingerprint.is_some()
    }

    /// The trailing `NNN` of a seeded name, used to order tiles as seeded.
    pub fn index_hint(&self) -> Option<u64> {
        let digits: String = self
            .name
            .chars()
            .rev()
            .take_while(char::is_ascii_digit)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        digits.parse().ok()
    }
}

/// The order clients are listed and drawn in: by seeded index, then by name.
pub fn display_order(a: &Client, b: &Client) -> std::cmp::Ordering {
    (a.index_hint().unwrap_or(u64::MAX), &a.name)
        .cmp(&(b.index_hint().unwrap_or(u64::MAX), &b.name))
}

/// The clients a rotation without a chosen one picks from: the expiring ones
/// (expiring soon or critical) when there are any, else every active one.
pub fn rotation_candidates(clients: &[Client], now: DateTime<Utc>) -> Vec<&Client> {
    let active: Vec<&Client> = clients
        .iter()
        .filter(|c| c.is_usable_for_traffic())
        .collect();
    let expiring: Vec<&Client> = active
        .iter()
        .copied()
        .filter(|c| {
            matches!(
                c.health(now),
                crate::domain::Health::ExpiringSoon | crate::domain::Health::Critical
            )
        })
        .collect();
    if expiring.is_empty() {
        active
    } else {
        expiring
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw() -> RawClient {
        RawClient {
            id: "7da9d010-acf6-40f7-a01e-b2b3c16093f5".into(),
            tenant_id: "acme".into(),
            name: "banque-bnp-paiement-007".into(),
            certificate_cn: "banque-bnp-paiement-007.client.stoa.internal".into(),
            certificate_fingerprint: Some(
                "7bf3dfcc299635b1454b818ccbda4784cca6206abfae858a595890f1239a223b".into(),
            ),
            certificate_not_after: Some(Utc::now()),
            status: "active".into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_clean_row_has_no_problems() {
        let c = Client::from(raw());
        assert!(c.problems.is_empty(), "{:?}", c.problems);
        assert_eq!(c.index_hint(), Some(7));
        assert!(c.is_usable_for_traffic());
    }

    #[test]
    fn bad_rows_are_flagged_not_dropped() {
        let c = Client::from(RawClient {
            certificate_fingerprint: None,
            certificate_fingerprint_previous: Some("xyz".into()),
            certificate_not_after: None,
            status: "suspended".into(),
            ..raw()
        });
        assert!(c.fingerprint.is_none());
        assert!(!c.is_usable_for_traffic());
        assert!(c.problems.contains(&RowProblem::MissingFingerprint));
        assert!(
            c.problems
                .contains(&RowProblem::UnknownStatus("suspended".into()))
        );
        assert!(c.problems.contains(&RowProblem::MissingNotAfter));
        assert!(
            c.problems
                .iter()
                .any(|p| matches!(p, RowProblem::BadPreviousFingerprint(_)))
        );
    }

    #[test]
    fn colon_hex_rows_are_normalized() {
        let c = Client::from(RawClient {
            certificate_fingerprint: Some("7B:F3:DF:CC:29:96:35:B1:45:4B:81:8C:CB:DA:47:84:CC:A6:20:6A:BF:AE:85:8A:59:58:90:F1:23:9A:22:3B".into()),
            ..raw()
        });
        assert_eq!(
            c.fingerprint.unwrap().to_hex(),
            "7bf3dfcc299635b1454b818ccbda4784cca6206abfae858a595890f1239a223b"
        );
    }
}
