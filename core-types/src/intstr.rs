//! `IntOrString`: a value that is either an int32 or a string (ports, percentages).
//!
//! PLACEHOLDER: the public shape is fixed here; helpers for percentages replace this.

use serde::{Deserialize, Serialize};

/// An int32 or a string, as upstream's `intstr.IntOrString`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IntOrString {
    /// An integer value.
    Int(i32),
    /// A string value (a named port, a percentage such as `25%`).
    String(String),
}

impl Default for IntOrString {
    fn default() -> Self {
        IntOrString::Int(0)
    }
}

impl schemars::JsonSchema for IntOrString {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "IntOrString".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({ "x-kubernetes-int-or-string": true, "anyOf": [{"type": "integer"}, {"type": "string"}] })
    }
}
