//! The traffic engine against the built-in gateway over real HTTP: the mix and the
//! gateway's counters, a rotation mid-run, and a gateway killed and restarted.

mod common;

use std::time::{Duration, Instant};

use mtls_console::domain::token::{DEMO_SECRET, TokenMinter};
use mtls_console::secret::Secret;
use mtls_console::stack::{self, StackHandle, StackOptions};
use mtls_console::store::Registry;
use mtls_console::traffic::mix::Intent;
use mtls_console::traffic::profile::{Outcome, Profile};
use mtls_console::traffic::{self, TrafficOptions};
use serde_json::{Value, json};

async fn start_stack(
    registry: Registry,
    tenant: &str,
    gateway: std::net::SocketAddr,
) -> StackHandle {
    mtls_console::init_tls();
    let opts = StackOptions {
        gateway_listen: gateway,
        ..StackOptions::loopback(tenant, Secret::new(DEMO_SECRET))
    };
    stack::start(registry, opts).await.unwrap()
}

fn minter() -> TokenMinter {
    TokenMinter::new(&Secret::new(DEMO_SECRET)).unwrap()
}

fn options(h: &StackHandle, tenant: &str, rate: f64, secs: f64) -> TrafficOptions {
    let mut o = TrafficOptions::new(
        url::Url::parse(&h.gateway_url()).unwrap(),
        Profile::legacy(),
        tenant,
        rate,
    );
    o.duration = Some(Duration::from_secs_f64(secs));
    o
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_requests_follow_the_mix_and_equal_the_gateway_counters() {
    let registry = Registry::embedded_demo("acme", 100).await.unwrap();
    let h = start_stack(registry.clone(), "acme", "127.0.0.1:0".parse().unwrap()).await;
    let s = traffic::start(registry, minter(), options(&h, "acme", 2500.0, 4.0))
        .finish()
        .await;
    assert_eq!(
        s.sent + s.dropped,
        10_000,
        "every scheduled request is sent or counted as dropped"
    );
    assert_eq!(s.dropped, 0);
    assert_eq!(s.completed, s.sent);
    let share = |i: Intent| {
        100.0 * s.by_intent.get(&i).map_or(0, |m| m.values().sum::<u64>()) as f64 / s.sent as f64
    };
    for (intent, want) in [
        (Intent::Valid, 80.0),
        (Intent::HeaderMismatch, 10.0),
        (Intent::JwtMismatch, 10.0),
    ] {
        let got = share(intent);
        assert!(
            (got - want).abs() <= 1.5,
            "{intent}: {got:.2} % (want {want} ± 1.5)"
        );
    }
    // Valid requests of clients in grace use both certificates, and all pass.
    let passed = s.count(Intent::Valid, |o| *o == Outcome::Passed(200));
    let valid_total = s.count(Intent::Valid, |_| true);
    assert_eq!(passed, valid_total, "{:?}", s.by_intent);
    let mismatches = s.count(Intent::HeaderMismatch, |o| {
        *o == Outcome::Rejected("mismatch")
    }) + s.count(Intent::JwtMismatch, |o| *o == Outcome::Rejected("mismatch"));
    assert_eq!(h.metrics.successes(), passed);
    assert_eq!(h.metrics.failures("mismatch"), mismatches);
    assert_eq!(s.unexpected, 0);
    h.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_is_picked_up_and_the_old_certificate_stops_after_grace() {
    // A small fleet, so each client gets many requests.
    let registry = Registry::embedded_demo("tiny", 4).await.unwrap();
    let h = start_stack(registry.clone(), "tiny", "127.0.0.1:0".parse().unwrap()).await;
    let clients = registry.list("tiny").await.unwrap();
    let c = clients
        .iter()
        .find(|c| c.fingerprint_previous.is_none())
        .unwrap();
    let old = c.fingerprint.unwrap();
    let mut o = options(&h, "tiny", 400.0, 30.0);
    o.mix = traffic::mix::Mix::parse("valid=1").unwrap();
    let engine = traffic::start(registry.clone(), minter(), o);
    tokio::time::sleep(Duration::from_millis(500)).await;

    let resp: Value = reqwest::Client::new()
        .post(format!("{}/v1/clients/{}/rotate", h.api_url(), c.id))
        .bearer_auth(h.api_token.expose())
        .json(&json!({"grace_period_seconds": 4}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let new =
        mtls_console::domain::Fingerprint::parse(resp["certificate_fingerprint"].as_str().unwrap())
            .unwrap();
    let grace_ends = Instant::now() + Duration::from_secs(4);

    let count = |fp| {
        engine
            .stats()
            .per_fingerprint
            .get(&fp)
            .copied()
            .unwrap_or_default()
    };
    // The new certificate is used without restarting the engine.
    let deadline = Instant::now() + Duration::from_secs(20);
    while count(new).ok == 0 {
        assert!(Instant::now() < deadline, "new certificate never used");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let old_during = count(old);
    assert!(old_during.ok > 0);
    // Past the grace period (and the requests then in flight), the old one is no longer sent.
    tokio::time::sleep_until((grace_ends + Duration::from_millis(500)).into()).await;
    let after_grace = count(old);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        count(old),
        after_grace,
        "the previous certificate is only used during grace"
    );
    assert!(count(new).ok > 0);
    let s = engine.stop().await;
    assert_eq!(s.unexpected, 0, "{:?}", s.by_intent);
    assert_eq!(count_failed(&s), 0);
    h.shutdown().await;
}

fn count_failed(s: &traffic::stats::Stats) -> u64 {
    s.per_fingerprint.values().map(|p| p.failed).sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_killed_and_restarted_mid_run_costs_connection_errors_not_the_schedule() {
    let registry = Registry::embedded_demo("acme", 100).await.unwrap();
    let h = start_stack(registry.clone(), "acme", "127.0.0.1:0".parse().unwrap()).await;
    let addr = h.gateway_addr;
    let engine = traffic::start(registry.clone(), minter(), options(&h, "acme", 100.0, 8.0));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    h.shutdown().await;
    let passed_before = passed(&engine.stats());
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let h = start_stack(registry, "acme", addr).await;
    let s = engine.finish().await;
    assert_eq!(s.sent + s.dropped, 800, "the schedule went on");
    assert!(
        s.count(Intent::Valid, |o| *o == Outcome::ConnectError) > 0,
        "{:?}",
        s.by_intent
    );
    assert!(
        passed(&s) > passed_before + 100,
        "traffic recovered after the restart: {:?}",
        s.by_intent
    );
    assert_eq!(s.unexpected, 0);
    h.shutdown().await;
}

fn passed(s: &traffic::stats::Stats) -> u64 {
    s.count(Intent::Valid, |o| matches!(o, Outcome::Passed(_)))
}

#[test]
fn traffic_command_reports_json_and_fails_on_unexpected_outcomes() {
    let r = common::run(common::console().args([
        "traffic",
        "--tps",
        "200",
        "--duration",
        "2",
        "--json",
        "--fail-on-unexpected",
    ]));
    assert!(r.status.success(), "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["sent"], 400);
    assert_eq!(v["unexpected"], 0);
    assert_eq!(
        v["profile"], "legacy",
        "auto picked the built-in gateway's profile"
    );
    assert_eq!(v["gateway_counters"]["success"], v["valid_passed"]);

    // The current gateway's headers against the legacy gateway: valid requests are
    // refused (missing header), which must fail the run.
    let r = common::run(common::console().args([
        "traffic",
        "--tps",
        "100",
        "--duration",
        "1",
        "--gateway-profile",
        "stoa-gateway",
        "--fail-on-unexpected",
    ]));
    let line = common::assert_error_last_line(&r);
    assert!(line.contains("contradicted their intent"), "{line}");
    assert!(r.stdout.contains("unexpected outcomes:"), "{}", r.stdout);

    // Preflight: an exempt endpoint is named, with a checked one to use.
    let r = common::run(common::console().args([
        "traffic",
        "--tps",
        "10",
        "--duration",
        "0.5",
        "--endpoint",
        "/health",
    ]));
    assert!(
        r.stderr
            .contains("warning: /health is never checked by this gateway"),
        "{}",
        r.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_gateway_costs_timeouts_on_a_bounded_set_of_connections() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

    use tokio::io::AsyncReadExt;
    // Accepts connections and reads requests, never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let count = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            count.fetch_add(1, SeqCst);
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                while matches!(s.read(&mut buf).await, Ok(n) if n > 0) {}
            });
        }
    });
    let registry = Registry::embedded_demo("acme", 20).await.unwrap();
    let mut o = TrafficOptions::new(
        url::Url::parse(&format!("http://{addr}/")).unwrap(),
        Profile::legacy(),
        "acme",
        50.0,
    );
    o.duration = Some(Duration::from_secs(2));
    o.timeout = Duration::from_millis(1000);
    o.connections = 8;
    o.max_in_flight = 16;
    let s = traffic::start(registry, minter(), o).finish().await;
    assert_eq!(s.sent + s.dropped, 100, "the schedule went on");
    assert!(
        s.dropped > 0,
        "requests beyond the in-flight bound are dropped"
    );
    let timeouts = s.outcomes().get(&Outcome::Timeout).copied().unwrap_or(0);
    assert_eq!(
        timeouts, s.completed,
        "every answer timed out: {:?}",
        s.by_intent
    );
    assert!(timeouts > 0);
    assert_eq!(
        s.unexpected, 0,
        "a timeout is an error, not a contradiction"
    );
    // Requests waited for the silent connections, so workers (one connection
    // each) were added up to the bound, and never past it.
    assert_eq!(s.connections, 8, "connection workers");
    assert!(accepted.load(SeqCst) >= 8);
}
