//! support-probe: a mystery shopper for vendor support.
//!
//! See ARCHITECTURE.md for the bird's-eye view and the code map.

pub mod channel;
pub mod clock;
pub mod model;
pub mod schedule;
pub mod store;
