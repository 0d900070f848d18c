//! Time from starting the console to its first frame on a pseudo-terminal
//! (the header drawn), and its idle CPU use with traffic stopped.
//! Run: `cargo build --release && cargo run --release --example bench_first_frame [RUNS] [IDLE_SECONDS]`

use std::io::Read;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, PtySize, native_pty_system};

fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    Some(fields[11].parse::<u64>().ok()? + fields[12].parse::<u64>().ok()?)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let idle: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(60);
    let bin = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/release/mtls-console");
    let mut firsts = Vec::new();
    for run in 0..runs {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows: 60,
                cols: 200,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let mut cmd = CommandBuilder::new(&bin);
        cmd.env("TERM", "xterm-256color");
        cmd.env("MTLS_CONSOLE_LOG", "/tmp/mtls-console-bench.log");
        let start = Instant::now();
        let mut child = pty.slave.spawn_command(cmd).unwrap();
        let mut reader = pty.master.try_clone_reader().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock().unwrap().extend_from_slice(&buf[..n]);
            }
        });
        loop {
            if String::from_utf8_lossy(&seen.lock().unwrap()).contains("built-in demo stack") {
                break;
            }
            assert!(start.elapsed() < Duration::from_secs(10), "no first frame");
            std::thread::sleep(Duration::from_micros(200));
        }
        firsts.push(start.elapsed());
        if run == runs - 1 && idle > 0 {
            let pid = child.process_id().unwrap();
            std::thread::sleep(Duration::from_secs(3));
            let (t0, c0) = (Instant::now(), cpu_ticks(pid).unwrap());
            std::thread::sleep(Duration::from_secs(idle));
            let (t1, c1) = (Instant::now(), cpu_ticks(pid).unwrap());
            let hz = 100.0; // USER_HZ on Linux
            let cpu = (c1 - c0) as f64 / hz / (t1 - t0).as_secs_f64() * 100.0;
            println!("idle CPU with traffic stopped: {cpu:.2} % of a core over {idle} s");
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    firsts.sort();
    println!(
        "first frame: median {:.0} ms, max {:.0} ms over {runs} starts",
        firsts[runs / 2].as_secs_f64() * 1e3,
        firsts[runs - 1].as_secs_f64() * 1e3
    );
}
