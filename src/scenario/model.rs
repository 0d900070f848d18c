//! Scenario files: the runbook's sequences as data (TOML), with parameters
//! (`"{tps}"`) filled from the command line.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

use crate::traffic::mix::Mix;

/// The scenarios shipped with the console (`assets/scenarios`).
pub const BUILT_IN: [(&str, &str); 3] = [
    ("full", include_str!("../../assets/scenarios/full.toml")),
    (
        "traffic-only",
        include_str!("../../assets/scenarios/traffic-only.toml"),
    ),
    (
        "rotation",
        include_str!("../../assets/scenarios/rotation.toml"),
    ),
];

#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    pub name: String,
    pub title: String,
    pub description: String,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub title: String,
    pub action: Action,
    pub on_failure: OnFailure,
    pub notes: Notes,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Seed the tenant's clients unless half of them are already there.
    Seed {
        count: u64,
    },
    Traffic {
        tps: f64,
        duration: Duration,
        mix: Mix,
    },
    /// Rotate one client through the control plane; `grace` as typed (`1h`, `90s`).
    Rotate {
        pick: Pick,
        grace: String,
    },
    Wait {
        duration: Duration,
    },
}

/// Which client a rotation step takes.
#[derive(Debug, Clone, PartialEq)]
pub enum Pick {
    /// A random expiring one (expiring soon or critical), else any active one.
    Expiring,
    /// Any active client.
    Any,
    Client(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnFailure {
    #[default]
    Stop,
    Continue,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
pub struct Notes {
    pub en: Option<String>,
    pub fr: Option<String>,
}

impl Notes {
    /// The talk track in `lang` (`fr` or `en`), else in the other one.
    pub fn get(&self, lang: &str) -> Option<&str> {
        let (first, second) = if lang.starts_with("fr") {
            (&self.fr, &self.en)
        } else {
            (&self.en, &self.fr)
        };
        first.as_deref().or(second.as_deref())
    }
}

impl Step {
    /// How long the step lasts, when it has a length of its own.
    pub fn duration(&self) -> Option<Duration> {
        match &self.action {
            Action::Traffic { duration, .. } | Action::Wait { duration } => Some(*duration),
            _ => None,
        }
    }

    /// One line for a step bar or a report: what the step does.
    pub fn describe(&self) -> String {
        match &self.action {
            Action::Seed { count } => format!("seed {count} clients if needed"),
            Action::Traffic { tps, duration, .. } => {
                format!("traffic {tps}/s for {} s", duration.as_secs_f64())
            }
            Action::Rotate { pick, grace } => match pick {
                Pick::Client(id) => format!("rotate {id}, grace {grace}"),
                Pick::Expiring => format!("rotate an expiring client, grace {grace}"),
                Pick::Any => format!("rotate a client, grace {grace}"),
            },
            Action::Wait { duration } => format!("wait {} s", duration.as_secs_f64()),
        }
    }
}

/// Where a scenario comes from, for messages.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    BuiltIn,
    File(PathBuf),
}

// The file format.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileScenario {
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default, rename = "param")]
    params: Vec<FileParam>,
    #[serde(rename = "step")]
    steps: Vec<FileStep>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileParam {
    name: String,
    default: f64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileStep {
    title: String,
    #[serde(rename = "do")]
    kind: String,
    count: Option<Num>,
    tps: Option<Num>,
    seconds: Option<Num>,
    mix: Option<String>,
    pick: Option<String>,
    grace: Option<String>,
    #[serde(default)]
    on_failure: OnFailure,
    #[serde(default)]
    notes: Notes,
}

/// A number, or a parameter's name in braces.
#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum Num {
    Value(f64),
    Param(String),
}

/// A scenario file that cannot be used, with the place of the problem.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("scenario {name}: {message}")]
pub struct ScenarioError {
    pub name: String,
    pub message: String,
}

impl Scenario {
    /// Parses a scenario file's text; `args` fill its parameters in order.
    pub fn parse(name: &str, text: &str, args: &[f64]) -> Result<Self, ScenarioError> {
        let fail = |message: String| ScenarioError {
            name: name.to_string(),
            message,
        };
        let file: FileScenario =
            toml::from_str(text).map_err(|e| fail(crate::text::toml_error(text, &e)))?;
        if args.len() > file.params.len() {
            return Err(fail(format!(
                "takes {} argument(s) ({}), {} given",
                file.params.len(),
                file.params
                    .iter()
                    .map(|p| p.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                args.len()
            )));
        }
        let value_of = |n: &Num, field: &str, step: usize| -> Result<f64, ScenarioError> {
            match n {
                Num::Value(v) => Ok(*v),
                Num::Param(p) => {
                    let key = p.trim().trim_start_matches('{').trim_end_matches('}');
                    let i = file
                        .params
                        .iter()
                        .position(|q| q.name == key)
                        .ok_or_else(|| {
                            fail(format!("step {step}: {field} = {p:?} names no parameter"))
                        })?;
                    Ok(args.get(i).copied().unwrap_or(file.params[i].default))
                }
            }
        };
        let mut steps = Vec::new();
        for (i, s) in file.steps.into_iter().enumerate() {
            let n = i + 1;
            let need = |v: &Option<Num>, field: &str| -> Result<f64, ScenarioError> {
                let v = v
                    .as_ref()
                    .ok_or_else(|| fail(format!("step {n} ({}): {field} is missing", s.title)))?;
                value_of(v, field, n)
            };
            let seconds = |field: &str| -> Result<Duration, ScenarioError> {
                let v = need(&s.seconds, field)?;
                if !(v > 0.0 && v <= 86_400.0) {
                    return Err(fail(format!(
                        "step {n}: seconds must be between 0 and 86400, not {v}"
                    )));
                }
                Ok(Duration::from_secs_f64(v))
            };
            let action = match s.kind.as_str() {
                "seed" => Action::Seed {
                    count: s
                        .count
                        .as_ref()
                        .map_or(Ok(100.0), |c| value_of(c, "count", n))?
                        .clamp(1.0, 1_000_000.0) as u64,
                },
                "traffic" => {
                    let tps = need(&s.tps, "tps")?;
                    if !(crate::traffic::MIN_RATE..=crate::traffic::MAX_RATE).contains(&tps) {
                        return Err(fail(format!(
                            "step {n}: tps must be between 0.1 and 1000000, not {tps}"
                        )));
                    }
                    let mix = match &s.mix {
                        Some(m) => {
                            Mix::parse(m).map_err(|e| fail(format!("step {n}: mix: {e}")))?
                        }
                        None => Mix::default(),
                    };
                    Action::Traffic {
                        tps,
                        duration: seconds("seconds")?,
                        mix,
                    }
                }
                "rotate" => Action::Rotate {
                    pick: match s.pick.as_deref() {
                        None | Some("expiring") => Pick::Expiring,
                        Some("any") => Pick::Any,
                        Some(p) if p.starts_with("client:") => Pick::Client(p[7..].to_string()),
                        Some(p) => {
                            return Err(fail(format!(
                                "step {n}: pick = {p:?}: use \"expiring\", \"any\" or \"client:ID\""
                            )));
                        }
                    },
                    grace: s.grace.clone().unwrap_or_else(|| "1h".into()),
                },
                "wait" => Action::Wait {
                    duration: seconds("seconds")?,
                },
                other => {
                    return Err(fail(format!(
                        "step {n}: do = {other:?}: a step does \"seed\", \"traffic\", \"rotate\" or \"wait\""
                    )));
                }
            };
            steps.push(Step {
                title: s.title,
                action,
                on_failure: s.on_failure,
                notes: s.notes,
            });
        }
        if steps.is_empty() {
            return Err(fail("has no [[step]]".into()));
        }
        Ok(Scenario {
            name: name.to_string(),
            title: file.title,
            description: file.description,
            steps,
        })
    }

    /// Multiplies every step's length (rehearsals, tests).
    pub fn scaled(mut self, factor: f64) -> Self {
        for s in &mut self.steps {
            match &mut s.action {
                Action::Traffic { duration, .. } | Action::Wait { duration } => {
                    *duration = duration.mul_f64(factor.max(0.0));
                }
                _ => {}
            }
        }
        self
    }
}

/// The folder users put their own scenarios in.
pub fn user_dir() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("mtls-console").join("scenarios"))
}

/// Finds a scenario by name (the user's folder first, then the built-in ones) or
/// by path (a name with a `/` or ending in `.toml`).
pub fn find(name: &str, dir: Option<&Path>) -> Result<(String, Source), ScenarioError> {
    let missing = |message: String| ScenarioError {
        name: name.to_string(),
        message,
    };
    if name.contains('/') || name.ends_with(".toml") {
        let path = PathBuf::from(name);
        return std::fs::read_to_string(&path)
            .map(|t| (t, Source::File(path)))
            .map_err(|e| missing(format!("cannot read the file: {e}")));
    }
    if let Some(dir) = dir {
        let path = dir.join(format!("{name}.toml"));
        if let Ok(text) = std::fs::read_to_string(&path) {
            return Ok((text, Source::File(path)));
        }
    }
    BUILT_IN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, t)| (t.to_string(), Source::BuiltIn))
        .ok_or_else(|| {
            missing(format!(
                "no such scenario: the built-in ones are {}; see `mtls-console scenario --list`",
                names(dir).join(", ")
            ))
        })
}

/// Every scenario name: built-in ones, then the user's.
pub fn names(dir: Option<&Path>) -> Vec<String> {
    let mut out: Vec<String> = BUILT_IN.iter().map(|(n, _)| n.to_string()).collect();
    if let Some(Ok(entries)) = dir.map(std::fs::read_dir) {
        let mut user: Vec<String> = entries
            .flatten()
            .filter_map(|e| {
                let p = e.path();
                (p.extension()? == "toml").then(|| p.file_stem()?.to_str().map(String::from))?
            })
            .filter(|n| !out.contains(n))
            .collect();
        user.sort();
        out.extend(user);
    }
    out
}

/// Finds and parses a scenario.
pub fn load(name: &str, dir: Option<&Path>, args: &[f64]) -> Result<Scenario, ScenarioError> {
    let (text, _) = find(name, dir)?;
    let stem = Path::new(name)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or(name);
    Scenario::parse(stem, &text, args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_scenarios_follow_the_runbook() {
        let full = load("full", None, &[]).unwrap();
        let kinds: Vec<String> = full.steps.iter().map(Step::describe).collect();
        assert_eq!(
            kinds,
            [
                "seed 100 clients if needed",
                "traffic 5/s for 30 s",
                "rotate an expiring client, grace 1h",
                "traffic 20/s for 60 s",
            ]
        );
        assert_eq!(full.steps[2].on_failure, OnFailure::Continue);
        assert!(
            full.steps
                .iter()
                .all(|s| s.notes.fr.is_some() && s.notes.en.is_some())
        );

        let t = load("traffic-only", None, &[]).unwrap();
        assert_eq!(t.steps[0].describe(), "traffic 10/s for 120 s");
        let t = load("traffic-only", None, &[5.0, 60.0]).unwrap();
        assert_eq!(t.steps[0].describe(), "traffic 5/s for 60 s");
        let r = load("rotation", None, &[]).unwrap();
        assert_eq!(r.steps.len(), 1);
        assert!(matches!(r.steps[0].action, Action::Rotate { .. }));
    }

    #[test]
    fn errors_name_the_line_and_column_or_the_step() {
        let e = Scenario::parse("x", "title = \"t\"\n[[step]]\ntitle = 3\n", &[]).unwrap_err();
        assert!(e.message.starts_with("line 3, column 9: "), "{e}");
        assert!(!e.to_string().contains('\n'));
        let e = Scenario::parse(
            "x",
            "title = \"t\"\n[[step]]\ntitle = \"a\"\ndo = \"dance\"\n",
            &[],
        )
        .unwrap_err();
        assert!(e.message.contains("do = \"dance\""), "{e}");
        let e = Scenario::parse(
            "x",
            "title = \"t\"\n[[step]]\ntitle = \"a\"\ndo = \"traffic\"\ntps = \"{rate}\"\nseconds = 1\n",
            &[],
        )
        .unwrap_err();
        assert!(e.message.contains("names no parameter"), "{e}");
        let e = load("traffic-only", None, &[1.0, 2.0, 3.0]).unwrap_err();
        assert!(
            e.message.contains("takes 2 argument(s) (tps, seconds)"),
            "{e}"
        );
        let e = load("nope", None, &[]).unwrap_err();
        assert!(e.message.contains("full, traffic-only, rotation"), "{e}");
    }

    #[test]
    fn notes_fall_back_to_the_other_language_and_durations_scale() {
        let n = Notes {
            en: Some("hello".into()),
            fr: None,
        };
        assert_eq!(n.get("fr"), Some("hello"));
        let full = load("full", None, &[]).unwrap().scaled(0.1);
        assert_eq!(full.steps[1].duration(), Some(Duration::from_secs(3)));
    }

    #[test]
    fn a_users_folder_overrides_and_adds() {
        let dir = std::env::temp_dir().join(format!("mtls-scn-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("mine.toml"),
            "title = \"Mine\"\n[[step]]\ntitle = \"w\"\ndo = \"wait\"\nseconds = 2\n",
        )
        .unwrap();
        assert_eq!(
            names(Some(&dir)),
            ["full", "traffic-only", "rotation", "mine"]
        );
        assert_eq!(load("mine", Some(&dir), &[]).unwrap().title, "Mine");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
