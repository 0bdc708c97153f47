//! Event filters for a controller's primary kind (controller-runtime's `predicate` package):
//! a change wakes the reconciler only when every predicate passes.
//!
//! A predicate sees the previous cached state (`None` for a new object) and the new one.
//! Creations always pass the built-in predicates; deletions are not filtered.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::Object;

/// A filter on changes: `(old, new) -> wake?`.
pub type Predicate<K> = Arc<dyn Fn(Option<&K>, &K) -> bool + Send + Sync>;

/// Wraps a closure as a [`Predicate`].
pub fn custom<K>(f: impl Fn(Option<&K>, &K) -> bool + Send + Sync + 'static) -> Predicate<K> {
    Arc::new(f)
}

fn changed<K: Object, T: PartialEq>(f: impl Fn(&K) -> T + Send + Sync + 'static) -> Predicate<K> {
    Arc::new(move |old: Option<&K>, new: &K| old.is_none_or(|o| f(o) != f(new)))
}

/// Passes when `metadata.generation` changed (spec changes; status-only writes are filtered).
pub fn generation_changed<K: Object>() -> Predicate<K> {
    changed(|o: &K| o.meta().generation)
}

/// Passes when the labels changed.
pub fn labels_changed<K: Object>() -> Predicate<K> {
    changed(|o: &K| o.meta().labels.clone())
}

/// Passes when the annotations changed.
pub fn annotations_changed<K: Object>() -> Predicate<K> {
    changed(|o: &K| -> BTreeMap<String, String> { o.meta().annotations.clone() })
}

/// Passes when `metadata.resourceVersion` changed (filters relist duplicates).
pub fn resource_version_changed<K: Object>() -> Predicate<K> {
    changed(|o: &K| o.meta().resource_version.clone())
}

/// Passes when any of `predicates` passes.
pub fn any<K: Object>(predicates: Vec<Predicate<K>>) -> Predicate<K> {
    Arc::new(move |old: Option<&K>, new: &K| predicates.iter().any(|p| p(old, new)))
}

#[cfg(test)]
mod tests {
    use kybern_core::api::core::v1::ConfigMap;

    use super::*;

    fn cm(generation: i64, label: &str, annotation: &str, rv: &str) -> ConfigMap {
        let mut c = ConfigMap::default();
        c.metadata.generation = Some(generation);
        c.metadata.labels.insert("l".into(), label.into());
        c.metadata.annotations.insert("a".into(), annotation.into());
        c.metadata.resource_version = Some(rv.into());
        c
    }

    #[test]
    fn predicates_table() {
        let base = cm(1, "x", "y", "1");
        let rows: Vec<(&str, Predicate<ConfigMap>, Option<ConfigMap>, bool)> = vec![
            ("generation: new object", generation_changed(), None, true),
            (
                "generation: same",
                generation_changed(),
                Some(cm(1, "z", "z", "2")),
                false,
            ),
            (
                "generation: bumped",
                generation_changed(),
                Some(cm(0, "x", "y", "2")),
                true,
            ),
            (
                "labels: same",
                labels_changed(),
                Some(cm(2, "x", "q", "2")),
                false,
            ),
            (
                "labels: changed",
                labels_changed(),
                Some(cm(1, "q", "y", "2")),
                true,
            ),
            (
                "annotations: same",
                annotations_changed(),
                Some(cm(2, "q", "y", "2")),
                false,
            ),
            (
                "annotations: changed",
                annotations_changed(),
                Some(cm(1, "x", "q", "2")),
                true,
            ),
            (
                "rv: same",
                resource_version_changed(),
                Some(cm(1, "x", "y", "1")),
                false,
            ),
            (
                "rv: changed",
                resource_version_changed(),
                Some(cm(1, "x", "y", "0")),
                true,
            ),
            (
                "any: labels or annotations",
                any(vec![labels_changed(), annotations_changed()]),
                Some(cm(1, "x", "q", "1")),
                true,
            ),
        ];
        for (name, p, old, want) in rows {
            assert_eq!(p(old.as_ref(), &base), want, "{name}");
        }
    }
}
