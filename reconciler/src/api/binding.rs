//! Pod binding (`pods/binding`): assigning a pending Pod to a node, with upstream's rules.

use kybern_core::api::core::v1::Pod;
use kybern_core::{ApiResource, DynamicObject};
use serde_json::{Map, Value, json};

use super::{Api, from_dynamic};
use crate::store::{StoreError, WriteScope, rules};

/// How many times a binding re-reads the Pod after losing a race with another writer.
const BINDING_RETRIES: usize = 16;

fn binding_conflict(pods: &ApiResource, pod: &str, why: String) -> StoreError {
    let sub = ApiResource {
        plural: "pods/binding".into(),
        ..pods.clone()
    };
    StoreError::conflict(&sub, pod, why)
}

/// Sets `PodScheduled=True` in `status.conditions` (upstream `UpdatePodCondition`: the
/// transition time moves only when the status changes).
fn set_scheduled(obj: &mut DynamicObject) {
    let now = Value::String(rules::now().to_string());
    let status = obj
        .data
        .entry("status")
        .or_insert_with(|| Value::Object(Map::new()));
    if !status.is_object() {
        *status = Value::Object(Map::new());
    }
    let Some(status) = status.as_object_mut() else {
        return;
    };
    let conditions = status
        .entry("conditions")
        .or_insert_with(|| Value::Array(Vec::new()));
    if !conditions.is_array() {
        *conditions = Value::Array(Vec::new());
    }
    let Some(list) = conditions.as_array_mut() else {
        return;
    };
    match list
        .iter_mut()
        .find(|c| c.get("type").and_then(Value::as_str) == Some("PodScheduled"))
    {
        Some(c) => {
            if c.get("status").and_then(Value::as_str) != Some("True") {
                c["status"] = Value::String("True".into());
                c["lastTransitionTime"] = now;
            }
        }
        None => list.push(json!({
            "type": "PodScheduled",
            "status": "True",
            "lastProbeTime": null,
            "lastTransitionTime": now,
        })),
    }
}

impl Api<Pod> {
    /// Binds Pod `pod_name` to node `node_name` (what the scheduler's Binding does): sets
    /// `spec.nodeName` and the `PodScheduled` condition in one write.
    ///
    /// # Errors
    /// Conflict on `pods/binding` when the Pod is being deleted, already assigned to a node
    /// (`pod x is already assigned to node "n"`) or has scheduling gates; NotFound.
    pub async fn create_binding(&self, pod_name: &str, node_name: &str) -> Result<Pod, StoreError> {
        from_dynamic(self.write_binding(pod_name, node_name).await?)
    }

    /// As [`Api::create_binding`] without decoding the bound Pod (upstream's binding answers
    /// a Status, not the Pod): what a scheduler's binder needs, one typed decode less per
    /// pod.
    ///
    /// # Errors
    /// As [`Api::create_binding`].
    pub async fn bind_to_node(&self, pod_name: &str, node_name: &str) -> Result<(), StoreError> {
        self.write_binding(pod_name, node_name).await.map(drop)
    }

    /// The binding write; answers the stored Pod.
    async fn write_binding(
        &self,
        pod_name: &str,
        node_name: &str,
    ) -> Result<std::sync::Arc<DynamicObject>, StoreError> {
        let ns = self.namespace.as_deref();
        let mut last = None;
        for _ in 0..BINDING_RETRIES {
            let current = self.store.get(&self.resource, ns, pod_name).await?;
            if current.metadata.deletion_timestamp.is_some() {
                return Err(binding_conflict(
                    &self.resource,
                    pod_name,
                    format!("pod {pod_name} is being deleted, cannot be assigned to a host"),
                ));
            }
            let spec = current.data.get("spec");
            let bound = spec
                .and_then(|s| s.get("nodeName"))
                .and_then(Value::as_str)
                .unwrap_or("");
            if !bound.is_empty() {
                return Err(binding_conflict(
                    &self.resource,
                    pod_name,
                    format!("pod {pod_name} is already assigned to node {bound:?}"),
                ));
            }
            let gated = spec
                .and_then(|s| s.get("schedulingGates"))
                .and_then(Value::as_array)
                .is_some_and(|g| !g.is_empty());
            if gated {
                return Err(binding_conflict(
                    &self.resource,
                    pod_name,
                    format!("pod {pod_name} has non-empty .spec.schedulingGates"),
                ));
            }
            let mut next = DynamicObject::clone(&current);
            let spec = next
                .data
                .entry("spec")
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(spec) = spec.as_object_mut() {
                spec.insert("nodeName".into(), Value::String(node_name.to_owned()));
            }
            set_scheduled(&mut next);
            match self
                .store
                .update(&self.resource, next, WriteScope::Whole)
                .await
            {
                Ok(o) => return Ok(o),
                Err(e) if e.is_conflict() => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| {
            binding_conflict(&self.resource, pod_name, "too many conflicts".into())
        }))
    }
}
