//! `mtls-console scenario NAME [ARGS]`: a scenario with plain output, a final
//! summary, and a non-zero exit when a step failed.

use std::time::Duration;

use color_eyre::eyre::{Result, bail};
use serde_json::json;
use tokio::sync::{mpsc, watch};

use crate::cli::ScenarioArgs;
use crate::config::Settings;
use crate::domain::token::TokenMinter;
use crate::scenario::{self, Control, Event, Report, Stage, StepState, model};
use crate::stack::StackHandle;

pub async fn run(settings: &Settings, args: &ScenarioArgs) -> Result<()> {
    let dir = model::user_dir();
    if args.list {
        for name in model::names(dir.as_deref()) {
            let s = model::load(&name, dir.as_deref(), &[])?;
            println!("{name:<16} {}", s.description);
        }
        if let Some(d) = dir {
            println!("\nyour own: {}/NAME.toml", d.display());
        }
        return Ok(());
    }
    let name = args.name.as_deref().unwrap_or_default();
    if !(args.time_scale > 0.0 && args.time_scale <= 100.0) {
        bail!("--time-scale must be above 0 and at most 100");
    }
    let plan = model::load(name, dir.as_deref(), &args.args)?.scaled(args.time_scale);

    let target = super::traffic::target(settings).await?;
    let api = target.control_plane(settings, Duration::from_secs(10))?;
    let (profile, note) = super::traffic::auto_profile(&target.gateway).await;
    if let Some(n) = note {
        eprintln!("note: {n}");
    }
    let stage = Stage {
        registry: target.registry.clone(),
        gateway: target.gateway.clone(),
        profile,
        api,
        builtin: target.stack.is_some(),
        minter: TokenMinter::new(&settings.jwt_secret)?,
        tenant: settings.tenant.clone(),
    };
    eprintln!(
        "scenario {}: {} ({} steps)",
        plan.name,
        plan.title,
        plan.steps.len()
    );
    let titles: Vec<String> = plan.steps.iter().map(|s| s.title.clone()).collect();
    let total = titles.len();
    let (control_tx, control) = watch::channel(Control::default());
    let (tx, mut rx) = mpsc::unbounded_channel();
    let runner = tokio::spawn(scenario::runner::run(stage, plan, control, tx));
    let stop = crate::platform::wait_for_stop();
    tokio::pin!(stop);
    let mut stopping = false;
    loop {
        tokio::select! {
            ev = rx.recv() => match ev {
                Some(Event::Step { index, state }) => {
                    if let Some(line) = step_line(index, total, &titles[index], &state) {
                        eprintln!("{line}");
                    }
                }
                Some(Event::Traffic(_)) => {}
                Some(Event::Finished(_)) | None => break,
            },
            _ = &mut stop, if !stopping => {
                stopping = true;
                eprintln!("stopping: aborting the current step");
                control_tx.send_modify(|c| c.abort = true);
            }
        }
    }
    let report = runner.await?;
    let counters = target.stack.as_ref().map(StackHandle::binding_counters);
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&summary_json(&report, counters))?
        );
    } else {
        println!("{}", summary_text(&report, counters));
    }
    if let Some(h) = target.stack {
        h.shutdown().await;
    }
    if report.aborted {
        bail!("the scenario was aborted");
    }
    match report.failed_steps() {
        0 => Ok(()),
        n => bail!("{n} step(s) failed (see the summary)"),
    }
}

fn step_line(index: usize, total: usize, title: &str, state: &StepState) -> Option<String> {
    let head = format!("[{}/{total}] {title}", index + 1);
    Some(match state {
        StepState::Running { ends: Some(end) } => {
            let secs = end.saturating_duration_since(std::time::Instant::now());
            format!("{head}: running for {:.0} s", secs.as_secs_f64())
        }
        StepState::Running { ends: None } => format!("{head}: running"),
        StepState::Paused { .. } => return None,
        StepState::Done(s) => format!("{head}: done: {s}"),
        StepState::Skipped => format!("{head}: skipped"),
        StepState::Failed(e) => format!("{head}: FAILED: {e}"),
    })
}

fn summary_text(r: &Report, counters: Option<(u64, u64)>) -> String {
    let t = &r.traffic;
    let rejected: Vec<String> = t.rejected.iter().map(|(k, v)| format!("{k} {v}")).collect();
    let mut s = format!(
        "summary: {} of {} step(s) ran, {} failed{}\ntraffic: {} sent, {} passed, {} rejected ({}), {} unexpected, {} dropped",
        r.steps.len(),
        r.total,
        r.failed_steps(),
        if r.aborted {
            ", aborted"
        } else if r.stopped_by_failure {
            ", stopped at the failed step"
        } else {
            ""
        },
        t.sent,
        t.passed,
        t.rejected.values().sum::<u64>(),
        if rejected.is_empty() {
            "none".into()
        } else {
            rejected.join(", ")
        },
        t.unexpected,
        t.dropped,
    );
    if let Some((success, mismatch)) = counters {
        s.push_str(&format!(
            "\nbuilt-in gateway counters: success {success}, mismatch {mismatch}"
        ));
    }
    for (i, step) in r.steps.iter().enumerate() {
        s.push_str(&format!("\n  {}. {}: {}", i + 1, step.title, step.result));
    }
    s
}

fn summary_json(r: &Report, counters: Option<(u64, u64)>) -> serde_json::Value {
    json!({
        "scenario": r.scenario,
        "steps": r.steps,
        "failed_steps": r.failed_steps(),
        "aborted": r.aborted,
        "stopped_by_failure": r.stopped_by_failure,
        "traffic": r.traffic,
        "gateway_counters": counters.map(|(s, m)| json!({"success": s, "mismatch": m})),
    })
}
