//! `kybern-core`: the Kubernetes object model in Rust — metadata, kinds, selectors, quantities,
//! validation, defaulting, JSON Schema and manifest loading.
//!
//! **Architecture Invariant:** this crate knows nothing about tokio, storage or the network: no
//! IO, no async. Every other Kybern crate builds on it.

pub mod api;
pub mod bytes;
pub mod conditions;
pub mod crd;
pub mod decode;
pub mod defaults;
pub mod dynamic;
pub mod fields;
pub mod intstr;
pub mod labels;
pub mod list;
pub mod load;
pub mod object;
pub mod owner;
pub mod quantity;
pub mod registry;
pub mod resource;
pub mod schema;
pub mod status;
pub mod time;
pub mod validation;
mod yaml;

pub use bytes::ByteString;
pub use crd::{CustomResource, CustomResourceExt};
pub use defaults::SetDefaults;
pub use dynamic::{DynamicObject, TypeMeta};
pub use fields::{FieldSelector, Fields};
pub use intstr::{IntOrString, IntOrStringError};
pub use labels::{LabelMap, Labels, Selector};
pub use list::ObjectList;
pub use object::AnyObject;
pub use owner::{OwnerError, owner_reference};
pub use quantity::{Format, Quantity, QuantityError};
pub use registry::{Decoded, Registry};
pub use resource::{
    ApiResource, GroupVersionKind, GroupVersionResource, ObjectRef, Resource, Scope, TypedResource,
};
pub use status::StatusReason;
pub use time::{MicroTime, Time};
pub use validation::{ErrorList, FieldError, FieldPath, Validate};
