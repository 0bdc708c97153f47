//! The round-trip test over the real-manifest corpus: every document of a compiled-in kind
//! decodes into its typed struct and re-encodes to JSON equal to the input, modulo what
//! upstream's own encoding omits (nulls, empty optional fields) and canonicalises (quantities).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use kybern_core::load::{Document, LoadOptions, load_str};
use kybern_core::{GroupVersionKind, Quantity, TypedResource};
use serde_json::Value;

fn corpus_root() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/manifests");
    assert!(
        p.is_dir(),
        "the manifest corpus is missing: expected {} (../shared beside the repo)",
        p.display()
    );
    p
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            yaml_files(&p, out);
        } else if matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json")
        ) {
            out.push(p);
        }
    }
}

/// Drops what upstream's encoder omits: nulls, and empty maps/lists in optional positions.
fn normalize(v: &Value) -> Option<Value> {
    match v {
        Value::Null => None,
        Value::Object(m) => {
            let out: serde_json::Map<String, Value> = m
                .iter()
                .filter_map(|(k, v)| normalize(v).map(|v| (k.clone(), v)))
                .collect();
            if out.is_empty() {
                None
            } else {
                Some(Value::Object(out))
            }
        }
        Value::Array(a) => {
            if a.is_empty() {
                None
            } else {
                Some(Value::Array(
                    a.iter()
                        .map(|v| normalize(v).unwrap_or(Value::Object(Default::default())))
                        .collect(),
                ))
            }
        }
        other => Some(other.clone()),
    }
}

/// Scalars that differ only in a way upstream's encoder produces too: a quantity re-encoded in
/// canonical form (`cpu: 1` → `"1"`, `1000m` → `"1"`).
fn equivalent_scalars(input: &Value, output: &Value) -> bool {
    let quantity = |v: &Value| serde_json::from_value::<Quantity>(v.clone()).ok();
    match (quantity(input), quantity(output)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

fn diff(path: &str, input: &Value, output: &Value, out: &mut Vec<String>) {
    match (input, output) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                match b.get(k) {
                    Some(vb) => diff(&format!("{path}.{k}"), va, vb, out),
                    None => out.push(format!("{path}.{k}: dropped (was {va})")),
                }
            }
            for k in b.keys().filter(|k| !a.contains_key(*k)) {
                out.push(format!("{path}.{k}: added ({})", b[k]));
            }
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            for (i, (va, vb)) in a.iter().zip(b).enumerate() {
                diff(&format!("{path}[{i}]"), va, vb, out);
            }
        }
        (a, b) if a == b || equivalent_scalars(a, b) => {}
        (a, b) => out.push(format!("{path}: {a} became {b}")),
    }
}

/// Decodes `doc` as `K` when its GVK is `K`'s; returns the re-encoded JSON.
fn roundtrip_as<K>(doc: &Document, gvk: &GroupVersionKind) -> Option<Result<Value, String>>
where
    K: TypedResource + serde::Serialize + serde::de::DeserializeOwned,
{
    if *gvk != K::gvk() {
        return None;
    }
    Some(
        doc.decode::<K>()
            .map_err(|e| e.to_string())
            .and_then(|k| serde_json::to_value(&k).map_err(|e| e.to_string())),
    )
}

fn roundtrip(doc: &Document, gvk: &GroupVersionKind) -> Option<Result<Value, String>> {
    macro_rules! try_kinds {
        ($($k:ty),* $(,)?) => {
            $( if let Some(r) = roundtrip_as::<$k>(doc, gvk) { return Some(r); } )*
        };
    }
    kybern_core::for_each_builtin_kind!(try_kinds);
    None
}

#[test]
fn every_typed_document_round_trips() {
    let mut files = Vec::new();
    yaml_files(&corpus_root(), &mut files);
    assert!(
        files.len() > 150,
        "corpus looks incomplete: {} files",
        files.len()
    );
    let (mut typed, mut dynamic) = (0usize, 0usize);
    let mut failures = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        let name = file
            .strip_prefix(corpus_root())
            .unwrap()
            .display()
            .to_string();
        let docs =
            load_str(&name, &text, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        for doc in docs {
            let api_version = doc.value["apiVersion"].as_str().unwrap_or_default();
            let kind = doc.value["kind"].as_str().unwrap_or_default();
            let gvk = GroupVersionKind::from_api_version_kind(api_version, kind);
            match roundtrip(&doc, &gvk) {
                None => dynamic += 1,
                Some(Err(e)) => failures.push(format!("{name} ({gvk}): decode failed: {e}")),
                Some(Ok(out)) => {
                    typed += 1;
                    let (a, b) = (normalize(&doc.value).unwrap(), normalize(&out).unwrap());
                    let mut d = Vec::new();
                    diff("", &a, &b, &mut d);
                    for line in d {
                        failures.push(format!(
                            "{name} ({gvk}) doc {}: {line}",
                            doc.origin.document
                        ));
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} round-trip differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
    // The corpus has 217 documents, of which 6 are Lists expanding to 131 items; most are typed.
    assert!(
        typed >= 250,
        "only {typed} typed documents round-tripped ({dynamic} dynamic)"
    );
    eprintln!("round-tripped {typed} typed objects; {dynamic} dynamic");
}
