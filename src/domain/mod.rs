//! The certificate domain: client records, health, fingerprints and bound tokens.

pub mod client;
pub mod fingerprint;
pub mod health;
pub mod token;

pub use client::{Client, ClientStatus, RowProblem};
pub use fingerprint::{Fingerprint, FingerprintError, FingerprintForm};
pub use health::Health;
