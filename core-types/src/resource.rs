//! Kind identity: `GroupVersionKind`, `GroupVersionResource`, `ApiResource`, `Scope`, and the
//! `Resource` trait every typed kind and `DynamicObject` implement.
//!
//! Identity is always typed, never a formatted string: a store keys objects by
//! [`ApiResource`] (group/resource + scope) and [`ObjectRef`]; code compares [`GroupVersionKind`]
//! values, never `kind == "replicaset"`.

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::api::meta::v1::ObjectMeta;

/// Whether objects of a kind live in a namespace or at cluster scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    /// Objects live in a namespace (`metadata.namespace` is required).
    Namespaced,
    /// Objects are cluster-wide (`metadata.namespace` must be empty).
    Cluster,
}

/// An API group, version and kind, e.g. `apps/v1, Kind=Deployment`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GroupVersionKind {
    /// API group; empty for the core ("legacy") group.
    pub group: Cow<'static, str>,
    /// API version within the group, e.g. `v1`.
    pub version: Cow<'static, str>,
    /// Kind, in CamelCase.
    pub kind: Cow<'static, str>,
}

impl GroupVersionKind {
    /// A GVK from static strings (no allocation).
    pub const fn from_static(
        group: &'static str,
        version: &'static str,
        kind: &'static str,
    ) -> Self {
        Self {
            group: Cow::Borrowed(group),
            version: Cow::Borrowed(version),
            kind: Cow::Borrowed(kind),
        }
    }

    /// A GVK from owned or borrowed strings.
    pub fn new(
        group: impl Into<Cow<'static, str>>,
        version: impl Into<Cow<'static, str>>,
        kind: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
        }
    }

    /// Splits an `apiVersion` (`v1`, `apps/v1`) and a kind into a GVK.
    pub fn from_api_version_kind(api_version: &str, kind: &str) -> Self {
        let (group, version) = split_api_version(api_version);
        Self::new(group.to_owned(), version.to_owned(), kind.to_owned())
    }

    /// The `apiVersion` string: `version` for the core group, `group/version` otherwise.
    pub fn api_version(&self) -> Cow<'_, str> {
        join_api_version(&self.group, &self.version)
    }
}

impl fmt::Display for GroupVersionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, Kind={}", self.api_version(), self.kind)
    }
}

/// An API group, version and resource (the plural, lower-case REST name), e.g. `apps/v1 deployments`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GroupVersionResource {
    /// API group; empty for the core group.
    pub group: Cow<'static, str>,
    /// API version within the group.
    pub version: Cow<'static, str>,
    /// Resource: the plural, lower-case name used in REST paths.
    pub resource: Cow<'static, str>,
}

impl fmt::Display for GroupVersionResource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            write!(f, "{}/{}", self.version, self.resource)
        } else {
            write!(f, "{}/{}/{}", self.group, self.version, self.resource)
        }
    }
}

/// Splits an `apiVersion` into `(group, version)`; the core group is `""`.
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    match api_version.rsplit_once('/') {
        Some((g, v)) => (g, v),
        None => ("", api_version),
    }
}

fn join_api_version<'a>(group: &'a str, version: &'a str) -> Cow<'a, str> {
    if group.is_empty() {
        Cow::Borrowed(version)
    } else {
        Cow::Owned(format!("{group}/{version}"))
    }
}

/// Everything needed to address a kind: its GVK, REST plural and scope.
///
/// Typed kinds produce theirs from constants without allocating; dynamic kinds carry one.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ApiResource {
    /// Group, version and kind.
    pub gvk: GroupVersionKind,
    /// The plural resource name, e.g. `deployments`.
    pub plural: Cow<'static, str>,
    /// Namespaced or cluster-scoped.
    pub scope: Scope,
}

impl ApiResource {
    /// The group/version/resource triple.
    pub fn gvr(&self) -> GroupVersionResource {
        GroupVersionResource {
            group: self.gvk.group.clone(),
            version: self.gvk.version.clone(),
            resource: self.plural.clone(),
        }
    }

    /// The `apiVersion` string.
    pub fn api_version(&self) -> Cow<'_, str> {
        self.gvk.api_version()
    }

    /// The kind.
    pub fn kind(&self) -> &str {
        &self.gvk.kind
    }

    /// Whether the kind is namespaced.
    pub fn is_namespaced(&self) -> bool {
        self.scope == Scope::Namespaced
    }
}

/// An object of some Kubernetes kind: it has metadata and knows its API identity.
///
/// Compiled-in kinds implement [`TypedResource`] too and have `DynamicType = ()`: their identity
/// is a set of constants. [`crate::DynamicObject`] has `DynamicType = ApiResource`: its identity
/// is supplied at runtime. Generic code (`Api<K>`, `Controller<K>`) is written once over this
/// trait, the way kube-rs's `Resource` works.
pub trait Resource {
    /// Runtime type information needed to name the kind: `()` for typed kinds.
    type DynamicType: Send + Sync + 'static;

    /// The API identity of the kind.
    fn api_resource(dt: &Self::DynamicType) -> ApiResource;

    /// The object's metadata.
    fn meta(&self) -> &ObjectMeta;

    /// The object's metadata, mutably.
    fn meta_mut(&mut self) -> &mut ObjectMeta;

    /// The object's name (`metadata.name`), or `""` when unset.
    fn name(&self) -> &str {
        self.meta().name.as_deref().unwrap_or("")
    }

    /// The object's namespace (`metadata.namespace`), if any.
    fn namespace(&self) -> Option<&str> {
        self.meta().namespace.as_deref()
    }
}

/// A compiled-in kind whose identity is known at compile time.
pub trait TypedResource: Resource<DynamicType = ()> {
    /// API group (`""` for core).
    const GROUP: &'static str;
    /// API version.
    const VERSION: &'static str;
    /// `apiVersion` as written in manifests (`v1`, `apps/v1`).
    const API_VERSION: &'static str;
    /// Kind.
    const KIND: &'static str;
    /// REST plural.
    const PLURAL: &'static str;
    /// Scope.
    const SCOPE: Scope;

    /// The kind's GVK, without allocating.
    fn gvk() -> GroupVersionKind {
        GroupVersionKind::from_static(Self::GROUP, Self::VERSION, Self::KIND)
    }
}

/// A typed reference to one object: its kind's identity, namespace and name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ObjectRef {
    /// The kind.
    pub resource: ApiResource,
    /// The namespace; `None` for cluster-scoped objects.
    pub namespace: Option<String>,
    /// The name.
    pub name: String,
}

impl ObjectRef {
    /// A reference to a typed object by namespace and name.
    pub fn new<K: TypedResource>(namespace: Option<&str>, name: &str) -> Self {
        Self {
            resource: K::api_resource(&()),
            namespace: namespace.map(str::to_owned),
            name: name.to_owned(),
        }
    }

    /// A reference to the given object.
    pub fn from_obj<K: Resource>(obj: &K, dt: &K::DynamicType) -> Self {
        Self {
            resource: K::api_resource(dt),
            namespace: obj.namespace().map(str::to_owned),
            name: obj.name().to_owned(),
        }
    }
}

impl fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.resource.kind())?;
        if !self.resource.gvk.group.is_empty() {
            write!(f, ".{}", self.resource.gvk.group)?;
        }
        match &self.namespace {
            Some(ns) => write!(f, " {ns}/{}", self.name),
            None => write!(f, " {}", self.name),
        }
    }
}

/// Implements [`Resource`] and [`TypedResource`] for a struct with a `metadata: ObjectMeta` field.
///
/// Used by the generated kinds and by [`crate::custom_resource!`].
#[macro_export]
macro_rules! impl_resource {
    ($ty:ty, group = $group:literal, version = $version:literal, kind = $kind:literal, plural = $plural:literal, scope = $scope:ident) => {
        impl $crate::Resource for $ty {
            type DynamicType = ();
            fn api_resource(_: &()) -> $crate::ApiResource {
                $crate::ApiResource {
                    gvk: $crate::GroupVersionKind::from_static($group, $version, $kind),
                    plural: ::std::borrow::Cow::Borrowed($plural),
                    scope: $crate::Scope::$scope,
                }
            }
            fn meta(&self) -> &$crate::api::meta::v1::ObjectMeta {
                &self.metadata
            }
            fn meta_mut(&mut self) -> &mut $crate::api::meta::v1::ObjectMeta {
                &mut self.metadata
            }
        }
        impl $crate::TypedResource for $ty {
            const GROUP: &'static str = $group;
            const VERSION: &'static str = $version;
            const API_VERSION: &'static str = if $group.is_empty() {
                $version
            } else {
                concat!($group, "/", $version)
            };
            const KIND: &'static str = $kind;
            const PLURAL: &'static str = $plural;
            const SCOPE: $crate::Scope = $crate::Scope::$scope;
        }
    };
}
