//! The Kybern demo: load a directory of real Kubernetes manifests, decode every object into its
//! typed kind, apply upstream's defaults, validate it, and print a table of objects with their
//! problems.
//!
//! ```text
//! cargo run --release --example demo                 # examples/manifests + ../shared/manifests
//! cargo run --release --example demo -- DIR [DIR…]   # your own manifests
//! ```
//!
//! Read it top to bottom: it is the first step of the walk a Deployment takes through an
//! orchestrator — the manifest is parsed, typed, defaulted and validated before anything stores it.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use kybern_core::load::{LoadOptions, load_objects};
use kybern_core::{Decoded, Registry};

/// One row of the output table.
struct Row {
    place: String,
    kind: String,
    name: String,
    verdict: String,
    notes: Vec<String>,
}

fn main() -> Result<()> {
    let dirs = directories();
    // The registry knows every compiled-in kind (Pod, Deployment, …), the served kinds that have
    // no struct yet, and the API versions upstream has removed.
    let registry = Registry::builtin();
    let mut rows = Vec::new();
    let mut files = Vec::new();
    for dir in &dirs {
        collect(dir, &mut files).with_context(|| format!("reading {}", dir.display()))?;
    }
    eprintln!(
        "loading {} manifest files from {}",
        files.len(),
        show_dirs(&dirs)
    );

    for (i, (base, file)) in files.iter().enumerate() {
        if i > 0 && i % 50 == 0 {
            eprintln!("  … {i}/{} files", files.len());
        }
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let name = file
            .strip_prefix(base)
            .unwrap_or(file)
            .display()
            .to_string();
        // Step 1: YAML/JSON stream → documents → dynamic objects. A broken file is a row, not a crash.
        let loaded = match load_objects(&name, &text, &LoadOptions::default()) {
            Ok(objects) => objects,
            Err(e) => {
                rows.push(Row {
                    place: name.clone(),
                    kind: "-".into(),
                    name: "-".into(),
                    verdict: "LOAD ERROR".into(),
                    notes: vec![e.to_string()],
                });
                continue;
            }
        };
        for mut lo in loaded {
            // Like `kubectl apply`, a namespaced object without a namespace goes to `default`.
            let namespaced = lo
                .object
                .gvk()
                .and_then(|g| registry.resource_for_kind(&g).map(|r| r.is_namespaced()));
            if namespaced == Some(true) && lo.object.metadata.namespace.is_none() {
                lo.object.metadata.namespace = Some("default".to_owned());
            }
            let place = match lo.origin.item {
                Some(item) => format!("{name}#{}[{item}]", lo.origin.document + 1),
                None => format!("{name}#{}", lo.origin.document + 1),
            };
            let kind = lo
                .object
                .types
                .as_ref()
                .map(|t| format!("{}/{}", t.api_version, t.kind))
                .unwrap_or_default();
            let obj_name = qualified_name(
                lo.object.metadata.namespace.as_deref(),
                lo.object.metadata.name.as_deref(),
            );
            let mut notes: Vec<String> = lo
                .warnings
                .iter()
                .map(|w| format!("warning: {w}"))
                .collect();
            // Step 2: the registry decodes the object into its typed struct where it has one.
            let verdict = match registry.decode(lo.object) {
                Err(e) => {
                    notes.push(e.to_string());
                    "DECODE ERROR".to_owned()
                }
                Ok(Decoded::Typed {
                    mut object,
                    unknown_fields,
                }) => {
                    notes.extend(
                        unknown_fields
                            .iter()
                            .map(|f| format!("warning: unknown field \"{f}\"")),
                    );
                    // Step 3: upstream's defaults (restartPolicy: Always, protocol: TCP, …).
                    object.set_defaults();
                    // Step 4: upstream's validation, every problem with its field path.
                    let errors = object.validate();
                    if errors.is_empty() {
                        "ok".to_owned()
                    } else {
                        notes.extend(errors.iter().map(ToString::to_string));
                        format!("{} problem(s)", errors.len())
                    }
                }
                Ok(Decoded::Dynamic(..)) => "dynamic (no struct)".to_owned(),
                Ok(Decoded::Removed(_, note)) => {
                    notes.push(note.to_owned());
                    "removed API".to_owned()
                }
                Ok(Decoded::Unknown(_)) => "unknown kind (kept whole)".to_owned(),
            };
            rows.push(Row {
                place,
                kind,
                name: obj_name,
                verdict,
                notes,
            });
        }
    }
    print_table(&rows);
    Ok(())
}

/// The directories to load: the command line's, or the repo's examples plus the shared corpus.
fn directories() -> Vec<PathBuf> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if !args.is_empty() {
        return args;
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut dirs = vec![root.join("examples/manifests")];
    let shared = root.join("../shared/manifests");
    if shared.is_dir() {
        dirs.push(shared);
    }
    dirs
}

fn show_dirs(dirs: &[PathBuf]) -> String {
    dirs.iter()
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn collect(dir: &Path, out: &mut Vec<(PathBuf, PathBuf)>) -> Result<()> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<(PathBuf, PathBuf)>) -> Result<()> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()?;
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(base, &p, out)?;
            } else if matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml" | "json")
            ) {
                out.push((base.to_path_buf(), p));
            }
        }
        Ok(())
    }
    walk(dir, dir, out)
}

fn qualified_name(namespace: Option<&str>, name: Option<&str>) -> String {
    match (namespace, name) {
        (Some(ns), Some(n)) => format!("{ns}/{n}"),
        (None, Some(n)) => n.to_owned(),
        (_, None) => "(no name)".to_owned(),
    }
}

fn print_table(rows: &[Row]) {
    let width = |f: fn(&Row) -> &str, min: usize| {
        rows.iter()
            .map(|r| f(r).len())
            .max()
            .unwrap_or(0)
            .clamp(min, 60)
    };
    let (wp, wk, wn) = (
        width(|r| &r.place, 8),
        width(|r| &r.kind, 4),
        width(|r| &r.name, 4),
    );
    println!(
        "{:<wp$}  {:<wk$}  {:<wn$}  RESULT",
        "DOCUMENT", "KIND", "NAME"
    );
    for r in rows {
        println!(
            "{:<wp$}  {:<wk$}  {:<wn$}  {}",
            clip(&r.place, wp),
            clip(&r.kind, wk),
            clip(&r.name, wn),
            r.verdict
        );
        for n in &r.notes {
            println!("{:wp$}    - {n}", "");
        }
    }
    let count = |v: &str| rows.iter().filter(|r| r.verdict.starts_with(v)).count();
    println!();
    println!(
        "{} objects: {} valid, {} with problems, {} dynamic, {} in removed API versions, {} unknown kinds, {} load/decode errors",
        rows.len(),
        count("ok"),
        rows.iter()
            .filter(|r| r.verdict.ends_with("problem(s)"))
            .count(),
        count("dynamic"),
        count("removed"),
        count("unknown"),
        count("LOAD") + count("DECODE"),
    );
}

fn clip(s: &str, w: usize) -> String {
    if s.len() <= w {
        s.to_owned()
    } else {
        let mut cut = w.saturating_sub(1);
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}…", &s[..cut])
    }
}
