//! Logs go to a file, never to the terminal the console draws on; panics become
//! one line on screen and the full report in the log.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use tracing_subscriber::EnvFilter;

static LOG_PATH: OnceLock<PathBuf> = OnceLock::new();

/// The default log file in the platform's state (or cache) directory.
pub fn default_log_path() -> PathBuf {
    dirs::state_dir()
        .or_else(dirs::cache_dir)
        .unwrap_or_else(std::env::temp_dir)
        .join("mtls-console")
        .join("mtls-console.log")
}

/// Starts logging to `path` (level from `MTLS_CONSOLE_LOG_LEVEL`, default info).
/// A log that cannot be opened disables logging rather than stopping the console.
pub fn init(path: Option<&Path>) -> Option<PathBuf> {
    let path = path.map(Path::to_path_buf).unwrap_or_else(default_log_path);
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .ok()?;
    let filter = EnvFilter::try_from_env("MTLS_CONSOLE_LOG_LEVEL")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,hyper=warn,reqwest=warn"));
    let installed = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(Mutex::new(file))
        .try_init()
        .is_ok();
    if installed {
        let _ = LOG_PATH.set(path.clone());
    }
    Some(path)
}

pub fn log_path() -> Option<&'static Path> {
    LOG_PATH.get().map(PathBuf::as_path)
}

/// Replaces the default panic output (and its backtrace) by one line; the full
/// report, with backtrace, goes to the log. `screen_owned` says whether the
/// console holds the terminal; `restore` gives it back. A panic on the main thread
/// ends the program: the terminal is restored and the line printed. A panic in a
/// background task does not (the runtime contains it): while the console owns the
/// screen it is only logged, so nothing is written over the frame.
pub fn install_panic_hook(screen_owned: fn() -> bool, restore: fn()) {
    let (panic_hook, eyre_hook) = color_eyre::config::HookBuilder::default()
        .display_env_section(false)
        .into_hooks();
    let _ = eyre_hook.install();
    std::panic::set_hook(Box::new(move |info| {
        let report = panic_hook.panic_report(info).to_string();
        tracing::error!(target: "panic", "{report}");
        let main = std::thread::current().name() == Some("main");
        if !main && screen_owned() {
            return;
        }
        if main {
            restore();
        }
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown cause".into());
        let first = msg.lines().next().unwrap_or_default();
        match log_path() {
            Some(p) => eprintln!(
                "mtls-console: internal error: {first} (details in {})",
                p.display()
            ),
            None => eprintln!("mtls-console: internal error: {first}"),
        }
    }));
}
