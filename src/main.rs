use std::process::ExitCode;

use clap::Parser;
use color_eyre::eyre::Report;

use mtls_console::cli::{Cli, Command};
use mtls_console::config::Settings;
use mtls_console::{commands, logging, tui};

fn main() -> ExitCode {
    logging::install_panic_hook(tui::is_active, tui::restore_terminal_if_active);
    mtls_console::init_tls();
    let cli = Cli::parse();
    logging::init(cli.global.log_file.as_deref());
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => return fail(&Report::new(e)),
    };
    let code = match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    };
    // Background tasks (a hung request, a slow scrape) must not hold the exit.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    code
}

async fn run(cli: Cli) -> color_eyre::Result<()> {
    let settings = Settings::from_args(&cli.global)?;
    let Some(command) = cli.command else {
        // The console shows its warnings in its own header.
        let opts = tui::Options {
            save_keys: cli.global.save_keys.clone(),
            theme: cli.global.theme.clone(),
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
    }
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
