//! JSON Schemas for kinds: OpenAPI v3 (`components/schemas`) documents and structural schemas
//! for CustomResourceDefinitions, both derived from the types' `schemars` schemas.

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::{Map, Value, json};

/// The OpenAPI v3 schema of one kind, with every subschema inlined (no `$ref`s), as CRDs and
/// standalone validators need.
pub fn openapi_v3_schema<K: JsonSchema + ?Sized>() -> Value {
    let mut settings = SchemaSettings::openapi3();
    settings.inline_subschemas = true;
    settings.meta_schema = None;
    let mut v = settings
        .into_generator()
        .into_root_schema_for::<K>()
        .to_value();
    strip_root_noise(&mut v);
    v
}

/// The structural schema a CustomResourceDefinition needs: inlined, `metadata` reduced to
/// `{type: object}`, and untyped values marked `x-kubernetes-preserve-unknown-fields`.
pub fn structural_schema_value<K: JsonSchema + ?Sized>() -> Value {
    let mut v = openapi_v3_schema::<K>();
    make_structural(&mut v);
    crate::crd::restrict_metadata(&mut v);
    v
}

fn strip_root_noise(v: &mut Value) {
    if let Some(m) = v.as_object_mut() {
        m.remove("$schema");
        m.remove("title");
        m.remove("definitions");
        m.remove("components");
    }
}

fn make_structural(v: &mut Value) {
    match v {
        Value::Bool(true) => {
            *v = json!({ "x-kubernetes-preserve-unknown-fields": true });
        }
        Value::Object(m) => {
            m.remove("title");
            m.remove("examples");
            // Rust-side defaults that hold nulls are not valid structural defaults.
            if m.get("default").is_some_and(contains_null) {
                m.remove("default");
            }
            collapse_nullable_any_of(m);
            let untyped = !m.contains_key("type")
                && !m.contains_key("$ref")
                && !m.contains_key("anyOf")
                && !m.contains_key("oneOf")
                && !m.contains_key("allOf")
                && !m.contains_key("x-kubernetes-int-or-string")
                && !m.contains_key("enum");
            if untyped {
                m.insert(
                    "x-kubernetes-preserve-unknown-fields".into(),
                    Value::Bool(true),
                );
            }
            for key in ["properties", "patternProperties"] {
                if let Some(Value::Object(props)) = m.get_mut(key) {
                    for p in props.values_mut() {
                        make_structural(p);
                    }
                }
            }
            for key in ["items", "additionalProperties", "not"] {
                if let Some(sub) = m.get_mut(key) {
                    make_structural(sub);
                }
            }
            for key in ["anyOf", "oneOf", "allOf"] {
                if let Some(Value::Array(subs)) = m.get_mut(key) {
                    for s in subs {
                        make_structural(s);
                    }
                }
            }
        }
        _ => {}
    }
}

fn contains_null(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.iter().any(contains_null),
        Value::Object(m) => m.values().any(contains_null),
        _ => false,
    }
}

/// `Option<T>` of a non-trivial `T` comes out of schemars as `anyOf: [T, {nullable, enum: [null]}]`;
/// a structural schema wants `T`'s keywords in place plus `nullable: true`.
fn collapse_nullable_any_of(m: &mut Map<String, Value>) {
    let is_null_schema = |v: &Value| {
        v.get("enum")
            .and_then(Value::as_array)
            .is_some_and(|e| e.len() == 1 && e[0].is_null())
    };
    let Some(Value::Array(subs)) = m.get("anyOf") else {
        return;
    };
    if subs.len() != 2 || !subs.iter().any(is_null_schema) {
        return;
    }
    let Some(Value::Object(inner)) = subs.iter().find(|v| !is_null_schema(v)).cloned() else {
        return;
    };
    m.remove("anyOf");
    for (k, v) in inner {
        m.entry(k).or_insert(v);
    }
    m.insert("nullable".into(), Value::Bool(true));
    collapse_nullable_any_of(m);
}

/// An OpenAPI v3 document whose `components/schemas` hold every compiled-in kind and the types
/// they use (shared subschemas referenced with `$ref`).
pub fn openapi_v3_document() -> Value {
    let mut generator = SchemaSettings::openapi3().into_generator();
    let mut roots = Map::new();
    macro_rules! add_all {
        ($($k:ty),* $(,)?) => {
            $(
                let schema = generator.subschema_for::<$k>();
                roots.insert(<$k as crate::TypedResource>::KIND.to_owned(), schema.to_value());
            )*
        };
    }
    crate::for_each_builtin_kind!(add_all);
    let schemas = generator.take_definitions(true);
    json!({
        "openapi": "3.0.0",
        "info": { "title": "Kybern (Kubernetes v1.33 API kinds)", "version": env!("CARGO_PKG_VERSION") },
        "paths": {},
        "components": { "schemas": schemas },
    })
}
