//! `DynamicObject` and `TypeMeta`: any Kubernetes object, typed or not, with nothing lost.
//!
//! A `DynamicObject` keeps `apiVersion`/`kind`, a typed `metadata`, and every other top-level
//! field as JSON. Custom resources, removed API versions and kinds this crate has no struct for
//! all load as `DynamicObject`s; [`crate::Registry`] turns them into typed objects where it can.

use serde::de::Error as _;
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::api::meta::v1::ObjectMeta;
use crate::resource::{ApiResource, GroupVersionKind, Resource};

/// The `apiVersion` and `kind` every serialized object carries.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TypeMeta {
    /// `apiVersion`: `v1`, `apps/v1`, `example.com/v1alpha1`, …
    #[serde(rename = "apiVersion", default)]
    pub api_version: String,
    /// `kind`, in CamelCase.
    #[serde(default)]
    pub kind: String,
}

impl TypeMeta {
    /// The GVK these fields name.
    pub fn gvk(&self) -> GroupVersionKind {
        GroupVersionKind::from_api_version_kind(&self.api_version, &self.kind)
    }
}

/// An object of any kind: type fields, typed metadata, and the rest as JSON.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DynamicObject {
    /// `apiVersion` and `kind`, when present.
    pub types: Option<TypeMeta>,
    /// Standard object metadata.
    pub metadata: ObjectMeta,
    /// Every other top-level field (`spec`, `status`, `data`, `rules`, …), in input order.
    pub data: Map<String, Value>,
}

impl DynamicObject {
    /// An empty object of the given kind with a name.
    pub fn new(name: &str, resource: &ApiResource) -> Self {
        Self {
            types: Some(TypeMeta {
                api_version: resource.api_version().into_owned(),
                kind: resource.kind().to_owned(),
            }),
            metadata: ObjectMeta {
                name: Some(name.to_owned()),
                ..ObjectMeta::default()
            },
            data: Map::new(),
        }
    }

    /// The object's GVK, if it has type fields.
    pub fn gvk(&self) -> Option<GroupVersionKind> {
        self.types.as_ref().map(TypeMeta::gvk)
    }

    /// Builds a `DynamicObject` from a JSON value (which must be an object).
    ///
    /// # Errors
    /// Fails when the value is not a JSON object or `metadata` does not have ObjectMeta's shape;
    /// the message names the offending field.
    pub fn from_value(value: Value) -> Result<Self, serde_json::Error> {
        serde_json::from_value(value)
    }

    /// The object as one JSON value, `apiVersion` and `kind` first.
    pub fn to_value(&self) -> Value {
        let mut m = Map::with_capacity(self.data.len() + 3);
        if let Some(t) = &self.types {
            m.insert("apiVersion".into(), Value::String(t.api_version.clone()));
            m.insert("kind".into(), Value::String(t.kind.clone()));
        }
        m.insert(
            "metadata".into(),
            serde_json::to_value(&self.metadata).unwrap_or(Value::Object(Map::new())),
        );
        for (k, v) in &self.data {
            m.insert(k.clone(), v.clone());
        }
        Value::Object(m)
    }
}

impl Serialize for DynamicObject {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        if let Some(t) = &self.types {
            m.serialize_entry("apiVersion", &t.api_version)?;
            m.serialize_entry("kind", &t.kind)?;
        }
        m.serialize_entry("metadata", &self.metadata)?;
        for (k, v) in &self.data {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for DynamicObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let mut data = Map::<String, Value>::deserialize(d)?;
        let api_version = take_string(&mut data, "apiVersion").map_err(D::Error::custom)?;
        let kind = take_string(&mut data, "kind").map_err(D::Error::custom)?;
        let types = match (api_version, kind) {
            (None, None) => None,
            (a, k) => Some(TypeMeta {
                api_version: a.unwrap_or_default(),
                kind: k.unwrap_or_default(),
            }),
        };
        let metadata = match data.shift_remove("metadata") {
            None | Some(Value::Null) => ObjectMeta::default(),
            Some(v) => serde_path_to_error::deserialize(v)
                .map_err(|e| D::Error::custom(format!("metadata.{}: {}", e.path(), e.inner())))?,
        };
        Ok(DynamicObject {
            types,
            metadata,
            data,
        })
    }
}

fn take_string(m: &mut Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match m.shift_remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!("{key}: expected a string, got {other}")),
    }
}

impl Resource for DynamicObject {
    type DynamicType = ApiResource;

    fn api_resource(dt: &ApiResource) -> ApiResource {
        dt.clone()
    }

    fn meta(&self) -> &ObjectMeta {
        &self.metadata
    }

    fn meta_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keeps_every_field_in_order() {
        let input = json!({
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "ServiceMonitor",
            "metadata": {"name": "m", "namespace": "ns", "labels": {"a": "b"}},
            "spec": {"endpoints": [{"port": "web"}]},
            "zzz": 1,
            "aaa": null
        });
        let obj = DynamicObject::from_value(input.clone()).unwrap();
        assert_eq!(obj.gvk().unwrap().group, "monitoring.coreos.com");
        assert_eq!(obj.name(), "m");
        assert_eq!(obj.to_value(), input);
        assert_eq!(serde_json::to_value(&obj).unwrap(), input);
        let keys: Vec<_> = obj.data.keys().cloned().collect();
        assert_eq!(keys, ["spec", "zzz", "aaa"]);
    }

    #[test]
    fn bad_metadata_names_the_field() {
        let err =
            DynamicObject::from_value(json!({"kind": "X", "metadata": {"labels": 3}})).unwrap_err();
        assert!(err.to_string().contains("metadata.labels"), "{err}");
        assert!(DynamicObject::from_value(json!({"kind": 5})).is_err());
        assert!(DynamicObject::from_value(json!([1])).is_err());
    }
}
