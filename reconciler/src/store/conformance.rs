//! The shared store conformance suite: every rule of the [`Store`] contract as a generic async
//! test, run against any backend through a factory (feature `testing`).
//!
//! A backend's test file instantiates the whole suite with one macro call:
//!
//! ```no_run
//! kybern_reconciler::store_conformance_tests!(|settings: &StoreSettings| {
//!     std::sync::Arc::new(MemoryStore::with_config(MemoryStoreConfig {
//!         history: settings.history,
//!         ..MemoryStoreConfig::default()
//!     })) as std::sync::Arc<dyn Store>
//! });
//! ```
//!
//! Each function panics (with the rule it checks) on the first violation.
//!
//! # Revisions
//! Tests never assume an absolute revision: each reads the store's revision when it starts
//! (`base`) and checks revisions relative to it (a fresh `MemoryStore` starts at 0, a fresh
//! etcd at 1). They do assume the store they get is theirs alone: one revision per write of
//! the test, nothing else writing.

#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use futures::StreamExt as _;
use kybern_core::api::apps::v1::Deployment;
use kybern_core::api::core::v1::{ConfigMap, Namespace, Node, Pod};
use kybern_core::api::meta::v1::Preconditions;
use kybern_core::{ApiResource, DynamicObject, Resource, StatusReason};
use serde_json::{Value, json};

use super::{
    CONFLICT_MODIFIED, CONTINUE_EXPIRED, DeleteOptions, DeleteOutcome, ListOptions, Patch,
    PatchOptions, PropagationPolicy, ResourceVersionMatch, Store, StoreError, WatchEvent,
    WatchOptions, WatchStream, WriteScope,
};
use crate::api::{Api, ListParams, Scale};

/// What a conformance test asks of the store it gets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoreSettings {
    /// Retain about this many events per kind (watch history); a watcher further behind must
    /// be ended with Expired. Backends map it onto their own retention setting.
    pub history: usize,
}

impl Default for StoreSettings {
    fn default() -> Self {
        StoreSettings { history: 4096 }
    }
}

/// Makes a fresh, empty store with the given settings (borrowing for `'a`: the suite wraps a
/// factory's stores, see [`batched_watches`]).
pub type Factory<'a> = dyn Fn(&StoreSettings) -> Arc<dyn Store> + Send + Sync + 'a;

fn store(f: &Factory<'_>) -> Arc<dyn Store> {
    f(&StoreSettings::default())
}

fn cms() -> ApiResource {
    ConfigMap::api_resource(&())
}

fn nodes() -> ApiResource {
    Node::api_resource(&())
}

fn pods() -> ApiResource {
    Pod::api_resource(&())
}

fn cm(ns: &str, name: &str) -> DynamicObject {
    let mut o = DynamicObject::new(name, &cms());
    o.metadata.namespace = Some(ns.to_owned());
    o.data.insert("data".into(), json!({"k": "v"}));
    o
}

/// A list of everything, `n` items per page.
fn limited(n: u64) -> ListOptions {
    ListOptions {
        limit: Some(n),
        ..ListOptions::default()
    }
}

fn rv(o: &DynamicObject) -> u64 {
    o.metadata
        .resource_version
        .as_deref()
        .unwrap()
        .parse()
        .unwrap()
}

/// Asserts an error's upstream reason, code and message.
#[track_caller]
fn check_err<T>(what: &str, r: Result<T, StoreError>, reason: StatusReason, message: &str) {
    let e = match r {
        Ok(_) => panic!("{what}: expected a {reason} error, got Ok"),
        Err(e) => e,
    };
    let s = e.to_status();
    assert_eq!(s.status_reason(), reason, "{what}: {e}");
    assert_eq!(s.code, Some(reason.code()), "{what}: {e}");
    assert_eq!(s.message.as_deref(), Some(message), "{what}");
    assert_eq!(
        e.to_string(),
        message,
        "{what}: Display must equal the Status message"
    );
}

async fn next_event(w: &mut WatchStream) -> WatchEvent<Arc<DynamicObject>> {
    match tokio::time::timeout(Duration::from_secs(10), w.next()).await {
        Ok(Some(Ok(ev))) => ev,
        Ok(Some(Err(e))) => panic!("watch ended with error: {e}"),
        Ok(None) => panic!("watch ended"),
        Err(_) => panic!("no watch event within 10s"),
    }
}

/// `(type, name, resourceVersion)` of an event, for table comparisons.
fn brief(ev: &WatchEvent<Arc<DynamicObject>>) -> (String, String, u64) {
    match ev {
        WatchEvent::Added(o) | WatchEvent::Modified(o) | WatchEvent::Deleted(o) => (
            ev.type_name().to_owned(),
            o.metadata.name.clone().unwrap_or_default(),
            rv(o),
        ),
        WatchEvent::Bookmark(b) => (
            "BOOKMARK".into(),
            String::new(),
            b.resource_version.parse().unwrap(),
        ),
    }
}

async fn watch_from(s: &Arc<dyn Store>, r: &ApiResource, from: u64) -> WatchStream {
    s.watch(
        r,
        &WatchOptions {
            resource_version: Some(from.to_string()),
            ..WatchOptions::default()
        },
    )
    .await
    .unwrap()
}

// ---------------------------------------------------------------------------------------------
// create / get

pub async fn create_sets_system_fields(f: &Factory<'_>) {
    let s = store(f);
    let base = s.current_revision().await.unwrap();
    let a = s.create(&cms(), cm("ns", "a")).await.unwrap();
    let b = s.create(&cms(), cm("ns", "b")).await.unwrap();
    assert_eq!(rv(&a), base + 1, "a write takes the next revision");
    assert_eq!(rv(&b), base + 2, "one global revision");
    assert_eq!(s.current_revision().await.unwrap(), base + 2);
    for o in [&a, &b] {
        let m = &o.metadata;
        assert_eq!(m.uid.as_deref().map(str::len), Some(36), "uid is a UUID");
        assert!(m.creation_timestamp.is_some(), "creationTimestamp set");
        assert_eq!(m.generation, Some(1), "generation starts at 1");
        assert_eq!(o.types.as_ref().unwrap().kind, "ConfigMap");
    }
    assert_ne!(a.metadata.uid, b.metadata.uid);
    let got = s.get(&cms(), Some("ns"), "a").await.unwrap();
    assert_eq!(*got, *a, "get returns what create returned");
    let node = s
        .create(&nodes(), DynamicObject::new("n1", &nodes()))
        .await
        .unwrap();
    assert_eq!(node.metadata.namespace, None);
    assert_eq!(
        s.get(&nodes(), None, "n1").await.unwrap().metadata.uid,
        node.metadata.uid
    );
}

pub async fn create_rejections(f: &Factory<'_>) {
    let s = store(f);
    let a = s.create(&cms(), cm("ns", "a")).await.unwrap();
    let mut with_rv = cm("ns", "b");
    with_rv.metadata.resource_version = Some("5".into());
    let mut no_name = cm("ns", "");
    no_name.metadata.name = None;
    let mut no_ns = cm("ns", "c");
    no_ns.metadata.namespace = None;
    let mut node_ns = DynamicObject::new("n", &nodes());
    node_ns.metadata.namespace = Some("ns".into());
    let cases: Vec<(&str, ApiResource, DynamicObject, StatusReason, &str)> = vec![
        (
            "duplicate",
            cms(),
            cm("ns", "a"),
            StatusReason::AlreadyExists,
            "configmaps \"a\" already exists",
        ),
        (
            "resourceVersion set",
            cms(),
            with_rv,
            StatusReason::BadRequest,
            "resourceVersion should not be set on objects to be created",
        ),
        (
            "no name",
            cms(),
            no_name,
            StatusReason::Invalid,
            "ConfigMap \"\" is invalid: metadata.name: Required value: name or generateName is required",
        ),
        (
            "namespaced kind without namespace",
            cms(),
            no_ns,
            StatusReason::Invalid,
            "ConfigMap \"c\" is invalid: metadata.namespace: Required value",
        ),
        (
            "cluster-scoped kind with namespace",
            nodes(),
            node_ns,
            StatusReason::Invalid,
            "Node \"n\" is invalid: metadata.namespace: Forbidden: not allowed on this type",
        ),
    ];
    for (what, r, o, reason, msg) in cases {
        check_err(what, s.create(&r, o).await, reason, msg);
    }
    assert_eq!(
        s.current_revision().await.unwrap(),
        rv(&a),
        "failed creates write nothing"
    );
}

pub async fn generate_name(f: &Factory<'_>) {
    let s = store(f);
    let mut names = BTreeSet::new();
    for _ in 0..20 {
        let mut o = cm("ns", "");
        o.metadata.name = None;
        o.metadata.generate_name = Some("web-".into());
        let c = s.create(&cms(), o).await.unwrap();
        let name = c.metadata.name.clone().unwrap();
        assert_eq!(name.len(), 9, "{name}");
        assert!(name.starts_with("web-"), "{name}");
        assert!(
            name[4..]
                .bytes()
                .all(|b| super::names::SUFFIX_ALPHABET.contains(&b)),
            "{name}"
        );
        names.insert(name);
    }
    assert_eq!(names.len(), 20, "generated names are unique");
}

pub async fn get_not_found(f: &Factory<'_>) {
    let s = store(f);
    let deps = Deployment::api_resource(&());
    check_err(
        "missing configmap",
        s.get(&cms(), Some("ns"), "x").await,
        StatusReason::NotFound,
        "configmaps \"x\" not found",
    );
    check_err(
        "missing deployment",
        s.get(&deps, Some("ns"), "web").await,
        StatusReason::NotFound,
        "deployments.apps \"web\" not found",
    );
    s.create(&cms(), cm("other", "x")).await.unwrap();
    assert!(
        s.get(&cms(), Some("ns"), "x")
            .await
            .unwrap_err()
            .is_not_found(),
        "namespaces are separate"
    );
}

// ---------------------------------------------------------------------------------------------
// update

pub async fn update_preconditions(f: &Factory<'_>) {
    let s = store(f);
    let a = s.create(&cms(), cm("ns", "a")).await.unwrap();
    let mut v2 = (*a).clone();
    v2.data.insert("data".into(), json!({"k": "2"}));
    let b = s
        .update(&cms(), v2.clone(), WriteScope::Main)
        .await
        .unwrap();
    assert_eq!(rv(&b), rv(&a) + 1);
    // v2 still carries a's resourceVersion: stale.
    v2.data.insert("data".into(), json!({"k": "3"}));
    check_err(
        "stale resourceVersion",
        s.update(&cms(), v2.clone(), WriteScope::Main).await,
        StatusReason::Conflict,
        &format!("Operation cannot be fulfilled on configmaps \"a\": {CONFLICT_MODIFIED}"),
    );
    // No resourceVersion: unconditional.
    v2.metadata.resource_version = None;
    let c = s.update(&cms(), v2, WriteScope::Main).await.unwrap();
    assert_eq!(c.data["data"]["k"], "3");
    check_err(
        "update of a missing object",
        s.update(&cms(), cm("ns", "zz"), WriteScope::Main).await,
        StatusReason::NotFound,
        "configmaps \"zz\" not found",
    );
}

pub async fn generation_tracks_spec(f: &Factory<'_>) {
    let s = store(f);
    let mut d = cm("ns", "a");
    d.data.insert("spec".into(), json!({"replicas": 1}));
    let a = s.create(&cms(), d).await.unwrap();
    type Edit = fn(&mut DynamicObject);
    let cases: Vec<(&str, Edit, i64)> = vec![
        (
            "label change",
            |o| {
                o.metadata.labels.insert("x".into(), "y".into());
            },
            1,
        ),
        (
            "annotation change",
            |o| {
                o.metadata.annotations.insert("note".into(), "n".into());
            },
            1,
        ),
        (
            "spec change",
            |o| {
                o.data.insert("spec".into(), json!({"replicas": 2}));
            },
            2,
        ),
        (
            "other top-level field",
            |o| {
                o.data.insert("data".into(), json!({"k": "other"}));
            },
            3,
        ),
        (
            "status through the main resource is ignored",
            |o| {
                o.data.insert("status".into(), json!({"ready": true}));
                o.metadata.labels.insert("z".into(), "1".into());
            },
            3,
        ),
        (
            "generation from the client is ignored",
            |o| {
                o.metadata.generation = Some(99);
                o.metadata.labels.insert("w".into(), "1".into());
            },
            3,
        ),
    ];
    let mut cur = a;
    for (what, edit, want) in cases {
        let mut next = (*cur).clone();
        edit(&mut next);
        cur = s.update(&cms(), next, WriteScope::Main).await.unwrap();
        assert_eq!(cur.metadata.generation, Some(want), "{what}");
    }
    assert!(
        !cur.data.contains_key("status"),
        "main resource update cannot set status"
    );
}

pub async fn status_subresource_isolation(f: &Factory<'_>) {
    let s = store(f);
    let mut d = cm("ns", "a");
    d.data.insert("spec".into(), json!({"replicas": 1}));
    let a = s.create(&cms(), d).await.unwrap();
    let mut req = (*a).clone();
    req.data.insert("spec".into(), json!({"replicas": 5}));
    req.data.insert("status".into(), json!({"phase": "Ready"}));
    req.metadata.labels.insert("sneaky".into(), "1".into());
    let b = s.update_status(&cms(), req).await.unwrap();
    assert_eq!(
        b.data["status"],
        json!({"phase": "Ready"}),
        "status written"
    );
    assert_eq!(b.data["spec"], json!({"replicas": 1}), "spec ignored");
    assert!(b.metadata.labels.is_empty(), "metadata ignored");
    assert_eq!(
        b.metadata.generation,
        Some(1),
        "status writes keep generation"
    );
    assert_eq!(rv(&b), rv(&a) + 1);
    let mut stale = (*a).clone();
    stale.data.insert("status".into(), json!({"phase": "Old"}));
    check_err(
        "status update with stale resourceVersion",
        s.update_status(&cms(), stale).await,
        StatusReason::Conflict,
        &format!("Operation cannot be fulfilled on configmaps \"a\": {CONFLICT_MODIFIED}"),
    );
    let mut spec_edit = (*b).clone();
    spec_edit.data.insert("spec".into(), json!({"replicas": 2}));
    spec_edit.data.remove("status");
    let c = s.update(&cms(), spec_edit, WriteScope::Main).await.unwrap();
    assert_eq!(
        c.data["status"],
        json!({"phase": "Ready"}),
        "update keeps status"
    );
    assert_eq!(c.metadata.generation, Some(2));
}

pub async fn immutable_metadata(f: &Factory<'_>) {
    let s = store(f);
    let a = s.create(&cms(), cm("ns", "a")).await.unwrap();
    let mut uid = (*a).clone();
    uid.metadata.uid = Some("other".into());
    check_err(
        "uid change",
        s.update(&cms(), uid, WriteScope::Main).await,
        StatusReason::Invalid,
        "ConfigMap \"a\" is invalid: metadata.uid: Invalid value: \"other\": field is immutable",
    );
    let mut del = (*a).clone();
    del.metadata.deletion_timestamp = a.metadata.creation_timestamp;
    let e = s.update(&cms(), del, WriteScope::Main).await.unwrap_err();
    assert_eq!(e.to_status().status_reason(), StatusReason::Invalid, "{e}");
    assert!(e.to_string().contains("metadata.deletionTimestamp"), "{e}");
    let mut restore = (*a).clone();
    restore.metadata.uid = None;
    restore.metadata.creation_timestamp = None;
    restore.metadata.labels.insert("l".into(), "1".into());
    let b = s.update(&cms(), restore, WriteScope::Main).await.unwrap();
    assert_eq!(b.metadata.uid, a.metadata.uid, "missing uid restored");
    assert_eq!(
        b.metadata.creation_timestamp, a.metadata.creation_timestamp,
        "creationTimestamp cannot change"
    );
}

pub async fn noop_update_keeps_revision(f: &Factory<'_>) {
    let s = store(f);
    let a = s.create(&cms(), cm("ns", "a")).await.unwrap();
    let mut w = watch_from(&s, &cms(), rv(&a)).await;
    let same = s
        .update(&cms(), (*a).clone(), WriteScope::Main)
        .await
        .unwrap();
    assert_eq!(*same, *a, "no-op update returns the stored object");
    let mut unversioned = (*a).clone();
    unversioned.metadata.resource_version = None;
    let same2 = s
        .update(&cms(), unversioned, WriteScope::Main)
        .await
        .unwrap();
    assert_eq!(rv(&same2), rv(&a));
    let st = s.update_status(&cms(), (*a).clone()).await.unwrap();
    assert_eq!(rv(&st), rv(&a), "no-op status update");
    let p = s
        .patch(
            &cms(),
            Some("ns"),
            "a",
            &Patch::Merge(json!({"data": {"k": "v"}})),
            &PatchOptions::default(),
        )
        .await
        .unwrap();
    assert_eq!(rv(&p), rv(&a), "no-op patch");
    assert_eq!(s.current_revision().await.unwrap(), rv(&a));
    let real = s.create(&cms(), cm("ns", "b")).await.unwrap();
    assert_eq!(
        brief(&next_event(&mut w).await),
        ("ADDED".into(), "b".into(), rv(&real)),
        "no-ops produce no events"
    );
}

// ---------------------------------------------------------------------------------------------
// patch

pub async fn patch_kinds(f: &Factory<'_>) {
    let s = store(f);
    let a = s.create(&cms(), cm("ns", "a")).await.unwrap();
    let opts = PatchOptions::default();
    let merged = s
        .patch(
            &cms(),
            Some("ns"),
            "a",
            &Patch::Merge(
                json!({"data": {"k": null, "n": "1"}, "metadata": {"labels": {"x": "y"}}}),
            ),
            &opts,
        )
        .await
        .unwrap();
    assert_eq!(merged.data["data"], json!({"n": "1"}));
    assert_eq!(
        merged.metadata.labels.get("x").map(String::as_str),
        Some("y")
    );
    assert_eq!(rv(&merged), rv(&a) + 1);
    let jp: json_patch::Patch = serde_json::from_value(json!([
        {"op": "test", "path": "/data/n", "value": "1"},
        {"op": "add", "path": "/data/m", "value": "2"},
        {"op": "remove", "path": "/data/n"}
    ]))
    .unwrap();
    let j = s
        .patch(&cms(), Some("ns"), "a", &Patch::Json(jp), &opts)
        .await
        .unwrap();
    assert_eq!(j.data["data"], json!({"m": "2"}));
    let failing: json_patch::Patch =
        serde_json::from_value(json!([{"op": "test", "path": "/data/m", "value": "nope"}]))
            .unwrap();
    let e = s
        .patch(&cms(), Some("ns"), "a", &Patch::Json(failing), &opts)
        .await
        .unwrap_err();
    assert_eq!(e.to_status().code, Some(422), "{e}");
    check_err(
        "patch with stale resourceVersion option",
        s.patch(
            &cms(),
            Some("ns"),
            "a",
            &Patch::Merge(json!({"data": {"z": "1"}})),
            &PatchOptions {
                resource_version: Some(rv(&a).to_string()),
                ..PatchOptions::default()
            },
        )
        .await,
        StatusReason::Conflict,
        &format!("Operation cannot be fulfilled on configmaps \"a\": {CONFLICT_MODIFIED}"),
    );
    check_err(
        "patch setting a stale resourceVersion in the body",
        s.patch(
            &cms(),
            Some("ns"),
            "a",
            &Patch::Merge(
                json!({"metadata": {"resourceVersion": rv(&a).to_string()}, "data": {"z": "1"}}),
            ),
            &opts,
        )
        .await,
        StatusReason::Conflict,
        &format!("Operation cannot be fulfilled on configmaps \"a\": {CONFLICT_MODIFIED}"),
    );
    check_err(
        "patch renaming the object",
        s.patch(
            &cms(),
            Some("ns"),
            "a",
            &Patch::Merge(json!({"metadata": {"name": "b"}})),
            &opts,
        )
        .await,
        StatusReason::BadRequest,
        "the name of the object (b) does not match the name on the URL (a)",
    );
    let st = s
        .patch(
            &cms(),
            Some("ns"),
            "a",
            &Patch::Merge(json!({"status": {"ok": true}, "data": {"ignored": "1"}})),
            &PatchOptions {
                scope: WriteScope::Status,
                ..PatchOptions::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(st.data["status"], json!({"ok": true}));
    assert!(
        st.data["data"].get("ignored").is_none(),
        "status patch ignores the rest"
    );
    check_err(
        "patch of a missing object",
        s.patch(&cms(), Some("ns"), "zz", &Patch::Merge(json!({})), &opts)
            .await,
        StatusReason::NotFound,
        "configmaps \"zz\" not found",
    );
}

// ---------------------------------------------------------------------------------------------
// delete

pub async fn delete_preconditions(f: &Factory<'_>) {
    let s = store(f);
    let a = s.create(&cms(), cm("ns", "a")).await.unwrap();
    let uid = a.metadata.uid.clone().unwrap();
    let pre = |uid: Option<&str>, rv: Option<&str>| DeleteOptions {
        preconditions: Some(Preconditions {
            uid: uid.map(str::to_owned),
            resource_version: rv.map(str::to_owned),
        }),
        ..DeleteOptions::default()
    };
    check_err(
        "uid precondition",
        s.delete(&cms(), Some("ns"), "a", &pre(Some("wrong"), None))
            .await,
        StatusReason::Conflict,
        &format!(
            "Operation cannot be fulfilled on configmaps \"a\": StorageError: invalid object, Code: 4, Key: /registry/configmaps/ns/a, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: wrong, UID in object meta: {uid}"
        ),
    );
    check_err(
        "resourceVersion precondition",
        s.delete(&cms(), Some("ns"), "a", &pre(None, Some("999")))
            .await,
        StatusReason::Conflict,
        &format!(
            "Operation cannot be fulfilled on configmaps \"a\": StorageError: invalid object, Code: 4, Key: /registry/configmaps/ns/a, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: ResourceVersion in precondition: 999, ResourceVersion in object meta: {}",
            rv(&a)
        ),
    );
    let before = s.current_revision().await.unwrap();
    let out = s
        .delete(
            &cms(),
            Some("ns"),
            "a",
            &pre(Some(&uid), Some(&rv(&a).to_string())),
        )
        .await
        .unwrap();
    let DeleteOutcome::Deleted(last) = out else {
        panic!("no finalizers: deleted at once, got {out:?}");
    };
    assert_eq!(
        rv(&last),
        before + 1,
        "deleted object carries the deletion's revision"
    );
    check_err(
        "get after delete",
        s.get(&cms(), Some("ns"), "a").await,
        StatusReason::NotFound,
        "configmaps \"a\" not found",
    );
    check_err(
        "delete twice",
        s.delete(&cms(), Some("ns"), "a", &DeleteOptions::default())
            .await,
        StatusReason::NotFound,
        "configmaps \"a\" not found",
    );
    let again = s.create(&cms(), cm("ns", "a")).await.unwrap();
    assert_ne!(
        again.metadata.uid, a.metadata.uid,
        "recreated object has a new uid"
    );
}

pub async fn finalizers_and_graceful_deletion(f: &Factory<'_>) {
    let s = store(f);
    let mut o = cm("ns", "a");
    o.metadata.finalizers = vec!["example.com/a".into(), "example.com/b".into()];
    let a = s.create(&cms(), o).await.unwrap();
    let mut w = watch_from(&s, &cms(), rv(&a)).await;
    let out = s
        .delete(&cms(), Some("ns"), "a", &DeleteOptions::default())
        .await
        .unwrap();
    let DeleteOutcome::Finalizing(marked) = out else {
        panic!("finalizers keep the object, got {out:?}");
    };
    assert!(marked.metadata.deletion_timestamp.is_some());
    assert_eq!(marked.metadata.deletion_grace_period_seconds, Some(0));
    assert_eq!(
        marked.metadata.generation,
        Some(2),
        "marking for deletion bumps generation"
    );
    let got = s.get(&cms(), Some("ns"), "a").await.unwrap();
    assert_eq!(*got, *marked, "still readable while finalizing");
    let again = s
        .delete(&cms(), Some("ns"), "a", &DeleteOptions::default())
        .await
        .unwrap();
    assert_eq!(
        rv(&again.into_inner()),
        rv(&marked),
        "deleting again writes nothing"
    );
    let mut add = (*marked).clone();
    add.metadata.finalizers.push("example.com/new".into());
    check_err(
        "no new finalizers while deleting",
        s.update(&cms(), add, WriteScope::Main).await,
        StatusReason::Invalid,
        "ConfigMap \"a\" is invalid: metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{\"example.com/new\"}",
    );
    let mut unset = (*marked).clone();
    unset.metadata.deletion_timestamp = None;
    unset.metadata.finalizers = vec!["example.com/a".into()];
    let one = s.update(&cms(), unset, WriteScope::Main).await.unwrap();
    assert_eq!(
        one.metadata.deletion_timestamp, marked.metadata.deletion_timestamp,
        "deletionTimestamp cannot be unset"
    );
    let mut last = (*one).clone();
    last.metadata.finalizers.clear();
    let gone = s.update(&cms(), last, WriteScope::Main).await.unwrap();
    assert!(
        s.get(&cms(), Some("ns"), "a")
            .await
            .unwrap_err()
            .is_not_found(),
        "removing the last finalizer deletes"
    );
    let got: Vec<_> = [
        next_event(&mut w).await,
        next_event(&mut w).await,
        next_event(&mut w).await,
    ]
    .iter()
    .map(brief)
    .collect();
    assert_eq!(
        got,
        vec![
            ("MODIFIED".into(), "a".into(), rv(&marked)),
            ("MODIFIED".into(), "a".into(), rv(&one)),
            ("DELETED".into(), "a".into(), rv(&gone)),
        ]
    );
}

fn policy(p: PropagationPolicy) -> DeleteOptions {
    DeleteOptions {
        propagation_policy: Some(p),
        ..DeleteOptions::default()
    }
}

pub async fn delete_propagation_policies(f: &Factory<'_>) {
    use PropagationPolicy::{Background, Foreground, Orphan};
    let s = store(f);
    // Foreground: kept with foregroundDeletion; a later delete may switch the policy.
    let a = s.create(&cms(), cm("ns", "a")).await.unwrap();
    let out = s
        .delete(&cms(), Some("ns"), "a", &policy(Foreground))
        .await
        .unwrap();
    let DeleteOutcome::Finalizing(fg) = out else {
        panic!("foreground keeps the object, got {out:?}");
    };
    assert_eq!(
        fg.metadata.finalizers,
        vec!["foregroundDeletion".to_owned()]
    );
    assert!(fg.metadata.deletion_timestamp.is_some());
    assert_eq!(fg.metadata.deletion_grace_period_seconds, Some(0));
    assert_eq!(fg.metadata.generation, a.metadata.generation.map(|g| g + 1));
    let same = s
        .delete(&cms(), Some("ns"), "a", &DeleteOptions::default())
        .await
        .unwrap();
    assert_eq!(
        rv(&same.into_inner()),
        rv(&fg),
        "no policy: the finalizer already chosen stays"
    );
    let out = s
        .delete(&cms(), Some("ns"), "a", &policy(Orphan))
        .await
        .unwrap();
    let DeleteOutcome::Finalizing(or) = out else {
        panic!("orphan keeps the object, got {out:?}");
    };
    assert_eq!(or.metadata.finalizers, vec!["orphan".to_owned()]);
    assert_eq!(
        or.metadata.deletion_timestamp,
        fg.metadata.deletion_timestamp
    );
    assert_eq!(
        or.metadata.generation, fg.metadata.generation,
        "no second bump"
    );
    assert!(rv(&or) > rv(&fg), "the policy change is written");
    let out = s
        .delete(&cms(), Some("ns"), "a", &policy(Background))
        .await
        .unwrap();
    assert!(
        matches!(out, DeleteOutcome::Deleted(_)),
        "background drops the GC finalizer and deletes, got {out:?}"
    );
    // Other finalizers stay and keep the object; Background adds nothing.
    let rows = [
        ("b", Background, vec!["example.com/x"]),
        ("c", Orphan, vec!["example.com/x", "orphan"]),
    ];
    for (name, p, want) in rows {
        let mut o = cm("ns", name);
        o.metadata.finalizers = vec!["example.com/x".into()];
        s.create(&cms(), o).await.unwrap();
        let out = s
            .delete(&cms(), Some("ns"), name, &policy(p))
            .await
            .unwrap();
        assert_eq!(out.into_inner().metadata.finalizers, want, "{p}");
    }
    // A kind whose default is Orphan (core/v1 ReplicationController).
    let mut rcs = cms();
    rcs.gvk = kybern_core::GroupVersionKind::from_static("", "v1", "ReplicationController");
    rcs.plural = "replicationcontrollers".into();
    let mut rc = DynamicObject::new("rc", &rcs);
    rc.metadata.namespace = Some("ns".into());
    s.create(&rcs, rc).await.unwrap();
    let out = s
        .delete(&rcs, Some("ns"), "rc", &DeleteOptions::default())
        .await
        .unwrap();
    let DeleteOutcome::Finalizing(rc) = out else {
        panic!("ReplicationController orphans by default, got {out:?}");
    };
    assert_eq!(rc.metadata.finalizers, vec!["orphan".to_owned()]);
}

pub async fn namespace_deletion(f: &Factory<'_>) {
    let s = store(f);
    let nss = Namespace::api_resource(&());
    let mut ns = DynamicObject::new("team", &nss);
    ns.data
        .insert("spec".into(), json!({"finalizers": ["kubernetes"]}));
    ns.data.insert("status".into(), json!({"phase": "Active"}));
    s.create(&nss, ns).await.unwrap();
    let out = s
        .delete(&nss, None, "team", &DeleteOptions::default())
        .await
        .unwrap();
    let DeleteOutcome::Finalizing(marked) = out else {
        panic!("a namespace is kept on its first delete, got {out:?}");
    };
    assert!(marked.metadata.deletion_timestamp.is_some());
    assert!(marked.metadata.finalizers.is_empty());
    assert_eq!(marked.data["status"]["phase"], json!("Terminating"));
    let again = s
        .delete(&nss, None, "team", &DeleteOptions::default())
        .await
        .unwrap();
    assert_eq!(
        rv(&again.into_inner()),
        rv(&marked),
        "spec.finalizers left: deleting again does nothing"
    );
    let mut status = (*marked).clone();
    status.data.insert(
        "status".into(),
        json!({"phase": "Terminating", "conditions": []}),
    );
    s.update(&nss, status, WriteScope::Status).await.unwrap();
    assert!(
        s.get(&nss, None, "team").await.is_ok(),
        "a status update keeps it"
    );
    let mut done = (*s.get(&nss, None, "team").await.unwrap()).clone();
    done.data.insert("spec".into(), json!({"finalizers": []}));
    s.update(&nss, done, WriteScope::Main).await.unwrap();
    assert!(
        s.get(&nss, None, "team").await.unwrap_err().is_not_found(),
        "emptying spec.finalizers of a terminating namespace deletes it"
    );
    // Without spec.finalizers: the first delete still only marks, the second deletes.
    s.create(&nss, DynamicObject::new("bare", &nss))
        .await
        .unwrap();
    let first = s
        .delete(&nss, None, "bare", &DeleteOptions::default())
        .await
        .unwrap();
    assert!(matches!(first, DeleteOutcome::Finalizing(_)), "{first:?}");
    let second = s
        .delete(&nss, None, "bare", &DeleteOptions::default())
        .await
        .unwrap();
    assert!(matches!(second, DeleteOutcome::Deleted(_)), "{second:?}");
    // An explicit policy puts its finalizer on the namespace.
    s.create(&nss, DynamicObject::new("fg", &nss))
        .await
        .unwrap();
    let out = s
        .delete(&nss, None, "fg", &policy(PropagationPolicy::Foreground))
        .await
        .unwrap();
    assert_eq!(
        out.into_inner().metadata.finalizers,
        vec!["foregroundDeletion".to_owned()]
    );
}

// ---------------------------------------------------------------------------------------------
// list

fn names(items: &[Arc<DynamicObject>]) -> Vec<String> {
    items
        .iter()
        .map(|o| {
            format!(
                "{}/{}",
                o.metadata.namespace.as_deref().unwrap_or(""),
                o.metadata.name.as_deref().unwrap_or("")
            )
        })
        .collect()
}

/// Lists with `opts` one item per page, following continue tokens; returns every page's
/// `namespace/name`s in order.
async fn list_paged(s: &Arc<dyn Store>, r: &ApiResource, opts: &ListOptions) -> Vec<String> {
    let mut paged = Vec::new();
    let mut token = None;
    loop {
        let page = s
            .list(
                r,
                &ListOptions {
                    limit: Some(1),
                    continue_token: token.take(),
                    ..opts.clone()
                },
            )
            .await
            .unwrap();
        paged.extend(names(&page.items));
        match page.continue_token {
            Some(t) => token = Some(t),
            None => return paged,
        }
    }
}

/// Lists come in etcd's order: by the bytes of upstream's key `…/<namespace>/<name>`, so a
/// namespace that extends another with a character below `/` (`a-b`, `a.b`) sorts BEFORE it,
/// and one that extends it with a character above (`ab`) after.
pub async fn list_namespaces_and_order(f: &Factory<'_>) {
    let s = store(f);
    let base = s.current_revision().await.unwrap();
    let objects = [
        ("b", "2"),
        ("a", "9"),
        ("a-b", "x"),
        ("b", "1"),
        ("ab", "0"),
        ("a.b", "y"),
        ("a", "10"),
        ("a", "9-1"),
    ];
    for (ns, n) in objects {
        s.create(&cms(), cm(ns, n)).await.unwrap();
    }
    let cases: Vec<(Option<&str>, Vec<&str>)> = vec![
        (
            None,
            vec![
                "a-b/x", "a.b/y", "a/10", "a/9", "a/9-1", "ab/0", "b/1", "b/2",
            ],
        ),
        (Some("a"), vec!["a/10", "a/9", "a/9-1"]),
        (Some("a-b"), vec!["a-b/x"]),
        (Some("b"), vec!["b/1", "b/2"]),
        (Some("zz"), vec![]),
    ];
    for (ns, want) in cases {
        let page = s
            .list(
                &cms(),
                &ListOptions {
                    namespace: ns.map(str::to_owned),
                    ..ListOptions::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(names(&page.items), want, "namespace {ns:?}");
        assert_eq!(page.resource_version, base + objects.len() as u64);
        assert_eq!(page.continue_token, None);
    }
    // Pagination walks the same order, one item per page.
    assert_eq!(
        list_paged(&s, &cms(), &ListOptions::default()).await,
        vec![
            "a-b/x", "a.b/y", "a/10", "a/9", "a/9-1", "ab/0", "b/1", "b/2"
        ],
        "pages follow the list order"
    );
    let empty = s.list(&nodes(), &ListOptions::default()).await.unwrap();
    assert!(empty.items.is_empty());
}

pub async fn pagination_is_consistent(f: &Factory<'_>) {
    let s = store(f);
    for i in 0..10 {
        s.create(&cms(), cm("ns", &format!("o{i}"))).await.unwrap();
    }
    // Another namespace's objects are outside the range and never counted.
    s.create(&cms(), cm("other", "x")).await.unwrap();
    let at = s.current_revision().await.unwrap();
    let mut seen = Vec::new();
    let mut remaining = Vec::new();
    let mut token = None;
    let mut pages = 0;
    loop {
        let page = s
            .list(
                &cms(),
                &ListOptions {
                    namespace: Some("ns".into()),
                    limit: Some(3),
                    continue_token: token.clone(),
                    ..ListOptions::default()
                },
            )
            .await
            .unwrap();
        assert_eq!(
            page.resource_version, at,
            "every page reads at the first page's revision"
        );
        assert!(page.items.len() <= 3);
        for o in &page.items {
            assert!(rv(o) <= at, "no state newer than the list's revision");
        }
        seen.extend(names(&page.items));
        remaining.push(page.remaining_item_count);
        pages += 1;
        // Concurrent writes between pages: create, modify, delete.
        s.create(&cms(), cm("ns", &format!("new{pages}")))
            .await
            .unwrap();
        let victim = format!("o{}", 9 - pages);
        s.delete(&cms(), Some("ns"), &victim, &DeleteOptions::default())
            .await
            .unwrap();
        s.patch(
            &cms(),
            Some("ns"),
            "o9",
            &Patch::Merge(json!({"data": {"k": pages.to_string()}})),
            &PatchOptions::default(),
        )
        .await
        .ok();
        match page.continue_token {
            Some(t) => token = Some(t),
            None => break,
        }
    }
    let want: Vec<String> = (0..10).map(|i| format!("ns/o{i}")).collect();
    assert_eq!(seen, want, "the list is the state at its first revision");
    assert_eq!(pages, 4);
    assert_eq!(
        remaining,
        vec![Some(7), Some(4), Some(1), None],
        "remainingItemCount: what follows each page at the list's revision, unset on the last"
    );
    // With a selector upstream cannot count what follows: unset, even with more pages.
    let filtered = s
        .list(
            &cms(),
            &ListOptions {
                label_selector: Some("!absent".into()),
                limit: Some(2),
                ..ListOptions::default()
            },
        )
        .await
        .unwrap();
    assert!(filtered.continue_token.is_some());
    assert_eq!(filtered.remaining_item_count, None);
    let all = s.list(&cms(), &limited(2)).await.unwrap();
    let total = s
        .list(&cms(), &ListOptions::default())
        .await
        .unwrap()
        .items
        .len();
    assert_eq!(
        all.remaining_item_count,
        Some(total as u64 - 2),
        "every namespace"
    );
    // Api::list carries it as ListMeta.remainingItemCount.
    let api: Api<ConfigMap> = Api::namespaced(s.clone(), "ns");
    let typed = api
        .list(&ListParams {
            limit: Some(1),
            ..ListParams::default()
        })
        .await
        .unwrap();
    let in_ns = s
        .list(
            &cms(),
            &ListOptions {
                namespace: Some("ns".into()),
                ..ListOptions::default()
            },
        )
        .await
        .unwrap()
        .items
        .len();
    assert!(in_ns > 1);
    assert_eq!(typed.metadata.remaining_item_count, Some(in_ns as i64 - 1));
}

pub async fn list_at_revision(f: &Factory<'_>) {
    let s = store(f);
    let a1 = s.create(&cms(), cm("ns", "a")).await.unwrap();
    let mut next = (*a1).clone();
    next.data.insert("data".into(), json!({"k": "2"}));
    let a2 = s.update(&cms(), next, WriteScope::Main).await.unwrap();
    let b = s.create(&cms(), cm("ns", "b")).await.unwrap();
    s.delete(&cms(), Some("ns"), "a", &DeleteOptions::default())
        .await
        .unwrap();
    let now = s.current_revision().await.unwrap();
    let exact = |r: u64| ListOptions {
        resource_version: Some(r.to_string()),
        resource_version_match: Some(ResourceVersionMatch::Exact),
        ..ListOptions::default()
    };
    let cases: Vec<(u64, Vec<(&str, u64)>)> = vec![
        (rv(&a1), vec![("a", rv(&a1))]),
        (rv(&a2), vec![("a", rv(&a2))]),
        (rv(&b), vec![("a", rv(&a2)), ("b", rv(&b))]),
        (now, vec![("b", rv(&b))]),
    ];
    for (at, want) in cases {
        let page = s.list(&cms(), &exact(at)).await.unwrap();
        let got: Vec<(String, u64)> = page
            .items
            .iter()
            .map(|o| (o.metadata.name.clone().unwrap(), rv(o)))
            .collect();
        let want: Vec<(String, u64)> = want.into_iter().map(|(n, r)| (n.to_owned(), r)).collect();
        assert_eq!(got, want, "exact list at {at}");
        assert_eq!(page.resource_version, at);
    }
    let not_older = s
        .list(
            &cms(),
            &ListOptions {
                resource_version: Some(rv(&a1).to_string()),
                resource_version_match: Some(ResourceVersionMatch::NotOlderThan),
                ..ListOptions::default()
            },
        )
        .await
        .unwrap();
    assert!(not_older.resource_version >= rv(&a1));
    let any = s
        .list(
            &cms(),
            &ListOptions {
                resource_version: Some("0".into()),
                ..ListOptions::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(names(&any.items), vec!["ns/b"]);
    let too_large = s.list(&cms(), &exact(now + 10)).await.unwrap_err();
    let st = too_large.to_status();
    assert_eq!(
        (st.code, st.reason.as_deref()),
        (Some(504), Some("Timeout"))
    );
    assert_eq!(
        st.message.as_deref(),
        Some(format!("Too large resource version: {}, current: {now}", now + 10).as_str())
    );
    // Upstream's ValidateListOptions: 422 Invalid on ListOptions, one cause per broken rule.
    let invalid = |causes: &str| format!("ListOptions.meta.k8s.io \"\" is invalid: {causes}");
    for name in ["p1", "p2"] {
        s.create(&cms(), cm("pg", name)).await.unwrap();
    }
    let page = s.list(&cms(), &limited(1)).await.unwrap();
    let token = page.continue_token.expect("a second page");
    let rejected: Vec<(&str, ListOptions, String)> = vec![
        (
            "match without version",
            ListOptions {
                resource_version_match: Some(ResourceVersionMatch::Exact),
                ..ListOptions::default()
            },
            invalid(
                "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless \
                 resourceVersion is provided",
            ),
        ),
        (
            "exact 0",
            exact(0),
            invalid(
                "resourceVersionMatch: Forbidden: resourceVersionMatch \"exact\" is forbidden \
                 for resourceVersion \"0\"",
            ),
        ),
        (
            "match with continue and no version",
            ListOptions {
                resource_version_match: Some(ResourceVersionMatch::NotOlderThan),
                continue_token: Some(token.clone()),
                ..ListOptions::default()
            },
            invalid(
                "[resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless \
                 resourceVersion is provided, resourceVersionMatch: Forbidden: \
                 resourceVersionMatch is forbidden when continue is provided]",
            ),
        ),
    ];
    for (what, opts, message) in rejected {
        let r = s.list(&cms(), &opts).await;
        check_err(what, r, StatusReason::Invalid, &message);
    }
    // The storage layer's own checks: 400 BadRequest.
    let bad: Vec<(&str, ListOptions, &str)> = vec![
        (
            "version with continue",
            ListOptions {
                resource_version: Some(now.to_string()),
                continue_token: Some(token),
                ..ListOptions::default()
            },
            "specifying resource version is not allowed when using continue",
        ),
        (
            "garbage token",
            ListOptions {
                continue_token: Some("%%%".into()),
                ..ListOptions::default()
            },
            "",
        ),
    ];
    for (what, opts, msg) in bad {
        let e = s.list(&cms(), &opts).await.unwrap_err();
        assert_eq!(e.to_status().code, Some(400), "{what}: {e}");
        if !msg.is_empty() {
            assert_eq!(e.to_string(), msg, "{what}");
        }
    }
}

pub async fn compaction_expires_old_revisions(f: &Factory<'_>) {
    let s = store(f);
    let base = s.current_revision().await.unwrap();
    for i in 0..6 {
        s.create(&cms(), cm("ns", &format!("o{i}"))).await.unwrap();
    }
    let page = s.list(&cms(), &limited(2)).await.unwrap();
    let token = page.continue_token.clone().unwrap();
    for i in 0..3 {
        s.create(&cms(), cm("ns", &format!("p{i}"))).await.unwrap();
    }
    let compacted = s.compact(base + 8).await.unwrap();
    assert_eq!(compacted, base + 8);
    check_err(
        "continue after compaction",
        s.list(
            &cms(),
            &ListOptions {
                limit: Some(2),
                continue_token: Some(token),
                ..ListOptions::default()
            },
        )
        .await,
        StatusReason::Expired,
        CONTINUE_EXPIRED,
    );
    check_err(
        "exact list below the compacted revision",
        s.list(
            &cms(),
            &ListOptions {
                resource_version: Some((base + 3).to_string()),
                resource_version_match: Some(ResourceVersionMatch::Exact),
                ..ListOptions::default()
            },
        )
        .await,
        StatusReason::Expired,
        "The resourceVersion for the provided list is too old.",
    );
    check_err(
        "watch below the compacted revision",
        s.watch(
            &cms(),
            &WatchOptions {
                resource_version: Some((base + 3).to_string()),
                ..WatchOptions::default()
            },
        )
        .await,
        StatusReason::Expired,
        &format!("too old resource version: {} ({})", base + 3, base + 8),
    );
    let at8 = s
        .list(
            &cms(),
            &ListOptions {
                resource_version: Some((base + 8).to_string()),
                resource_version_match: Some(ResourceVersionMatch::Exact),
                ..ListOptions::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        at8.items.len(),
        8,
        "the compacted revision itself stays readable"
    );
    let mut w = watch_from(&s, &cms(), base + 8).await;
    assert_eq!(
        brief(&next_event(&mut w).await),
        ("ADDED".into(), "p2".into(), base + 9)
    );
    assert_eq!(
        s.compact(base + 3).await.unwrap(),
        base + 8,
        "compaction never goes back"
    );
}

// ---------------------------------------------------------------------------------------------
// watch

pub async fn watch_initial_state_and_order(f: &Factory<'_>) {
    let s = store(f);
    let a = s.create(&cms(), cm("ns", "a")).await.unwrap();
    let b = s.create(&cms(), cm("other", "b")).await.unwrap();
    let mut all = s.watch(&cms(), &WatchOptions::default()).await.unwrap();
    let mut ns = s
        .watch(
            &cms(),
            &WatchOptions {
                namespace: Some("ns".into()),
                ..WatchOptions::default()
            },
        )
        .await
        .unwrap();
    let c = s.create(&cms(), cm("ns", "c")).await.unwrap();
    let mut cc = (*c).clone();
    cc.data.insert("data".into(), json!({"k": "x"}));
    let c2 = s.update(&cms(), cc, WriteScope::Main).await.unwrap();
    let d = s.create(&cms(), cm("other", "d")).await.unwrap();
    let del = s
        .delete(&cms(), Some("ns"), "c", &DeleteOptions::default())
        .await
        .unwrap()
        .into_inner();
    let mut got = Vec::new();
    for _ in 0..6 {
        got.push(brief(&next_event(&mut all).await));
    }
    assert_eq!(
        got,
        vec![
            ("ADDED".into(), "a".into(), rv(&a)),
            ("ADDED".into(), "b".into(), rv(&b)),
            ("ADDED".into(), "c".into(), rv(&c)),
            ("MODIFIED".into(), "c".into(), rv(&c2)),
            ("ADDED".into(), "d".into(), rv(&d)),
            ("DELETED".into(), "c".into(), rv(&del)),
        ]
    );
    let mut got = Vec::new();
    for _ in 0..4 {
        got.push(brief(&next_event(&mut ns).await));
    }
    assert_eq!(
        got,
        vec![
            ("ADDED".into(), "a".into(), rv(&a)),
            ("ADDED".into(), "c".into(), rv(&c)),
            ("MODIFIED".into(), "c".into(), rv(&c2)),
            ("DELETED".into(), "c".into(), rv(&del)),
        ],
        "namespace filter"
    );
    let other_kind = s
        .create(&nodes(), DynamicObject::new("n", &nodes()))
        .await
        .unwrap();
    let e = s.create(&cms(), cm("ns", "e")).await.unwrap();
    assert!(rv(&other_kind) < rv(&e));
    assert_eq!(
        brief(&next_event(&mut ns).await),
        ("ADDED".into(), "e".into(), rv(&e)),
        "other kinds are not delivered"
    );
}

/// Streaming lists (`sendInitialEvents`, upstream's `WatchList`, on by default in v1.33): the
/// option rules with the API server's 422 messages, the defaulting of a legacy watch, the
/// initial-events-end bookmark, and where each combination starts.
pub async fn watch_send_initial_events(f: &Factory<'_>) {
    let s = store(f);
    let a = s.create(&cms(), cm("ns", "a")).await.unwrap();
    let b = s.create(&cms(), cm("other", "b")).await.unwrap();
    let now = s.current_revision().await.unwrap();
    let opts = |initial: Option<bool>, matching: Option<ResourceVersionMatch>, rv: Option<u64>| {
        WatchOptions {
            send_initial_events: initial,
            resource_version_match: matching,
            resource_version: rv.map(|r| r.to_string()),
            ..WatchOptions::default()
        }
    };
    let not_older = Some(ResourceVersionMatch::NotOlderThan);
    let exact = Some(ResourceVersionMatch::Exact);
    let invalid = |causes: &str| format!("ListOptions.meta.k8s.io \"\" is invalid: {causes}");
    let needs_not_older = "resourceVersionMatch: Forbidden: sendInitialEvents requires setting \
                           resourceVersionMatch to NotOlderThan";
    let needs_initial = "resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden for \
                         watch unless sendInitialEvents is provided";
    let unsupported =
        "resourceVersionMatch: Unsupported value: \"Exact\": supported values: \"NotOlderThan\"";
    let rejected: Vec<(&str, WatchOptions, String)> = vec![
        (
            "initial events without a match",
            opts(Some(true), None, None),
            invalid(needs_not_older),
        ),
        (
            "no initial events without a match",
            opts(Some(false), None, Some(rv(&a))),
            invalid(needs_not_older),
        ),
        (
            "a match without sendInitialEvents",
            opts(None, not_older, Some(rv(&a))),
            invalid(needs_initial),
        ),
        (
            "initial events with Exact",
            opts(Some(true), exact, None),
            invalid(&format!("[{needs_not_older}, {unsupported}]")),
        ),
        (
            "Exact without sendInitialEvents",
            opts(None, exact, Some(rv(&a))),
            invalid(&format!("[{needs_initial}, {unsupported}]")),
        ),
    ];
    for (what, o, message) in rejected {
        let r = s.watch(&cms(), &o).await;
        check_err(what, r, StatusReason::Invalid, &message);
    }
    let r = s
        .watch(&cms(), &opts(Some(true), not_older, Some(now + 10)))
        .await;
    check_err(
        "initial state newer than the store",
        r,
        StatusReason::Timeout,
        &format!("Too large resource version: {}, current: {now}", now + 10),
    );

    let end = ("BOOKMARK".to_owned(), String::new(), now);
    let added = |o: &DynamicObject| ("ADDED".to_owned(), o.metadata.name.clone().unwrap(), rv(o));
    // (what, options, bookmarks, the events before the next write's)
    let streaming = |rv| opts(Some(true), not_older, rv);
    type Brief = (String, String, u64);
    let cases: Vec<(&str, WatchOptions, bool, Vec<Brief>)> = vec![
        (
            "streaming list with bookmarks",
            streaming(None),
            true,
            vec![added(&a), added(&b), end.clone()],
        ),
        (
            "streaming list from an older revision",
            streaming(Some(rv(&a))),
            true,
            vec![added(&a), added(&b), end.clone()],
        ),
        (
            "streaming list from \"0\"",
            streaming(Some(0)),
            true,
            vec![added(&a), added(&b), end.clone()],
        ),
        (
            "streaming list without bookmarks: no end marker",
            streaming(None),
            false,
            vec![added(&a), added(&b)],
        ),
        (
            "legacy watch, defaulted to a streaming list",
            opts(None, None, None),
            true,
            vec![added(&a), added(&b), end.clone()],
        ),
        (
            "legacy watch from \"0\", defaulted",
            opts(None, None, Some(0)),
            true,
            vec![added(&a), added(&b), end.clone()],
        ),
        (
            "no initial events, from now",
            opts(Some(false), not_older, None),
            true,
            vec![],
        ),
        (
            "no initial events, from a revision",
            opts(Some(false), not_older, Some(rv(&a))),
            true,
            vec![added(&b)],
        ),
        (
            "legacy watch from a revision",
            opts(None, None, Some(rv(&a))),
            true,
            vec![added(&b)],
        ),
    ];
    let mut watches = Vec::new();
    for (what, mut o, bookmarks, want) in cases {
        o.bookmarks = bookmarks;
        let w = s
            .watch(&cms(), &o)
            .await
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        watches.push((what, w, want));
    }
    let c = s.create(&cms(), cm("ns", "c")).await.unwrap();
    for (what, mut w, mut want) in watches {
        want.push(added(&c));
        let mut got = Vec::new();
        let mut end_marks = Vec::new();
        for _ in 0..want.len() {
            let ev = next_event(&mut w).await;
            if let WatchEvent::Bookmark(bm) = &ev {
                end_marks.push(bm.initial_events_end);
            }
            got.push(brief(&ev));
        }
        assert_eq!(got, want, "{what}");
        assert!(
            end_marks.iter().all(|m| *m),
            "{what}: the bookmark ends the initial events"
        );
    }
}

pub async fn watch_resumes_from_any_retained_revision(f: &Factory<'_>) {
    let s = store(f);
    let base = s.current_revision().await.unwrap();
    let mut log: Vec<(String, String, u64)> = Vec::new();
    for i in 0..40u64 {
        let name = format!("o{}", i % 7);
        let r = match s.get(&cms(), Some("ns"), &name).await {
            Ok(cur) if i % 5 == 0 => {
                let d = s
                    .delete(&cms(), Some("ns"), &name, &DeleteOptions::default())
                    .await
                    .unwrap();
                log.push(("DELETED".into(), name, rv(&d.into_inner())));
                let _ = cur;
                continue;
            }
            Ok(cur) => {
                let mut n = (*cur).clone();
                n.data.insert("data".into(), json!({"i": i}));
                let u = s.update(&cms(), n, WriteScope::Main).await.unwrap();
                ("MODIFIED", rv(&u))
            }
            Err(_) => {
                let c = s.create(&cms(), cm("ns", &name)).await.unwrap();
                ("ADDED", rv(&c))
            }
        };
        log.push((r.0.into(), name, r.1));
    }
    let head = s.current_revision().await.unwrap();
    // "0" means "any revision, with initial state" (see watch_initial_state_and_order).
    for from in (base + 1)..=head {
        let want: Vec<_> = log.iter().filter(|e| e.2 > from).cloned().collect();
        let mut w = watch_from(&s, &cms(), from).await;
        let mut got = Vec::new();
        for _ in 0..want.len() {
            got.push(brief(&next_event(&mut w).await));
        }
        assert_eq!(got, want, "watch from revision {from}");
    }
}

pub async fn watch_bookmarks(f: &Factory<'_>) {
    let s = store(f);
    let a = s.create(&cms(), cm("ns", "a")).await.unwrap();
    let mut w = s
        .watch(
            &cms(),
            &WatchOptions {
                resource_version: Some(rv(&a).to_string()),
                bookmarks: true,
                ..WatchOptions::default()
            },
        )
        .await
        .unwrap();
    // A write to another kind moves the global revision without a cms event.
    s.create(&nodes(), DynamicObject::new("n", &nodes()))
        .await
        .unwrap();
    // Time is paused: the timeout auto-advances the clock to the next bookmark.
    let ev = tokio::time::timeout(Duration::from_secs(3600), w.next())
        .await
        .expect("a bookmark within an hour")
        .unwrap()
        .unwrap();
    assert_eq!(brief(&ev), ("BOOKMARK".into(), String::new(), rv(&a) + 1));
    let b = s.create(&cms(), cm("ns", "b")).await.unwrap();
    assert_eq!(
        brief(&next_event(&mut w).await),
        ("ADDED".into(), "b".into(), rv(&b))
    );
}

pub async fn slow_watcher_is_expired(f: &Factory<'_>) {
    let settings = StoreSettings { history: 512 };
    let s = f(&settings);
    let a = s.create(&cms(), cm("ns", "a")).await.unwrap();
    let mut slow = watch_from(&s, &cms(), rv(&a)).await;
    let mut fast = watch_from(&s, &cms(), rv(&a)).await;
    let cur = s.get(&cms(), Some("ns"), "a").await.unwrap();
    let mut obj = (*cur).clone();
    obj.metadata.resource_version = None;
    let writes = settings.history as u64 * 8;
    for i in 0..writes {
        obj.data.insert("data".into(), json!({"i": i}));
        let w = s
            .update(&cms(), obj.clone(), WriteScope::Main)
            .await
            .unwrap();
        // The fast watcher keeps up.
        let (_, _, r) = brief(&next_event(&mut fast).await);
        assert_eq!(r, rv(&w));
    }
    // The slow watcher never read: its first reads may drain what is left, then Expired.
    let mut seen = 0u64;
    let err = loop {
        match tokio::time::timeout(Duration::from_secs(10), slow.next()).await {
            Ok(Some(Ok(_))) => seen += 1,
            Ok(Some(Err(e))) => break e,
            Ok(None) => panic!("slow watcher ended without an error"),
            Err(_) => panic!("slow watcher neither delivered nor expired"),
        }
    };
    assert!(err.is_expired(), "{err}");
    assert!(
        err.to_string().starts_with("too old resource version: "),
        "{err}"
    );
    assert!(seen < writes, "the slow watcher did not get everything");
    assert!(slow.next().await.is_none(), "the stream ends after Expired");
}

pub async fn list_with_selectors(f: &Factory<'_>) {
    let s = store(f);
    let pod = |name: &str, app: &str, node: &str| {
        let mut p = DynamicObject::new(name, &pods());
        p.metadata.namespace = Some("ns".into());
        p.metadata.labels.insert("app".into(), app.into());
        p.data.insert("spec".into(), json!({"nodeName": node}));
        p
    };
    for (n, app, node) in [
        ("a", "web", "n1"),
        ("b", "db", "n1"),
        ("c", "web", ""),
        ("d", "web", "n2"),
    ] {
        s.create(&pods(), pod(n, app, node)).await.unwrap();
    }
    let cases: Vec<(Option<&str>, Option<&str>, Vec<&str>)> = vec![
        (Some("app=web"), None, vec!["ns/a", "ns/c", "ns/d"]),
        (Some("app!=web"), None, vec!["ns/b"]),
        (Some("app in (db,cache)"), None, vec!["ns/b"]),
        (None, Some("spec.nodeName=n1"), vec!["ns/a", "ns/b"]),
        (None, Some("spec.nodeName="), vec!["ns/c"]),
        (
            Some("app=web"),
            Some("spec.nodeName!=n1"),
            vec!["ns/c", "ns/d"],
        ),
        (None, Some("metadata.name=d"), vec!["ns/d"]),
    ];
    for (l, fsel, want) in cases {
        let opts = ListOptions {
            label_selector: l.map(str::to_owned),
            field_selector: fsel.map(str::to_owned),
            ..ListOptions::default()
        };
        let page = s.list(&pods(), &opts).await.unwrap();
        assert_eq!(names(&page.items), want, "{l:?} {fsel:?}");
        // The same selection, one item per page.
        let paged = list_paged(&s, &pods(), &opts).await;
        assert_eq!(paged, want, "paginated {l:?} {fsel:?}");
    }
    check_err(
        "unsupported field",
        s.list(
            &pods(),
            &ListOptions {
                field_selector: Some("spec.containers=x".into()),
                ..ListOptions::default()
            },
        )
        .await,
        StatusReason::BadRequest,
        "field label not supported: spec.containers",
    );
    let e = s
        .list(
            &cms(),
            &ListOptions {
                label_selector: Some("a in (".into()),
                ..ListOptions::default()
            },
        )
        .await
        .unwrap_err();
    assert_eq!(e.to_status().code, Some(400), "{e}");
}

pub async fn watch_selector_transitions(f: &Factory<'_>) {
    let s = store(f);
    let mut o = cm("ns", "a");
    o.metadata.labels.insert("app".into(), "web".into());
    let a = s.create(&cms(), o).await.unwrap();
    let mut w = s
        .watch(
            &cms(),
            &WatchOptions {
                label_selector: Some("app=web".into()),
                resource_version: Some(rv(&a).to_string()),
                ..WatchOptions::default()
            },
        )
        .await
        .unwrap();
    let relabel = |o: &DynamicObject, app: &str| {
        let mut n = o.clone();
        n.metadata.labels.insert("app".into(), app.into());
        n
    };
    let b = s
        .update(&cms(), relabel(&a, "db"), WriteScope::Main)
        .await
        .unwrap();
    let c = s
        .update(&cms(), relabel(&b, "cache"), WriteScope::Main)
        .await
        .unwrap();
    let d = s
        .update(&cms(), relabel(&c, "web"), WriteScope::Main)
        .await
        .unwrap();
    let mut dd = (*d).clone();
    dd.data.insert("data".into(), json!({"k": "changed"}));
    let e = s.update(&cms(), dd, WriteScope::Main).await.unwrap();
    let mut other = cm("ns", "z");
    other.metadata.labels.insert("app".into(), "db".into());
    s.create(&cms(), other).await.unwrap();
    let gone = s
        .delete(&cms(), Some("ns"), "a", &DeleteOptions::default())
        .await
        .unwrap()
        .into_inner();
    let mut got = Vec::new();
    let mut stopped_matching = None;
    for _ in 0..4 {
        let ev = next_event(&mut w).await;
        if let WatchEvent::Deleted(o) = &ev
            && stopped_matching.is_none()
        {
            stopped_matching = Some(o.clone());
        }
        got.push(brief(&ev));
    }
    assert_eq!(
        got,
        vec![
            ("DELETED".into(), "a".into(), rv(&b)),
            ("ADDED".into(), "a".into(), rv(&d)),
            ("MODIFIED".into(), "a".into(), rv(&e)),
            ("DELETED".into(), "a".into(), rv(&gone)),
        ],
        "leaving the selection is DELETED, entering it is ADDED"
    );
    let last_matching = stopped_matching.unwrap();
    assert_eq!(
        last_matching.metadata.labels.get("app").map(String::as_str),
        Some("web"),
        "the DELETED object is the last state that matched"
    );
    let mut fw = s
        .watch(
            &pods(),
            &WatchOptions {
                field_selector: Some("spec.nodeName=n1".into()),
                ..WatchOptions::default()
            },
        )
        .await
        .unwrap();
    let mut p = DynamicObject::new("p", &pods());
    p.metadata.namespace = Some("ns".into());
    s.create(&pods(), p).await.unwrap();
    let pods_api: Api<Pod> = Api::namespaced(s.clone(), "ns");
    let bound = pods_api.create_binding("p", "n1").await.unwrap();
    assert_eq!(
        brief(&next_event(&mut fw).await),
        (
            "ADDED".into(),
            "p".into(),
            bound.metadata.resource_version.unwrap().parse().unwrap()
        ),
        "a pod bound to the node enters a spec.nodeName watch"
    );
}

// ---------------------------------------------------------------------------------------------
// linearizability

/// Many tasks increment one counter with read-modify-write and retries on Conflict; the final
/// value equals the acknowledged increments and every watcher sees every revision once, in order.
pub async fn concurrent_increments_are_linearizable(f: &Factory<'_>) {
    const TASKS: u64 = 8;
    const PER_TASK: u64 = 40;
    let s = store(f);
    let mut o = cm("ns", "counter");
    o.data.insert("data".into(), json!({"n": "0"}));
    let created = s.create(&cms(), o).await.unwrap();
    let start = rv(&created);
    let watchers: Vec<_> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.push(watch_from(&s, &cms(), start).await);
        }
        v
    };
    let acked = Arc::new(AtomicU64::new(0));
    let conflicts = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for _ in 0..TASKS {
        let s = s.clone();
        let acked = acked.clone();
        let conflicts = conflicts.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..PER_TASK {
                loop {
                    let cur = s.get(&cms(), Some("ns"), "counter").await.unwrap();
                    let n: u64 = cur.data["data"]["n"].as_str().unwrap().parse().unwrap();
                    let mut next = (*cur).clone();
                    next.data
                        .insert("data".into(), json!({"n": (n + 1).to_string()}));
                    match s.update(&cms(), next, WriteScope::Main).await {
                        Ok(_) => {
                            acked.fetch_add(1, Ordering::SeqCst);
                            break;
                        }
                        Err(e) if e.is_conflict() => {
                            conflicts.fetch_add(1, Ordering::Relaxed);
                            tokio::task::yield_now().await;
                        }
                        Err(e) => panic!("unexpected error: {e}"),
                    }
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let total = acked.load(Ordering::SeqCst);
    assert_eq!(total, TASKS * PER_TASK);
    let fin = s.get(&cms(), Some("ns"), "counter").await.unwrap();
    assert_eq!(
        fin.data["data"]["n"],
        json!(total.to_string()),
        "no lost update"
    );
    assert_eq!(
        rv(&fin),
        start + total,
        "one revision per acknowledged write"
    );
    for mut w in watchers {
        let mut expect = 0;
        for _ in 0..total {
            let ev = next_event(&mut w).await;
            let WatchEvent::Modified(o) = &ev else {
                panic!("expected MODIFIED, got {ev:?}")
            };
            expect += 1;
            assert_eq!(rv(o), start + expect, "every revision once, in order");
            assert_eq!(o.data["data"]["n"], json!(expect.to_string()));
        }
    }
}

// ---------------------------------------------------------------------------------------------
// batched watches

/// A store whose [`Store::watch`] is the inner store's [`Store::watch_batches`], flattened
/// (and checked: no empty batch): the watch tests run through it check that batches carry
/// exactly the events a per-event watch does, once each, in order, with the same errors.
#[derive(Debug)]
struct WatchViaBatches(Arc<dyn Store>);

/// The factory's stores, watched through [`Store::watch_batches`].
fn via_batches<'a>(
    f: &'a Factory<'_>,
) -> impl Fn(&StoreSettings) -> Arc<dyn Store> + Send + Sync + 'a {
    move |settings| Arc::new(WatchViaBatches(f(settings))) as Arc<dyn Store>
}

#[async_trait::async_trait]
impl Store for WatchViaBatches {
    async fn create(
        &self,
        resource: &ApiResource,
        object: DynamicObject,
    ) -> Result<Arc<DynamicObject>, StoreError> {
        self.0.create(resource, object).await
    }

    async fn get(
        &self,
        resource: &ApiResource,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Arc<DynamicObject>, StoreError> {
        self.0.get(resource, namespace, name).await
    }

    async fn list(
        &self,
        resource: &ApiResource,
        options: &ListOptions,
    ) -> Result<super::ObjectPage, StoreError> {
        self.0.list(resource, options).await
    }

    async fn update(
        &self,
        resource: &ApiResource,
        object: DynamicObject,
        scope: WriteScope,
    ) -> Result<Arc<DynamicObject>, StoreError> {
        self.0.update(resource, object, scope).await
    }

    async fn delete(
        &self,
        resource: &ApiResource,
        namespace: Option<&str>,
        name: &str,
        options: &DeleteOptions,
    ) -> Result<DeleteOutcome<Arc<DynamicObject>>, StoreError> {
        self.0.delete(resource, namespace, name, options).await
    }

    async fn watch(
        &self,
        resource: &ApiResource,
        options: &WatchOptions,
    ) -> Result<WatchStream, StoreError> {
        let batches = self.0.watch_batches(resource, options).await?;
        Ok(batches
            .flat_map(|item| {
                let events: Vec<_> = match item {
                    Ok(batch) => {
                        assert!(!batch.is_empty(), "a batch is never empty");
                        assert_eq!(batch.iter().count(), batch.len(), "len counts the events");
                        batch.into_events().into_iter().map(Ok).collect()
                    }
                    Err(e) => vec![Err(e)],
                };
                futures::stream::iter(events)
            })
            .boxed())
    }

    async fn current_revision(&self) -> Result<u64, StoreError> {
        self.0.current_revision().await
    }

    async fn compact(&self, revision: u64) -> Result<u64, StoreError> {
        self.0.compact(revision).await
    }

    fn metrics(&self) -> super::StoreMetrics {
        self.0.metrics()
    }
}

/// The watch tests through [`Store::watch_batches`]: initial state, order and namespace
/// filtering; resuming from every retained revision; a lagging watcher expired with upstream's
/// 410 message after the events before it; label and field selector transitions.
pub async fn batched_watches(f: &Factory<'_>) {
    let f = via_batches(f);
    watch_initial_state_and_order(&f).await;
    watch_send_initial_events(&f).await;
    watch_resumes_from_any_retained_revision(&f).await;
    slow_watcher_is_expired(&f).await;
    watch_selector_transitions(&f).await;
}

/// [`watch_bookmarks`] through [`Store::watch_batches`] (paused clock).
pub async fn batched_watch_bookmarks(f: &Factory<'_>) {
    watch_bookmarks(&via_batches(f)).await;
}

/// [`concurrent_increments_are_linearizable`] with its watchers on
/// [`Store::watch_batches`]: every revision once, in order (multi-thread runtime).
pub async fn batched_concurrent_increments(f: &Factory<'_>) {
    concurrent_increments_are_linearizable(&via_batches(f)).await;
}

// ---------------------------------------------------------------------------------------------
// typed Api helpers over the store

pub async fn api_scale_subresource(f: &Factory<'_>) {
    let s = store(f);
    let deps: Api<Deployment> = Api::namespaced(s.clone(), "ns");
    let mut d = Deployment::default();
    d.metadata.name = Some("web".into());
    let mut spec = kybern_core::api::apps::v1::DeploymentSpec {
        replicas: Some(2),
        ..Default::default()
    };
    spec.selector.match_labels = BTreeMap::from([("app".to_owned(), "web".to_owned())]);
    d.spec = Some(spec);
    let created = deps.create(&d).await.unwrap();
    let scale = deps.get_scale("web").await.unwrap();
    assert_eq!(scale.spec.replicas, 2);
    assert_eq!(scale.status.selector.as_deref(), Some("app=web"));
    assert_eq!(scale.metadata.uid, created.metadata.uid);
    let mut want = scale.clone();
    want.spec.replicas = 5;
    let after = deps.replace_scale("web", &want).await.unwrap();
    assert_eq!(after.spec.replicas, 5);
    let got = deps.get("web").await.unwrap();
    assert_eq!(got.spec.unwrap().replicas, Some(5));
    assert_eq!(got.metadata.generation, Some(2), "scaling changes spec");
    check_err(
        "stale scale",
        deps.replace_scale("web", &want).await,
        StatusReason::Conflict,
        &format!("Operation cannot be fulfilled on deployments.apps \"web\": {CONFLICT_MODIFIED}"),
    );
    let neg = Scale {
        spec: crate::api::ScaleSpec { replicas: -1 },
        ..Scale::default()
    };
    check_err(
        "negative replicas",
        deps.replace_scale("web", &neg).await,
        StatusReason::Invalid,
        "Scale.autoscaling \"web\" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0",
    );
}

pub async fn api_pod_binding(f: &Factory<'_>) {
    let s = store(f);
    let pods_api: Api<Pod> = Api::namespaced(s.clone(), "ns");
    let mut p = Pod::default();
    p.metadata.name = Some("p".into());
    pods_api.create(&p).await.unwrap();
    let bound = pods_api.create_binding("p", "node-1").await.unwrap();
    assert_eq!(
        bound.spec.as_ref().and_then(|s| s.node_name.as_deref()),
        Some("node-1")
    );
    let conds = bound.status.as_ref().map(|s| s.conditions.clone()).unwrap();
    assert!(
        conds
            .iter()
            .any(|c| c.type_ == "PodScheduled" && c.status == "True"),
        "{conds:?}"
    );
    check_err(
        "binding twice",
        pods_api.create_binding("p", "node-2").await,
        StatusReason::Conflict,
        "Operation cannot be fulfilled on pods/binding \"p\": pod p is already assigned to node \"node-1\"",
    );
    check_err(
        "binding a missing pod",
        pods_api.create_binding("zz", "node-1").await,
        StatusReason::NotFound,
        "pods \"zz\" not found",
    );
    let _ = pods();
    let list = pods_api.list(&ListParams::default()).await.unwrap();
    assert_eq!(list.items.len(), 1);
    let _: Value = serde_json::to_value(&list.items[0]).unwrap();
}

/// Instantiates the whole conformance suite as `#[tokio::test]`s for one backend.
///
/// `$factory` is an expression of a type implementing
/// `Fn(&StoreSettings) -> Arc<dyn Store> + Send + Sync`.
#[macro_export]
macro_rules! store_conformance_tests {
    ($factory:expr) => {
        $crate::store_conformance_tests!(@tests $factory;
            current: create_sets_system_fields, create_rejections, generate_name, get_not_found,
                update_preconditions, generation_tracks_spec, status_subresource_isolation,
                immutable_metadata, noop_update_keeps_revision, patch_kinds,
                delete_preconditions, finalizers_and_graceful_deletion,
                delete_propagation_policies, namespace_deletion,
                list_namespaces_and_order, pagination_is_consistent, list_at_revision,
                compaction_expires_old_revisions, watch_initial_state_and_order,
                watch_send_initial_events, watch_resumes_from_any_retained_revision, slow_watcher_is_expired,
                list_with_selectors, watch_selector_transitions,
                api_scale_subresource, api_pod_binding, batched_watches;
            paused: watch_bookmarks, batched_watch_bookmarks;
            multi: concurrent_increments_are_linearizable, batched_concurrent_increments;
        );
    };
    (@tests $factory:expr; current: $($c:ident),* $(,)?; paused: $($p:ident),* $(,)?; multi: $($m:ident),* $(,)?;) => {
        $(
            #[tokio::test]
            async fn $c() {
                $crate::store::conformance::$c(&$factory).await;
            }
        )*
        $(
            #[tokio::test(start_paused = true)]
            async fn $p() {
                $crate::store::conformance::$p(&$factory).await;
            }
        )*
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $m() {
                $crate::store::conformance::$m(&$factory).await;
            }
        )*
    };
}
