//! `Api<K>`: typed access to one kind in any [`Store`], shaped like kube-rs's `Api<K>`.
//!
//! One generic implementation serves every kind — compiled-in kinds by type, any other kind
//! through [`DynamicObject`] and an [`ApiResource`]:
//!
//! ```
//! # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
//! use std::sync::Arc;
//! use kybern_core::api::core::v1::ConfigMap;
//! use kybern_reconciler::{Api, ListParams, MemoryStore, Store};
//!
//! let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
//! let cms: Api<ConfigMap> = Api::namespaced(store, "default");
//! let mut cm = ConfigMap::default();
//! cm.metadata.name = Some("settings".into());
//! cm.data.insert("color".into(), "blue".into());
//! let created = cms.create(&cm).await.unwrap();
//! assert_eq!(created.metadata.namespace.as_deref(), Some("default"));
//! let list = cms.list(&ListParams::default()).await.unwrap();
//! assert_eq!(list.items.len(), 1);
//! # });
//! ```

mod binding;
mod params;
mod scale;

use std::any::{Any, TypeId};
use std::marker::PhantomData;
use std::sync::Arc;

use futures::StreamExt as _;
use futures::stream::BoxStream;
use kybern_core::api::meta::v1::ListMeta;
use kybern_core::{ApiResource, DynamicObject, ObjectList, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

pub use params::{DeleteParams, ListParams, WatchParams};
pub use scale::{Scale, ScaleSpec, ScaleStatus};

use crate::store::{
    DeleteOutcome, ListOptions, Patch, PatchOptions, ResourceVersionMatch, Store, StoreError,
    WatchEvent, WatchEventRef, WatchOptions, WriteScope,
};

/// Typed access to objects of kind `K`, in one namespace or across all of them.
///
/// Cheap to clone. Objects are converted to and from the store's [`DynamicObject`] at this
/// edge (for `K = DynamicObject`, without a serde round trip).
pub struct Api<K> {
    store: Arc<dyn Store>,
    resource: ApiResource,
    namespace: Option<String>,
    _kind: PhantomData<fn() -> K>,
}

impl<K> Clone for Api<K> {
    fn clone(&self) -> Self {
        Api {
            store: self.store.clone(),
            resource: self.resource.clone(),
            namespace: self.namespace.clone(),
            _kind: PhantomData,
        }
    }
}

impl<K> std::fmt::Debug for Api<K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Api")
            .field("resource", &self.resource)
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
}

impl<K: Resource<DynamicType = ()>> Api<K> {
    /// Objects of `K` in namespace `ns` (for cluster-scoped kinds the namespace is ignored).
    pub fn namespaced(store: Arc<dyn Store>, ns: &str) -> Self {
        Self::new(store, K::api_resource(&()), Some(ns))
    }

    /// Objects of `K` in every namespace (lists and watches span all namespaces; create and
    /// update use the object's own namespace; get/delete address cluster-scoped objects).
    pub fn all(store: Arc<dyn Store>) -> Self {
        Self::new(store, K::api_resource(&()), None)
    }
}

impl Api<DynamicObject> {
    /// Objects of the kind `resource` names, in namespace `ns`.
    pub fn namespaced_with(store: Arc<dyn Store>, ns: &str, resource: &ApiResource) -> Self {
        Self::new(store, resource.clone(), Some(ns))
    }

    /// Objects of the kind `resource` names, in every namespace.
    pub fn all_with(store: Arc<dyn Store>, resource: &ApiResource) -> Self {
        Self::new(store, resource.clone(), None)
    }
}

impl<K> Api<K> {
    fn new(store: Arc<dyn Store>, resource: ApiResource, ns: Option<&str>) -> Self {
        let namespace = ns
            .filter(|n| !n.is_empty() && resource.is_namespaced())
            .map(str::to_owned);
        Api {
            store,
            resource,
            namespace,
            _kind: PhantomData,
        }
    }

    /// The kind this Api addresses.
    pub fn resource(&self) -> &ApiResource {
        &self.resource
    }

    /// The namespace, if this Api is namespaced.
    pub fn namespace(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// The underlying store.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }
}

/// `K` → `DynamicObject` (no serde round trip when `K` is `DynamicObject`).
fn to_dynamic<K: Serialize + Clone + 'static>(obj: &K) -> Result<DynamicObject, StoreError> {
    if let Some(d) = (obj as &dyn Any).downcast_ref::<DynamicObject>() {
        return Ok(d.clone());
    }
    let value = serde_json::to_value(obj).map_err(|e| StoreError::Serialization {
        kind: std::any::type_name::<K>().to_owned(),
        message: e.to_string(),
    })?;
    DynamicObject::from_value(value).map_err(|e| StoreError::Serialization {
        kind: std::any::type_name::<K>().to_owned(),
        message: e.to_string(),
    })
}

/// `DynamicObject` → `K` (no serde round trip when `K` is `DynamicObject`; no copy either when
/// `obj` is the only reference).
fn from_dynamic<K: DeserializeOwned + 'static>(obj: Arc<DynamicObject>) -> Result<K, StoreError> {
    if TypeId::of::<K>() == TypeId::of::<DynamicObject>() {
        return downcast(Box::new(Arc::unwrap_or_clone(obj)));
    }
    from_dynamic_ref(&obj)
}

/// `&DynamicObject` → `K`: a copy when `K` is `DynamicObject`; other kinds are decoded straight
/// from the stored object's fields, borrowed: neither the object nor its fields are copied first
/// (only the typed `metadata` goes through a `Value`).
fn from_dynamic_ref<K: DeserializeOwned + 'static>(obj: &DynamicObject) -> Result<K, StoreError> {
    if TypeId::of::<K>() == TypeId::of::<DynamicObject>() {
        return downcast(Box::new(obj.clone()));
    }
    decode_borrowed(obj).map_err(|e| StoreError::Serialization {
        kind: obj
            .types
            .as_ref()
            .map(|t| t.kind.clone())
            .unwrap_or_default(),
        message: e.to_string(),
    })
}

/// A `DynamicObject` as `K` when they are the same type.
fn downcast<K: 'static>(obj: Box<DynamicObject>) -> Result<K, StoreError> {
    let boxed: Box<dyn Any> = obj;
    boxed
        .downcast::<K>()
        .map(|k| *k)
        .map_err(|_| StoreError::Internal {
            message: "object conversion lost its type".into(),
        })
}

/// A watch event of a batch as a typed event.
fn typed_event<K: DeserializeOwned + 'static>(
    ev: WatchEventRef<'_>,
) -> Result<WatchEvent<K>, StoreError> {
    match ev {
        WatchEvent::Added(o) => from_dynamic_ref(o).map(WatchEvent::Added),
        WatchEvent::Modified(o) => from_dynamic_ref(o).map(WatchEvent::Modified),
        WatchEvent::Deleted(o) => from_dynamic_ref(o).map(WatchEvent::Deleted),
        WatchEvent::Bookmark(b) => Ok(WatchEvent::Bookmark(b)),
    }
}

/// Deserializes `K` from the fields [`DynamicObject::to_value`] would produce (`apiVersion`,
/// `kind`, `metadata`, then the other fields; a field of `data` named like one of the first
/// three replaces it, as there), reading `data` in place.
fn decode_borrowed<K: DeserializeOwned>(obj: &DynamicObject) -> Result<K, serde_json::Error> {
    let metadata = serde_json::to_value(&obj.metadata)?;
    let types = obj.types.as_ref().map(|t| {
        [
            Value::String(t.api_version.clone()),
            Value::String(t.kind.clone()),
        ]
    });
    let mut fields: Vec<(&str, &Value)> = Vec::with_capacity(obj.data.len() + 3);
    if let Some([api_version, kind]) = &types {
        fields.push(("apiVersion", api_version));
        fields.push(("kind", kind));
    }
    fields.push(("metadata", &metadata));
    fields.retain(|(k, _)| !obj.data.contains_key(*k));
    fields.extend(obj.data.iter().map(|(k, v)| (k.as_str(), v)));
    K::deserialize(serde::de::value::MapDeserializer::new(fields.into_iter()))
}

impl<K> Api<K>
where
    K: Resource + Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
{
    fn ns(&self) -> Option<&str> {
        self.namespace.as_deref()
    }

    /// Converts `obj` for a write, filling or checking its namespace against this Api's.
    fn outgoing(&self, obj: &K) -> Result<DynamicObject, StoreError> {
        let mut d = to_dynamic(obj)?;
        if !self.resource.is_namespaced() {
            return Ok(d);
        }
        match (&self.namespace, d.metadata.namespace.as_deref()) {
            (Some(ns), None | Some("")) => d.metadata.namespace = Some(ns.clone()),
            (Some(ns), Some(own)) if own != ns => {
                return Err(StoreError::bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request",
                ));
            }
            _ => {}
        }
        Ok(d)
    }

    /// Reads one object.
    ///
    /// # Errors
    /// NotFound (`pods "x" not found`); Serialization if the stored object does not fit `K`.
    pub async fn get(&self, name: &str) -> Result<K, StoreError> {
        from_dynamic(self.store.get(&self.resource, self.ns(), name).await?)
    }

    /// Reads one object, `None` when it does not exist.
    ///
    /// # Errors
    /// As [`Api::get`], except NotFound.
    pub async fn get_opt(&self, name: &str) -> Result<Option<K>, StoreError> {
        match self.get(name).await {
            Ok(k) => Ok(Some(k)),
            Err(e) if e.is_not_found() => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Lists objects (one page when `limit` is set; follow `metadata.continue_`).
    ///
    /// # Errors
    /// See [`Store::list`].
    pub async fn list(&self, params: &ListParams) -> Result<ObjectList<K>, StoreError> {
        let options = ListOptions {
            namespace: self.namespace.clone(),
            label_selector: params.label_selector.clone(),
            field_selector: params.field_selector.clone(),
            limit: params.limit,
            continue_token: params.continue_token.clone(),
            resource_version: params.resource_version.clone(),
            resource_version_match: params.resource_version_match,
        };
        let page = self.store.list(&self.resource, &options).await?;
        let items = page
            .items
            .into_iter()
            .map(from_dynamic)
            .collect::<Result<Vec<K>, _>>()?;
        Ok(ObjectList {
            metadata: ListMeta {
                resource_version: Some(page.resource_version.to_string()),
                continue_: page.continue_token,
                remaining_item_count: page
                    .remaining_item_count
                    .and_then(|c| i64::try_from(c).ok()),
                ..ListMeta::default()
            },
            items,
        })
    }

    /// Creates an object; returns it as stored (uid, revision, generation set).
    ///
    /// # Errors
    /// See [`Store::create`].
    pub async fn create(&self, obj: &K) -> Result<K, StoreError> {
        from_dynamic(
            self.store
                .create(&self.resource, self.outgoing(obj)?)
                .await?,
        )
    }

    /// Replaces an object's spec and metadata (its `status` is kept); a set
    /// `metadata.resourceVersion` is a precondition.
    ///
    /// # Errors
    /// See [`Store::update`].
    pub async fn update(&self, obj: &K) -> Result<K, StoreError> {
        let d = self.outgoing(obj)?;
        from_dynamic(
            self.store
                .update(&self.resource, d, WriteScope::Main)
                .await?,
        )
    }

    /// Replaces only the object's `status` (the status subresource).
    ///
    /// # Errors
    /// See [`Store::update`].
    pub async fn update_status(&self, obj: &K) -> Result<K, StoreError> {
        let d = self.outgoing(obj)?;
        from_dynamic(self.store.update_status(&self.resource, d).await?)
    }

    /// Patches the main resource (merge or JSON patch).
    ///
    /// # Errors
    /// See [`Store::patch`].
    pub async fn patch(&self, name: &str, patch: &Patch) -> Result<K, StoreError> {
        self.patch_with(name, patch, &PatchOptions::default()).await
    }

    /// Patches the status subresource.
    ///
    /// # Errors
    /// See [`Store::patch`].
    pub async fn patch_status(&self, name: &str, patch: &Patch) -> Result<K, StoreError> {
        let options = PatchOptions {
            scope: WriteScope::Status,
            resource_version: None,
        };
        self.patch_with(name, patch, &options).await
    }

    /// Patches with explicit options (scope, resourceVersion precondition).
    ///
    /// # Errors
    /// See [`Store::patch`].
    pub async fn patch_with(
        &self,
        name: &str,
        patch: &Patch,
        options: &PatchOptions,
    ) -> Result<K, StoreError> {
        let obj = self
            .store
            .patch(&self.resource, self.ns(), name, patch, options)
            .await?;
        from_dynamic(obj)
    }

    /// Deletes an object, or marks it deleting when it has finalizers (including the
    /// `orphan` / `foregroundDeletion` finalizer its propagation policy adds).
    ///
    /// # Errors
    /// See [`Store::delete`].
    pub async fn delete(
        &self,
        name: &str,
        params: &DeleteParams,
    ) -> Result<DeleteOutcome<K>, StoreError> {
        let options = params.to_options();
        match self
            .store
            .delete(&self.resource, self.ns(), name, &options)
            .await?
        {
            DeleteOutcome::Deleted(o) => Ok(DeleteOutcome::Deleted(from_dynamic(o)?)),
            DeleteOutcome::Finalizing(o) => Ok(DeleteOutcome::Finalizing(from_dynamic(o)?)),
        }
    }

    /// Watches objects: a stream of events in revision order, ending after an error (Expired:
    /// relist and watch again from the list's revision). Reads the store through
    /// [`Store::watch_batches`] and converts each event
    /// from the borrowed object (one poll of the store per batch, no reference count per
    /// event).
    ///
    /// # Errors
    /// See [`Store::watch`].
    pub async fn watch(
        &self,
        params: &WatchParams,
    ) -> Result<BoxStream<'static, Result<WatchEvent<K>, StoreError>>, StoreError> {
        let options = WatchOptions {
            namespace: self.namespace.clone(),
            label_selector: params.label_selector.clone(),
            field_selector: params.field_selector.clone(),
            resource_version: params.resource_version.clone(),
            bookmarks: params.bookmarks,
            send_initial_events: params.send_initial_events.then_some(true),
            resource_version_match: params
                .send_initial_events
                .then_some(ResourceVersionMatch::NotOlderThan),
        };
        let batches = self.store.watch_batches(&self.resource, &options).await?;
        Ok(batches
            .flat_map(|item| {
                let events: Vec<_> = match item {
                    Ok(batch) => batch.iter().map(typed_event).collect(),
                    Err(e) => vec![Err(e)],
                };
                futures::stream::iter(events)
            })
            .boxed())
    }
}
