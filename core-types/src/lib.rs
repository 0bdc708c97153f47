//! `kybern-core`: the Kubernetes object model in Rust — metadata, kinds, selectors, quantities,
//! validation, defaulting, JSON Schema and manifest loading.
//!
//! **Architecture Invariant:** this crate knows nothing about tokio, storage or the network: no
//! IO, no async. Every other Kybern crate builds on it.

pub mod api;
pub mod bytes;
pub mod dynamic;
pub mod intstr;
pub mod quantity;
pub mod resource;
pub mod time;
pub mod validation;

pub use bytes::ByteString;
pub use dynamic::{DynamicObject, TypeMeta};
pub use intstr::IntOrString;
pub use quantity::Quantity;
pub use resource::{
    ApiResource, GroupVersionKind, GroupVersionResource, ObjectRef, Resource, Scope, TypedResource,
};
pub use time::{MicroTime, Time};
pub use validation::{ErrorList, FieldError, FieldPath, Validate};
