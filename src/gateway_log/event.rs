//! One line of a gateway's log → a binding event, for both STOA gateways: the
//! legacy one (structlog: `event`, `subject`, fingerprint prefixes) and the current
//! one (tracing JSON: `fields.message`, an 8-hex `cert_fingerprint`).

use chrono::{DateTime, Utc};
use serde::Deserialize;

/// What the binding layer decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Verified,
    /// Refused, with the reason as the metrics name it.
    Refused(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingEvent {
    pub at: Option<DateTime<Utc>>,
    pub outcome: Outcome,
    /// The token's `sub` (the client id) when the gateway logs it.
    pub subject: Option<String>,
    /// A prefix of the presented certificate's fingerprint, lowercase hex.
    pub fingerprint_prefix: Option<String>,
    /// A certificate subject DN (`CN=…,OU=…`) when logged.
    pub cert_subject: Option<String>,
}

/// How a line was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    Binding(BindingEvent),
    /// JSON, but not a binding decision.
    OtherJson,
    /// Not JSON (access logs, start-up text).
    NotJson,
}

#[derive(Deserialize)]
struct Legacy<'a> {
    #[serde(borrow)]
    event: Option<std::borrow::Cow<'a, str>>,
    subject: Option<String>,
    received_prefix: Option<String>,
    reason: Option<String>,
    timestamp: Option<DateTime<Utc>>,
    fields: Option<Fields>,
}

#[derive(Deserialize)]
struct Fields {
    message: Option<String>,
    cert_fingerprint: Option<String>,
    subject: Option<String>,
}

pub fn parse(line: &str) -> Line {
    let line = line.trim();
    if !line.starts_with('{') {
        return Line::NotJson;
    }
    let Ok(v) = serde_json::from_str::<Legacy>(line) else {
        return Line::NotJson;
    };
    if let Some(event) = v.event.as_deref() {
        let Some(what) = event.strip_prefix("Certificate binding: ") else {
            return Line::OtherJson;
        };
        let reason = v.reason.clone().unwrap_or_else(|| {
            match what {
                "fingerprint mismatch" => "mismatch",
                w if w.starts_with("header missing") => "missing_header",
                w if w.starts_with("cnf claim") => "invalid_cnf",
                _ => "other",
            }
            .to_string()
        });
        return Line::Binding(BindingEvent {
            at: v.timestamp,
            outcome: Outcome::Refused(reason),
            subject: v.subject,
            fingerprint_prefix: v.received_prefix.as_deref().and_then(hex_prefix),
            cert_subject: None,
        });
    }
    let Some(f) = v.fields else {
        return Line::OtherJson;
    };
    let outcome = match f.message.as_deref() {
        Some("Certificate-token binding verified") => Outcome::Verified,
        Some("Certificate-token binding MISMATCH") => Outcome::Refused("mismatch".into()),
        Some("JWT missing cnf claim but binding required") => {
            Outcome::Refused("binding_required".into())
        }
        Some("mTLS headers from untrusted proxy") => Outcome::Refused("untrusted_proxy".into()),
        _ => return Line::OtherJson,
    };
    Line::Binding(BindingEvent {
        at: v.timestamp,
        outcome,
        subject: None,
        fingerprint_prefix: f.cert_fingerprint.as_deref().and_then(hex_prefix),
        cert_subject: f.subject,
    })
}

/// `c6647ddc313d61ab...` → `c6647ddc313d61ab`; anything not hex is no prefix.
fn hex_prefix(s: &str) -> Option<String> {
    let p = s.trim_end_matches("...").trim().to_ascii_lowercase();
    (p.len() >= 4 && p.bytes().all(|b| b.is_ascii_hexdigit())).then_some(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixture;

    fn tally(text: &str) -> (Vec<BindingEvent>, usize, usize) {
        let (mut events, mut other, mut not_json) = (Vec::new(), 0, 0);
        for l in text.lines() {
            match parse(l) {
                Line::Binding(e) => events.push(e),
                Line::OtherJson => other += 1,
                Line::NotJson => not_json += 1,
            }
        }
        (events, other, not_json)
    }

    #[test]
    fn the_legacy_gateways_log() {
        let (events, other, not_json) = tally(&fixture("legacy-gateway-log.jsonl"));
        assert_eq!(events.len(), 8);
        let reasons: Vec<_> = events
            .iter()
            .map(|e| match &e.outcome {
                Outcome::Refused(r) => r.as_str(),
                Outcome::Verified => "verified",
            })
            .collect();
        assert_eq!(reasons.iter().filter(|r| **r == "mismatch").count(), 6);
        assert!(reasons.contains(&"missing_header") && reasons.contains(&"invalid_cnf"));
        assert!(
            events
                .iter()
                .all(|e| e.subject.as_deref() == Some("demo-client-001"))
        );
        assert_eq!(
            events[0].fingerprint_prefix.as_deref(),
            Some("0000000000000000")
        );
        assert_eq!(
            events[2].fingerprint_prefix.as_deref(),
            Some("c6647ddc313d61ab")
        );
        assert_eq!(other, 10, "JWKS and bearer-token lines");
        assert!(not_json > 30, "uvicorn's access lines: {not_json}");
        assert_eq!(events.len() + other + not_json, 58);
    }

    #[test]
    fn the_current_gateways_log() {
        let (events, other, not_json) = tally(&fixture("stoa-gateway-log.jsonl"));
        let count = |o: &Outcome| events.iter().filter(|e| &e.outcome == o).count();
        assert_eq!(count(&Outcome::Verified), 6);
        assert_eq!(count(&Outcome::Refused("mismatch".into())), 3);
        assert_eq!(count(&Outcome::Refused("binding_required".into())), 2);
        assert_eq!(count(&Outcome::Refused("untrusted_proxy".into())), 1);
        assert!(
            events
                .iter()
                .filter(|e| e.outcome != Outcome::Refused("untrusted_proxy".into()))
                .all(|e| e.fingerprint_prefix.as_deref() == Some("986ccf22"))
        );
        assert_eq!(not_json, 1, "the OpenTelemetry start-up line");
        assert_eq!(events.len() + other + not_json, 154);
    }

    #[test]
    fn junk_is_skipped_not_fatal() {
        for l in [
            "",
            "{",
            "{\"event\": 3}",
            "[1,2]",
            "\u{1b}[2J{}",
            "{\"fields\": 1}",
        ] {
            assert_ne!(
                std::mem::discriminant(&parse(l)),
                std::mem::discriminant(&Line::Binding(BindingEvent {
                    at: None,
                    outcome: Outcome::Verified,
                    subject: None,
                    fingerprint_prefix: None,
                    cert_subject: None,
                })),
                "{l:?}"
            );
        }
    }
}
