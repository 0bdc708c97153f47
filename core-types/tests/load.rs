//! Manifest loading: the real-manifest corpus (counts against SOURCES.tsv and the README),
//! duplicate keys, KYAML, block scalars, scalar resolution, anchors/merges/limits, JSON streams,
//! line index and typed errors, hand-written expected values, and no-panic property tests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use kybern_core::load::{
    DuplicateKeys, LoadError, LoadErrorKind, LoadOptions, LoadWarningKind, Position, load_objects,
    load_str,
};
use proptest::prelude::*;
use serde_json::{Value, json};

const MANIFESTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/manifests");

fn manifests_dir() -> PathBuf {
    let dir = PathBuf::from(MANIFESTS);
    assert!(
        dir.join("SOURCES.tsv").is_file(),
        "shared manifests missing at {}",
        dir.display()
    );
    dir
}

/// Every `.yaml`/`.yml`/`.json` file under the corpus, as (relative path, text).
fn corpus() -> Vec<(String, String)> {
    let root = manifests_dir();
    let mut out = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml" | "json")
            ) {
                let rel = path
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.push((rel, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    out.sort();
    assert!(!out.is_empty(), "no manifests found");
    out
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(manifests_dir().join(rel)).unwrap()
}

/// `path → documents` from SOURCES.tsv (columns found by header name).
fn sources() -> BTreeMap<String, usize> {
    let tsv = std::fs::read_to_string(Path::new(MANIFESTS).join("SOURCES.tsv")).unwrap();
    let mut lines = tsv.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let path_col = header.iter().position(|h| *h == "path").unwrap();
    let docs_col = header.iter().position(|h| *h == "documents").unwrap();
    lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let cols: Vec<&str> = l.split('\t').collect();
            (cols[path_col].to_owned(), cols[docs_col].parse().unwrap())
        })
        .collect()
}

/// The README's `| \`apiVersion\` | Kind | n |` tables: (documents table, List items table),
/// plus the total documents from `- documents: **N**`.
type KindCounts = BTreeMap<(String, String), usize>;
fn readme_counts() -> (KindCounts, KindCounts, usize) {
    let readme = std::fs::read_to_string(Path::new(MANIFESTS).join("README.md")).unwrap();
    let mut tables = vec![KindCounts::new()];
    let mut total = None;
    let mut in_table = false;
    for line in readme.lines() {
        if let Some(rest) = line.strip_prefix("- documents: **") {
            total = Some(
                rest.trim_end_matches(|c: char| !c.is_ascii_digit())
                    .parse()
                    .unwrap(),
            );
        }
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let row = cells.len() == 5
            && cells[1].starts_with('`')
            && cells[3].chars().all(|c| c.is_ascii_digit())
            && !cells[3].is_empty();
        if row {
            in_table = true;
            let t = tables.last_mut().unwrap();
            t.insert(
                (cells[1].trim_matches('`').to_owned(), cells[2].to_owned()),
                cells[3].parse().unwrap(),
            );
        } else if in_table {
            in_table = false;
            tables.push(KindCounts::new());
        }
    }
    tables.retain(|t| !t.is_empty());
    assert!(tables.len() >= 2, "README tables not found");
    (tables[0].clone(), tables[1].clone(), total.unwrap())
}

fn kind_of(v: &Value) -> (String, String) {
    (
        v["apiVersion"].as_str().unwrap_or_default().to_owned(),
        v["kind"].as_str().unwrap_or_default().to_owned(),
    )
}

#[test]
fn corpus_loads_and_matches_sources_and_readme() {
    let sources = sources();
    let (readme_docs, readme_items, readme_total) = readme_counts();
    let files = corpus();
    assert_eq!(
        files.len(),
        sources.len(),
        "files on disk vs SOURCES.tsv rows"
    );
    let unexpanded = LoadOptions {
        expand_lists: false,
        ..LoadOptions::default()
    };
    let mut docs_by_kind = KindCounts::new();
    let mut items_by_kind = KindCounts::new();
    let mut total = 0;
    for (rel, text) in &files {
        let docs = load_str(rel, text, &unexpanded).unwrap_or_else(|e| panic!("{e}"));
        let want = sources
            .get(rel)
            .unwrap_or_else(|| panic!("{rel} not in SOURCES.tsv"));
        assert_eq!(docs.len(), *want, "{rel}: documents");
        total += docs.len();
        for (i, d) in docs.iter().enumerate() {
            assert_eq!(d.origin.document, i, "{rel}");
            assert_eq!(d.origin.item, None, "{rel}");
            *docs_by_kind.entry(kind_of(&d.value)).or_default() += 1;
        }
        let objects =
            load_objects(rel, text, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        for o in &objects {
            assert!(
                o.object.types.as_ref().is_some_and(|t| !t.kind.is_empty()),
                "{rel}"
            );
            if let Some(i) = o.origin.item {
                let t = o.object.types.clone().unwrap();
                *items_by_kind.entry((t.api_version, t.kind)).or_default() += 1;
                // The item's position is the start of its mapping inside `items`.
                assert!(o.origin.position.line > 1, "{rel} item {i}");
            }
        }
    }
    assert_eq!(total, readme_total, "total documents");
    assert_eq!(docs_by_kind, readme_docs, "documents per apiVersion/kind");
    assert_eq!(
        items_by_kind, readme_items,
        "List items per apiVersion/kind"
    );
    assert_eq!(readme_total, 217);
    assert_eq!(readme_items.values().sum::<usize>(), 69 + 48 + 7 + 7);
}

/// (file, dotted key path, line of the repeat, line of the first occurrence)
const DUPLICATES: &[(&str, &str, usize, usize)] = &[
    (
        "kubernetes-examples/_archived/openshift-origin/etcd-controller.yaml",
        "spec.selector",
        12,
        6,
    ),
    (
        "kubernetes-examples/_archived/openshift-origin/openshift-controller.yaml",
        "spec.selector",
        12,
        8,
    ),
    (
        "kubernetes-examples/_archived/volumes/scaleio/sc-pvc.yaml",
        "spec.storageClassName",
        12,
        6,
    ),
];

#[test]
fn duplicate_keys_last_wins_with_warning_or_error() {
    for &(rel, path, line, first) in DUPLICATES {
        let text = read(rel);
        let docs = load_str(rel, &text, &LoadOptions::default()).unwrap();
        let warnings: Vec<String> = docs
            .iter()
            .flat_map(|d| d.warnings.iter().map(ToString::to_string))
            .collect();
        assert_eq!(
            warnings,
            [format!(
                "{path}: duplicate key (line {line}, first at line {first})"
            )],
            "{rel}"
        );
        let w = &docs[0].warnings[0];
        assert_eq!(w.kind, LoadWarningKind::DuplicateKey { first_line: first });
        assert_eq!(w.position.line, line);

        let strict = LoadOptions {
            duplicate_keys: DuplicateKeys::Error,
            ..LoadOptions::default()
        };
        let err = load_str(rel, &text, &strict).unwrap_err();
        assert_eq!(
            err.kind,
            LoadErrorKind::DuplicateKey {
                path: path.to_owned(),
                first_line: first
            },
            "{rel}"
        );
        assert_eq!(err.location.line, line, "{rel}");
        assert_eq!(err.location.document, 0);
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!(
                "{rel}: document 1, line {line}, column 3: duplicate key {path}"
            )),
            "{msg}"
        );
    }
    // Every other corpus file loads in strict mode too.
    let strict = LoadOptions {
        duplicate_keys: DuplicateKeys::Error,
        ..LoadOptions::default()
    };
    for (rel, text) in corpus() {
        let dup = DUPLICATES.iter().any(|d| d.0 == rel);
        assert_eq!(load_str(&rel, &text, &strict).is_err(), dup, "{rel}");
    }
}

#[test]
fn last_wins_keeps_later_value_in_first_place() {
    let docs = load_str(
        "x",
        "a: 1\nb: 2\na: 3\nlist:\n- k: 1\n  k: 2\n",
        &LoadOptions::default(),
    )
    .unwrap();
    assert_eq!(docs[0].value, json!({"a": 3, "b": 2, "list": [{"k": 2}]}));
    let keys: Vec<&String> = docs[0].value.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["a", "b", "list"]);
    let w: Vec<String> = docs[0].warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        w,
        [
            "a: duplicate key (line 3, first at line 1)",
            "list[0].k: duplicate key (line 6, first at line 5)"
        ]
    );
    // The line index points at the value that won.
    assert_eq!(docs[0].origin.lines.get("/a").unwrap().line, 3);
}

fn check_value(name: &str, text: &str, want: &[Value]) {
    let docs = load_str(name, text, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
    let got: Vec<&Value> = docs.iter().map(|d| &d.value).collect();
    let want: Vec<&Value> = want.iter().collect();
    assert_eq!(got, want, "{name}");
}

#[test]
fn hand_written_values() {
    let cases: Vec<(&str, Vec<Value>)> = vec![
        (
            "kubernetes-website/content/en/examples/controllers/replicaset.yaml",
            vec![json!({
                "apiVersion": "apps/v1", "kind": "ReplicaSet",
                "metadata": {"name": "my-repset"},
                "spec": {
                    "replicas": 3,
                    "selector": {"matchLabels": {"pod-is-for": "garbage-collection-example"}},
                    "template": {
                        "metadata": {"labels": {"pod-is-for": "garbage-collection-example"}},
                        "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}
                    }
                }
            })],
        ),
        (
            "kubernetes-website/content/en/examples/admin/resource/memory-constraints.yaml",
            vec![json!({
                "apiVersion": "v1", "kind": "LimitRange",
                "metadata": {"name": "mem-min-max-demo-lr"},
                "spec": {"limits": [{"max": {"memory": "1Gi"}, "min": {"memory": "500Mi"}, "type": "Container"}]}
            })],
        ),
        (
            "kubernetes-examples/web/guestbook/frontend-deployment.yaml",
            vec![json!({
                "apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "frontend"},
                "spec": {
                    "selector": {"matchLabels": {"app": "guestbook", "tier": "frontend"}},
                    "replicas": 3,
                    "template": {
                        "metadata": {"labels": {"app": "guestbook", "tier": "frontend"}},
                        "spec": {"containers": [{
                            "name": "php-redis",
                            "image": "gcr.io/google-samples/gb-frontend:v5",
                            "resources": {"requests": {"cpu": "100m", "memory": "100Mi"}},
                            "env": [{"name": "GET_HOSTS_FROM", "value": "dns"}],
                            "ports": [{"containerPort": 80}]
                        }]}
                    }
                }
            })],
        ),
        (
            "kubernetes-examples/_archived/volumes/scaleio/sc-pvc.yaml",
            vec![json!({
                "kind": "PersistentVolumeClaim", "apiVersion": "v1",
                "metadata": {"name": "pvc-sio-small"},
                "spec": {
                    "storageClassName": "sio-small",
                    "accessModes": ["ReadWriteOnce"],
                    "resources": {"requests": {"storage": "10Gi"}}
                }
            })],
        ),
    ];
    for (rel, want) in cases {
        check_value(rel, &read(rel), &want);
    }
}

#[test]
fn kyaml_files_load() {
    let readme = std::fs::read_to_string(Path::new(MANIFESTS).join("README.md")).unwrap();
    let line = readme
        .lines()
        .find(|l| l.contains("Flow-style YAML"))
        .expect("KYAML list in README");
    let files: Vec<&str> = line
        .split('`')
        .filter(|s| s.starts_with("kubernetes-website/") && s.ends_with(".yaml"))
        .collect();
    assert_eq!(files.len(), 6, "{line}");
    for rel in files {
        let text = read(rel);
        assert!(text.contains("{"), "{rel}");
        let objs =
            load_objects(rel, &text, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        assert!(!objs.is_empty(), "{rel}");
        for o in objs {
            assert!(o.object.metadata.name.is_some(), "{rel}");
        }
    }
}

#[test]
fn corpus_block_scalar_keeps_text_exactly() {
    let rel = "kubernetes-examples/AI/vllm-deployment/hpa/prometheus-rule.yaml";
    let text = read(rel);
    // Independent reading: the lines after `expr: |`, minus their 8-space indentation.
    let lines: Vec<&str> = text.split('\n').collect();
    let start = lines.iter().position(|l| l.trim() == "expr: |").unwrap() + 1;
    let body: Vec<&str> = lines[start..]
        .iter()
        .take_while(|l| l.starts_with("        ") || l.is_empty())
        .map(|l| l.get(8..).unwrap_or(""))
        .collect();
    // Clip chomping: one final line break if the text had one (this file ends without `\n`).
    let want = body.join("\n");
    assert!(want.ends_with(')') && want.lines().count() > 5, "{want}");
    let docs = load_str(rel, &text, &LoadOptions::default()).unwrap();
    let got = docs[0]
        .value
        .pointer("/spec/groups/0/rules/0/expr")
        .unwrap();
    assert_eq!(got, &Value::String(want));
}

#[test]
fn scalars_and_structures() {
    let cases: Vec<(&str, &str, Value)> = vec![
        (
            "literal clip",
            "a: |\n  x\n   y\n\n  z\nb: 1\n",
            json!({"a": "x\n y\n\nz\n", "b": 1}),
        ),
        ("literal strip", "a: |-\n  x\n  y\n", json!({"a": "x\ny"})),
        (
            "literal at end of input without line break",
            "a: |\n  x\n  y",
            json!({"a": "x\ny"}),
        ),
        (
            "folded at end of input without line break",
            "a: >\n  x\n  y",
            json!({"a": "x y"}),
        ),
        (
            "literal keep",
            "a: |+\n  x\n\n\nb: 1\n",
            json!({"a": "x\n\n\n", "b": 1}),
        ),
        (
            "folded",
            "a: >\n  one\n  two\n\n  three\n",
            json!({"a": "one two\nthree\n"}),
        ),
        (
            "quoted stay strings",
            "a: \"1\"\nb: 'true'\nc: \"\"\n",
            json!({"a": "1", "b": "true", "c": ""}),
        ),
        (
            "core schema",
            "a: ~\nb: NULL\nc: True\nd: 0x1F\ne: 0o17\nf: -1.5e2\ng:\n",
            json!({"a": null, "b": null, "c": true, "d": 31, "e": 15, "f": -150.0, "g": null}),
        ),
        (
            "yaml 1.1 bools stay strings",
            "a: yes\nb: no\nc: on\nd: off\ne: y\n",
            json!({"a": "yes", "b": "no", "c": "on", "d": "off", "e": "y"}),
        ),
        (
            "leading zero octal as go-yaml",
            "defaultMode: 0644\n",
            json!({"defaultMode": 420}),
        ),
        (
            "big ints",
            "a: 18446744073709551615\nb: 123456789012345678901234\nc: 0x1FFFFFFFFFFFFFFFF\n",
            json!({"a": 18446744073709551615u64, "b": 1.2345678901234568e23, "c": "0x1FFFFFFFFFFFFFFFF"}),
        ),
        (
            "non-string keys",
            "1: a\ntrue: b\n0x10: c\n~: d\n1.5: e\n",
            json!({"1": "a", "true": "b", "16": "c", "null": "d", "1.5": "e"}),
        ),
        (
            "tags",
            "a: !!str 12\nb: !!int \"7\"\nc: !!float 3\nd: !!bool \"false\"\ne: !custom 5\nf: !!binary aGk=\ng: ! 12\n",
            json!({"a": "12", "b": 7, "c": 3.0, "d": false, "e": 5, "f": "aGk=", "g": "12"}),
        ),
        (
            "anchors",
            "base: &b {x: 1, y: [1, 2]}\ncopy: *b\nname: &n hello\nagain: *n\n",
            json!({"base": {"x": 1, "y": [1, 2]}, "copy": {"x": 1, "y": [1, 2]}, "name": "hello", "again": "hello"}),
        ),
        (
            "merge",
            "a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc:\n  <<: [*a, *b]\n  z: 3\nd:\n  <<: *a\n",
            json!({"a": {"x": 1, "y": 1}, "b": {"y": 2, "z": 2}, "c": {"z": 3, "x": 1, "y": 1}, "d": {"x": 1, "y": 1}}),
        ),
        ("quoted merge key is a key", "\"<<\": 1\n", json!({"<<": 1})),
        (
            "flow trailing commas",
            "{ a: \"v1\", b: { c: [1, 2,], }, }\n",
            json!({"a": "v1", "b": {"c": [1, 2]}}),
        ),
        (
            "unicode and escapes",
            "a: \"caf\\u00e9\\n\"\nb: ünï\n",
            json!({"a": "café\n", "b": "ünï"}),
        ),
        (
            "comments and no final newline",
            "# head\na: 1 # tail\nb: x",
            json!({"a": 1, "b": "x"}),
        ),
    ];
    for (name, text, want) in cases {
        check_value(name, text, &[want]);
    }
}

#[test]
fn streams_empty_documents_and_json() {
    let cases: Vec<(&str, &str, Vec<Value>)> = vec![
        ("empty", "", vec![]),
        ("comments only", "# nothing\n", vec![]),
        ("separators only", "---\n---\n...\n", vec![]),
        (
            "null document skipped",
            "---\n~\n---\na: 1\n",
            vec![json!({"a": 1})],
        ),
        (
            "leading comment then doc",
            "# c\n---\na: 1\n---\n---\nb: 2\n",
            vec![json!({"a": 1}), json!({"b": 2})],
        ),
        (
            "json stream",
            "{\"a\": 1}\n{\"b\": [1.0, 2]}\n",
            vec![json!({"a": 1}), json!({"b": [1.0, 2]})],
        ),
        (
            "json concatenated",
            "{\"a\":1}{\"b\":2}",
            vec![json!({"a": 1}), json!({"b": 2})],
        ),
        (
            "json array is one document",
            "[{\"a\": 1}]",
            vec![json!([{"a": 1}])],
        ),
        (
            "json-looking yaml falls back",
            "{a: 1, b: [x,],}\n",
            vec![json!({"a": 1, "b": ["x"]})],
        ),
        ("bom", "\u{feff}a: 1\n", vec![json!({"a": 1})]),
    ];
    for (name, text, want) in cases {
        check_value(name, text, &want);
    }
}

#[test]
fn json_documents_get_line_index_and_duplicate_checks() {
    let text = "{\n  \"kind\": \"Pod\",\n  \"apiVersion\": \"v1\",\n  \"spec\": {\"x\": 1}\n}\n{\"kind\": \"Pod\",\n \"apiVersion\": \"v1\", \"kind\": \"Pod\"}\n";
    let docs = load_str("p.json", text, &LoadOptions::default()).unwrap();
    assert_eq!(docs.len(), 2);
    assert_eq!(
        docs[0].origin.lines.get("/spec/x"),
        Some(Position {
            line: 4,
            column: 17
        })
    );
    assert_eq!(docs[1].origin.position, Position { line: 6, column: 1 });
    assert_eq!(
        docs[1].origin.lines.get("/apiVersion").map(|p| p.line),
        Some(7)
    );
    assert_eq!(
        docs[1].warnings[0].to_string(),
        "kind: duplicate key (line 7, first at line 6)"
    );
    let strict = LoadOptions {
        duplicate_keys: DuplicateKeys::Error,
        ..LoadOptions::default()
    };
    let err = load_str("p.json", text, &strict).unwrap_err();
    assert_eq!(err.location.document, 1);
    assert_eq!(err.location.line, 7);
    let err = load_str("p.json", "{\"a\": 1}\n{\"b\": }\n", &LoadOptions::default()).unwrap_err();
    assert!(matches!(err.kind, LoadErrorKind::Json { .. }), "{err}");
    assert_eq!((err.location.document, err.location.line), (1, 2));
}

#[test]
fn line_index_positions() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels:\n    app.kubernetes.io/name: x\nspec:\n  containers:\n  - name: c\n    image: nginx\n    ports:\n    - containerPort: 80\n";
    let docs = load_str("pod.yaml", text, &LoadOptions::default()).unwrap();
    let o = &docs[0].origin;
    let cases: Vec<(&str, (usize, usize))> = vec![
        ("", (1, 1)),
        ("/kind", (2, 7)),
        ("/metadata", (4, 3)),
        ("/metadata/labels/app.kubernetes.io~1name", (6, 29)),
        ("/spec/containers/0", (9, 5)),
        ("/spec/containers/0/image", (10, 12)),
        ("/spec/containers/0/ports/0/containerPort", (12, 22)),
    ];
    for (pointer, (line, column)) in cases {
        assert_eq!(
            o.lines.get(pointer),
            Some(Position { line, column }),
            "{pointer}"
        );
    }
    // Unknown leaf: nearest ancestor.
    assert_eq!(o.position_of_pointer("/spec/containers/0/nope").line, 9);
    assert_eq!(
        o.position_of_dotted("spec.containers[0].ports[0].containerPort")
            .line,
        12
    );
    // Without the index, positions fall back to the document.
    let off = LoadOptions {
        line_index: false,
        ..LoadOptions::default()
    };
    let docs = load_str("pod.yaml", text, &off).unwrap();
    assert!(docs[0].origin.lines.is_empty());
    assert_eq!(docs[0].origin.position_of_dotted("spec.containers").line, 1);
}

#[test]
fn typed_decode_errors_have_lines() {
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Port {
        #[serde(rename = "containerPort")]
        container_port: i32,
    }
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Container {
        ports: Vec<Port>,
    }
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Spec {
        containers: Vec<Container>,
    }
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Pod {
        spec: Spec,
    }
    let text = "a: 1\n---\nspec:\n  containers:\n  - ports:\n    - containerPort: 80\n    - containerPort: http\n";
    let docs = load_str("pod.yaml", text, &LoadOptions::default()).unwrap();
    let err = docs[1].decode::<Pod>().unwrap_err();
    assert_eq!(err.location.line, 7);
    assert_eq!(err.location.document, 1);
    assert_eq!(
        err.to_string(),
        "pod.yaml: document 2, line 7, column 22: spec.containers[0].ports[1].containerPort: invalid type: string \"http\", expected i32"
    );
}

#[test]
fn lists_expand_into_items() {
    let text = "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: a}\n  data: {k: v}\n- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: b\n    name: c\n";
    let docs = load_str("l.yaml", text, &LoadOptions::default()).unwrap();
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[0].origin.item, Some(0));
    assert_eq!(docs[1].origin.item, Some(1));
    assert_eq!(docs[1].origin.position.line, 8);
    assert_eq!(docs[0].origin.lines.get("/data/k").map(|p| p.line), Some(7));
    assert_eq!(
        docs[1].origin.lines.get("/metadata/name").map(|p| p.line),
        Some(12)
    );
    assert!(docs[0].warnings.is_empty());
    assert_eq!(
        docs[1].warnings[0].to_string(),
        "items[1].metadata.name: duplicate key (line 12, first at line 11)"
    );
    let objs = load_objects("l.yaml", text, &LoadOptions::default()).unwrap();
    assert_eq!(objs[1].object.metadata.name.as_deref(), Some("c"));
    // PodList with no items, and an empty List, expand to nothing.
    assert!(
        load_str(
            "e",
            "apiVersion: v1\nkind: PodList\nitems: []\n",
            &LoadOptions::default()
        )
        .unwrap()
        .is_empty()
    );
    // A bad item is located.
    let err = load_objects(
        "l.yaml",
        "apiVersion: v1\nkind: List\nitems:\n- 5\n",
        &LoadOptions::default(),
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "l.yaml: document 1, items[0], line 4, column 3: expected a mapping (a Kubernetes object), found a number"
    );
}

#[derive(Debug)]
enum Want {
    Syntax,
    Kind(LoadErrorKind),
}

/// (name, text, expected error, 0-based document, line, and a message fragment)
fn check_error(name: &str, text: &str, want: Want, document: usize, line: usize, fragment: &str) {
    let opts = LoadOptions {
        max_alias_expansion: 1000,
        max_depth: 64,
        ..LoadOptions::default()
    };
    let err: LoadError = load_objects(name, text, &opts).unwrap_err();
    match want {
        Want::Syntax => assert!(
            matches!(err.kind, LoadErrorKind::Syntax { .. }),
            "{name}: {err}"
        ),
        Want::Kind(k) => assert_eq!(err.kind, k, "{name}: {err}"),
    }
    assert_eq!(err.location.source.as_ref(), name);
    assert_eq!(err.location.document, document, "{name}: {err}");
    assert_eq!(err.location.line, line, "{name}: {err}");
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("{name}: document {}, ", document + 1)),
        "{msg}"
    );
    assert!(msg.contains(fragment), "{name}: {msg}");
}

#[test]
fn malformed_input_gives_typed_located_errors() {
    let bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c]\n";
    let deep = "a: ".to_owned() + &"[".repeat(100) + &"]".repeat(100) + "\n";
    let cases: Vec<(&str, String, Want, usize, usize, &str)> = vec![
        ("unclosed-quote.yaml", "apiVersion: v1\nkind: Pod\n---\napiVersion: v1\nkind: \"Pod\nmetadata: {}\n".into(), Want::Syntax, 1, 5, "column 7: invalid YAML"),
        ("bad-indent.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n  name: a\n    labels: x\n".into(), Want::Syntax, 0, 5, "line 5"),
        ("tabs.yaml", "apiVersion: v1\nkind: Pod\nmetadata:\n\tname: a\n".into(), Want::Syntax, 0, 4, "tab"),
        ("scalar.yaml", "apiVersion: v1\nkind: Pod\n---\njust a string\n".into(), Want::Kind(LoadErrorKind::NotAMapping { found: "a string" }), 1, 4, "expected a mapping (a Kubernetes object), found a string"),
        ("seq.yaml", "- a\n- b\n".into(), Want::Kind(LoadErrorKind::NotAMapping { found: "a sequence" }), 0, 1, "found a sequence"),
        ("no-kind.yaml", "apiVersion: v1\nmetadata:\n  name: a\n".into(), Want::Kind(LoadErrorKind::MissingField { field: "kind" }), 0, 1, "missing kind"),
        ("no-apiversion.yaml", "---\n---\nkind: Pod\n".into(), Want::Kind(LoadErrorKind::MissingField { field: "apiVersion" }), 0, 3, "missing apiVersion"),
        ("kind-number.yaml", "apiVersion: v1\nkind: 5\n".into(), Want::Kind(LoadErrorKind::WrongType { path: "kind".into(), expected: "a string", found: "a number" }), 0, 2, "expected a string for kind, found a number"),
        ("labels-seq.yaml", "apiVersion: v1\nkind: Pod\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  labels:\n    - a\n".into(), Want::Kind(LoadErrorKind::Decode { path: "metadata.labels".into(), message: "invalid type: sequence, expected a map".into() }), 1, 8, "metadata.labels: invalid type: sequence"),
        ("metadata-string.yaml", "apiVersion: v1\nkind: Pod\nmetadata: x\n".into(), Want::Kind(LoadErrorKind::WrongType { path: "metadata".into(), expected: "a mapping", found: "a string" }), 0, 3, "line 3, column 11: expected a mapping for metadata, found a string"),
        ("bomb.yaml", bomb.into(), Want::Kind(LoadErrorKind::AliasExpansionLimit { limit: 1000 }), 0, 3, "alias bomb"),
        ("deep.yaml", deep, Want::Kind(LoadErrorKind::TooDeep { limit: 64 }), 0, 1, "nesting deeper than 64"),
        ("alias-to-other-document.yaml", "a: &x 1\n---\nb: *x\n".into(), Want::Kind(LoadErrorKind::UndefinedAlias), 1, 3, "column 4: alias refers to an anchor not defined"),
        ("unknown-alias.yaml", "a: *y\n".into(), Want::Syntax, 0, 1, "unknown anchor"),
        ("complex-key.yaml", "? [a]\n: 1\n".into(), Want::Kind(LoadErrorKind::UnsupportedKey { found: "a sequence" }), 0, 1, "scalar mapping key"),
        ("bad-merge.yaml", "a:\n  <<: 5\n".into(), Want::Kind(LoadErrorKind::InvalidMerge { found: "a number" }), 0, 2, "merge key"),
        ("bad-int-tag.yaml", "a: !!int x\n".into(), Want::Kind(LoadErrorKind::InvalidTaggedScalar { tag: "!!int", text: "x".into() }), 0, 1, "!!int"),
        ("map-tag-on-seq.yaml", "a: !!map [1]\n".into(), Want::Kind(LoadErrorKind::BadTag { tag: "tag:yaml.org,2002:!map".into(), found: "a sequence" }), 0, 1, "does not fit"),
        ("inf.yaml", "a: .inf\n".into(), Want::Kind(LoadErrorKind::NonFiniteFloat { text: ".inf".into() }), 0, 1, "quote it"),
        ("unclosed-flow.yaml", "a: 1\n---\nb: [1, 2\nc: 3\n".into(), Want::Syntax, 1, 4, "invalid YAML"),
        ("key-without-value.yaml", "apiVersion: v1\nkind: Pod\nspec\n".into(), Want::Syntax, 0, 4, "simple key expect"),
    ];
    for (name, text, want, doc, line, fragment) in cases {
        check_error(name, &text, want, doc, line, fragment);
    }
}

#[test]
fn alias_expansion_counts_nested_copies() {
    // 10 * 10 * 10 * 2 = 2,000+ nodes: fine under the default limit, refused under 1,000.
    let text = "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c]\n";
    let docs = load_str("ok", text, &LoadOptions::default()).unwrap();
    assert_eq!(docs[0].value["d"][1][9][9][9], json!("x"));
}

fn yamlish() -> impl Strategy<Value = String> {
    let atoms = prop::sample::select(vec![
        "a",
        "b: ",
        ":",
        "-",
        "- ",
        "  ",
        "\t",
        "\n",
        "---\n",
        "...\n",
        "{",
        "}",
        "[",
        "]",
        ",",
        "&x ",
        "*x",
        "<<: ",
        "!!int ",
        "!!str ",
        "! ",
        "!!map ",
        "|",
        ">",
        "|-",
        "\"",
        "'",
        "#",
        "? ",
        "%YAML 1.2\n",
        "~",
        ".inf",
        "0x",
        "1",
        "true",
        "é",
        "\\",
        "@",
        "`",
        "kind: List\n",
        "items:\n",
        "apiVersion: v1\n",
        "\r\n",
        "\u{feff}",
    ]);
    prop::collection::vec(atoms, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn arbitrary_strings_never_panic(s in "\\PC*") {
        let _ = load_str("p", &s, &LoadOptions::default());
        let _ = load_objects("p", &s, &LoadOptions { duplicate_keys: DuplicateKeys::Error, ..LoadOptions::default() });
    }

    #[test]
    fn yaml_punctuation_never_panics(s in yamlish()) {
        let opts = LoadOptions { max_alias_expansion: 100, max_depth: 8, ..LoadOptions::default() };
        if let Ok(docs) = load_str("p", &s, &opts) {
            for d in docs {
                let _ = d.to_object();
                let _ = d.origin.position_of_dotted("a.b[0].c");
            }
        }
        let _ = load_objects("p", &s, &LoadOptions::default());
    }
}
