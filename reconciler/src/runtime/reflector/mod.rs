//! The reflector: applies a [`watcher`](super::watcher) stream to a [`Cache`] — one writer,
//! any number of cloneable [`Reader`]s, indexes, and change subscriptions.
//!
//! The cache is named `Cache`/`Reader` (not kube-runtime's `Store`) so it never clashes with
//! the storage seam [`crate::Store`].

mod cache;

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use futures::{Stream, StreamExt as _};
use kybern_core::Resource;

pub use cache::{Cache, CacheConfig, Change, IndexFn, Reader, Transform, Writer};

use super::Object;
use super::watcher::{Event, WatcherError};

/// Index name: objects by namespace (`""` for cluster-scoped objects).
pub const INDEX_NAMESPACE: &str = "namespace";
/// Index name: objects by the uid of each of their owner references.
pub const INDEX_OWNER_UID: &str = "owner-uid";
/// Index name: objects by each `key=value` label they carry.
pub const INDEX_LABEL: &str = "label";

/// The identity of an object within one kind: namespace and name.
///
/// Built once (one allocation holding `namespace/name`) and shared: a clone is one reference
/// count increment, so work queues, caches and expectations pass keys around without copying
/// strings. Equality, hashing and ordering are by `(namespace, name)`, as for a pair of strings.
#[derive(Clone)]
pub struct ObjectKey {
    /// `namespace/name`, or `name` for a cluster-scoped object.
    text: Arc<str>,
    /// Byte length of the namespace (0: cluster-scoped).
    ns_len: usize,
}

/// Keys up to this length are assembled on the stack (one heap allocation per key).
const INLINE_KEY: usize = 192;

impl ObjectKey {
    /// A key from namespace and name (an empty namespace means cluster-scoped).
    pub fn new(namespace: Option<&str>, name: &str) -> Self {
        let ns = namespace.unwrap_or("");
        let text: Arc<str> = if ns.is_empty() {
            Arc::from(name)
        } else {
            let len = ns.len() + 1 + name.len();
            let mut buf = [0u8; INLINE_KEY];
            match buf.get_mut(..len) {
                Some(out) => {
                    out[..ns.len()].copy_from_slice(ns.as_bytes());
                    out[ns.len()] = b'/';
                    out[ns.len() + 1..].copy_from_slice(name.as_bytes());
                    // Two valid UTF-8 strings joined by an ASCII byte are valid UTF-8.
                    match std::str::from_utf8(out) {
                        Ok(joined) => Arc::from(joined),
                        Err(_) => Arc::from(format!("{ns}/{name}")),
                    }
                }
                None => Arc::from(format!("{ns}/{name}")),
            }
        };
        ObjectKey {
            text,
            ns_len: ns.len(),
        }
    }

    /// The key of `obj`.
    pub fn of<K: Resource>(obj: &K) -> Self {
        Self::new(obj.namespace(), obj.name())
    }

    /// The namespace (`None` for cluster-scoped objects).
    pub fn namespace(&self) -> Option<&str> {
        if self.ns_len == 0 {
            return None;
        }
        self.text.get(..self.ns_len)
    }

    /// The name.
    pub fn name(&self) -> &str {
        if self.ns_len == 0 {
            return &self.text;
        }
        self.text.get(self.ns_len + 1..).unwrap_or("")
    }

    /// `namespace/name` (or `name` when cluster-scoped), the form client-go's
    /// `MetaNamespaceKeyFunc` produces.
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl PartialEq for ObjectKey {
    fn eq(&self, other: &Self) -> bool {
        self.ns_len == other.ns_len
            && (Arc::ptr_eq(&self.text, &other.text) || self.text == other.text)
    }
}

impl Eq for ObjectKey {}

impl Hash for ObjectKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.ns_len.hash(state);
        self.text.hash(state);
    }
}

impl PartialOrd for ObjectKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ObjectKey {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.namespace(), self.name()).cmp(&(other.namespace(), other.name()))
    }
}

impl fmt::Debug for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectKey")
            .field("namespace", &self.namespace())
            .field("name", &self.name())
            .finish()
    }
}

impl fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Applies every event of `stream` to `writer`, passing the events (and errors) through.
pub fn reflector<K, S>(
    mut writer: Writer<K>,
    stream: S,
) -> impl Stream<Item = Result<Event<K>, WatcherError>>
where
    K: Object,
    S: Stream<Item = Result<Event<K>, WatcherError>>,
{
    stream.map(move |item| {
        if let Ok(ev) = &item {
            writer.apply(ev.clone());
        }
        item
    })
}

#[cfg(test)]
mod tests {
    use std::collections::hash_map::DefaultHasher;

    use super::*;

    fn hash_of(k: &ObjectKey) -> u64 {
        let mut h = DefaultHasher::new();
        k.hash(&mut h);
        h.finish()
    }

    /// Keys behave exactly as the `(namespace, name)` pairs they stand for.
    #[test]
    fn keys_compare_as_namespace_name_pairs() {
        let long = "n".repeat(300);
        let pairs: Vec<(Option<&str>, &str)> = vec![
            (None, "a"),
            (None, "a/b"),
            (Some("a"), "b"),
            (Some("a"), "b/c"),
            (Some("a/b"), "c"),
            (Some("a-x"), "b"),
            (Some("default"), "web-0"),
            (Some("default"), ""),
            (Some("kube-system"), "coredns"),
            (Some(long.as_str()), long.as_str()),
            (Some("ü"), "ß"),
        ];
        for (ns, name) in &pairs {
            let k = ObjectKey::new(*ns, name);
            assert_eq!((k.namespace(), k.name()), (*ns, *name));
            let text = match ns {
                Some(ns) => format!("{ns}/{name}"),
                None => (*name).to_owned(),
            };
            assert_eq!(k.to_string(), text);
            assert_eq!(k.as_str(), text);
            assert_eq!(k.clone(), k);
        }
        for a in &pairs {
            for b in &pairs {
                let (ka, kb) = (ObjectKey::new(a.0, a.1), ObjectKey::new(b.0, b.1));
                assert_eq!(ka == kb, a == b, "{a:?} vs {b:?}");
                assert_eq!(ka.cmp(&kb), a.cmp(b), "{a:?} vs {b:?}");
                if a == b {
                    assert_eq!(hash_of(&ka), hash_of(&kb));
                }
            }
        }
        assert_eq!(ObjectKey::new(Some(""), "x"), ObjectKey::new(None, "x"));
    }
}
