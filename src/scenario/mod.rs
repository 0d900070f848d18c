//! Scenarios: the runbook's sequences (seed, traffic, rotation, waits) as files,
//! run step by step with a presenter's controls.

pub mod model;
pub mod runner;

pub use model::{Action, OnFailure, Pick, Scenario, ScenarioError, Step};
pub use runner::{Control, Event, Report, Stage, StepState};
