//! The scraper against real HTTP servers on loopback: the built-in gateway (one
//! and two replicas, restarted), refused and silent targets, oversized pages.

mod common;

use std::time::{Duration, Instant};

use chrono::Utc;
use mtls_console::domain::Fingerprint;
use mtls_console::domain::token::{Binding, DEMO_SECRET, TokenMinter};
use mtls_console::scrape::{self, ScrapeError, Watch};
use mtls_console::secret::Secret;
use mtls_console::stack::{self, StackHandle, StackOptions};
use mtls_console::store::Registry;
use serde_json::Value;

async fn start_on(addr: std::net::SocketAddr) -> StackHandle {
    mtls_console::init_tls();
    let registry = Registry::embedded_demo("acme", 100).await.unwrap();
    let opts = StackOptions {
        gateway_listen: addr,
        ..StackOptions::loopback("acme", Secret::new(DEMO_SECRET))
    };
    stack::start(registry, opts).await.unwrap()
}

async fn start() -> StackHandle {
    start_on("127.0.0.1:0".parse().unwrap()).await
}

/// Sends `ok` valid and `bad` header-mismatch requests through a gateway.
async fn traffic(h: &StackHandle, ok: usize, bad: usize) {
    let clients = h.registry.list("acme").await.unwrap();
    let c = clients
        .iter()
        .find(|c| c.is_usable_for_traffic() && c.fingerprint_previous.is_none())
        .unwrap();
    let fp = c.fingerprint.unwrap();
    let token = TokenMinter::new(&Secret::new(DEMO_SECRET)).unwrap().mint(
        &c.id,
        "acme",
        Binding::Bound(fp),
        Utc::now().timestamp(),
    );
    let http = reqwest::Client::new();
    for i in 0..ok + bad {
        let header = if i < ok {
            fp.to_hex()
        } else {
            Fingerprint::from_bytes([0; 32]).to_hex()
        };
        let r = http
            .get(format!("{}/mcp/v1/", h.gateway_url()))
            .bearer_auth(&token)
            .header("X-SSL-Client-Cert-SHA256", header)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), if i < ok { 200 } else { 401 });
    }
}

fn url(h: &StackHandle) -> url::Url {
    url::Url::parse(&format!("{}/metrics", h.gateway_url())).unwrap()
}

async fn round(w: &mut Watch, urls: &[url::Url], timeout: Duration, max: usize) {
    let client = scrape::http_client(timeout);
    let mut results = Vec::new();
    for (i, u) in urls.iter().enumerate() {
        results.push((i, scrape::fetch(&client, u, timeout, max).await));
    }
    w.apply(
        Instant::now(),
        Utc::now(),
        Duration::from_secs(1),
        results,
        &[],
    );
}

#[tokio::test]
async fn figures_match_the_gateway_and_survive_a_restart() {
    let h = start().await;
    traffic(&h, 7, 3).await;
    let urls = vec![url(&h)];
    let mut w = Watch::new(&urls, Instant::now());
    round(&mut w, &urls, Duration::from_secs(5), 1 << 20).await;
    let s = w.snapshot(Utc::now(), 10);
    assert!(s.targets[0].up, "{:?}", s.targets[0].error);
    assert_eq!(s.successes, 7.0);
    assert_eq!(s.failures["mismatch"], 3.0);

    // Kill the gateway: the target is down, figures are kept.
    let addr = h.gateway_addr;
    h.shutdown().await;
    round(&mut w, &urls, Duration::from_secs(5), 1 << 20).await;
    let s = w.snapshot(Utc::now(), 10);
    assert!(!s.targets[0].up);
    assert_eq!(s.targets[0].error, Some(ScrapeError::Refused));
    assert_eq!(s.successes, 7.0);

    // Restarted on the same port, counting from zero again.
    let h = start_on(addr).await;
    traffic(&h, 2, 1).await;
    round(&mut w, &urls, Duration::from_secs(5), 1 << 20).await;
    let s = w.snapshot(Utc::now(), 10);
    assert!(s.targets[0].up);
    assert_eq!(s.successes, 9.0, "7 before the restart + 2 after");
    assert_eq!(s.failures["mismatch"], 4.0);
    assert_eq!(s.targets[0].resets, 1);
    assert!(s.rates.values().flatten().all(|r| r.unwrap_or(0.0) >= 0.0));
    h.shutdown().await;
}

#[tokio::test]
async fn two_replicas_are_summed_and_shown_apart() {
    let (a, b) = (start().await, start().await);
    traffic(&a, 4, 1).await;
    traffic(&b, 6, 2).await;
    let urls = vec![url(&a), url(&b)];
    let mut w = Watch::new(&urls, Instant::now());
    round(&mut w, &urls, Duration::from_secs(5), 1 << 20).await;
    let s = w.snapshot(Utc::now(), 10);
    assert_eq!((s.successes, s.failures["mismatch"]), (10.0, 3.0));
    let per_target: Vec<f64> = s
        .targets
        .iter()
        .map(|t| t.reading.as_ref().unwrap().successes)
        .collect();
    assert_eq!(per_target, vec![4.0, 6.0]);
    a.shutdown().await;
    b.shutdown().await;
}

#[tokio::test]
async fn silent_http_error_and_oversized_targets_are_named() {
    // Accepts and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_url =
        url::Url::parse(&format!("http://{}/metrics", silent.local_addr().unwrap())).unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in silent.incoming().flatten() {
            held.push(s);
        }
    });
    // Pages far larger than the limit, sent by a real server: one announced by
    // its length, one of 50 MB streamed without a length (read up to the limit
    // only), and one dripped a line every 100 ms (bounded by the timeout).
    fn chunks(n: usize, every: Duration) -> axum::body::Body {
        let s = futures::stream::unfold(0, move |i| async move {
            if i == n {
                return None;
            }
            if !every.is_zero() {
                tokio::time::sleep(every).await;
            }
            let chunk = "x 1\n".repeat(16 * 1024);
            Some((Ok::<_, std::io::Error>(chunk), i + 1))
        });
        axum::body::Body::from_stream(s)
    }
    let big = axum::Router::new()
        .route(
            "/metrics",
            axum::routing::get(|| async { "x 1\n".repeat(2_000_000) }),
        )
        // 800 chunks of 64 KiB: 50 MiB.
        .route(
            "/streamed",
            axum::routing::get(|| async { chunks(800, Duration::ZERO) }),
        )
        .route(
            "/drip",
            axum::routing::get(|| async { chunks(1000, Duration::from_millis(100)) }),
        );
    let big_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let big_url = url::Url::parse(&format!(
        "http://{}/metrics",
        big_listener.local_addr().unwrap()
    ))
    .unwrap();
    tokio::spawn(async move { axum::serve(big_listener, big).await.unwrap() });
    let h = start().await;
    let not_found = url::Url::parse(&format!("{}/not-metrics", h.gateway_url())).unwrap();

    let client = scrape::http_client(Duration::from_millis(500));
    let started = Instant::now();
    let r = scrape::fetch(&client, &silent_url, Duration::from_millis(500), 1 << 20).await;
    assert_eq!(r.unwrap_err(), ScrapeError::Timeout(500));
    assert!(started.elapsed() < Duration::from_secs(5));
    let r = scrape::fetch(&client, &big_url, Duration::from_secs(5), 1 << 20).await;
    assert_eq!(r.unwrap_err(), ScrapeError::TooLarge(1 << 20));
    let streamed = big_url.join("/streamed").unwrap();
    let r = scrape::fetch(&client, &streamed, Duration::from_secs(5), 1 << 20).await;
    assert_eq!(r.unwrap_err(), ScrapeError::TooLarge(1 << 20));
    let drip = big_url.join("/drip").unwrap();
    let started = Instant::now();
    let r = scrape::fetch(&client, &drip, Duration::from_millis(500), 1 << 20).await;
    assert_eq!(r.unwrap_err(), ScrapeError::Timeout(500));
    assert!(started.elapsed() < Duration::from_secs(5));
    let r = scrape::fetch(&client, &not_found, Duration::from_secs(5), 1 << 20).await;
    assert_eq!(r.unwrap_err(), ScrapeError::Http(404));
    h.shutdown().await;
}

#[tokio::test]
async fn metrics_command_prints_figures_and_json() {
    let h = start().await;
    traffic(&h, 5, 2).await;
    let gw = h.gateway_url();
    let out = tokio::task::spawn_blocking(move || {
        common::run(common::console().args(["metrics", "--json", "--gateway-url", &gw]))
    })
    .await
    .unwrap();
    assert!(out.status.success(), "{}", out.stderr);
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["successes"], 5.0);
    assert_eq!(v["failures"]["mismatch"], 2.0);
    assert_eq!(v["kind"], "legacy");
    assert_eq!(v["targets"][0]["up"], true);

    let url = format!("{}/metrics", h.gateway_url());
    let out = tokio::task::spawn_blocking(move || {
        common::run(common::console().args(["metrics", "--metrics-url", &url]))
    })
    .await
    .unwrap();
    assert!(out.stdout.contains("success"), "{}", out.stdout);
    assert!(
        out.stdout
            .lines()
            .any(|l| l.trim_start().starts_with("mismatch") && l.contains(" 2 ")),
        "{}",
        out.stdout
    );
    h.shutdown().await;

    let r = common::run(common::console().args(["metrics"]));
    let line = common::assert_one_line_error(&r);
    assert!(line.contains("no gateway to scrape"), "{line}");
}

/// A real Prometheus server scraping two real gateways: the console's
/// `--prometheus-url` reads the same sums, one target per instance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_server_mode_sums_replicas() {
    let Some(prometheus) = which("prometheus") else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI installs prometheus (.ci/run)"
        );
        eprintln!("skipped: no prometheus binary (apt-get install prometheus)");
        return;
    };
    let (a, b) = (start().await, start().await);
    traffic(&a, 4, 1).await;
    traffic(&b, 6, 2).await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: gateways\n    static_configs:\n      - targets: ['{}', '{}']\n",
            a.gateway_addr, b.gateway_addr
        ),
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = std::process::Command::new(prometheus)
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            dir.path().join("data").display()
        ))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(90);
    let v = loop {
        let u = url.clone();
        let r = tokio::task::spawn_blocking(move || {
            common::run(common::console().args(["metrics", "--json", "--prometheus-url", &u]))
        })
        .await
        .unwrap();
        if r.status.success()
            && let Ok(v) = serde_json::from_str::<Value>(&r.stdout)
            && v["successes"] == 10.0
            && v["targets"].as_array().map(Vec::len) == Some(2)
        {
            break v;
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus never reported both gateways: {} {}",
            r.stdout,
            r.stderr
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(v["failures"]["mismatch"], 3.0);
    assert_eq!(v["kind"], "legacy");
    a.shutdown().await;
    b.shutdown().await;
}

fn which(bin: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(bin))
            .find(|p| p.is_file())
    })
}
