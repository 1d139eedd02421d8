//! The wall clock, in unix milliseconds: what a leader stamps on the writes it proposes and
//! what reads compare expiry deadlines with. Nothing in `apply` reads it.

use std::time::{SystemTime, UNIX_EPOCH};

pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
