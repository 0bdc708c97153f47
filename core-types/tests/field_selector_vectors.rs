//! Runs every vector of `shared/vectors/field_selectors.json` through the field selector API.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use kybern_core::fields::{self, FieldSelector, UnescapeError};
use serde_json::Value;

const FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../shared/vectors/field_selectors.json"
);

fn load() -> Value {
    let text = std::fs::read_to_string(FILE)
        .unwrap_or_else(|e| panic!("vectors file {FILE} is missing or unreadable: {e}"));
    serde_json::from_str(&text).expect("vectors file is not JSON")
}

fn map_of(v: &Value) -> BTreeMap<String, String> {
    serde_json::from_value(v.clone()).unwrap()
}

/// Runs one group: every vector through `f`, panicking with the vector's origin on failure.
fn check(doc: &Value, group: &str, f: impl Fn(&Value, &str)) -> usize {
    let vectors = doc[group]
        .as_array()
        .unwrap_or_else(|| panic!("group {group} missing from {FILE}"));
    for v in vectors {
        let n = format!(
            "[from {} / {}]",
            v["from"].as_str().unwrap_or("?"),
            v.get("selector")
                .or(v.get("term"))
                .map(|s| s.to_string())
                .unwrap_or_default()
        );
        f(v, &n);
    }
    vectors.len()
}

fn parse_valid(v: &Value, n: &str) {
    let sel = FieldSelector::parse(v["selector"].as_str().unwrap())
        .unwrap_or_else(|e| panic!("{n}: {e}"));
    assert_eq!(sel.to_string(), v["canonical"].as_str().unwrap(), "{n}");
    assert_eq!(
        FieldSelector::parse(&sel.to_string()).unwrap(),
        sel,
        "{n}: re-parse"
    );
}

fn parse_error(v: &Value, n: &str) {
    assert!(v["parse_error"].as_bool().unwrap(), "{n}: vector shape");
    let err = FieldSelector::parse(v["selector"].as_str().unwrap())
        .expect_err(&format!("{n}: parsed but should not"));
    assert!(err.to_string().contains("invalid"), "{n}: message {err}");
}

fn match_vector(v: &Value, n: &str) {
    let sel = FieldSelector::parse(v["selector"].as_str().unwrap()).unwrap();
    let fields = map_of(&v["fields"]);
    assert_eq!(sel.matches(&fields), v["matches"].as_bool().unwrap(), "{n}");
}

fn set_selector_match(v: &Value, n: &str) {
    let sel = FieldSelector::from_set(&map_of(&v["selector_set"]));
    let fields = map_of(&v["fields"]);
    assert_eq!(sel.matches(&fields), v["matches"].as_bool().unwrap(), "{n}");
}

fn split_terms(v: &Value, n: &str) {
    let got = fields::split_terms(v["selector"].as_str().unwrap());
    let want: Vec<String> = match &v["terms"] {
        Value::Null => Vec::new(),
        t => serde_json::from_value(t.clone()).unwrap(),
    };
    assert_eq!(got, want, "{n}");
}

fn split_term(v: &Value, n: &str) {
    let got = fields::split_term(v["term"].as_str().unwrap());
    if v["ok"].as_bool().unwrap() {
        let (l, o, r) = got.unwrap_or_else(|| panic!("{n}: no split"));
        assert_eq!(l, v["lhs"].as_str().unwrap(), "{n}: lhs");
        assert_eq!(o, v["op"].as_str().unwrap(), "{n}: op");
        assert_eq!(r, v["rhs"].as_str().unwrap(), "{n}: rhs");
    } else {
        assert_eq!(got, None, "{n}");
    }
}

fn escape_value(v: &Value, n: &str) {
    let raw = v["unescaped"].as_str().unwrap();
    let escaped = v["escaped"].as_str().unwrap();
    assert_eq!(fields::escape_value(raw), escaped, "{n}: escape");
    assert_eq!(
        fields::unescape_value(escaped).unwrap(),
        raw,
        "{n}: unescape"
    );
}

fn unescape_invalid(v: &Value, n: &str) {
    let input = v["value"].as_str().or(v["escaped"].as_str()).unwrap();
    assert!(
        fields::unescape_value(input).is_err(),
        "{n}: {input:?} accepted"
    );
}

fn transform(v: &Value, n: &str) {
    let sel = FieldSelector::parse(v["selector"].as_str().unwrap()).unwrap();
    let spec = &v["transform"];
    let out = sel
        .transform(|field, value| -> Result<(String, String), String> {
            Ok(match spec {
                Value::String(s) if s == "identity" => (field.to_owned(), value.to_owned()),
                Value::String(s) if s == "drop_all" => (String::new(), String::new()),
                Value::Object(o) if o.contains_key("drop") => {
                    let drop: Vec<String> = serde_json::from_value(o["drop"].clone()).unwrap();
                    if drop.iter().any(|d| d == field) {
                        (String::new(), String::new())
                    } else {
                        (field.to_owned(), value.to_owned())
                    }
                }
                Value::Object(o) if o.contains_key("rename") => match o["rename"].get(field) {
                    Some(to) => (
                        to[0].as_str().unwrap().to_owned(),
                        to[1].as_str().unwrap().to_owned(),
                    ),
                    None => (field.to_owned(), value.to_owned()),
                },
                other => panic!("{n}: unknown transform {other}"),
            })
        })
        .unwrap();
    assert_eq!(out.to_string(), v["result"].as_str().unwrap(), "{n}");
    assert_eq!(out.is_empty(), v["empty"].as_bool().unwrap(), "{n}: empty");
}

fn requires_exact_match(v: &Value, n: &str) {
    let sel = FieldSelector::parse(v["selector"].as_str().unwrap()).unwrap();
    let got = sel.requires_exact_match(v["field"].as_str().unwrap());
    if v["found"].as_bool().unwrap() {
        assert_eq!(got, Some(v["value"].as_str().unwrap()), "{n}");
    } else {
        assert_eq!(got, None, "{n}");
    }
}

#[test]
fn every_group_is_covered() {
    let doc = load();
    let known = [
        "source",
        "description",
        "parse_valid",
        "parse_error",
        "match",
        "set_selector_match",
        "split_terms",
        "split_term",
        "escape_value",
        "unescape_invalid",
        "transform",
        "requires_exact_match",
    ];
    for key in doc.as_object().unwrap().keys() {
        assert!(
            known.contains(&key.as_str()),
            "group {key} in {FILE} has no test"
        );
    }
}

#[test]
fn field_selector_vectors() {
    let doc = load();
    let mut total = 0;
    total += check(&doc, "parse_valid", parse_valid);
    total += check(&doc, "parse_error", parse_error);
    total += check(&doc, "match", match_vector);
    total += check(&doc, "set_selector_match", set_selector_match);
    total += check(&doc, "split_terms", split_terms);
    total += check(&doc, "split_term", split_term);
    total += check(&doc, "escape_value", escape_value);
    total += check(&doc, "unescape_invalid", unescape_invalid);
    total += check(&doc, "transform", transform);
    total += check(&doc, "requires_exact_match", requires_exact_match);
    assert!(total >= 50, "only {total} field selector vectors ran");
}

/// Upstream behaviour beyond the vector file: canonical order, `==`, escaping errors, absent fields.
#[test]
fn upstream_details() {
    let sel = FieldSelector::parse("z=1,a==2,m!=3").unwrap();
    assert_eq!(sel.to_string(), "a=2,m!=3,z=1");
    // A missing field reads as "", so `x=` matches it and `x!=` does not.
    let none = BTreeMap::<String, String>::new();
    assert!(FieldSelector::parse("x=").unwrap().matches(&none));
    assert!(!FieldSelector::parse("x!=").unwrap().matches(&none));
    assert!(FieldSelector::parse("x!=a").unwrap().matches(&none));
    assert!(FieldSelector::everything().matches(&none));

    let cases: [(&str, UnescapeError); 4] = [
        (
            "a\\b",
            UnescapeError::InvalidEscapeSequence {
                sequence: "\\b".into(),
            },
        ),
        (
            "ab\\",
            UnescapeError::InvalidEscapeSequence {
                sequence: "\\".into(),
            },
        ),
        ("a=b", UnescapeError::UnescapedCharacter { character: '=' }),
        ("a,b", UnescapeError::UnescapedCharacter { character: ',' }),
    ];
    for (input, want) in cases {
        assert_eq!(
            fields::unescape_value(input).unwrap_err(),
            want,
            "{input:?}"
        );
    }
    let e = FieldSelector::parse("k=a\\b").unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid field selector: invalid escape sequence: \\b"
    );
    let e = FieldSelector::parse("x=a,b").unwrap_err();
    assert_eq!(
        e.to_string(),
        "invalid selector: 'x=a,b'; can't understand 'b'"
    );

    let value = "a,b=c\\d";
    let sel = FieldSelector::one_term_equal("spec.nodeName", value);
    assert_eq!(FieldSelector::parse(&sel.to_string()).unwrap(), sel);
    let f = [("spec.nodeName", value)];
    assert!(sel.matches(&f));
    assert!(!FieldSelector::one_term_not_equal("spec.nodeName", value).matches(&f));
    let both = FieldSelector::and([
        FieldSelector::one_term_equal("a", "1"),
        FieldSelector::one_term_not_equal("b", "2"),
    ]);
    assert_eq!(both.to_string(), "a=1,b!=2");
    assert_eq!(both.requires_exact_match("a"), Some("1"));
    assert_eq!(both.requires_exact_match("b"), None);
}
