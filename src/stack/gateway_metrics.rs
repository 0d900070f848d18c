//! The built-in gateway's counters and their Prometheus text exposition, under the
//! real gateways' family names. Lock-free on the request path except the request
//! count by route and status, whose small map takes one short lock.
//!
//! Like the real Python gateway, a labelled counter has no sample line until its
//! first increment, and each sample has a `_created` gauge beside it.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::binding::{Failure, Profile, Verdict};

const BUCKETS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];
const STOA_RESULTS: [&str; 4] = ["match", "mismatch", "denied", "error"];

struct Counter {
    value: AtomicU64,
    /// Unix time of the first increment, in microseconds (0: never).
    created_us: AtomicU64,
}

impl Counter {
    const fn new() -> Self {
        Self {
            value: AtomicU64::new(0),
            created_us: AtomicU64::new(0),
        }
    }

    fn inc(&self) {
        if self.value.fetch_add(1, Relaxed) == 0 {
            let _ = self
                .created_us
                .compare_exchange(0, unix_us(), Relaxed, Relaxed);
        }
    }

    fn get(&self) -> u64 {
        self.value.load(Relaxed)
    }
}

fn unix_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

pub struct GatewayMetrics {
    profile: Profile,
    success: Counter,
    failures: [Counter; Failure::LEGACY_REASONS.len()],
    stoa_checks: [Counter; STOA_RESULTS.len()],
    requests: Mutex<BTreeMap<(&'static str, &'static str, u16), u64>>,
    latency_buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_ns: AtomicU64,
}

impl GatewayMetrics {
    pub fn new(profile: Profile) -> Self {
        Self {
            profile,
            success: Counter::new(),
            failures: std::array::from_fn(|_| Counter::new()),
            stoa_checks: std::array::from_fn(|_| Counter::new()),
            requests: Mutex::new(BTreeMap::new()),
            latency_buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            latency_count: AtomicU64::new(0),
            latency_sum_ns: AtomicU64::new(0),
        }
    }

    /// Counts one binding verdict (exempt and passed-on requests count nothing).
    pub fn record_verdict(&self, verdict: &Verdict) {
        match verdict {
            Verdict::Exempt | Verdict::PassedOn => {}
            Verdict::Success => {
                self.success.inc();
                self.stoa_checks[0].inc();
            }
            Verdict::Rejected(f) => {
                if let Some(i) = Failure::LEGACY_REASONS
                    .iter()
                    .position(|r| *r == f.reason())
                {
                    self.failures[i].inc();
                }
                let stoa = f.stoa_result();
                if let Some(i) = STOA_RESULTS.iter().position(|r| *r == stoa) {
                    self.stoa_checks[i].inc();
                }
            }
        }
    }

    pub fn record_request(
        &self,
        route: &'static str,
        method: &'static str,
        status: u16,
        took: Duration,
    ) {
        *self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry((route, method, status))
            .or_default() += 1;
        // One add per request in its own bucket (past the last: +Inf only);
        // the exposition's cumulative counts are summed when rendering.
        let secs = took.as_secs_f64();
        if let Some(i) = BUCKETS.iter().position(|le| secs <= *le) {
            self.latency_buckets[i].fetch_add(1, Relaxed);
        }
        self.latency_count.fetch_add(1, Relaxed);
        self.latency_sum_ns
            .fetch_add(took.as_nanos() as u64, Relaxed);
    }

    pub fn successes(&self) -> u64 {
        self.success.get()
    }

    pub fn failures(&self, reason: &str) -> u64 {
        Failure::LEGACY_REASONS
            .iter()
            .position(|r| *r == reason)
            .map_or(0, |i| self.failures[i].get())
    }

    /// The Prometheus text exposition (version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        match self.profile {
            Profile::Legacy => self.render_legacy(&mut out),
            Profile::StoaGateway => self.render_stoa(&mut out),
        }
        self.render_requests(&mut out);
        out
    }

    fn render_legacy(&self, out: &mut String) {
        let v = "stoa_mcp_gateway_cert_binding_validations";
        family(
            out,
            &format!("{v}_total"),
            "counter",
            "Total certificate binding validations",
        );
        sample(
            out,
            &format!("{v}_total"),
            "status=\"success\"",
            &self.success,
        );
        family(
            out,
            &format!("{v}_created"),
            "gauge",
            "Total certificate binding validations",
        );
        created(
            out,
            &format!("{v}_created"),
            "status=\"success\"",
            &self.success,
        );

        let f = "stoa_mcp_gateway_cert_binding_failures";
        family(
            out,
            &format!("{f}_total"),
            "counter",
            "Certificate binding validation failures",
        );
        for (reason, c) in Failure::LEGACY_REASONS.iter().zip(&self.failures) {
            sample(
                out,
                &format!("{f}_total"),
                &format!("reason=\"{reason}\""),
                c,
            );
        }
        family(
            out,
            &format!("{f}_created"),
            "gauge",
            "Certificate binding validation failures",
        );
        for (reason, c) in Failure::LEGACY_REASONS.iter().zip(&self.failures) {
            created(
                out,
                &format!("{f}_created"),
                &format!("reason=\"{reason}\""),
                c,
            );
        }
    }

    fn render_stoa(&self, out: &mut String) {
        let name = "stoa_mtls_binding_checks_total";
        family(
            out,
            name,
            "counter",
            "Total RFC 8705 certificate-token binding checks",
        );
        for (result, c) in STOA_RESULTS.iter().zip(&self.stoa_checks) {
            sample(out, name, &format!("result=\"{result}\""), c);
        }
    }

    fn render_requests(&self, out: &mut String) {
        let (requests, duration, route_label, status_label) = match self.profile {
            Profile::Legacy => (
                "stoa_mcp_gateway_http_requests_total",
                "stoa_mcp_gateway_http_request_duration_seconds",
                "endpoint",
                "status_code",
            ),
            Profile::StoaGateway => (
                "stoa_http_requests_total",
                "stoa_http_request_duration_seconds",
                "http_route",
                "status",
            ),
        };
        family(out, requests, "counter", "Total HTTP requests");
        let map = self
            .requests
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        for ((route, method, status), n) in map {
            let _ = writeln!(
                out,
                "{requests}{{{route_label}=\"{route}\",method=\"{method}\",{status_label}=\"{status}\"}} {n}"
            );
        }
        family(
            out,
            duration,
            "histogram",
            "HTTP request duration in seconds",
        );
        let mut cumulative = 0;
        for (le, c) in BUCKETS.iter().zip(&self.latency_buckets) {
            cumulative += c.load(Relaxed);
            let _ = writeln!(out, "{duration}_bucket{{le=\"{le}\"}} {cumulative}");
        }
        let count = self.latency_count.load(Relaxed);
        let _ = writeln!(out, "{duration}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "{duration}_count {count}");
        let sum = self.latency_sum_ns.load(Relaxed) as f64 / 1e9;
        let _ = writeln!(out, "{duration}_sum {sum}");
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, labels: &str, c: &Counter) {
    let v = c.get();
    if v > 0 {
        let _ = writeln!(out, "{name}{{{labels}}} {v}.0");
    }
}

fn created(out: &mut String, name: &str, labels: &str, c: &Counter) {
    if c.get() > 0 {
        let us = c.created_us.load(Relaxed);
        let _ = writeln!(out, "{name}{{{labels}}} {}", us as f64 / 1e6);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn declared_families_have_no_samples_until_first_increment() {
        let m = GatewayMetrics::new(Profile::Legacy);
        let page = m.render();
        assert!(page.contains("# TYPE stoa_mcp_gateway_cert_binding_failures_total counter"));
        assert!(!page.contains("stoa_mcp_gateway_cert_binding_failures_total{"));
        m.record_verdict(&Verdict::Rejected(Failure::Mismatch));
        m.record_verdict(&Verdict::Success);
        m.record_verdict(&Verdict::PassedOn);
        let page = m.render();
        assert!(
            page.contains(
                "stoa_mcp_gateway_cert_binding_failures_total{reason=\"mismatch\"} 1.0\n"
            )
        );
        assert!(
            page.contains(
                "stoa_mcp_gateway_cert_binding_validations_total{status=\"success\"} 1.0\n"
            )
        );
        assert!(
            page.contains("stoa_mcp_gateway_cert_binding_failures_created{reason=\"mismatch\"} 1")
        );
        assert!(!page.contains("reason=\"missing_header\""));
    }

    #[test]
    fn current_profile_families() {
        let m = GatewayMetrics::new(Profile::StoaGateway);
        m.record_verdict(&Verdict::Success);
        m.record_verdict(&Verdict::Rejected(Failure::BindingRequired));
        m.record_request(
            "/mcp/resources/list",
            "POST",
            200,
            Duration::from_micros(50),
        );
        let page = m.render();
        assert!(page.contains("stoa_mtls_binding_checks_total{result=\"match\"} 1.0\n"));
        assert!(page.contains("stoa_mtls_binding_checks_total{result=\"denied\"} 1.0\n"));
        assert!(page.contains("stoa_http_requests_total{http_route=\"/mcp/resources/list\",method=\"POST\",status=\"200\"} 1\n"));
        m.record_request("/mcp/resources/list", "POST", 200, Duration::from_millis(3));
        let page = m.render();
        assert!(page.contains("stoa_http_request_duration_seconds_bucket{le=\"0.0005\"} 1\n"));
        assert!(page.contains("stoa_http_request_duration_seconds_bucket{le=\"0.0025\"} 1\n"));
        assert!(
            page.contains("stoa_http_request_duration_seconds_bucket{le=\"0.005\"} 2\n"),
            "cumulative"
        );
        assert!(page.contains("stoa_http_request_duration_seconds_bucket{le=\"+Inf\"} 2\n"));
        assert!(!page.contains("cert_binding"));
    }
}
