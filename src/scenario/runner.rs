//! Runs a scenario's steps against the services, for the console and for the
//! headless `scenario` command alike: events out, controls (pause, skip, abort) in.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use rand::Rng;
use serde::Serialize;
use tokio::sync::{mpsc, watch};

use super::model::{Action, OnFailure, Pick, Scenario};
use crate::control_plane::{ControlPlane, parse_grace};
use crate::domain::token::TokenMinter;
use crate::store::Registry;
use crate::traffic::profile::{Outcome, Profile};
use crate::traffic::stats::Stats;
use crate::traffic::{self, TrafficOptions};

/// What a scenario runs against.
#[derive(Clone)]
pub struct Stage {
    pub registry: Registry,
    pub gateway: url::Url,
    pub profile: Profile,
    pub api: Option<ControlPlane>,
    /// The built-in control plane takes grace periods in seconds.
    pub builtin: bool,
    pub minter: TokenMinter,
    pub tenant: String,
}

/// The presenter's controls. `skips` counts `n` presses, so none is lost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Control {
    pub paused: bool,
    pub skips: u64,
    pub abort: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum StepState {
    Running { ends: Option<Instant> },
    Paused { left: Duration },
    Done(String),
    Skipped,
    Failed(String),
}

pub enum Event {
    Step {
        index: usize,
        state: StepState,
    },
    /// The statistics of the traffic a step is sending (`None` when it stops).
    Traffic(Option<Arc<Mutex<Stats>>>),
    Finished(Report),
}

/// Traffic over every step, by outcome.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Totals {
    pub sent: u64,
    pub dropped: u64,
    pub completed: u64,
    pub unexpected: u64,
    pub outcomes: BTreeMap<String, u64>,
    /// Binding passes (the gateway's `success` counter counts these).
    pub passed: u64,
    /// Binding rejections by reason (the gateway's `failures_total{reason}`).
    pub rejected: BTreeMap<String, u64>,
}

impl Totals {
    pub fn add(&mut self, s: &Stats) {
        self.sent += s.sent;
        self.dropped += s.dropped;
        self.completed += s.completed;
        self.unexpected += s.unexpected;
        for (o, n) in s.outcomes() {
            *self.outcomes.entry(o.label()).or_default() += n;
            match o {
                Outcome::Passed(_) => self.passed += n,
                Outcome::Rejected(r) => *self.rejected.entry(r.to_string()).or_default() += n,
                _ => {}
            }
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    pub title: String,
    pub result: String,
    pub failed: bool,
    pub skipped: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub scenario: String,
    /// Steps in the scenario (`steps` holds those that ran).
    pub total: usize,
    pub steps: Vec<StepReport>,
    pub traffic: Totals,
    pub aborted: bool,
    /// A failed step whose file says to stop ended the run there.
    pub stopped_by_failure: bool,
}

impl Report {
    pub fn failed_steps(&self) -> usize {
        self.steps.iter().filter(|s| s.failed).count()
    }
}

/// How a timed step ended.
enum End {
    Elapsed,
    Skipped,
    Aborted,
}

pub async fn run(
    stage: Stage,
    scenario: Scenario,
    mut control: watch::Receiver<Control>,
    events: mpsc::UnboundedSender<Event>,
) -> Report {
    let mut report = Report {
        scenario: scenario.name.clone(),
        total: scenario.steps.len(),
        steps: Vec::new(),
        traffic: Totals::default(),
        aborted: false,
        stopped_by_failure: false,
    };
    for (index, step) in scenario.steps.iter().enumerate() {
        if control.borrow().abort {
            report.aborted = true;
            break;
        }
        let skips = control.borrow().skips;
        if step.duration().is_none() {
            // Timed steps announce themselves with their end.
            let _ = events.send(Event::Step {
                index,
                state: StepState::Running { ends: None },
            });
        }
        let state = match &step.action {
            Action::Seed { count } => result_state(stage.seed(*count).await),
            Action::Rotate { pick, grace } => result_state(stage.rotate(pick, grace).await),
            Action::Traffic { duration, .. } | Action::Wait { duration } => {
                let traffic = match &step.action {
                    Action::Traffic { tps, mix, .. } => {
                        let mut opts = TrafficOptions::new(
                            stage.gateway.clone(),
                            stage.profile.clone(),
                            &stage.tenant,
                            *tps,
                        );
                        opts.mix = mix.clone();
                        Some((stage.clone(), opts))
                    }
                    _ => None,
                };
                let before = report.traffic.clone();
                let end = timed(
                    *duration,
                    traffic.as_ref(),
                    &mut control,
                    skips,
                    &events,
                    index,
                    &mut report.traffic,
                )
                .await;
                let t = &report.traffic;
                let summary = match traffic {
                    Some(_) => format!(
                        "{} sent, {} passed, {} rejected, {} unexpected",
                        t.sent - before.sent,
                        t.passed - before.passed,
                        t.rejected.values().sum::<u64>() - before.rejected.values().sum::<u64>(),
                        t.unexpected - before.unexpected
                    ),
                    None => "waited".into(),
                };
                end_state(end, summary)
            }
        };
        let aborted = control.borrow().abort;
        let _ = events.send(Event::Step {
            index,
            state: state.clone(),
        });
        let failed = matches!(state, StepState::Failed(_));
        report.steps.push(StepReport {
            title: step.title.clone(),
            failed,
            skipped: state == StepState::Skipped,
            result: match state {
                StepState::Done(s) | StepState::Failed(s) => s,
                StepState::Skipped => "skipped".into(),
                _ => String::new(),
            },
        });
        if aborted {
            report.aborted = true;
            break;
        }
        if failed && step.on_failure == OnFailure::Stop {
            report.stopped_by_failure = true;
            break;
        }
    }
    let _ = events.send(Event::Finished(report.clone()));
    report
}

fn result_state(r: Result<String, String>) -> StepState {
    match r {
        Ok(s) => StepState::Done(s),
        Err(e) => StepState::Failed(e),
    }
}

fn end_state(end: End, summary: String) -> StepState {
    match end {
        End::Elapsed => StepState::Done(summary),
        End::Skipped => StepState::Skipped,
        End::Aborted => StepState::Failed(format!("aborted ({summary})")),
    }
}

/// A step with a length: runs (with traffic, if given) until its time is up,
/// pausing and resuming, skipped or aborted by the controls.
async fn timed(
    length: Duration,
    traffic: Option<&(Stage, TrafficOptions)>,
    control: &mut watch::Receiver<Control>,
    skips: u64,
    events: &mpsc::UnboundedSender<Event>,
    index: usize,
    totals: &mut Totals,
) -> End {
    let mut left = length;
    loop {
        let started = Instant::now();
        let mut engine = traffic.map(|(stage, opts)| {
            let mut o = opts.clone();
            o.duration = Some(left);
            traffic::start(stage.registry.clone(), stage.minter.clone(), o)
        });
        let _ = events.send(Event::Traffic(engine.as_ref().map(|e| e.shared_stats())));
        let _ = events.send(Event::Step {
            index,
            state: StepState::Running {
                ends: Some(started + left),
            },
        });
        let stopped_by = tokio::select! {
            _ = async {
                match engine.as_mut() {
                    Some(e) => e.ended().await,
                    None => tokio::time::sleep(left).await,
                }
            } => None,
            c = changed(control, |c| c.paused || c.abort || c.skips != skips) => Some(c),
        };
        if let Some(e) = engine {
            totals.add(&e.stop().await);
        }
        let _ = events.send(Event::Traffic(None));
        let Some(c) = stopped_by else {
            return End::Elapsed;
        };
        if c.abort {
            return End::Aborted;
        }
        if c.skips != skips {
            return End::Skipped;
        }
        left = left.saturating_sub(started.elapsed());
        let _ = events.send(Event::Step {
            index,
            state: StepState::Paused { left },
        });
        let c = changed(control, |c| !c.paused || c.abort || c.skips != skips).await;
        if c.abort {
            return End::Aborted;
        }
        if c.skips != skips {
            return End::Skipped;
        }
    }
}

/// Waits until the controls satisfy `f` (forever if the sender is gone).
async fn changed(control: &mut watch::Receiver<Control>, f: impl Fn(&Control) -> bool) -> Control {
    let seen = control.wait_for(|c| f(c)).await.map(|c| *c);
    match seen {
        Ok(c) => c,
        Err(_) => std::future::pending().await,
    }
}

impl Stage {
    async fn seed(&self, count: u64) -> Result<String, String> {
        let have = self
            .registry
            .count(&self.tenant)
            .await
            .map_err(|e| e.to_string())?;
        if have >= crate::store::seed::skip_threshold(count) {
            return Ok(format!(
                "tenant {} already has {have} clients: nothing seeded",
                self.tenant
            ));
        }
        let outcome = self
            .registry
            .seed(&self.tenant, count, Utc::now())
            .await
            .map_err(|e| e.to_string())?;
        Ok(crate::commands::describe_seed(
            &outcome,
            &self.tenant,
            &self.registry.location(),
        ))
    }

    async fn rotate(&self, pick: &Pick, grace: &str) -> Result<String, String> {
        let api = self.api.as_ref().ok_or(
            "no control plane: pass --api-url (API_URL) and --api-token; the built-in one never writes to a STOA database",
        )?;
        let grace = parse_grace(grace, self.builtin)?;
        let clients = self
            .registry
            .list(&self.tenant)
            .await
            .map_err(|e| e.to_string())?;
        let chosen = match pick {
            Pick::Client(id) => clients.iter().find(|c| &c.id == id || &c.name == id),
            Pick::Any | Pick::Expiring => {
                let pool: Vec<_> = match pick {
                    Pick::Expiring => {
                        crate::domain::client::rotation_candidates(&clients, Utc::now())
                    }
                    _ => clients
                        .iter()
                        .filter(|c| c.is_usable_for_traffic())
                        .collect(),
                };
                (!pool.is_empty()).then(|| pool[rand::rng().random_range(0..pool.len())])
            }
        };
        let Some(client) = chosen else {
            return Err(match pick {
                Pick::Client(id) => format!("no client {id} in tenant {}", self.tenant),
                _ => format!("tenant {} has no active client to rotate", self.tenant),
            });
        };
        // The answer's private key is dropped here: a scenario never shows it.
        let rotated = api
            .rotate(&client.id, grace, "mtls-console scenario")
            .await
            .map_err(|e| format!("{}: {e}", client.name))?;
        Ok(format!("{} rotated ({})", rotated.name, client.id))
    }
}
