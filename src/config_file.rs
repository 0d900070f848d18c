//! The config file (TOML, in the platform's config folder, or `--config`): every
//! global option, so a presenter sets up once. Precedence: flags, then environment
//! variables, then the file, then defaults.

use std::path::{Path, PathBuf};

use clap::ArgMatches;
use clap::parser::ValueSource;
use serde::Deserialize;

use crate::cli::GlobalArgs;
use crate::config::ConfigError;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ConfigFile {
    pub gateway_url: Option<String>,
    pub api_url: Option<String>,
    pub db_url: Option<String>,
    pub endpoint: Option<String>,
    pub tenant: Option<String>,
    pub jwt_secret: Option<String>,
    pub jwt_secret_file: Option<PathBuf>,
    pub api_token: Option<String>,
    pub save_keys: Option<PathBuf>,
    pub log_file: Option<PathBuf>,
    pub theme: Option<String>,
    pub lang: Option<String>,
    /// A subcommand's options, by long name: `[traffic]`, `[metrics]`, …
    #[serde(default)]
    pub traffic: Option<toml::Table>,
    #[serde(default)]
    pub metrics: Option<toml::Table>,
    #[serde(default)]
    pub scenario: Option<toml::Table>,
    #[serde(default)]
    pub seed: Option<toml::Table>,
    #[serde(default)]
    pub serve: Option<toml::Table>,
    #[serde(default)]
    pub clients: Option<toml::Table>,
}

/// Where an effective setting came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Flag,
    Env,
    File,
    Default,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Source::Flag => "flag",
            Source::Env => "environment",
            Source::File => "config file",
            Source::Default => "default",
        })
    }
}

pub fn default_path() -> Option<PathBuf> {
    dirs::config_dir().map(|d| d.join("mtls-console").join("config.toml"))
}

/// Reads the file: the one given (which must exist), else the default one if any.
pub fn load(explicit: Option<&Path>) -> Result<(Option<PathBuf>, ConfigFile), ConfigError> {
    let path = match explicit {
        Some(p) => p.to_path_buf(),
        None => match default_path() {
            Some(p) if p.exists() => p,
            _ => return Ok((None, ConfigFile::default())),
        },
    };
    let unreadable = |reason: String| ConfigError::UnreadableFile {
        what: "config file",
        path: path.display().to_string(),
        reason,
    };
    let text = std::fs::read_to_string(&path).map_err(|e| unreadable(e.to_string()))?;
    let file = parse(&text).map_err(|e| {
        ConfigError::Invalid(format!(
            "config file {}: {e} (see `mtls-console config --help` for the keys)",
            path.display()
        ))
    })?;
    Ok((Some(path), file))
}

/// Parses the file's text; errors say where (`line L, column C: …`), on one line.
pub fn parse(text: &str) -> Result<ConfigFile, String> {
    toml::from_str(text).map_err(|e| crate::text::toml_error(text, &e))
}

fn source(m: &ArgMatches, id: &str) -> Option<Source> {
    match m.value_source(id) {
        Some(ValueSource::CommandLine) => Some(Source::Flag),
        Some(ValueSource::EnvVariable) => Some(Source::Env),
        _ => None,
    }
}

fn fill<T: Clone>(m: &ArgMatches, id: &str, slot: &mut Option<T>, file: &Option<T>) -> Source {
    if let Some(s) = source(m, id) {
        return s;
    }
    match file {
        Some(v) => {
            *slot = Some(v.clone());
            Source::File
        }
        None => Source::Default,
    }
}

/// Fills what neither a flag nor the environment set from the file; returns each
/// setting's source, for `mtls-console config`.
pub fn apply(g: &mut GlobalArgs, f: &ConfigFile, m: &ArgMatches) -> Vec<(&'static str, Source)> {
    let mut out = vec![
        (
            "gateway-url",
            fill(m, "gateway_url", &mut g.gateway_url, &f.gateway_url),
        ),
        ("api-url", fill(m, "api_url", &mut g.api_url, &f.api_url)),
        ("db-url", fill(m, "db_url", &mut g.db_url, &f.db_url)),
        (
            "endpoint",
            fill(m, "endpoint", &mut g.endpoint, &f.endpoint),
        ),
        (
            "jwt-secret",
            fill(m, "jwt_secret", &mut g.jwt_secret, &f.jwt_secret),
        ),
        (
            "jwt-secret-file",
            fill(
                m,
                "jwt_secret_file",
                &mut g.jwt_secret_file,
                &f.jwt_secret_file,
            ),
        ),
        (
            "api-token",
            fill(m, "api_token", &mut g.api_token, &f.api_token),
        ),
        (
            "save-keys",
            fill(m, "save_keys", &mut g.save_keys, &f.save_keys),
        ),
        (
            "log-file",
            fill(m, "log_file", &mut g.log_file, &f.log_file),
        ),
        ("theme", fill(m, "theme", &mut g.theme, &f.theme)),
    ];
    // Options with a default value.
    for (name, id, slot, value) in [
        ("tenant", "tenant", &mut g.tenant, &f.tenant),
        ("lang", "lang", &mut g.lang, &f.lang),
    ] {
        let s = match (source(m, id), value) {
            (Some(s), _) => s,
            (None, Some(v)) => {
                *slot = v.clone();
                Source::File
            }
            (None, None) => Source::Default,
        };
        out.push((name, s));
    }
    out
}

impl ConfigFile {
    /// `traffic.tps = 40`, for `mtls-console config`.
    pub fn section_lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        for name in ["clients", "metrics", "scenario", "seed", "serve", "traffic"] {
            for (k, v) in self.section(name).into_iter().flatten() {
                out.push(format!("{name}.{k} = {v}"));
            }
        }
        out
    }

    fn section(&self, command: &str) -> Option<&toml::Table> {
        match command {
            "traffic" => self.traffic.as_ref(),
            "metrics" => self.metrics.as_ref(),
            "scenario" => self.scenario.as_ref(),
            "seed" => self.seed.as_ref(),
            "serve" => self.serve.as_ref(),
            "clients" => self.clients.as_ref(),
            _ => None,
        }
    }
}

/// The subcommand's options from its section, as command-line arguments to add:
/// each one neither given as a flag nor by the environment. Checked against the
/// subcommand's own options, so a typo is an error, not a silent default.
pub fn subcommand_args(
    file: &ConfigFile,
    cli: &clap::Command,
    matches: &ArgMatches,
) -> Result<Vec<String>, ConfigError> {
    let Some((name, sub)) = matches.subcommand() else {
        return Ok(Vec::new());
    };
    let (Some(table), Some(cmd)) = (file.section(name), cli.find_subcommand(name)) else {
        return Ok(Vec::new());
    };
    let bad = |msg: String| ConfigError::Invalid(format!("config file [{name}]: {msg}"));
    let mut out = Vec::new();
    for (key, value) in table {
        let arg = cmd
            .get_arguments()
            .find(|a| a.get_long() == Some(key.as_str()) && !a.is_global_set())
            .ok_or_else(|| bad(format!("`{key}` is not an option of `{name}`")))?;
        if source(sub, arg.get_id().as_str()).is_some() {
            continue;
        }
        let values = match value {
            toml::Value::Array(items) => items.clone(),
            v => vec![v.clone()],
        };
        for v in values {
            match v {
                toml::Value::Boolean(true) => out.push(format!("--{key}")),
                toml::Value::Boolean(false) => {}
                toml::Value::String(s) => out.push(format!("--{key}={s}")),
                toml::Value::Integer(i) => out.push(format!("--{key}={i}")),
                toml::Value::Float(f) => out.push(format!("--{key}={f}")),
                other => {
                    return Err(bad(format!(
                        "`{key}` = {other}: give a string, a number, true or a list"
                    )));
                }
            }
        }
    }
    Ok(out)
}

/// A file holding a secret that others can read deserves a warning (like ssh's).
pub fn exposure_warning(path: &Path, f: &ConfigFile) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let holds_secret = f.jwt_secret.is_some()
        || f.api_token.is_some()
        || f.db_url
            .as_deref()
            .is_some_and(|u| crate::config::redact_url(u) != u);
    let mode = std::fs::metadata(path).ok()?.permissions().mode();
    (holds_secret && mode & 0o077 != 0).then(|| {
        format!(
            "config file {} holds a secret and others can read it: chmod 600 it",
            path.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_parses_and_errors_name_the_place() {
        let f = parse(
            "gateway-url = \"http://gw:8080\"\ntenant = \"bnp\"\nlang = \"fr\"\ntheme = \"light\"\n",
        )
        .unwrap();
        assert_eq!(f.gateway_url.as_deref(), Some("http://gw:8080"));
        assert_eq!(f.tenant.as_deref(), Some("bnp"));
        let e = parse("tenant = \"a\"\ngatway-url = \"x\"\n").unwrap_err();
        assert!(
            e.starts_with("line 2, column 1: unknown field `gatway-url`"),
            "{e}"
        );
        let e = parse("tenant = \n").unwrap_err();
        assert!(e.starts_with("line 1, column"), "{e}");
        assert!(!e.contains('\n'));
        let f = parse("[traffic]\ntps = 40\nmix = \"valid=1\"\n").unwrap();
        assert_eq!(
            f.section_lines(),
            ["traffic.mix = \"valid=1\"", "traffic.tps = 40"]
        );
    }
}
