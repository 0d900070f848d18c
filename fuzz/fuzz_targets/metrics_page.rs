//! Any bytes as a `/metrics` page: reading the binding families and folding the
//! reading into a watch must never panic.
#![no_main]

use std::time::{Duration, Instant};

use libfuzzer_sys::fuzz_target;
use mtls_console::scrape::{Watch, exposition, families};

fuzz_target!(|data: &[u8]| {
    let page = String::from_utf8_lossy(data);
    let _ = exposition::parse(&page, |_| true);
    let custom = vec!["custom_binding_total".to_string()];
    let _ = families::read(&page, &custom);
    let url = url::Url::parse("http://127.0.0.1:1/metrics").unwrap();
    let now = Instant::now();
    let mut w = Watch::new(std::slice::from_ref(&url), now);
    for i in 0..2u64 {
        w.apply(
            now + Duration::from_secs(i),
            chrono::Utc::now(),
            Duration::from_secs(1),
            vec![(0, Ok((page.to_string(), Duration::ZERO)))],
            &custom,
        );
    }
    let _ = w.snapshot(chrono::Utc::now(), 10);
});
