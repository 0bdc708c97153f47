//! Runs the shared store conformance suite against `EtcdStore` on real etcd servers
//! (feature `etcd`).
//!
//! The suite checks revisions relative to the store's revision at the start of each test, but
//! assumes one revision per write of the test and compacts the whole store, so every test gets
//! its OWN etcd: a child process on
//! free loopback ports with a temporary data directory (`--unsafe-no-fsync`: durability is
//! not what these tests check), killed when the test ends; keys also live under a per-test
//! prefix. The etcd binary is `$KYBERN_ETCD_BIN` or `etcd` on `PATH`. Without one the tests
//! print a loud `SKIPPED: no etcd` — unless `KYBERN_REQUIRE_ETCD=1` (set by `scripts/test`),
//! in which case they fail.
#![cfg(feature = "etcd")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use kybern_core::{ApiResource, DynamicObject};
use kybern_reconciler::store::conformance::StoreSettings;
use kybern_reconciler::store::{
    DeleteOptions, DeleteOutcome, EtcdStore, EtcdStoreConfig, ListOptions, ObjectPage, Patch,
    PatchOptions, Store, StoreError, StoreMetrics, WatchOptions, WatchStream, WriteScope,
};

/// The etcd binary, if there is one.
fn etcd_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("KYBERN_ETCD_BIN") {
        return Some(PathBuf::from(p));
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join("etcd"))
        .find(|p| p.is_file())
}

/// Whether etcd is available; panics when it is required but missing.
fn available() -> bool {
    if etcd_binary().is_some() {
        return true;
    }
    let required = std::env::var("KYBERN_REQUIRE_ETCD").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "KYBERN_REQUIRE_ETCD=1 but no etcd binary (set KYBERN_ETCD_BIN or put etcd on PATH; scripts/etcd installs it)"
    );
    eprintln!(
        "\n!!!!!!!!!! SKIPPED: no etcd (no KYBERN_ETCD_BIN, no etcd on PATH); run scripts/etcd or scripts/test !!!!!!!!!!\n"
    );
    false
}

/// One etcd process, killed on drop.
struct EtcdServer {
    child: Child,
    endpoint: String,
    _dir: tempfile::TempDir,
}

impl Drop for EtcdServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn healthy(endpoint: &str) -> bool {
    let Ok(mut s) = TcpStream::connect(endpoint) else {
        return false;
    };
    let _ = s.set_read_timeout(Some(Duration::from_secs(1)));
    if s.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut body = String::new();
    let _ = s.read_to_string(&mut body);
    body.contains("\"health\":\"true\"")
}

impl EtcdServer {
    fn start() -> EtcdServer {
        let bin = etcd_binary().expect("checked by available()");
        let dir = tempfile::tempdir().unwrap();
        for _ in 0..5 {
            let (client, peer) = (free_port(), free_port());
            let endpoint = format!("127.0.0.1:{client}");
            let peer_url = format!("http://127.0.0.1:{peer}");
            let mut child = Command::new(&bin)
                .args(["--name", "t", "--data-dir"])
                .arg(dir.path().join(format!("data-{client}")))
                .args([
                    "--listen-client-urls",
                    &format!("http://{endpoint}"),
                    "--advertise-client-urls",
                    &format!("http://{endpoint}"),
                    "--listen-peer-urls",
                    &peer_url,
                    "--initial-advertise-peer-urls",
                    &peer_url,
                    "--initial-cluster",
                    &format!("t={peer_url}"),
                    "--unsafe-no-fsync",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let deadline = Instant::now() + Duration::from_secs(15);
            while Instant::now() < deadline {
                if healthy(&endpoint) {
                    return EtcdServer {
                        child,
                        endpoint,
                        _dir: dir,
                    };
                }
                if child.try_wait().unwrap().is_some() {
                    break; // e.g. a port was taken meanwhile: try others
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("could not start etcd ({})", bin.display());
    }
}

/// An `EtcdStore` that owns its etcd server.
#[derive(Debug)]
struct OnOwnServer {
    store: EtcdStore,
    _server: EtcdServer,
}

impl std::fmt::Debug for EtcdServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "etcd at {}", self.endpoint)
    }
}

#[async_trait]
impl Store for OnOwnServer {
    async fn create(
        &self,
        r: &ApiResource,
        o: DynamicObject,
    ) -> Result<Arc<DynamicObject>, StoreError> {
        self.store.create(r, o).await
    }
    async fn get(
        &self,
        r: &ApiResource,
        ns: Option<&str>,
        n: &str,
    ) -> Result<Arc<DynamicObject>, StoreError> {
        self.store.get(r, ns, n).await
    }
    async fn list(&self, r: &ApiResource, o: &ListOptions) -> Result<ObjectPage, StoreError> {
        self.store.list(r, o).await
    }
    async fn update(
        &self,
        r: &ApiResource,
        o: DynamicObject,
        s: WriteScope,
    ) -> Result<Arc<DynamicObject>, StoreError> {
        self.store.update(r, o, s).await
    }
    async fn patch(
        &self,
        r: &ApiResource,
        ns: Option<&str>,
        n: &str,
        p: &Patch,
        o: &PatchOptions,
    ) -> Result<Arc<DynamicObject>, StoreError> {
        self.store.patch(r, ns, n, p, o).await
    }
    async fn delete(
        &self,
        r: &ApiResource,
        ns: Option<&str>,
        n: &str,
        o: &DeleteOptions,
    ) -> Result<DeleteOutcome<Arc<DynamicObject>>, StoreError> {
        self.store.delete(r, ns, n, o).await
    }
    async fn watch(&self, r: &ApiResource, o: &WatchOptions) -> Result<WatchStream, StoreError> {
        self.store.watch(r, o).await
    }
    async fn current_revision(&self) -> Result<u64, StoreError> {
        self.store.current_revision().await
    }
    async fn compact(&self, revision: u64) -> Result<u64, StoreError> {
        self.store.compact(revision).await
    }
    fn metrics(&self) -> StoreMetrics {
        self.store.metrics()
    }
}

fn config(server: &EtcdServer, settings: &StoreSettings, test: &str) -> EtcdStoreConfig {
    EtcdStoreConfig {
        endpoints: vec![server.endpoint.clone()],
        prefix: format!("/kybern-test-{test}"),
        watch_buffer: settings.history,
        // Real time (etcd is a real server): short enough for the bookmark test.
        bookmark_interval: Duration::from_secs(1),
    }
}

fn factory(test: &'static str) -> impl Fn(&StoreSettings) -> Arc<dyn Store> + Send + Sync {
    move |settings| {
        let server = EtcdServer::start();
        let store = EtcdStore::new(config(&server, settings, test));
        Arc::new(OnOwnServer {
            store,
            _server: server,
        }) as Arc<dyn Store>
    }
}

/// Every conformance test, on real time (not tokio's paused clock: etcd answers over real
/// sockets, and a paused clock would fire the suite's timeouts while waiting for them).
/// Keep this list in step with `store_conformance_tests!`.
macro_rules! etcd_conformance {
    ($($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                if !available() {
                    return;
                }
                kybern_reconciler::store::conformance::$name(&factory(stringify!($name))).await;
            }
        )*
    };
}

etcd_conformance!(
    create_sets_system_fields,
    create_rejections,
    generate_name,
    get_not_found,
    update_preconditions,
    generation_tracks_spec,
    status_subresource_isolation,
    immutable_metadata,
    noop_update_keeps_revision,
    patch_kinds,
    delete_preconditions,
    finalizers_and_graceful_deletion,
    list_namespaces_and_order,
    pagination_is_consistent,
    list_at_revision,
    compaction_expires_old_revisions,
    watch_initial_state_and_order,
    watch_resumes_from_any_retained_revision,
    slow_watcher_is_expired,
    list_with_selectors,
    watch_selector_transitions,
    api_scale_subresource,
    api_pod_binding,
    watch_bookmarks,
    concurrent_increments_are_linearizable,
    batched_watches,
    batched_watch_bookmarks,
    batched_concurrent_increments,
);

/// The stored form is upstream's: the object as JSON under `/registry/...`, without
/// `resourceVersion`, whose value is the key's `mod_revision` exactly (as upstream's).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn key_layout_and_stored_form() {
    use kybern_core::Resource as _;
    use kybern_core::api::apps::v1::Deployment;
    use kybern_core::api::core::v1::{ConfigMap, Node};
    if !available() {
        return;
    }
    let server = EtcdServer::start();
    let store = EtcdStore::new(config(&server, &StoreSettings::default(), "layout"));
    let mut client = store.client().await.unwrap();
    let mut cm = DynamicObject::new("a", &ConfigMap::api_resource(&()));
    cm.metadata.namespace = Some("ns".into());
    let mut dep = DynamicObject::new("web", &Deployment::api_resource(&()));
    dep.metadata.namespace = Some("ns".into());
    let node = DynamicObject::new("n1", &Node::api_resource(&()));
    let cases = vec![
        (
            ConfigMap::api_resource(&()),
            cm,
            "/kybern-test-layout/registry/configmaps/ns/a",
        ),
        (
            Deployment::api_resource(&()),
            dep,
            "/kybern-test-layout/registry/apps/deployments/ns/web",
        ),
        (
            Node::api_resource(&()),
            node,
            "/kybern-test-layout/registry/nodes/n1",
        ),
    ];
    for (r, o, key) in cases {
        let created = store.create(&r, o).await.unwrap();
        let resp = client.get(key, None).await.unwrap();
        let kv = resp.kvs().first().unwrap_or_else(|| panic!("no key {key}"));
        let stored: serde_json::Value = serde_json::from_slice(kv.value()).unwrap();
        assert!(
            stored["metadata"].get("resourceVersion").is_none(),
            "{key}: stored without resourceVersion"
        );
        assert_eq!(
            stored["metadata"]["uid"],
            created.metadata.uid.clone().unwrap().as_str()
        );
        assert_eq!(
            created.metadata.resource_version.clone().unwrap(),
            kv.mod_revision().to_string(),
            "{key}: resourceVersion = mod_revision"
        );
    }
}

/// What the other handle does between the tested handle's create and its update.
#[derive(Clone, Copy, Debug)]
enum Meanwhile {
    Nothing,
    Updates,
    Deletes,
}

/// What the tested handle's update sends.
#[derive(Clone, Copy, Debug)]
enum Sends {
    /// A new `data` on the object it created (its `resourceVersion`).
    ChangeOwn,
    /// Its object unchanged (a no-op against the state it cached).
    NoOpOwn,
    /// A new `uid` on its object (Invalid against the state it cached).
    NewUidOwn,
    /// A new `data` on the other handle's object (the newer `resourceVersion`).
    ChangeTheirs,
    /// A new `data` without a `resourceVersion` (an unconditional update).
    ChangeUnconditional,
}

/// An update planned on a handle's cached state that another handle made stale gets the
/// answer a fresh read would give (upstream's, from the key's current state): the cache
/// only saves the read, it never changes an outcome.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_cached_state_answers_as_current() {
    use kybern_core::Resource as _;
    use kybern_core::api::core::v1::ConfigMap;
    use serde_json::json;
    if !available() {
        return;
    }
    let server = EtcdServer::start();
    let settings = StoreSettings::default();
    let ours = EtcdStore::new(config(&server, &settings, "stale"));
    let theirs = EtcdStore::new(config(&server, &settings, "stale"));
    let r = ConfigMap::api_resource(&());
    // (meanwhile, sends, Ok(data written) or Err(reason)).
    let cases = [
        (Meanwhile::Nothing, Sends::ChangeOwn, Ok("ours")),
        (Meanwhile::Nothing, Sends::NoOpOwn, Ok("created")),
        (Meanwhile::Nothing, Sends::NewUidOwn, Err("Invalid")),
        (Meanwhile::Updates, Sends::ChangeOwn, Err("Conflict")),
        (Meanwhile::Updates, Sends::NoOpOwn, Err("Conflict")),
        (Meanwhile::Updates, Sends::NewUidOwn, Err("Conflict")),
        (Meanwhile::Updates, Sends::ChangeTheirs, Ok("ours")),
        (Meanwhile::Updates, Sends::ChangeUnconditional, Ok("ours")),
        (Meanwhile::Deletes, Sends::ChangeOwn, Err("NotFound")),
        (Meanwhile::Deletes, Sends::NoOpOwn, Err("NotFound")),
        (Meanwhile::Deletes, Sends::NewUidOwn, Err("NotFound")),
    ];
    for (i, (meanwhile, sends, want)) in cases.into_iter().enumerate() {
        let case = format!("case {i}: {meanwhile:?}, {sends:?}");
        let mut o = DynamicObject::new(&format!("cm{i}"), &r);
        o.metadata.namespace = Some("ns".into());
        o.data.insert("data".into(), json!({"v": "created"}));
        let created = ours.create(&r, o).await.unwrap();
        let seen = theirs.get(&r, Some("ns"), &format!("cm{i}")).await.unwrap();
        let mut newer = None;
        match meanwhile {
            Meanwhile::Nothing => {}
            Meanwhile::Updates => {
                let mut t = DynamicObject::clone(&seen);
                t.data.insert("data".into(), json!({"v": "theirs"}));
                newer = Some(theirs.update(&r, t, WriteScope::Main).await.unwrap());
            }
            Meanwhile::Deletes => {
                theirs
                    .delete(&r, Some("ns"), &format!("cm{i}"), &DeleteOptions::default())
                    .await
                    .unwrap();
            }
        }
        let mut send = DynamicObject::clone(&created);
        match sends {
            Sends::ChangeOwn => {
                send.data.insert("data".into(), json!({"v": "ours"}));
            }
            Sends::NoOpOwn => {}
            Sends::NewUidOwn => send.metadata.uid = Some("another-uid".into()),
            Sends::ChangeTheirs => {
                send = DynamicObject::clone(newer.as_ref().unwrap());
                send.data.insert("data".into(), json!({"v": "ours"}));
            }
            Sends::ChangeUnconditional => {
                send.metadata.resource_version = None;
                send.data.insert("data".into(), json!({"v": "ours"}));
            }
        }
        let got = ours.update(&r, send, WriteScope::Main).await;
        match (want, got) {
            (Ok(data), Ok(obj)) => {
                assert_eq!(obj.data["data"]["v"], data, "{case}");
                let stored = theirs.get(&r, Some("ns"), &format!("cm{i}")).await.unwrap();
                assert_eq!(stored, obj, "{case}: the answer is the stored state");
            }
            (Err("Conflict"), Err(StoreError::Conflict { .. }))
            | (Err("NotFound"), Err(StoreError::NotFound { .. }))
            | (Err("Invalid"), Err(StoreError::Invalid { .. })) => {}
            (want, got) => panic!("{case}: want {want:?}, got {got:?}"),
        }
    }
}
