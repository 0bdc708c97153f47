//! `ObjectList<K>`: the generic `PodList`/`DeploymentList`/… shape (`metadata` + `items`).
//!
//! One generic type replaces upstream's per-kind list structs. On the wire it reads and writes
//! upstream's form: `{"apiVersion": "v1", "kind": "PodList", "metadata": {...}, "items": [...]}`.

use serde::de::DeserializeOwned;
use serde::ser::SerializeStruct;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::api::meta::v1::ListMeta;
use crate::resource::TypedResource;

/// A list of objects of one kind, with list metadata (`resourceVersion`, `continue`).
#[derive(Clone, Debug, PartialEq)]
pub struct ObjectList<K> {
    /// List metadata: the revision the list was read at and the pagination token.
    pub metadata: ListMeta,
    /// The objects.
    pub items: Vec<K>,
}

impl<K> Default for ObjectList<K> {
    fn default() -> Self {
        Self {
            metadata: ListMeta::default(),
            items: Vec::new(),
        }
    }
}

impl<K> ObjectList<K> {
    /// Iterates the items.
    pub fn iter(&self) -> std::slice::Iter<'_, K> {
        self.items.iter()
    }
}

impl<K> IntoIterator for ObjectList<K> {
    type Item = K;
    type IntoIter = std::vec::IntoIter<K>;
    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl<K: TypedResource + Serialize> Serialize for ObjectList<K> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("List", 4)?;
        st.serialize_field("apiVersion", K::API_VERSION)?;
        st.serialize_field("kind", &format!("{}List", K::KIND))?;
        st.serialize_field("metadata", &self.metadata)?;
        st.serialize_field("items", &self.items)?;
        st.end()
    }
}

impl<'de, K: DeserializeOwned> Deserialize<'de> for ObjectList<K> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(bound = "K: DeserializeOwned")]
        struct Wire<K> {
            #[serde(default)]
            metadata: Option<ListMeta>,
            #[serde(
                default = "Vec::new",
                deserialize_with = "crate::api::wire::null_as_default"
            )]
            items: Vec<K>,
        }
        let w = Wire::<K>::deserialize(d)?;
        Ok(ObjectList {
            metadata: w.metadata.unwrap_or_default(),
            items: w.items,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::core::v1::Pod;
    use serde_json::json;

    #[test]
    fn wire_form_matches_upstream() {
        let mut p = Pod::default();
        p.metadata.name = Some("a".into());
        let list = ObjectList {
            metadata: ListMeta {
                resource_version: Some("7".into()),
                ..ListMeta::default()
            },
            items: vec![p],
        };
        let v = serde_json::to_value(&list).unwrap();
        assert_eq!(v["kind"], "PodList");
        assert_eq!(v["apiVersion"], "v1");
        assert_eq!(v["metadata"]["resourceVersion"], "7");
        assert_eq!(v["items"][0]["metadata"]["name"], "a");
        let back: ObjectList<Pod> = serde_json::from_value(v).unwrap();
        assert_eq!(back, list);
        let empty: ObjectList<Pod> = serde_json::from_value(json!({"items": null})).unwrap();
        assert!(empty.items.is_empty());
    }
}
