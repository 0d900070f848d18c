//! Faults and promises the other suites do not cover: a STOA database left exactly
//! as it was by a session of traffic, rotation attempts and browsing; a control
//! plane that hangs or answers garbage.

mod common;

use std::time::{Duration, Instant};

use common::{TestDb, console, run};
use mtls_console::control_plane::{ApiError, ControlPlane, Grace};
use mtls_console::secret::Secret;
use sqlx::Row;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Every row of STOA's table, as text, in a stable order.
async fn rows(db: &TestDb) -> Vec<String> {
    let mut conn = db.connect().await;
    sqlx::query("SELECT c::text AS row FROM clients c ORDER BY id")
        .fetch_all(&mut conn)
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<String, _>("row"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_leaves_a_stoa_database_exactly_as_it_was() {
    let db = TestDb::new().await;
    db.load_stoa_schema().await;
    db.load_stoa_rows().await;
    let (schema, before) = (db.schema_snapshot().await, rows(&db).await);
    assert_eq!(before.len(), 100);

    // The full scenario (seed step, traffic, rotation, burst), traffic, browsing.
    let r = run(console().args([
        "scenario",
        "full",
        "--time-scale",
        "0.05",
        "--json",
        "--db-url",
        &db.url,
    ]));
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(
        v["steps"][0]["result"]
            .as_str()
            .unwrap()
            .contains("already has 100 clients: nothing seeded"),
        "{v}"
    );
    assert!(
        v["steps"][2]["result"]
            .as_str()
            .unwrap()
            .contains("no control plane"),
        "the built-in control plane never writes to a STOA database: {v}"
    );
    assert!(v["traffic"]["passed"].as_u64().unwrap() > 0, "{v}");
    let r2 = run(console().args([
        "traffic",
        "--tps",
        "200",
        "--duration",
        "1",
        "--db-url",
        &db.url,
    ]));
    assert!(r2.status.success(), "{}", r2.stderr);
    for args in [["clients", "--json"], ["metrics", "--json"]] {
        let r = run(console().args(args).args(["--db-url", &db.url]));
        assert!(r.status.success() || args[0] == "metrics", "{}", r.stderr);
    }

    assert_eq!(db.schema_snapshot().await, schema, "the schema changed");
    assert_eq!(rows(&db).await, before, "a row changed");
}

/// Accepts connections; each one gets `answer` (or nothing, if empty) and is held.
async fn fake_api(answer: &'static [u8]) -> url::Url {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            if !answer.is_empty() {
                let _ = s.write_all(answer).await;
                let _ = s.shutdown().await;
            }
            held.push(s);
        }
    });
    url::Url::parse(&format!("http://{addr}")).unwrap()
}

#[tokio::test]
async fn a_hanging_or_garbled_control_plane_is_a_clear_error_within_its_timeout() {
    mtls_console::init_tls();
    let token = Some(Secret::new("t"));
    let timeout = Duration::from_millis(700);
    type Check = fn(&ApiError) -> bool;
    let cases: [(&[u8], Check); 3] = [
        (b"", |e| matches!(e, ApiError::Timeout(_))),
        (
            b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 9\r\n\r\n{not json",
            |e| matches!(e, ApiError::Garbage(_)),
        ),
        (b"SSH-2.0-OpenSSH_9.2\r\n", |e| {
            matches!(e, ApiError::Connection(_) | ApiError::Garbage(_))
        }),
    ];
    for (answer, expected) in cases {
        let api = ControlPlane::new(fake_api(answer).await, token.clone(), timeout);
        let started = Instant::now();
        let e = api
            .rotate("some-id", Grace::Hours(1), "test")
            .await
            .unwrap_err();
        assert!(expected(&e), "{answer:?} gave {e:?}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "bounded by the timeout"
        );
        let text = e.to_string();
        assert!(!text.contains('\n') && !text.is_empty(), "{text}");
    }
}

#[test]
fn unknown_values_in_flags_or_the_environment_are_one_line() {
    let r = run(console().env("MTLS_CONSOLE_LANG", "de").arg("clients"));
    let line = common::assert_one_line_error(&r);
    assert!(
        line.contains("'de'") && line.contains("[possible values: en, fr]"),
        "{line}"
    );
    assert_eq!(r.status.code(), Some(2));
    let r = run(console().args(["traffic", "--tps", "fast"]));
    let line = common::assert_one_line_error(&r);
    assert!(line.contains("'fast'") && line.contains("--tps"), "{line}");
    // Help still prints in full.
    let r = run(console().arg("--help"));
    assert!(r.status.success() && r.stdout.lines().count() > 10);
}
