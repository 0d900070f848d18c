//! The console's state and its update function. `update` is pure: no I/O, no clock
//! reads (time comes in messages), so every key and message is a unit test. What
//! must touch the outside world is returned as an [`Effect`].

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use ratatui::layout::Rect;

use super::layout;
use crate::control_plane::Grace;
pub use crate::control_plane::parse_grace;
use crate::domain::{Client, Fingerprint, Health};
use crate::gateway_log::ClientFailures;
pub use crate::scenario::StepState;
use crate::scenario::model::Notes;
use crate::scrape::BindingSnapshot;
use crate::traffic::stats::{PassFail, Stats};

/// Traffic rates the `+`/`-` keys step through.
pub const RATE_STEPS: [f64; 15] = [
    1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0, 20000.0,
    50000.0,
];
/// How long a tile flashes after an answer.
pub const FLASH: Duration = Duration::from_millis(400);
const MESSAGE_FOR: Duration = Duration::from_secs(8);

#[derive(Debug)]
pub enum Msg {
    Key(KeyEvent),
    Mouse(MouseEvent),
    Resize(u16, u16),
    Tick {
        at: Instant,
        now: DateTime<Utc>,
    },
    Clients(Result<Vec<Client>, String>),
    Binding(Box<BindingSnapshot>),
    Traffic(Box<TrafficView>),
    Rotated(Result<String, String>),
    /// The back end is up (built-in stack started, or services configured).
    Ready {
        gateway: String,
        api: String,
        registry: String,
    },
    StartFailed(String),
    Notice(String),
    Scenario(ScenarioMsg),
    /// What the followed gateway log says about each client.
    GatewayLog(Box<LogView>),
}

/// The gateway log's per-client failures, as the grid and panels show them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogView {
    /// Clients with failures, worst in the last minutes first: id, counts, and
    /// failures in the last [`crate::gateway_log::tally::NOW_MINUTES`] minutes.
    pub failing: Vec<(String, ClientFailures, u64)>,
    pub unattributed: u64,
    pub unattributed_subjects: Vec<(String, u64)>,
    pub events: u64,
    pub skipped: u64,
    /// Client id → position in `failing`: tiles look themselves up every frame.
    index: HashMap<String, usize>,
}

impl LogView {
    pub fn from_tally(t: &crate::gateway_log::Tally, now: DateTime<Utc>) -> Self {
        let mut subjects: Vec<(String, u64)> = t
            .unattributed_subjects
            .iter()
            .map(|(s, n)| (s.clone(), *n))
            .collect();
        subjects.sort_by_key(|(s, n)| (std::cmp::Reverse(*n), s.clone()));
        subjects.truncate(5);
        let failing: Vec<(String, ClientFailures, u64)> = t
            .failing(now)
            .into_iter()
            .map(|(id, c)| (id.to_string(), c.clone(), c.recent_failures(now)))
            .collect();
        let index = failing
            .iter()
            .enumerate()
            .map(|(i, (id, _, _))| (id.clone(), i))
            .collect();
        Self {
            failing,
            index,
            unattributed: t.unattributed,
            unattributed_subjects: subjects,
            events: t.binding_lines,
            skipped: t.other_json_lines + t.not_json_lines,
        }
    }

    /// A client's entry, if the log shows it failing.
    pub fn client(&self, id: &str) -> Option<(&ClientFailures, u64)> {
        let (_, f, n) = self.failing.get(*self.index.get(id)?)?;
        Some((f, *n))
    }
}

/// News from a running scenario.
#[derive(Debug, Clone, PartialEq)]
pub enum ScenarioMsg {
    Started(ScenarioView),
    Step {
        index: usize,
        state: StepState,
    },
    Finished(String),
    /// It could not start (a file with errors, say).
    Failed(String),
}

/// What the step bar and the notes pane show of a scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioView {
    pub title: String,
    /// Each step's title and talk track.
    pub steps: Vec<(String, Notes)>,
    pub current: usize,
    pub state: StepState,
    pub failed: usize,
    /// Set when the run is over: its one-line summary.
    pub done: Option<String>,
}

impl ScenarioView {
    pub fn new(s: &crate::scenario::Scenario) -> Self {
        Self {
            title: s.title.clone(),
            steps: s
                .steps
                .iter()
                .map(|st| (st.title.clone(), st.notes.clone()))
                .collect(),
            current: 0,
            state: StepState::Running { ends: None },
            failed: 0,
            done: None,
        }
    }

    pub fn running(&self) -> bool {
        self.done.is_none()
    }
}

/// The scenario controls the console sends to the runner.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScenarioKey {
    Pause,
    Resume,
    Skip,
    Abort,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    StartTraffic {
        rate: f64,
    },
    StopTraffic,
    SetRate(f64),
    Rotate {
        id: String,
        name: String,
        grace: Grace,
    },
    RefreshClients,
    StartScenario(String),
    ScenarioControl(ScenarioKey),
    Quit,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlay {
    None,
    Help,
    Detail(String),
    ConfirmRotate {
        id: String,
        name: String,
        grace: String,
    },
    ConfirmQuit,
    Filter,
    PickScenario(usize),
    /// Traffic to a gateway that is not the built-in one: asked first.
    ConfirmTraffic,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Error,
}

/// A tile's traffic: counts, unexpected outcomes, and its last answer (when, passed).
#[derive(Debug, Clone, Default)]
pub struct TileActivity {
    pub counts: PassFail,
    pub unexpected: u64,
    pub last: Option<(Instant, bool)>,
}

/// What the traffic panel and tiles need from the engine's statistics.
#[derive(Debug, Clone, Default)]
pub struct TrafficView {
    pub running: bool,
    pub achieved: f64,
    pub sent: u64,
    pub passed: u64,
    pub rejected: u64,
    pub errors: u64,
    pub dropped: u64,
    pub unexpected: u64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub per_client: HashMap<String, TileActivity>,
    pub per_fingerprint: HashMap<Fingerprint, PassFail>,
}

impl TrafficView {
    pub fn from_stats(s: &Stats, running: bool, at: Instant) -> Self {
        use crate::traffic::profile::Outcome;
        let mut v = Self {
            running,
            achieved: s.achieved_rate(at),
            sent: s.sent,
            dropped: s.dropped,
            unexpected: s.unexpected,
            p50_ms: s.percentile_ms(0.5),
            p99_ms: s.percentile_ms(0.99),
            per_fingerprint: s.per_fingerprint.clone(),
            ..Default::default()
        };
        for (o, n) in s.outcomes() {
            match o {
                Outcome::Passed(_) => v.passed += n,
                Outcome::Rejected(_) | Outcome::Denied(_) => v.rejected += n,
                Outcome::Timeout | Outcome::ConnectError => v.errors += n,
            }
        }
        v.per_client = s
            .per_client
            .iter()
            .map(|(id, a)| {
                let tile = TileActivity {
                    counts: a.counts,
                    unexpected: a.unexpected,
                    last: a.last.map(|(t, ok, _)| (t, ok)),
                };
                (id.to_string(), tile)
            })
            .collect();
        v
    }
}

pub struct App {
    pub builtin: bool,
    pub readonly: bool,
    pub tenant: String,
    pub gateway: String,
    pub api: String,
    pub registry: String,
    pub ready: bool,
    pub start_error: Option<String>,
    pub size: Rect,
    pub at: Instant,
    pub now: DateTime<Utc>,
    pub clients: Vec<Client>,
    pub clients_error: Option<String>,
    pub clients_loaded: bool,
    pub selected: Option<String>,
    pub filter: String,
    pub health_filter: Option<Health>,
    pub binding: Option<BindingSnapshot>,
    pub traffic: TrafficView,
    pub rate: f64,
    pub acked: HashMap<String, u64>,
    pub overlay: Overlay,
    pub message: Option<(Level, String, Instant)>,
    pub should_quit: bool,
    /// Scenario names for the picker (built-in, then the user's).
    pub scenarios: Vec<String>,
    pub scenario: Option<ScenarioView>,
    pub presenter: bool,
    pub show_notes: bool,
    /// Talk-track language: `fr` or `en`.
    pub lang: String,
    /// Index into the console's themes (`T` cycles).
    pub theme: usize,
    pub theme_count: usize,
    /// Set while a gateway log is followed (`--gateway-log`).
    pub log: Option<LogView>,
    /// The traffic rate's ceiling (`--max-tps`; 100 for a gateway off loopback).
    pub max_rate: Option<f64>,
    /// The gateway's host, named when traffic to it is confirmed.
    pub gateway_host: String,
    /// The gateway is not on this machine: the header advises `--readonly`.
    pub remote_gateway: bool,
    rng: u64,
}

impl App {
    pub fn new(builtin: bool, tenant: &str, at: Instant, now: DateTime<Utc>) -> Self {
        Self {
            builtin,
            readonly: false,
            tenant: tenant.to_string(),
            gateway: String::new(),
            api: String::new(),
            registry: String::new(),
            ready: false,
            start_error: None,
            size: Rect::new(0, 0, 120, 40),
            at,
            now,
            clients: Vec::new(),
            clients_error: None,
            clients_loaded: false,
            selected: None,
            filter: String::new(),
            health_filter: None,
            binding: None,
            traffic: TrafficView::default(),
            rate: 10.0,
            acked: HashMap::new(),
            overlay: Overlay::None,
            message: None,
            should_quit: false,
            scenarios: Vec::new(),
            scenario: None,
            presenter: false,
            show_notes: false,
            lang: "en".into(),
            theme: 0,
            theme_count: 1,
            log: None,
            max_rate: None,
            gateway_host: String::new(),
            remote_gateway: false,
            rng: 0x9e37_79b9_7f4a_7c15,
        }
    }

    /// Clients shown, in order, after the name and health filters.
    pub fn visible(&self) -> Vec<&Client> {
        let needle = self.filter.to_lowercase();
        self.clients
            .iter()
            .filter(|c| self.health_filter.is_none_or(|h| c.health(self.now) == h))
            .filter(|c| {
                needle.is_empty()
                    || c.name.to_lowercase().contains(&needle)
                    || c.cn.to_lowercase().contains(&needle)
                    || c.fingerprint
                        .is_some_and(|f| f.to_hex().contains(&needle.replace(':', "")))
                    || c.fingerprint_previous
                        .is_some_and(|f| f.to_hex().contains(&needle.replace(':', "")))
            })
            .collect()
    }

    /// What the screen holds besides the grid.
    pub fn shape(&self) -> layout::Shape {
        layout::Shape {
            presenter: self.presenter,
            step_bar: self.scenario.is_some(),
            notes: self.show_notes,
        }
    }

    /// True while a scenario runs (it drives the traffic).
    pub fn scenario_running(&self) -> bool {
        self.scenario.as_ref().is_some_and(ScenarioView::running)
    }

    pub fn client(&self, id: &str) -> Option<&Client> {
        self.clients.iter().find(|c| c.id == id)
    }

    pub fn selected_index(&self) -> Option<usize> {
        let id = self.selected.as_deref()?;
        self.visible().iter().position(|c| c.id == id)
    }

    /// Tiles whose unexpected outcomes have not been acknowledged.
    pub fn unacknowledged(&self, id: &str) -> bool {
        self.traffic
            .per_client
            .get(id)
            .is_some_and(|t| t.unexpected > self.acked.get(id).copied().unwrap_or(0))
    }

    /// The tile's flash: Some(passed) while its last answer is fresh.
    pub fn flash(&self, id: &str) -> Option<bool> {
        let (t, ok) = self.traffic.per_client.get(id)?.last?;
        (self.at.saturating_duration_since(t) < FLASH).then_some(ok)
    }

    fn say(&mut self, level: Level, text: impl Into<String>) {
        self.message = Some((level, text.into(), self.at));
    }

    fn next_random(&mut self) -> u64 {
        // xorshift64: enough to pick a client, deterministic in tests.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    pub fn update(&mut self, msg: Msg) -> Vec<Effect> {
        match msg {
            Msg::Key(k) => self.on_key(k),
            Msg::Mouse(m) => {
                self.on_mouse(m);
                vec![]
            }
            Msg::Resize(w, h) => {
                self.size = Rect::new(0, 0, w, h);
                vec![]
            }
            Msg::Tick { at, now } => {
                self.at = at;
                self.now = now;
                if self
                    .message
                    .as_ref()
                    .is_some_and(|(_, _, t)| at.saturating_duration_since(*t) > MESSAGE_FOR)
                {
                    self.message = None;
                }
                vec![]
            }
            Msg::Clients(Ok(list)) => {
                self.clients = list;
                self.clients_error = None;
                self.clients_loaded = true;
                vec![]
            }
            Msg::Clients(Err(e)) => {
                self.clients_error = Some(e);
                vec![]
            }
            Msg::Binding(s) => {
                self.binding = Some(*s);
                vec![]
            }
            Msg::Traffic(t) => {
                self.traffic = *t;
                vec![]
            }
            Msg::Rotated(Ok(text)) => {
                self.say(Level::Info, text);
                vec![Effect::RefreshClients]
            }
            Msg::Rotated(Err(e)) => {
                self.say(Level::Error, format!("rotation failed: {e}"));
                vec![]
            }
            Msg::Ready {
                gateway,
                api,
                registry,
            } => {
                self.ready = true;
                self.gateway = gateway;
                self.api = api;
                self.registry = registry;
                vec![Effect::RefreshClients]
            }
            Msg::StartFailed(e) => {
                self.start_error = Some(e.clone());
                self.say(Level::Error, e);
                vec![]
            }
            Msg::Notice(text) => {
                self.say(Level::Info, text);
                vec![]
            }
            Msg::Scenario(m) => self.on_scenario(m),
            Msg::GatewayLog(v) => {
                self.log = Some(*v);
                vec![]
            }
        }
    }

    fn on_key(&mut self, k: KeyEvent) -> Vec<Effect> {
        if k.kind == crossterm::event::KeyEventKind::Release {
            return vec![];
        }
        let ctrl_c = k.code == KeyCode::Char('c') && k.modifiers.contains(KeyModifiers::CONTROL);
        match self.overlay.clone() {
            Overlay::Filter => {
                match k.code {
                    _ if ctrl_c => return self.quit(),
                    KeyCode::Esc => {
                        self.filter.clear();
                        self.overlay = Overlay::None;
                    }
                    KeyCode::Enter => self.overlay = Overlay::None,
                    KeyCode::Backspace => {
                        self.filter.pop();
                    }
                    KeyCode::Char(c) if !c.is_control() && self.filter.chars().count() < 64 => {
                        self.filter.push(c)
                    }
                    _ => {}
                }
                return vec![];
            }
            Overlay::ConfirmRotate { id, name, grace } => {
                return match k.code {
                    KeyCode::Enter | KeyCode::Char('y') => {
                        match parse_grace(&grace, self.builtin) {
                            Ok(g) => {
                                self.overlay = Overlay::None;
                                self.say(Level::Info, format!("rotating {name}…"));
                                vec![Effect::Rotate { id, name, grace: g }]
                            }
                            Err(e) => {
                                self.say(Level::Error, e);
                                vec![]
                            }
                        }
                    }
                    KeyCode::Esc | KeyCode::Char('n') => {
                        self.overlay = Overlay::None;
                        vec![]
                    }
                    KeyCode::Backspace => {
                        let mut g = grace;
                        g.pop();
                        self.overlay = Overlay::ConfirmRotate { id, name, grace: g };
                        vec![]
                    }
                    KeyCode::Char(c) if (c.is_ascii_alphanumeric()) && grace.len() < 8 => {
                        self.overlay = Overlay::ConfirmRotate {
                            id,
                            name,
                            grace: format!("{grace}{c}"),
                        };
                        vec![]
                    }
                    _ if ctrl_c => self.quit(),
                    _ => vec![],
                };
            }
            Overlay::ConfirmQuit => {
                return match k.code {
                    KeyCode::Char('y') | KeyCode::Enter | KeyCode::Char('q') => {
                        self.should_quit = true;
                        vec![Effect::StopTraffic, Effect::Quit]
                    }
                    _ if ctrl_c => {
                        self.should_quit = true;
                        vec![Effect::StopTraffic, Effect::Quit]
                    }
                    _ => {
                        self.overlay = Overlay::None;
                        vec![]
                    }
                };
            }
            Overlay::PickScenario(i) => {
                let n = self.scenarios.len();
                match k.code {
                    _ if ctrl_c => return self.quit(),
                    KeyCode::Esc | KeyCode::Char('s') => self.overlay = Overlay::None,
                    KeyCode::Up | KeyCode::Char('k') if n > 0 => {
                        self.overlay = Overlay::PickScenario((i + n - 1) % n)
                    }
                    KeyCode::Down | KeyCode::Char('j') if n > 0 => {
                        self.overlay = Overlay::PickScenario((i + 1) % n)
                    }
                    KeyCode::Enter => {
                        self.overlay = Overlay::None;
                        if let Some(name) = self.scenarios.get(i).cloned() {
                            self.traffic.running = false;
                            return vec![Effect::StartScenario(name)];
                        }
                    }
                    _ => {}
                }
                return vec![];
            }
            Overlay::ConfirmTraffic => {
                self.overlay = Overlay::None;
                if matches!(k.code, KeyCode::Enter | KeyCode::Char('y')) {
                    self.traffic.running = true;
                    return vec![Effect::StartTraffic { rate: self.rate }];
                }
                return if ctrl_c { self.quit() } else { vec![] };
            }
            Overlay::Help | Overlay::Detail(_) => {
                if ctrl_c || k.code == KeyCode::Char('q') {
                    return self.quit();
                }
                if matches!(k.code, KeyCode::Esc | KeyCode::Enter | KeyCode::Char('?')) {
                    self.overlay = Overlay::None;
                    return vec![];
                }
                if !matches!(k.code, KeyCode::Char('r' | 't' | '+' | '-')) {
                    return vec![];
                }
            }
            Overlay::None => {}
        }
        if ctrl_c {
            return self.quit();
        }
        if self.scenario_running() {
            match k.code {
                KeyCode::Char(' ') => {
                    let paused = self
                        .scenario
                        .as_ref()
                        .is_some_and(|s| matches!(s.state, StepState::Paused { .. }));
                    return vec![Effect::ScenarioControl(if paused {
                        ScenarioKey::Resume
                    } else {
                        ScenarioKey::Pause
                    })];
                }
                KeyCode::Char('n') => return vec![Effect::ScenarioControl(ScenarioKey::Skip)],
                KeyCode::Esc => {
                    self.say(Level::Info, "aborting the scenario…");
                    return vec![Effect::ScenarioControl(ScenarioKey::Abort)];
                }
                KeyCode::Char('t' | 'r' | 's' | '+' | '-' | '=') => {
                    self.say(
                        Level::Error,
                        "a scenario is running: Esc aborts it, n skips a step",
                    );
                    return vec![];
                }
                _ => {}
            }
        }
        match k.code {
            KeyCode::Char('q') => self.quit(),
            KeyCode::Char('p') => {
                self.presenter = !self.presenter;
                vec![]
            }
            KeyCode::Char('N') => {
                self.show_notes = !self.show_notes;
                vec![]
            }
            KeyCode::Char('T') => {
                self.theme = (self.theme + 1) % self.theme_count.max(1);
                vec![]
            }
            KeyCode::Char('L') => {
                self.lang = if self.lang == "fr" { "en" } else { "fr" }.into();
                vec![]
            }
            KeyCode::Char('s') if !self.readonly => {
                if !self.ready {
                    self.say(Level::Error, "not ready yet: the services are starting");
                } else if self.scenarios.is_empty() {
                    self.say(Level::Error, "no scenarios found");
                } else {
                    self.overlay = Overlay::PickScenario(0);
                }
                vec![]
            }
            KeyCode::Char('?') => {
                self.overlay = Overlay::Help;
                vec![]
            }
            KeyCode::Char('/') => {
                self.overlay = Overlay::Filter;
                vec![]
            }
            KeyCode::Char('f') => {
                self.health_filter = match self.health_filter {
                    None => Some(Health::ALL[0]),
                    Some(h) => Health::ALL.iter().skip_while(|x| **x != h).nth(1).copied(),
                };
                vec![]
            }
            KeyCode::Char('a') => {
                for (id, tile) in &self.traffic.per_client {
                    self.acked.insert(id.clone(), tile.unexpected);
                }
                vec![]
            }
            KeyCode::Enter => {
                if let Some(id) = self.selected.clone() {
                    self.overlay = Overlay::Detail(id);
                }
                vec![]
            }
            KeyCode::Char('t') if !self.readonly => {
                if self.traffic.running {
                    self.traffic.running = false;
                    vec![Effect::StopTraffic]
                } else if !self.ready {
                    self.say(Level::Error, "not ready yet: the services are starting");
                    vec![]
                } else if !self.builtin {
                    self.overlay = Overlay::ConfirmTraffic;
                    vec![]
                } else {
                    self.traffic.running = true;
                    vec![Effect::StartTraffic { rate: self.rate }]
                }
            }
            KeyCode::Char('+' | '=') if !self.readonly => self.step_rate(1),
            KeyCode::Char('-') if !self.readonly => self.step_rate(-1),
            KeyCode::Char('r') if !self.readonly => {
                self.ask_rotation();
                vec![]
            }
            KeyCode::Left | KeyCode::Char('h') => self.move_selection(-1, 0),
            KeyCode::Right | KeyCode::Char('l') => self.move_selection(1, 0),
            KeyCode::Up | KeyCode::Char('k') => self.move_selection(0, -1),
            KeyCode::Down | KeyCode::Char('j') => self.move_selection(0, 1),
            KeyCode::Esc => {
                self.selected = None;
                vec![]
            }
            _ => vec![],
        }
    }

    fn on_scenario(&mut self, m: ScenarioMsg) -> Vec<Effect> {
        match m {
            ScenarioMsg::Started(v) => {
                self.say(Level::Info, format!("scenario {} started", v.title));
                self.scenario = Some(v);
            }
            ScenarioMsg::Step { index, state } => {
                if let Some(v) = self.scenario.as_mut() {
                    if let StepState::Failed(e) = &state {
                        v.failed += 1;
                        let title = v.steps.get(index).map_or("", |s| s.0.as_str());
                        let text = format!("step {} ({title}) failed: {e}", index + 1);
                        self.message = Some((Level::Error, text, self.at));
                    }
                    v.current = index;
                    v.state = state;
                }
            }
            ScenarioMsg::Finished(summary) => {
                if let Some(v) = self.scenario.as_mut() {
                    v.done = Some(summary);
                }
                self.traffic.running = false;
                return vec![Effect::RefreshClients];
            }
            ScenarioMsg::Failed(e) => self.say(Level::Error, e),
        }
        vec![]
    }

    fn quit(&mut self) -> Vec<Effect> {
        if self.traffic.running || self.scenario_running() {
            self.overlay = Overlay::ConfirmQuit;
            vec![]
        } else {
            self.should_quit = true;
            vec![Effect::Quit]
        }
    }

    fn step_rate(&mut self, dir: i32) -> Vec<Effect> {
        let pos = RATE_STEPS
            .iter()
            .position(|r| *r >= self.rate)
            .unwrap_or(RATE_STEPS.len() - 1);
        let next = (pos as i32 + dir).clamp(0, RATE_STEPS.len() as i32 - 1) as usize;
        self.rate = RATE_STEPS[next].min(self.max_rate.unwrap_or(f64::INFINITY));
        if self.traffic.running {
            vec![Effect::SetRate(self.rate)]
        } else {
            vec![]
        }
    }

    fn ask_rotation(&mut self) {
        let target = match self.selected.as_deref().and_then(|id| self.client(id)) {
            Some(c) => Some(c.clone()),
            None => {
                let r = self.next_random();
                let pool = crate::domain::client::rotation_candidates(&self.clients, self.now);
                (!pool.is_empty()).then(|| pool[(r % pool.len() as u64) as usize].clone())
            }
        };
        match target {
            Some(c) if c.is_usable_for_traffic() => {
                self.selected = Some(c.id.clone());
                let grace = if self.builtin { "90s" } else { "24h" }.to_string();
                self.overlay = Overlay::ConfirmRotate {
                    id: c.id,
                    name: c.name,
                    grace,
                };
            }
            Some(c) => self.say(
                Level::Error,
                format!(
                    "{} is {}: only an active client can be rotated",
                    c.name,
                    c.status.as_str()
                ),
            ),
            None => self.say(Level::Error, "no active client to rotate"),
        }
    }

    fn move_selection(&mut self, dx: i32, dy: i32) -> Vec<Effect> {
        let visible = self.visible();
        if visible.is_empty() {
            return vec![];
        }
        let cols = layout::grid(visible.len(), layout::grid_inner(self.size, self.shape()))
            .cols
            .max(1) as i32;
        let n = visible.len() as i32;
        let next = match self.selected_index() {
            None => 0,
            Some(i) => (i as i32 + dx + dy * cols).clamp(0, n - 1),
        };
        self.selected = Some(visible[next as usize].id.clone());
        vec![]
    }

    fn on_mouse(&mut self, m: MouseEvent) {
        if m.kind != MouseEventKind::Down(MouseButton::Left) || self.overlay != Overlay::None {
            return;
        }
        let visible = self.visible();
        let grid = layout::grid(visible.len(), layout::grid_inner(self.size, self.shape()));
        if let Some(i) = grid.hit(m.column, m.row)
            && let Some(c) = visible.get(i)
        {
            self.selected = Some(c.id.clone());
        }
    }
}

#[cfg(test)]
#[path = "app_tests.rs"]
mod tests;
