//! Key bindings as data: one table drives the footer hints and the help overlay,
//! so they can never disagree.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    ToggleTraffic,
    RateUp,
    RateDown,
    Rotate,
    Detail,
    Move,
    Filter,
    HealthFilter,
    Acknowledge,
    Scenario,
    ScenarioControl,
    Presenter,
    Notes,
    Theme,
    Help,
    Quit,
}

pub struct KeyHelp {
    pub keys: &'static str,
    pub action: Action,
    pub help: &'static str,
    /// Short label for the footer (None: help overlay only).
    pub footer: Option<&'static str>,
    /// Hidden in read-only mode.
    pub writes: bool,
}

pub const KEYS: &[KeyHelp] = &[
    KeyHelp {
        keys: "t",
        action: Action::ToggleTraffic,
        help: "start / stop traffic (80 % valid, 10 % header mismatch, 10 % JWT mismatch)",
        footer: Some("traffic"),
        writes: true,
    },
    KeyHelp {
        keys: "+ -",
        action: Action::RateUp,
        help: "raise / lower the traffic rate",
        footer: Some("rate"),
        writes: true,
    },
    KeyHelp {
        keys: "r",
        action: Action::Rotate,
        help: "rotate the selected client's certificate (else a random expiring one)",
        footer: Some("rotate"),
        writes: true,
    },
    KeyHelp {
        keys: "Enter",
        action: Action::Detail,
        help: "client detail: dates, both fingerprints during grace",
        footer: Some("detail"),
        writes: false,
    },
    KeyHelp {
        keys: "←↑↓→ hjkl",
        action: Action::Move,
        help: "move the selection (a mouse click selects a tile)",
        footer: None,
        writes: false,
    },
    KeyHelp {
        keys: "/",
        action: Action::Filter,
        help: "filter by name, CN or fingerprint",
        footer: Some("filter"),
        writes: false,
    },
    KeyHelp {
        keys: "f",
        action: Action::HealthFilter,
        help: "cycle the health filter",
        footer: Some("health"),
        writes: false,
    },
    KeyHelp {
        keys: "a",
        action: Action::Acknowledge,
        help: "acknowledge unexpected outcomes",
        footer: None,
        writes: false,
    },
    KeyHelp {
        keys: "s",
        action: Action::Scenario,
        help: "run a scenario (full, traffic-only, rotation, or your own)",
        footer: Some("scenario"),
        writes: true,
    },
    KeyHelp {
        keys: "space n Esc",
        action: Action::ScenarioControl,
        help: "while a scenario runs: pause / resume, next step, abort",
        footer: None,
        writes: true,
    },
    KeyHelp {
        keys: "p",
        action: Action::Presenter,
        help: "presenter mode: big numbers and the grid, for the back of the room",
        footer: Some("presenter"),
        writes: false,
    },
    KeyHelp {
        keys: "N L",
        action: Action::Notes,
        help: "talk-track notes of the current step; switch French / English",
        footer: None,
        writes: false,
    },
    KeyHelp {
        keys: "T",
        action: Action::Theme,
        help: "next colour theme",
        footer: None,
        writes: false,
    },
    KeyHelp {
        keys: "?",
        action: Action::Help,
        help: "this help",
        footer: Some("help"),
        writes: false,
    },
    KeyHelp {
        keys: "q Ctrl-C",
        action: Action::Quit,
        help: "quit (asks first while traffic runs)",
        footer: Some("quit"),
        writes: false,
    },
];

/// The footer line: `t traffic  + - rate  …`.
pub fn footer(readonly: bool) -> Vec<(&'static str, &'static str)> {
    KEYS.iter()
        .filter(|k| !(readonly && k.writes))
        .filter_map(|k| k.footer.map(|f| (k.keys, f)))
        .collect()
}
