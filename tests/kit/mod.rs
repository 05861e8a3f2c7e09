//! The shared test kit of the integration tests (`tests/it/`) and the
//! benchmarks (`benches/`): the test mail stack and Request Tracker, probe
//! configs, the ticket-API fakes and the fixed digest week.
//!
//! Each binary includes it once (`#[path = ".../kit/mod.rs"] mod kit;`),
//! with `#[allow(dead_code)]` there, as no binary uses every part.

pub mod bench;
pub mod config;
pub mod digest_fixture;
pub mod engine;
pub mod fake_api;
pub mod gate;
pub mod mailstack;
pub mod proxy;
pub mod rt;
pub mod run;
pub mod throughput;

pub use mailstack::{FetchedMail, MailStack};
