//! What the console benchmarks share: the release binary in a pseudo-terminal,
//! its screen bytes, and its CPU time.

use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

pub struct Running {
    pub child: Box<dyn Child + Send + Sync>,
    /// The screen as a terminal shows it (ratatui writes only what changed).
    pub screen: Arc<Mutex<vt100::Parser>>,
    _master: Box<dyn MasterPty + Send>,
}

/// Starts `target/release/mtls-console ARGS` on a 200×60 pseudo-terminal.
pub fn start(args: &[&str]) -> Running {
    let bin = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/mtls-console");
    let pty = native_pty_system()
        .openpty(PtySize {
            rows: 60,
            cols: 200,
            pixel_width: 0,
            pixel_height: 0,
        })
        .unwrap();
    let mut cmd = CommandBuilder::new(&bin);
    cmd.args(args);
    cmd.env("TERM", "xterm-256color");
    cmd.env("MTLS_CONSOLE_LOG", "/tmp/mtls-console-bench.log");
    let child = pty.slave.spawn_command(cmd).unwrap();
    let mut reader = pty.master.try_clone_reader().unwrap();
    let screen = Arc::new(Mutex::new(vt100::Parser::new(
        60.try_into().unwrap(),
        200.try_into().unwrap(),
        0,
    )));
    let sink = screen.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().process(&buf[..n]);
        }
    });
    Running {
        child,
        screen,
        _master: pty.master,
    }
}

impl Running {
    /// Waits until the screen shows `text`.
    pub fn wait_for(&self, text: &str, deadline: Duration) {
        let start = Instant::now();
        while !self
            .screen
            .lock()
            .unwrap()
            .screen()
            .contents()
            .contains(text)
        {
            assert!(start.elapsed() < deadline, "{text:?} never appeared");
            std::thread::sleep(Duration::from_micros(200));
        }
    }

    /// CPU use in % of a core while `during` runs.
    pub fn cpu_during(&self, during: impl FnOnce()) -> f64 {
        let pid = self.child.process_id().unwrap();
        let (t0, c0) = (Instant::now(), cpu_ticks(pid).unwrap());
        during();
        let (t1, c1) = (Instant::now(), cpu_ticks(pid).unwrap());
        let hz = 100.0; // USER_HZ on Linux
        (c1 - c0) as f64 / hz / (t1 - t0).as_secs_f64() * 100.0
    }
}

fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    Some(fields[11].parse::<u64>().ok()? + fields[12].parse::<u64>().ok()?)
}
