//! Runs the shared store conformance suite against `MemoryStore`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use kybern_reconciler::store::conformance::StoreSettings;
use kybern_reconciler::store::{MemoryStore, MemoryStoreConfig, Store};

fn memory(settings: &StoreSettings) -> Arc<dyn Store> {
    Arc::new(MemoryStore::with_config(MemoryStoreConfig {
        history: settings.history,
        ..MemoryStoreConfig::default()
    }))
}

kybern_reconciler::store_conformance_tests!(memory);
