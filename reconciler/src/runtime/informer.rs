//! Informers: a watcher + reflector running in a task, feeding one cache that any number of
//! controllers read and subscribe to — and [`SharedInformers`], which hands every controller
//! asking for the same kind and selectors the same informer (one watch, one cache).

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use futures::StreamExt as _;
use kybern_core::ApiResource;

use super::Object;
use super::reflector::{Cache, CacheConfig, Reader};
use super::shutdown::Shutdown;
use super::watcher::{self, watcher};
use crate::api::Api;

/// A running list+watch feeding a cache. Cheap to clone.
pub struct Informer<K> {
    reader: Reader<K>,
    stop: Shutdown,
}

impl<K> Clone for Informer<K> {
    fn clone(&self) -> Self {
        Informer {
            reader: self.reader.clone(),
            stop: self.stop.clone(),
        }
    }
}

impl<K> fmt::Debug for Informer<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Informer").finish_non_exhaustive()
    }
}

impl<K: Object> Informer<K> {
    /// Starts an informer task (needs a tokio runtime); it runs until [`Informer::stop`].
    pub fn spawn(api: Api<K>, config: watcher::Config, cache: CacheConfig<K>) -> Self {
        let (writer, reader) = Cache::new(cache);
        let stop = Shutdown::new();
        let s = stop.clone();
        let kind = api.resource().plural.to_string();
        tokio::spawn(async move {
            // The events go straight into the cache (moved, not cloned as `reflector` does
            // to pass them on: nothing downstream reads them here).
            let mut writer = writer;
            let events = watcher(api, config);
            futures::pin_mut!(events);
            loop {
                tokio::select! {
                    () = s.wait() => break,
                    item = events.next() => match item {
                        Some(Ok(ev)) => writer.apply(ev),
                        Some(Err(e)) => tracing::debug!(%kind, error = %e, "informer: watch error"),
                        None => break,
                    }
                }
            }
        });
        Informer { reader, stop }
    }

    /// A reader of the informer's cache.
    pub fn reader(&self) -> Reader<K> {
        self.reader.clone()
    }

    /// Stops the informer's task (the cache keeps its last state).
    pub fn stop(&self) {
        self.stop.trigger();
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct InformerKey {
    type_id: TypeId,
    resource: ApiResource,
    namespace: Option<String>,
    label_selector: Option<String>,
    field_selector: Option<String>,
}

/// Informers shared by key (Rust type, kind, namespace, selectors): two controllers watching
/// Pods the same way share one watch and one cache. Cheap to clone.
#[derive(Clone, Default)]
pub struct SharedInformers {
    informers: Arc<Mutex<HashMap<InformerKey, Box<dyn Any + Send + Sync>>>>,
    stops: Arc<Mutex<Vec<Shutdown>>>,
}

impl fmt::Debug for SharedInformers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.informers.lock().map(|m| m.len()).unwrap_or_default();
        f.debug_struct("SharedInformers")
            .field("informers", &n)
            .finish()
    }
}

impl SharedInformers {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The informer for `api` + `config`, started on first request with the default cache
    /// configuration (namespace and owner-uid indexes).
    pub fn informer<K: Object>(&self, api: &Api<K>, config: &watcher::Config) -> Informer<K> {
        self.informer_with(api, config, CacheConfig::default)
    }

    /// As [`SharedInformers::informer`], with the cache configuration used if it is started.
    pub fn informer_with<K: Object>(
        &self,
        api: &Api<K>,
        config: &watcher::Config,
        cache: impl FnOnce() -> CacheConfig<K>,
    ) -> Informer<K> {
        let key = InformerKey {
            type_id: TypeId::of::<K>(),
            resource: api.resource().clone(),
            namespace: api.namespace().map(str::to_owned),
            label_selector: config.label_selector.clone(),
            field_selector: config.field_selector.clone(),
        };
        let mut map = self
            .informers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(existing) = map.get(&key).and_then(|b| b.downcast_ref::<Informer<K>>()) {
            return existing.clone();
        }
        let informer = Informer::spawn(api.clone(), config.clone(), cache());
        self.stops
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(informer.stop.clone());
        map.insert(key, Box::new(informer.clone()));
        informer
    }

    /// How many informers are running.
    pub fn len(&self) -> usize {
        self.informers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .len()
    }

    /// Whether none is running.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stops every informer.
    pub fn stop_all(&self) {
        for s in self
            .stops
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
        {
            s.trigger();
        }
    }
}
