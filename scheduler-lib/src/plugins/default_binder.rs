//! DefaultBinder: writes the binding (`pods/binding`: `spec.nodeName` and `PodScheduled`)
//! through [`kybern_reconciler::Api::bind_to_node`] (`create_binding` without decoding the
//! bound Pod, which the binder does not read).

use std::sync::Arc;

use async_trait::async_trait;
use kybern_core::api::core::v1::Pod;
use kybern_reconciler::{Api, Store};

use super::names;
use crate::cache::PodInfo;
use crate::framework::{BindPlugin, CycleState, Plugin, Status};

/// The DefaultBinder plugin.
#[derive(Clone, Debug)]
pub struct DefaultBinder {
    store: Arc<dyn Store>,
}

impl DefaultBinder {
    /// Binds through `store`.
    pub fn new(store: Arc<dyn Store>) -> Arc<Self> {
        Arc::new(DefaultBinder { store })
    }
}

impl Plugin for DefaultBinder {
    fn name(&self) -> &str {
        names::DEFAULT_BINDER
    }
}

#[async_trait]
impl BindPlugin for DefaultBinder {
    async fn bind(&self, _state: &CycleState, pod: &PodInfo, node: &str) -> Status {
        let api: Api<Pod> = Api::namespaced(self.store.clone(), pod.namespace());
        match api.bind_to_node(pod.name(), node).await {
            Ok(_) => Status::success(),
            Err(e) => Status::error(e.to_string()),
        }
    }
}
