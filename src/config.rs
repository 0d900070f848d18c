//! Resolved settings: database targets in every form the runbook uses, service
//! URLs, and redaction of anything that may carry a password.

use std::path::{Path, PathBuf};

use url::Url;

use crate::secret::Secret;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbTarget {
    /// No database configured: an in-memory SQLite registry seeded at start.
    Embedded,
    /// A PostgreSQL URL in the form sqlx takes (`postgres://…`).
    Postgres(String),
    Sqlite(PathBuf),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error(
        "invalid {what} {shown}: {reason} (expected postgres://, postgresql://, postgresql+asyncpg:// or sqlite://)"
    )]
    BadDbUrl {
        what: &'static str,
        shown: String,
        reason: String,
    },
    #[error("invalid {what} {shown}: {reason} (expected http://host:port or https://host:port)")]
    BadServiceUrl {
        what: &'static str,
        shown: String,
        reason: String,
    },
    #[error("cannot read {what} {path}: {reason}")]
    UnreadableFile {
        what: &'static str,
        path: String,
        reason: String,
    },
    #[error("{0}")]
    Invalid(String),
}

impl DbTarget {
    /// Accepts the SQLAlchemy form of the runbook (`postgresql+asyncpg://`), plain
    /// PostgreSQL URLs and `sqlite://FILE` (also `sqlite:FILE`, `sqlite::memory:`).
    pub fn parse(input: &str) -> Result<Self, ConfigError> {
        let s = input.trim();
        let bad = |reason: &str| ConfigError::BadDbUrl {
            what: "--db-url",
            shown: quote(&redact_url(s)),
            reason: reason.to_string(),
        };
        if s.is_empty() {
            return Err(bad("it is empty"));
        }
        let Some((scheme, rest)) = s.split_once(':') else {
            return Err(bad("it has no scheme"));
        };
        match scheme.to_ascii_lowercase().as_str() {
            "postgres"
            | "postgresql"
            | "postgresql+asyncpg"
            | "postgresql+psycopg"
            | "postgresql+psycopg2" => {
                let normalized = format!("postgres:{rest}");
                let url = Url::parse(&normalized).map_err(|e| bad(&e.to_string()))?;
                if url.host_str().is_none_or(str::is_empty) {
                    return Err(bad("it names no host"));
                }
                Ok(Self::Postgres(normalized))
            }
            "sqlite" => {
                let path = rest.trim_start_matches("//");
                let path = path.split('?').next().unwrap_or_default();
                if path.is_empty() || path == ":memory:" {
                    return Ok(Self::Embedded);
                }
                Ok(Self::Sqlite(PathBuf::from(path)))
            }
            other => Err(bad(&format!("unsupported scheme {other:?}"))),
        }
    }

    /// For the screen and logs: the password is replaced by `***`.
    pub fn display(&self) -> String {
        match self {
            Self::Embedded => "embedded SQLite (in memory)".to_string(),
            Self::Postgres(url) => redact_url(url),
            Self::Sqlite(path) => format!("sqlite://{}", path.display()),
        }
    }
}

/// Parses a gateway or control plane base URL; a trailing slash is dropped.
pub fn parse_service_url(what: &'static str, input: &str) -> Result<Url, ConfigError> {
    let s = input.trim();
    let bad = |reason: String| ConfigError::BadServiceUrl {
        what,
        shown: quote(&redact_url(s)),
        reason,
    };
    let url = Url::parse(s).map_err(|e| bad(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad(format!("unsupported scheme {:?}", url.scheme())));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("it names no host".into()));
    }
    Ok(url)
}

/// Joins a base URL and a path without doubling or losing slashes.
pub fn join_url(base: &Url, path: &str) -> String {
    format!(
        "{}/{}",
        base.as_str().trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// Replaces the password of a URL (and of anything that looks like `user:pass@`)
/// by `***`. Works on strings `Url` refuses, so a bad URL can still be shown safely.
pub fn redact_url(input: &str) -> String {
    let Some(scheme_end) = input.find("://") else {
        return input.to_string();
    };
    let auth_start = scheme_end + 3;
    let rest = &input[auth_start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return input.to_string();
    };
    let userinfo = &authority[..at];
    let Some(colon) = userinfo.find(':') else {
        return input.to_string();
    };
    format!(
        "{}{}:***{}",
        &input[..auth_start],
        &userinfo[..colon],
        &input[auth_start + at..]
    )
}

fn quote(s: &str) -> String {
    format!("'{s}'")
}

/// Reads a secret file, dropping one trailing newline.
pub fn read_secret_file(what: &'static str, path: &Path) -> Result<Secret, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigError::UnreadableFile {
        what,
        path: path.display().to_string(),
        reason: e.kind().to_string(),
    })?;
    let value = text.strip_suffix('\n').unwrap_or(&text);
    let value = value.strip_suffix('\r').unwrap_or(value);
    if value.is_empty() {
        return Err(ConfigError::Invalid(format!(
            "{what} {} is empty",
            path.display()
        )));
    }
    Ok(Secret::new(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_runbook_form_is_accepted() {
        assert_eq!(
            DbTarget::parse("postgresql+asyncpg://stoa:stoa@localhost:5432/stoa").unwrap(),
            DbTarget::Postgres("postgres://stoa:stoa@localhost:5432/stoa".into())
        );
        assert_eq!(
            DbTarget::parse("postgresql://u@h/db").unwrap(),
            DbTarget::Postgres("postgres://u@h/db".into())
        );
        assert_eq!(
            DbTarget::parse("postgres://u@h:1/db").unwrap(),
            DbTarget::Postgres("postgres://u@h:1/db".into())
        );
        assert_eq!(
            DbTarget::parse("sqlite:///tmp/x.db").unwrap(),
            DbTarget::Sqlite("/tmp/x.db".into())
        );
        assert_eq!(
            DbTarget::parse("sqlite://demo.db").unwrap(),
            DbTarget::Sqlite("demo.db".into())
        );
        assert_eq!(
            DbTarget::parse("sqlite::memory:").unwrap(),
            DbTarget::Embedded
        );
    }

    #[test]
    fn bad_urls_name_the_problem_without_the_password() {
        let e = DbTarget::parse("mysql://root:hunter2@db/x")
            .unwrap_err()
            .to_string();
        assert!(e.contains("unsupported scheme \"mysql\""), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
        assert!(e.contains("root:***@db"), "{e}");
        let e = DbTarget::parse("localhost:5432").unwrap_err().to_string();
        assert!(e.contains("unsupported scheme"), "{e}");
        let e = DbTarget::parse("postgres://").unwrap_err().to_string();
        assert!(e.contains("no host"), "{e}");
        let e = parse_service_url("--gateway-url", "ftp://x")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("invalid --gateway-url 'ftp://x'"), "{e}");
    }

    #[test]
    fn redaction() {
        assert_eq!(
            redact_url("postgres://stoa:s3cr3t@localhost:5432/stoa"),
            "postgres://stoa:***@localhost:5432/stoa"
        );
        assert_eq!(
            redact_url("postgres://stoa@localhost/stoa"),
            "postgres://stoa@localhost/stoa"
        );
        assert_eq!(
            redact_url("http://a:b:c@h/p?x=y@z"),
            "http://a:***@h/p?x=y@z"
        );
        assert_eq!(redact_url("not a url"), "not a url");
        assert_eq!(
            DbTarget::Postgres("postgres://u:pw@h/d".into()).display(),
            "postgres://u:***@h/d"
        );
    }

    #[test]
    fn join_url_keeps_one_slash() {
        let base = Url::parse("http://h:8080/").unwrap();
        assert_eq!(join_url(&base, "/metrics"), "http://h:8080/metrics");
        let base = Url::parse("http://h:8080/prefix").unwrap();
        assert_eq!(join_url(&base, "metrics"), "http://h:8080/prefix/metrics");
    }
}

/// Where the JWT secret came from: the demo default must be visible as such.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretSource {
    Flag,
    File,
    DemoDefault,
}

/// Everything the commands need, validated once.
#[derive(Debug, Clone)]
pub struct Settings {
    pub gateway_url: Option<Url>,
    pub api_url: Option<Url>,
    pub db: DbTarget,
    pub endpoint: Option<String>,
    pub tenant: String,
    pub jwt_secret: Secret,
    pub jwt_secret_source: SecretSource,
    pub api_token: Option<Secret>,
    /// `--max-tps`.
    pub max_tps: Option<f64>,
    /// Warnings found before the settings (an exposed config file, say).
    pub extra_warnings: Vec<String>,
}

impl Settings {
    pub fn from_args(args: &crate::cli::GlobalArgs) -> Result<Self, ConfigError> {
        fn non_empty(v: &Option<String>) -> Option<&str> {
            v.as_deref().map(str::trim).filter(|s| !s.is_empty())
        }
        let gateway_url = non_empty(&args.gateway_url)
            .map(|s| parse_service_url("--gateway-url (GATEWAY_URL)", s))
            .transpose()?;
        let api_url = non_empty(&args.api_url)
            .map(|s| parse_service_url("--api-url (API_URL)", s))
            .transpose()?;
        let db = non_empty(&args.db_url)
            .map(DbTarget::parse)
            .transpose()?
            .unwrap_or(DbTarget::Embedded);
        let endpoint = non_empty(&args.endpoint).map(|e| {
            if e.starts_with('/') {
                e.to_string()
            } else {
                format!("/{e}")
            }
        });
        let tenant = args.tenant.trim().to_string();
        if tenant.is_empty() {
            return Err(ConfigError::Invalid(
                "--tenant (TENANT) is empty: name the tenant, e.g. --tenant acme".into(),
            ));
        }
        let (jwt_secret, jwt_secret_source) = match (&args.jwt_secret, &args.jwt_secret_file) {
            (Some(s), _) if !s.is_empty() => (Secret::new(s.clone()), SecretSource::Flag),
            (_, Some(path)) => (
                read_secret_file("--jwt-secret-file", path)?,
                SecretSource::File,
            ),
            _ => (
                Secret::new(crate::domain::token::DEMO_SECRET),
                SecretSource::DemoDefault,
            ),
        };
        Ok(Self {
            gateway_url,
            api_url,
            db,
            endpoint,
            tenant,
            jwt_secret,
            jwt_secret_source,
            api_token: non_empty(&args.api_token).map(Secret::new),
            max_tps: args.max_tps,
            extra_warnings: Vec::new(),
        })
    }

    /// Nothing configured: the console runs its own loopback stack.
    pub fn uses_builtin_stack(&self) -> bool {
        self.gateway_url.is_none() && self.api_url.is_none() && self.db == DbTarget::Embedded
    }

    /// Warnings to show before anything runs (and in the TUI header).
    pub fn warnings(&self) -> Vec<String> {
        let mut out = self.extra_warnings.clone();
        if let (Some(gw), SecretSource::DemoDefault) = (&self.gateway_url, self.jwt_secret_source) {
            out.push(format!(
                "using the public STOA demo JWT secret against {}: pass --jwt-secret or --jwt-secret-file with the gateway's secret",
                redact_url(gw.as_str())
            ));
        }
        out
    }
}

/// The traffic rate's ceiling: `--max-tps`, else 100 for a gateway off loopback.
pub fn max_rate(max_tps: Option<f64>, gateway: Option<&Url>) -> Option<f64> {
    max_tps.or_else(|| gateway.filter(|g| !is_loopback(g)).map(|_| 100.0))
}

/// Whether a service URL points at this machine (`localhost` or a loopback address).
pub fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod settings_tests {
    use super::*;
    use crate::cli::GlobalArgs;

    fn args() -> GlobalArgs {
        GlobalArgs {
            tenant: "acme".into(),
            ..Default::default()
        }
    }

    #[test]
    fn loopback_urls() {
        for (u, l) in [
            ("http://localhost:8080", true),
            ("http://127.0.0.1:8080", true),
            ("http://[::1]:8080", true),
            ("http://gateway.prod.example:8080", false),
            ("http://10.0.0.5", false),
        ] {
            assert_eq!(is_loopback(&Url::parse(u).unwrap()), l, "{u}");
        }
    }

    #[test]
    fn nothing_configured_means_builtin_stack_and_demo_secret() {
        let s = Settings::from_args(&args()).unwrap();
        assert!(s.uses_builtin_stack());
        assert_eq!(s.jwt_secret_source, SecretSource::DemoDefault);
        assert!(s.warnings().is_empty());
    }

    #[test]
    fn demo_secret_against_a_real_gateway_warns() {
        let s = Settings::from_args(&GlobalArgs {
            gateway_url: Some("http://gw.example:8080".into()),
            ..args()
        })
        .unwrap();
        assert!(!s.uses_builtin_stack());
        assert!(s.warnings()[0].contains("public STOA demo JWT secret"));
        let s = Settings::from_args(&GlobalArgs {
            gateway_url: Some("http://gw.example:8080".into()),
            jwt_secret: Some("real".into()),
            ..args()
        })
        .unwrap();
        assert!(s.warnings().is_empty());
    }

    #[test]
    fn secret_file_is_read_and_bad_one_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        std::fs::write(&path, "s3cret\n").unwrap();
        let s = Settings::from_args(&GlobalArgs {
            jwt_secret_file: Some(path),
            ..args()
        })
        .unwrap();
        assert_eq!(s.jwt_secret.expose(), "s3cret");
        let e = Settings::from_args(&GlobalArgs {
            jwt_secret_file: Some(dir.path().join("missing")),
            ..args()
        })
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("cannot read --jwt-secret-file"), "{e}");
        assert!(e.contains("not found"), "{e}");
    }

    #[test]
    fn endpoint_gets_a_leading_slash() {
        let s = Settings::from_args(&GlobalArgs {
            endpoint: Some("mcp/v1/".into()),
            ..args()
        })
        .unwrap();
        assert_eq!(s.endpoint.as_deref(), Some("/mcp/v1/"));
    }
}
