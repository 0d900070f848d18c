//! Time to draw one full frame of the console (TestBackend, no terminal I/O).
//! Run: `cargo run --release --example bench_render [CLIENTS] [WIDTH] [HEIGHT]`

use std::time::Instant;

use mtls_console::tui::app::{Msg, TrafficView};
use mtls_console::tui::{fixtures, theme::Theme, view};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn main() {
    let mut args = std::env::args().skip(1);
    let clients: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(100);
    let w: u16 = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let h: u16 = args.next().and_then(|a| a.parse().ok()).unwrap_or(60);
    let mut app = fixtures::app(clients);
    app.update(Msg::Resize(w, h));
    app.traffic = TrafficView {
        running: true,
        ..Default::default()
    };
    let theme = Theme::dark();
    let mut terminal = Terminal::new(TestBackend::new(w, h)).unwrap();
    let runs = 500;
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        terminal.draw(|f| view::draw(f, &app, &theme)).unwrap();
        times.push(start.elapsed());
    }
    times.sort();
    println!(
        "{clients} clients at {w}x{h}: median {:.3} ms, p99 {:.3} ms over {runs} frames",
        times[runs / 2].as_secs_f64() * 1e3,
        times[runs * 99 / 100].as_secs_f64() * 1e3
    );
}
