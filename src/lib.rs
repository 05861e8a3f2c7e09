//! support-probe: a mystery shopper for vendor support.
//!
//! See ARCHITECTURE.md for the bird's-eye view and the code map.

pub mod clock;
pub mod model;
pub mod store;
