//! Custom resources: the [`custom_resource!`](crate::custom_resource) macro, and printing a kind's
//! CustomResourceDefinition with a structural OpenAPI v3 schema derived from its `schemars` schema.
//!
//! ```
//! use kybern_core::{custom_resource, CustomResourceExt};
//! use schemars::JsonSchema;
//! use serde::{Deserialize, Serialize};
//!
//! /// What the user asks for.
//! #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
//! #[serde(rename_all = "camelCase")]
//! pub struct DatabaseSpec {
//!     /// Engine version.
//!     pub version: String,
//!     /// Number of replicas.
//!     pub replicas: i32,
//! }
//!
//! /// What the operator observed.
//! #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
//! pub struct DatabaseStatus {
//!     /// Ready replicas.
//!     pub ready: i32,
//! }
//!
//! custom_resource! {
//!     /// A managed database.
//!     #[resource(group = "example.com", version = "v1", kind = "Database", plural = "databases", scope = Namespaced, short_names = ["db"])]
//!     pub struct Database {
//!         spec: DatabaseSpec,
//!         status: DatabaseStatus,
//!     }
//! }
//!
//! let crd = Database::crd();
//! assert_eq!(crd.metadata.name.as_deref(), Some("databases.example.com"));
//! assert_eq!(crd.spec.names.kind, "Database");
//! let db: Database = serde_json::from_str(
//!     r#"{"apiVersion":"example.com/v1","kind":"Database","metadata":{"name":"pg"},"spec":{"version":"16","replicas":3}}"#,
//! ).unwrap();
//! assert_eq!(db.spec.replicas, 3);
//! ```

use schemars::JsonSchema;
use serde_json::{Map, Value};

use crate::api::apiextensions::v1::{
    CustomResourceDefinition, CustomResourceDefinitionNames, CustomResourceDefinitionSpec,
    CustomResourceDefinitionVersion, CustomResourceSubresourceStatus, CustomResourceSubresources,
    CustomResourceValidation, JSONSchemaProps,
};
use crate::resource::{Scope, TypedResource};
use crate::schema::structural_schema_value;

/// Facts about a custom kind beyond its identity; implemented by [`custom_resource!`](crate::custom_resource).
pub trait CustomResource: TypedResource + JsonSchema + Sized {
    /// Short names for `kubectl get` (e.g. `db`).
    const SHORT_NAMES: &'static [&'static str];
    /// Whether the kind has a `status` served as a subresource.
    const HAS_STATUS: bool;
}

/// Prints a custom kind's CustomResourceDefinition.
pub trait CustomResourceExt: CustomResource {
    /// The CRD: names, scope, one served+storage version with a structural schema, and the
    /// status subresource when the kind has a status.
    fn crd() -> CustomResourceDefinition {
        let schema = structural_schema_value::<Self>();
        let schema: JSONSchemaProps = serde_json::from_value(schema).unwrap_or_default();
        let mut crd = CustomResourceDefinition::default();
        crd.metadata.name = Some(format!("{}.{}", Self::PLURAL, Self::GROUP));
        crd.spec = CustomResourceDefinitionSpec {
            group: Self::GROUP.to_owned(),
            names: CustomResourceDefinitionNames {
                kind: Self::KIND.to_owned(),
                list_kind: Some(format!("{}List", Self::KIND)),
                plural: Self::PLURAL.to_owned(),
                singular: Some(Self::KIND.to_ascii_lowercase()),
                short_names: Self::SHORT_NAMES.iter().map(|s| (*s).to_owned()).collect(),
                ..CustomResourceDefinitionNames::default()
            },
            scope: match Self::SCOPE {
                Scope::Namespaced => "Namespaced".to_owned(),
                Scope::Cluster => "Cluster".to_owned(),
            },
            versions: vec![CustomResourceDefinitionVersion {
                name: Self::VERSION.to_owned(),
                served: true,
                storage: true,
                schema: Some(CustomResourceValidation {
                    open_api_v3_schema: Some(schema),
                }),
                subresources: Self::HAS_STATUS.then(|| CustomResourceSubresources {
                    status: Some(CustomResourceSubresourceStatus::default()),
                    ..CustomResourceSubresources::default()
                }),
                ..CustomResourceDefinitionVersion::default()
            }],
            ..CustomResourceDefinitionSpec::default()
        };
        crd
    }
}

impl<K: CustomResource> CustomResourceExt for K {}

/// Replaces the `metadata` property of a CRD root schema with `{type: object}`, as upstream
/// requires (the API server owns ObjectMeta's schema).
pub(crate) fn restrict_metadata(root: &mut Value) {
    if let Some(props) = root.get_mut("properties").and_then(Value::as_object_mut)
        && props.contains_key("metadata")
    {
        let mut m = Map::new();
        m.insert("type".into(), Value::String("object".into()));
        props.insert("metadata".into(), Value::Object(m));
    }
}

/// Defines a custom resource kind: the struct (`metadata`, `spec`, optional `status`), its wire
/// format (`apiVersion`/`kind` written first, checked on read), its JSON Schema, `Resource`,
/// `TypedResource`, `Validate` (metadata as upstream validates custom resources, plus an optional
/// `validate = path::to_fn` returning an `ErrorList`), `SetDefaults` (an optional
/// `defaults = path::to_fn`), and [`CustomResource`] (so `Kind::crd()` prints the CRD). The kind
/// is then an [`AnyObject`](crate::AnyObject) and can be registered in a [`Registry`](crate::Registry).
///
/// The spec and status types must implement `Clone, Debug, Default, PartialEq, Serialize,
/// Deserialize, JsonSchema`. See the [module docs](crate::crd) for a full example.
#[macro_export]
macro_rules! custom_resource {
    (
        $(#[doc = $doc:literal])*
        #[resource(group = $group:literal, version = $version:literal, kind = $kind:literal, plural = $plural:literal, scope = $scope:ident $(, short_names = [$($short:literal),* $(,)?])? $(, validate = $validate:path)? $(, defaults = $defaults:path)? $(,)?)]
        $vis:vis struct $name:ident {
            spec: $spec:ty,
            $(status: $status:ty,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Clone, Debug, Default, PartialEq)]
        $vis struct $name {
            /// Standard object metadata.
            pub metadata: $crate::api::meta::v1::ObjectMeta,
            /// The desired state.
            pub spec: $spec,
            $(
            /// The observed state.
            pub status: ::core::option::Option<$status>,
            )?
        }

        const _: () = {
            #[derive(::serde::Serialize, ::serde::Deserialize, ::schemars::JsonSchema)]
            #[schemars(rename = $kind)]
            #[doc = concat!($kind, " (", $group, "/", $version, ")")]
            struct Wire {
                #[serde(rename = "apiVersion", default, skip_serializing_if = "Option::is_none")]
                api_version: ::core::option::Option<::std::string::String>,
                #[serde(default, skip_serializing_if = "Option::is_none")]
                kind: ::core::option::Option<::std::string::String>,
                #[serde(default)]
                metadata: $crate::api::meta::v1::ObjectMeta,
                #[serde(default)]
                spec: $spec,
                $(
                #[serde(default, skip_serializing_if = "Option::is_none")]
                status: ::core::option::Option<$status>,
                )?
            }

            impl ::serde::Serialize for $name {
                fn serialize<S: ::serde::Serializer>(&self, s: S) -> ::core::result::Result<S::Ok, S::Error> {
                    use ::serde::ser::SerializeMap;
                    let mut m = s.serialize_map(None)?;
                    m.serialize_entry("apiVersion", <$name as $crate::TypedResource>::API_VERSION)?;
                    m.serialize_entry("kind", $kind)?;
                    m.serialize_entry("metadata", &self.metadata)?;
                    m.serialize_entry("spec", &self.spec)?;
                    $(
                    if let ::core::option::Option::Some(st) = &self.status {
                        m.serialize_entry::<str, $status>("status", st)?;
                    }
                    )?
                    m.end()
                }
            }

            impl<'de> ::serde::Deserialize<'de> for $name {
                fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> ::core::result::Result<Self, D::Error> {
                    let w = Wire::deserialize(d)?;
                    $crate::api::wire::check_type_meta::<$name, D::Error>(w.api_version.as_deref(), w.kind.as_deref())?;
                    ::core::result::Result::Ok($name {
                        metadata: w.metadata,
                        spec: w.spec,
                        $( status: { let s: ::core::option::Option<$status> = w.status; s }, )?
                    })
                }
            }

            impl ::schemars::JsonSchema for $name {
                fn schema_name() -> ::std::borrow::Cow<'static, str> {
                    $kind.into()
                }
                fn json_schema(g: &mut ::schemars::SchemaGenerator) -> ::schemars::Schema {
                    <Wire as ::schemars::JsonSchema>::json_schema(g)
                }
            }
        };

        $crate::impl_resource!($name, group = $group, version = $version, kind = $kind, plural = $plural, scope = $scope);

        impl $crate::validation::Validate for $name {
            fn validate(&self) -> $crate::validation::ErrorList {
                let mut errs = $crate::validation::meta::validate_resource_meta(
                    self,
                    $crate::validation::names::name_is_dns_subdomain,
                );
                $( errs.extend($validate(self)); )?
                errs
            }
        }

        impl $crate::defaults::SetDefaults for $name {
            fn set_defaults(&mut self) {
                $( $defaults(self); )?
            }
        }

        impl $crate::crd::CustomResource for $name {
            const SHORT_NAMES: &'static [&'static str] = &[$($($short),*)?];
            const HAS_STATUS: bool = $crate::custom_resource!(@has_status $($status)?);
        }
    };
    (@has_status $status:ty) => { true };
    (@has_status) => { false };
}
