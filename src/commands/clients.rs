//! `mtls-console clients`: the registry as a table or JSON, with health.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use color_eyre::eyre::Result;
use serde::Serialize;

use crate::cli::ClientsArgs;
use crate::config::Settings;
use crate::domain::{Client, Health};
use crate::text::{printable, truncate};

/// One client as `--json` prints it: the table's fields, snake_case.
#[derive(Debug, Serialize)]
pub struct ClientView<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub certificate_cn: &'a str,
    pub status: &'a str,
    pub health: Health,
    pub days_left: Option<i64>,
    pub certificate_fingerprint: Option<String>,
    pub certificate_fingerprint_previous: Option<String>,
    pub certificate_serial: Option<&'a str>,
    pub certificate_not_before: Option<DateTime<Utc>>,
    pub certificate_not_after: Option<DateTime<Utc>>,
    pub previous_cert_expires_at: Option<DateTime<Utc>>,
    pub last_rotated_at: Option<DateTime<Utc>>,
    pub rotation_count: i64,
    pub problems: Vec<String>,
}

impl<'a> ClientView<'a> {
    pub fn new(c: &'a Client, now: DateTime<Utc>) -> Self {
        Self {
            id: &c.id,
            name: &c.name,
            certificate_cn: &c.cn,
            status: c.status.as_str(),
            health: c.health(now),
            days_left: c.days_left(now),
            certificate_fingerprint: c.fingerprint.map(|f| f.to_hex()),
            certificate_fingerprint_previous: c.fingerprint_previous.map(|f| f.to_hex()),
            certificate_serial: c.serial.as_deref(),
            certificate_not_before: c.not_before,
            certificate_not_after: c.not_after,
            previous_cert_expires_at: c.previous_cert_expires_at,
            last_rotated_at: c.last_rotated_at,
            rotation_count: c.rotation_count,
            problems: c.problems.iter().map(ToString::to_string).collect(),
        }
    }
}

pub fn health_counts(clients: &[Client], now: DateTime<Utc>) -> BTreeMap<Health, usize> {
    let mut counts: BTreeMap<Health, usize> = Health::ALL.iter().map(|h| (*h, 0)).collect();
    for c in clients {
        *counts.entry(c.health(now)).or_default() += 1;
    }
    counts
}

pub fn summary_line(clients: &[Client], now: DateTime<Utc>) -> String {
    let counts = health_counts(clients, now);
    let parts: Vec<String> = counts
        .iter()
        .map(|(h, n)| format!("{n} {}", h.label()))
        .collect();
    let flagged = clients.iter().filter(|c| !c.problems.is_empty()).count();
    let mut line = format!("{} clients: {}", clients.len(), parts.join(", "));
    if flagged > 0 {
        line.push_str(&format!("; {flagged} with unusable data"));
    }
    line
}

pub fn render_table(clients: &[Client], now: DateTime<Utc>) -> String {
    let rows: Vec<[String; 6]> = clients
        .iter()
        .map(|c| {
            [
                c.id.chars().take(8).collect(),
                printable(&truncate(&c.name, 48)).into_owned(),
                c.health(now).label().to_string(),
                c.days_left(now).map_or("-".into(), |d| d.to_string()),
                c.fingerprint.map_or("-".into(), |f| f.short()),
                c.problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; "),
            ]
        })
        .collect();
    let header = ["ID", "NAME", "HEALTH", "DAYS", "FINGERPRINT", "PROBLEMS"];
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[&str]| {
        let mut s = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i == 3 {
                s.push_str(&format!("{cell:>w$}  "));
            } else if i + 1 == cells.len() {
                s.push_str(cell);
            } else {
                s.push_str(&format!("{cell:<w$}  "));
            }
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    line(&header);
    for r in &rows {
        line(&r.each_ref().map(String::as_str));
    }
    out
}

pub async fn run(settings: &Settings, args: &ClientsArgs) -> Result<()> {
    let registry = super::open_registry(settings).await?;
    let clients = registry.list(&settings.tenant).await?;
    let now = args.now.unwrap_or_else(Utc::now);
    if args.json {
        let views: Vec<ClientView> = clients.iter().map(|c| ClientView::new(c, now)).collect();
        println!("{}", serde_json::to_string_pretty(&views)?);
        eprintln!("{}", summary_line(&clients, now));
    } else {
        print!("{}", render_table(&clients, now));
        println!("{}", summary_line(&clients, now));
    }
    Ok(())
}
