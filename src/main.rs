use std::process::ExitCode;

use clap::Parser;
use color_eyre::eyre::Report;

use mtls_console::cli::{Cli, Command};
use mtls_console::config::Settings;
use mtls_console::{commands, logging};

fn main() -> ExitCode {
    logging::install_panic_hook(|| {});
    mtls_console::init_tls();
    let cli = Cli::parse();
    logging::init(cli.global.log_file.as_deref());
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => return fail(&Report::new(e)),
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(e) => fail(&e),
    }
}

async fn run(cli: Cli) -> color_eyre::Result<ExitCode> {
    let settings = Settings::from_args(&cli.global)?;
    for w in settings.warnings() {
        eprintln!("warning: {w}");
        tracing::warn!("{w}");
    }
    match cli.command {
        Some(Command::Clients(args)) => commands::clients::run(&settings, &args).await?,
        Some(Command::Seed(args)) => commands::seed::run(&settings, &args).await?,
        Some(Command::Serve(args)) => commands::serve::run(&settings, &args).await?,
        Some(Command::Token(args)) => commands::token::run(&settings, &args).await?,
        Some(Command::Metrics(args)) => commands::metrics::run(&settings, &args).await?,
        Some(Command::Traffic(args)) => {
            commands::traffic::run(&settings, &args).await?;
        }
        None => {
            color_eyre::eyre::bail!(
                "the full-screen console is not built yet: use a subcommand (see --help)"
            )
        }
    }
    Ok(ExitCode::SUCCESS)
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
