//! Defaults of `discovery.k8s.io/v1` EndpointSlice.
//!
//! Upstream: `pkg/apis/discovery/v1/defaults.go`.

use crate::api::discovery::v1::EndpointSlice;

use super::SetDefaults;

impl SetDefaults for EndpointSlice {
    fn set_defaults(&mut self) {
        for p in &mut self.ports {
            p.name.get_or_insert_with(String::new);
            p.protocol.get_or_insert_with(|| "TCP".to_owned());
        }
    }
}
