//! Helpers shared by the integration tests; each test file includes them with `mod support;`.
//!
//! Not every test binary uses every helper, hence the `dead_code` and `unused_imports` allowances.
#![allow(dead_code, unused_imports, clippy::unwrap_used, clippy::expect_used)]

pub mod config;
pub mod mailstack;
pub mod rt;

pub use mailstack::{FetchedMail, MailStack};
