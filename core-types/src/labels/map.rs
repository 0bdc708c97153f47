//! [`LabelMap`]: the label container of `metadata.labels`, a key-sorted vector whose entries
//! cache the first bytes of key and value so selectors match it in a few nanoseconds.

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;
use std::iter::FusedIterator;
use std::ops::Index;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::keycmp;

/// One label: key, value and their cached [`keycmp::head`]s (derived data, always in step
/// with the strings, so the derived comparisons stay consistent with comparing the strings).
#[derive(Clone, PartialEq, Eq, Hash)]
struct Entry {
    key_head: u64,
    value_head: u64,
    key: String,
    value: String,
}

impl Entry {
    fn new(key: String, value: String) -> Self {
        Entry {
            key_head: keycmp::head(&key),
            value_head: keycmp::head(&value),
            key,
            value,
        }
    }

    fn set_value(&mut self, value: String) -> String {
        self.value_head = keycmp::head(&value);
        std::mem::replace(&mut self.value, value)
    }
}

/// A set of labels (`metadata.labels`, upstream's `labels.Set`): string keys and values, kept
/// sorted by key in byte order, each key at most once.
///
/// **Why not a `BTreeMap<String, String>`** (what kube-rs and k8s-openapi use, and what this
/// crate used before): matching label selectors is the hot path of informers, controllers
/// and the scheduler, and walking a `BTreeMap` plus comparing its keys byte by byte dominated a
/// match. `LabelMap` is a vector sorted by key whose entries also hold the first 8 bytes of
/// the key and of the value as big-endian integers ("heads"); a [`super::Requirement`]
/// precomputes the same heads, so a selector walks the labels once comparing integers and
/// reads the strings only when two heads tie (keys sharing an 8-byte prefix such as
/// `app.kubernetes.io/…`, or values longer than 8 bytes).
///
/// Otherwise it behaves as the `BTreeMap` it replaces: the same method names and shapes
/// (`get`, `insert`, `remove`, `iter`, `keys`, `values`, `retain`, `extend`, `collect`, …),
/// iteration in key order, the last value winning on a repeated key, and the same wire format
/// (a JSON/YAML map in key order; the same JSON Schema). Keys and values are never handed out
/// mutably — the heads must stay right — so changes go through `insert`, `remove`, `retain`,
/// `clear` and `extend`. Lookups are a binary search; inserting in key order appends, other
/// inserts shift the tail (label sets are small).
///
/// ```
/// use kybern_core::labels::{LabelMap, Selector};
///
/// let mut labels = LabelMap::from([("tier", "web"), ("app", "shop")]);
/// labels.insert("env".to_owned(), "prod".to_owned());
/// assert_eq!(labels.keys().collect::<Vec<_>>(), ["app", "env", "tier"]);
/// assert!(Selector::parse("app=shop,env!=dev").unwrap().matches(&labels));
/// assert_eq!(serde_json::to_string(&labels).unwrap(), r#"{"app":"shop","env":"prod","tier":"web"}"#);
/// ```
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct LabelMap {
    entries: Vec<Entry>,
}

impl LabelMap {
    /// An empty label set.
    pub const fn new() -> Self {
        LabelMap {
            entries: Vec::new(),
        }
    }

    /// An empty label set with room for `capacity` labels.
    pub fn with_capacity(capacity: usize) -> Self {
        LabelMap {
            entries: Vec::with_capacity(capacity),
        }
    }

    /// The number of labels.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no labels.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The index of `key`, or where it would be inserted.
    #[inline]
    fn search(&self, key: &str) -> Result<usize, usize> {
        let key_head = keycmp::head(key);
        self.entries
            .binary_search_by(|e| keycmp::cmp_headed(e.key_head, &e.key, key_head, key))
    }

    /// The value of `key`, if present.
    #[inline]
    pub fn get(&self, key: &str) -> Option<&String> {
        self.search(key).ok().map(|i| &self.entries[i].value)
    }

    /// The stored key and value for `key`, if present.
    pub fn get_key_value(&self, key: &str) -> Option<(&String, &String)> {
        self.search(key).ok().map(|i| {
            let e = &self.entries[i];
            (&e.key, &e.value)
        })
    }

    /// Whether `key` is present (possibly with an empty value).
    #[inline]
    pub fn contains_key(&self, key: &str) -> bool {
        self.search(key).is_ok()
    }

    /// Sets `key` to `value`, returning the previous value of `key` if there was one.
    pub fn insert(&mut self, key: String, value: String) -> Option<String> {
        // Labels are mostly built in key order (decoding, copying): append without searching.
        if self.entries.last().is_none_or(|last| last.key < key) {
            self.entries.push(Entry::new(key, value));
            return None;
        }
        match self.search(&key) {
            Ok(i) => Some(self.entries[i].set_value(value)),
            Err(i) => {
                self.entries.insert(i, Entry::new(key, value));
                None
            }
        }
    }

    /// Removes `key`, returning its value if it was present.
    pub fn remove(&mut self, key: &str) -> Option<String> {
        self.search(key).ok().map(|i| self.entries.remove(i).value)
    }

    /// Removes `key`, returning the stored key and value if it was present.
    pub fn remove_entry(&mut self, key: &str) -> Option<(String, String)> {
        self.search(key).ok().map(|i| {
            let e = self.entries.remove(i);
            (e.key, e.value)
        })
    }

    /// Keeps only the labels for which `keep(key, value)` is `true` (in key order).
    pub fn retain(&mut self, mut keep: impl FnMut(&String, &String) -> bool) {
        self.entries.retain(|e| keep(&e.key, &e.value));
    }

    /// Removes every label, keeping the allocation.
    pub fn clear(&mut self) {
        self.entries.clear();
    }

    /// The labels as `(key, value)` pairs in key order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            inner: self.entries.iter(),
        }
    }

    /// The keys in order.
    pub fn keys(
        &self,
    ) -> impl DoubleEndedIterator<Item = &String> + ExactSizeIterator + FusedIterator + Clone {
        self.entries.iter().map(|e| &e.key)
    }

    /// The values in key order.
    pub fn values(
        &self,
    ) -> impl DoubleEndedIterator<Item = &String> + ExactSizeIterator + FusedIterator + Clone {
        self.entries.iter().map(|e| &e.value)
    }

    /// The first label (smallest key).
    pub fn first_key_value(&self) -> Option<(&String, &String)> {
        self.entries.first().map(|e| (&e.key, &e.value))
    }

    /// The last label (largest key).
    pub fn last_key_value(&self) -> Option<(&String, &String)> {
        self.entries.last().map(|e| (&e.key, &e.value))
    }

    /// The value of `key` as a label lookup, with the heads matching needs.
    #[inline]
    pub(crate) fn get_headed(&self, key: &str) -> Option<(&str, u64)> {
        self.search(key).ok().map(|i| {
            let e = &self.entries[i];
            (e.value.as_str(), e.value_head)
        })
    }

    /// Whether every key-sorted requirement matches: one forward walk over the entries,
    /// comparing cached heads (the strings only on a tie), as
    /// [`super::Labels::matches_all_sorted`].
    #[inline]
    pub(crate) fn matches_sorted(&self, requirements: &[super::Requirement]) -> bool {
        let entries = self.entries.as_slice();
        let mut i = 0;
        for r in requirements {
            let (key_head, key) = (r.key_head(), r.key());
            let mut found = None;
            while let Some(e) = entries.get(i) {
                match keycmp::cmp_headed(e.key_head, &e.key, key_head, key) {
                    Ordering::Less => i += 1,
                    Ordering::Equal => {
                        found = Some((e.value.as_str(), e.value_head));
                        break;
                    }
                    Ordering::Greater => break,
                }
            }
            if !r.matches_headed(found) {
                return false;
            }
        }
        true
    }

    /// Restores the invariant after entries were appended in any order: a stable sort by key,
    /// then the last of equal keys kept (as repeated `insert`s would). Linear when already
    /// sorted.
    fn normalize(&mut self) {
        if self.entries.is_sorted_by(|a, b| a.key < b.key) {
            return;
        }
        self.entries.sort_by(|a, b| a.key.cmp(&b.key));
        self.entries.dedup_by(|later, kept| {
            if later.key != kept.key {
                return false;
            }
            std::mem::swap(&mut later.value, &mut kept.value);
            kept.value_head = later.value_head;
            true
        });
    }
}

impl fmt::Debug for LabelMap {
    /// Printed as a map, like the `BTreeMap` it replaces.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl Index<&str> for LabelMap {
    type Output = String;

    /// The value of `key`.
    ///
    /// # Panics
    /// When `key` is absent, as `BTreeMap`'s indexing; use [`LabelMap::get`] for a lookup.
    fn index(&self, key: &str) -> &String {
        match self.get(key) {
            Some(v) => v,
            None => panic!("label {key:?} not found"),
        }
    }
}

// `Extend` and `FromIterator` take `(String, String)` only, as `BTreeMap<String, String>`
// does: a generic item type would break the type inference of `.map(|..| (k.into(),
// v.into())).collect()` that existing code relies on.
impl Extend<(String, String)> for LabelMap {
    /// Adds the labels; the last value wins on a repeated key. Sorts once at the end (not per
    /// label) when they do not arrive in key order.
    fn extend<I: IntoIterator<Item = (String, String)>>(&mut self, iter: I) {
        let iter = iter.into_iter();
        self.entries.reserve(iter.size_hint().0);
        for (k, v) in iter {
            self.entries.push(Entry::new(k, v));
        }
        self.normalize();
    }
}

impl FromIterator<(String, String)> for LabelMap {
    /// Collects labels; the last value wins on a repeated key.
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        let mut map = LabelMap::new();
        map.extend(iter);
        map
    }
}

impl<K: Into<String>, V: Into<String>, const N: usize> From<[(K, V); N]> for LabelMap {
    /// The labels of the pairs (`&str` or `String`); the last value wins on a repeated key.
    fn from(pairs: [(K, V); N]) -> Self {
        pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect()
    }
}

impl From<BTreeMap<String, String>> for LabelMap {
    fn from(map: BTreeMap<String, String>) -> Self {
        // Already sorted and unique: no normalisation needed.
        LabelMap {
            entries: map.into_iter().map(|(k, v)| Entry::new(k, v)).collect(),
        }
    }
}

impl From<LabelMap> for BTreeMap<String, String> {
    fn from(map: LabelMap) -> Self {
        map.into_iter().collect()
    }
}

impl PartialEq<BTreeMap<String, String>> for LabelMap {
    fn eq(&self, other: &BTreeMap<String, String>) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl PartialEq<LabelMap> for BTreeMap<String, String> {
    fn eq(&self, other: &LabelMap) -> bool {
        other == self
    }
}

/// The labels of a [`LabelMap`] as `(&key, &value)` in key order.
#[derive(Clone, Debug)]
pub struct Iter<'a> {
    inner: std::slice::Iter<'a, Entry>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = (&'a String, &'a String);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|e| (&e.key, &e.value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl DoubleEndedIterator for Iter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.inner.next_back().map(|e| (&e.key, &e.value))
    }
}

impl ExactSizeIterator for Iter<'_> {}
impl FusedIterator for Iter<'_> {}

/// The labels of a [`LabelMap`] as owned `(key, value)` in key order.
#[derive(Debug)]
pub struct IntoIter {
    inner: std::vec::IntoIter<Entry>,
}

impl Iterator for IntoIter {
    type Item = (String, String);

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next().map(|e| (e.key, e.value))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl DoubleEndedIterator for IntoIter {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.inner.next_back().map(|e| (e.key, e.value))
    }
}

impl ExactSizeIterator for IntoIter {}
impl FusedIterator for IntoIter {}

impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}: {:?}", self.key, self.value)
    }
}

impl IntoIterator for LabelMap {
    type Item = (String, String);
    type IntoIter = IntoIter;

    fn into_iter(self) -> IntoIter {
        IntoIter {
            inner: self.entries.into_iter(),
        }
    }
}

impl<'a> IntoIterator for &'a LabelMap {
    type Item = (&'a String, &'a String);
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl Serialize for LabelMap {
    /// A map in key order: byte for byte what `BTreeMap<String, String>` writes.
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (k, v) in self {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for LabelMap {
    /// A map of strings; the last value wins on a repeated key (as `BTreeMap`). Keys arriving
    /// sorted (Go's encoders sort them) are appended; otherwise they are sorted once at the end.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(LabelMapVisitor)
    }
}

struct LabelMapVisitor;

impl<'de> Visitor<'de> for LabelMapVisitor {
    type Value = LabelMap;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map") // as `BTreeMap`, so decode errors read the same
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<LabelMap, A::Error> {
        // Cap the pre-allocation: the hint comes from the input.
        let mut map = LabelMap::with_capacity(access.size_hint().unwrap_or(0).min(256));
        while let Some((k, v)) = access.next_entry::<String, String>()? {
            map.entries.push(Entry::new(k, v));
        }
        map.normalize();
        Ok(map)
    }
}

impl schemars::JsonSchema for LabelMap {
    fn inline_schema() -> bool {
        <BTreeMap<String, String> as schemars::JsonSchema>::inline_schema()
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        <BTreeMap<String, String> as schemars::JsonSchema>::schema_name()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        <BTreeMap<String, String> as schemars::JsonSchema>::schema_id()
    }

    /// The schema of `BTreeMap<String, String>`: an object with string `additionalProperties`.
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        <BTreeMap<String, String> as schemars::JsonSchema>::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn pairs(m: &LabelMap) -> Vec<(&str, &str)> {
        m.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
    }

    /// Inserts in any order keep the keys sorted and unique, the last value winning; the
    /// cached heads follow every change.
    #[test]
    fn insert_remove_keep_order_and_heads() {
        let mut m = LabelMap::new();
        for (k, v) in [("b", "1"), ("a", "2"), ("c", "3"), ("b", "4"), ("", "e")] {
            m.insert(k.to_owned(), v.to_owned());
        }
        assert_eq!(pairs(&m), [("", "e"), ("a", "2"), ("b", "4"), ("c", "3")]);
        assert_eq!(m.insert("a".into(), "9".into()), Some("2".to_owned()));
        assert_eq!(m.remove("c"), Some("3".to_owned()));
        assert_eq!(m.remove("c"), None);
        assert_eq!(m.get("a").map(String::as_str), Some("9"));
        assert_eq!(m.get("zz"), None);
        assert!(m.contains_key(""));
        m.retain(|k, _| !k.is_empty());
        assert_eq!(pairs(&m), [("a", "9"), ("b", "4")]);
        for e in &m.entries {
            assert_eq!(e.key_head, keycmp::head(&e.key));
            assert_eq!(e.value_head, keycmp::head(&e.value));
        }
        m.clear();
        assert!(m.is_empty());
    }

    /// `collect`, `extend` and decoding sort unsorted input and keep the last of repeated keys,
    /// as `BTreeMap` does.
    #[test]
    fn collect_extend_decode_last_wins() {
        let input: Vec<(String, String)> =
            [("z", "1"), ("a", "1"), ("z", "2"), ("m", "1"), ("a", "3")]
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
        let want: BTreeMap<String, String> = input.iter().cloned().collect();
        let collected: LabelMap = input.iter().cloned().collect();
        assert_eq!(collected, want);
        let mut extended = LabelMap::from([("m", "0"), ("q", "0")]);
        extended.extend(input);
        assert_eq!(
            pairs(&extended),
            [("a", "3"), ("m", "1"), ("q", "0"), ("z", "2")]
        );
        let json = r#"{"z":"1","a":"1","z":"2","m":"1","a":"3"}"#;
        let decoded: LabelMap = serde_json::from_str(json).unwrap();
        let decoded_btree: BTreeMap<String, String> = serde_json::from_str(json).unwrap();
        assert_eq!(decoded, decoded_btree);
        for e in &decoded.entries {
            assert_eq!(e.value_head, keycmp::head(&e.value));
        }
    }

    /// The wire format, `Debug` and the JSON Schema are exactly `BTreeMap<String, String>`'s.
    #[test]
    fn same_wire_debug_and_schema_as_btreemap() {
        let m = LabelMap::from([
            ("tier", "web"),
            ("app", "x"),
            ("app.kubernetes.io/name", ""),
        ]);
        let b: BTreeMap<String, String> = m.clone().into();
        assert_eq!(
            serde_json::to_string(&m).unwrap(),
            serde_json::to_string(&b).unwrap()
        );
        assert_eq!(format!("{m:?}"), format!("{b:?}"));
        assert_eq!(
            schemars::schema_for!(LabelMap),
            schemars::schema_for!(BTreeMap<String, String>)
        );
        assert_eq!(LabelMap::from(b.clone()), m);
        assert_eq!(m["tier"], "web");
        assert!(serde_json::from_str::<LabelMap>(r#"{"a":1}"#).is_err());
        assert!(serde_json::from_str::<LabelMap>(r#"["a"]"#).is_err());
    }
}
