//! Time to parse a large `/metrics` page and reduce it to binding figures.
//! Run: `cargo run --release --example bench_scrape [SERIES] [ITERATIONS]`

use std::time::Instant;

use mtls_console::scrape::families;

fn page(series: usize) -> String {
    let mut out = String::with_capacity(series * 90);
    out.push_str(include_str!("../tests/fixtures/legacy-gateway-metrics.txt"));
    out.push_str(
        "# HELP app_requests_total Requests by route\n# TYPE app_requests_total counter\n",
    );
    for i in 0..series {
        out.push_str(&format!(
            "app_requests_total{{route=\"/v1/items/{{id}}/{i}\",method=\"GET\",status=\"200\"}} {}\n",
            i * 7
        ));
    }
    out
}

fn main() {
    let mut args = std::env::args().skip(1);
    let series: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(50_000);
    let iterations: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(50);
    let text = page(series);
    let mut times = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let start = Instant::now();
        let r = families::read(&text, &[]);
        times.push(start.elapsed());
        assert_eq!(r.successes, 8.0);
    }
    times.sort();
    println!(
        "{series} series, {} bytes: median {:.2} ms, min {:.2} ms, max {:.2} ms over {iterations} runs",
        text.len(),
        times[iterations / 2].as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3,
        times[iterations - 1].as_secs_f64() * 1e3
    );
}
