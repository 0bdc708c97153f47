//! Runs every vector of `shared/vectors/names.json` through the name/label/annotation validators.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use kybern_core::validation::FieldPath;
use kybern_core::validation::meta::{validate_annotations, validate_labels};
use kybern_core::validation::names::*;
use serde_json::Value;

const NAMES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/vectors/names.json"
);

fn load() -> Value {
    let text = std::fs::read_to_string(NAMES)
        .unwrap_or_else(|e| panic!("vectors file {NAMES} is missing or unreadable: {e}"));
    serde_json::from_str(&text).expect("names.json is valid JSON")
}

fn group<'a>(doc: &'a Value, name: &str) -> &'a [Value] {
    doc[name]
        .as_array()
        .unwrap_or_else(|| panic!("names.json has no array group {name:?}"))
}

fn who(v: &Value) -> String {
    format!(
        "{} {}",
        v["from"].as_str().unwrap_or("?"),
        v.get("name")
            .or(v.get("note"))
            .map(|n| n.to_string())
            .unwrap_or_default()
    )
}

/// Expands `{"$repeat": "c", "count": n}` into the repeated string.
fn expand(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(o) if o.contains_key("$repeat") => o["$repeat"]
            .as_str()
            .unwrap()
            .repeat(o["count"].as_u64().unwrap() as usize),
        other => panic!("unexpected map value {other}"),
    }
}

fn string_map(v: &Value) -> BTreeMap<String, String> {
    v.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), expand(v)))
        .collect()
}

/// Runs one `validations` vector: returns the error messages of the validator named by `kind`.
fn run_kind(kind: &str, value: &Value) -> Vec<String> {
    let p = FieldPath::new("field");
    let s = || {
        value
            .as_str()
            .unwrap_or_else(|| panic!("{kind}: expected a string value"))
    };
    let n = || {
        value
            .as_i64()
            .unwrap_or_else(|| panic!("{kind}: expected an integer value"))
    };
    let list = |l: kybern_core::validation::ErrorList| -> Vec<String> {
        l.iter().map(|e| e.to_string()).collect()
    };
    match kind {
        "dns1123_label" => is_dns1123_label(s()),
        "dns1123_subdomain" => is_dns1123_subdomain(s()),
        "dns1035_label" => is_dns1035_label(s()),
        "port_num" => is_valid_port_num(n()),
        "group_id" => is_valid_group_id(n()),
        "user_id" => is_valid_user_id(n()),
        "port_name" => is_valid_port_name(s()),
        "qualified_name" => is_qualified_name(s()),
        "label_value" => is_valid_label_value(s()),
        "http_header_name" => is_http_header_name(s()),
        "percent" => is_valid_percent(s()),
        "config_map_key" => is_config_map_key(s()),
        "wildcard_dns1123_subdomain" => is_wildcard_dns1123_subdomain(s()),
        "fully_qualified_domain_name" => list(is_fully_qualified_domain_name(&p, s())),
        "fully_qualified_name" => list(is_fully_qualified_name(&p, s())),
        "domain_prefixed_path" => list(is_domain_prefixed_path(&p, s())),
        "relaxed_env_var_name" => is_relaxed_env_var_name(s()),
        "dns1123_subdomain_with_underscore" => is_dns1123_subdomain_with_underscore(s()),
        "domain_prefixed_key" => list(is_domain_prefixed_key(&p, s())),
        other => panic!("names.json: unknown validation kind {other:?}"),
    }
}

fn check_validity(what: &str, v: &Value, errs: &[String]) {
    let valid = v["valid"].as_bool().expect("vector has `valid`");
    assert_eq!(
        errs.is_empty(),
        valid,
        "{what} ({}): value {} expected valid={valid}, got {errs:?}",
        who(v),
        v.get("value")
            .or(v.get("labels"))
            .or(v.get("annotations"))
            .unwrap_or(&Value::Null)
    );
    if let Some(count) = v.get("error_count").and_then(Value::as_u64) {
        assert_eq!(errs.len() as u64, count, "{what} ({}): {errs:?}", who(v));
    }
    if let Some(needle) = v.get("error_detail_contains").and_then(Value::as_str) {
        assert!(
            errs.iter().any(|e| e.contains(needle)),
            "{what} ({}): no error contains {needle:?}: {errs:?}",
            who(v)
        );
    }
}

#[test]
fn validations_vectors() {
    let doc = load();
    let vs = group(&doc, "validations");
    assert!(vs.len() >= 300, "expected the full validations group");
    for v in vs {
        let kind = v["kind"].as_str().unwrap();
        let errs = run_kind(kind, &v["value"]);
        check_validity(kind, v, &errs);
    }
}

#[test]
fn in_range_vectors() {
    let doc = load();
    for v in group(&doc, "in_range") {
        let errs = is_in_range(
            v["value"].as_i64().unwrap(),
            v["min"].as_i64().unwrap(),
            v["max"].as_i64().unwrap(),
        );
        check_validity("in_range", v, &errs);
    }
}

#[test]
fn validate_labels_vectors() {
    let doc = load();
    for v in group(&doc, "validate_labels") {
        let errs: Vec<String> =
            validate_labels(&string_map(&v["labels"]), &FieldPath::new("field"))
                .iter()
                .map(|e| e.to_string())
                .collect();
        check_validity("validate_labels", v, &errs);
    }
}

#[test]
fn validate_annotations_vectors() {
    let doc = load();
    for v in group(&doc, "validate_annotations") {
        let errs: Vec<String> =
            validate_annotations(&string_map(&v["annotations"]), &FieldPath::new("field"))
                .iter()
                .map(|e| e.to_string())
                .collect();
        check_validity("validate_annotations", v, &errs);
    }
}

#[test]
fn mask_trailing_dash_vectors() {
    let doc = load();
    for v in group(&doc, "mask_trailing_dash") {
        let input = v["input"].as_str().unwrap();
        assert_eq!(
            mask_trailing_dash(input),
            v["masked"].as_str().unwrap(),
            "mask_trailing_dash ({}) of {input:?}",
            who(v)
        );
    }
}

/// Exact upstream messages for representative failures of each validator.
#[test]
fn exact_messages() {
    let rows: &[(&str, Value, &[&str])] = &[
        ("dns1123_label", "a.b".into(), &["must not contain dots"]),
        (
            "dns1123_label",
            "A".into(),
            &[
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
            ],
        ),
        (
            "dns1123_subdomain",
            "a_b".into(),
            &[
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
            ],
        ),
        (
            "dns1035_label",
            "1a".into(),
            &[
                "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
            ],
        ),
        (
            "port_num",
            0.into(),
            &["must be between 1 and 65535, inclusive"],
        ),
        (
            "user_id",
            (-1).into(),
            &["must be between 0 and 2147483647, inclusive"],
        ),
        (
            "port_name",
            "".into(),
            &[
                "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                "must contain at least one letter (a-z)",
            ],
        ),
        (
            "port_name",
            "-a--b-".into(),
            &[
                "must not contain consecutive hyphens",
                "must not begin or end with a hyphen",
            ],
        ),
        (
            "port_name",
            "aaaaaaaaaaaaaaaa".into(),
            &["must be no more than 15 characters"],
        ),
        (
            "qualified_name",
            "-x".into(),
            &[
                "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
            ],
        ),
        (
            "label_value",
            "-x".into(),
            &[
                "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
            ],
        ),
        (
            "percent",
            "1".into(),
            &[
                "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
            ],
        ),
        ("config_map_key", "..".into(), &["must not be '..'"]),
        (
            "relaxed_env_var_name",
            "".into(),
            &["environment variable name must be non-empty"],
        ),
        (
            "fully_qualified_name",
            "a.b".into(),
            &[
                "field: Invalid value: \"a.b\": should be a domain with at least three segments separated by dots",
            ],
        ),
        (
            "domain_prefixed_key",
            "example".into(),
            &[
                "field: Invalid value: \"example\": must be a domain-prefixed key (such as \"acme.io/foo\")",
            ],
        ),
    ];
    for (kind, value, want) in rows {
        let got = run_kind(kind, value);
        assert_eq!(&got, want, "{kind} {value}");
    }
}

proptest::proptest! {
    /// No validator panics on arbitrary input, and the label ⊂ subdomain relations hold.
    #[test]
    fn validators_never_panic(s in "\\PC{0,80}|[-a-z0-9._/*%]{0,300}") {
        let p = FieldPath::new("f");
        let label_ok = is_dns1123_label(&s).is_empty();
        let subdomain_ok = is_dns1123_subdomain(&s).is_empty();
        proptest::prop_assert!(!label_ok || subdomain_ok, "label {s:?} must be a subdomain");
        if is_dns1035_label(&s).is_empty() {
            proptest::prop_assert!(label_ok, "1035 label {s:?} must be a 1123 label");
        }
        if subdomain_ok {
            proptest::prop_assert!(is_dns1123_subdomain_with_underscore(&s).is_empty());
        }
        let _ = is_qualified_name(&s);
        let _ = is_valid_label_value(&s);
        let _ = is_valid_port_name(&s);
        let _ = is_valid_percent(&s);
        let _ = is_http_header_name(&s);
        let _ = is_env_var_name(&s);
        let _ = is_relaxed_env_var_name(&s);
        let _ = is_config_map_key(&s);
        let _ = is_c_identifier(&s);
        let _ = is_wildcard_dns1123_subdomain(&s);
        let _ = is_fully_qualified_name(&p, &s);
        let _ = is_fully_qualified_domain_name(&p, &s);
        let _ = is_domain_prefixed_path(&p, &s);
        let _ = is_domain_prefixed_key(&p, &s);
        let _ = is_valid_path_segment_name(&s);
        let masked = mask_trailing_dash(&s);
        proptest::prop_assert!(!masked.ends_with('-') || masked == "-");
        let _ = name_is_dns_subdomain(&s, true);
        let _ = name_is_dns_label(&s, true);
        let _ = name_is_dns1035_label(&s, true);
        let _ = kybern_core::validation::cron::parse_schedule(&s);
        let _ = kybern_core::validation::network::validate_ip(&s, &p);
        let _ = kybern_core::validation::network::validate_cidr(&s, &p);
    }

    /// The cron parser never panics on schedule-shaped input.
    #[test]
    fn cron_never_panics(s in "[-0-9*/,?@a-zA-Z ]{0,40}") {
        let _ = kybern_core::validation::cron::parse_schedule(&s);
    }
}
