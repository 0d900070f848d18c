//! `mtls-console metrics`: the binding counters once, or refreshed in place — the
//! one-terminal replacement for `watch -n 2 'curl -s …/metrics | grep cert_binding'`.

use std::fmt::Write as _;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use chrono::Utc;
use color_eyre::eyre::{Result, bail};
use tokio::sync::{mpsc, watch};

use crate::cli::MetricsArgs;
use crate::config::{Settings, join_url, parse_service_url};
use crate::scrape::{self, BindingSnapshot, Presence, ScrapeOptions, Watch};

pub fn targets(settings: &Settings, args: &MetricsArgs) -> Result<Vec<url::Url>> {
    if !args.metrics_urls.is_empty() {
        return args
            .metrics_urls
            .iter()
            .map(|u| Ok(parse_service_url("--metrics-url", u)?))
            .collect();
    }
    match &settings.gateway_url {
        Some(gw) => Ok(vec![parse_service_url(
            "--gateway-url (GATEWAY_URL)",
            &join_url(gw, "/metrics"),
        )?]),
        None => bail!(
            "no gateway to scrape: pass --metrics-url URL (repeatable) or --gateway-url (GATEWAY_URL)"
        ),
    }
}

pub async fn run(settings: &Settings, args: &MetricsArgs) -> Result<()> {
    let prometheus = args
        .prometheus_url
        .as_deref()
        .map(|u| parse_service_url("--prometheus-url", u))
        .transpose()?;
    let urls = match prometheus {
        Some(_) => Vec::new(),
        None => targets(settings, args)?,
    };
    let mut opts = ScrapeOptions::new(urls, Duration::from_secs_f64(args.interval));
    opts.custom_families = args.binding_metrics.clone();
    if !args.watch {
        return once(&opts, prometheus.as_ref(), args.json).await;
    }
    let (tx, mut rx) = mpsc::channel(4);
    let (stop_tx, stop_rx) = watch::channel(false);
    let scraper = match prometheus {
        Some(base) => tokio::spawn(scrape::prometheus::run(
            base,
            opts.interval,
            opts.timeout,
            opts.custom_families.clone(),
            tx,
            stop_rx,
        )),
        None => tokio::spawn(scrape::run(opts, tx, stop_rx)),
    };
    let tty = std::io::stdout().is_terminal() && !args.json;
    let stop = crate::platform::wait_for_stop();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            snap = rx.recv() => {
                let Some(snap) = snap else { break };
                let mut out = std::io::stdout().lock();
                if args.json {
                    writeln!(out, "{}", serde_json::to_string(&snap)?)?;
                } else if tty {
                    // Home and clear below: redraw in place without flicker.
                    write!(out, "\x1b[H{}\x1b[J", render(&snap))?;
                } else {
                    writeln!(out, "{}", render(&snap))?;
                }
                out.flush()?;
            }
        }
    }
    let _ = stop_tx.send(true);
    let _ = scraper.await;
    Ok(())
}

async fn once(opts: &ScrapeOptions, prometheus: Option<&url::Url>, json: bool) -> Result<()> {
    let client = scrape::http_client(opts.timeout);
    let now = Instant::now();
    let mut state = Watch::new(&opts.targets, now);
    if let Some(base) = prometheus {
        let answer =
            scrape::prometheus::query(&client, base, opts.timeout, &opts.custom_families).await;
        if let Err(e) = &answer {
            bail!(
                "Prometheus at {}: {e}",
                crate::config::redact_url(base.as_str())
            );
        }
        let took = now.elapsed();
        scrape::prometheus::apply(
            &mut state,
            answer,
            took,
            opts.interval,
            &opts.custom_families,
        );
    } else {
        let mut results = Vec::new();
        for (i, url) in opts.targets.iter().enumerate() {
            let page = scrape::fetch(&client, url, opts.timeout, opts.max_page).await;
            results.push((i, page));
        }
        state.apply(
            now,
            Utc::now(),
            opts.interval,
            results,
            &opts.custom_families,
        );
    }
    let snap = state.snapshot(Utc::now(), 0);
    if json {
        println!("{}", serde_json::to_string_pretty(&snap)?);
    } else {
        print!("{}", render(&snap));
    }
    if prometheus.is_none() && snap.targets.iter().all(|t| !t.up) {
        bail!("no target answered (see above)");
    }
    Ok(())
}

fn rate(r: Option<f64>) -> String {
    r.map_or("-".into(), |v| format!("{v:.1}/s"))
}

/// The plain-text panel: totals, rates over 1 s/10 s/60 s, ratio, targets.
pub fn render(s: &BindingSnapshot) -> String {
    let mut out = String::new();
    let kind = match s.kind {
        Some(k) => format!("{k:?}"),
        None => "none".into(),
    };
    let _ = writeln!(
        out,
        "certificate binding  ({kind} families, {})",
        s.at.format("%H:%M:%S")
    );
    match s.presence {
        Presence::Absent => {
            let _ = writeln!(
                out,
                "  {}",
                s.hint.as_deref().unwrap_or("no binding counters yet")
            );
        }
        Presence::DeclaredNoSamples => {
            let _ = writeln!(out, "  declared, no sample yet: every count is 0");
        }
        Presence::Present => {}
    }
    let _ = writeln!(
        out,
        "  {:<22} {:>10} {:>10} {:>10} {:>10}",
        "", "total", "1s", "10s", "60s"
    );
    let mut row = |name: &str, total: f64, key: &str| {
        let r = s.rates.get(key).copied().unwrap_or([None; 3]);
        let _ = writeln!(
            out,
            "  {:<22} {:>10} {:>10} {:>10} {:>10}",
            name,
            total as u64,
            rate(r[0]),
            rate(r[1]),
            rate(r[2])
        );
    };
    row("success", s.successes, "success");
    row("failures", s.failures_total, "failures");
    for (reason, total) in &s.failures {
        row(&format!("  {reason}"), *total, reason);
    }
    let _ = writeln!(
        out,
        "  failure ratio          {}",
        s.failure_ratio
            .map_or("-".into(), |r| format!("{:.1} %", r * 100.0))
    );
    for t in &s.targets {
        let state = if t.up {
            format!("up ({:.1} ms)", t.latency_ms.unwrap_or(0.0))
        } else {
            let since = t.last_success.map_or("never answered".into(), |l| {
                format!("last success {}", l.format("%H:%M:%S"))
            });
            format!(
                "DOWN: {} ({since})",
                t.error
                    .as_ref()
                    .map_or("not scraped yet".into(), ToString::to_string)
            )
        };
        let resets = if t.resets > 0 {
            format!(", {} restart(s) seen", t.resets)
        } else {
            String::new()
        };
        let _ = writeln!(out, "  target {}  {state}{resets}", t.url);
    }
    out
}
