//! `AnyObject`: an object-safe view of any object, typed or dynamic, for code that handles
//! mixed kinds (manifest loading, a generic store, printing tables).
//!
//! Generic code should prefer `K: Resource`; `Box<dyn AnyObject>` is for when the kind is only
//! known at runtime. Downcast with [`downcast_ref`] to get the typed struct back.

use std::any::Any;
use std::fmt;

use serde::Serialize;
use serde_json::Value;

use crate::api::meta::v1::ObjectMeta;
use crate::defaults::SetDefaults;
use crate::dynamic::DynamicObject;
use crate::resource::{GroupVersionKind, Resource, TypedResource};
use crate::validation::{ErrorList, Validate};

/// Any Kubernetes object behind a trait object: identity, metadata, JSON, validation, defaulting.
pub trait AnyObject: Any + Send + Sync + fmt::Debug {
    /// The object's group/version/kind.
    fn gvk(&self) -> GroupVersionKind;
    /// The object's metadata.
    fn meta(&self) -> &ObjectMeta;
    /// The object's metadata, mutably.
    fn meta_mut(&mut self) -> &mut ObjectMeta;
    /// The object as JSON, in upstream's wire form.
    ///
    /// # Errors
    /// Only if a custom kind's `Serialize` fails.
    fn to_json(&self) -> Result<Value, serde_json::Error>;
    /// Upstream's validation for the kind; every problem with its field path.
    fn validate(&self) -> ErrorList;
    /// Applies upstream's defaults for the kind (idempotent).
    fn set_defaults(&mut self);
    /// A boxed clone.
    fn clone_box(&self) -> Box<dyn AnyObject>;
    /// For downcasting to the concrete type.
    fn as_any(&self) -> &dyn Any;
    /// For downcasting to the concrete type, mutably.
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

impl<K> AnyObject for K
where
    K: TypedResource
        + Serialize
        + Validate
        + SetDefaults
        + Clone
        + fmt::Debug
        + Send
        + Sync
        + 'static,
{
    fn gvk(&self) -> GroupVersionKind {
        K::gvk()
    }
    fn meta(&self) -> &ObjectMeta {
        Resource::meta(self)
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        Resource::meta_mut(self)
    }
    fn to_json(&self) -> Result<Value, serde_json::Error> {
        serde_json::to_value(self)
    }
    fn validate(&self) -> ErrorList {
        Validate::validate(self)
    }
    fn set_defaults(&mut self) {
        SetDefaults::set_defaults(self)
    }
    fn clone_box(&self) -> Box<dyn AnyObject> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}

impl Clone for Box<dyn AnyObject> {
    fn clone(&self) -> Self {
        self.clone_box()
    }
}

/// Downcasts a trait object to a concrete kind.
pub fn downcast_ref<K: 'static>(obj: &dyn AnyObject) -> Option<&K> {
    obj.as_any().downcast_ref::<K>()
}

/// A dynamic object validates only what every kind shares: its metadata, with the generic
/// path-segment name rule and the namespace checked when present (its scope is unknown here).
/// It has no defaults.
impl AnyObject for DynamicObject {
    fn gvk(&self) -> GroupVersionKind {
        DynamicObject::gvk(self).unwrap_or_else(|| GroupVersionKind::new("", "", ""))
    }
    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }
    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
    fn to_json(&self) -> Result<Value, serde_json::Error> {
        Ok(self.to_value())
    }
    fn validate(&self) -> ErrorList {
        crate::validation::meta::validate_object_meta(
            &self.metadata,
            self.metadata.namespace.is_some(),
            crate::validation::names::name_is_path_segment,
            &crate::validation::FieldPath::new("metadata"),
        )
    }
    fn set_defaults(&mut self) {}
    fn clone_box(&self) -> Box<dyn AnyObject> {
        Box::new(self.clone())
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn as_any_mut(&mut self) -> &mut dyn Any {
        self
    }
}
