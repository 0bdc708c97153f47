//! Runs the shared store conformance suite against `DurableStore`, each test on its own
//! temporary directory.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use kybern_reconciler::store::conformance::StoreSettings;
use kybern_reconciler::store::{DurableStore, DurableStoreConfig, MemoryStoreConfig, Store};

fn durable(settings: &StoreSettings) -> Arc<dyn Store> {
    // Under Cargo's per-target scratch directory: the store must outlive this function, so
    // the directory is left behind (target/tmp is scratch space).
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .unwrap()
        .keep();
    Arc::new(
        DurableStore::open_with(
            &dir,
            DurableStoreConfig {
                index: MemoryStoreConfig {
                    history: settings.history,
                    ..MemoryStoreConfig::default()
                },
            },
        )
        .unwrap(),
    )
}

kybern_reconciler::store_conformance_tests!(durable);

mod restart {
    use futures::StreamExt as _;
    use kybern_core::api::core::v1::ConfigMap;
    use kybern_core::{DynamicObject, Resource};
    use kybern_reconciler::store::{
        DeleteOptions, DurableStore, ListOptions, ResourceVersionMatch, Store, WatchEvent,
        WatchOptions, WriteScope,
    };
    use serde_json::json;

    fn cm(name: &str, v: &str) -> DynamicObject {
        let mut o = DynamicObject::new(name, &ConfigMap::api_resource(&()));
        o.metadata.namespace = Some("ns".into());
        o.data.insert("data".into(), json!({ "v": v }));
        o
    }

    /// What a reopened store must answer: `(what, got, want)` rows checked by one helper.
    fn check(rows: Vec<(&str, String, String)>) {
        for (what, got, want) in rows {
            assert_eq!(got, want, "{what}");
        }
    }

    #[tokio::test]
    async fn reopen_restores_objects_and_revision() {
        let dir = tempfile::tempdir().unwrap();
        let r = ConfigMap::api_resource(&());
        let (a2, uid) = {
            let s = DurableStore::open(dir.path()).unwrap();
            let a = s.create(&r, cm("a", "1")).await.unwrap();
            let mut next = (*a).clone();
            next.data.insert("data".into(), json!({"v": "2"}));
            let a2 = s.update(&r, next, WriteScope::Main).await.unwrap();
            s.create(&r, cm("b", "1")).await.unwrap();
            // The last write is a deletion: the revision must survive it.
            s.delete(&r, Some("ns"), "b", &DeleteOptions::default())
                .await
                .unwrap();
            (a2, a.metadata.uid.clone().unwrap())
        };
        let s = DurableStore::open(dir.path()).unwrap();
        let got = s.get(&r, Some("ns"), "a").await.unwrap();
        let revision = s.current_revision().await.unwrap();
        let list = s.list(&r, &ListOptions::default()).await.unwrap();
        let old_watch = s
            .watch(
                &r,
                &WatchOptions {
                    resource_version: Some("2".into()),
                    ..WatchOptions::default()
                },
            )
            .await
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        let old_list = s
            .list(
                &r,
                &ListOptions {
                    resource_version: Some("2".into()),
                    resource_version_match: Some(ResourceVersionMatch::Exact),
                    ..ListOptions::default()
                },
            )
            .await
            .err()
            .map(|e| e.to_status().code.unwrap_or(0).to_string())
            .unwrap_or_default();
        let mut w = s
            .watch(
                &r,
                &WatchOptions {
                    resource_version: Some("4".into()),
                    ..WatchOptions::default()
                },
            )
            .await
            .unwrap();
        let c = s.create(&r, cm("c", "1")).await.unwrap();
        let ev = match w.next().await.unwrap().unwrap() {
            WatchEvent::Added(o) => o.metadata.name.clone().unwrap(),
            other => format!("{other:?}"),
        };
        check(vec![
            (
                "object restored",
                format!("{:?}", *got),
                format!("{:?}", *a2),
            ),
            ("uid kept", got.metadata.uid.clone().unwrap(), uid),
            ("revision restored", revision.to_string(), "4".into()),
            ("list restored", list.items.len().to_string(), "1".into()),
            (
                "list revision",
                list.resource_version.to_string(),
                "4".into(),
            ),
            (
                "next write continues the counter",
                c.metadata.resource_version.clone().unwrap(),
                "5".into(),
            ),
            (
                "watch from before the restart",
                old_watch,
                "too old resource version: 2 (4)".into(),
            ),
            ("exact list from before the restart", old_list, "410".into()),
            ("watch from the restart revision", ev, "c".into()),
        ]);
    }

    #[tokio::test]
    async fn second_open_of_the_same_directory_fails() {
        let dir = tempfile::tempdir().unwrap();
        let _s = DurableStore::open(dir.path()).unwrap();
        let e = DurableStore::open(dir.path()).unwrap_err();
        assert_eq!(e.to_status().code, Some(500), "{e}");
    }
}
