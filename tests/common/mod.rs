//! Helpers shared by the integration tests: a throwaway PostgreSQL database per
//! test on the machine's real server, the STOA fixtures, and the built binary.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use sqlx::{Connection, Executor, PgConnection};

/// The server the tests use; override with MTLS_TEST_PG.
pub fn admin_url() -> String {
    std::env::var("MTLS_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// A database created for one test and dropped when the test ends.
pub struct TestDb {
    pub name: String,
    pub url: String,
}

impl TestDb {
    pub async fn new() -> Self {
        let name = format!("mtlsc_{}", uuid::Uuid::new_v4().simple());
        let mut admin = PgConnection::connect(&admin_url())
            .await
            .expect("PostgreSQL on 127.0.0.1:5432 (start it, or set MTLS_TEST_PG)");
        admin
            .execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .await
            .unwrap();
        let base = admin_url();
        let url = format!("{}/{name}", &base[..base.rfind('/').unwrap()]);
        Self { name, url }
    }

    pub async fn connect(&self) -> PgConnection {
        PgConnection::connect(&self.url).await.unwrap()
    }

    /// Loads STOA's `clients` DDL (enum, table, indexes, alembic_version).
    pub async fn load_stoa_schema(&self) {
        load_stoa_schema(&self.url).await;
    }

    /// Loads the 100 rows STOA's own seeder wrote.
    pub async fn load_stoa_rows(&self) {
        load_stoa_rows(&self.url).await;
    }

    /// Everything about the public schema that a migration could change.
    pub async fn schema_snapshot(&self) -> String {
        let mut conn = self.connect().await;
        sqlx::query_scalar::<_, String>(
            "SELECT string_agg(x, E'\\n' ORDER BY x) FROM (
               SELECT format('col %s.%s %s %s %s %s', table_name, column_name, data_type,
                      character_maximum_length, is_nullable, column_default) AS x
                 FROM information_schema.columns WHERE table_schema = 'public'
               UNION ALL SELECT format('idx %s', indexdef) FROM pg_indexes WHERE schemaname = 'public'
               UNION ALL SELECT format('con %s %s', conname, pg_get_constraintdef(oid))
                 FROM pg_constraint WHERE connamespace = 'public'::regnamespace
               UNION ALL SELECT format('type %s %s', t.typname,
                      string_agg(e.enumlabel, ',' ORDER BY e.enumsortorder))
                 FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid GROUP BY t.typname
               UNION ALL SELECT format('table %s', tablename) FROM pg_tables WHERE schemaname = 'public'
             ) s",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap()
    }
}

/// Loads STOA's `clients` DDL into the database at `url`.
pub async fn load_stoa_schema(url: &str) {
    let ddl = std::fs::read_to_string(fixture("stoa-clients-schema.sql")).unwrap();
    let mut conn = PgConnection::connect(url).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(ddl))
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
}

/// Loads the 100 rows STOA's own seeder wrote into the database at `url`.
pub async fn load_stoa_rows(url: &str) {
    let csv = std::fs::read(fixture("stoa-clients-seed.csv")).unwrap();
    let mut conn = PgConnection::connect(url).await.unwrap();
    let mut copy = conn
        .copy_in_raw("COPY clients FROM STDIN WITH (FORMAT csv, HEADER true)")
        .await
        .unwrap();
    copy.send(csv).await.unwrap();
    copy.finish().await.unwrap();
}

/// A PostgreSQL cluster of the test's own (initdb as the `postgres` user), on a
/// free port, that the test can stop and start. None where that cannot run
/// (not root, or no PostgreSQL binaries).
pub struct OwnCluster {
    pub dir: PathBuf,
    pub port: u16,
    bin: PathBuf,
}

impl OwnCluster {
    pub fn start() -> Option<Self> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .flatten()
            .map(|e| e.path().join("bin"))
            .find(|b| b.join("initdb").exists())?;
        let uid: u32 = String::from_utf8(
            Command::new("id")
                .args(["-u", "postgres"])
                .output()
                .ok()?
                .stdout,
        )
        .ok()?
        .trim()
        .parse()
        .ok()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .ok()?
            .local_addr()
            .ok()?
            .port();
        let dir = std::env::temp_dir().join(format!("mtlsc-pg-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).ok()?;
        std::os::unix::fs::chown(&dir, Some(uid), None).ok()?;
        let c = Self { dir, port, bin };
        let ok = c
            .as_postgres("initdb")
            .args(["-D", "data", "-A", "trust", "-U", "postgres"])
            .output()
            .ok()?
            .status
            .success();
        (ok && c.up()).then_some(c)
    }

    fn as_postgres(&self, tool: &str) -> Command {
        let mut cmd = Command::new("runuser");
        cmd.args(["-u", "postgres", "--"])
            .arg(self.bin.join(tool))
            .current_dir(&self.dir);
        cmd
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the server and waits until it accepts connections.
    pub fn up(&self) -> bool {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.display()
        );
        self.as_postgres("pg_ctl")
            .args(["-D", "data", "-l", "log", "-w", "-o", &opts, "start"])
            .output()
            .is_ok_and(|o| o.status.success())
    }

    /// Stops the server at once (connections are cut).
    pub fn down(&self) {
        let _ = self
            .as_postgres("pg_ctl")
            .args(["-D", "data", "-m", "immediate", "-w", "stop"])
            .output();
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        self.down();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs outside any runtime guarantee: use a thread with its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async {
                if let Ok(mut admin) = PgConnection::connect(&admin_url()).await {
                    let _ = admin
                        .execute(sqlx::AssertSqlSafe(format!(
                            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                        )))
                        .await;
                }
            });
        })
        .join();
    }
}

/// The configuration a test must not inherit from the environment.
pub const CONFIG_VARS: [&str; 12] = [
    "GATEWAY_URL",
    "API_URL",
    "DB_URL",
    "ENDPOINT",
    "TENANT",
    "JWT_SECRET",
    "JWT_SECRET_FILE",
    "API_TOKEN",
    "NO_COLOR",
    "MTLS_CONSOLE_THEME",
    "MTLS_CONSOLE_LANG",
    "MTLS_CONSOLE_CONFIG",
];

/// The console binary, with a log file of its own and no inherited configuration.
pub fn console() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mtls-console"));
    for var in CONFIG_VARS {
        cmd.env_remove(var);
    }
    cmd.env("RUST_BACKTRACE", "1");
    // No user configuration or scenarios from the machine running the tests.
    cmd.env(
        "XDG_CONFIG_HOME",
        std::env::temp_dir().join(format!("mtlsc-test-config-{}", std::process::id())),
    );
    cmd.env(
        "MTLS_CONSOLE_LOG",
        std::env::temp_dir().join(format!("mtlsc-test-{}.log", std::process::id())),
    );
    cmd
}

pub struct Run {
    pub status: std::process::ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

pub fn run(cmd: &mut Command) -> Run {
    let start = Instant::now();
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("run mtls-console");
    Run {
        status,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
        elapsed: start.elapsed(),
    }
}

/// Asserts a clean failure: non-zero exit, one `error:` line, no panic or backtrace.
pub fn assert_one_line_error(r: &Run) -> &str {
    assert_eq!(
        r.stderr.lines().count(),
        1,
        "expected one line, got: {}",
        r.stderr
    );
    assert_error_last_line(r)
}

/// Asserts a clean failure whose last line on stderr is the `error:` line (for
/// commands that print progress before failing).
pub fn assert_error_last_line(r: &Run) -> &str {
    assert!(!r.status.success(), "expected failure, got: {}", r.stdout);
    for bad in [
        "panicked",
        "backtrace",
        "Backtrace",
        "Location:",
        "RUST_BACKTRACE",
    ] {
        assert!(!r.stderr.contains(bad), "{bad} in: {}", r.stderr);
    }
    let last = r.stderr.lines().last().unwrap_or_default();
    assert!(last.starts_with("error: "), "{}", r.stderr);
    last
}

/// The built-in stack over a seeded SQLite registry, writing the legacy
/// gateway's log, after a short run of default-mix traffic through it.
pub struct LoggedRun {
    pub dir: tempfile::TempDir,
    pub registry: mtls_console::store::Registry,
    pub stack: mtls_console::stack::StackHandle,
    pub stats: mtls_console::traffic::stats::Stats,
    pub db_url: String,
    pub log: PathBuf,
}

pub async fn logged_traffic(rate: f64, length: Duration) -> LoggedRun {
    use mtls_console::domain::token::{DEMO_SECRET, TokenMinter};
    use mtls_console::secret::Secret;
    use mtls_console::stack::{self, StackOptions};
    use mtls_console::store::{OpenMode, Registry};
    use mtls_console::traffic::{self, TrafficOptions, profile::Profile};

    mtls_console::init_tls();
    let dir = tempfile::tempdir().unwrap();
    let (log, db) = (dir.path().join("gateway.log"), dir.path().join("reg.db"));
    let db_url = format!("sqlite://{}", db.display());
    let target = mtls_console::config::DbTarget::parse(&db_url).unwrap();
    let registry = Registry::open(&target, OpenMode::CreateIfMissing)
        .await
        .unwrap();
    registry
        .seed("acme", 100, chrono::Utc::now())
        .await
        .unwrap();
    let opts = StackOptions {
        gateway_log: Some(log.clone()),
        ..StackOptions::loopback("acme", Secret::new(DEMO_SECRET))
    };
    let stack = stack::start(registry.clone(), opts).await.unwrap();
    let mut o = TrafficOptions::new(
        url::Url::parse(&stack.gateway_url()).unwrap(),
        Profile::legacy(),
        "acme",
        rate,
    );
    o.duration = Some(length);
    let minter = TokenMinter::new(&Secret::new(DEMO_SECRET)).unwrap();
    let stats = traffic::start(registry.clone(), minter, o).finish().await;
    LoggedRun {
        dir,
        registry,
        stack,
        stats,
        db_url,
        log,
    }
}
