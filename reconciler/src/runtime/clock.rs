//! `Clock`: the one seam through which the runtime reads time, so queues, backoff, leases and
//! events all run on tokio's (pausable) clock and tests advance virtual time instead of sleeping.
//!
//! Durations and deadlines use [`tokio::time::Instant`], which `tokio::time::pause()` freezes
//! and `tokio::time::advance` moves. Wall-clock timestamps (a Lease's `renewTime`, an Event's
//! `lastTimestamp`) are derived from the same clock: a wall time fixed when the clock was made
//! plus the tokio time elapsed since, so they move with virtual time too.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::time::Instant;

/// A source of monotonic and wall time.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The monotonic now (tokio's clock: paused and advanced in tests).
    fn now(&self) -> Instant;
    /// The wall-clock now, consistent with [`Clock::now`].
    fn wall(&self) -> Timestamp;
}

/// The default clock: tokio's monotonic clock, with wall time anchored when created.
#[derive(Clone, Debug)]
pub struct TokioClock {
    base_instant: Instant,
    base_wall: Timestamp,
}

impl TokioClock {
    /// A clock whose wall time starts at the system's current time.
    pub fn new() -> Self {
        Self::starting_at(Timestamp::now())
    }

    /// A clock whose wall time starts at `wall` (deterministic timestamps in tests).
    pub fn starting_at(wall: Timestamp) -> Self {
        TokioClock {
            base_instant: Instant::now(),
            base_wall: wall,
        }
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for TokioClock {
    fn now(&self) -> Instant {
        Instant::now()
    }

    fn wall(&self) -> Timestamp {
        let elapsed = Instant::now().saturating_duration_since(self.base_instant);
        let span = jiff::SignedDuration::try_from(elapsed).unwrap_or(jiff::SignedDuration::MAX);
        self.base_wall.checked_add(span).unwrap_or(self.base_wall)
    }
}

/// A shared clock handle.
pub type SharedClock = Arc<dyn Clock>;

/// The default shared clock ([`TokioClock`]).
pub fn default_clock() -> SharedClock {
    Arc::new(TokioClock::new())
}

/// Converts a (possibly negative) difference of wall times to a `Duration`, clamping at zero.
pub fn wall_elapsed(from: Timestamp, to: Timestamp) -> Duration {
    let d = to.duration_since(from);
    Duration::try_from(d).unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn wall_time_follows_virtual_time() {
        let start = Timestamp::from_second(1_700_000_000).unwrap_or(Timestamp::UNIX_EPOCH);
        let clock = TokioClock::starting_at(start);
        tokio::time::advance(Duration::from_secs(90)).await;
        assert_eq!(wall_elapsed(start, clock.wall()), Duration::from_secs(90));
    }
}
