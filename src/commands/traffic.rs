//! `mtls-console traffic`: the headless traffic generator, with a live status
//! block and a final summary (`--json` for scripts).

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use color_eyre::eyre::{Result, bail};
use serde_json::json;

use crate::cli::TrafficArgs;
use crate::config::{Settings, join_url};
use crate::control_plane::ControlPlane;
use crate::domain::token::TokenMinter;
use crate::scrape::{self, families};
use crate::stack::{self, StackHandle, StackOptions};
use crate::store::Registry;
use crate::traffic::profile::{Profile, ProfileChoice, ProfileKind};
use crate::traffic::stats::Stats;
use crate::traffic::{self, TrafficOptions, mix::Intent};

/// Where the traffic goes: a configured gateway, or the built-in stack.
pub struct Target {
    pub gateway: url::Url,
    pub registry: Registry,
    pub stack: Option<StackHandle>,
}

pub async fn target(settings: &Settings) -> Result<Target> {
    let registry = super::open_registry(settings).await?;
    match &settings.gateway_url {
        Some(gw) => Ok(Target {
            gateway: gw.clone(),
            registry,
            stack: None,
        }),
        None => {
            let opts = StackOptions {
                api_token: settings.api_token.clone(),
                ..StackOptions::loopback(&settings.tenant, settings.jwt_secret.clone())
            };
            let handle = stack::start(registry.clone(), opts).await?;
            Ok(Target {
                gateway: url::Url::parse(&handle.gateway_url())?,
                registry,
                stack: Some(handle),
            })
        }
    }
}

impl Target {
    /// The control plane rotations go to: the configured API, else the built-in
    /// stack's, which never writes to a STOA database.
    pub fn control_plane(
        &self,
        settings: &Settings,
        timeout: Duration,
    ) -> Result<Option<ControlPlane>> {
        Ok(match (&settings.api_url, &self.stack) {
            (Some(u), _) => Some(ControlPlane::new(
                u.clone(),
                settings.api_token.clone(),
                timeout,
            )),
            (None, Some(h)) if !self.registry.is_stoa() => Some(ControlPlane::new(
                url::Url::parse(&h.api_url())?,
                Some(h.api_token.clone()),
                timeout,
            )),
            _ => None,
        })
    }
}

/// Resolves the profile; `auto` reads the families the gateway's /metrics declares.
pub async fn resolve_profile(gateway: &url::Url, args: &TrafficArgs) -> (Profile, Option<String>) {
    match args.gateway_profile {
        ProfileChoice::Legacy => (Profile::legacy(), None),
        ProfileChoice::StoaGateway => (Profile::stoa_gateway(), None),
        ProfileChoice::Custom => {
            let mut p = Profile::legacy();
            p.kind = ProfileKind::Custom;
            if let Some(h) = &args.cert_header {
                p.cert_header = h.clone();
            }
            p.verify_header = args.verify_header.clone();
            (p, None)
        }
        ProfileChoice::Auto => auto_profile(gateway).await,
    }
}

/// The profile the gateway's /metrics points to, with a note when it cannot tell.
pub async fn auto_profile(gateway: &url::Url) -> (Profile, Option<String>) {
    let timeout = Duration::from_secs(3);
    let client = scrape::http_client(timeout);
    let url = url::Url::parse(&join_url(gateway, "/metrics")).ok();
    let page = match url {
        Some(u) => scrape::fetch(&client, &u, timeout, scrape::DEFAULT_MAX_PAGE).await,
        None => Err(scrape::ScrapeError::Connection("bad URL".into())),
    };
    match page {
        Ok((text, _)) => {
            let reading = families::read(&text, &[]);
            let note = reading.kind.is_none().then(|| {
                format!(
                    "the gateway's /metrics declares no binding family: assuming the legacy profile; {}",
                    families::BindingReading::absent_hint()
                )
            });
            (Profile::from_family(reading.kind), note)
        }
        Err(e) => (
            Profile::legacy(),
            Some(format!(
                "cannot read the gateway's /metrics ({e}): assuming the legacy profile"
            )),
        ),
    }
}

pub async fn run(settings: &Settings, args: &TrafficArgs) -> Result<()> {
    let target = target(settings).await?;
    let (mut profile, note) = resolve_profile(&target.gateway, args).await;
    if let Some(n) = note {
        eprintln!("note: {n}");
    }
    if let Some(endpoint) = &settings.endpoint {
        profile.path = endpoint.clone();
    }
    if let Some(w) = profile.exempt_warning(&profile.path) {
        eprintln!("warning: {w}");
    }
    let cap = crate::config::max_rate(settings.max_tps, settings.gateway_url.as_ref());
    if let Some(cap) = cap.filter(|c| args.tps > *c) {
        bail!(
            "--tps {} is above the cap of {cap}/s for {}: pass --max-tps to raise it",
            args.tps,
            target.gateway.host_str().unwrap_or("this gateway")
        );
    }
    let mut opts = TrafficOptions::new(target.gateway.clone(), profile, &settings.tenant, args.tps);
    opts.mix = args.mix.clone();
    opts.duration = args.duration.map(Duration::from_secs_f64);
    opts.max_in_flight = args.max_in_flight.max(1);
    opts.connections = args.connections.max(1);
    opts.timeout = Duration::from_secs_f64(args.timeout.max(0.05));
    opts.grace_share = args.grace_share;
    opts.after_grace_share = args.after_grace_share;
    let minter = TokenMinter::new(&settings.jwt_secret)?;
    let described = format!(
        "traffic to {} ({:?} profile) at {}/s, mix {}",
        crate::config::redact_url(&join_url(&target.gateway, &opts.profile.path)),
        opts.profile.kind,
        args.tps,
        opts.mix
    );
    eprintln!("{described}");
    let handle = traffic::start(target.registry.clone(), minter, opts.clone());
    let tty = std::io::stderr().is_terminal();
    let stop = crate::platform::wait_for_stop();
    tokio::pin!(stop);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut ticks = 0u64;
    let mut printed = false;
    loop {
        tokio::select! {
            _ = &mut stop => break,
            _ = tick.tick() => {
                if handle.is_finished() {
                    break;
                }
                ticks += 1;
                let s = handle.stats();
                let line = status_line(&s, args.tps);
                if tty {
                    eprint!("\r\x1b[2K{line}");
                    printed = true;
                } else if ticks.is_multiple_of(5) {
                    eprintln!("{line}");
                }
                let _ = std::io::stderr().flush();
            }
        }
    }
    if printed {
        eprintln!();
    }
    let stats = handle.stop().await;
    let counters = target.stack.as_ref().map(StackHandle::binding_counters);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&summary_json(&stats, args.tps, &opts, counters))?
        );
    } else {
        print!("{}", summary_text(&stats, args.tps, counters));
    }
    if let Some(h) = target.stack {
        h.shutdown().await;
    }
    if args.fail_on_unexpected && stats.unexpected > 0 {
        bail!(
            "{} outcome(s) contradicted their intent (see the summary)",
            stats.unexpected
        );
    }
    Ok(())
}

fn status_line(s: &Stats, rate: f64) -> String {
    let now = Instant::now();
    let outcomes = s.outcomes();
    let passed: u64 = outcomes
        .iter()
        .filter(|(o, _)| matches!(o, traffic::profile::Outcome::Passed(_)))
        .map(|(_, n)| n)
        .sum();
    let rejected: u64 = outcomes
        .iter()
        .filter(|(o, _)| matches!(o, traffic::profile::Outcome::Rejected(_)))
        .map(|(_, n)| n)
        .sum();
    format!(
        "{:>6.0}s  sent {}  ({:.1}/s of {rate}/s)  passed {passed}  rejected {rejected}  unexpected {}  errors {}  p50 {}  p99 {}",
        s.elapsed(now).as_secs_f64(),
        s.sent,
        s.achieved_rate(now),
        s.unexpected,
        s.completed - passed - rejected,
        fmt_ms(s.percentile_ms(0.5)),
        fmt_ms(s.percentile_ms(0.99)),
    )
}

fn fmt_ms(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.1} ms"))
}

fn by_intent(s: &Stats) -> BTreeMap<String, BTreeMap<String, u64>> {
    s.by_intent
        .iter()
        .map(|(i, m)| {
            (
                i.name().to_string(),
                m.iter().map(|(o, n)| (o.label(), *n)).collect(),
            )
        })
        .collect()
}

pub fn summary_text(s: &Stats, rate: f64, counters: Option<(u64, u64)>) -> String {
    let now = Instant::now();
    let mut out = format!(
        "sent {} in {:.1} s ({:.2}/s, requested {rate}/s); completed {}, dropped {}, late {}\n",
        s.sent,
        s.elapsed(now).as_secs_f64(),
        s.achieved_rate(now),
        s.completed,
        s.dropped,
        s.late
    );
    for (intent, outcomes) in by_intent(s) {
        let total: u64 = outcomes.values().sum();
        let parts: Vec<String> = outcomes.iter().map(|(o, n)| format!("{o} {n}")).collect();
        out.push_str(&format!(
            "  {intent:<16} {total:>8}  {}\n",
            parts.join(", ")
        ));
    }
    out.push_str(&format!("unexpected outcomes: {}\n", s.unexpected));
    out.push_str(&format!(
        "latency from schedule: p50 {}, p90 {}, p99 {}, max {}\n",
        fmt_ms(s.percentile_ms(0.5)),
        fmt_ms(s.percentile_ms(0.9)),
        fmt_ms(s.percentile_ms(0.99)),
        fmt_ms(s.max_ms())
    ));
    if let Some((ok, mismatch)) = counters {
        out.push_str(&format!(
            "built-in gateway counters: success {ok}, mismatch {mismatch}\n"
        ));
    }
    out
}

pub fn summary_json(
    s: &Stats,
    rate: f64,
    opts: &TrafficOptions,
    counters: Option<(u64, u64)>,
) -> serde_json::Value {
    let now = Instant::now();
    json!({
        "target": crate::config::redact_url(&join_url(&opts.gateway, &opts.profile.path)),
        "profile": opts.profile.kind,
        "mix": opts.mix.shares().iter().map(|(i, p)| (i.name().to_string(), *p)).collect::<BTreeMap<_, _>>(),
        "requested_rate": rate,
        "achieved_rate": s.achieved_rate(now),
        "duration_s": s.elapsed(now).as_secs_f64(),
        "sent": s.sent,
        "completed": s.completed,
        "dropped": s.dropped,
        "connections": s.connections,
        "late": s.late,
        "by_intent": by_intent(s),
        "unexpected": s.unexpected,
        "unexpected_by_intent": s.unexpected_by_intent.iter().map(|(i, n)| (i.name().to_string(), *n)).collect::<BTreeMap<_, _>>(),
        "latency_ms": {
            "p50": s.percentile_ms(0.5), "p90": s.percentile_ms(0.9),
            "p99": s.percentile_ms(0.99), "max": s.max_ms(),
        },
        "gateway_counters": counters.map(|(ok, mm)| json!({"success": ok, "mismatch": mm})),
        "valid_passed": s.count(Intent::Valid, |o| matches!(o, traffic::profile::Outcome::Passed(_))),
    })
}
