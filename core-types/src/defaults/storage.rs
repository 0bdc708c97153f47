//! Defaults of `storage.k8s.io/v1` StorageClass.
//!
//! Upstream: `pkg/apis/storage/v1/defaults.go` (its CSIDriver defaults wait for a CSIDriver type).

use crate::api::storage::v1::StorageClass;

use super::SetDefaults;

impl SetDefaults for StorageClass {
    fn set_defaults(&mut self) {
        if self.reclaim_policy.is_none() {
            self.reclaim_policy = Some("Delete".to_owned());
        }
        if self.volume_binding_mode.is_none() {
            self.volume_binding_mode = Some("Immediate".to_owned());
        }
    }
}
