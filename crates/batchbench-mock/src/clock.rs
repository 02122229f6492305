//! Wall-clock time and simulated pauses, in a module of their own so the stores (which stamp
//! times) and the response builders (which pace streams) need not reach into the server state.

use std::time::Duration;

/// Seconds since the Unix epoch.
pub fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Sleeps unless the duration is zero (time scale 0 never yields to the timer).
pub async fn pause(d: Duration) {
    if !d.is_zero() {
        tokio::time::sleep(d).await;
    }
}
