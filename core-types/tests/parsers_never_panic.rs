//! Every parser in `kybern-core` fed arbitrary input: none may panic, whatever the bytes.
//!
//! Each parser also has its own property tests next to its vectors; this file is the one place
//! that lists them all, so a new parser is easy to add and hard to forget. Inputs mix fully
//! arbitrary Unicode with strings built from each grammar's own punctuation, which reach far
//! deeper into a parser than random text does.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use kybern_core::api::apps::v1::Deployment;
use kybern_core::api::core::v1::Pod;
use kybern_core::decode::decode_strict;
use kybern_core::labels::Selector;
use kybern_core::load::{DuplicateKeys, LoadOptions, load_objects};
use kybern_core::validation::{cron, names, network};
use kybern_core::{
    ByteString, DynamicObject, FieldSelector, GroupVersionKind, IntOrString, MicroTime, Quantity,
    Registry, Time,
};
use proptest::prelude::*;

/// Strings over an alphabet that matters to the grammars here.
fn grammar_soup() -> impl Strategy<Value = String> {
    proptest::string::string_regex(
        r"[a-zA-Z0-9 ._/\-=!,()<>:;{}\[\]#&*|>'\x22\\%+eEiKMGTPnum\t\n]{0,64}",
    )
    .unwrap()
}

fn any_text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), grammar_soup()]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn scalar_parsers(s in any_text()) {
        let _ = Quantity::parse(&s);
        let _ = IntOrString::parse(&s);
        let _ = IntOrString::String(s.clone()).to_string();
        let _ = s.parse::<Time>();
        let _ = s.parse::<MicroTime>();
        let _ = ByteString::from_base64(&s);
        let _ = GroupVersionKind::from_api_version_kind(&s, &s);
        let _ = cron::parse_schedule(&s);
        let _ = network::parse_ip_sloppy(&s);
        let _ = network::is_cidr(&s);
    }

    #[test]
    fn selector_parsers(s in any_text()) {
        if let Ok(sel) = Selector::parse(&s) {
            // A parsed selector prints to a form that parses again.
            prop_assert!(Selector::parse(&sel.to_string()).is_ok(), "{s:?} -> {sel}");
        }
        let _ = FieldSelector::parse(&s);
    }

    #[test]
    fn name_checks(s in any_text()) {
        let _ = names::is_dns1123_label(&s);
        let _ = names::is_dns1123_subdomain(&s);
        let _ = names::is_dns1035_label(&s);
        let _ = names::is_qualified_name(&s);
        let _ = names::is_valid_label_value(&s);
    }

    #[test]
    fn manifest_loader(s in any_text()) {
        for dup in [DuplicateKeys::LastWins, DuplicateKeys::Error] {
            let opts = LoadOptions { duplicate_keys: dup, ..LoadOptions::default() };
            let _ = load_objects("fuzz.yaml", &s, &opts);
        }
    }

    /// Arbitrary YAML-ish documents that do parse become objects; decoding them into typed
    /// kinds (through the registry and directly) returns a value or a typed error.
    #[test]
    fn typed_decoding(key in "[a-zA-Z]{1,12}", value in any_text(), kind in prop::sample::select(vec!["Pod", "Deployment", "Service", "ConfigMap", "Nope"])) {
        let api_version = if kind == "Deployment" { "apps/v1" } else { "v1" };
        let doc = format!("apiVersion: {api_version}\nkind: {kind}\nmetadata:\n  name: x\nspec:\n  {key}: {value:?}\n  containers: {value:?}\n");
        if let Ok(objs) = load_objects("fuzz.yaml", &doc, &LoadOptions::default()) {
            let registry = Registry::builtin();
            for o in objs {
                let v = o.object.to_value();
                let _ = decode_strict::<Pod>(v.clone());
                let _ = decode_strict::<Deployment>(v.clone());
                let _ = DynamicObject::from_value(v);
                if let Ok(kybern_core::Decoded::Typed { mut object, .. }) = registry.decode(o.object) {
                    object.set_defaults();
                    let _ = object.validate();
                }
            }
        }
    }
}
