//! The scheduling queue: ordering, backoff timings, unschedulable pods and their retry on
//! cluster events, the 5-minute flush — on paused tokio time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use kybern_core::api::core::v1::Pod;
use kybern_scheduler::cache::PodInfo;
use kybern_scheduler::framework::{
    ActionType, ClusterEvent, EventObject, EventObjects, EventResource, Framework,
};
use kybern_scheduler::plugins::{DefaultPluginArgs, default_builder};
use kybern_scheduler::queue::{
    Clock, Queue, QueueConfig, QueueLocation, SchedulingQueue, TokioClock,
};
use kybern_scheduler::sim::{NodeBuilder, PodBuilder};
use tokio::time::Instant;

fn fw() -> Arc<Framework> {
    Arc::new(
        default_builder("default-scheduler", &DefaultPluginArgs::default())
            .unwrap()
            .build()
            .unwrap(),
    )
}

fn info(p: Pod, uid: &str) -> Arc<PodInfo> {
    let mut p = p;
    p.metadata.uid = Some(uid.into());
    Arc::new(PodInfo::new(Arc::new(p)))
}

#[test]
fn backoff_doubles_from_one_to_ten_seconds() {
    let c = QueueConfig::default();
    let got: Vec<u64> = (1..=6).map(|a| c.backoff(a).as_secs()).collect();
    assert_eq!(got, vec![1, 2, 4, 8, 10, 10]);
}

#[tokio::test(start_paused = true)]
async fn priority_then_arrival_order() {
    let mut q = SchedulingQueue::new(&[fw()], QueueConfig::default());
    let t0 = Instant::now();
    q.add(
        info(PodBuilder::new("d", "low").priority(1).build(), "1"),
        t0,
    );
    q.add(
        info(PodBuilder::new("d", "high-late").priority(5).build(), "2"),
        t0 + Duration::from_millis(2),
    );
    q.add(
        info(PodBuilder::new("d", "high-early").priority(5).build(), "3"),
        t0 + Duration::from_millis(1),
    );
    let order: Vec<String> =
        std::iter::from_fn(|| q.pop(t0).map(|p| p.pod.name().to_owned())).collect();
    assert_eq!(order, vec!["high-early", "high-late", "low"]);
}

/// One backoff case: after `attempts` failures with an event that helps, the pod is popped
/// no earlier than `want` seconds after the failure.
async fn check_backoff(attempts: u32, want_secs: u64) {
    let mut q = SchedulingQueue::new(&[fw()], QueueConfig::default());
    let t0 = Instant::now();
    q.add(
        info(PodBuilder::new("d", "p").requests("8", "1Gi").build(), "p"),
        t0,
    );
    let mut p = q.pop(t0).unwrap();
    for _ in 1..attempts {
        p.unschedulable_plugins = vec![];
        q.add_unschedulable(p, t0);
        q.flush_backoff_completed(t0 + Duration::from_secs(60));
        p = q.pop(t0 + Duration::from_secs(60)).unwrap();
    }
    assert_eq!(p.attempts, attempts);
    // Fails with an error (no rejecting plugin): straight to backoffQ.
    p.unschedulable_plugins = vec![];
    let failed_at = t0 + Duration::from_secs(100);
    q.add_unschedulable(p, failed_at);
    assert_eq!(q.location("p"), Some(QueueLocation::Backoff));
    let just_before = failed_at + Duration::from_secs(want_secs) - Duration::from_millis(1);
    assert!(
        q.pop(just_before).is_none(),
        "attempts {attempts}: popped before {want_secs}s"
    );
    assert!(
        q.pop(failed_at + Duration::from_secs(want_secs)).is_some(),
        "attempts {attempts}"
    );
}

#[tokio::test(start_paused = true)]
async fn backoff_timings() {
    for (attempts, secs) in [(1, 1), (2, 2), (3, 4), (4, 8), (5, 10), (7, 10)] {
        check_backoff(attempts, secs).await;
    }
}

#[tokio::test(start_paused = true)]
async fn unschedulable_waits_for_a_helpful_event_or_five_minutes() {
    let cfg = QueueConfig {
        pop_from_backoff: false,
        ..QueueConfig::default()
    };
    let mut q = SchedulingQueue::new(&[fw()], cfg);
    let t0 = Instant::now();
    q.add(
        info(PodBuilder::new("d", "p").requests("8", "1Gi").build(), "p"),
        t0,
    );
    let mut p = q.pop(t0).unwrap();
    p.unschedulable_plugins = vec!["NodeResourcesFit".into()];
    q.add_unschedulable(p, t0);
    assert_eq!(q.location("p"), Some(QueueLocation::Unschedulable));
    let node_event = |cpu: &str| {
        (
            ClusterEvent::new(EventResource::Node, ActionType::ADD),
            EventObjects {
                old: None,
                new: Some(EventObject::Node(Arc::new(
                    NodeBuilder::new("n", cpu, "4Gi").build(),
                ))),
            },
        )
    };
    // A small node: NodeResourcesFit's hint says skip.
    let (e, o) = node_event("2");
    q.on_event(e, o, t0);
    assert_eq!(q.location("p"), Some(QueueLocation::Unschedulable));
    // An unrelated event (a pod label change nobody registered for).
    q.on_event(
        ClusterEvent::new(EventResource::Namespace, ActionType::ADD),
        EventObjects::default(),
        t0,
    );
    assert_eq!(q.location("p"), Some(QueueLocation::Unschedulable));
    // A big node helps: backoff (1 s after the failure), then active.
    let (e, o) = node_event("16");
    q.on_event(e, o, t0 + Duration::from_millis(10));
    assert_eq!(q.location("p"), Some(QueueLocation::Backoff));
    assert!(q.pop(t0 + Duration::from_millis(999)).is_none());
    let mut p = q.pop(t0 + Duration::from_secs(1)).unwrap();
    // Unschedulable again, no event: retried after 5 minutes by the leftover flush.
    p.unschedulable_plugins = vec!["NodeResourcesFit".into()];
    let t1 = t0 + Duration::from_secs(2);
    q.add_unschedulable(p, t1);
    q.flush_unschedulable_leftover(t1 + Duration::from_secs(299));
    assert_eq!(q.location("p"), Some(QueueLocation::Unschedulable));
    q.flush_unschedulable_leftover(t1 + Duration::from_secs(300));
    assert_eq!(q.location("p"), Some(QueueLocation::Active));
}

#[tokio::test(start_paused = true)]
async fn event_during_the_cycle_sends_the_pod_to_backoff() {
    let mut q = SchedulingQueue::new(&[fw()], QueueConfig::default());
    let t0 = Instant::now();
    q.add(
        info(PodBuilder::new("d", "p").requests("8", "1Gi").build(), "p"),
        t0,
    );
    let mut p = q.pop(t0).unwrap();
    // While the pod is in flight, a big node arrives.
    big_node_added(&mut q, t0);
    p.unschedulable_plugins = vec!["NodeResourcesFit".into()];
    q.add_unschedulable(p, t0);
    assert_eq!(q.location("p"), Some(QueueLocation::Backoff));
}

#[tokio::test(start_paused = true)]
async fn async_pop_waits_for_backoff_on_paused_time() {
    let queue = Arc::new(Queue::new(
        SchedulingQueue::new(&[fw()], QueueConfig::default()),
        Arc::new(TokioClock),
    ));
    let clock = TokioClock;
    let t0 = clock.now();
    queue.with(|q, now| q.add(info(PodBuilder::new("d", "p").build(), "p"), now));
    let mut p = queue.pop().await.unwrap();
    p.unschedulable_plugins = vec![];
    queue.with(|q, now| q.add_unschedulable(p, now));
    let p = queue.pop().await.unwrap();
    let waited = clock.now() - t0;
    assert_eq!(p.attempts, 2);
    assert!(
        waited >= Duration::from_secs(1) && waited < Duration::from_millis(1100),
        "{waited:?}"
    );
}

/// A 16-cpu node is added (NodeResourcesFit's hint queues pods it fits).
fn big_node_added(q: &mut SchedulingQueue, now: Instant) {
    q.on_event(
        ClusterEvent::new(EventResource::Node, ActionType::ADD),
        EventObjects {
            old: None,
            new: Some(EventObject::Node(Arc::new(
                NodeBuilder::new("n", "16", "4Gi").build(),
            ))),
        },
        now,
    );
}

/// `SchedulerPopFromBackoffQ`: with activeQ empty, a pod backing off after a rejection is
/// popped at once; one backing off after an error is not; with the gate off, neither is.
#[tokio::test(start_paused = true)]
async fn pop_from_backoff_when_active_is_empty() {
    // (gate on, rejected by a plugin (else: error), popped before its backoff ends)
    let cases = [
        (true, true, true),
        (true, false, false),
        (false, true, false),
        (false, false, false),
    ];
    for (gate, rejected, want_early) in cases {
        let cfg = QueueConfig {
            pop_from_backoff: gate,
            ..QueueConfig::default()
        };
        let mut q = SchedulingQueue::new(&[fw()], cfg);
        let t0 = Instant::now();
        q.add(info(PodBuilder::new("d", "p").build(), "p"), t0);
        let mut p = q.pop(t0).unwrap();
        p.unschedulable_plugins = if rejected {
            vec!["NodeResourcesFit".into()]
        } else {
            vec![]
        };
        // A helpful event arrived while in flight: the pod goes to backoffQ.
        big_node_added(&mut q, t0);
        q.add_unschedulable(p, t0);
        assert_eq!(q.location("p"), Some(QueueLocation::Backoff));
        let early = q.pop(t0 + Duration::from_millis(10));
        assert_eq!(
            early.is_some(),
            want_early,
            "gate {gate} rejected {rejected}"
        );
        if let Some(p) = early {
            assert_eq!(p.attempts, 2);
        } else {
            // Everyone gets it after the full backoff.
            assert!(q.pop(t0 + Duration::from_secs(1)).is_some());
        }
    }
}

/// With a pod in activeQ, a backing-off pod is not taken early.
#[tokio::test(start_paused = true)]
async fn active_pods_come_before_backing_off_pods() {
    let mut q = SchedulingQueue::new(&[fw()], QueueConfig::default());
    let t0 = Instant::now();
    q.add(info(PodBuilder::new("d", "a").build(), "a"), t0);
    let mut a = q.pop(t0).unwrap();
    a.unschedulable_plugins = vec!["NodeResourcesFit".into()];
    big_node_added(&mut q, t0);
    q.add_unschedulable(a, t0);
    q.add(info(PodBuilder::new("d", "b").build(), "b"), t0);
    let order: Vec<String> = std::iter::from_fn(|| q.pop(t0).map(|p| p.pod.name().to_owned()))
        .take(3)
        .collect();
    assert_eq!(order, vec!["b", "a"]);
}
