//! mtls-console: a terminal console for live mTLS certificate-binding demos
//! (RFC 8705) and for watching binding failures on a STOA gateway.

pub mod cli;
pub mod commands;
pub mod config;
pub mod domain;
pub mod logging;
pub mod secret;
pub mod store;
pub mod text;
