use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};
use color_eyre::eyre::Report;

use mtls_console::cli::{Cli, Command};
use mtls_console::config::Settings;
use mtls_console::{commands, config_file, logging, tui};

fn main() -> ExitCode {
    logging::install_panic_hook(tui::is_active, tui::restore_terminal_if_active);
    mtls_console::init_tls();
    let argv: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let mut matches = match parse(&argv) {
        Ok(m) => m,
        Err(code) => return code,
    };
    let config = matches.get_one::<std::path::PathBuf>("config").cloned();
    let (path, file) = match config_file::load(config.as_deref()) {
        Ok(f) => f,
        Err(e) => return fail(&Report::new(e)),
    };
    // A subcommand's section in the file: its options, parsed as if typed last.
    match config_file::subcommand_args(&file, &Cli::command(), &matches) {
        Ok(extra) if !extra.is_empty() => {
            let full = argv
                .iter()
                .cloned()
                .chain(extra.into_iter().map(Into::into));
            matches = Cli::command().get_matches_from(full);
        }
        Ok(_) => {}
        Err(e) => return fail(&Report::new(e)),
    }
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let sources = config_file::apply(&mut cli.global, &file, &matches);
    logging::init(cli.global.log_file.as_deref());
    let mut warnings: Vec<String> = path
        .as_deref()
        .and_then(|p| config_file::exposure_warning(p, &file))
        .into_iter()
        .collect();
    if let Some(p) = &path {
        tracing::info!("config file: {}", p.display());
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => return fail(&Report::new(e)),
    };
    let loaded = commands::config::Loaded {
        path,
        sources,
        sections: file.section_lines(),
    };
    let code = match runtime.block_on(run(cli, loaded, std::mem::take(&mut warnings))) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    };
    // Background tasks (a hung request, a slow scrape) must not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    code
}

async fn run(
    cli: Cli,
    loaded: commands::config::Loaded,
    file_warnings: Vec<String>,
) -> color_eyre::Result<()> {
    if matches!(cli.command, Some(Command::Config)) {
        return commands::config::run(&cli.global, &loaded);
    }
    let mut settings = Settings::from_args(&cli.global)?;
    settings.extra_warnings = file_warnings;
    if cli.global.readonly
        && let Some((name, would)) = match &cli.command {
            Some(Command::Seed(_)) => Some(("seed", "write to the registry")),
            Some(Command::Traffic(_)) => Some(("traffic", "send traffic")),
            Some(Command::Scenario(a)) if !a.list => {
                Some(("scenario", "send traffic, rotate and seed"))
            }
            _ => None,
        }
    {
        color_eyre::eyre::bail!(
            "`{name}` would {would}, and --readonly (MTLS_CONSOLE_READONLY) is set: drop --readonly to run it"
        );
    }
    let Some(command) = cli.command else {
        // The console shows its warnings in its own header.
        let opts = tui::Options {
            save_keys: cli.global.save_keys.clone(),
            theme: cli.global.theme.clone(),
            readonly: cli.global.readonly,
            max_tps: cli.global.max_tps,
            gateway_log: cli
                .gateway_log
                .as_deref()
                .map(|p| mtls_console::gateway_log::Source::new(p, cli.from_start)),
            lang: cli.global.lang.clone(),
        };
        return tui::run(&settings, opts).await;
    };
    for w in settings.warnings() {
        eprintln!("warning: {w}");
        tracing::warn!("{w}");
    }
    match command {
        Command::Clients(args) => commands::clients::run(&settings, &args).await,
        Command::Seed(args) => commands::seed::run(&settings, &args).await,
        Command::Serve(args) => commands::serve::run(&settings, &args).await,
        Command::Token(args) => commands::token::run(&settings, &args).await,
        Command::Metrics(args) => commands::metrics::run(&settings, &args).await,
        Command::Traffic(args) => commands::traffic::run(&settings, &args).await,
        Command::Scenario(args) => commands::scenario::run(&settings, &args).await,
        Command::Failures(args) => commands::failures::run(&settings, &args).await,
        Command::Config => Ok(()),
    }
}

/// Parses the command line; a usage error is one line on standard error (help
/// and version print as clap writes them).
fn parse(argv: &[std::ffi::OsString]) -> Result<clap::ArgMatches, ExitCode> {
    use clap::error::ErrorKind;
    Cli::command().try_get_matches_from(argv).map_err(|e| {
        if matches!(
            e.kind(),
            ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
        ) {
            e.exit();
        }
        let text = e.render().to_string();
        let parts: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with("For more information"))
            .collect();
        eprintln!("{}; see --help", parts.join(" "));
        ExitCode::from(2)
    })
}

/// One line on standard error: the error and its causes, never a backtrace.
fn fail(report: &Report) -> ExitCode {
    let mut parts: Vec<String> = Vec::new();
    for cause in report.chain() {
        let s = cause.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
    }
    let line = parts.join(": ").replace('\n', " ");
    tracing::error!("{line}");
    eprintln!("error: {line}");
    ExitCode::FAILURE
}
