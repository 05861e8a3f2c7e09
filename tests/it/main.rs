//! The integration tests: one test binary, one module per area, all on the
//! shared kit in `tests/kit/` (also used by the benchmarks). One area:
//! `cargo test --test it -- MODULE::`. The areas that use the mail stack
//! and RT find them through `SUPPORT_PROBE_MAILSTACK` and `SUPPORT_PROBE_RT`
//! (as `scripts/test` sets them), and take turns on them (`kit::gate`).
//!
//! Helpers panic with a message on purpose (a failed step fails the test),
//! hence the `unwrap_used` and `expect_used` allowances.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[allow(dead_code)]
#[path = "../kit/mod.rs"]
mod kit;

mod api_channels;
mod chaos;
mod cli;
mod clock_jumps;
mod config_errors;
mod contrib;
mod corpus;
mod digest_mail;
mod digest_render;
mod email_e2e;
mod faults;
mod languages;
mod mailstack_smoke;
mod report_cli;
mod report_rows;
mod restart;
mod review;
mod rt_helpdesk;
mod run_wait;
mod service;
mod status_outages;
mod status_page;
mod systemd_unit;
mod throughput;
