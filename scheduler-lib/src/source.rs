//! Event intake seams: [`ClusterSource`] (an initial list plus a stream of changes per kind),
//! [`InformerSource`] over the runtime's shared informers (the default), and [`StoreSource`]
//! doing its own list + watch.

use std::sync::Arc;

use async_trait::async_trait;
use futures::StreamExt as _;
use futures::stream::BoxStream;
use kybern_core::api::core::v1::{Namespace, Node, Pod};
use kybern_core::api::policy::v1::PodDisruptionBudget;
use kybern_reconciler::runtime::reflector::{CacheConfig, Change};
use kybern_reconciler::runtime::{Object, SharedInformers, watcher};
use kybern_reconciler::{Api, ListParams, Store, WatchEvent, WatchParams};

use crate::error::Error;

/// Implements [`ClusterSource`] for a type through one generic per-kind method.
macro_rules! cluster_source_via {
    ($ty:ty, $method:ident) => {
        #[async_trait]
        impl ClusterSource for $ty {
            async fn pods(&self) -> Result<Listed<Pod>, Error> {
                self.$method::<Pod>().await
            }
            async fn nodes(&self) -> Result<Listed<Node>, Error> {
                self.$method::<Node>().await
            }
            async fn pdbs(&self) -> Result<Listed<PodDisruptionBudget>, Error> {
                self.$method::<PodDisruptionBudget>().await
            }
            async fn namespaces(&self) -> Result<Listed<Namespace>, Error> {
                self.$method::<Namespace>().await
            }
        }
    };
}

/// What a [`ClusterSource`] answers per kind: the current objects, then their changes.
pub type Listed<K> = (Vec<Arc<K>>, BoxStream<'static, PodEvent<K>>);

/// A pod event from a [`ClusterSource`].
#[derive(Clone, Debug)]
pub enum PodEvent<T> {
    /// Created (or seen in the initial list).
    Added(Arc<T>),
    /// Changed.
    Modified(Arc<T>),
    /// Deleted.
    Deleted(Arc<T>),
}

/// Where the scheduler's events come from: an initial list and then a stream of changes,
/// per kind. The default is [`InformerSource`] (the runtime's shared informers); the sim and
/// tests can plug in anything else.
#[async_trait]
pub trait ClusterSource: Send + Sync + 'static {
    /// Pods: the current ones, then changes.
    async fn pods(&self) -> Result<Listed<Pod>, Error>;
    /// Nodes: the current ones, then changes.
    async fn nodes(&self) -> Result<Listed<Node>, Error>;
    /// PodDisruptionBudgets (for preemption): the current ones, then changes.
    async fn pdbs(&self) -> Result<Listed<PodDisruptionBudget>, Error>;
    /// Namespaces (their labels feed InterPodAffinity's `namespaceSelector`): the current
    /// ones, then changes. The default has none (terms with a namespace selector then match
    /// only namespaces listed by name, or every namespace for an empty selector).
    async fn namespaces(&self) -> Result<Listed<Namespace>, Error> {
        Ok((Vec::new(), futures::stream::empty().boxed()))
    }
}

/// A [`ClusterSource`] over a [`Store`] doing its own `Api::list`, then `Api::watch` from the
/// list's revision, resuming from the last revision seen when the watch ends. Unlike
/// [`InformerSource`] it does not re-list, so deletions missed while a watch was down (a
/// compacted revision) are not noticed: prefer [`InformerSource`].
#[derive(Clone, Debug)]
pub struct StoreSource {
    store: Arc<dyn Store>,
}

impl StoreSource {
    /// Over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        StoreSource { store }
    }

    async fn list_watch<K>(&self) -> Result<Listed<K>, Error>
    where
        K: Object + kybern_core::Resource<DynamicType = ()>,
    {
        let api: Api<K> = Api::all(self.store.clone());
        let list = api.list(&ListParams::default()).await?;
        let rv = list.metadata.resource_version.clone().unwrap_or_default();
        let items = list.items.into_iter().map(Arc::new).collect();
        let (tx, rx) = futures::channel::mpsc::unbounded();
        tokio::spawn(async move {
            let mut rv = rv;
            loop {
                let params = WatchParams::default().from_revision(&rv);
                let mut stream = match api.watch(&params).await {
                    Ok(s) => s,
                    Err(_) => {
                        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                        continue;
                    }
                };
                while let Some(ev) = stream.next().await {
                    let ev = match ev {
                        Ok(ev) => ev,
                        Err(_) => break,
                    };
                    let out = match ev {
                        WatchEvent::Added(o) => {
                            rv = rv_of(&o).unwrap_or(rv);
                            PodEvent::Added(Arc::new(o))
                        }
                        WatchEvent::Modified(o) => {
                            rv = rv_of(&o).unwrap_or(rv);
                            PodEvent::Modified(Arc::new(o))
                        }
                        WatchEvent::Deleted(o) => {
                            rv = rv_of(&o).unwrap_or(rv);
                            PodEvent::Deleted(Arc::new(o))
                        }
                        WatchEvent::Bookmark(b) => {
                            rv = b.resource_version;
                            continue;
                        }
                    };
                    if tx.unbounded_send(out).is_err() {
                        return;
                    }
                }
                if tx.is_closed() {
                    return;
                }
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
        });
        Ok((items, rx.boxed()))
    }
}

fn rv_of<K: kybern_core::Resource>(o: &K) -> Option<String> {
    o.meta().resource_version.clone()
}

cluster_source_via!(StoreSource, list_watch);

/// A [`ClusterSource`] over the runtime's [`SharedInformers`]: one informer per kind (shared
/// with any controller of the process watching the same way), whose reflector re-lists after
/// a broken watch and turns the difference into `Applied`/`Deleted` changes — so pods deleted
/// while the watch was down are removed from the scheduler's cache too.
#[derive(Clone, Debug)]
pub struct InformerSource {
    store: Arc<dyn Store>,
    informers: SharedInformers,
}

impl InformerSource {
    /// Informers over `store`, started in (or shared from) `informers`.
    pub fn new(store: Arc<dyn Store>, informers: SharedInformers) -> Self {
        InformerSource { store, informers }
    }

    /// The informers this source uses.
    pub fn informers(&self) -> &SharedInformers {
        &self.informers
    }

    /// Waits for the kind's informer to be synced, subscribes, and splits what is already
    /// cached (the initial list) from the changes that follow.
    async fn subscribe<K>(&self) -> Result<Listed<K>, Error>
    where
        K: Object + kybern_core::Resource<DynamicType = ()>,
    {
        let api: Api<K> = Api::all(self.store.clone());
        let informer =
            self.informers
                .informer_with(&api, &watcher::Config::default(), CacheConfig::bare);
        let reader = informer.reader();
        reader.wait_until_ready().await;
        let mut rx = reader.subscribe();
        // `subscribe` queues one `Applied { old: None }` per cached object before returning.
        let mut items = Vec::new();
        let mut early = Vec::new();
        while let Ok(change) = rx.try_recv() {
            match change {
                Change::Applied { old: None, new } if early.is_empty() => items.push(new),
                other => early.push(to_event(other)),
            }
        }
        let rest = futures::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|c| (to_event(c), rx))
        });
        Ok((items, futures::stream::iter(early).chain(rest).boxed()))
    }
}

fn to_event<K>(change: Change<K>) -> PodEvent<K> {
    match change {
        Change::Applied { old: None, new } => PodEvent::Added(new),
        Change::Applied { old: Some(_), new } => PodEvent::Modified(new),
        Change::Deleted(o) => PodEvent::Deleted(o),
    }
}

cluster_source_via!(InformerSource, subscribe);
