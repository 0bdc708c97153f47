//! Watching a store: objects are created, updated and deleted while two watchers follow the
//! event stream; one falls behind, is told its position has expired, and recovers by relisting.
//!
//! Run it with `cargo run --example watch`.

use std::sync::Arc;

use futures::stream::BoxStream;
use futures::{FutureExt as _, StreamExt as _};
use kybern::core::api::core::v1::ConfigMap;
use kybern::reconciler::store::{MemoryStoreConfig, Store, StoreError};
use kybern::reconciler::{Api, DeleteParams, ListParams, MemoryStore, WatchEvent, WatchParams};

type Events = BoxStream<'static, Result<WatchEvent<ConfigMap>, StoreError>>;

/// Prints every event a watcher has already received, without waiting for new ones.
/// Returns how many there were, or the error that ended the watch.
fn print_ready(who: &str, events: &mut Events, quiet: bool) -> Result<usize, StoreError> {
    let mut n = 0;
    while let Some(Some(item)) = events.next().now_or_never() {
        let event = item?;
        n += 1;
        if !quiet {
            println!("  {who} sees {}", describe(&event));
        }
    }
    Ok(n)
}

fn describe(event: &WatchEvent<ConfigMap>) -> String {
    match event {
        WatchEvent::Added(cm) | WatchEvent::Modified(cm) | WatchEvent::Deleted(cm) => format!(
            "{:<8} {} (resourceVersion {}, color={})",
            event.type_name(),
            cm.metadata.name.as_deref().unwrap_or(""),
            cm.metadata.resource_version.as_deref().unwrap_or(""),
            cm.data.get("color").map(String::as_str).unwrap_or("-"),
        ),
        WatchEvent::Bookmark(b) => format!("BOOKMARK at {}", b.resource_version),
    }
}

fn config_map(name: &str, color: &str) -> ConfigMap {
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some(name.into());
    cm.data.insert("color".into(), color.into());
    cm
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    // A store keeps a limited history of changes per kind. We keep it small (256 events) so
    // that a watcher that stops reading falls off the end quickly.
    let store: Arc<dyn Store> = Arc::new(MemoryStore::with_config(MemoryStoreConfig {
        history: 256,
        ..MemoryStoreConfig::default()
    }));
    let config_maps: Api<ConfigMap> = Api::namespaced(store.clone(), "demo");

    println!("1. Two watchers start watching ConfigMaps in namespace \"demo\".");
    let mut alice = config_maps.watch(&WatchParams::default()).await?;
    let mut bob = config_maps.watch(&WatchParams::default()).await?;

    println!("2. We create, update and delete a few objects.");
    let created = config_maps.create(&config_map("greeting", "blue")).await?;
    let mut changed = created.clone();
    changed.data.insert("color".into(), "green".into());
    config_maps.update(&changed).await?;
    config_maps.create(&config_map("farewell", "red")).await?;
    config_maps
        .delete("farewell", &DeleteParams::default())
        .await?;
    print_ready("alice", &mut alice, false)?;
    print_ready("bob  ", &mut bob, false)?;

    println!("3. Bob stops reading. Alice keeps up while we update \"greeting\" 600 times.");
    let mut current = config_maps.get("greeting").await?;
    let mut alice_count = 0;
    for i in 0..600 {
        current.data.insert("color".into(), format!("shade-{i}"));
        current = config_maps.update(&current).await?;
        alice_count += print_ready("alice", &mut alice, true)?;
    }
    println!(
        "  alice received {alice_count} events; the store is now at resourceVersion {}",
        current.metadata.resource_version.as_deref().unwrap_or("")
    );

    println!("4. Bob reads again. What he missed is no longer in the history:");
    let bob_error = loop {
        match bob.next().await {
            Some(Ok(_)) => continue, // the last few events still retained
            Some(Err(e)) => break e,
            None => anyhow::bail!("bob's watch ended without an error"),
        }
    };
    let status = bob_error.to_status();
    println!(
        "  bob's watch ends: {} {} \"{}\"",
        status.code.unwrap_or(0),
        status.reason.as_deref().unwrap_or(""),
        bob_error
    );

    println!("5. Bob recovers the way every informer does: list, then watch from the list.");
    let list = config_maps.list(&ListParams::default()).await?;
    let at = list.metadata.resource_version.clone().unwrap_or_default();
    for cm in &list.items {
        println!(
            "  bob lists {} (color={}) at resourceVersion {at}",
            cm.metadata.name.as_deref().unwrap_or(""),
            cm.data.get("color").map(String::as_str).unwrap_or("-")
        );
    }
    let mut bob = config_maps
        .watch(&WatchParams::default().from_revision(&at))
        .await?;

    println!("6. One more change: both watchers see it.");
    current.data.insert("color".into(), "gold".into());
    config_maps.update(&current).await?;
    print_ready("alice", &mut alice, false)?;
    print_ready("bob  ", &mut bob, false)?;
    Ok(())
}
