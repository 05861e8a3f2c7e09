//! support-probe: a mystery shopper for vendor support.
//!
//! See ARCHITECTURE.md for the bird's-eye view and the code map.

pub mod channel;
pub mod classify;
pub mod cli;
pub mod clock;
pub mod config;
pub mod daemon;
pub mod demo;
pub mod digest;
pub mod duration;
pub mod engine;
#[cfg(test)]
mod layering;
pub mod metrics;
pub mod model;
pub mod quality;
pub mod report;
pub mod schedule;
pub mod store;
pub mod table;
#[cfg(test)]
mod testkit;
pub mod view;
