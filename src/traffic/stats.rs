//! Traffic statistics: counts by intent and outcome, unexpected outcomes,
//! latency percentiles (HDR histogram, from each request's scheduled instant),
//! and per-client and per-certificate counts for the console's tiles.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::Serialize;

use super::mix::Intent;
use super::profile::Outcome;
use crate::domain::Fingerprint;

/// Which certificate a request presented.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CertUsed {
    Current,
    Previous,
    /// Not the client's (the header of a header-mismatch request).
    Forged,
    None,
}

/// One request's record.
#[derive(Debug, Clone)]
pub struct OutcomeRecord {
    pub client: Arc<str>,
    pub intent: Intent,
    pub cert: CertUsed,
    pub fingerprint: Option<Fingerprint>,
    pub outcome: Outcome,
    /// From the scheduled instant to the end of the answer.
    pub latency: Duration,
    pub unexpected: bool,
    pub at: Instant,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PassFail {
    pub ok: u64,
    pub failed: u64,
}

#[derive(Debug, Clone)]
pub struct ClientActivity {
    pub counts: PassFail,
    pub unexpected: u64,
    /// When the last answer came, whether it passed, whether it was unexpected.
    pub last: Option<(Instant, bool, bool)>,
}

#[derive(Debug, Clone)]
pub struct Stats {
    pub started: Instant,
    /// When scheduling stopped (end of the duration, or stop).
    pub schedule_ended: Option<Instant>,
    /// When the last request in flight finished.
    pub ended: Option<Instant>,
    /// Requests started (each yields exactly one record).
    pub sent: u64,
    pub completed: u64,
    /// Requests whose start came too late or found no free slot: never sent.
    pub dropped: u64,
    /// Requests that started more than [`LATE_AFTER`] after their scheduled instant.
    pub late: u64,
    /// Connection workers started (each holds one connection at a time).
    pub connections: usize,
    pub by_intent: BTreeMap<Intent, BTreeMap<Outcome, u64>>,
    pub unexpected: u64,
    pub unexpected_by_intent: BTreeMap<Intent, u64>,
    pub latency_us: Histogram<u64>,
    pub per_client: HashMap<Arc<str>, ClientActivity>,
    pub per_fingerprint: HashMap<Fingerprint, PassFail>,
}

/// A start later than this counts as late (it is still sent and measured).
pub const LATE_AFTER: Duration = Duration::from_millis(10);

impl Stats {
    pub fn new(started: Instant) -> Self {
        Self {
            started,
            schedule_ended: None,
            ended: None,
            sent: 0,
            completed: 0,
            dropped: 0,
            late: 0,
            connections: 0,
            by_intent: BTreeMap::new(),
            unexpected: 0,
            unexpected_by_intent: BTreeMap::new(),
            latency_us: Histogram::new_with_bounds(1, 120_000_000, 3).expect("static bounds"),
            per_client: HashMap::new(),
            per_fingerprint: HashMap::new(),
        }
    }

    pub fn record(&mut self, r: &OutcomeRecord) {
        self.completed += 1;
        *self
            .by_intent
            .entry(r.intent)
            .or_default()
            .entry(r.outcome.clone())
            .or_default() += 1;
        if r.unexpected {
            self.unexpected += 1;
            *self.unexpected_by_intent.entry(r.intent).or_default() += 1;
        }
        let us = (r.latency.as_micros() as u64).clamp(1, 120_000_000);
        let _ = self.latency_us.record(us);
        let ok = matches!(r.outcome, Outcome::Passed(s) if s < 400);
        let c = self
            .per_client
            .entry(r.client.clone())
            .or_insert(ClientActivity {
                counts: PassFail::default(),
                unexpected: 0,
                last: None,
            });
        c.unexpected += u64::from(r.unexpected);
        if ok {
            c.counts.ok += 1;
        } else {
            c.counts.failed += 1;
        }
        c.last = Some((r.at, ok, r.unexpected));
        if let Some(fp) = r.fingerprint
            && matches!(r.cert, CertUsed::Current | CertUsed::Previous)
            && matches!(r.intent, Intent::Valid | Intent::StalePrevious)
        {
            let pf = self.per_fingerprint.entry(fp).or_default();
            if ok {
                pf.ok += 1;
            } else {
                pf.failed += 1;
            }
        }
    }

    /// Count of an intent's outcomes matching `f`.
    pub fn count(&self, intent: Intent, f: impl Fn(&Outcome) -> bool) -> u64 {
        self.by_intent
            .get(&intent)
            .map_or(0, |m| m.iter().filter(|(o, _)| f(o)).map(|(_, n)| n).sum())
    }

    /// Outcomes over all intents.
    pub fn outcomes(&self) -> BTreeMap<Outcome, u64> {
        let mut out = BTreeMap::new();
        for m in self.by_intent.values() {
            for (o, n) in m {
                *out.entry(o.clone()).or_default() += n;
            }
        }
        out
    }

    pub fn elapsed(&self, now: Instant) -> Duration {
        self.ended.unwrap_or(now).duration_since(self.started)
    }

    /// Requests started per second over the scheduling window (draining the last
    /// answers is not part of the pace).
    pub fn achieved_rate(&self, now: Instant) -> f64 {
        let end = self.schedule_ended.or(self.ended).unwrap_or(now);
        let secs = end.duration_since(self.started).as_secs_f64();
        if secs > 0.0 {
            self.sent as f64 / secs
        } else {
            0.0
        }
    }

    pub fn percentile_ms(&self, q: f64) -> Option<f64> {
        (!self.latency_us.is_empty()).then(|| self.latency_us.value_at_quantile(q) as f64 / 1e3)
    }

    pub fn max_ms(&self) -> Option<f64> {
        (!self.latency_us.is_empty()).then(|| self.latency_us.max() as f64 / 1e3)
    }
}
