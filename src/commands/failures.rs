//! `mtls-console failures --gateway-log PATH`: the clients whose requests the
//! gateway refused, from its own log, worst first.

use std::io::BufRead;

use chrono::Utc;
use color_eyre::eyre::{Context, Result};
use serde_json::json;

use crate::cli::FailuresArgs;
use crate::config::Settings;
use crate::gateway_log::{Attributor, Tally};
use crate::text::{printable, truncate};

pub async fn run(settings: &Settings, args: &FailuresArgs) -> Result<()> {
    let registry = super::open_registry(settings).await?;
    let clients = registry.list(&settings.tenant).await?;
    let who = Attributor::new(&clients);
    let now = Utc::now();
    let since = args
        .since
        .map(|d| now - chrono::Duration::from_std(d).unwrap_or_default());
    let mut tally = Tally::default();
    let reader: Box<dyn BufRead> = if args.gateway_log == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        let file = std::fs::File::open(&args.gateway_log)
            .wrap_err_with(|| format!("cannot read the gateway log {}", args.gateway_log))?;
        Box::new(std::io::BufReader::new(file))
    };
    for line in reader.split(b'\n') {
        let line = line.wrap_err("reading the gateway log")?;
        tally.add_line(&String::from_utf8_lossy(&line), &who, now, since);
    }
    let name = |id: &str| {
        clients
            .iter()
            .find(|c| c.id == id)
            .map_or(id.to_string(), |c| c.name.clone())
    };
    let failing = tally.failing(now);
    if args.json {
        let rows: Vec<_> = failing
            .iter()
            .map(|(id, c)| {
                json!({
                    "client_id": id,
                    "name": name(id),
                    "failures": c.total(),
                    "failures_last_5m": c.recent_failures(now),
                    "by_reason": c.failures,
                    "last_failure": c.last_failure,
                    "verified": c.successes,
                })
            })
            .collect();
        let out = json!({
            "failing": rows,
            "unattributed": tally.unattributed,
            "unattributed_subjects": tally.unattributed_subjects,
            "lines": {
                "binding": tally.binding_lines,
                "other_json": tally.other_json_lines,
                "not_json": tally.not_json_lines,
            },
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    println!(
        "{:<32} {:>8} {:>7}  {:<20} {:<36} {:>8}",
        "client", "failures", "last 5m", "last failure (UTC)", "by reason", "verified"
    );
    for (id, c) in &failing {
        let reasons: Vec<String> = c.failures.iter().map(|(r, n)| format!("{r} {n}")).collect();
        println!(
            "{:<32} {:>8} {:>7}  {:<20} {:<36} {:>8}",
            truncate(&printable(&name(id)), 32),
            c.total(),
            c.recent_failures(now),
            c.last_failure
                .map_or("-".into(), |t| t.format("%Y-%m-%d %H:%M:%S").to_string()),
            truncate(&reasons.join(", "), 36),
            c.successes
        );
    }
    if failing.is_empty() {
        println!("(no binding failures attributed to a client)");
    }
    if tally.unattributed > 0 {
        let subjects: Vec<String> = tally
            .unattributed_subjects
            .iter()
            .take(10)
            .map(|(s, n)| format!("{} ×{n}", printable(s)))
            .collect();
        println!(
            "\n{} event(s) matched no client of tenant {}: {}",
            tally.unattributed,
            settings.tenant,
            subjects.join(", ")
        );
    }
    eprintln!(
        "read {} binding event(s); skipped {} other JSON line(s) and {} non-JSON line(s)",
        tally.binding_lines, tally.other_json_lines, tally.not_json_lines
    );
    Ok(())
}
