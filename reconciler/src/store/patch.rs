//! Patches: JSON merge patch (RFC 7386) and JSON patch (RFC 6902), applied to a stored object.

use kybern_core::{ApiResource, DynamicObject};
use serde_json::Value;

use super::StoreError;

/// A patch to apply to an object's latest state.
#[derive(Clone, Debug, PartialEq)]
pub enum Patch {
    /// RFC 7386 merge patch (`application/merge-patch+json`): objects merge, `null` deletes a
    /// key, anything else (lists included) replaces.
    Merge(Value),
    /// RFC 6902 JSON patch (`application/json-patch+json`): a list of operations
    /// (`add`, `remove`, `replace`, `move`, `copy`, `test`) applied in order, all or nothing.
    Json(json_patch::Patch),
}

impl Patch {
    /// Upstream's content type for this patch kind.
    pub fn content_type(&self) -> &'static str {
        match self {
            Patch::Merge(_) => "application/merge-patch+json",
            Patch::Json(_) => "application/json-patch+json",
        }
    }

    /// Applies the patch to `current` and returns the patched object.
    ///
    /// `apiVersion`/`kind` stay the stored ones; whether the patch may change `name`,
    /// `resourceVersion` and the rest is decided by the update that follows.
    ///
    /// # Errors
    /// [`StoreError::PatchFailed`] when a JSON patch operation fails (a `test` that does not
    /// hold, a path that does not exist); [`StoreError::BadRequest`] when the result is not an
    /// object or its metadata has the wrong shape.
    pub fn apply(
        &self,
        resource: &ApiResource,
        current: &DynamicObject,
    ) -> Result<DynamicObject, StoreError> {
        let mut doc = current.to_value();
        match self {
            Patch::Merge(p) => {
                if !p.is_object() {
                    return Err(StoreError::bad_request(format!(
                        "merge patch for {} {:?} must be a JSON object, got {p}",
                        resource.plural,
                        current.metadata.name.as_deref().unwrap_or("")
                    )));
                }
                json_patch::merge(&mut doc, p);
            }
            Patch::Json(p) => {
                json_patch::patch(&mut doc, &p.0).map_err(|e| StoreError::PatchFailed {
                    message: e.to_string(),
                })?;
            }
        }
        let mut patched = DynamicObject::from_value(doc).map_err(|e| {
            StoreError::bad_request(format!(
                "the patched {} {:?} is not a valid object: {e}",
                resource.kind(),
                current.metadata.name.as_deref().unwrap_or("")
            ))
        })?;
        patched.types = current.types.clone();
        Ok(patched)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn cm() -> (ApiResource, DynamicObject) {
        let r = ApiResource {
            gvk: kybern_core::GroupVersionKind::from_static("", "v1", "ConfigMap"),
            plural: "configmaps".into(),
            scope: kybern_core::Scope::Namespaced,
        };
        let o = DynamicObject::from_value(json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "a", "namespace": "ns", "labels": {"x": "1"}},
            "data": {"k": "v", "gone": "soon"}
        }))
        .unwrap();
        (r, o)
    }

    #[test]
    fn patch_kinds() {
        let (r, o) = cm();
        type Check = fn(&Result<DynamicObject, StoreError>);
        let cases: Vec<(Patch, Check)> = vec![
            (
                Patch::Merge(json!({"data": {"gone": null, "new": "n"}})),
                |r| {
                    let o = r.as_ref().unwrap();
                    assert_eq!(o.data["data"], json!({"k": "v", "new": "n"}));
                },
            ),
            (
                Patch::Json(
                    serde_json::from_value(json!([
                        {"op": "test", "path": "/data/k", "value": "v"},
                        {"op": "replace", "path": "/data/k", "value": "w"}
                    ]))
                    .unwrap(),
                ),
                |r| assert_eq!(r.as_ref().unwrap().data["data"]["k"], "w"),
            ),
            (
                Patch::Json(
                    serde_json::from_value(
                        json!([{"op": "test", "path": "/data/k", "value": "z"}]),
                    )
                    .unwrap(),
                ),
                |r| assert!(matches!(r, Err(StoreError::PatchFailed { .. })), "{r:?}"),
            ),
            (Patch::Merge(json!([1])), |r| {
                assert!(matches!(r, Err(StoreError::BadRequest { .. })), "{r:?}")
            }),
            (Patch::Merge(json!({"metadata": {"labels": "oops"}})), |r| {
                assert!(matches!(r, Err(StoreError::BadRequest { .. })), "{r:?}")
            }),
        ];
        for (p, check) in cases {
            check(&p.apply(&r, &o));
        }
    }
}
