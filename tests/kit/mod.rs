//! The shared test kit of the integration tests (`tests/it/`) and the
//! benchmarks (`benches/`), so that each helper exists once:
//!
//! - [`mailstack`] and [`rt`]: the test mail stack (Postfix + Dovecot) and
//!   Request Tracker, found through `SUPPORT_PROBE_MAILSTACK` and
//!   `SUPPORT_PROBE_RT` or started for the process; [`gate`] keeps the
//!   modules of `tests/it` apart on them;
//! - [`config`]: probe configs from a builder, the persona blocks;
//! - [`run`]: the `probe` binary, run to its end or as a daemon;
//! - [`engine`]: the real engine wired on a config text;
//! - [`proxy`]: the one TCP fault proxy;
//! - [`fake_api`]: stateful fakes of the ticket APIs;
//! - [`digest_fixture`]: a fixed digest week, in memory and on disk;
//! - [`throughput`]: the throughput measure's run and its correctness check;
//! - [`bench`]: what only the benchmarks need (tables, statistics).
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
