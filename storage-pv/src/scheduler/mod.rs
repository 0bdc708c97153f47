//! The scheduler's volume plugins for `kybern-scheduler`'s framework (feature `scheduler`):
//! [`volume_binding::VolumeBinding`], [`restrictions::VolumeRestrictions`] and
//! [`limits::NodeVolumeLimits`], reading a [`VolumeCache`] (a watch-fed snapshot of volumes,
//! claims and classes, never the store). VolumeBinding's PreBind is the one step that
//! writes; the PV controller ([`crate::controller::StorageController`]) completes the
//! binding and provisioning it asks for.
//!
//! ```no_run
//! # async fn doc(store: std::sync::Arc<dyn kybern_reconciler::Store>) -> Result<(), kybern_scheduler::Error> {
//! use kybern_reconciler::runtime::{SharedInformers, Shutdown};
//! use kybern_scheduler::Scheduler;
//! use kybern_storage::scheduler::{VolumeCache, volume_framework};
//!
//! let cache = VolumeCache::new();
//! cache.feed(store.clone(), &SharedInformers::new(), Shutdown::new()).await;
//! let profile = volume_framework("default-scheduler", store.clone(), cache, &Default::default())?;
//! let handle = Scheduler::builder(store).profile(profile).build()?.run().await?;
//! # drop(handle); Ok(()) }
//! ```

pub mod limits;
pub mod restrictions;
pub mod sim;
pub mod volume_binding;
pub mod volume_cache;

use std::sync::Arc;

use kybern_reconciler::Store;
use kybern_scheduler::framework::{Framework, FrameworkBuilder};
use kybern_scheduler::plugins::{DefaultPluginArgs, default_binder, default_builder};

pub use volume_cache::{VolumeCache, VolumeState};

/// Registers the three volume plugins on `builder` (PreFilter and Filter of each that has
/// them, VolumeBinding's Reserve/Unreserve and PreBind).
pub fn with_volume_plugins(
    builder: FrameworkBuilder,
    cache: VolumeCache,
    store: Arc<dyn Store>,
) -> FrameworkBuilder {
    let binding = volume_binding::VolumeBinding::new(cache.clone(), store);
    let restrictions = restrictions::VolumeRestrictions::new(cache.clone());
    let limits = limits::NodeVolumeLimits::new(cache);
    builder
        .pre_filter(restrictions)
        .pre_filter(limits.clone())
        .pre_filter(binding.clone())
        .filter(limits)
        .filter(binding.clone())
        .reserve(binding.clone())
        .pre_bind(binding)
}

/// Upstream's default profile with the volume plugins and DefaultBinder writing through
/// `store`.
///
/// # Errors
/// Invalid plugin arguments.
pub fn volume_framework(
    scheduler_name: &str,
    store: Arc<dyn Store>,
    cache: VolumeCache,
    args: &DefaultPluginArgs,
) -> Result<Framework, kybern_scheduler::Error> {
    with_volume_plugins(default_builder(scheduler_name, args)?, cache, store.clone())
        .bind(default_binder::DefaultBinder::new(store))
        .build()
}

/// Retries the scheduler's unschedulable pods when volumes, claims or classes change: every
/// change of `cache` becomes a wildcard cluster event on the scheduler's queue (the
/// scheduler's own intake watches only pods and nodes). Runs until `shutdown` fires.
pub fn requeue_on_volume_changes(
    scheduler: &kybern_scheduler::Scheduler,
    cache: &VolumeCache,
    shutdown: kybern_reconciler::runtime::Shutdown,
) {
    use kybern_scheduler::framework::{ActionType, ClusterEvent, EventObjects, EventResource};
    let scheduler = scheduler.clone();
    let mut changes = cache.subscribe();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                r = changes.changed() => if r.is_err() { break },
                () = shutdown.wait() => break,
            }
            scheduler.queue().with(|q, now| {
                q.on_event(
                    ClusterEvent::new(
                        EventResource::Wildcard,
                        ActionType::ADD | ActionType::UPDATE,
                    ),
                    EventObjects {
                        old: None,
                        new: None,
                    },
                    now,
                );
            });
        }
    });
}
