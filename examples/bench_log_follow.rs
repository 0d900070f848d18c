//! CPU the console spends following a gateway log that grows at RATE lines/s: the
//! release binary in a pseudo-terminal, with the built-in stack over a seeded
//! registry, `--gateway-log FILE`; this program writes the file (70 % legacy
//! mismatch events for real client ids, 20 % current-gateway events, 10 % access
//! lines). Run: `cargo build --release && cargo run --release --example bench_log_follow [RATE] [SECONDS]`

#[path = "support/mod.rs"]
mod support;

use std::io::Write;
use std::time::{Duration, Instant};

use mtls_console::store::{OpenMode, Registry};

fn main() {
    let mut args = std::env::args().skip(1);
    let rate: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(5000);
    let secs: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(30);
    let dir = std::env::temp_dir().join(format!("mtlsc-bench-log-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (db, log) = (dir.join("reg.db"), dir.join("gateway.log"));
    let db_url = format!("sqlite://{}", db.display());
    let clients = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let target = mtls_console::config::DbTarget::parse(&db_url).unwrap();
        let r = Registry::open(&target, OpenMode::CreateIfMissing)
            .await
            .unwrap();
        r.seed("acme", 100, chrono::Utc::now()).await.unwrap();
        r.list("acme").await.unwrap()
    });
    std::fs::write(&log, "").unwrap();
    let console = support::start(&["--db-url", &db_url, "--gateway-log", log.to_str().unwrap()]);
    console.wait_for("Failing now", Duration::from_secs(20));
    std::thread::sleep(Duration::from_secs(3));
    let idle = console.cpu_during(|| std::thread::sleep(Duration::from_secs(10)));

    let mut file = std::fs::OpenOptions::new().append(true).open(&log).unwrap();
    let mut written = 0u64;
    let following = console.cpu_during(|| {
        let start = Instant::now();
        let mut i = 0usize;
        while start.elapsed() < Duration::from_secs(secs) {
            // Catch up to the schedule in 10 ms steps.
            let due = (start.elapsed().as_secs_f64() * rate as f64) as u64;
            let mut batch = String::new();
            while written < due {
                let c = &clients[i % clients.len()];
                let ts = chrono::Utc::now().to_rfc3339();
                batch.push_str(&match i % 10 {
                    0..=6 => format!(
                        "{{\"expected_prefix\": \"xmR93DE9Yavm4ocg...\", \"received_prefix\": \"0000000000000000...\", \"subject\": \"{}\", \"event\": \"Certificate binding: fingerprint mismatch\", \"logger\": \"src.middleware.cert_binding\", \"level\": \"warning\", \"timestamp\": \"{ts}\"}}\n",
                        c.id
                    ),
                    7 | 8 => format!(
                        "{{\"timestamp\":\"{ts}\",\"level\":\"WARN\",\"fields\":{{\"message\":\"Certificate-token binding MISMATCH\",\"cert_fingerprint\":\"{}\"}},\"target\":\"stoa_gateway::auth::mtls\"}}\n",
                        &c.fingerprint.map(|f| f.to_hex()).unwrap_or_default()[..8]
                    ),
                    _ => "INFO:     127.0.0.1:41058 - \"POST /mcp/v1/tools/echo/invoke HTTP/1.1\" 401 Unauthorized\n".to_string(),
                });
                written += 1;
                i += 1;
            }
            file.write_all(batch.as_bytes()).unwrap();
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    // Every binding line was read: the panel counts them (9 lines in 10).
    let binding = written / 10 * 9 + (written % 10).min(9);
    console.wait_for(&format!("{binding} events"), Duration::from_secs(10));
    println!("console idle, following an unchanging log: {idle:.2} % of a core (10 s)");
    println!(
        "console following {written} lines written at {rate}/s for {secs} s: {following:.2} % of a core"
    );
    let mut console = console;
    let _ = console.child.kill();
    let _ = console.child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}
