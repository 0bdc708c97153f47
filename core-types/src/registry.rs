//! `Registry`: GroupVersionKind ↔ GroupVersionResource ↔ scope, and decoding dynamic objects
//! into typed ones.
//!
//! The registry is open: [`Registry::builtin`] knows every compiled-in kind, and callers add
//! their own typed kinds ([`Registry::register`]), dynamic kinds ([`Registry::register_resource`])
//! or everything a CustomResourceDefinition serves ([`Registry::register_crd`]). Nothing here is a
//! closed enum of kinds.

use std::collections::HashMap;

use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::api::apiextensions::v1::CustomResourceDefinition;
use crate::decode::{DecodeError, decode_strict};
use crate::dynamic::DynamicObject;
use crate::object::AnyObject;
use crate::resource::{ApiResource, GroupVersionKind, GroupVersionResource, Scope, TypedResource};

type Decoder = fn(Value) -> Result<(Box<dyn AnyObject>, Vec<String>), DecodeError>;

/// What the registry knows about one GVK.
#[derive(Clone)]
struct Entry {
    resource: ApiResource,
    decoder: Option<Decoder>,
    removed: Option<&'static str>,
}

fn decode_boxed<K>(value: Value) -> Result<(Box<dyn AnyObject>, Vec<String>), DecodeError>
where
    K: TypedResource + DeserializeOwned + AnyObject,
{
    decode_strict::<K>(value)
        .map(|(k, unknown)| (Box::new(k) as Box<dyn AnyObject>, unknown))
        .map_err(|mut e| {
            e.type_name = <K as TypedResource>::gvk().to_string();
            e
        })
}

/// The result of [`Registry::decode`].
#[derive(Debug)]
pub enum Decoded {
    /// The kind has a compiled-in struct; here it is, with the fields it did not know
    /// (dropped, as upstream drops them; report them as warnings).
    Typed {
        /// The typed object.
        object: Box<dyn AnyObject>,
        /// Dotted paths of unknown fields, e.g. `spec.template.spec.containers[0].imagePullPolicyy`.
        unknown_fields: Vec<String>,
    },
    /// The kind is known but has no struct (a custom resource, or a registered dynamic kind).
    Dynamic(DynamicObject, ApiResource),
    /// An API version upstream no longer serves: kept whole as a dynamic object, with a note
    /// naming the replacement.
    Removed(DynamicObject, &'static str),
    /// Nothing is registered for this GVK: kept whole as a dynamic object.
    Unknown(DynamicObject),
}

/// Maps kinds to resources and scopes, and decodes dynamic objects into typed ones.
#[derive(Clone, Default)]
pub struct Registry {
    by_kind: HashMap<GroupVersionKind, Entry>,
    by_resource: HashMap<GroupVersionResource, GroupVersionKind>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("kinds", &self.by_kind.len())
            .finish()
    }
}

/// API versions upstream has removed (or deprecated in favour of another), kept so that
/// manifests using them load as dynamic objects with a clear note instead of an error.
const REMOVED: &[(&str, &str, &str, &str, Scope, &str)] = &[
    (
        "extensions",
        "v1beta1",
        "DaemonSet",
        "daemonsets",
        Scope::Namespaced,
        "extensions/v1beta1 DaemonSet was removed in Kubernetes 1.16; use apps/v1",
    ),
    (
        "extensions",
        "v1beta1",
        "Deployment",
        "deployments",
        Scope::Namespaced,
        "extensions/v1beta1 Deployment was removed in Kubernetes 1.16; use apps/v1",
    ),
    (
        "extensions",
        "v1beta1",
        "ReplicaSet",
        "replicasets",
        Scope::Namespaced,
        "extensions/v1beta1 ReplicaSet was removed in Kubernetes 1.16; use apps/v1",
    ),
    (
        "extensions",
        "v1beta1",
        "Ingress",
        "ingresses",
        Scope::Namespaced,
        "extensions/v1beta1 Ingress was removed in Kubernetes 1.22; use networking.k8s.io/v1",
    ),
    (
        "extensions",
        "v1beta1",
        "NetworkPolicy",
        "networkpolicies",
        Scope::Namespaced,
        "extensions/v1beta1 NetworkPolicy was removed in Kubernetes 1.16; use networking.k8s.io/v1",
    ),
    (
        "extensions",
        "v1beta1",
        "PodSecurityPolicy",
        "podsecuritypolicies",
        Scope::Cluster,
        "PodSecurityPolicy was removed in Kubernetes 1.25; use Pod Security Admission",
    ),
    (
        "apps",
        "v1beta1",
        "Deployment",
        "deployments",
        Scope::Namespaced,
        "apps/v1beta1 was removed in Kubernetes 1.16; use apps/v1",
    ),
    (
        "apps",
        "v1beta1",
        "StatefulSet",
        "statefulsets",
        Scope::Namespaced,
        "apps/v1beta1 was removed in Kubernetes 1.16; use apps/v1",
    ),
    (
        "apps",
        "v1beta2",
        "Deployment",
        "deployments",
        Scope::Namespaced,
        "apps/v1beta2 was removed in Kubernetes 1.16; use apps/v1",
    ),
    (
        "apps",
        "v1beta2",
        "StatefulSet",
        "statefulsets",
        Scope::Namespaced,
        "apps/v1beta2 was removed in Kubernetes 1.16; use apps/v1",
    ),
    (
        "apps",
        "v1beta2",
        "DaemonSet",
        "daemonsets",
        Scope::Namespaced,
        "apps/v1beta2 was removed in Kubernetes 1.16; use apps/v1",
    ),
    (
        "apps",
        "v1beta2",
        "ReplicaSet",
        "replicasets",
        Scope::Namespaced,
        "apps/v1beta2 was removed in Kubernetes 1.16; use apps/v1",
    ),
    (
        "batch",
        "v1beta1",
        "CronJob",
        "cronjobs",
        Scope::Namespaced,
        "batch/v1beta1 CronJob was removed in Kubernetes 1.25; use batch/v1",
    ),
    (
        "policy",
        "v1beta1",
        "PodDisruptionBudget",
        "poddisruptionbudgets",
        Scope::Namespaced,
        "policy/v1beta1 PodDisruptionBudget was removed in Kubernetes 1.25; use policy/v1",
    ),
    (
        "policy",
        "v1beta1",
        "PodSecurityPolicy",
        "podsecuritypolicies",
        Scope::Cluster,
        "PodSecurityPolicy was removed in Kubernetes 1.25; use Pod Security Admission",
    ),
    (
        "networking.k8s.io",
        "v1beta1",
        "Ingress",
        "ingresses",
        Scope::Namespaced,
        "networking.k8s.io/v1beta1 Ingress was removed in Kubernetes 1.22; use networking.k8s.io/v1",
    ),
    (
        "rbac.authorization.k8s.io",
        "v1beta1",
        "ClusterRole",
        "clusterroles",
        Scope::Cluster,
        "rbac.authorization.k8s.io/v1beta1 was removed in Kubernetes 1.22; use v1",
    ),
    (
        "rbac.authorization.k8s.io",
        "v1beta1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        Scope::Cluster,
        "rbac.authorization.k8s.io/v1beta1 was removed in Kubernetes 1.22; use v1",
    ),
    (
        "rbac.authorization.k8s.io",
        "v1beta1",
        "Role",
        "roles",
        Scope::Namespaced,
        "rbac.authorization.k8s.io/v1beta1 was removed in Kubernetes 1.22; use v1",
    ),
    (
        "rbac.authorization.k8s.io",
        "v1beta1",
        "RoleBinding",
        "rolebindings",
        Scope::Namespaced,
        "rbac.authorization.k8s.io/v1beta1 was removed in Kubernetes 1.22; use v1",
    ),
    (
        "storage.k8s.io",
        "v1beta1",
        "StorageClass",
        "storageclasses",
        Scope::Cluster,
        "storage.k8s.io/v1beta1 StorageClass is deprecated; use storage.k8s.io/v1",
    ),
    (
        "autoscaling",
        "v2beta1",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        Scope::Namespaced,
        "autoscaling/v2beta1 was removed in Kubernetes 1.25; use autoscaling/v2",
    ),
    (
        "autoscaling",
        "v2beta2",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        Scope::Namespaced,
        "autoscaling/v2beta2 was removed in Kubernetes 1.26; use autoscaling/v2",
    ),
    (
        "admissionregistration.k8s.io",
        "v1alpha1",
        "InitializerConfiguration",
        "initializerconfigurations",
        Scope::Cluster,
        "InitializerConfiguration was removed in Kubernetes 1.14 (the alpha Initializers feature is gone)",
    ),
];

/// Served upstream kinds that have no compiled-in struct yet: known identity, dynamic data.
const DYNAMIC_BUILTIN: &[(&str, &str, &str, &str, Scope)] = &[
    (
        "",
        "v1",
        "ReplicationController",
        "replicationcontrollers",
        Scope::Namespaced,
    ),
    ("", "v1", "PodTemplate", "podtemplates", Scope::Namespaced),
    (
        "",
        "v1",
        "ComponentStatus",
        "componentstatuses",
        Scope::Cluster,
    ),
    (
        "apiregistration.k8s.io",
        "v1",
        "APIService",
        "apiservices",
        Scope::Cluster,
    ),
    ("events.k8s.io", "v1", "Event", "events", Scope::Namespaced),
    (
        "autoscaling",
        "v1",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscalers",
        Scope::Namespaced,
    ),
    (
        "admissionregistration.k8s.io",
        "v1",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        Scope::Cluster,
    ),
    (
        "admissionregistration.k8s.io",
        "v1",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        Scope::Cluster,
    ),
    (
        "storage.k8s.io",
        "v1",
        "CSIDriver",
        "csidrivers",
        Scope::Cluster,
    ),
    (
        "storage.k8s.io",
        "v1",
        "CSINode",
        "csinodes",
        Scope::Cluster,
    ),
    (
        "storage.k8s.io",
        "v1",
        "VolumeAttachment",
        "volumeattachments",
        Scope::Cluster,
    ),
    (
        "node.k8s.io",
        "v1",
        "RuntimeClass",
        "runtimeclasses",
        Scope::Cluster,
    ),
    (
        "certificates.k8s.io",
        "v1",
        "CertificateSigningRequest",
        "certificatesigningrequests",
        Scope::Cluster,
    ),
    (
        "flowcontrol.apiserver.k8s.io",
        "v1",
        "FlowSchema",
        "flowschemas",
        Scope::Cluster,
    ),
    (
        "flowcontrol.apiserver.k8s.io",
        "v1",
        "PriorityLevelConfiguration",
        "prioritylevelconfigurations",
        Scope::Cluster,
    ),
];

fn static_resource(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    scope: Scope,
) -> ApiResource {
    ApiResource {
        gvk: GroupVersionKind::from_static(group, version, kind),
        plural: plural.into(),
        scope,
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every compiled-in kind (typed), the served upstream kinds that have no struct yet
    /// (dynamic), and the removed API versions (dynamic, with a note).
    pub fn builtin() -> Self {
        let mut r = Self::new();
        macro_rules! register_all {
            ($($k:ty),* $(,)?) => { $( r.register::<$k>(); )* };
        }
        crate::for_each_builtin_kind!(register_all);
        for &(g, v, k, p, s) in DYNAMIC_BUILTIN {
            r.register_resource(static_resource(g, v, k, p, s));
        }
        for &(g, v, k, p, s, note) in REMOVED {
            r.insert(Entry {
                resource: static_resource(g, v, k, p, s),
                decoder: None,
                removed: Some(note),
            });
        }
        r
    }

    fn insert(&mut self, e: Entry) {
        self.by_resource
            .insert(e.resource.gvr(), e.resource.gvk.clone());
        self.by_kind.insert(e.resource.gvk.clone(), e);
    }

    /// Registers a typed kind: its identity, and a decoder into its struct.
    pub fn register<K>(&mut self)
    where
        K: TypedResource + DeserializeOwned + AnyObject,
    {
        self.insert(Entry {
            resource: K::api_resource(&()),
            decoder: Some(decode_boxed::<K>),
            removed: None,
        });
    }

    /// Registers a kind without a struct: objects of it decode as [`Decoded::Dynamic`].
    pub fn register_resource(&mut self, resource: ApiResource) {
        self.insert(Entry {
            resource,
            decoder: None,
            removed: None,
        });
    }

    /// Registers every served version of a CustomResourceDefinition as a dynamic kind.
    /// Returns the resources registered.
    pub fn register_crd(&mut self, crd: &CustomResourceDefinition) -> Vec<ApiResource> {
        let spec = &crd.spec;
        let scope = if spec.scope == "Cluster" {
            Scope::Cluster
        } else {
            Scope::Namespaced
        };
        let mut out = Vec::new();
        for v in spec.versions.iter().filter(|v| v.served) {
            let r = ApiResource {
                gvk: GroupVersionKind::new(
                    spec.group.clone(),
                    v.name.clone(),
                    spec.names.kind.clone(),
                ),
                plural: spec.names.plural.clone().into(),
                scope,
            };
            out.push(r.clone());
            self.register_resource(r);
        }
        out
    }

    /// The resource (plural, scope) of a kind.
    pub fn resource_for_kind(&self, gvk: &GroupVersionKind) -> Option<&ApiResource> {
        self.by_kind.get(gvk).map(|e| &e.resource)
    }

    /// The kind served at a group/version/resource.
    pub fn resource_for_gvr(&self, gvr: &GroupVersionResource) -> Option<&ApiResource> {
        self.by_resource
            .get(gvr)
            .and_then(|k| self.resource_for_kind(k))
    }

    /// Whether a GVK belongs to an API version upstream no longer serves; the note names the
    /// replacement.
    pub fn removed_note(&self, gvk: &GroupVersionKind) -> Option<&'static str> {
        self.by_kind.get(gvk).and_then(|e| e.removed)
    }

    /// Whether a typed struct is registered for this GVK.
    pub fn is_typed(&self, gvk: &GroupVersionKind) -> bool {
        self.by_kind.get(gvk).is_some_and(|e| e.decoder.is_some())
    }

    /// Every registered resource, in no particular order.
    pub fn resources(&self) -> impl Iterator<Item = &ApiResource> {
        self.by_kind.values().map(|e| &e.resource)
    }

    /// Decodes a dynamic object into its typed struct when one is registered.
    ///
    /// Unknown kinds, CRD kinds and removed API versions come back whole as dynamic objects:
    /// nothing is dropped.
    ///
    /// # Errors
    /// A [`DecodeError`] (with the field path) when a typed kind's JSON has the wrong shape.
    pub fn decode(&self, obj: DynamicObject) -> Result<Decoded, DecodeError> {
        let Some(gvk) = obj.gvk() else {
            return Ok(Decoded::Unknown(obj));
        };
        match self.by_kind.get(&gvk) {
            None => Ok(Decoded::Unknown(obj)),
            Some(Entry {
                removed: Some(note),
                ..
            }) => Ok(Decoded::Removed(obj, note)),
            Some(Entry {
                decoder: Some(decode),
                ..
            }) => decode(obj.to_value()).map(|(object, unknown_fields)| Decoded::Typed {
                object,
                unknown_fields,
            }),
            Some(Entry { resource, .. }) => Ok(Decoded::Dynamic(obj, resource.clone())),
        }
    }
}
