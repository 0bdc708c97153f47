//! Events: `core/v1` Event objects recorded by controllers, with aggregation of repeats
//! (a simplified form of client-go's `EventCorrelator`).
//!
//! The first occurrence of (involved object, type, reason, message) creates an Event named
//! `<object name>.<hex nanoseconds>` in the object's namespace (`default` for cluster-scoped
//! objects, as upstream); each repeat patches that Event: `count + 1` and a new
//! `lastTimestamp`. client-go's similar-message aggregation and spam filter are not modelled.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use kybern_core::api::core::v1::{Event, EventSource, ObjectReference};
use kybern_core::{Resource, Time};
use serde_json::json;

use super::clock::{SharedClock, default_clock};
use crate::api::Api;
use crate::store::{Patch, Store, StoreError};

/// client-go's LRU bound on remembered events.
const MAX_REMEMBERED: usize = 4096;

/// An Event's type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventType {
    /// Nothing is wrong.
    Normal,
    /// Something may need attention.
    Warning,
}

impl EventType {
    /// Upstream's string.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Normal => "Normal",
            EventType::Warning => "Warning",
        }
    }
}

/// The `core/v1` reference to `obj`, for [`Recorder::publish`].
pub fn object_reference<K: Resource>(obj: &K, dt: &K::DynamicType) -> ObjectReference {
    let ar = K::api_resource(dt);
    let meta = obj.meta();
    ObjectReference {
        api_version: Some(ar.api_version().into_owned()),
        kind: Some(ar.kind().to_owned()),
        name: meta.name.clone(),
        namespace: meta.namespace.clone(),
        uid: meta.uid.clone(),
        resource_version: meta.resource_version.clone(),
        field_path: None,
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Correlation {
    kind: Option<String>,
    namespace: Option<String>,
    name: Option<String>,
    uid: Option<String>,
    type_: EventType,
    reason: String,
    message: String,
}

/// Publishes Events on behalf of one component (`source.component`, `reportingComponent`).
#[derive(Debug, Clone)]
pub struct Recorder {
    store: Arc<dyn Store>,
    component: String,
    instance: String,
    clock: SharedClock,
    seen: Arc<Mutex<HashMap<Correlation, (String, String)>>>,
    /// The nanoseconds last used in an Event name: names stay unique when two Events about
    /// one object are created at the same instant (virtual time stands still in tests).
    last_nanos: Arc<Mutex<i128>>,
}

impl Recorder {
    /// A recorder for `component` (e.g. `deployment-controller`) running as `instance`.
    pub fn new(store: Arc<dyn Store>, component: &str, instance: &str) -> Self {
        Recorder {
            store,
            component: component.to_owned(),
            instance: instance.to_owned(),
            clock: default_clock(),
            seen: Arc::default(),
            last_nanos: Arc::default(),
        }
    }

    /// Uses `clock` for timestamps.
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    /// Records that `reason` happened to `object`.
    ///
    /// # Errors
    /// Store errors creating or patching the Event.
    pub async fn publish(
        &self,
        object: &ObjectReference,
        type_: EventType,
        reason: &str,
        message: &str,
    ) -> Result<Event, StoreError> {
        let namespace = object
            .namespace
            .clone()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "default".to_owned());
        let api: Api<Event> = Api::namespaced(Arc::clone(&self.store), &namespace);
        let now = Time(self.clock.wall());
        let key = Correlation {
            kind: object.kind.clone(),
            namespace: object.namespace.clone(),
            name: object.name.clone(),
            uid: object.uid.clone(),
            type_,
            reason: reason.to_owned(),
            message: message.to_owned(),
        };
        let previous = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&key)
            .cloned();
        if let Some((ns, name)) = previous
            && ns == namespace
            && let Some(existing) = api.get_opt(&name).await?
        {
            let count = existing.count.unwrap_or(1) + 1;
            let patch = Patch::Merge(json!({
                "count": count,
                "lastTimestamp": now,
            }));
            match api.patch(&name, &patch).await {
                Ok(ev) => return Ok(ev),
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e),
            }
        }
        let nanos = {
            let mut last = self
                .last_nanos
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            *last = self.clock.wall().as_nanosecond().max(*last + 1);
            *last
        };
        let mut event = Event {
            involved_object: object.clone(),
            reason: Some(reason.to_owned()),
            message: Some(message.to_owned()),
            type_: Some(type_.as_str().to_owned()),
            count: Some(1),
            first_timestamp: Some(now),
            last_timestamp: Some(now),
            source: Some(EventSource {
                component: Some(self.component.clone()),
                host: None,
            }),
            reporting_component: Some(self.component.clone()),
            reporting_instance: Some(self.instance.clone()),
            ..Event::default()
        };
        event.metadata.name = Some(format!(
            "{}.{:x}",
            object.name.as_deref().unwrap_or("unknown"),
            nanos
        ));
        event.metadata.namespace = Some(namespace.clone());
        let created = api.create(&event).await?;
        let mut seen = self
            .seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if seen.len() >= MAX_REMEMBERED {
            seen.clear();
        }
        seen.insert(
            key,
            (namespace, created.metadata.name.clone().unwrap_or_default()),
        );
        Ok(created)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::store::MemoryStore;

    #[tokio::test(start_paused = true)]
    async fn two_events_about_one_object_at_one_instant_get_distinct_names() {
        let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
        let recorder = Recorder::new(store.clone(), "test-controller", "one");
        let object = ObjectReference {
            kind: Some("ConfigMap".into()),
            name: Some("settings".into()),
            namespace: Some("default".into()),
            ..ObjectReference::default()
        };
        let a = recorder
            .publish(&object, EventType::Normal, "First", "one")
            .await
            .unwrap();
        let b = recorder
            .publish(&object, EventType::Normal, "Second", "two")
            .await
            .unwrap();
        assert_ne!(a.metadata.name, b.metadata.name);
        // A repeat is counted on the first Event.
        let again = recorder
            .publish(&object, EventType::Normal, "First", "one")
            .await
            .unwrap();
        assert_eq!(again.metadata.name, a.metadata.name);
        assert_eq!(again.count, Some(2));
    }
}
