//! What people look at in a browser or a mail client: HTML built from a
//! [`Report`](crate::report::Report) and reading rows, shared by the weekly
//! digest (`digest::render`) and the daemon's status page (`metrics`).
//!
//! Below `digest` and `metrics`, above `report`: it renders, it never
//! reads the store itself.

pub mod fragments;
pub mod status;
