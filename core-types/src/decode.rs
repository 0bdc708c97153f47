//! Typed decoding from JSON with upstream's strict-field-validation view: the path of the first
//! type mismatch, and every unknown field (upstream warns `unknown field "spec.foo"`).
//!
//! ```
//! use kybern_core::api::core::v1::ConfigMap;
//! use kybern_core::decode::decode_strict;
//! let (cm, unknown) = decode_strict::<ConfigMap>(serde_json::json!({
//!     "apiVersion": "v1", "kind": "ConfigMap",
//!     "metadata": {"name": "a"}, "data": {"k": "v"}, "dta": {"typo": "x"}
//! })).unwrap();
//! assert_eq!(cm.data["k"], "v");
//! assert_eq!(unknown, ["dta"]);
//! ```

use serde::de::DeserializeOwned;
use serde_json::Value;

/// A typed decode failed: the JSON does not have the type's shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{type_name}: {path}: {message}")]
pub struct DecodeError {
    /// The type being decoded (e.g. `apps/v1, Kind=Deployment`, or a Rust type name).
    pub type_name: String,
    /// Dotted path of the offending field, e.g.
    /// `spec.template.spec.containers[0].ports[0].containerPort` (`.` for the value itself).
    pub path: String,
    /// What was wrong, e.g. `invalid type: string "x", expected i32`.
    pub message: String,
}

/// Decodes `value` as `T`; on failure the error names the field path.
///
/// # Errors
/// A [`DecodeError`] with the path of the first mismatch.
pub fn decode<T: DeserializeOwned>(value: Value) -> Result<T, DecodeError> {
    serde_path_to_error::deserialize::<_, T>(value).map_err(|e| DecodeError {
        type_name: std::any::type_name::<T>().to_owned(),
        path: e.path().to_string(),
        message: e.inner().to_string(),
    })
}

/// Decodes `value` as `T` and lists every field the type does not know, as dotted paths
/// (`spec.storageos.secretName`, `spec.containers[0].imagePullPolicyy`).
///
/// Unknown fields are dropped from the typed value, exactly as upstream's decoder drops them;
/// callers report them as warnings (upstream's `Warn` field validation) or refuse the object
/// (`Strict`).
///
/// # Errors
/// A [`DecodeError`] with the path of the first mismatch.
pub fn decode_strict<T: DeserializeOwned>(value: Value) -> Result<(T, Vec<String>), DecodeError> {
    let mut unknown = Vec::new();
    // The first pass sees unknown fields; only on failure does a second pass find the path
    // of the mismatch (errors are rare, so the success path is one pass).
    match serde_ignored::deserialize::<_, _, T>(value.clone(), |path| unknown.push(render(&path))) {
        Ok(t) => Ok((t, unknown)),
        Err(first) => match decode::<T>(value) {
            Err(e) => Err(e),
            Ok(_) => Err(DecodeError {
                type_name: std::any::type_name::<T>().to_owned(),
                path: ".".to_owned(),
                message: first.to_string(),
            }),
        },
    }
}

/// Renders a `serde_ignored` path the way upstream names fields: `a.b[0].c`.
fn render(path: &serde_ignored::Path<'_>) -> String {
    use serde_ignored::Path;
    fn walk(p: &Path<'_>, out: &mut String) {
        match p {
            Path::Root => {}
            Path::Seq { parent, index } => {
                walk(parent, out);
                out.push_str(&format!("[{index}]"));
            }
            Path::Map { parent, key } => {
                walk(parent, out);
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Path::Some { parent }
            | Path::NewtypeStruct { parent }
            | Path::NewtypeVariant { parent } => walk(parent, out),
        }
    }
    let mut out = String::new();
    walk(path, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::apps::v1::Deployment;
    use serde_json::json;

    #[test]
    fn unknown_fields_are_listed_with_paths() {
        let (d, unknown) = decode_strict::<Deployment>(json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "lables": {"a": "b"}},
            "spec": {
                "replicas": 2,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {"spec": {"containers": [{"name": "c", "image": "i", "imagePullPolicyy": "Always"}]}}
            },
            "extra": 1
        }))
        .unwrap();
        assert_eq!(d.spec.unwrap().replicas, Some(2));
        assert_eq!(
            unknown,
            [
                "metadata.lables",
                "spec.template.spec.containers[0].imagePullPolicyy",
                "extra"
            ]
        );
    }

    #[test]
    fn type_errors_name_the_path() {
        let err = decode_strict::<Deployment>(json!({
            "spec": {"template": {"spec": {"containers": [{"name": "c", "ports": [{"containerPort": "x"}]}]}}}
        }))
        .unwrap_err();
        assert_eq!(
            err.path,
            "spec.template.spec.containers[0].ports[0].containerPort"
        );
        assert!(err.message.contains("expected i32"), "{err}");
    }
}
