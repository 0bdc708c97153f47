//! Continue tokens: opaque pagination cursors holding the list's revision and the last key.
//!
//! The wire form follows upstream's etcd3 store: URL-safe base64 (no padding) of
//! `{"v":"meta.k8s.io/v1","rv":<revision>,"start":"<namespace>/<name>"}` (`"<name>"` for
//! cluster-scoped kinds). Clients must treat it as opaque.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};

use super::StoreError;

const VERSION: &str = "meta.k8s.io/v1";

/// A decoded continue token: resume the list at `revision`, strictly after `(namespace, name)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContinueToken {
    /// The revision of the first page; every page reads at it.
    pub revision: u64,
    /// Namespace of the last key returned (`None` for cluster-scoped kinds).
    pub namespace: Option<String>,
    /// Name of the last key returned.
    pub name: String,
}

#[derive(Serialize, Deserialize)]
struct Wire {
    v: String,
    rv: i64,
    start: String,
}

impl ContinueToken {
    /// The opaque string form.
    pub fn encode(&self) -> String {
        let start = match &self.namespace {
            Some(ns) => format!("{ns}/{}", self.name),
            None => self.name.clone(),
        };
        let wire = Wire {
            v: VERSION.to_owned(),
            rv: i64::try_from(self.revision).unwrap_or(i64::MAX),
            start,
        };
        let json = serde_json::to_vec(&wire).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(json)
    }

    /// Parses a token produced by [`ContinueToken::encode`].
    ///
    /// # Errors
    /// BadRequest `continue key is not valid: …` (upstream's wording) when the token is not
    /// base64 JSON of the expected shape, has another version, or a revision below 1.
    pub fn decode(token: &str, namespaced: bool) -> Result<Self, StoreError> {
        let bad = |why: &str| StoreError::bad_request(format!("continue key is not valid: {why}"));
        let bytes = URL_SAFE_NO_PAD
            .decode(token.trim_end_matches('='))
            .map_err(|e| bad(&e.to_string()))?;
        let wire: Wire = serde_json::from_slice(&bytes).map_err(|e| bad(&e.to_string()))?;
        if wire.v != VERSION {
            return Err(bad(&format!(
                "server does not recognize this encoding: {}",
                wire.v
            )));
        }
        if wire.rv < 1 {
            return Err(bad(
                "incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
            ));
        }
        let (namespace, name) = if namespaced {
            match wire.start.split_once('/') {
                Some((ns, name)) => (Some(ns.to_owned()), name.to_owned()),
                None => return Err(bad("start key has no namespace")),
            }
        } else {
            (None, wire.start)
        };
        Ok(ContinueToken {
            revision: u64::try_from(wire.rv).unwrap_or(0),
            namespace,
            name,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trips_and_rejects() {
        let t = ContinueToken {
            revision: 42,
            namespace: Some("ns".into()),
            name: "a/b".into(),
        };
        assert_eq!(ContinueToken::decode(&t.encode(), true).unwrap(), t);
        let c = ContinueToken {
            revision: 7,
            namespace: None,
            name: "node-1".into(),
        };
        assert_eq!(ContinueToken::decode(&c.encode(), false).unwrap(), c);
        let bad = [
            "!!!",
            "e30", // {}
            &URL_SAFE_NO_PAD.encode(r#"{"v":"x","rv":1,"start":"a"}"#),
            &URL_SAFE_NO_PAD.encode(r#"{"v":"meta.k8s.io/v1","rv":0,"start":"a/b"}"#),
            &URL_SAFE_NO_PAD.encode(r#"{"v":"meta.k8s.io/v1","rv":3,"start":"nons"}"#),
        ];
        for b in bad {
            let e = ContinueToken::decode(b, true).unwrap_err();
            assert!(
                e.to_string().starts_with("continue key is not valid"),
                "{b}: {e}"
            );
        }
    }

    proptest! {
        #[test]
        fn never_panics(s in ".*") {
            let _ = ContinueToken::decode(&s, true);
            let _ = ContinueToken::decode(&s, false);
        }
    }
}
