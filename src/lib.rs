//! mtls-console: a terminal console for live mTLS certificate-binding demos
//! (RFC 8705) and for watching binding failures on a STOA gateway.

pub mod cli;
pub mod commands;
pub mod config;
pub mod config_file;
pub mod control_plane;
pub mod domain;
pub mod gateway_log;
pub mod logging;
pub mod platform;
pub mod scenario;
pub mod scrape;
pub mod secret;
pub mod stack;
pub mod store;
pub mod text;
pub mod traffic;
pub mod tui;

/// Installs rustls' ring provider once; reqwest (built without a provider) needs it
/// before the first client is made.
pub fn init_tls() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// Reads a capture from `tests/fixtures` (unit tests).
#[cfg(test)]
pub(crate) fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}
