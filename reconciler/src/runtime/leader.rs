//! Leader election on `coordination.k8s.io/v1` Lease objects (client-go's `leaderelection`
//! with a `LeaseLock`): one replica leads, the others wait to take over.
//!
//! # Protocol
//! - A candidate reads the Lease. It may take it when nobody holds it, or when the holder's
//!   record has not changed for `lease_duration` as observed *on the candidate's own clock*
//!   (client-go's observedTime: no clock-skew assumption). Taking it sets `holderIdentity`,
//!   `acquireTime`, `renewTime` and bumps `leaseTransitions`; every write carries the read
//!   `resourceVersion`, so two candidates never both win.
//! - The leader renews every `retry_period`. If no renewal succeeds within `renew_deadline`,
//!   it stops leading: the `leading` signal handed to its work fires (fencing), before any
//!   other candidate can see the lease expire, because `lease_duration > renew_deadline`.
//!
//! Defaults are client-go's: lease 15 s, renew deadline 10 s, retry period 2 s.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use kybern_core::MicroTime;
use kybern_core::api::coordination::v1::{Lease, LeaseSpec};
use tokio::time::Instant;

use super::clock::{SharedClock, default_clock};
use super::shutdown::Shutdown;
use crate::api::Api;
use crate::store::StoreError;

/// Timing and identity of a candidate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaderElectionConfig {
    /// The Lease's name.
    pub lease_name: String,
    /// This candidate's identity (`holderIdentity`), unique per replica.
    pub identity: String,
    /// How long a lease stays valid after its last observed change (15 s).
    pub lease_duration: Duration,
    /// How long the leader keeps trying to renew before it gives up leading (10 s).
    pub renew_deadline: Duration,
    /// Time between acquire/renew attempts (2 s).
    pub retry_period: Duration,
}

impl LeaderElectionConfig {
    /// client-go's defaults for lease `lease_name` and candidate `identity`.
    pub fn new(lease_name: &str, identity: &str) -> Self {
        LeaderElectionConfig {
            lease_name: lease_name.to_owned(),
            identity: identity.to_owned(),
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }
}

/// Why leader election could not be configured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum LeaderElectionError {
    /// The timings break the fencing guarantee.
    #[error(
        "leader election: lease_duration ({lease_duration:?}) must be greater than renew_deadline ({renew_deadline:?}), which must be greater than retry_period ({retry_period:?})"
    )]
    BadTimings {
        /// Lease duration.
        lease_duration: Duration,
        /// Renew deadline.
        renew_deadline: Duration,
        /// Retry period.
        retry_period: Duration,
    },
    /// The identity is empty.
    #[error("leader election: identity must not be empty")]
    EmptyIdentity,
}

/// How a [`LeaderElector::run`] ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The candidate led, then could not renew in time and stopped.
    LostLease,
    /// The shutdown signal fired (the lease was released if held).
    Shutdown,
}

#[derive(Default)]
struct Observed {
    record: Option<LeaseSpec>,
    at: Option<Instant>,
}

/// A candidate for leadership of one Lease.
#[derive(Debug, Clone)]
pub struct LeaderElector {
    api: Api<Lease>,
    config: LeaderElectionConfig,
    clock: SharedClock,
}

fn duration_secs(d: Duration) -> i32 {
    i32::try_from(d.as_secs()).unwrap_or(i32::MAX)
}

impl LeaderElector {
    /// A candidate using the Leases of `api` (namespaced where the Lease lives).
    ///
    /// # Errors
    /// [`LeaderElectionError`] for an empty identity or timings without the fencing margin.
    pub fn new(api: Api<Lease>, config: LeaderElectionConfig) -> Result<Self, LeaderElectionError> {
        if config.identity.is_empty() {
            return Err(LeaderElectionError::EmptyIdentity);
        }
        if config.lease_duration <= config.renew_deadline
            || config.renew_deadline <= config.retry_period
        {
            return Err(LeaderElectionError::BadTimings {
                lease_duration: config.lease_duration,
                renew_deadline: config.renew_deadline,
                retry_period: config.retry_period,
            });
        }
        Ok(LeaderElector {
            api,
            config,
            clock: default_clock(),
        })
    }

    /// Uses `clock` for the Lease's timestamps.
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    fn now_micro(&self) -> MicroTime {
        MicroTime(self.clock.wall())
    }

    /// One acquire-or-renew attempt; `Ok(true)` when this candidate holds the lease after it.
    ///
    /// # Errors
    /// Store errors other than NotFound/Conflict (which mean "not acquired this time").
    pub async fn try_acquire_or_renew(
        &self,
        observed: &mut ObservedLease,
    ) -> Result<bool, StoreError> {
        let me = &self.config.identity;
        let now = Instant::now();
        let existing = self.api.get_opt(&self.config.lease_name).await?;
        let Some(mut lease) = existing else {
            let mut lease = Lease::default();
            lease.metadata.name = Some(self.config.lease_name.clone());
            lease.spec = Some(LeaseSpec {
                holder_identity: Some(me.clone()),
                lease_duration_seconds: Some(duration_secs(self.config.lease_duration)),
                acquire_time: Some(self.now_micro()),
                renew_time: Some(self.now_micro()),
                lease_transitions: Some(0),
                ..LeaseSpec::default()
            });
            return match self.api.create(&lease).await {
                Ok(created) => {
                    observed.0.record = created.spec;
                    observed.0.at = Some(now);
                    Ok(true)
                }
                Err(StoreError::AlreadyExists { .. }) => Ok(false),
                Err(e) => Err(e),
            };
        };
        let record = lease.spec.clone().unwrap_or_default();
        if observed.0.record.as_ref() != Some(&record) {
            observed.0.record = Some(record.clone());
            observed.0.at = Some(now);
        }
        let holder = record.holder_identity.as_deref().unwrap_or("");
        let held_by_me = holder == me;
        let expired = observed
            .0
            .at
            .is_none_or(|at| at + self.config.lease_duration <= now);
        if !holder.is_empty() && !held_by_me && !expired {
            return Ok(false);
        }
        let mut spec = record.clone();
        if !held_by_me {
            spec.acquire_time = Some(self.now_micro());
            spec.lease_transitions = Some(record.lease_transitions.unwrap_or(0) + 1);
            spec.holder_identity = Some(me.clone());
        }
        spec.lease_duration_seconds = Some(duration_secs(self.config.lease_duration));
        spec.renew_time = Some(self.now_micro());
        lease.spec = Some(spec);
        match self.api.update(&lease).await {
            Ok(updated) => {
                observed.0.record = updated.spec;
                observed.0.at = Some(now);
                Ok(true)
            }
            Err(e) if e.is_conflict() || e.is_not_found() => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Releases the lease if this candidate holds it (clears `holderIdentity`), so another
    /// can take over at once.
    ///
    /// # Errors
    /// Store errors.
    pub async fn release(&self) -> Result<(), StoreError> {
        let Some(mut lease) = self.api.get_opt(&self.config.lease_name).await? else {
            return Ok(());
        };
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        if spec.holder_identity.as_deref() != Some(self.config.identity.as_str()) {
            return Ok(());
        }
        spec.holder_identity = None;
        spec.renew_time = Some(self.now_micro());
        self.api.update(&lease).await.map(|_| ())
    }

    /// Campaigns until leading, runs `lead(leading)` while leading, and returns when the
    /// lease is lost (after `leading` fired and `lead` returned) or `shutdown` fires.
    ///
    /// `lead` must stop its work when `leading` fires (e.g. a controller's `cancel_on`).
    pub async fn run<F, Fut>(&self, shutdown: Shutdown, lead: F) -> Outcome
    where
        F: FnOnce(Shutdown) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let mut observed = ObservedLease::default();
        // Campaign.
        loop {
            if shutdown.is_triggered() {
                return Outcome::Shutdown;
            }
            match self.try_acquire_or_renew(&mut observed).await {
                Ok(true) => break,
                Ok(false) => {}
                Err(e) => tracing::debug!(error = %e, "leader election: acquire failed"),
            }
            tokio::select! {
                () = shutdown.wait() => return Outcome::Shutdown,
                () = tokio::time::sleep(self.config.retry_period) => {}
            }
        }
        tracing::info!(identity = %self.config.identity, lease = %self.config.lease_name, "became leader");
        let leading = Shutdown::new();
        let work = tokio::spawn(lead(leading.clone()));
        // Renew.
        let mut last_renew = Instant::now();
        let outcome = loop {
            tokio::select! {
                () = shutdown.wait() => break Outcome::Shutdown,
                () = tokio::time::sleep(self.config.retry_period) => {}
            }
            match self.try_acquire_or_renew(&mut observed).await {
                Ok(true) => last_renew = Instant::now(),
                Ok(false) => {}
                Err(e) => tracing::debug!(error = %e, "leader election: renew failed"),
            }
            if Instant::now().saturating_duration_since(last_renew) >= self.config.renew_deadline
                || observed
                    .0
                    .record
                    .as_ref()
                    .and_then(|r| r.holder_identity.as_deref())
                    != Some(self.config.identity.as_str())
            {
                break Outcome::LostLease;
            }
        };
        leading.trigger();
        let _ = work.await;
        if outcome == Outcome::Shutdown
            && let Err(e) = self.release().await
        {
            tracing::debug!(error = %e, "leader election: release failed");
        }
        tracing::info!(identity = %self.config.identity, ?outcome, "stopped leading");
        outcome
    }

    /// The configuration.
    pub fn config(&self) -> &LeaderElectionConfig {
        &self.config
    }
}

/// What a candidate last saw of the Lease, and when (on its own clock).
#[derive(Default)]
pub struct ObservedLease(Observed);

impl std::fmt::Debug for ObservedLease {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ObservedLease")
            .field("record", &self.0.record)
            .finish_non_exhaustive()
    }
}

/// A shared elector handle.
pub type SharedElector = Arc<LeaderElector>;
