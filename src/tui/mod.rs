//! The full-screen console. The runtime owns the terminal and all I/O; background
//! tasks talk to the [`App`] only through messages, drained between frames, so a
//! hung service never freezes a key press.

pub mod app;
/// A fixed fleet and clock, for tests and benchmarks.
#[doc(hidden)]
pub mod fixtures;
pub mod keys;
pub mod layout;
mod presenter;
pub mod theme;
pub mod view;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::Utc;
use color_eyre::eyre::Result;
use crossterm::event::{DisableMouseCapture, EnableMouseCapture, Event, EventStream};
use futures::StreamExt;
use tokio::sync::{mpsc, watch};

use crate::config::{Settings, join_url, redact_url};
use crate::control_plane::{ControlPlane, Grace};
use crate::domain::token::TokenMinter;
use crate::scenario::{self, Control, Stage};
use crate::stack::StackHandle;
use crate::store::Registry;
use crate::traffic::profile::Profile;
use crate::traffic::stats::Stats;
use crate::traffic::{self, TrafficHandle, TrafficOptions};
use app::{App, Effect, Msg, ScenarioKey, ScenarioMsg, ScenarioView, TrafficView};
use std::sync::{Arc, Mutex};
use theme::Theme;

/// How often the registry is reread for the grid.
const CLIENTS_EVERY: Duration = Duration::from_secs(2);
/// Frame tick while traffic runs (tiles flash); idle, only the clock moves.
const BUSY_TICK: Duration = Duration::from_millis(100);
const IDLE_TICK: Duration = Duration::from_millis(500);

pub struct Options {
    pub save_keys: Option<PathBuf>,
    /// Theme name (`--theme`); the first available one when unknown or unset.
    pub theme: Option<String>,
    /// Talk-track language (`fr` or `en`).
    pub lang: String,
    /// No traffic, rotation or seeding (`--readonly`).
    pub readonly: bool,
    /// A gateway log to follow (`--gateway-log`).
    pub gateway_log: Option<crate::gateway_log::Source>,
    /// `--max-tps`.
    pub max_tps: Option<f64>,
}

/// The config folder's `themes/`.
pub fn themes_dir() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("mtls-console").join("themes"))
}

/// Everything the console talks to, once started.
struct Backend {
    registry: Registry,
    gateway: url::Url,
    api: Option<ControlPlane>,
    stack: Option<StackHandle>,
    minter: TokenMinter,
    traffic: Option<TrafficHandle>,
    /// The running scenario's controls and the statistics of its traffic.
    scenario: Option<(watch::Sender<Control>, tokio::task::JoinHandle<()>)>,
    scenario_stats: watch::Receiver<Option<Arc<Mutex<Stats>>>>,
    scenario_stats_tx: watch::Sender<Option<Arc<Mutex<Stats>>>>,
    stop: watch::Sender<bool>,
}

static ACTIVE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Restores the terminal: raw mode off, alternate screen left, mouse released.
pub fn restore_terminal() {
    ACTIVE.store(false, std::sync::atomic::Ordering::SeqCst);
    let _ = crossterm::execute!(std::io::stdout(), DisableMouseCapture);
    ratatui::restore();
}

/// For the panic hook: restores the terminal only if the console had taken it.
pub fn restore_terminal_if_active() {
    if is_active() {
        restore_terminal();
    }
}

/// True while the console owns the terminal.
pub fn is_active() -> bool {
    ACTIVE.load(std::sync::atomic::Ordering::SeqCst)
}

pub async fn run(settings: &Settings, opts: Options) -> Result<()> {
    let (themes, problems) = Theme::available(themes_dir().as_deref());
    let builtin = settings.uses_builtin_stack();
    let mut app = App::new(builtin, &settings.tenant, Instant::now(), Utc::now());
    app.theme_count = themes.len();
    app.readonly = opts.readonly;
    app.max_rate = crate::config::max_rate(opts.max_tps, settings.gateway_url.as_ref());
    app.rate = app.rate.min(app.max_rate.unwrap_or(f64::INFINITY));
    app.gateway_host = settings
        .gateway_url
        .as_ref()
        .map_or("the built-in gateway".into(), |g| {
            g.host_str().unwrap_or_default().to_string()
        });
    app.remote_gateway = settings
        .gateway_url
        .as_ref()
        .is_some_and(|gw| !crate::config::is_loopback(gw));
    app.lang = opts.lang.clone();
    app.scenarios = scenario::model::names(scenario::model::user_dir().as_deref());
    if let Some(name) = &opts.theme {
        match themes.iter().position(|t| &t.name == name) {
            Some(i) => app.theme = i,
            None => {
                app.update(Msg::Notice(format!(
                    "warning: no theme {name:?}; themes: {}",
                    themes
                        .iter()
                        .map(|t| t.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )));
            }
        }
    }
    for w in settings.warnings().into_iter().chain(problems) {
        app.update(Msg::Notice(format!("warning: {w}")));
    }
    // Not `ratatui::try_init`: its panic hook restores the terminal on a panic in
    // any thread, even a background task the runtime contains while the console
    // goes on drawing. The console's own hook (`logging`) restores only when the
    // console itself stops.
    crossterm::terminal::enable_raw_mode()?;
    crossterm::execute!(std::io::stdout(), crossterm::terminal::EnterAlternateScreen)?;
    let mut terminal =
        ratatui::Terminal::new(ratatui::backend::CrosstermBackend::new(std::io::stdout()))?;
    ACTIVE.store(true, std::sync::atomic::Ordering::SeqCst);
    let _ = crossterm::execute!(std::io::stdout(), EnableMouseCapture);
    if let Ok(size) = terminal.size() {
        app.update(Msg::Resize(size.width, size.height));
    }
    terminal.draw(|f| view::draw(f, &app, &themes[app.theme.min(themes.len() - 1)]))?;
    tracing::info!("console: first frame drawn");
    inject_fault();

    let (tx, mut rx) = mpsc::channel::<Msg>(1024);
    tokio::spawn(read_input(tx.clone()));
    let (backend_tx, mut backend_rx) = tokio::sync::oneshot::channel();
    tokio::spawn(start_backend(
        settings.clone(),
        opts.gateway_log.clone(),
        tx.clone(),
        backend_tx,
    ));
    let mut backend: Option<Backend> = None;
    let mut stop_signal = Box::pin(crate::platform::wait_for_stop());
    let mut tick = tokio::time::interval(IDLE_TICK);
    let mut last_second = Utc::now().timestamp();

    // Background news is drawn at the next tick; keys are drawn at once.
    let mut pending = false;
    let mut scenario_traffic: Option<Arc<Mutex<Stats>>> = None;
    let mut frames = FrameTimes::default();
    while !app.should_quit {
        let mut dirty = false;
        let mut effects = Vec::new();
        tokio::select! {
            Some(msg) = rx.recv() => {
                let mut user = is_input(&msg);
                pending |= changes_screen(&app, &msg);
                effects = app.update(msg);
                while let Ok(msg) = rx.try_recv() {
                    user |= is_input(&msg);
                    pending |= changes_screen(&app, &msg);
                    effects.extend(app.update(msg));
                }
                dirty = user && pending;
            }
            ready = &mut backend_rx, if backend.is_none() => {
                if let Ok(b) = ready {
                    backend = Some(b);
                }
            }
            _ = tick.tick() => {
                let now = Utc::now();
                app.update(Msg::Tick { at: Instant::now(), now });
                if let Some(b) = backend.as_ref() {
                    // The console's own traffic, or the running scenario's.
                    let shared = b.scenario_stats.borrow().clone();
                    let view = match (&b.traffic, &shared) {
                        (Some(t), _) => {
                            Some(t.with_stats(|s| TrafficView::from_stats(s, true, Instant::now())))
                        }
                        (None, Some(s)) => {
                            let s = s.lock().unwrap_or_else(|p| p.into_inner());
                            Some(TrafficView::from_stats(&s, true, Instant::now()))
                        }
                        _ => None,
                    };
                    let view = view.or_else(|| {
                        // A scenario's traffic step just ended: show it stopped.
                        scenario_traffic.take().map(|s| {
                            let s = s.lock().unwrap_or_else(|p| p.into_inner());
                            TrafficView::from_stats(&s, false, Instant::now())
                        })
                    });
                    if shared.is_some() {
                        scenario_traffic = shared;
                    }
                    if let Some(view) = view {
                        app.update(Msg::Traffic(Box::new(view)));
                        dirty = true;
                    }
                }
                if now.timestamp() != last_second {
                    last_second = now.timestamp();
                    pending = true;
                }
                dirty |= pending;
            }
            _ = &mut stop_signal => {
                app.should_quit = true;
            }
        }
        for e in effects {
            if let Some(b) = backend.as_mut() {
                apply(e, b, &app, &tx, &opts);
            }
        }
        let busy = app.traffic.running;
        if tick.period() != if busy { BUSY_TICK } else { IDLE_TICK } {
            tick = tokio::time::interval(if busy { BUSY_TICK } else { IDLE_TICK });
        }
        if dirty && !app.should_quit {
            let started = Instant::now();
            terminal.draw(|f| view::draw(f, &app, &themes[app.theme.min(themes.len() - 1)]))?;
            frames.record(started.elapsed());
            pending = false;
        }
    }
    restore_terminal();
    if let Some(mut b) = backend {
        if let Some((control, task)) = b.scenario.take() {
            control.send_modify(|c| c.abort = true);
            let _ = tokio::time::timeout(Duration::from_secs(6), task).await;
        }
        if let Some(t) = b.traffic.take() {
            let _ = tokio::time::timeout(Duration::from_secs(6), t.stop()).await;
        }
        let _ = b.stop.send(true);
        if let Some(s) = b.stack.take() {
            let _ = tokio::time::timeout(Duration::from_secs(3), s.shutdown()).await;
        }
    }
    Ok(())
}

/// Frame times (render, diff and write to the terminal), logged once a minute so a
/// long run shows whether drawing stays fast.
#[derive(Default)]
struct FrameTimes {
    micros: Vec<u32>,
    since: Option<Instant>,
}

impl FrameTimes {
    fn record(&mut self, d: Duration) {
        let since = *self.since.get_or_insert_with(Instant::now);
        self.micros.push(d.as_micros().min(u32::MAX as u128) as u32);
        if since.elapsed() >= Duration::from_secs(60) {
            self.micros.sort_unstable();
            let at =
                |q: f64| self.micros[((self.micros.len() - 1) as f64 * q) as usize] as f64 / 1e3;
            tracing::info!(
                "frames: {} in the last minute, median {:.2} ms, p99 {:.2} ms, max {:.2} ms",
                self.micros.len(),
                at(0.5),
                at(0.99),
                at(1.0)
            );
            self.micros.clear();
            self.since = Some(Instant::now());
        }
    }
}

/// Fault injection for the reliability tests: `MTLS_CONSOLE_FAULT=panic-in-task`
/// makes a background task panic (the console logs it and keeps running),
/// `panic-in-main` makes the console's own loop panic (the terminal is restored
/// before the one-line report).
fn inject_fault() {
    match std::env::var("MTLS_CONSOLE_FAULT").as_deref() {
        Ok("panic-in-task") => {
            tokio::spawn(async { panic!("injected fault in a background task") });
        }
        Ok("panic-in-main") => panic!("injected fault in the console's loop"),
        _ => {}
    }
}

fn is_input(msg: &Msg) -> bool {
    matches!(msg, Msg::Key(_) | Msg::Mouse(_) | Msg::Resize(..))
}

/// A registry poll that found nothing new needs no frame (idle CPU).
fn changes_screen(app: &App, msg: &Msg) -> bool {
    match msg {
        Msg::Clients(Ok(list)) => app.clients_error.is_some() || *list != app.clients,
        _ => true,
    }
}

async fn read_input(tx: mpsc::Sender<Msg>) {
    let mut events = EventStream::new();
    while let Some(Ok(event)) = events.next().await {
        let msg = match event {
            Event::Key(k) => Msg::Key(k),
            Event::Mouse(m) => Msg::Mouse(m),
            Event::Resize(w, h) => Msg::Resize(w, h),
            _ => continue,
        };
        if tx.send(msg).await.is_err() {
            return;
        }
    }
}

async fn start_backend(
    settings: Settings,
    log: Option<crate::gateway_log::Source>,
    tx: mpsc::Sender<Msg>,
    ready: tokio::sync::oneshot::Sender<Backend>,
) {
    match open_backend(&settings, log, &tx).await {
        Ok(b) => {
            let _ = tx
                .send(Msg::Ready {
                    gateway: redact_url(b.gateway.as_str()),
                    api: b.api.as_ref().map_or("none".into(), |_| "ready".into()),
                    registry: b.registry.location(),
                })
                .await;
            let _ = ready.send(b);
        }
        Err(e) => {
            let line = e
                .chain()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(": ");
            tracing::error!("console: start failed: {line}");
            let _ = tx.send(Msg::StartFailed(line)).await;
        }
    }
}

async fn open_backend(
    settings: &Settings,
    log: Option<crate::gateway_log::Source>,
    tx: &mpsc::Sender<Msg>,
) -> Result<Backend> {
    let target = crate::commands::traffic::target(settings).await?;
    let api = target.control_plane(settings, Duration::from_secs(5))?;
    let crate::commands::traffic::Target {
        gateway,
        registry,
        stack,
    } = target;
    let minter = TokenMinter::new(&settings.jwt_secret)?;
    let (stop, stopped) = watch::channel(false);
    // The grid: the registry, reread every second; an error keeps the last state.
    {
        let (registry, tenant, tx, mut stopped) = (
            registry.clone(),
            settings.tenant.clone(),
            tx.clone(),
            stopped.clone(),
        );
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(CLIENTS_EVERY);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stopped.changed() => return,
                }
                let msg = Msg::Clients(registry.list(&tenant).await.map_err(|e| e.to_string()));
                if tx.send(msg).await.is_err() {
                    return;
                }
            }
        });
    }
    if let Some(source) = log {
        tokio::spawn(follow_gateway_log(
            source,
            registry.clone(),
            settings.tenant.clone(),
            tx.clone(),
            stopped.clone(),
        ));
    }
    // The binding panel: the gateway's /metrics.
    {
        let url = url::Url::parse(&join_url(&gateway, "/metrics"))?;
        let (snap_tx, mut snap_rx) = mpsc::channel(4);
        tokio::spawn(crate::scrape::run(
            crate::scrape::ScrapeOptions::new(vec![url], Duration::from_secs(1)),
            snap_tx,
            stopped,
        ));
        let tx = tx.clone();
        tokio::spawn(async move {
            while let Some(s) = snap_rx.recv().await {
                if tx.send(Msg::Binding(Box::new(s))).await.is_err() {
                    return;
                }
            }
        });
    }
    let (scenario_stats_tx, scenario_stats) = watch::channel(None);
    Ok(Backend {
        registry,
        gateway,
        api,
        stack,
        minter,
        traffic: None,
        scenario: None,
        scenario_stats,
        scenario_stats_tx,
        stop,
    })
}

/// Follows the gateway's log: lines are read on a thread of their own, tallied
/// here, and the console gets a view at most once a second (or every 5 s while
/// nothing new arrives, so "failing now" ages).
async fn follow_gateway_log(
    source: crate::gateway_log::Source,
    registry: Registry,
    tenant: String,
    tx: mpsc::Sender<Msg>,
    mut stopped: watch::Receiver<bool>,
) {
    use crate::gateway_log::{Attributor, Tally, follow};
    let (lines_tx, mut lines) = mpsc::channel(64);
    follow::start(source, lines_tx);
    let mut who = Attributor::new(&registry.list(&tenant).await.unwrap_or_default());
    let mut tally = Tally::default();
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut reattribute = tokio::time::interval(Duration::from_secs(10));
    let (mut changed, mut quiet, mut open) = (true, 0, true);
    loop {
        tokio::select! {
            batch = lines.recv(), if open => {
                // None: standard input ended; what was read stays on screen.
                open = batch.is_some();
                let now = Utc::now();
                for line in batch.into_iter().flatten() {
                    tally.add_line(&line, &who, now, None);
                }
                changed = true;
            }
            _ = tick.tick() => {
                quiet += 1;
                if changed || quiet >= 5 {
                    let view = app::LogView::from_tally(&tally, Utc::now());
                    if tx.send(Msg::GatewayLog(Box::new(view))).await.is_err() {
                        return;
                    }
                    (changed, quiet) = (false, 0);
                }
            }
            // New clients and rotations change who a fingerprint belongs to.
            _ = reattribute.tick() => {
                if let Ok(list) = registry.list(&tenant).await {
                    who = Attributor::new(&list);
                }
            }
            _ = stopped.changed() => return,
        }
    }
}

/// Carries out one effect without waiting on I/O.
fn apply(effect: Effect, b: &mut Backend, app: &App, tx: &mpsc::Sender<Msg>, opts: &Options) {
    match effect {
        Effect::StartTraffic { rate } => {
            if b.traffic.is_none() {
                let profile = Profile::from_family(app.binding.as_ref().and_then(|s| s.kind));
                let o = TrafficOptions::new(b.gateway.clone(), profile, &app.tenant, rate);
                b.traffic = Some(traffic::start(b.registry.clone(), b.minter.clone(), o));
            }
        }
        Effect::StopTraffic => {
            if let Some(t) = b.traffic.take() {
                let tx = tx.clone();
                tokio::spawn(async move {
                    let s = t.stop().await;
                    let view = TrafficView::from_stats(&s, false, Instant::now());
                    let _ = tx.send(Msg::Traffic(Box::new(view))).await;
                });
            }
        }
        Effect::SetRate(r) => {
            if let Some(t) = &b.traffic {
                t.set_rate(r);
            }
        }
        Effect::Rotate { id, name, grace } => {
            let Some(api) = b.api.clone() else {
                let _ = tx.try_send(Msg::Rotated(Err(
                    "no control plane: pass --api-url (API_URL) and --api-token; the built-in one never writes to a STOA database".into(),
                )));
                return;
            };
            let (tx, save) = (tx.clone(), opts.save_keys.clone());
            tokio::spawn(async move {
                let result = api.rotate(&id, grace, "mtls-console live rotation").await;
                let msg = match result {
                    Ok(r) => {
                        let mut text =
                            format!("{name} rotated: grace period {}", describe_grace(grace));
                        if let (Some(dir), Some(key)) = (save, r.private_key.as_ref()) {
                            let path = dir.join(format!("{}.key.pem", r.client_id));
                            match crate::platform::write_private(&path, key.expose().as_bytes()) {
                                Ok(()) => text.push_str(&format!(
                                    "; private key saved to {} (0600)",
                                    path.display()
                                )),
                                Err(e) => {
                                    text.push_str(&format!("; could not save the private key: {e}"))
                                }
                            }
                        }
                        Ok(text)
                    }
                    Err(e) => Err(e.to_string()),
                };
                let _ = tx.send(Msg::Rotated(msg)).await;
            });
        }
        Effect::RefreshClients => {
            let (registry, tenant, tx) = (b.registry.clone(), app.tenant.clone(), tx.clone());
            tokio::spawn(async move {
                let msg = Msg::Clients(registry.list(&tenant).await.map_err(|e| e.to_string()));
                let _ = tx.send(msg).await;
            });
        }
        Effect::StartScenario(name) => start_scenario(&name, b, app, tx),
        Effect::ScenarioControl(key) => {
            if let Some((control, _)) = &b.scenario {
                control.send_modify(|c| match key {
                    ScenarioKey::Pause => c.paused = true,
                    ScenarioKey::Resume => c.paused = false,
                    ScenarioKey::Skip => c.skips += 1,
                    ScenarioKey::Abort => c.abort = true,
                });
            }
        }
        Effect::Quit => {}
    }
}

/// Starts a scenario: it takes over the traffic (the console's own is stopped).
fn start_scenario(name: &str, b: &mut Backend, app: &App, tx: &mpsc::Sender<Msg>) {
    if b.scenario.as_ref().is_some_and(|(_, t)| !t.is_finished()) {
        return;
    }
    let plan = match scenario::model::load(name, scenario::model::user_dir().as_deref(), &[]) {
        Ok(p) => p,
        Err(e) => {
            let _ = tx.try_send(Msg::Scenario(ScenarioMsg::Failed(e.to_string())));
            return;
        }
    };
    if let Some(t) = b.traffic.take() {
        tokio::spawn(t.stop());
    }
    let stage = Stage {
        registry: b.registry.clone(),
        gateway: b.gateway.clone(),
        profile: Profile::from_family(app.binding.as_ref().and_then(|s| s.kind)),
        api: b.api.clone(),
        builtin: b.stack.is_some(),
        minter: b.minter.clone(),
        tenant: app.tenant.clone(),
    };
    let _ = tx.try_send(Msg::Scenario(ScenarioMsg::Started(ScenarioView::new(
        &plan,
    ))));
    let (control_tx, control) = watch::channel(Control::default());
    let (events_tx, mut events) = mpsc::unbounded_channel();
    let (tx, stats) = (tx.clone(), b.scenario_stats_tx.clone());
    let task = tokio::spawn(async move {
        let runner = tokio::spawn(scenario::runner::run(stage, plan, control, events_tx));
        while let Some(ev) = events.recv().await {
            let msg = match ev {
                scenario::Event::Step { index, state } => ScenarioMsg::Step { index, state },
                scenario::Event::Traffic(s) => {
                    stats.send_replace(s);
                    continue;
                }
                scenario::Event::Finished(r) => ScenarioMsg::Finished(format!(
                    "{} of {} steps, {} failed{}; {} requests, {} unexpected",
                    r.steps.len(),
                    r.total,
                    r.failed_steps(),
                    if r.aborted { ", aborted" } else { "" },
                    r.traffic.sent,
                    r.traffic.unexpected
                )),
            };
            if tx.send(Msg::Scenario(msg)).await.is_err() {
                break;
            }
        }
        let _ = runner.await;
    });
    b.scenario = Some((control_tx, task));
}

fn describe_grace(g: Grace) -> String {
    match g {
        Grace::Hours(h) => format!("{h} h"),
        Grace::Seconds(s) if s % 3600 == 0 => format!("{} h", s / 3600),
        Grace::Seconds(s) if s % 60 == 0 => format!("{} min", s / 60),
        Grace::Seconds(s) => format!("{s} s"),
    }
}

#[cfg(test)]
#[path = "view_tests.rs"]
mod view_tests;
