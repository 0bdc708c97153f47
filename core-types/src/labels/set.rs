//! Label sets: the [`Labels`] lookup trait used by matching, and upstream's `labels.Set` helpers.

use std::cmp::Ordering;
use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

use crate::validation::field::FieldPath;

use super::keycmp;
use super::map::LabelMap;
use super::selector::{Operator, Requirement, RequirementError, Selector};
use crate::validation::names;

/// A label set as stored on objects (`metadata.labels`), upstream's `labels.Set`.
pub type Set = LabelMap;

/// Read access to a set of labels, so selectors can match any label container without
/// allocating.
///
/// Implemented for [`LabelMap`] (the object model's container, the fastest to match),
/// `BTreeMap<String, String>`, `HashMap<String, String>`, slices and arrays of
/// `(key, value)` pairs and references to any of them.
pub trait Labels {
    /// The value for `key`, or `None` when the label is absent.
    fn get_label(&self, key: &str) -> Option<&str>;

    /// Whether the label is present (possibly with an empty value).
    fn has_label(&self, key: &str) -> bool {
        self.get_label(key).is_some()
    }

    /// Whether every requirement matches these labels, for requirements in any order.
    /// Containers may override it with a faster strategy; any override must give the same
    /// answer as this default.
    #[inline]
    fn matches_all(&self, requirements: &[Requirement]) -> bool {
        requirements
            .iter()
            .all(|r| r.matches_value(self.get_label(r.key())))
    }

    /// Like [`Labels::matches_all`] for requirements already sorted by key (byte order), which
    /// [`Selector::matches`] guarantees; the `BTreeMap` implementation walks the map and the
    /// requirements in one merged pass. Callers must pass sorted requirements; an override
    /// must give the same answer as [`Labels::matches_all`] for them.
    #[inline]
    fn matches_all_sorted(&self, requirements: &[Requirement]) -> bool {
        self.matches_all(requirements)
    }
}

impl<L: Labels + ?Sized> Labels for &L {
    #[inline]
    fn get_label(&self, key: &str) -> Option<&str> {
        (**self).get_label(key)
    }

    #[inline]
    fn matches_all(&self, requirements: &[Requirement]) -> bool {
        (**self).matches_all(requirements)
    }

    #[inline]
    fn matches_all_sorted(&self, requirements: &[Requirement]) -> bool {
        (**self).matches_all_sorted(requirements)
    }
}

/// `matches_all` of the key-ordered containers: their `sorted` strategy when the requirements
/// are in key order, else `each` requirement on its own (a lookup).
#[inline(always)]
fn sorted_or_each(
    requirements: &[Requirement],
    sorted: impl FnOnce(&[Requirement]) -> bool,
    each: impl FnMut(&Requirement) -> bool,
) -> bool {
    if requirements.is_sorted_by(|a, b| keycmp::cmp(a.key(), b.key()) != Ordering::Greater) {
        sorted(requirements)
    } else {
        requirements.iter().all(each)
    }
}

impl Labels for BTreeMap<String, String> {
    #[inline]
    fn get_label(&self, key: &str) -> Option<&str> {
        self.get(key).map(String::as_str)
    }

    /// Checks the order, then walks as [`Labels::matches_all_sorted`]; requirements out of key
    /// order fall back to one lookup each, so the answer never depends on the order.
    #[inline]
    fn matches_all(&self, requirements: &[Requirement]) -> bool {
        sorted_or_each(
            requirements,
            |sorted| self.matches_all_sorted(sorted),
            |r| r.matches_value(self.get_label(r.key())),
        )
    }

    /// A merged walk over the sorted map and the key-sorted requirements from both ends:
    /// requirements whose keys start with a byte up to `m` are found walking forward from the
    /// first entry, the rest walking backward from the last, so no entry is visited twice and a
    /// key near either end of the map costs a step or two (iterating a `BTreeMap` is what
    /// dominates a match). The split byte only affects cost, never the answer.
    #[inline]
    fn matches_all_sorted(&self, requirements: &[Requirement]) -> bool {
        const FORWARD_UP_TO: u8 = b'm';
        let mut entries = self.iter();
        // The entry each walk holds but has not passed yet; the iterator between them is
        // shared, so the walks never visit an entry twice.
        let mut front = entries.next();
        let mut split = requirements.len();
        for (i, r) in requirements.iter().enumerate() {
            let key = r.key();
            if key.as_bytes().first().is_some_and(|&b| b > FORWARD_UP_TO) {
                split = i;
                break;
            }
            let value = loop {
                match front {
                    Some((k, v)) => match keycmp::cmp(k, key) {
                        Ordering::Less => front = entries.next(),
                        Ordering::Equal => break Some(v.as_str()),
                        Ordering::Greater => break None,
                    },
                    None => break None,
                }
            };
            if !r.matches_value(value) {
                return false;
            }
        }
        let Some(backward) = requirements.get(split..).filter(|b| !b.is_empty()) else {
            return true;
        };
        let mut back = entries.next_back().or_else(|| front.take());
        for r in backward.iter().rev() {
            let key = r.key();
            let value = loop {
                match back {
                    Some((k, v)) => match keycmp::cmp(k, key) {
                        Ordering::Greater => back = entries.next_back().or_else(|| front.take()),
                        Ordering::Equal => break Some(v.as_str()),
                        Ordering::Less => break None,
                    },
                    None => break None,
                }
            };
            if !r.matches_value(value) {
                return false;
            }
        }
        true
    }
}

impl Labels for LabelMap {
    #[inline]
    fn get_label(&self, key: &str) -> Option<&str> {
        self.get_headed(key).map(|(value, _)| value)
    }

    /// Checks the order, then walks as [`Labels::matches_all_sorted`]; requirements out of key
    /// order fall back to one binary search each, so the answer never depends on the order.
    #[inline]
    fn matches_all(&self, requirements: &[Requirement]) -> bool {
        sorted_or_each(
            requirements,
            |sorted| self.matches_sorted(sorted),
            |r| r.matches_headed(self.get_headed(r.key())),
        )
    }

    /// One forward walk over the key-sorted labels merged with the key-sorted requirements,
    /// comparing the 8-byte heads cached on both sides and reading the strings only when heads
    /// tie (keys or values sharing their first 8 bytes, or longer than 8 bytes).
    #[inline]
    fn matches_all_sorted(&self, requirements: &[Requirement]) -> bool {
        self.matches_sorted(requirements)
    }
}

impl Labels for BTreeMap<&str, &str> {
    #[inline]
    fn get_label(&self, key: &str) -> Option<&str> {
        self.get(key).copied()
    }
}

impl<S: BuildHasher> Labels for HashMap<String, String, S> {
    #[inline]
    fn get_label(&self, key: &str) -> Option<&str> {
        self.get(key).map(String::as_str)
    }
}

impl<S: BuildHasher> Labels for HashMap<&str, &str, S> {
    #[inline]
    fn get_label(&self, key: &str) -> Option<&str> {
        self.get(key).copied()
    }
}

impl<K: AsRef<str>, V: AsRef<str>> Labels for [(K, V)] {
    #[inline]
    fn get_label(&self, key: &str) -> Option<&str> {
        self.iter()
            .find(|(k, _)| keycmp::eq(k.as_ref(), key))
            .map(|(_, v)| v.as_ref())
    }
}

impl<K: AsRef<str>, V: AsRef<str>, const N: usize> Labels for [(K, V); N] {
    #[inline]
    fn get_label(&self, key: &str) -> Option<&str> {
        self.as_slice().get_label(key)
    }
}

impl<K: AsRef<str>, V: AsRef<str>> Labels for Vec<(K, V)> {
    #[inline]
    fn get_label(&self, key: &str) -> Option<&str> {
        self.as_slice().get_label(key)
    }
}

/// Upstream's `Set.String()`: `key=value` pairs sorted by key, joined by `,` (`""` when empty).
pub fn set_to_string(labels: &Set) -> String {
    let mut s = String::new();
    for (i, (k, v)) in labels.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(k);
        s.push('=');
        s.push_str(v);
    }
    s
}

/// Upstream's `FormatLabels`: like [`set_to_string`] but `<none>` for an empty set.
pub fn format_labels(labels: &Set) -> String {
    if labels.is_empty() {
        "<none>".to_owned()
    } else {
        set_to_string(labels)
    }
}

/// Upstream's `Conflicts`: whether a key is present in both sets with different values.
pub fn conflicts(labels1: &Set, labels2: &Set) -> bool {
    let (small, big) = if labels1.len() <= labels2.len() {
        (labels1, labels2)
    } else {
        (labels2, labels1)
    };
    small
        .iter()
        .any(|(k, v)| big.get(k).is_some_and(|other| other != v))
}

/// Upstream's `Merge`: the union of both sets; values of `labels2` win on a shared key.
pub fn merge(labels1: &Set, labels2: &Set) -> Set {
    let mut out = labels1.clone();
    out.extend(labels2.iter().map(|(k, v)| (k.clone(), v.clone())));
    out
}

/// Upstream's `Equals`: both sets have exactly the same keys and values.
pub fn equals(labels1: &Set, labels2: &Set) -> bool {
    labels1 == labels2
}

/// Upstream's `SelectorFromSet` (and `SelectorFromValidatedSet`): a selector of `key=value`
/// requirements matching exactly the set, *without validating* keys or values. An empty set gives
/// [`Selector::everything`].
pub fn selector_from_set(labels: &Set) -> Selector {
    let reqs = labels
        .iter()
        .map(|(k, v)| Requirement::new_unchecked(k.clone(), Operator::Equals, vec![v.clone()]))
        .collect();
    Selector::from_requirements(reqs)
}

/// Upstream's `ValidatedSelectorFromSet`: like [`selector_from_set`] but every key and value is
/// validated; the first invalid pair is reported.
pub fn validated_selector_from_set(labels: &Set) -> Result<Selector, RequirementError> {
    let mut reqs = Vec::with_capacity(labels.len());
    for (k, v) in labels {
        reqs.push(Requirement::new(
            k.clone(),
            Operator::Equals,
            vec![v.clone()],
        )?);
    }
    Ok(Selector::from_requirements(reqs))
}

/// Why [`convert_selector_to_labels_map`] rejected its input.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConvertSelectorError {
    /// A term was not exactly one `key=value` pair.
    #[error("invalid selector: [{}]", .0.join(" "))]
    NotKeyValue(Vec<String>),
    /// A key or value failed validation.
    #[error("{0}")]
    Invalid(Box<crate::validation::field::FieldError>),
}

/// Upstream's `ConvertSelectorToLabelsMap`: parses a `k1=v1,k2=v2` string (only `=`; keys and
/// values trimmed and validated) into a label set. The empty string gives an empty set.
pub fn convert_selector_to_labels_map(selector: &str) -> Result<Set, ConvertSelectorError> {
    let mut out = Set::new();
    if selector.is_empty() {
        return Ok(out);
    }
    for term in selector.split(',') {
        let parts: Vec<&str> = term.split('=').collect();
        let [key, value] = parts.as_slice() else {
            return Err(ConvertSelectorError::NotKeyValue(
                parts.iter().map(|s| (*s).to_owned()).collect(),
            ));
        };
        let key = key.trim();
        let root = FieldPath::root();
        if let Some(e) = validate_key(key, &root) {
            return Err(ConvertSelectorError::Invalid(Box::new(e)));
        }
        let value = value.trim();
        if let Some(e) = validate_value(key, value, &root) {
            return Err(ConvertSelectorError::Invalid(Box::new(e)));
        }
        out.insert(key.to_owned(), value.to_owned());
    }
    Ok(out)
}

/// Upstream's `validateLabelKey`: an `Invalid value` error at `path` when `key` is not a
/// qualified name.
pub(crate) fn validate_key(
    key: &str,
    path: &FieldPath,
) -> Option<crate::validation::field::FieldError> {
    let errs = names::is_qualified_name(key);
    (!errs.is_empty())
        .then(|| crate::validation::field::FieldError::invalid(path, key, errs.join("; ")))
}

/// Upstream's `validateLabelValue`: an `Invalid value` error at `path[key]` when `value` is not
/// a valid label value.
pub(crate) fn validate_value(
    key: &str,
    value: &str,
    path: &FieldPath,
) -> Option<crate::validation::field::FieldError> {
    let errs = names::is_valid_label_value(value);
    (!errs.is_empty()).then(|| {
        crate::validation::field::FieldError::invalid(&path.key(key), value, errs.join("; "))
    })
}
