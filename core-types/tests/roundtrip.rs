//! The round-trip test over the real-manifest corpus: every document of a compiled-in kind
//! decodes into its typed struct and re-encodes to JSON equal to the input, modulo what
//! upstream's own encoding omits (nulls, empty optional fields) and canonicalises (quantities).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use kybern_core::decode::decode_strict;
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

/// Re-encoded JSON plus the unknown fields the decoder reported.
type Outcome = Result<(Value, Vec<String>), String>;

/// Decodes `doc` as `K` when its GVK is `K`'s; returns the re-encoded JSON and unknown fields.
fn roundtrip_as<K>(doc: &Document, gvk: &GroupVersionKind) -> Option<Outcome>
where
    K: TypedResource + serde::Serialize + serde::de::DeserializeOwned,
{
    if *gvk != K::gvk() {
        return None;
    }
    Some(match decode_strict::<K>(doc.value.clone()) {
        Err(e) => Err(format!("{}: {}", e.path, e.message)),
        Ok((k, unknown)) => Ok((serde_json::to_value(&k).unwrap(), unknown)),
    })
}

fn roundtrip(doc: &Document, gvk: &GroupVersionKind) -> Option<Outcome> {
    macro_rules! try_kinds {
        ($($k:ty),* $(,)?) => {
            $( if let Some(r) = roundtrip_as::<$k>(doc, gvk) { return Some(r); } )*
        };
    }
    kybern_core::for_each_builtin_kind!(try_kinds);
    None
}

/// Upstream rejects these too: the file carries a placeholder where the API wants a number.
const EXPECTED_DECODE_FAILURES: &[(&str, &str)] = &[(
    "kubernetes-examples/_archived/volumes/fibre_channel/fc.yaml",
    "spec.volumes[0].fc.lun: invalid type: string \"<ADD LUN ID Here>\", expected i32",
)];

/// Fields no v1.33 type has (upstream drops them with an `unknown field` warning):
/// `storageos-pv.yaml` gives a PersistentVolume the Pod volume's `secretName`.
const EXPECTED_UNKNOWN_FIELDS: usize = 1;

/// Embedded objects of a root kind (a StatefulSet's `volumeClaimTemplates`) are written with
/// their `apiVersion`/`kind` even when the input omitted them: a documented deviation (upstream
/// keeps whatever the input had; the API server accepts both).
fn is_embedded_type_field(line: &str) -> bool {
    (line.contains("].apiVersion: added") || line.contains("].kind: added"))
        && line.starts_with(".spec.")
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
    let (mut typed, mut dynamic, mut rejected, mut unknown_total) =
        (0usize, 0usize, 0usize, 0usize);
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
                Some(Err(e)) => {
                    let expected = EXPECTED_DECODE_FAILURES.iter().find(|(f, _)| *f == name);
                    match expected {
                        Some((_, want)) if e.starts_with(want) => rejected += 1,
                        _ => failures.push(format!("{name} ({gvk}): decode failed: {e}")),
                    }
                }
                Some(Ok((out, unknown))) => {
                    typed += 1;
                    let (a, b) = (normalize(&doc.value).unwrap(), normalize(&out).unwrap());
                    let mut d = Vec::new();
                    diff("", &a, &b, &mut d);
                    let mut dropped = std::collections::BTreeSet::new();
                    for line in d {
                        if let Some((path, _)) = line.split_once(": dropped") {
                            dropped.insert(path.trim_start_matches('.').to_owned());
                        } else if !is_embedded_type_field(&line) {
                            failures.push(format!(
                                "{name} ({gvk}) doc {}: {line}",
                                doc.origin.document
                            ));
                        }
                    }
                    // Dropped fields are exactly the unknown fields the decoder reported.
                    let unknown_set: std::collections::BTreeSet<_> =
                        unknown.iter().cloned().collect();
                    if unknown_set != dropped {
                        failures.push(format!(
                            "{name}: dropped {dropped:?} but reported unknown {unknown_set:?}"
                        ));
                    }
                    unknown_total += unknown.len();
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
    assert_eq!(
        rejected,
        EXPECTED_DECODE_FAILURES.len(),
        "every expected decode failure happened"
    );
    assert_eq!(
        unknown_total, EXPECTED_UNKNOWN_FIELDS,
        "unknown fields across the corpus"
    );
    eprintln!("round-tripped {typed} typed objects; {dynamic} dynamic; {rejected} rejected");
}
