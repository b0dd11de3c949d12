//! This process's wall clock as Unix time, for every module that stamps or compares times.

use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the Unix epoch; `None` when the clock reads earlier, so that the caller
/// decides which way such a clock errs.
pub fn unix_secs() -> Option<i64> {
    SystemTime::now().duration_since(UNIX_EPOCH).ok().map(|d| d.as_secs() as i64)
}

/// Milliseconds since the Unix epoch; `None` when the clock reads earlier.
pub fn unix_ms() -> Option<i64> {
    SystemTime::now().duration_since(UNIX_EPOCH).ok().map(|d| d.as_millis() as i64)
}
