//! Events: `core/v1` Event objects recorded by controllers, with client-go's
//! `EventCorrelator` aggregation.
//!
//! - **Repeats**: the first occurrence of (involved object, type, reason, message) creates an
//!   Event named `<object name>.<hex nanoseconds>` in the object's namespace (`default` for
//!   cluster-scoped objects, as upstream); each repeat patches that Event: `count + 1` and a
//!   new `lastTimestamp`.
//! - **Similar events** (client-go's `EventAggregator`): events of one object with the same
//!   type and reason but different messages are tracked together; when the
//!   [`AGGREGATE_MAX_EVENTS`]th distinct message arrives within [`AGGREGATE_INTERVAL`] of the
//!   previous similar event, it is recorded as one aggregate Event with the message
//!   `(combined from similar events): <message>`, and every further similar event with a new
//!   message updates that aggregate (count, `lastTimestamp`, latest message). A gap longer
//!   than the interval starts counting afresh.
//!
//! Deviations: once over the threshold, client-go drops an *arbitrary* remembered message
//! (`PopAny` on a Go map); this recorder drops the oldest, so which message is forgotten is
//! deterministic. client-go's spam filter (a per-object token bucket) is not modelled.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use kybern_core::api::core::v1::{Event, EventSource, ObjectReference};
use kybern_core::{Resource, Time};
use serde_json::json;

use super::clock::{SharedClock, default_clock};
use crate::api::Api;
use crate::store::{Patch, Store, StoreError};

/// client-go's LRU bound on remembered events.
const MAX_REMEMBERED: usize = 4096;

/// Distinct messages of similar events that turn them into an aggregate (client-go's
/// `defaultAggregateMaxEvents`).
pub const AGGREGATE_MAX_EVENTS: usize = 10;

/// How long similar events are remembered since the last one (client-go's
/// `defaultAggregateIntervalInSeconds`, 10 minutes).
pub const AGGREGATE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(600);

/// How many later nanosecond suffixes an Event name may try when one is taken.
const NAME_ATTEMPTS: i128 = 16;

/// The prefix of an aggregate Event's message.
pub const AGGREGATE_MESSAGE_PREFIX: &str = "(combined from similar events): ";

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

/// Events that aggregate together: one object, type and reason (the component is the
/// recorder's own).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Similar {
    api_version: Option<String>,
    kind: Option<String>,
    namespace: Option<String>,
    name: Option<String>,
    uid: Option<String>,
    type_: EventType,
    reason: String,
}

/// The identity of a stored Event: its similar-events key plus the message (`None` for the
/// aggregate Event).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Correlation {
    similar: Similar,
    message: Option<String>,
}

/// Recent distinct messages of similar events.
#[derive(Debug)]
struct AggregateRecord {
    messages: VecDeque<String>,
    last: jiff::Timestamp,
}

#[derive(Debug, Default)]
struct Memory {
    /// Stored Events: correlation → (namespace, name).
    seen: HashMap<Correlation, (String, String)>,
    aggregates: HashMap<Similar, AggregateRecord>,
    /// The nanoseconds last used in an Event name: names stay unique when two Events about
    /// one object are created at the same instant (virtual time stands still in tests).
    last_nanos: i128,
}

impl Memory {
    /// Notes one more similar event with `message` at `now`; true when it must be recorded as
    /// the aggregate.
    fn aggregate(&mut self, similar: &Similar, message: &str, now: jiff::Timestamp) -> bool {
        if self.aggregates.len() >= MAX_REMEMBERED && !self.aggregates.contains_key(similar) {
            self.aggregates.clear();
        }
        let record = self
            .aggregates
            .entry(similar.clone())
            .or_insert_with(|| AggregateRecord {
                messages: VecDeque::new(),
                last: now,
            });
        if super::clock::wall_elapsed(record.last, now) > AGGREGATE_INTERVAL {
            record.messages.clear();
        }
        record.last = now;
        if !record.messages.iter().any(|m| m == message) {
            record.messages.push_back(message.to_owned());
        }
        if record.messages.len() < AGGREGATE_MAX_EVENTS {
            return false;
        }
        record.messages.pop_front();
        true
    }
}

/// Publishes Events on behalf of one component (`source.component`, `reportingComponent`).
#[derive(Debug, Clone)]
pub struct Recorder {
    store: Arc<dyn Store>,
    component: String,
    instance: String,
    clock: SharedClock,
    memory: Arc<Mutex<Memory>>,
}

impl Recorder {
    /// A recorder for `component` (e.g. `deployment-controller`) running as `instance`.
    pub fn new(store: Arc<dyn Store>, component: &str, instance: &str) -> Self {
        Recorder {
            store,
            component: component.to_owned(),
            instance: instance.to_owned(),
            clock: default_clock(),
            memory: Arc::default(),
        }
    }

    /// Uses `clock` for timestamps.
    pub fn with_clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, Memory> {
        self.memory
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records that `reason` happened to `object`: a new Event, a repeat of a stored one, or
    /// the aggregate of similar events (see the module docs).
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
        let wall = self.clock.wall();
        let now = Time(wall);
        let similar = Similar {
            api_version: object.api_version.clone(),
            kind: object.kind.clone(),
            namespace: object.namespace.clone(),
            name: object.name.clone(),
            uid: object.uid.clone(),
            type_,
            reason: reason.to_owned(),
        };
        let (key, message) = {
            let mut memory = self.memory();
            if memory.aggregate(&similar, message, wall) {
                let combined = format!("{AGGREGATE_MESSAGE_PREFIX}{message}");
                tracing::debug!(reason, "aggregating similar events");
                let key = Correlation {
                    similar,
                    message: None,
                };
                (key, combined)
            } else {
                let key = Correlation {
                    similar,
                    message: Some(message.to_owned()),
                };
                (key, message.to_owned())
            }
        };
        let previous = self.memory().seen.get(&key).cloned();
        if let Some((ns, name)) = previous
            && ns == namespace
            && let Some(existing) = api.get_opt(&name).await?
        {
            let count = existing.count.unwrap_or(1) + 1;
            let patch = Patch::Merge(json!({
                "count": count,
                "lastTimestamp": now,
                "message": message,
            }));
            match api.patch(&name, &patch).await {
                Ok(ev) => return Ok(ev),
                Err(e) if e.is_not_found() => {}
                Err(e) => return Err(e),
            }
        }
        let nanos = {
            let mut memory = self.memory();
            memory.last_nanos = self.clock.wall().as_nanosecond().max(memory.last_nanos + 1);
            memory.last_nanos
        };
        let mut event = Event {
            involved_object: object.clone(),
            reason: Some(reason.to_owned()),
            message: Some(message),
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
        event.metadata.namespace = Some(namespace.clone());
        // Two Events of one object in the same nanosecond (a paused test clock) would share a
        // name: the next nanoseconds are tried instead.
        let mut attempt = 0;
        let created = loop {
            event.metadata.name = Some(format!(
                "{}.{:x}",
                object.name.as_deref().unwrap_or("unknown"),
                nanos + attempt
            ));
            match api.create(&event).await {
                Ok(created) => break created,
                Err(StoreError::AlreadyExists { .. }) if attempt < NAME_ATTEMPTS => attempt += 1,
                Err(e) => return Err(e),
            }
        };
        let mut memory = self.memory();
        if memory.seen.len() >= MAX_REMEMBERED {
            memory.seen.clear();
        }
        memory.seen.insert(
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
