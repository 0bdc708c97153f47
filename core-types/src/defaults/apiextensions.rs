//! Defaults of `apiextensions.k8s.io/v1` CustomResourceDefinition.
//!
//! Upstream: `apiextensions-apiserver/pkg/apis/apiextensions/v1/defaults.go`.

use crate::api::apiextensions::v1::{CustomResourceConversion, CustomResourceDefinition};

use super::SetDefaults;

/// Port of a conversion webhook service when none is given.
const DEFAULT_WEBHOOK_PORT: i32 = 443;

impl SetDefaults for CustomResourceDefinition {
    fn set_defaults(&mut self) {
        let spec = &mut self.spec;
        let names = &mut spec.names;
        if names.singular.as_deref().is_none_or(str::is_empty) {
            names.singular = Some(names.kind.to_lowercase());
        }
        if names.list_kind.as_deref().is_none_or(str::is_empty) && !names.kind.is_empty() {
            names.list_kind = Some(format!("{}List", names.kind));
        }
        let conversion = spec
            .conversion
            .get_or_insert_with(|| CustomResourceConversion {
                strategy: "None".to_owned(),
                ..Default::default()
            });
        let service = conversion
            .webhook
            .as_mut()
            .and_then(|w| w.client_config.as_mut())
            .and_then(|c| c.service.as_mut());
        if let Some(service) = service {
            service.port.get_or_insert(DEFAULT_WEBHOOK_PORT);
        }
        let stored_empty = self
            .status
            .as_ref()
            .is_none_or(|s| s.stored_versions.is_empty());
        if stored_empty && let Some(v) = spec.versions.iter().find(|v| v.storage) {
            let name = v.name.clone();
            self.status
                .get_or_insert_with(Default::default)
                .stored_versions
                .push(name);
        }
    }
}
