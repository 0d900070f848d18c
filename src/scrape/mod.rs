//! Scraping gateways' `/metrics`: recognize the binding counters, keep their
//! history with reset semantics, sum replicas, and say which target is down and why.

pub mod exposition;
pub mod families;
pub mod history;
pub mod prometheus;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures::StreamExt;
use serde::Serialize;
use tokio::sync::{mpsc, watch};

pub use families::{BindingReading, FamilyKind, Presence};
use history::{History, SUCCESS};

/// A page larger than this is refused (a real one is tens of kilobytes).
pub const DEFAULT_MAX_PAGE: usize = 16 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct ScrapeOptions {
    pub targets: Vec<url::Url>,
    pub interval: Duration,
    pub timeout: Duration,
    pub custom_families: Vec<String>,
    pub max_page: usize,
}

impl ScrapeOptions {
    /// Interval as given, timeout a little shorter so scrapes never pile up.
    pub fn new(targets: Vec<url::Url>, interval: Duration) -> Self {
        Self {
            targets,
            interval,
            timeout: interval.mul_f64(0.8).max(Duration::from_millis(200)),
            custom_families: Vec::new(),
            max_page: DEFAULT_MAX_PAGE,
        }
    }
}

/// Why a scrape failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case", tag = "kind", content = "detail")]
pub enum ScrapeError {
    #[error("connection refused")]
    Refused,
    #[error("no answer within {0} ms")]
    Timeout(u64),
    #[error("HTTP {0}")]
    Http(u16),
    #[error("page too large (over {0} bytes)")]
    TooLarge(usize),
    #[error("unparsable page: {0}")]
    Unparsable(String),
    #[error("{0}")]
    Connection(String),
}

/// One target as the panel shows it.
#[derive(Debug, Clone, Serialize)]
pub struct TargetStatus {
    /// The URL, password redacted.
    pub url: String,
    pub up: bool,
    pub error: Option<ScrapeError>,
    pub last_success: Option<DateTime<Utc>>,
    pub down_since: Option<DateTime<Utc>>,
    pub latency_ms: Option<f64>,
    pub reading: Option<BindingReading>,
    /// Counter resets seen (gateway restarts).
    pub resets: u32,
}

/// Figures over all targets, for the panel and `--json`.
#[derive(Debug, Clone, Serialize)]
pub struct BindingSnapshot {
    pub at: DateTime<Utc>,
    pub kind: Option<FamilyKind>,
    pub presence: Presence,
    pub successes: f64,
    pub failures: BTreeMap<String, f64>,
    pub failures_total: f64,
    /// Per-second rates over 1 s, 10 s and 60 s: success, failures, and by reason.
    pub rates: BTreeMap<String, [Option<f64>; 3]>,
    pub failure_ratio: Option<f64>,
    pub targets: Vec<TargetStatus>,
    /// Last increments per scrape (oldest first): successes and failures.
    pub spark_success: Vec<u64>,
    pub spark_failures: Vec<u64>,
    pub hint: Option<String>,
}

pub const WINDOWS: [f64; 3] = [1.0, 10.0, 60.0];

/// A fetched page and how long it took, or why it failed.
pub type FetchResult = Result<(String, Duration), ScrapeError>;

struct TargetTrack {
    status: TargetStatus,
    history: History,
    failures_in_row: u32,
    next_attempt: Instant,
}

/// The state of a watch over several targets. Pure apart from the clock values
/// passed in, so every figure is a unit test.
pub struct Watch {
    targets: Vec<TargetTrack>,
    aggregate: History,
    kind: Option<FamilyKind>,
    presence: Presence,
    origin: Instant,
}

impl Watch {
    pub fn new(urls: &[url::Url], now: Instant) -> Self {
        let mut w = Self {
            targets: Vec::new(),
            aggregate: History::default(),
            kind: None,
            presence: Presence::Absent,
            origin: now,
        };
        for u in urls {
            w.target_index(&crate::config::redact_url(u.as_str()), now);
        }
        w
    }

    /// The index of a named target, added on first sight (Prometheus instances).
    pub fn target_index(&mut self, name: &str, now: Instant) -> usize {
        if let Some(i) = self.targets.iter().position(|t| t.status.url == name) {
            return i;
        }
        self.targets.push(TargetTrack {
            status: TargetStatus {
                url: name.to_string(),
                up: false,
                error: None,
                last_success: None,
                down_since: None,
                latency_ms: None,
                reading: None,
                resets: 0,
            },
            history: History::default(),
            failures_in_row: 0,
            next_attempt: now,
        });
        self.targets.len() - 1
    }

    pub fn target_count(&self) -> usize {
        self.targets.len()
    }

    /// Which targets are due for a scrape (down ones back off).
    pub fn due(&self, now: Instant) -> Vec<usize> {
        (0..self.targets.len())
            .filter(|i| self.targets[*i].next_attempt <= now)
            .collect()
    }

    /// Applies one round of results (target index → page or error).
    pub fn apply(
        &mut self,
        now: Instant,
        wall: DateTime<Utc>,
        interval: Duration,
        results: Vec<(usize, FetchResult)>,
        custom: &[String],
    ) {
        let t = now.duration_since(self.origin).as_secs_f64();
        for (i, result) in results {
            let Some(track) = self.targets.get_mut(i) else {
                continue;
            };
            match result {
                Ok((page, took)) => {
                    let reading = families::read(&page, custom);
                    let mut raw: Vec<(&str, f64)> = vec![(SUCCESS, reading.successes)];
                    raw.extend(reading.failures.iter().map(|(k, v)| (k.as_str(), *v)));
                    track.history.record(t, raw);
                    let s = &mut track.status;
                    s.up = true;
                    s.error = None;
                    s.down_since = None;
                    s.last_success = Some(wall);
                    s.latency_ms = Some(took.as_secs_f64() * 1e3);
                    s.resets = track.history.resets();
                    s.reading = Some(reading);
                    track.failures_in_row = 0;
                    track.next_attempt = now + interval;
                }
                Err(e) => {
                    let s = &mut track.status;
                    if s.up || s.down_since.is_none() {
                        s.down_since = Some(wall);
                    }
                    s.up = false;
                    s.error = Some(e);
                    track.failures_in_row += 1;
                    // Back off, but never so far that a restart goes unseen for long.
                    let factor = 1.5f64.min(2f64.powi(track.failures_in_row as i32 - 1));
                    track.next_attempt = now + interval.mul_f64(factor);
                }
            }
        }
        // Sum of each target's running totals: monotonic, so replicas add up and
        // a restart or a down target never makes the sum go back.
        let mut sums: BTreeMap<String, f64> = BTreeMap::new();
        for track in &self.targets {
            *sums.entry(SUCCESS.to_string()).or_default() += track.history.total(SUCCESS);
            for reason in track.history.failure_reasons() {
                *sums.entry(reason.to_string()).or_default() += track.history.total(reason);
            }
        }
        self.aggregate
            .record(t, sums.iter().map(|(k, v)| (k.as_str(), *v)));
        let readings: Vec<&BindingReading> = self
            .targets
            .iter()
            .filter_map(|t| t.status.reading.as_ref())
            .collect();
        if let Some(r) = readings.iter().find(|r| r.kind.is_some()) {
            self.kind = r.kind;
        }
        self.presence = if readings.iter().any(|r| r.presence == Presence::Present) {
            Presence::Present
        } else if readings
            .iter()
            .any(|r| r.presence == Presence::DeclaredNoSamples)
        {
            Presence::DeclaredNoSamples
        } else {
            Presence::Absent
        };
    }

    pub fn snapshot(&self, wall: DateTime<Utc>, spark: usize) -> BindingSnapshot {
        let h = &self.aggregate;
        let mut rates = BTreeMap::new();
        rates.insert(SUCCESS.to_string(), WINDOWS.map(|w| h.rate(SUCCESS, w)));
        rates.insert("failures".to_string(), WINDOWS.map(|w| h.failure_rate(w)));
        for reason in h.failure_reasons() {
            rates.insert(reason.to_string(), WINDOWS.map(|w| h.rate(reason, w)));
        }
        let any_up = self.targets.iter().any(|t| t.status.up);
        BindingSnapshot {
            at: wall,
            kind: self.kind,
            presence: self.presence,
            successes: h.total(SUCCESS),
            failures: h
                .failure_reasons()
                .map(|r| (r.to_string(), h.total(r)))
                .collect(),
            failures_total: h.failure_total(),
            rates,
            failure_ratio: h.failure_ratio(60.0).or_else(|| h.failure_ratio_total()),
            targets: self.targets.iter().map(|t| t.status.clone()).collect(),
            spark_success: h.increments(Some(SUCCESS), spark),
            spark_failures: h.increments(None, spark),
            hint: (any_up && self.presence == Presence::Absent)
                .then(|| BindingReading::absent_hint().to_string()),
        }
    }
}

/// A client for scraping: keep-alive, and none of the proxy headers that make the
/// real gateway answer 403 "internal only".
pub fn http_client(timeout: Duration) -> reqwest::Client {
    crate::init_tls();
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .pool_idle_timeout(Duration::from_secs(90))
        .user_agent(concat!("mtls-console/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("a plain HTTP client builds")
}

/// Fetches one page, bounded in size and time.
pub async fn fetch(
    client: &reqwest::Client,
    url: &url::Url,
    timeout: Duration,
    max: usize,
) -> FetchResult {
    let start = Instant::now();
    let work = async {
        let resp = client
            .get(url.clone())
            .header(
                reqwest::header::ACCEPT,
                "text/plain;version=0.0.4;q=1,*/*;q=0.1",
            )
            .send()
            .await
            .map_err(|e| classify(e, timeout))?;
        if !resp.status().is_success() {
            return Err(ScrapeError::Http(resp.status().as_u16()));
        }
        if resp.content_length().is_some_and(|n| n as usize > max) {
            return Err(ScrapeError::TooLarge(max));
        }
        let mut body = Vec::new();
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| classify(e, timeout))?;
            if body.len() + chunk.len() > max {
                return Err(ScrapeError::TooLarge(max));
            }
            body.extend_from_slice(&chunk);
        }
        String::from_utf8(body).map_err(|_| ScrapeError::Unparsable("not UTF-8 text".into()))
    };
    match tokio::time::timeout(timeout, work).await {
        Err(_) => Err(ScrapeError::Timeout(timeout.as_millis() as u64)),
        Ok(r) => r.map(|page| (page, start.elapsed())),
    }
}

pub(crate) fn classify(e: reqwest::Error, timeout: Duration) -> ScrapeError {
    if e.is_timeout() {
        return ScrapeError::Timeout(timeout.as_millis() as u64);
    }
    let mut source: Option<&dyn std::error::Error> = Some(&e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::ConnectionRefused
        {
            return ScrapeError::Refused;
        }
        source = s.source();
    }
    if e.is_connect() {
        return ScrapeError::Connection("cannot connect".into());
    }
    ScrapeError::Connection(e.without_url().to_string())
}

/// Scrapes every target each interval until `stop` turns true, sending a snapshot
/// after each round. Slow targets never delay the others beyond the timeout.
pub async fn run(
    opts: ScrapeOptions,
    tx: mpsc::Sender<BindingSnapshot>,
    mut stop: watch::Receiver<bool>,
) {
    let client = http_client(opts.timeout);
    let mut state = Watch::new(&opts.targets, Instant::now());
    let mut tick = tokio::time::interval(opts.interval.min(Duration::from_millis(250)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.changed() => return,
        }
        let due = state.due(Instant::now());
        if due.is_empty() {
            continue;
        }
        let fetches = due.into_iter().map(|i| {
            let (client, url) = (&client, &opts.targets[i]);
            async move { (i, fetch(client, url, opts.timeout, opts.max_page).await) }
        });
        let results = futures::future::join_all(fetches).await;
        state.apply(
            Instant::now(),
            Utc::now(),
            opts.interval,
            results,
            &opts.custom_families,
        );
        if tx.send(state.snapshot(Utc::now(), 120)).await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn legacy_page(success: u64, mismatch: u64) -> String {
        format!(
            "# TYPE stoa_mcp_gateway_cert_binding_validations_total counter\n\
             stoa_mcp_gateway_cert_binding_validations_total{{status=\"success\"}} {success}.0\n\
             stoa_mcp_gateway_cert_binding_failures_total{{reason=\"mismatch\"}} {mismatch}.0\n"
        )
    }

    fn urls(n: usize) -> Vec<url::Url> {
        (0..n)
            .map(|i| url::Url::parse(&format!("http://127.0.0.1:{}/metrics", 9000 + i)).unwrap())
            .collect()
    }

    #[test]
    fn two_replicas_sum_and_a_restart_never_drops_the_total() {
        let t0 = Instant::now();
        let mut w = Watch::new(&urls(2), t0);
        let iv = Duration::from_secs(1);
        let ok = |p: String| Ok((p, Duration::from_millis(1)));
        w.apply(
            t0,
            Utc::now(),
            iv,
            vec![(0, ok(legacy_page(10, 1))), (1, ok(legacy_page(20, 2)))],
            &[],
        );
        let s = w.snapshot(Utc::now(), 10);
        assert_eq!((s.successes, s.failures["mismatch"]), (30.0, 3.0));
        // Replica 1 restarts (its counters fall to 5), replica 0 goes on.
        let t1 = t0 + iv;
        w.apply(
            t1,
            Utc::now(),
            iv,
            vec![(0, ok(legacy_page(15, 1))), (1, ok(legacy_page(5, 0)))],
            &[],
        );
        let s = w.snapshot(Utc::now(), 10);
        assert_eq!(s.successes, 40.0, "10+5 more, 20+5 after restart");
        assert_eq!(s.rates["success"][0], Some(10.0));
        assert_eq!(s.targets[1].resets, 1);
        assert_eq!(s.spark_success, vec![10]);
    }

    #[test]
    fn a_target_down_and_back() {
        let t0 = Instant::now();
        let mut w = Watch::new(&urls(1), t0);
        let iv = Duration::from_secs(1);
        w.apply(
            t0,
            Utc::now(),
            iv,
            vec![(0, Ok((legacy_page(10, 0), Duration::ZERO)))],
            &[],
        );
        let t1 = t0 + iv;
        w.apply(
            t1,
            Utc::now(),
            iv,
            vec![(0, Err(ScrapeError::Refused))],
            &[],
        );
        let s = w.snapshot(Utc::now(), 10);
        assert!(!s.targets[0].up);
        assert_eq!(s.targets[0].error, Some(ScrapeError::Refused));
        assert!(s.targets[0].last_success.is_some() && s.targets[0].down_since.is_some());
        assert_eq!(s.successes, 10.0, "last figures kept while down");
        assert!(
            w.due(t1 + Duration::from_millis(999)).is_empty(),
            "backs off"
        );
        assert_eq!(
            w.due(t1 + Duration::from_millis(1500)),
            vec![0],
            "but not for long"
        );
        // Back after a restart: counters start again from zero.
        let t2 = t1 + Duration::from_secs(2);
        w.apply(
            t2,
            Utc::now(),
            iv,
            vec![(0, Ok((legacy_page(4, 0), Duration::ZERO)))],
            &[],
        );
        let s = w.snapshot(Utc::now(), 10);
        assert!(s.targets[0].up && s.targets[0].error.is_none());
        assert_eq!(s.successes, 14.0);
        assert!(s.rates["success"].iter().all(|r| r.unwrap_or(0.0) >= 0.0));
    }

    #[test]
    fn absent_families_give_the_hint() {
        let t0 = Instant::now();
        let mut w = Watch::new(&urls(1), t0);
        w.apply(
            t0,
            Utc::now(),
            Duration::from_secs(1),
            vec![(0, Ok(("up 1\n".into(), Duration::ZERO)))],
            &[],
        );
        let s = w.snapshot(Utc::now(), 10);
        assert_eq!(s.presence, Presence::Absent);
        assert!(s.hint.unwrap().contains("CERT_BINDING_ENABLED=true"));
    }
}
