//! Which client each binding event belongs to, and the per-client counts an
//! operator needs: the gateway's counters have no client label.

use std::collections::{BTreeMap, HashMap, VecDeque};

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::event::{self, BindingEvent, Line, Outcome};
use crate::domain::Client;

/// Finds a client by the token's subject (its id, or name), else by a prefix of
/// its current or previous fingerprint, else by the certificate's CN.
pub struct Attributor {
    by_subject: HashMap<String, String>,
    /// (lowercase hex fingerprint, client id), current and previous.
    fingerprints: Vec<(String, String)>,
    by_cn: HashMap<String, String>,
}

impl Attributor {
    pub fn new(clients: &[Client]) -> Self {
        let mut by_subject = HashMap::new();
        let mut fingerprints = Vec::new();
        let mut by_cn = HashMap::new();
        for c in clients {
            by_subject.insert(c.id.clone(), c.id.clone());
            by_subject
                .entry(c.name.clone())
                .or_insert_with(|| c.id.clone());
            by_cn.entry(c.cn.clone()).or_insert_with(|| c.id.clone());
            for fp in [c.fingerprint, c.fingerprint_previous]
                .into_iter()
                .flatten()
            {
                fingerprints.push((fp.to_hex(), c.id.clone()));
            }
        }
        Self {
            by_subject,
            fingerprints,
            by_cn,
        }
    }

    pub fn attribute(&self, e: &BindingEvent) -> Option<&str> {
        if let Some(id) = e.subject.as_ref().and_then(|s| self.by_subject.get(s)) {
            return Some(id);
        }
        if let Some(p) = e.fingerprint_prefix.as_deref().filter(|p| p.len() >= 8) {
            let mut found = self
                .fingerprints
                .iter()
                .filter(|(fp, _)| fp.starts_with(p))
                .map(|(_, id)| id.as_str());
            let first = found.next();
            // A prefix two clients share names neither.
            if first.is_some() && found.all(|id| Some(id) == first) {
                return first;
            }
        }
        let cn = e.cert_subject.as_deref().and_then(|dn| {
            dn.split(',')
                .find_map(|part| part.trim().strip_prefix("CN="))
        })?;
        self.by_cn.get(cn).map(String::as_str)
    }
}

/// A refusal or a pass, as kept for a client's detail view.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recent {
    pub at: DateTime<Utc>,
    /// `verified`, or the refusal's reason.
    pub what: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ClientFailures {
    pub failures: BTreeMap<String, u64>,
    pub successes: u64,
    pub last_failure: Option<DateTime<Utc>>,
    /// The latest events, newest last.
    pub recent: VecDeque<Recent>,
    /// Failures per minute (minute since the epoch, count), the last few minutes.
    #[serde(skip)]
    minutes: VecDeque<(i64, u64)>,
}

/// Events kept per client for its detail view.
const RECENT: usize = 20;
/// The "failing now" window.
pub const NOW_MINUTES: i64 = 5;

impl ClientFailures {
    pub fn total(&self) -> u64 {
        self.failures.values().sum()
    }

    /// Failures in the last [`NOW_MINUTES`] minutes before `now`.
    pub fn recent_failures(&self, now: DateTime<Utc>) -> u64 {
        let from = now.timestamp().div_euclid(60) - NOW_MINUTES;
        self.minutes
            .iter()
            .filter(|(m, _)| *m > from)
            .map(|(_, n)| n)
            .sum()
    }
}

#[derive(Debug, Default, Serialize)]
pub struct Tally {
    pub per_client: HashMap<String, ClientFailures>,
    pub unattributed: u64,
    /// Subjects (or fingerprint prefixes) of the events no client matched.
    pub unattributed_subjects: BTreeMap<String, u64>,
    pub binding_lines: u64,
    pub other_json_lines: u64,
    pub not_json_lines: u64,
}

impl Tally {
    /// Reads one line; `received` stands for the time of events without one.
    /// Events before `since` are skipped (`failures --since`).
    pub fn add_line(
        &mut self,
        line: &str,
        who: &Attributor,
        received: DateTime<Utc>,
        since: Option<DateTime<Utc>>,
    ) {
        let e = match event::parse(line) {
            Line::Binding(e) => e,
            Line::OtherJson => {
                self.other_json_lines += 1;
                return;
            }
            Line::NotJson => {
                self.not_json_lines += 1;
                return;
            }
        };
        let at = e.at.unwrap_or(received);
        if since.is_some_and(|s| at < s) {
            return;
        }
        self.binding_lines += 1;
        let Some(id) = who.attribute(&e) else {
            self.unattributed += 1;
            let key = e
                .subject
                .clone()
                .or(e.fingerprint_prefix.clone())
                .unwrap_or_else(|| "(none)".into());
            // Bounded: a flood of distinct subjects keeps only the first ones apart.
            if self.unattributed_subjects.len() < 1000
                || self.unattributed_subjects.contains_key(&key)
            {
                *self.unattributed_subjects.entry(key).or_default() += 1;
            }
            return;
        };
        let c = self.per_client.entry(id.to_string()).or_default();
        let what = match e.outcome {
            Outcome::Verified => {
                c.successes += 1;
                "verified".to_string()
            }
            Outcome::Refused(reason) => {
                *c.failures.entry(reason.clone()).or_default() += 1;
                c.last_failure = Some(c.last_failure.map_or(at, |l| l.max(at)));
                let minute = at.timestamp().div_euclid(60);
                match c.minutes.back_mut() {
                    Some((m, n)) if *m == minute => *n += 1,
                    _ => c.minutes.push_back((minute, 1)),
                }
                while c.minutes.len() > NOW_MINUTES as usize + 1 {
                    c.minutes.pop_front();
                }
                reason
            }
        };
        c.recent.push_back(Recent { at, what });
        if c.recent.len() > RECENT {
            c.recent.pop_front();
        }
    }

    /// Clients with failures, most failures in the last minutes first.
    pub fn failing(&self, now: DateTime<Utc>) -> Vec<(&str, &ClientFailures)> {
        let mut out: Vec<_> = self
            .per_client
            .iter()
            .filter(|(_, c)| c.total() > 0)
            .map(|(id, c)| (id.as_str(), c))
            .collect();
        out.sort_by_key(|(id, c)| {
            (
                std::cmp::Reverse(c.recent_failures(now)),
                std::cmp::Reverse(c.total()),
                *id,
            )
        });
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Fingerprint;
    use crate::fixture;

    fn client(id: &str, name: &str, cn: &str, fp_hex: &str) -> Client {
        let mut c = crate::tui::fixtures::fleet(1).remove(0);
        c.id = id.into();
        c.name = name.into();
        c.cn = cn.into();
        c.fingerprint = Some(Fingerprint::parse(fp_hex).unwrap());
        c.fingerprint_previous = None;
        c
    }

    #[test]
    fn legacy_events_go_to_their_subject_and_the_rest_is_counted() {
        let clients = vec![client(
            "demo-client-001",
            "demo",
            "demo.acme",
            &"c6647ddc313d61ab".repeat(4),
        )];
        let who = Attributor::new(&clients);
        let mut t = Tally::default();
        let now = Utc::now();
        for l in fixture("legacy-gateway-log.jsonl").lines() {
            t.add_line(l, &who, now, None);
        }
        let c = &t.per_client["demo-client-001"];
        assert_eq!(c.failures["mismatch"], 6);
        assert_eq!(
            (c.failures["missing_header"], c.failures["invalid_cnf"]),
            (1, 1)
        );
        assert_eq!(c.total(), 8);
        assert_eq!(t.unattributed, 0);
        assert_eq!((t.other_json_lines, t.binding_lines), (10, 8));
        assert_eq!(t.binding_lines + t.other_json_lines + t.not_json_lines, 58);
        // The fixture's events are from its capture day: none in the last 5 minutes.
        assert_eq!(c.recent_failures(now), 0);
        assert_eq!(
            c.last_failure.unwrap().to_rfc3339(),
            "2026-12-04T15:08:26.978998+00:00"
        );
    }

    #[test]
    fn current_gateway_events_go_by_fingerprint_prefix_or_stay_apart() {
        let who = Attributor::new(&[
            client(
                "a",
                "alpha",
                "alpha.acme",
                &format!("986ccf22{}", "0".repeat(56)),
            ),
            client(
                "b",
                "beta",
                "beta.acme",
                &format!("11112222{}", "0".repeat(56)),
            ),
        ]);
        let mut t = Tally::default();
        let at = "2026-12-04T15:20:00Z".parse().unwrap();
        for l in fixture("stoa-gateway-log.jsonl").lines() {
            t.add_line(l, &who, at, None);
        }
        let a = &t.per_client["a"];
        assert_eq!(a.successes, 6);
        assert_eq!(a.failures["mismatch"], 3);
        assert_eq!(a.failures["binding_required"], 2);
        assert_eq!(a.recent_failures(at), 5, "within the last five minutes");
        assert!(!t.per_client.contains_key("b"));
        // The untrusted-proxy refusal names no certificate.
        assert_eq!(t.unattributed, 1);
        assert_eq!(t.unattributed_subjects["(none)"], 1);
        assert_eq!(t.failing(at)[0].0, "a");
    }

    #[test]
    fn a_shared_prefix_names_no_one_and_cn_is_the_last_resort() {
        let who = Attributor::new(&[
            client(
                "a",
                "alpha",
                "alpha.acme",
                &format!("abcdef01{}", "1".repeat(56)),
            ),
            client(
                "b",
                "beta",
                "beta.acme",
                &format!("abcdef01{}", "2".repeat(56)),
            ),
        ]);
        let e = |fp: Option<&str>, dn: Option<&str>| BindingEvent {
            at: None,
            outcome: Outcome::Refused("mismatch".into()),
            subject: None,
            fingerprint_prefix: fp.map(String::from),
            cert_subject: dn.map(String::from),
        };
        assert_eq!(who.attribute(&e(Some("abcdef01"), None)), None);
        assert_eq!(who.attribute(&e(Some("abcdef0111"), None)), Some("a"));
        assert_eq!(
            who.attribute(&e(Some("abcdef01"), Some("CN=beta.acme,OU=x"))),
            Some("b")
        );
    }
}
