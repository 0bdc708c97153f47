//! Benchmark: loading the whole real-manifest corpus (read into memory first) — YAML with and
//! without the line index, to `DynamicObject`s, and the same documents re-encoded as JSON.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use kybern_core::load::{LoadOptions, load_objects, load_str};

fn corpus() -> Vec<(String, String)> {
    let root = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/manifests"
    ));
    assert!(
        root.is_dir(),
        "shared manifests missing at {}",
        root.display()
    );
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "yaml") {
                out.push((
                    path.display().to_string(),
                    std::fs::read_to_string(&path).unwrap(),
                ));
            }
        }
    }
    out
}

fn bench(c: &mut Criterion) {
    let files = corpus();
    let bytes: usize = files.iter().map(|(_, t)| t.len()).sum();
    let opts = LoadOptions::default();
    let docs: usize = files
        .iter()
        .map(|(n, t)| load_str(n, t, &opts).unwrap().len())
        .sum();
    // The same documents as one JSON text per file (one JSON value per line).
    let json: Vec<(String, String)> = files
        .iter()
        .map(|(n, t)| {
            let text = load_str(
                n,
                t,
                &LoadOptions {
                    expand_lists: false,
                    ..opts.clone()
                },
            )
            .unwrap()
            .iter()
            .map(|d| serde_json::to_string_pretty(&d.value).unwrap() + "\n")
            .collect::<String>();
            (n.clone(), text)
        })
        .collect();
    let json_bytes: usize = json.iter().map(|(_, t)| t.len()).sum();
    eprintln!(
        "corpus: {} files, {bytes} bytes YAML, {json_bytes} bytes JSON, {docs} documents (Lists expanded)",
        files.len()
    );

    let no_index = LoadOptions {
        line_index: false,
        ..opts.clone()
    };
    let mut g = c.benchmark_group("load_corpus");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.bench_function("yaml_load_str", |b| {
        b.iter(|| {
            for (n, t) in &files {
                black_box(load_str(n, t, &opts).unwrap());
            }
        })
    });
    g.bench_function("yaml_load_str_no_line_index", |b| {
        b.iter(|| {
            for (n, t) in &files {
                black_box(load_str(n, t, &no_index).unwrap());
            }
        })
    });
    // Baseline: saphyr-parser alone, events only (what the builder costs on top of the parser).
    g.bench_function("saphyr_events_only", |b| {
        b.iter(|| {
            for (_, t) in &files {
                let mut p = saphyr_parser::Parser::new_from_str(t);
                while let Some(ev) = p.next_event() {
                    black_box(ev.unwrap());
                }
            }
        })
    });
    g.bench_function("yaml_load_objects", |b| {
        b.iter(|| {
            for (n, t) in &files {
                black_box(load_objects(n, t, &opts).unwrap());
            }
        })
    });
    g.throughput(Throughput::Bytes(json_bytes as u64));
    g.bench_function("json_load_str", |b| {
        b.iter(|| {
            for (n, t) in &json {
                black_box(load_str(n, t, &opts).unwrap());
            }
        })
    });
    g.bench_function("json_load_str_no_line_index", |b| {
        b.iter(|| {
            for (n, t) in &json {
                black_box(load_str(n, t, &no_index).unwrap());
            }
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
