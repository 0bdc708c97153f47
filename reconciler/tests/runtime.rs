//! Controller runtime tests on virtual time: watcher relist after expiry and backoff, cache
//! convergence, shared informers, work-queue retries through a controller, concurrency,
//! graceful shutdown, finalizers, leader election, events and metrics.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt as _;
use kybern_core::Resource;
use kybern_core::api::coordination::v1::Lease;
use kybern_core::api::core::v1::{ConfigMap, Event};
use kybern_reconciler::runtime::controller::{Action, default_error_policy};
use kybern_reconciler::runtime::events::{EventType, Recorder, object_reference};
use kybern_reconciler::runtime::finalizer::{self, finalizer};
use kybern_reconciler::runtime::harness::{Harness, Operation};
use kybern_reconciler::runtime::leader::{LeaderElectionConfig, LeaderElector, Outcome};
use kybern_reconciler::runtime::reflector::{Cache, CacheConfig, Change, reflector};
use kybern_reconciler::runtime::watcher::{self, Event as WEvent, WatcherError, watcher};
use kybern_reconciler::runtime::{ObjectKey, Shutdown, predicates};
use kybern_reconciler::{Api, DeleteParams, Store};
use tokio::time::Instant;

fn cm(name: &str, data: &str) -> ConfigMap {
    let mut c = ConfigMap::default();
    c.metadata.name = Some(name.into());
    c.data = BTreeMap::from([("v".to_string(), data.to_string())]);
    c
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[tokio::test(start_paused = true)]
async fn watch_expiry_relists_and_cache_converges() {
    expiry_relists_and_cache_converges(watcher::Config::default()).await;
}

/// The same through streaming lists: the initial state and every relist come from a watch
/// with `sendInitialEvents`, ended by the initial-events-end bookmark.
#[tokio::test(start_paused = true)]
async fn streaming_list_expiry_relists_and_cache_converges() {
    expiry_relists_and_cache_converges(watcher::Config::default().streaming_lists()).await;
}

async fn expiry_relists_and_cache_converges(config: watcher::Config) {
    let h = Harness::new();
    let api: Api<ConfigMap> = h.api_in("default");
    api.create(&cm("a", "1")).await.unwrap();
    api.create(&cm("b", "1")).await.unwrap();
    let (writer, reader) = Cache::new(CacheConfig::default());
    let mut changes = reader.subscribe();
    let stream = reflector(writer, watcher(api.clone(), config));
    futures::pin_mut!(stream);
    // Initial list.
    loop {
        if let Some(Ok(WEvent::InitDone)) = stream.next().await {
            break;
        }
    }
    assert_eq!(reader.len(), 2);
    // The first watch event opens the watch; then changes happen while nobody reads.
    api.create(&cm("warmup", "1")).await.unwrap();
    assert!(matches!(stream.next().await, Some(Ok(WEvent::Apply(_)))));
    api.delete("a", &DeleteParams::default()).await.unwrap();
    api.create(&cm("c", "1")).await.unwrap();
    let mut b = api.get("b").await.unwrap();
    b.data.insert("v".into(), "2".into());
    api.update(&b).await.unwrap();
    let rev = h.store().current_revision().await.unwrap();
    // Enough churn that the watch's position lies in history that compaction then drops
    // (the store keeps events in chunks of 256; an open watch expires when its chunk goes).
    let mut churn = api.create(&cm("churn", "0")).await.unwrap();
    for i in 0..600 {
        churn.data.insert("v".into(), i.to_string());
        churn = api.update(&churn).await.unwrap();
    }
    let rev = h.store().current_revision().await.unwrap().max(rev);
    h.memory_store().compact(rev).await.unwrap();
    // The watch ends with 410; the watcher relists and the cache converges.
    let mut saw_expired = false;
    loop {
        match stream.next().await.unwrap() {
            Err(WatcherError::Watch(e)) if e.is_expired() => saw_expired = true,
            Ok(WEvent::InitDone) if saw_expired => break,
            _ => {}
        }
    }
    let mut names: Vec<String> = reader.state().iter().map(|o| o.name().to_owned()).collect();
    names.sort();
    assert_eq!(names, vec!["b", "c", "churn", "warmup"]);
    assert_eq!(
        reader
            .get_named(Some("default"), "b")
            .unwrap()
            .data
            .get("v")
            .map(String::as_str),
        Some("2")
    );
    let mut deleted = Vec::new();
    while let Ok(change) = changes.try_recv() {
        if let Change::Deleted(o) = change {
            deleted.push(o.name().to_owned());
        }
    }
    assert_eq!(
        deleted,
        vec!["a"],
        "the relist reports the deletion the watch missed"
    );
}

#[tokio::test(start_paused = true)]
async fn watcher_backs_off_on_errors_and_never_ends() {
    let h = Harness::new();
    let api: Api<ConfigMap> = h.api_in("default");
    api.create(&cm("a", "1")).await.unwrap();
    h.faults().fail_next(Operation::List, "configmaps", 4);
    let stream = watcher(api, watcher::Config::default());
    futures::pin_mut!(stream);
    let start = Instant::now();
    let mut error_times = Vec::new();
    loop {
        match stream.next().await.unwrap() {
            Err(WatcherError::List(_)) => error_times.push(start.elapsed()),
            Ok(WEvent::InitDone) => break,
            _ => {}
        }
    }
    // Retries after 0.8 s, 1.6 s, 3.2 s of backoff: errors at 0, 0.8, 2.4, 5.6 s.
    assert_eq!(error_times, vec![ms(0), ms(800), ms(2400), ms(5600)]);
    assert_eq!(start.elapsed(), ms(5600 + 6400));
}

/// A streaming list's initial events, in order: Init, one InitApply per object, InitDone
/// (from the initial-events-end bookmark), then changes on the same watch; a failing watch
/// backs off as a failing list does.
#[tokio::test(start_paused = true)]
async fn streaming_list_events_and_backoff() {
    let h = Harness::new();
    let api: Api<ConfigMap> = h.api_in("default");
    for name in ["a", "b", "c"] {
        api.create(&cm(name, "1")).await.unwrap();
    }
    h.faults().fail_next(Operation::Watch, "configmaps", 2);
    let stream = watcher(api.clone(), watcher::Config::default().streaming_lists());
    futures::pin_mut!(stream);
    let start = Instant::now();
    let mut got = Vec::new();
    loop {
        let ev = stream.next().await.unwrap();
        let done = matches!(ev, Ok(WEvent::InitDone));
        got.push(match ev {
            Ok(WEvent::Init) => "init".to_owned(),
            Ok(WEvent::InitApply(o)) => format!("init-apply {}", o.name()),
            Ok(WEvent::InitDone) => "init-done".to_owned(),
            Ok(other) => format!("unexpected {other:?}"),
            Err(WatcherError::WatchStart(_)) => {
                format!("watch-start error at {:?}", start.elapsed())
            }
            Err(e) => format!("unexpected {e}"),
        });
        if done {
            break;
        }
    }
    assert_eq!(
        got,
        vec![
            "watch-start error at 0ns",
            "watch-start error at 800ms",
            "init",
            "init-apply a",
            "init-apply b",
            "init-apply c",
            "init-done",
        ]
    );
    assert_eq!(start.elapsed(), ms(800 + 1600));
    let mut b = api.get("b").await.unwrap();
    b.data.insert("v".into(), "2".into());
    api.update(&b).await.unwrap();
    match stream.next().await.unwrap() {
        Ok(WEvent::Apply(o)) => assert_eq!(o.data.get("v").map(String::as_str), Some("2")),
        other => panic!("expected the update, got {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn shared_informers_share_one_watch() {
    let h = Harness::new();
    let seen = Arc::new(AtomicUsize::new(0));
    for name in ["first", "second"] {
        let c = h.controller::<ConfigMap>().name(name);
        let seen = Arc::clone(&seen);
        h.spawn(async move {
            c.run(
                move |_cm: Arc<ConfigMap>, _ctx: Arc<()>| {
                    let seen = Arc::clone(&seen);
                    async move {
                        seen.fetch_add(1, Ordering::SeqCst);
                        Ok::<_, std::io::Error>(Action::await_change())
                    }
                },
                default_error_policy,
                Arc::new(()),
            )
            .await
        });
    }
    h.api_in::<ConfigMap>("default")
        .create(&cm("x", "1"))
        .await
        .unwrap();
    h.wait_until("both controllers reconciled x", ms(1000), || {
        seen.load(Ordering::SeqCst) == 2
    })
    .await
    .unwrap();
    assert_eq!(h.informers().len(), 1, "one informer for two controllers");
    h.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn failing_reconcile_is_retried_with_growing_delays() {
    let h = Harness::new();
    let times = Arc::new(Mutex::new(Vec::new()));
    let t = Arc::clone(&times);
    let c = h.controller::<ConfigMap>();
    h.spawn(async move {
        c.run(
            move |_cm: Arc<ConfigMap>, _ctx: Arc<()>| {
                let t = Arc::clone(&t);
                async move {
                    let mut t = t.lock().unwrap();
                    t.push(Instant::now());
                    if t.len() < 6 {
                        Err(std::io::Error::other("boom"))
                    } else {
                        Ok(Action::await_change())
                    }
                }
            },
            default_error_policy,
            Arc::new(()),
        )
        .await
    });
    h.api_in::<ConfigMap>("default")
        .create(&cm("x", "1"))
        .await
        .unwrap();
    h.wait_until("six attempts", Duration::from_secs(5), || {
        times.lock().unwrap().len() >= 6
    })
    .await
    .unwrap();
    let t = times.lock().unwrap().clone();
    let gaps: Vec<Duration> = t.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(gaps, vec![ms(5), ms(10), ms(20), ms(40), ms(80)]);
    let text = h.metrics().render();
    assert!(
        text.contains("controller_runtime_reconcile_errors_total{controller=\"configmap\"} 5"),
        "{text}"
    );
    assert!(
        text.contains(
            "controller_runtime_reconcile_total{controller=\"configmap\",result=\"success\"} 1"
        ),
        "{text}"
    );
    assert!(
        text.contains("workqueue_retries_total{name=\"configmap\",controller=\"configmap\"} 5"),
        "{text}"
    );
    assert!(
        text.contains(
            "controller_runtime_reconcile_time_seconds_count{controller=\"configmap\"} 6"
        ),
        "{text}"
    );
    h.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn concurrency_is_bounded_and_keys_never_overlap() {
    let h = Harness::new();
    let running = Arc::new(Mutex::new((0usize, 0usize, Vec::<String>::new(), false)));
    let r = Arc::clone(&running);
    let done = Arc::new(AtomicUsize::new(0));
    let d = Arc::clone(&done);
    let c = h.controller::<ConfigMap>().concurrency(3);
    h.spawn(async move {
        c.run(
            move |cm: Arc<ConfigMap>, _ctx: Arc<()>| {
                let r = Arc::clone(&r);
                let d = Arc::clone(&d);
                async move {
                    let name = cm.name().to_owned();
                    {
                        let mut s = r.lock().unwrap();
                        if s.2.contains(&name) {
                            s.3 = true; // same key twice at once
                        }
                        s.2.push(name.clone());
                        s.0 += 1;
                        s.1 = s.1.max(s.0);
                    }
                    tokio::time::sleep(ms(100)).await;
                    {
                        let mut s = r.lock().unwrap();
                        s.0 -= 1;
                        s.2.retain(|n| n != &name);
                    }
                    d.fetch_add(1, Ordering::SeqCst);
                    Ok::<_, std::io::Error>(Action::await_change())
                }
            },
            default_error_policy,
            Arc::new(()),
        )
        .await
    });
    let api = h.api_in::<ConfigMap>("default");
    for i in 0..10 {
        api.create(&cm(&format!("c{i}"), "1")).await.unwrap();
    }
    // Change an object while it is being reconciled.
    tokio::time::sleep(ms(50)).await;
    let busy = running.lock().unwrap().2[0].clone();
    let mut c0 = api.get(&busy).await.unwrap();
    c0.data.insert("v".into(), "2".into());
    api.update(&c0).await.unwrap();
    h.wait_until("all reconciled", Duration::from_secs(5), || {
        done.load(Ordering::SeqCst) >= 11
    })
    .await
    .unwrap();
    let (max, overlap) = {
        let s = running.lock().unwrap();
        (s.1, s.3)
    };
    assert_eq!(max, 3, "at most 3 concurrent reconciles, and 3 were used");
    assert!(!overlap, "a key was reconciled twice at once");
    h.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn graceful_shutdown_finishes_in_flight_reconciles() {
    let h = Harness::new();
    let finished = Arc::new(AtomicUsize::new(0));
    let started = Arc::new(AtomicUsize::new(0));
    let (f, s) = (Arc::clone(&finished), Arc::clone(&started));
    let c = h.controller::<ConfigMap>();
    let handle = tokio::spawn(c.run(
        move |_cm: Arc<ConfigMap>, _ctx: Arc<()>| {
            let (f, s) = (Arc::clone(&f), Arc::clone(&s));
            async move {
                s.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_secs(3)).await;
                f.fetch_add(1, Ordering::SeqCst);
                Ok::<_, std::io::Error>(Action::await_change())
            }
        },
        default_error_policy,
        Arc::new(()),
    ));
    h.api_in::<ConfigMap>("default")
        .create(&cm("x", "1"))
        .await
        .unwrap();
    h.wait_until("reconcile started", ms(500), || {
        started.load(Ordering::SeqCst) == 1
    })
    .await
    .unwrap();
    h.shutdown_signal().trigger();
    handle.await.unwrap();
    assert_eq!(
        finished.load(Ordering::SeqCst),
        1,
        "in-flight reconcile finished"
    );
    h.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn generation_predicate_filters_metadata_only_changes() {
    let h = Harness::new();
    let count = Arc::new(AtomicUsize::new(0));
    let n = Arc::clone(&count);
    let c = h
        .controller::<ConfigMap>()
        .with_predicate(predicates::labels_changed());
    h.spawn(async move {
        c.run(
            move |_cm: Arc<ConfigMap>, _ctx: Arc<()>| {
                let n = Arc::clone(&n);
                async move {
                    n.fetch_add(1, Ordering::SeqCst);
                    Ok::<_, std::io::Error>(Action::await_change())
                }
            },
            default_error_policy,
            Arc::new(()),
        )
        .await
    });
    let api = h.api_in::<ConfigMap>("default");
    api.create(&cm("x", "1")).await.unwrap();
    h.wait_until("first reconcile", ms(500), || {
        count.load(Ordering::SeqCst) == 1
    })
    .await
    .unwrap();
    let mut x = api.get("x").await.unwrap();
    x.data.insert("v".into(), "2".into());
    let x = api.update(&x).await.unwrap();
    tokio::time::sleep(ms(200)).await;
    assert_eq!(
        count.load(Ordering::SeqCst),
        1,
        "a data change does not pass labels_changed"
    );
    let mut x = x;
    x.metadata.labels.insert("tier".into(), "web".into());
    api.update(&x).await.unwrap();
    h.wait_until("label change reconciled", ms(500), || {
        count.load(Ordering::SeqCst) == 2
    })
    .await
    .unwrap();
    h.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn finalizer_flow_adds_runs_cleanup_and_removes() {
    let h = Harness::new();
    let api: Api<ConfigMap> = h.api_in("default");
    let cleaned = Arc::new(AtomicUsize::new(0));
    let cl = Arc::clone(&cleaned);
    let api2 = api.clone();
    let c = h.controller::<ConfigMap>();
    h.spawn(async move {
        c.run(
            move |obj: Arc<ConfigMap>, _ctx: Arc<()>| {
                let api = api2.clone();
                let cl = Arc::clone(&cl);
                async move {
                    finalizer(&api, "example.com/cleanup", obj, |ev| async move {
                        if let finalizer::Event::Cleanup(_) = ev {
                            cl.fetch_add(1, Ordering::SeqCst);
                        }
                        Ok::<_, std::io::Error>(Action::await_change())
                    })
                    .await
                }
            },
            default_error_policy,
            Arc::new(()),
        )
        .await
    });
    api.create(&cm("x", "1")).await.unwrap();
    h.wait_for::<ConfigMap>("finalizer added", ms(1000), |r| {
        r.get_named(Some("default"), "x")
            .is_some_and(|o| o.metadata.finalizers == vec!["example.com/cleanup".to_string()])
    })
    .await
    .unwrap();
    api.delete("x", &DeleteParams::default()).await.unwrap();
    h.wait_for::<ConfigMap>("x deleted after cleanup", ms(1000), |r| r.is_empty())
        .await
        .unwrap();
    assert_eq!(cleaned.load(Ordering::SeqCst), 1);
    h.shutdown().await;
}

fn elector(h: &Harness, id: &str) -> LeaderElector {
    LeaderElector::new(
        h.api_in::<Lease>("kube-system"),
        LeaderElectionConfig::new("controller", id),
    )
    .unwrap()
    .with_clock(h.clock())
}

#[tokio::test(start_paused = true)]
async fn leader_fences_itself_before_a_successor_acquires() {
    let h = Harness::new();
    let stop = Shutdown::new();
    let log = Arc::new(Mutex::new(Vec::<(String, &str, Duration)>::new()));
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for id in ["a", "b"] {
        let e = elector(&h, id);
        let log = Arc::clone(&log);
        let stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let l = Arc::clone(&log);
            let outcome = e
                .run(stop, move |leading: Shutdown| async move {
                    l.lock()
                        .unwrap()
                        .push((e_id(&leading, id), "start", t0.elapsed()));
                    leading.wait().await;
                    l.lock()
                        .unwrap()
                        .push((id.to_string(), "stop", t0.elapsed()));
                })
                .await;
            (id, outcome)
        }));
        // "a" campaigns first.
        tokio::time::sleep(ms(1)).await;
    }
    h.wait_until("a leads", Duration::from_secs(5), || {
        log.lock().unwrap().len() == 1
    })
    .await
    .unwrap();
    // a's lease writes start failing.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let failing_since = t0.elapsed();
    h.faults().fail_always(Operation::Write, "leases");
    h.wait_until("a stops leading", Duration::from_secs(60), || {
        log.lock().unwrap().len() == 2
    })
    .await
    .unwrap();
    h.faults().heal();
    h.wait_until("b leads", Duration::from_secs(60), || {
        log.lock().unwrap().len() == 3
    })
    .await
    .unwrap();
    let entries = log.lock().unwrap().clone();
    assert_eq!(entries[0].0, "a");
    assert_eq!((entries[1].0.as_str(), entries[1].1), ("a", "stop"));
    assert_eq!((entries[2].0.as_str(), entries[2].1), ("b", "start"));
    let a_stop = entries[1].2;
    let b_start = entries[2].2;
    assert!(
        a_stop <= failing_since + Duration::from_secs(10),
        "a stopped within the renew deadline: {a_stop:?}"
    );
    assert!(b_start > a_stop, "b acquired only after a had stopped");
    let lease = h
        .api_in::<Lease>("kube-system")
        .get("controller")
        .await
        .unwrap();
    let spec = lease.spec.unwrap();
    assert_eq!(spec.holder_identity.as_deref(), Some("b"));
    assert_eq!(spec.lease_transitions, Some(1));
    assert_eq!(spec.lease_duration_seconds, Some(15));
    stop.trigger();
    for t in tasks {
        let (id, outcome) = t.await.unwrap();
        let want = if id == "a" {
            Outcome::LostLease
        } else {
            Outcome::Shutdown
        };
        assert_eq!(outcome, want, "{id}");
    }
    h.shutdown().await;
}

fn e_id(_leading: &Shutdown, id: &str) -> String {
    id.to_string()
}

#[tokio::test(start_paused = true)]
async fn events_are_aggregated() {
    let h = Harness::new();
    let api: Api<ConfigMap> = h.api_in("default");
    let x = api.create(&cm("x", "1")).await.unwrap();
    let recorder = Recorder::new(h.store(), "test-controller", "replica-1").with_clock(h.clock());
    let r = object_reference(&x, &());
    let first = recorder
        .publish(&r, EventType::Normal, "Synced", "all good")
        .await
        .unwrap();
    tokio::time::advance(Duration::from_secs(30)).await;
    recorder
        .publish(&r, EventType::Normal, "Synced", "all good")
        .await
        .unwrap();
    recorder
        .publish(&r, EventType::Normal, "Synced", "all good")
        .await
        .unwrap();
    recorder
        .publish(&r, EventType::Warning, "Failed", "oops")
        .await
        .unwrap();
    let events = h
        .api_in::<Event>("default")
        .list(&Default::default())
        .await
        .unwrap()
        .items;
    assert_eq!(events.len(), 2);
    let synced = events
        .iter()
        .find(|e| e.reason.as_deref() == Some("Synced"))
        .unwrap();
    assert_eq!(synced.metadata.name, first.metadata.name);
    assert_eq!(synced.count, Some(3));
    assert_eq!(synced.involved_object.name.as_deref(), Some("x"));
    assert_eq!(synced.type_.as_deref(), Some("Normal"));
    let first_ts = synced.first_timestamp.unwrap().0;
    let last_ts = synced.last_timestamp.unwrap().0;
    assert_eq!(last_ts.duration_since(first_ts).as_secs(), 30);
    h.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn similar_events_are_combined_after_ten_messages() {
    let h = Harness::new();
    let api: Api<ConfigMap> = h.api_in("default");
    let x = api.create(&cm("x", "1")).await.unwrap();
    let recorder = Recorder::new(h.store(), "test-controller", "replica-1").with_clock(h.clock());
    let r = object_reference(&x, &());
    let events = || async {
        h.api_in::<Event>("default")
            .list(&Default::default())
            .await
            .unwrap()
            .items
    };
    for i in 0..9 {
        let ev = recorder
            .publish(
                &r,
                EventType::Warning,
                "FailedCreate",
                &format!("attempt {i} failed"),
            )
            .await
            .unwrap();
        assert_eq!(
            ev.message.as_deref(),
            Some(format!("attempt {i} failed").as_str())
        );
        tokio::time::advance(Duration::from_secs(30)).await;
    }
    // A different reason is not similar.
    recorder
        .publish(&r, EventType::Warning, "Other", "unrelated")
        .await
        .unwrap();
    assert_eq!(events().await.len(), 10);
    // The tenth distinct message: one aggregate Event.
    let agg = recorder
        .publish(&r, EventType::Warning, "FailedCreate", "attempt 9 failed")
        .await
        .unwrap();
    assert_eq!(
        agg.message.as_deref(),
        Some("(combined from similar events): attempt 9 failed")
    );
    assert_eq!(agg.count, Some(1));
    // Further new messages update the aggregate.
    tokio::time::advance(Duration::from_secs(60)).await;
    let again = recorder
        .publish(&r, EventType::Warning, "FailedCreate", "attempt 10 failed")
        .await
        .unwrap();
    assert_eq!(again.metadata.name, agg.metadata.name);
    assert_eq!(again.count, Some(2));
    assert_eq!(
        again.message.as_deref(),
        Some("(combined from similar events): attempt 10 failed")
    );
    assert_eq!(events().await.len(), 11);
    // More than ten minutes of quiet: counting starts afresh, and a known message is a plain
    // repeat of its own Event.
    tokio::time::advance(Duration::from_secs(601)).await;
    let repeat = recorder
        .publish(&r, EventType::Warning, "FailedCreate", "attempt 3 failed")
        .await
        .unwrap();
    assert_eq!(repeat.message.as_deref(), Some("attempt 3 failed"));
    assert_eq!(repeat.count, Some(2));
    assert_eq!(events().await.len(), 11);
    h.shutdown().await;
}

#[tokio::test(start_paused = true)]
async fn label_and_custom_indexes() {
    let h = Harness::new();
    let api: Api<ConfigMap> = h.api_in("default");
    let mut a = cm("a", "1");
    a.metadata.labels.insert("app".into(), "web".into());
    api.create(&a).await.unwrap();
    api.create(&cm("b", "2")).await.unwrap();
    let cfg = CacheConfig::default()
        .with_label_index()
        .with_index("data-v", |c: &ConfigMap| {
            c.data.get("v").cloned().into_iter().collect()
        })
        .with_transform(|mut c: ConfigMap| {
            c.metadata.annotations.insert("seen".into(), "yes".into());
            c
        });
    let informer =
        h.informers()
            .informer_with(&h.api::<ConfigMap>(), &watcher::Config::default(), || cfg);
    let r = informer.reader();
    r.wait_until_ready().await;
    let names = |v: Vec<Arc<ConfigMap>>| v.iter().map(|o| o.name().to_owned()).collect::<Vec<_>>();
    assert_eq!(names(r.by_index("label", "app=web")), vec!["a"]);
    assert_eq!(names(r.by_index("data-v", "2")), vec!["b"]);
    assert_eq!(r.in_namespace("default").len(), 2);
    assert!(
        r.get(&ObjectKey::new(Some("default"), "a"))
            .unwrap()
            .metadata
            .annotations
            .contains_key("seen")
    );
    h.shutdown().await;
}
