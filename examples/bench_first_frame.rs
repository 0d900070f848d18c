//! Time from starting the console to its first frame on a pseudo-terminal
//! (the header drawn), and its idle CPU use with traffic stopped.
//! Run: `cargo build --release && cargo run --release --example bench_first_frame [RUNS] [IDLE_SECONDS]`

#[path = "support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

fn main() {
    let mut args = std::env::args().skip(1);
    let runs: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10);
    let idle: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(60);
    let mut firsts = Vec::new();
    for run in 0..runs {
        let start = Instant::now();
        let mut console = support::start(&[]);
        console.wait_for("built-in demo stack", Duration::from_secs(10));
        firsts.push(start.elapsed());
        if run == runs - 1 && idle > 0 {
            std::thread::sleep(Duration::from_secs(3));
            let cpu = console.cpu_during(|| std::thread::sleep(Duration::from_secs(idle)));
            println!("idle CPU with traffic stopped: {cpu:.2} % of a core over {idle} s");
        }
        let _ = console.child.kill();
        let _ = console.child.wait();
    }
    firsts.sort();
    println!(
        "first frame: median {:.0} ms, max {:.0} ms over {runs} starts",
        firsts[runs / 2].as_secs_f64() * 1e3,
        firsts[runs - 1].as_secs_f64() * 1e3
    );
}
