//! The real binary in a pseudo-terminal, its screen read through a terminal
//! emulator: the built-in demo from start to quit.

mod common;

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

struct Screen {
    parser: vt100::Parser,
    raw: Vec<u8>,
}

struct Console {
    screen: Arc<Mutex<Screen>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    master: Box<dyn portable_pty::MasterPty + Send>,
    dir: tempfile::TempDir,
}

const ROWS: u16 = 40;
const COLS: u16 = 120;

impl Console {
    fn start() -> Self {
        Self::start_with(&[], &[])
    }

    /// Starts the console with extra arguments and environment variables.
    fn start_with(args: &[&str], env: &[(&str, &str)]) -> Self {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: ROWS,
                cols: COLS,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let bin = env!("CARGO_BIN_EXE_mtls-console");
        // After the console exits, record its exit code and the terminal's mode.
        let extra: String = args.iter().map(|a| format!(" '{a}'")).collect();
        let script = format!(
            "'{bin}' --save-keys '{d}'{extra}; echo $? > '{d}/code'; stty -a > '{d}/stty'",
            d = dir.path().display()
        );
        let mut cmd = CommandBuilder::new("sh");
        cmd.args(["-c", &script]);
        for var in common::CONFIG_VARS {
            cmd.env_remove(var);
        }
        cmd.env("TERM", "xterm-256color");
        cmd.env("RUST_BACKTRACE", "1");
        cmd.env("MTLS_CONSOLE_LOG", dir.path().join("console.log"));
        cmd.env("XDG_CONFIG_HOME", dir.path().join("config"));
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = pty.slave.spawn_command(cmd).unwrap();
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().unwrap();
        let writer = pty.master.take_writer().unwrap();
        let screen = Arc::new(Mutex::new(Screen {
            parser: vt100::Parser::new(ROWS.try_into().unwrap(), COLS.try_into().unwrap(), 0),
            raw: Vec::new(),
        }));
        let sink = screen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut s = sink.lock().unwrap();
                s.parser.process(&buf[..n]);
                s.raw.extend_from_slice(&buf[..n]);
            }
        });
        Console {
            screen,
            writer,
            child,
            master: pty.master,
            dir,
        }
    }

    fn resize(&self, rows: u16, cols: u16) {
        // The emulator first: a redraw for the new size must not be read at the old one.
        let (r, c) = (rows.try_into().unwrap(), cols.try_into().unwrap());
        self.screen.lock().unwrap().parser.set_size(r, c);
        self.master
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
    }

    /// Waits for the shell around the console to finish (the console exited).
    fn wait_exit(&mut self) {
        let until = Instant::now() + Duration::from_secs(30);
        while self.child.try_wait().unwrap().is_none() {
            assert!(
                Instant::now() < until,
                "the console did not exit:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Checks the terminal was given back: cooked mode, main screen.
    fn assert_restored(&self) {
        let stty = std::fs::read_to_string(self.dir.path().join("stty")).unwrap();
        assert!(
            stty.contains(" icanon") && stty.contains(" echo ") && !stty.contains("-icanon"),
            "raw mode left on: {stty}"
        );
        // The last bytes may still be on their way from the pseudo-terminal.
        self.wait_for("the main screen", Duration::from_secs(10), |s| {
            !s.alternate_screen()
        });
        let screen = self.screen.lock().unwrap();
        let raw = String::from_utf8_lossy(&screen.raw);
        assert!(raw.contains("\x1b[?1049l"), "leaves the alternate screen");
        assert!(!raw.contains("panicked"));
    }

    fn text(&self) -> String {
        self.screen.lock().unwrap().parser.screen().contents()
    }

    fn send(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
    }

    /// Waits for a condition on the screen, with a generous deadline.
    fn wait_for(&self, what: &str, deadline: Duration, ok: impl Fn(&vt100::Screen) -> bool) {
        let until = Instant::now() + deadline;
        loop {
            if ok(self.screen.lock().unwrap().parser.screen()) {
                return;
            }
            assert!(
                Instant::now() < until,
                "timed out waiting for {what}; screen:\n{}",
                self.text()
            );
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

fn tiles(text: &str) -> usize {
    ["✓", "!", "▲", "✗", "⇄", "⊘"]
        .iter()
        .map(|g| text.matches(g).count())
        .sum()
}

fn number_after(text: &str, label: &str) -> u64 {
    text.lines()
        .find_map(|l| {
            let rest = &l[l.find(label)? + label.len()..];
            rest.split_whitespace().next()?.parse().ok()
        })
        .unwrap_or(0)
}

/// The screen position of the first occurrence of `needle`.
fn find(screen: &vt100::Screen, needle: &str) -> Option<(u16, u16)> {
    for row in 0..ROWS {
        let line: String = (0..COLS)
            .map(|c| {
                screen.cell(row, c).map_or(" ".to_string(), |x| {
                    if x.has_contents() {
                        x.contents().to_string()
                    } else {
                        " ".into()
                    }
                })
            })
            .collect();
        if let Some(byte) = line.find(needle) {
            return Some((row, line[..byte].chars().count() as u16));
        }
    }
    None
}

#[test]
fn built_in_demo_from_start_to_quit() {
    let mut c = Console::start();
    c.wait_for("100 tiles", Duration::from_secs(60), |s| {
        tiles(&s.contents()) == 100
    });
    let text = c.text();
    assert!(text.contains("built-in demo stack"), "{text}");
    assert!(text.contains("Clients 100"));

    // t: traffic, and the gateway's binding counters move.
    c.send("t");
    c.wait_for("binding counters to move", Duration::from_secs(30), |s| {
        number_after(&s.contents(), "success") > 0 && number_after(&s.contents(), "failures") > 0
    });

    // Select the first tile (healthy), rotate it, confirm.
    c.send("\x1b[C");
    c.send("r");
    c.wait_for("the rotation dialog", Duration::from_secs(10), |s| {
        s.contents().contains("Rotate certificate")
    });
    assert!(c.text().contains("grace period:  90s"), "{}", c.text());
    c.send("\r");
    c.wait_for("tile 0 in grace", Duration::from_secs(30), |s| {
        find(s, "⇄ 0").is_some()
    });
    {
        let screen = c.screen.lock().unwrap();
        let (row, col) = find(screen.parser.screen(), "⇄ 0").unwrap();
        let bg = screen.parser.screen().cell(row, col).unwrap().bgcolor();
        assert_eq!(bg, vt100::Color::Idx(27), "the rotated tile is blue");
    }

    // Enter: the detail shows the grace banner and both fingerprints.
    c.send("\r");
    c.wait_for("the detail view", Duration::from_secs(10), |s| {
        s.contents().contains("GRACE PERIOD")
    });
    let text = c.text();
    assert!(
        text.contains("fingerprint") && text.contains("previous"),
        "{text}"
    );
    // The private key went to a 0600 file, never to the screen.
    let keys: Vec<_> = std::fs::read_dir(c.dir.path())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".key.pem"))
        .collect();
    assert_eq!(keys.len(), 1, "one saved key");
    let key = std::fs::read_to_string(keys[0].path()).unwrap();
    assert!(key.starts_with("-----BEGIN PRIVATE KEY-----"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = keys[0].metadata().unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    let prints = text.lines().filter(|l| l.contains("…  ✓ ")).count();
    assert_eq!(prints, 2, "two fingerprints with their counts:\n{text}");
    assert!(!text.contains("PRIVATE KEY"));

    // q asks while traffic runs; y quits and restores the terminal.
    c.send("\x1b");
    c.send("q");
    c.wait_for("the quit question", Duration::from_secs(10), |s| {
        s.contents().contains("Quit?")
    });
    c.send("y");
    c.wait_exit();
    let code = std::fs::read_to_string(c.dir.path().join("code")).unwrap();
    assert_eq!(code.trim(), "0");
    c.assert_restored();
    let screen = c.screen.lock().unwrap();
    let raw = String::from_utf8_lossy(&screen.raw);
    assert!(
        !raw.contains("PRIVATE KEY"),
        "a private key reached the screen"
    );
    let log = std::fs::read_to_string(c.dir.path().join("console.log")).unwrap_or_default();
    assert!(
        !log.contains("PRIVATE KEY"),
        "a private key reached the log"
    );
}

/// The console's own process: the child of the shell that runs it.
fn console_pid(c: &Console) -> u32 {
    let sh = c.child.process_id().unwrap();
    let until = Instant::now() + Duration::from_secs(10);
    loop {
        let children =
            std::fs::read_to_string(format!("/proc/{sh}/task/{sh}/children")).unwrap_or_default();
        if let Some(pid) = children.split_whitespace().next() {
            return pid.parse().unwrap();
        }
        assert!(Instant::now() < until, "no console process under the shell");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Against a STOA database reached with a password: a scenario from its key,
/// presenter mode, a resize storm down to 10x5 and back, then SIGTERM. The
/// terminal is restored, and no secret reached the screen or the log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scenario_presenter_resizes_and_sigterm_keep_secrets_and_restore_the_terminal() {
    let db = common::TestDb::new().await;
    db.load_stoa_schema().await;
    db.load_stoa_rows().await;
    // Trust authentication ignores the password: it is there to be hidden.
    let url = db.url.replace("postgres@", "postgres:Db-Pa55word-xyz@");
    assert_ne!(url, db.url, "{}", db.url);
    let (jwt, token) = ("jwt-S3cret-value-0123456789", "api-T0ken-value-9876543210");
    let mut c = Console::start_with(
        &["--db-url", &url],
        &[("JWT_SECRET", jwt), ("API_TOKEN", token)],
    );
    c.wait_for("100 tiles", Duration::from_secs(60), |s| {
        tiles(&s.contents()) == 100
    });
    assert!(c.text().contains("registry ●"), "{}", c.text());

    // s, Enter: the full scenario; its step bar shows the step and what is next.
    c.send("s");
    c.wait_for("the scenario picker", Duration::from_secs(10), |s| {
        s.contents().contains("Run a scenario")
    });
    c.send("\r");
    c.wait_for("the warm-up step", Duration::from_secs(30), |s| {
        s.contents().contains("2/4 Warm-up") && s.contents().contains("next: Live rotation")
    });
    c.send("p");
    c.wait_for("presenter mode", Duration::from_secs(10), |s| {
        s.contents().contains("binding successes") && !s.contents().contains("Binding counters")
    });
    c.send("N");
    c.wait_for("the talk track", Duration::from_secs(10), |s| {
        s.contents().contains("Traffic starts")
    });

    // A resize storm, down to 10x5 and back.
    for i in 0..30u16 {
        c.resize(10 + i * 3, 5 + i);
    }
    c.resize(5, 10);
    c.wait_for("the enlarge message", Duration::from_secs(10), |s| {
        s.contents().contains("enlarge")
    });
    c.resize(ROWS, COLS);
    c.wait_for("the grid again", Duration::from_secs(10), |s| {
        tiles(&s.contents()) == 100
    });

    // SIGTERM while the scenario's traffic runs.
    let pid = console_pid(&c);
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status();
    c.wait_exit();
    c.assert_restored();
    let screen = String::from_utf8_lossy(&c.screen.lock().unwrap().raw).into_owned();
    let log = std::fs::read_to_string(c.dir.path().join("console.log")).unwrap_or_default();
    assert!(
        log.contains("console: first frame drawn"),
        "the log was written"
    );
    for secret in ["Db-Pa55word-xyz", jwt, token] {
        assert!(!screen.contains(secret), "{secret} reached the screen");
        assert!(!log.contains(secret), "{secret} reached the log");
    }
}

/// An operator's console: read-only against a running gateway, following its log.
/// The keys that write do nothing, and exactly the clients the gateway refused
/// carry a flag.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readonly_follows_the_gateway_log_and_flags_exactly_the_refused_clients() {
    let run = common::logged_traffic(100.0, Duration::from_millis(500)).await;
    let (s, h, db_url, log) = (&run.stats, &run.stack, &run.db_url, &run.log);
    let refused = s
        .per_client
        .values()
        .filter(|a| a.counts.failed > 0)
        .count();
    assert!(refused > 0);

    let gw = h.gateway_url();
    let log_path = log.to_str().unwrap().to_string();
    let mut c = Console::start_with(
        &[
            "--readonly",
            "--gateway-url",
            &gw,
            "--db-url",
            db_url,
            "--gateway-log",
            &log_path,
            "--from-start",
        ],
        &[],
    );
    c.wait_for("the failing clients", Duration::from_secs(60), |s| {
        tiles(&s.contents()) == 100 && s.contents().contains("Failing now")
    });
    let flags_in_grid = |s: &vt100::Screen| {
        (0..ROWS)
            .flat_map(|r| (0..COLS - 42).map(move |col| (r, col)))
            .filter(|&(r, col)| s.cell(r, col).is_some_and(|x| x.contents() == "⚑"))
            .count()
    };
    c.wait_for(
        "one flag per refused client",
        Duration::from_secs(30),
        |s| flags_in_grid(s) == refused,
    );
    let text = c.text();
    assert!(text.contains("READ-ONLY"), "{text}");
    assert!(!text.contains(" t traffic"), "no traffic key hint: {text}");

    // t, r and s (which could seed) do nothing.
    c.send("t");
    c.send("\x1b[C");
    c.send("r");
    c.send("s");
    c.send("?");
    c.wait_for("the help overlay", Duration::from_secs(10), |s| {
        s.contents().contains("Keys")
    });
    let text = c.text();
    assert!(!text.contains("Rotate certificate") && !text.contains("Run a scenario"));
    assert!(!text.contains("Traffic running"), "{text}");
    let before = h.binding_counters();
    c.send("\x1bq");
    c.wait_exit();
    c.assert_restored();
    assert_eq!(h.binding_counters(), before, "no request was sent");
    run.stack.shutdown().await;
}

/// While a rotation hangs on a control plane that never answers, keys are still
/// handled at once: the time from a key to its effect on screen.
#[test]
fn keys_answer_while_a_control_plane_request_hangs() {
    // Accepts and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let api = format!("http://{}", silent.local_addr().unwrap());
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in silent.incoming().flatten() {
            held.push(s);
        }
    });
    let mut c = Console::start_with(&["--api-url", &api, "--api-token", "t0ken-x"], &[]);
    c.wait_for("100 tiles", Duration::from_secs(60), |s| {
        tiles(&s.contents()) == 100
    });
    c.send("\x1b[C");
    c.send("r");
    c.wait_for("the rotation dialog", Duration::from_secs(10), |s| {
        s.contents().contains("Rotate certificate")
    });
    c.send("\r");
    c.wait_for("the rotation under way", Duration::from_secs(10), |s| {
        s.contents().contains("rotating")
    });
    // The request now hangs (the client's timeout is 5 s); time ten keys.
    let mut worst = Duration::ZERO;
    for _ in 0..5 {
        for (key, shows) in [("?", true), ("\x1b", false)] {
            let start = Instant::now();
            c.send(key);
            c.wait_for("the key's effect", Duration::from_secs(5), |s| {
                s.contents().contains("this help") == shows
            });
            worst = worst.max(start.elapsed());
        }
    }
    println!("slowest key while the API hangs: {worst:?}");
    assert!(worst < Duration::from_secs(1), "{worst:?}");
    assert!(
        !c.text().contains("rotation failed"),
        "still hanging: the keys were timed during the request"
    );
    c.send("q");
    c.wait_exit();
    c.assert_restored();
}

/// The registry's database stops under a running console: the grid keeps its
/// last state, marked stale, and refreshes by itself once the database is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_stopped_and_restarted_leaves_the_grid_stale_then_fresh() {
    let Some(pg) = common::OwnCluster::start() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI runs as root with PostgreSQL's binaries: a cluster of the test's own must start"
        );
        eprintln!("skipped: cannot start a PostgreSQL cluster of the test's own here");
        return;
    };
    common::load_stoa_schema(&pg.url()).await;
    common::load_stoa_rows(&pg.url()).await;
    let mut c = Console::start_with(&["--db-url", &pg.url()], &[]);
    c.wait_for("100 tiles", Duration::from_secs(60), |s| {
        tiles(&s.contents()) == 100 && !s.contents().contains("stale")
    });
    pg.down();
    c.wait_for("the grid marked stale", Duration::from_secs(30), |s| {
        s.contents().contains("stale")
    });
    assert_eq!(tiles(&c.text()), 100, "the last state is kept");
    assert!(pg.up(), "the cluster restarts");
    c.wait_for("the grid fresh again", Duration::from_secs(60), |s| {
        !s.contents().contains("stale") && tiles(&s.contents()) == 100
    });
    c.send("q");
    c.wait_exit();
    c.assert_restored();
}

/// A panic in a background task is logged and the console goes on (SIGINT then
/// ends it cleanly); a panic in the console's own loop restores the terminal
/// before its one-line report.
#[test]
fn panics_and_sigint_leave_the_terminal_restored() {
    let mut c = Console::start_with(&[], &[("MTLS_CONSOLE_FAULT", "panic-in-task")]);
    c.wait_for("100 tiles", Duration::from_secs(60), |s| {
        tiles(&s.contents()) == 100
    });
    let log = c.dir.path().join("console.log");
    let until = Instant::now() + Duration::from_secs(20);
    while !std::fs::read_to_string(&log)
        .unwrap_or_default()
        .contains("injected fault in a background task")
    {
        assert!(Instant::now() < until, "the panic was not logged");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Still running and drawing: the help overlay opens.
    c.send("?");
    c.wait_for("the help overlay", Duration::from_secs(10), |s| {
        s.contents().contains("this help")
    });
    let pid = console_pid(&c);
    let _ = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status();
    c.wait_exit();
    c.assert_restored();

    let mut c = Console::start_with(&[], &[("MTLS_CONSOLE_FAULT", "panic-in-main")]);
    c.wait_exit();
    c.assert_restored();
    let code = std::fs::read_to_string(c.dir.path().join("code")).unwrap();
    assert_ne!(code.trim(), "0");
    let raw = String::from_utf8_lossy(&c.screen.lock().unwrap().raw).into_owned();
    let report = raw
        .lines()
        .find(|l| l.contains("mtls-console: internal error"))
        .unwrap_or_else(|| panic!("no report: {raw:?}"));
    assert!(
        report.contains("injected fault in the console's loop"),
        "{report}"
    );
    assert!(!raw.contains("stack backtrace") && !raw.contains("RUST_BACKTRACE"));
}
