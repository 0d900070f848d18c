//! A gateway's own log, followed to see *which* clients fail binding: the
//! gateway's counters have no client label, its log does.

pub mod event;
pub mod follow;
pub mod tally;

pub use follow::Source;
pub use tally::{Attributor, ClientFailures, Tally};
