//! The client registry against the real PostgreSQL on this machine and SQLite:
//! STOA's own schema and rows, seeding, bad rows, and every connection error.

mod common;

use std::collections::BTreeMap;

use common::{TestDb, assert_one_line_error, console, run};
use serde_json::Value;
use sqlx::Executor;

/// The instant STOA's seeder finished writing the fixture rows.
const FIXTURE_NOW: &str = "2026-12-04T15:06:59.200Z";

fn health_counts(json: &str) -> BTreeMap<String, usize> {
    let rows: Vec<Value> = serde_json::from_str(json).expect("clients --json is a JSON array");
    let mut counts = BTreeMap::new();
    for r in rows {
        *counts
            .entry(r["health"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    counts
}

fn counts(pairs: &[(&str, usize)]) -> BTreeMap<String, usize> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

#[tokio::test]
async fn stoa_database_lists_its_100_rows_with_dashboard_health_and_is_not_touched() {
    let db = TestDb::new().await;
    db.load_stoa_schema().await;
    db.load_stoa_rows().await;
    let before = db.schema_snapshot().await;

    let r = run(console().args([
        "clients",
        "--json",
        "--now",
        FIXTURE_NOW,
        "--db-url",
        &db.url,
    ]));
    assert!(r.status.success(), "{}", r.stderr);
    // STOA's seeder puts rows 077 and 084 at 0 days and row 078 at exactly 1 day,
    // which floors to 0 a moment after writing: 3 expired, not the 1 the contract
    // counts. Row 069 (exactly 7 days) reads critical, as the contract says.
    assert_eq!(
        health_counts(&r.stdout),
        counts(&[
            ("healthy", 60),
            ("expiring_soon", 14),
            ("critical", 8),
            ("expired", 3),
            ("grace_period", 10),
            ("revoked", 5),
        ])
    );
    let rows: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    let health_of = |suffix: &str| {
        rows.iter()
            .find(|r| r["name"].as_str().unwrap().ends_with(suffix))
            .unwrap()["health"]
            .clone()
    };
    for expired in ["-077", "-078", "-084"] {
        assert_eq!(health_of(expired), "expired", "{expired}");
    }
    assert_eq!(health_of("-069"), "critical");
    assert_eq!(health_of("-070"), "expiring_soon");
    let first = &rows[0];
    assert_eq!(first["name"], "banque-bnp-paiement-000");
    assert_eq!(first["id"], "7da9d010-acf6-40f7-a01e-b2b3c16093f5");
    assert_eq!(
        first["certificate_fingerprint"],
        "7bf3dfcc299635b1454b818ccbda4784cca6206abfae858a595890f1239a223b"
    );
    assert_eq!(first["days_left"], 59);
    assert!(r.stderr.contains("100 clients: 60 healthy, 14 expiring soon, 8 critical, 3 expired, 10 grace period, 5 revoked"), "{}", r.stderr);

    // The table form says the same.
    let r = run(console().args(["clients", "--now", FIXTURE_NOW, "--db-url", &db.url]));
    assert!(r.status.success(), "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 102);
    assert!(r.stdout.lines().next().unwrap().starts_with("ID"));

    // The SQLAlchemy form of the runbook works too.
    let asyncpg = db.url.replacen("postgres://", "postgresql+asyncpg://", 1);
    let r = run(console().args(["clients", "--json", "--db-url", &asyncpg]));
    assert!(r.status.success(), "{}", r.stderr);

    assert_eq!(
        db.schema_snapshot().await,
        before,
        "listing changed the schema"
    );
}

#[tokio::test]
async fn rotated_rows_in_colon_hex_are_normalized() {
    let db = TestDb::new().await;
    db.load_stoa_schema().await;
    db.load_stoa_rows().await;
    let mut conn = db.connect().await;
    conn.execute(
        "UPDATE clients SET certificate_fingerprint = '03:0D:24:54:ac:8a:79:60:47:5a:1e:f8:20:71:15:ab:99:ed:cc:60:0e:47:8b:48:66:f7:74:3a:89:63:b3:58' \
         WHERE name = 'banque-bnp-paiement-000'",
    )
    .await
    .unwrap();
    let r = run(console().args(["clients", "--json", "--db-url", &db.url]));
    let rows: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        rows[0]["certificate_fingerprint"],
        "030d2454ac8a7960475a1ef8207115ab99edcc600e478b4866f7743a8963b358"
    );
    assert_eq!(rows[0]["problems"], Value::Array(vec![]));
}

#[tokio::test]
async fn seeding_a_stoa_schema_writes_rows_only() {
    let db = TestDb::new().await;
    db.load_stoa_schema().await;
    let before = db.schema_snapshot().await;

    let r = run(console().args(["seed", "--db-url", &db.url]));
    assert!(r.status.success(), "{}", r.stderr);
    assert!(
        r.stdout.starts_with("seeded 100 clients for tenant acme"),
        "{}",
        r.stdout
    );
    assert_eq!(
        db.schema_snapshot().await,
        before,
        "seeding changed STOA's schema"
    );

    let r = run(console().args(["clients", "--json", "--db-url", &db.url]));
    assert_eq!(
        health_counts(&r.stdout),
        counts(&[
            ("healthy", 60),
            ("expiring_soon", 15),
            ("critical", 10),
            ("expired", 0),
            ("grace_period", 10),
            ("revoked", 5),
        ])
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect()
    );

    let again = run(console().args(["seed", "--db-url", &db.url]));
    assert!(again.status.success());
    assert_eq!(
        again.stdout.trim(),
        format!(
            "tenant acme already has 100 clients in PostgreSQL database {:?} at 127.0.0.1:5432 (50 or more): nothing seeded",
            db.name
        )
    );
    // Another tenant seeds independently.
    let other = run(console().args(["seed", "--tenant", "globex", "--json", "--db-url", &db.url]));
    let v: Value = serde_json::from_str(&other.stdout).unwrap();
    assert_eq!(v["inserted"], 100);
}

#[tokio::test]
async fn seeding_an_empty_database_creates_the_console_table_and_scales_to_10000() {
    let db = TestDb::new().await;
    let r = run(console().args(["seed", "--count", "10000", "--db-url", &db.url]));
    assert!(r.status.success(), "{}", r.stderr);
    let r = run(console().args(["clients", "--json", "--db-url", &db.url]));
    assert!(r.status.success(), "{}", r.stderr);
    let c = health_counts(&r.stdout);
    assert_eq!(c["healthy"], 6000);
    assert_eq!(c["expiring_soon"], 1500);
    assert_eq!(c["critical"], 1000);
    assert_eq!(c["grace_period"], 1000);
    assert_eq!(c["revoked"], 500);
    // The table the console made is the STOA shape: STOA's own rows load into it.
    let mut conn = db.connect().await;
    let enum_labels: String = sqlx::query_scalar(
        "SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum e \
         JOIN pg_type t ON t.oid = e.enumtypid WHERE t.typname = 'clientstatus'",
    )
    .fetch_one(&mut conn)
    .await
    .unwrap();
    assert_eq!(enum_labels, "active,revoked,expired");
}

#[tokio::test]
async fn unusable_rows_are_listed_and_flagged() {
    let db = TestDb::new().await;
    db.load_stoa_schema().await;
    db.load_stoa_rows().await;
    let mut conn = db.connect().await;
    conn.execute(
        "UPDATE clients SET certificate_fingerprint = NULL WHERE name = 'banque-bnp-paiement-000';
         UPDATE clients SET certificate_fingerprint = 'abc' WHERE name = 'assurance-axa-sinistre-001';
         UPDATE clients SET certificate_not_after = NULL WHERE name = 'logistique-geodis-tracking-002';",
    )
    .await
    .unwrap();
    let r = run(console().args(["clients", "--json", "--db-url", &db.url]));
    assert!(r.status.success(), "{}", r.stderr);
    let rows: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(rows.len(), 100);
    let problems = |i: usize| rows[i]["problems"].to_string();
    assert!(
        problems(0).contains("no certificate fingerprint"),
        "{}",
        problems(0)
    );
    assert!(
        problems(1).contains("bad certificate fingerprint: hex fingerprint has 1 bytes"),
        "{}",
        problems(1)
    );
    assert!(
        problems(2).contains("no certificate expiry date"),
        "{}",
        problems(2)
    );
    assert_eq!(rows[2]["health"], "healthy");
    assert!(r.stderr.contains("3 with unusable data"), "{}", r.stderr);
}

#[tokio::test]
async fn sqlite_file_is_created_seeded_and_kept_with_bad_rows_flagged() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("demo.db");
    let url = format!("sqlite://{}", file.display());
    let first = run(console().args(["clients", "--json", "--db-url", &url]));
    assert!(first.status.success(), "{}", first.stderr);
    let ids = |out: &str| -> Vec<String> {
        serde_json::from_str::<Vec<Value>>(out)
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect()
    };
    let second = run(console().args(["clients", "--json", "--db-url", &url]));
    assert_eq!(
        ids(&first.stdout),
        ids(&second.stdout),
        "the file keeps its clients"
    );

    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    sqlx::query(
        "INSERT INTO clients (id, tenant_id, name, certificate_cn, certificate_fingerprint, certificate_not_after, status) VALUES
         ('x1', 'acme', 'zz-odd-1', 'a', 'e_PfzCmWNbFFS4GMy9pHhMymIGq_roWKWViQ8SOaIjs', 'not a date', 'suspended'),
         ('x2', 'acme', 'zz-odd-2', 'b', NULL, NULL, 'active')",
    )
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    let r = run(console().args(["clients", "--json", "--db-url", &url]));
    assert!(r.status.success(), "{}", r.stderr);
    let rows: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(rows.len(), 102);
    let odd = rows.iter().find(|r| r["id"] == "x1").unwrap();
    assert_eq!(
        odd["certificate_fingerprint"],
        "7bf3dfcc299635b1454b818ccbda4784cca6206abfae858a595890f1239a223b"
    );
    let p = odd["problems"].to_string();
    assert!(p.contains("unknown status \\\"suspended\\\""), "{p}");
    assert!(
        p.contains("unreadable certificate_not_after \\\"not a date\\\""),
        "{p}"
    );
}

#[test]
fn embedded_demo_lists_the_contract_mix() {
    let r = run(console().args(["clients", "--json"]));
    assert!(r.status.success(), "{}", r.stderr);
    assert_eq!(
        health_counts(&r.stdout),
        counts(&[
            ("healthy", 60),
            ("expiring_soon", 15),
            ("critical", 10),
            ("grace_period", 10),
            ("revoked", 5),
        ])
    );
}

#[test]
fn bad_url_is_one_line() {
    let r = run(console().args(["clients", "--db-url", "mysql://root:hunter2@db/x"]));
    let line = assert_one_line_error(&r);
    assert!(
        line.contains("invalid --db-url 'mysql://root:***@db/x': unsupported scheme"),
        "{line}"
    );
    assert!(!r.stderr.contains("hunter2"));
    let r = run(console().args(["clients", "--gateway-url", "localhost:8080"]));
    let line = assert_one_line_error(&r);
    assert!(
        line.contains("invalid --gateway-url (GATEWAY_URL) 'localhost:8080'"),
        "{line}"
    );
}

#[test]
fn refused_connection_names_host_and_port() {
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://stoa:s3cret@127.0.0.1:{port}/stoa");
    let r = run(console().args(["clients", "--db-url", &url]));
    let line = assert_one_line_error(&r);
    assert_eq!(
        line,
        format!(
            "error: cannot reach PostgreSQL at 127.0.0.1:{port}: connection refused; check that it runs and that --db-url (DB_URL) is right"
        )
    );
}

#[test]
fn silent_server_is_reported_within_five_seconds() {
    // Accepts connections and never answers, like a firewalled or hung server.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    let url = format!("postgres://stoa@127.0.0.1:{port}/stoa");
    let r = run(console().args(["clients", "--db-url", &url]));
    let line = assert_one_line_error(&r);
    assert!(
        line.contains(&format!(
            "cannot reach PostgreSQL at 127.0.0.1:{port}: no answer within 5 s"
        )),
        "{line}"
    );
    assert!(r.elapsed.as_secs_f64() < 9.0, "took {:?}", r.elapsed);
}

#[tokio::test]
async fn missing_table_and_wrong_schema_are_named() {
    let empty = TestDb::new().await;
    let r = run(console().args(["clients", "--db-url", &empty.url]));
    let line = assert_one_line_error(&r);
    assert!(
        line.contains(&format!(
            "PostgreSQL database {:?} at 127.0.0.1:5432 has no `clients` table",
            empty.name
        )),
        "{line}"
    );
    assert!(line.contains("mtls-console seed"), "{line}");

    let stoa_without_table = TestDb::new().await;
    let mut conn = stoa_without_table.connect().await;
    conn.execute("CREATE TABLE alembic_version (version_num varchar(32) PRIMARY KEY)")
        .await
        .unwrap();
    let before = stoa_without_table.schema_snapshot().await;
    let r = run(console().args(["seed", "--db-url", &stoa_without_table.url]));
    let line = assert_one_line_error(&r);
    assert!(
        line.contains("it is a STOA database whose migrations have not created it yet"),
        "{line}"
    );
    assert_eq!(stoa_without_table.schema_snapshot().await, before);

    let wrong = TestDb::new().await;
    let mut conn = wrong.connect().await;
    conn.execute("CREATE TABLE clients (id int PRIMARY KEY, name text, tenant_id text)")
        .await
        .unwrap();
    let before = wrong.schema_snapshot().await;
    for cmd in ["clients", "seed"] {
        let r = run(console().args([cmd, "--db-url", &wrong.url]));
        let line = assert_one_line_error(&r);
        assert!(
            line.contains("the `clients` table in PostgreSQL database"),
            "{line}"
        );
        assert!(
            line.contains("lacks column(s) certificate_cn, certificate_serial"),
            "{line}"
        );
    }
    assert_eq!(
        wrong.schema_snapshot().await,
        before,
        "a foreign table was altered"
    );

    let r = run(console().args(["clients", "--db-url", &format!("{}_nope", empty.url)]));
    let line = assert_one_line_error(&r);
    assert!(line.contains("does not exist"), "{line}");
}
