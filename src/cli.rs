//! Command-line definitions. Every global option also reads the runbook's
//! environment variable; secrets' values are never echoed by `--help`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "mtls-console",
    version,
    about = "Terminal console for live mTLS certificate-binding demos (RFC 8705)",
    long_about = "Terminal console for live mTLS certificate-binding demos (RFC 8705).\n\n\
        With no GATEWAY_URL, API_URL or DB_URL it runs a built-in loopback demo stack \
        (gateway, control plane, embedded SQLite registry)."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    /// Follow a gateway's JSON log to see which clients fail binding (PATH, or - for stdin)
    #[arg(long, value_name = "PATH")]
    pub gateway_log: Option<String>,
    /// Read the followed gateway log from its start instead of its end
    #[arg(long, requires = "gateway_log")]
    pub from_start: bool,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Args, Default)]
pub struct GlobalArgs {
    /// Gateway base URL (default: the built-in gateway)
    #[arg(long, env = "GATEWAY_URL", global = true, value_name = "URL")]
    pub gateway_url: Option<String>,

    /// Control Plane API base URL (default: the built-in control plane)
    #[arg(long, env = "API_URL", global = true, value_name = "URL")]
    pub api_url: Option<String>,

    /// Client registry: postgres://, postgresql://, postgresql+asyncpg:// or sqlite://FILE
    /// (default: an embedded SQLite registry seeded at start)
    #[arg(
        long,
        env = "DB_URL",
        global = true,
        value_name = "URL",
        hide_env_values = true
    )]
    pub db_url: Option<String>,

    /// Path the traffic targets (default: the gateway profile's checked path)
    #[arg(long, env = "ENDPOINT", global = true, value_name = "PATH")]
    pub endpoint: Option<String>,

    /// Tenant whose clients are shown and used
    #[arg(long, env = "TENANT", global = true, default_value = "acme")]
    pub tenant: String,

    /// HS256 secret for certificate-bound tokens (default: the STOA demo secret)
    #[arg(
        long,
        env = "JWT_SECRET",
        global = true,
        value_name = "SECRET",
        hide_env_values = true,
        conflicts_with = "jwt_secret_file"
    )]
    pub jwt_secret: Option<String>,

    /// Read the JWT secret from a file (one trailing newline is ignored)
    #[arg(long, env = "JWT_SECRET_FILE", global = true, value_name = "FILE")]
    pub jwt_secret_file: Option<PathBuf>,

    /// Bearer token for the Control Plane API (rotation)
    #[arg(
        long,
        env = "API_TOKEN",
        global = true,
        value_name = "TOKEN",
        hide_env_values = true
    )]
    pub api_token: Option<String>,

    /// Write private keys returned by rotations to DIR (files mode 0600); never shown
    #[arg(long, global = true, value_name = "DIR")]
    pub save_keys: Option<PathBuf>,

    /// Colour theme: dark, high-contrast, light, colour-blind, or one of your own (T cycles)
    #[arg(long, env = "MTLS_CONSOLE_THEME", global = true, value_name = "NAME")]
    pub theme: Option<String>,

    /// Language of the scenarios' talk track
    #[arg(long, env = "MTLS_CONSOLE_LANG", global = true, default_value = "en", value_parser = ["en", "fr"])]
    pub lang: String,

    /// Highest traffic rate allowed (default: 100 for a gateway off loopback, else none)
    #[arg(long, env = "MTLS_CONSOLE_MAX_TPS", global = true, value_name = "RATE")]
    pub max_tps: Option<f64>,

    /// Watch only: no traffic, no rotation, no seeding (for production gateways)
    #[arg(long, env = "MTLS_CONSOLE_READONLY", global = true)]
    pub readonly: bool,

    /// Config file (default: config.toml in the platform's config folder, if present)
    #[arg(long, env = "MTLS_CONSOLE_CONFIG", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Log file (default: mtls-console.log in the platform's state directory)
    #[arg(long, env = "MTLS_CONSOLE_LOG", global = true, value_name = "FILE")]
    pub log_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the tenant's clients with their certificate health
    Clients(ClientsArgs),
    /// Write the demo fleet (100 clients by default) into the registry, in one transaction
    Seed(SeedArgs),
    /// Run the built-in gateway and control plane on loopback until Ctrl-C
    Serve(ServeArgs),
    /// Mint a certificate-bound token for one client and print the request headers (for curl, wrk)
    Token(TokenArgs),
    /// Show the gateway's certificate-binding counters (once, or --watch)
    Metrics(MetricsArgs),
    /// Send certificate-bound traffic (80 % valid, 10 % header mismatch, 10 % JWT mismatch)
    Traffic(TrafficArgs),
    /// Run one of the runbook's scenarios (full, traffic-only, rotation) or your own
    Scenario(ScenarioArgs),
    /// Which clients fail certificate binding, read from a gateway's JSON log
    Failures(FailuresArgs),
    /// Print the effective settings and where each comes from (secrets hidden).
    ///
    /// The config file takes every global option by its long name, e.g.
    /// gateway-url = "http://localhost:8080", tenant = "acme", theme = "light",
    /// lang = "fr", and a subcommand's options in a section named after it
    /// ([traffic] tps = 20). Flags win over environment variables, which win over
    /// the file.
    Config,
}

#[derive(Debug, Args, Clone)]
pub struct FailuresArgs {
    /// The gateway's log (legacy or current gateway), or - for standard input
    #[arg(long, value_name = "PATH")]
    pub gateway_log: String,
    /// Only events of the last DURATION (30s, 10m, 2h, 1d)
    #[arg(long, value_name = "DURATION", value_parser = parse_since)]
    pub since: Option<std::time::Duration>,
    /// Print the table as JSON
    #[arg(long)]
    pub json: bool,
}

fn parse_since(s: &str) -> Result<std::time::Duration, String> {
    let t = s.trim();
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let n: u64 = num
        .parse()
        .map_err(|_| format!("{s:?}: write it like 30s, 10m, 2h or 1d"))?;
    let secs = match unit {
        "s" | "" => n,
        "m" => n * 60,
        "h" => n * 3600,
        "d" => n * 86_400,
        _ => return Err(format!("{s:?}: the unit is s, m, h or d")),
    };
    Ok(std::time::Duration::from_secs(secs))
}

#[derive(Debug, Args, Clone)]
pub struct ScenarioArgs {
    /// Built-in name, a name in the config folder's scenarios/, or a .toml file
    #[arg(value_name = "NAME", required_unless_present = "list")]
    pub name: Option<String>,
    /// The scenario's parameters in order (traffic-only: TPS SECONDS)
    #[arg(value_name = "ARG")]
    pub args: Vec<f64>,
    /// List the scenarios and where users put their own
    #[arg(long)]
    pub list: bool,
    /// Multiply every step's length (0.1: a ten times faster rehearsal)
    #[arg(long, default_value_t = 1.0, value_name = "FACTOR")]
    pub time_scale: f64,
    /// Print the final summary as JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args, Clone)]
pub struct TrafficArgs {
    /// Requests per second (0.1 to 50,000)
    #[arg(long, default_value_t = 10.0, value_name = "RATE", value_parser = parse_rate)]
    pub tps: f64,
    /// Seconds to run (default: until Ctrl-C)
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<f64>,
    /// Kinds and weights: valid, header-mismatch, jwt-mismatch, missing-header, invalid-cnf, no-cnf
    #[arg(long, default_value = "valid=80,header-mismatch=10,jwt-mismatch=10", value_parser = crate::traffic::mix::Mix::parse)]
    pub mix: crate::traffic::mix::Mix,
    /// Which gateway the traffic faces (auto: read from its /metrics)
    #[arg(long, value_enum, default_value_t)]
    pub gateway_profile: crate::traffic::profile::ProfileChoice,
    /// Certificate header name (custom profile)
    #[arg(long, value_name = "NAME")]
    pub cert_header: Option<String>,
    /// Proxy verification header name, sent as SUCCESS (custom profile)
    #[arg(long, value_name = "NAME")]
    pub verify_header: Option<String>,
    /// Requests in flight at most; a request finding none free is counted as dropped
    #[arg(long, default_value_t = 1024, value_name = "N")]
    pub max_in_flight: usize,
    /// Connections to the gateway at most (opened as the rate needs them)
    #[arg(long, default_value_t = 64, value_name = "N")]
    pub connections: usize,
    /// Per-request timeout, in seconds
    #[arg(long, default_value_t = 5.0, value_name = "SECONDS")]
    pub timeout: f64,
    /// Share of a client's valid requests sent with its previous certificate during grace
    #[arg(long, default_value_t = 0.5, value_name = "SHARE")]
    pub grace_share: f64,
    /// Share of valid requests that keep the previous certificate after its grace ended
    #[arg(long, default_value_t = 0.0, value_name = "SHARE")]
    pub after_grace_share: f64,
    /// Print the final summary as JSON
    #[arg(long)]
    pub json: bool,
    /// Exit non-zero if any outcome contradicted its intent
    #[arg(long)]
    pub fail_on_unexpected: bool,
}

fn parse_rate(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (crate::traffic::MIN_RATE..=crate::traffic::MAX_RATE).contains(&v) => Ok(v),
        Ok(_) => Err(format!(
            "the rate must be between {} and {} requests per second",
            crate::traffic::MIN_RATE,
            crate::traffic::MAX_RATE
        )),
        Err(e) => Err(e.to_string()),
    }
}

#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// A /metrics URL to scrape; repeat for several replicas (default: GATEWAY_URL/metrics)
    #[arg(long = "metrics-url", value_name = "URL")]
    pub metrics_urls: Vec<String>,
    /// Read the figures from a Prometheus server instead (one target per instance)
    #[arg(long, value_name = "URL", conflicts_with = "metrics_urls")]
    pub prometheus_url: Option<String>,
    /// Refresh in place at every interval until Ctrl-C
    #[arg(long)]
    pub watch: bool,
    /// Print JSON (with --watch: one object per line)
    #[arg(long)]
    pub json: bool,
    /// Scrape interval, in seconds
    #[arg(long, default_value_t = 1.0, value_name = "SECONDS", value_parser = parse_interval)]
    pub interval: f64,
    /// Also recognize this counter as a binding family (label reason/result/status)
    #[arg(long = "binding-metric", value_name = "NAME")]
    pub binding_metrics: Vec<String>,
}

fn parse_interval(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.1..=3600.0).contains(&v) => Ok(v),
        Ok(_) => Err("the interval must be between 0.1 and 3600 seconds".into()),
        Err(e) => Err(e.to_string()),
    }
}

#[derive(Debug, Args)]
pub struct TokenArgs {
    /// Client name, CN or id
    pub client: String,
    /// Bind to the previous certificate (during a grace period)
    #[arg(long)]
    pub previous: bool,
    /// Print a JSON object instead of header lines
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Gateway listen address (port 0: a free port, printed at start)
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub gateway_listen: std::net::SocketAddr,
    /// Control plane listen address (port 0: a free port, printed at start)
    #[arg(long, default_value = "127.0.0.1:8000", value_name = "ADDR")]
    pub api_listen: std::net::SocketAddr,
    /// Allow listening on addresses other than loopback
    #[arg(long)]
    pub allow_non_loopback: bool,
    /// Which STOA gateway to behave as
    #[arg(long, value_enum, default_value_t)]
    pub gateway_profile: crate::stack::binding::Profile,
    /// How the TLS proxy encodes the certificate header (legacy profile)
    #[arg(long, value_enum, default_value_t)]
    pub header_format: crate::stack::binding::HeaderFormat,
    /// Do not verify token signatures and expiry (the legacy middleware's behaviour)
    #[arg(long)]
    pub no_verify_signature: bool,
    /// Do not check certificates against the registry (revocation, grace periods)
    #[arg(long)]
    pub no_registry_check: bool,
    /// Rotations allowed per client per hour
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub rotate_limit: usize,
    /// Write the gateway's JSON-lines log of binding failures (legacy format) to FILE
    #[arg(long, value_name = "FILE")]
    pub gateway_log: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ClientsArgs {
    /// Print a JSON array instead of a table
    #[arg(long)]
    pub json: bool,
    /// Classify health as of this instant (RFC 3339) instead of now
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub now: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Args)]
pub struct SeedArgs {
    /// How many clients, in the demo's proportions (60/15/10/10/5 %)
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub count: u64,
    /// Print the outcome as JSON
    #[arg(long)]
    pub json: bool,
}

fn parse_time(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|e| format!("{e} (expected RFC 3339, e.g. 2026-12-04T15:07:00Z)"))
}
