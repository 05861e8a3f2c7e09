//! The correctness check of the throughput measure (`benches/throughput.rs`),
//! as a test: 50 vendors, one ticket-API fake each (the presets in turn),
//! 20 probes per vendor due at once against a per-day cap of 16, filed by
//! `Engine::file_due`; then, counted at the vendors and compared with the
//! store, every filed probe reached its own vendor exactly once, nothing
//! reached a vendor without a record, no vendor got more than its cap, and
//! exactly the probes beyond the cap were refused for it.

use crate::kit::throughput::{api_run, verify};

/// Probes per vendor: more than the cap, so that it bites for every vendor.
const ROUNDS: usize = 20;

#[tokio::test(flavor = "multi_thread")]
async fn filing_under_load_is_at_most_once_and_within_the_caps() {
    let run = api_run(ROUNDS, false, 0).await;
    verify(&run, ROUNDS);
}
