//! The scale subresource: `Scale` (autoscaling/v1 shape) and `Api::get_scale` /
//! `Api::replace_scale` for kinds with `spec.replicas` (Deployment, ReplicaSet, StatefulSet,
//! ReplicationController, custom resources with a scale subresource).

use kybern_core::api::meta::v1::{LabelSelector, ObjectMeta};
use kybern_core::labels::label_selector_as_selector;
use kybern_core::validation::{ErrorList, FieldError, FieldPath};
use kybern_core::{ApiResource, DynamicObject, GroupVersionKind, Resource, Scope};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Api;
use crate::store::{Patch, PatchOptions, StoreError, WriteScope};

/// An object's replica count as the scale subresource shows it (`autoscaling/v1` `Scale`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Scale {
    /// The scaled object's name, namespace, uid, resourceVersion and creationTimestamp.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// Desired replicas.
    #[serde(default)]
    pub spec: ScaleSpec,
    /// Observed replicas.
    #[serde(default)]
    pub status: ScaleStatus,
}

/// `Scale.spec`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScaleSpec {
    /// Desired replicas (`spec.replicas` of the object; 1 when unset, the apps default).
    #[serde(default)]
    pub replicas: i32,
}

/// `Scale.status`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScaleStatus {
    /// Observed replicas (`status.replicas`, 0 when unset).
    #[serde(default)]
    pub replicas: i32,
    /// The pod label selector in string form, when the object has `spec.selector`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<String>,
}

fn scale_resource() -> ApiResource {
    ApiResource {
        gvk: GroupVersionKind::from_static("autoscaling", "v1", "Scale"),
        plural: "scale".into(),
        scope: Scope::Namespaced,
    }
}

fn int_at(obj: &DynamicObject, section: &str, field: &str) -> Option<i64> {
    obj.data.get(section)?.get(field)?.as_i64()
}

fn scale_of(obj: &DynamicObject) -> Scale {
    let m = &obj.metadata;
    let selector = obj
        .data
        .get("spec")
        .and_then(|s| s.get("selector"))
        .and_then(|s| serde_json::from_value::<LabelSelector>(s.clone()).ok())
        .and_then(|s| label_selector_as_selector(Some(&s)).ok())
        .map(|s| s.to_string());
    Scale {
        metadata: ObjectMeta {
            name: m.name.clone(),
            namespace: m.namespace.clone(),
            uid: m.uid.clone(),
            resource_version: m.resource_version.clone(),
            creation_timestamp: m.creation_timestamp,
            ..ObjectMeta::default()
        },
        spec: ScaleSpec {
            replicas: int_at(obj, "spec", "replicas")
                .and_then(|r| i32::try_from(r).ok())
                .unwrap_or(1),
        },
        status: ScaleStatus {
            replicas: int_at(obj, "status", "replicas")
                .and_then(|r| i32::try_from(r).ok())
                .unwrap_or(0),
            selector,
        },
    }
}

impl<K> Api<K>
where
    K: Resource + Clone + Serialize + DeserializeOwned + Send + Sync + 'static,
{
    /// Reads the scale subresource of object `name`.
    ///
    /// # Errors
    /// NotFound.
    pub async fn get_scale(&self, name: &str) -> Result<Scale, StoreError> {
        let obj = self
            .store
            .get(&self.resource, self.namespace.as_deref(), name)
            .await?;
        Ok(scale_of(&obj))
    }

    /// Sets `spec.replicas` of object `name` from `scale.spec.replicas`; a set
    /// `scale.metadata.resourceVersion` / `uid` are preconditions (upstream's ScaleREST).
    ///
    /// # Errors
    /// Invalid (`Scale.autoscaling "x" is invalid: spec.replicas: …`) for negative replicas;
    /// Conflict when a precondition fails; NotFound.
    pub async fn replace_scale(&self, name: &str, scale: &Scale) -> Result<Scale, StoreError> {
        if scale.spec.replicas < 0 {
            let mut errs = ErrorList::new();
            errs.push(FieldError::invalid(
                &FieldPath::new("spec").child("replicas"),
                scale.spec.replicas,
                "must be greater than or equal to 0",
            ));
            return Err(StoreError::invalid(&scale_resource(), name, errs));
        }
        let ns = self.namespace.as_deref();
        if let Some(uid) = scale.metadata.uid.as_deref().filter(|u| !u.is_empty()) {
            let current = self.store.get(&self.resource, ns, name).await?;
            let have = current.metadata.uid.as_deref().unwrap_or("");
            if uid != have {
                let sub = ApiResource {
                    plural: format!("{}/scale", self.resource.plural).into(),
                    ..self.resource.clone()
                };
                return Err(StoreError::conflict(
                    &sub,
                    name,
                    format!(
                        "Precondition failed: UID in precondition: {uid}, UID in object meta: {have}"
                    ),
                ));
            }
        }
        let patch = Patch::Merge(json!({"spec": {"replicas": Value::from(scale.spec.replicas)}}));
        let options = PatchOptions {
            scope: WriteScope::Main,
            resource_version: scale
                .metadata
                .resource_version
                .clone()
                .filter(|r| !r.is_empty()),
        };
        let obj = self
            .store
            .patch(&self.resource, ns, name, &patch, &options)
            .await?;
        Ok(scale_of(&obj))
    }
}
