//! `Action`: what a reconcile (or error policy) asks the controller to do next.

use std::time::Duration;

/// When to reconcile the object again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requeue {
    /// After this delay.
    After(Duration),
    /// After the queue's rate limiter's delay for this key (per-item exponential backoff,
    /// reset by the next successful reconcile).
    Backoff,
}

/// The outcome of a reconcile: wait for the next change, or also come back later.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Action {
    requeue: Option<Requeue>,
}

impl Action {
    /// Reconcile again after `duration` (or earlier, on a change).
    pub fn requeue(duration: Duration) -> Self {
        Action {
            requeue: Some(Requeue::After(duration)),
        }
    }

    /// Reconcile again after the rate limiter's backoff (the default for errors).
    pub fn requeue_with_backoff() -> Self {
        Action {
            requeue: Some(Requeue::Backoff),
        }
    }

    /// Reconcile again only when something the controller watches changes.
    pub fn await_change() -> Self {
        Action { requeue: None }
    }

    /// The requeue this action asks for.
    pub fn requeue_kind(&self) -> Option<Requeue> {
        self.requeue
    }
}
