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
    dir: tempfile::TempDir,
}

const ROWS: u16 = 40;
const COLS: u16 = 120;

impl Console {
    fn start() -> Self {
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
        let script = format!(
            "'{bin}' --save-keys '{d}'; echo $? > '{d}/code'; stty -a > '{d}/stty'",
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
        // Keep the master open for the child's lifetime.
        std::mem::forget(pty.master);
        Console {
            screen,
            writer,
            child,
            dir,
        }
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
            std::thread::sleep(Duration::from_millis(50));
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
    let until = Instant::now() + Duration::from_secs(30);
    while c.child.try_wait().unwrap().is_none() {
        assert!(
            Instant::now() < until,
            "the console did not exit:\n{}",
            c.text()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let code = std::fs::read_to_string(c.dir.path().join("code")).unwrap();
    assert_eq!(code.trim(), "0");
    let stty = std::fs::read_to_string(c.dir.path().join("stty")).unwrap();
    assert!(
        stty.contains(" icanon") && stty.contains(" echo ") && !stty.contains("-icanon"),
        "raw mode left on: {stty}"
    );
    let screen = c.screen.lock().unwrap();
    assert!(
        !screen.parser.screen().alternate_screen(),
        "alternate screen left"
    );
    let raw = String::from_utf8_lossy(&screen.raw);
    assert!(raw.contains("\x1b[?1049l"), "leaves the alternate screen");
    assert!(!raw.contains("panicked"));
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
