//! Serde helpers shared by the generated API types: Go's wire conventions for `null`, absent
//! fields and `apiVersion`/`kind` checks.
//!
//! Written by hand (not generated); `tools/gen-api.py` leaves this file alone.

use serde::{Deserialize, Deserializer};

use crate::TypedResource;

/// Decodes a value where JSON `null` means the type's zero value (`Default`).
///
/// Go decodes `null` into a slice, map or struct as its zero value, so upstream objects such as
/// the RBAC bootstrap policy (`rules: null`) rely on it. Used with `#[serde(default)]` so an
/// absent field is the zero value too.
///
/// # Errors
/// Fails when the value is neither `null` nor a valid `T`.
pub fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

/// Checks decoded `apiVersion`/`kind` against a typed kind's constants.
///
/// Absent (or empty) values are accepted — the kind is implied by the Rust type — but a value
/// naming another kind is an error.
///
/// # Errors
/// `expected apiVersion "apps/v1" and kind "Deployment", got apiVersion "v1" and kind "Pod"`
/// when either differs.
pub fn check_type_meta<K: TypedResource, E: serde::de::Error>(
    api_version: Option<&str>,
    kind: Option<&str>,
) -> Result<(), E> {
    let api_version = api_version.filter(|s| !s.is_empty());
    let kind = kind.filter(|s| !s.is_empty());
    let api_ok = api_version.is_none_or(|a| a == K::API_VERSION);
    let kind_ok = kind.is_none_or(|k| k == K::KIND);
    if api_ok && kind_ok {
        return Ok(());
    }
    Err(E::custom(format_args!(
        "expected apiVersion {:?} and kind {:?}, got apiVersion {} and kind {}",
        K::API_VERSION,
        K::KIND,
        describe(api_version),
        describe(kind),
    )))
}

fn describe(value: Option<&str>) -> String {
    match value {
        Some(v) => format!("{v:?}"),
        None => "(none)".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Collects every root kind's `apiVersion` and kind; proves the macro works inside the crate.
    macro_rules! type_metas {
        ($($kind:path),* $(,)?) => {
            vec![$((<$kind as TypedResource>::API_VERSION, <$kind as TypedResource>::KIND)),*]
        };
    }

    #[test]
    fn check_type_meta_accepts_own_or_absent_and_rejects_others() {
        use crate::api::apps::v1::Deployment;
        type E = serde_json::Error;
        let check = |api: Option<&str>, kind: Option<&str>| {
            check_type_meta::<Deployment, E>(api, kind).map_err(|e| e.to_string())
        };
        assert_eq!(check(Some("apps/v1"), Some("Deployment")), Ok(()));
        assert_eq!(check(None, None), Ok(()));
        assert_eq!(check(Some(""), Some("")), Ok(()));
        assert_eq!(
            check(Some("v1"), None),
            Err(r#"expected apiVersion "apps/v1" and kind "Deployment", got apiVersion "v1" and kind (none)"#.to_owned())
        );
        assert!(check(None, Some("StatefulSet")).is_err());
    }

    #[test]
    fn builtin_kinds_have_unique_identities() {
        let metas = crate::for_each_builtin_kind!(type_metas);
        let unique: std::collections::BTreeSet<_> = metas.iter().collect();
        assert_eq!(unique.len(), metas.len());
        assert!(metas.contains(&("v1", "Pod")));
        assert!(metas.contains(&("apiextensions.k8s.io/v1", "CustomResourceDefinition")));
    }
}
