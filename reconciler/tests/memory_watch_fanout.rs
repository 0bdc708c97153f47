//! MemoryStore watch fan-out under concurrency: many watchers on a multi-thread runtime (the
//! relay path), writers inside and outside the runtime, filtered and unfiltered watchers, and a
//! relay whose runtime shuts down while watchers on another runtime are parked; the watch
//! metrics.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt as _;
use kybern_core::api::core::v1::ConfigMap;
use kybern_core::{ApiResource, DynamicObject, Resource};
use kybern_reconciler::store::{
    MemoryStore, Store, WatchBatchStream, WatchEvent, WatchOptions, WatchStream, WriteScope,
};
use serde_json::json;

fn cms() -> ApiResource {
    ConfigMap::api_resource(&())
}

fn cm(ns: &str, name: &str) -> DynamicObject {
    let mut o = DynamicObject::new(name, &cms());
    o.metadata.namespace = Some(ns.into());
    o
}

fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// What a watcher saw: `(event type, namespace, name, revision)` per event.
type Seen = Vec<(&'static str, String, String, u64)>;

fn describe(ev: &WatchEvent<Arc<DynamicObject>>) -> (&'static str, String, String, u64) {
    let o = match ev {
        WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o) => o,
        WatchEvent::Bookmark(_) => panic!("unexpected bookmark"),
    };
    (
        ev.type_name(),
        o.metadata.namespace.clone().unwrap_or_default(),
        o.metadata.name.clone().unwrap_or_default(),
        o.metadata
            .resource_version
            .as_ref()
            .unwrap()
            .parse()
            .unwrap(),
    )
}

/// Reads `want` events from `w`, failing if it stalls.
async fn collect(mut w: WatchStream, want: usize) -> Seen {
    let mut seen = Vec::new();
    while seen.len() < want {
        // The deadline is checked first: a stalled watcher must fail, not be rescued by the
        // timer's own wake-up (which would poll the stream again).
        let ev = tokio::select! {
            biased;
            () = tokio::time::sleep(Duration::from_secs(10)) => {
                panic!("watcher stalled after {} events: a wake-up was lost", seen.len())
            }
            ev = w.next() => ev.expect("stream ended").expect("watch error"),
        };
        seen.push(describe(&ev));
    }
    seen
}

struct Case {
    name: &'static str,
    watchers: usize,
    writes: usize,
    /// Write from a task on the runtime (else from the test thread via `block_on`).
    writer_in_runtime: bool,
    /// Every other watcher watches only namespace `a`.
    filtered: bool,
    /// Every other watcher uses `watch_batches` (its batches flattened for the comparison).
    batched: bool,
}

/// A batched watch's events, one by one (checking that no batch is empty).
fn flatten(batches: WatchBatchStream) -> WatchStream {
    batches
        .flat_map(|item| {
            let events: Vec<_> = match item {
                Ok(b) => {
                    assert!(!b.is_empty(), "empty batch");
                    b.iter().map(|e| Ok(e.map(Arc::clone))).collect()
                }
                Err(e) => vec![Err(e)],
            };
            futures::stream::iter(events)
        })
        .boxed()
}

/// Opens the watchers, performs the writes (creates, then updates, then deletes, alternating
/// namespaces `a` and `b`), and checks that every watcher saw exactly the events it selects,
/// once each, in revision order.
fn check(case: &Case) {
    let rt = multi_thread();
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let r = cms();
    let from = rt.block_on(store.current_revision()).unwrap();
    let mut tasks = Vec::new();
    let mut namespaces = Vec::new();
    for i in 0..case.watchers {
        let ns = (case.filtered && i % 2 == 1).then(|| "a".to_owned());
        let opts = WatchOptions {
            namespace: ns.clone(),
            resource_version: Some(from.to_string()),
            ..WatchOptions::default()
        };
        let w = if case.batched && i % 2 == 0 {
            flatten(rt.block_on(store.watch_batches(&r, &opts)).unwrap())
        } else {
            rt.block_on(store.watch(&r, &opts)).unwrap()
        };
        namespaces.push(ns);
        tasks.push(w);
    }
    // The expected history, computed as the writes are made.
    let names: Vec<(String, String)> = (0..case.writes / 3)
        .map(|i| {
            let ns = if i % 2 == 0 { "a" } else { "b" };
            (ns.to_owned(), format!("o{i}"))
        })
        .collect();
    let writes = {
        let store = store.clone();
        let r = r.clone();
        let names = names.clone();
        async move {
            let mut expected: Seen = Vec::new();
            for (ns, name) in &names {
                let o = store.create(&r, cm(ns, name)).await.unwrap();
                expected.push(describe(&WatchEvent::Added(o)));
            }
            for (ns, name) in &names {
                let mut o = cm(ns, name);
                o.data.insert("data".into(), json!({"k": "v"}));
                let o = store.update(&r, o, WriteScope::Main).await.unwrap();
                expected.push(describe(&WatchEvent::Modified(o)));
                tokio::task::yield_now().await;
            }
            for (ns, name) in &names {
                let d = store
                    .delete(&r, Some(ns), name, &Default::default())
                    .await
                    .unwrap();
                expected.push(describe(&WatchEvent::Deleted(d.into_inner())));
            }
            expected
        }
    };
    let total = names.len() * 3;
    let in_a = names.iter().filter(|(ns, _)| ns == "a").count() * 3;
    let handles: Vec<_> = tasks
        .into_iter()
        .zip(&namespaces)
        .map(|(w, ns)| rt.spawn(collect(w, if ns.is_some() { in_a } else { total })))
        .collect();
    let expected = if case.writer_in_runtime {
        rt.block_on(rt.spawn(writes)).unwrap()
    } else {
        rt.block_on(writes)
    };
    for (i, (h, ns)) in handles.into_iter().zip(&namespaces).enumerate() {
        let seen = rt.block_on(h).unwrap();
        let want: Seen = expected
            .iter()
            .filter(|e| ns.as_deref().is_none_or(|n| e.1 == n))
            .cloned()
            .collect();
        assert_eq!(seen, want, "{}: watcher {i} (namespace {ns:?})", case.name);
    }
}

#[test]
fn fan_out_delivers_every_event_once_in_order() {
    let cases = [
        Case {
            name: "one watcher, writer outside the runtime",
            watchers: 1,
            writes: 600,
            writer_in_runtime: false,
            filtered: false,
            batched: false,
        },
        Case {
            name: "3 watchers (direct wake-ups), writer in the runtime",
            watchers: 3,
            writes: 600,
            writer_in_runtime: true,
            filtered: false,
            batched: false,
        },
        Case {
            name: "64 watchers (relayed), writer outside the runtime",
            watchers: 64,
            writes: 1500,
            writer_in_runtime: false,
            filtered: false,
            batched: false,
        },
        Case {
            name: "64 watchers (relayed), writer in the runtime, half filtered",
            watchers: 64,
            writes: 1500,
            writer_in_runtime: true,
            filtered: true,
            batched: false,
        },
        Case {
            name: "64 watchers, half on batches, writer outside the runtime",
            watchers: 64,
            writes: 1500,
            writer_in_runtime: false,
            filtered: false,
            batched: true,
        },
        Case {
            name: "64 watchers, half on batches, writer in the runtime, half filtered",
            watchers: 64,
            writes: 1500,
            writer_in_runtime: true,
            filtered: true,
            batched: true,
        },
    ];
    for case in &cases {
        check(case);
    }
}

/// The relay lives on the runtime of the watch that started it. When that runtime shuts down
/// while watchers of another runtime are parked, they must still be woken by later writes.
#[test]
fn relay_runtime_shutdown_loses_no_wakeup() {
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let r = cms();
    let first = multi_thread();
    // Starts the relay on `first`.
    let w0 = first
        .block_on(store.watch(&r, &WatchOptions::default()))
        .unwrap();
    let second = multi_thread();
    let watchers: Vec<_> = (0..10)
        .map(|_| {
            let opts = WatchOptions {
                resource_version: Some("0".into()),
                ..WatchOptions::default()
            };
            let w = second.block_on(store.watch(&r, &opts)).unwrap();
            second.spawn(collect(w, 20))
        })
        .collect();
    // Let the watchers park, then take the relay's runtime away.
    std::thread::sleep(Duration::from_millis(50));
    drop(w0);
    drop(first);
    for i in 0..20 {
        second
            .block_on(store.create(&r, cm("a", &format!("o{i}"))))
            .unwrap();
        std::thread::sleep(Duration::from_millis(1));
    }
    for (i, h) in watchers.into_iter().enumerate() {
        let seen = second.block_on(h).unwrap();
        let revs: Vec<u64> = seen.iter().map(|e| e.3).collect();
        assert_eq!(revs, (1..=20).collect::<Vec<_>>(), "watcher {i}");
    }
}

/// An unfiltered batched watch hands out every event already written as one batch per
/// history chunk (256 events), not one item per event; a filtered one as one batch per drain.
#[test]
fn batches_group_available_events() {
    let rt = multi_thread();
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let r = cms();
    let cases = [
        ("unfiltered", None, 300, vec![256, 44]),
        ("namespace a", Some("a".to_owned()), 150, vec![150]),
    ];
    for (name, namespace, want, sizes) in cases {
        let from = rt.block_on(store.current_revision()).unwrap();
        let opts = WatchOptions {
            namespace,
            resource_version: Some(from.to_string()),
            ..WatchOptions::default()
        };
        let mut w = rt.block_on(store.watch_batches(&r, &opts)).unwrap();
        for i in 0..300 {
            let ns = if i % 2 == 0 { "a" } else { "b" };
            rt.block_on(store.create(&r, cm(ns, &format!("{name}-{i}"))))
                .unwrap();
        }
        let mut got = Vec::new();
        let mut revs = Vec::new();
        while revs.len() < want {
            let b = rt.block_on(w.next()).unwrap().unwrap();
            got.push(b.len());
            revs.extend(b.iter().map(|e| describe(&e.map(Arc::clone)).3));
        }
        assert_eq!(got, sizes, "{name}: batch sizes");
        let step = if opts.namespace.is_some() { 2 } else { 1 };
        let expected: Vec<u64> = (0..want as u64).map(|i| from + 1 + i * step).collect();
        assert_eq!(revs, expected, "{name}: every event once, in order");
    }
}

/// The store's watch metrics: open watchers and events handed out, counted per watcher and
/// summed when read; a closed watcher's count is kept, so the total never goes backwards.
#[test]
fn watch_metrics_count_per_watcher_and_survive_close() {
    let rt = multi_thread();
    let store: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let r = cms();
    let opts = WatchOptions {
        resource_version: Some("0".into()),
        ..WatchOptions::default()
    };
    let a = rt.block_on(store.watch(&r, &opts)).unwrap();
    let b = rt.block_on(store.watch(&r, &opts)).unwrap();
    assert_eq!(store.metrics().watchers, 2);
    for i in 0..3 {
        rt.block_on(store.create(&r, cm("a", &format!("o{i}"))))
            .unwrap();
    }
    assert_eq!(store.metrics().watch_events_sent, 0, "nothing read yet");
    let seen = rt.block_on(collect(a, 3));
    assert_eq!(seen.len(), 3);
    assert_eq!(store.metrics().watch_events_sent, 3);
    let seen = rt.block_on(collect(b, 3));
    assert_eq!(seen.len(), 3);
    // Both streams are dropped by now (collect takes them): their counts stay.
    let m = store.metrics();
    assert_eq!((m.watchers, m.watch_events_sent), (0, 6));
}
