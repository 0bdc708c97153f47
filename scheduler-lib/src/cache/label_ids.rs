//! Interned node labels: the cache numbers every node label key and value it has seen, and
//! each cached [`NodeInfo`](super::NodeInfo) carries its labels as a small sorted array of
//! `(key id, value id)` pairs, so per-node topology lookups in Filter (PodTopologySpread,
//! InterPodAffinity) compare integers in the node entry instead of walking the node
//! object's label map (string comparisons per node).
//!
//! Ids only grow (a value no node carries any more keeps its id), so ids held by any node of
//! a snapshot are valid in that snapshot's interner. A `NodeInfo` built outside the cache
//! (e.g. [`NodeInfo::new`](super::NodeInfo::new) in tests) has no ids; plugins then take the
//! string path.

use std::collections::HashMap;
use std::sync::Arc;

/// An interned label key or value.
pub type LabelId = u32;

/// Label key and value → id (append-only).
#[derive(Clone, Debug, Default)]
pub struct LabelInterner {
    keys: HashMap<Arc<str>, LabelId>,
    values: HashMap<Arc<str>, LabelId>,
}

fn intern(map: &mut HashMap<Arc<str>, LabelId>, s: &str) -> LabelId {
    if let Some(&id) = map.get(s) {
        return id;
    }
    let id = LabelId::try_from(map.len()).unwrap_or(LabelId::MAX);
    map.insert(Arc::from(s), id);
    id
}

impl LabelInterner {
    /// A key's id, when some node carried it.
    #[inline]
    pub fn key(&self, key: &str) -> Option<LabelId> {
        self.keys.get(key).copied()
    }

    /// A value's id, when some node carried it.
    #[inline]
    pub fn value(&self, value: &str) -> Option<LabelId> {
        self.values.get(value).copied()
    }

    /// How many distinct values have ids (ids are `0..value_count()`).
    #[inline]
    pub fn value_count(&self) -> usize {
        self.values.len()
    }

    /// `labels` as ids when every key and value already has one (no new entry needed).
    pub(crate) fn lookup_labels(&self, labels: &kybern_core::LabelMap) -> Option<NodeLabelIds> {
        let mut ids = labels
            .iter()
            .map(|(k, v)| Some((self.key(k)?, self.value(v)?)))
            .collect::<Option<Vec<_>>>()?;
        ids.sort_unstable();
        Some(NodeLabelIds(ids.into_boxed_slice()))
    }

    /// `labels` as `(key id, value id)` pairs sorted by key id, interning new strings.
    pub(crate) fn intern_labels(&mut self, labels: &kybern_core::LabelMap) -> NodeLabelIds {
        let mut ids: Vec<(LabelId, LabelId)> = labels
            .iter()
            .map(|(k, v)| (intern(&mut self.keys, k), intern(&mut self.values, v)))
            .collect();
        ids.sort_unstable();
        NodeLabelIds(ids.into_boxed_slice())
    }
}

/// One node's labels as interned `(key id, value id)` pairs, sorted by key id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeLabelIds(Box<[(LabelId, LabelId)]>);

impl NodeLabelIds {
    /// The value id of `key`, when the node carries it.
    #[inline]
    pub fn get(&self, key: LabelId) -> Option<LabelId> {
        let ids = &self.0;
        if ids.len() <= 16 {
            return ids.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
        }
        ids.binary_search_by_key(&key, |(k, _)| *k)
            .ok()
            .map(|i| ids[i].1)
    }

    /// Whether the node carries `key`.
    #[inline]
    pub fn contains(&self, key: LabelId) -> bool {
        self.get(key).is_some()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> kybern_core::LabelMap {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn ids_are_stable_and_lookups_agree_with_the_strings() {
        let mut i = LabelInterner::default();
        let a = labels(&[("zone", "z1"), ("host", "a")]);
        let b = labels(&[("zone", "z2"), ("host", "b"), ("extra", "z1")]);
        let ia = i.intern_labels(&a);
        let ib = i.intern_labels(&b);
        assert_eq!(i.lookup_labels(&a), Some(ia.clone()));
        assert_eq!(i.lookup_labels(&b), Some(ib.clone()));
        assert_eq!(i.lookup_labels(&labels(&[("zone", "z3")])), None);
        let zone = i.key("zone").unwrap();
        let extra = i.key("extra").unwrap();
        assert_eq!(ia.get(zone), i.value("z1"));
        assert_eq!(ib.get(zone), i.value("z2"));
        // Values are shared across keys.
        assert_eq!(ib.get(extra), i.value("z1"));
        assert_eq!(ia.get(extra), None);
        assert!(!ia.contains(extra) && ib.contains(extra));
        // Re-interning the same labels gives the same ids.
        assert_eq!(i.intern_labels(&a), ia);
        assert_eq!(i.key("missing"), None);
    }

    #[test]
    fn many_labels_use_the_sorted_lookup() {
        let mut i = LabelInterner::default();
        let many: kybern_core::LabelMap = (0..40)
            .map(|n| (format!("k{n}"), format!("v{n}")))
            .collect();
        let ids = i.intern_labels(&many);
        for (k, v) in &many {
            assert_eq!(ids.get(i.key(k).unwrap()), i.value(v), "{k}");
        }
        assert_eq!(ids.get(LabelId::MAX), None);
    }
}
