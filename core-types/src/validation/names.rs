//! Name, key and value syntax checks with upstream's messages (`k8s.io/apimachinery/pkg/util/validation`).
//!
//! Every `is_*` function returns the list of problems (empty when valid) worded exactly as
//! upstream's `Is*` functions, so callers can wrap each message in a [`FieldError`]. The checks are
//! hand-written byte scanners equivalent to upstream's regular expressions: they never allocate
//! when the value is valid.

use super::field::{ErrorList, FieldError, FieldPath};

/// Maximum length of a DNS (RFC 1123) label.
pub const DNS1123_LABEL_MAX_LENGTH: usize = 63;
/// Maximum length of a DNS (RFC 1123) subdomain.
pub const DNS1123_SUBDOMAIN_MAX_LENGTH: usize = 253;
/// Maximum length of a DNS (RFC 1035) label.
pub const DNS1035_LABEL_MAX_LENGTH: usize = 63;
/// Maximum length of a label value (and of the name part of a qualified name).
pub const LABEL_VALUE_MAX_LENGTH: usize = 63;
/// Maximum length of the name part of a qualified name / label key.
pub const QUALIFIED_NAME_MAX_LENGTH: usize = 63;
/// Maximum length of an IANA service name (a named port).
pub const PORT_NAME_MAX_LENGTH: usize = 15;

/// Regex (for messages) of an RFC 1123 label.
pub const DNS1123_LABEL_FMT: &str = "[a-z0-9]([-a-z0-9]*[a-z0-9])?";
/// Regex (for messages) of an RFC 1123 subdomain.
pub const DNS1123_SUBDOMAIN_FMT: &str =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_UNDERSCORE_FMT: &str =
    "_?[a-z0-9]([-_a-z0-9]*[a-z0-9])?(\\._?[a-z0-9]([-_a-z0-9]*[a-z0-9])?)*";
/// Regex (for messages) of an RFC 1035 label.
pub const DNS1035_LABEL_FMT: &str = "[a-z]([-a-z0-9]*[a-z0-9])?";
const WILDCARD_DNS1123_SUBDOMAIN_FMT: &str =
    "\\*\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
/// Regex (for messages) of the name part of a qualified name (label key).
pub const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const PERCENT_FMT: &str = "[0-9]+%";
const HTTP_HEADER_NAME_FMT: &str = "[-A-Za-z0-9]+";
const ENV_VAR_NAME_FMT: &str = "[-._a-zA-Z][-._a-zA-Z0-9]*";
const CONFIG_MAP_KEY_FMT: &str = "[-._a-zA-Z0-9]+";
const HTTP_PATH_FMT: &str = "[A-Za-z0-9/\\-._~%!$&'()*+,;=:]+";
const C_IDENTIFIER_FMT: &str = "[A-Za-z_][A-Za-z0-9_]*";

const DNS1123_LABEL_ERR: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_ERR: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_UNDERSCORE_ERR: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '_', '-' or '.', and must start and end with an alphanumeric character";
const DNS1035_LABEL_ERR: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
const WILDCARD_DNS1123_SUBDOMAIN_ERR: &str = "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character";
const QUALIFIED_NAME_ERR: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_ERR: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const PERCENT_ERR: &str =
    "a valid percent string must be a numeric string followed by an ending '%'";
const HTTP_HEADER_NAME_ERR: &str =
    "a valid HTTP header must consist of alphanumeric characters or '-'";
const ENV_VAR_NAME_ERR: &str = "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit";
const RELAXED_ENV_VAR_NAME_ERR: &str = "a valid environment variable name must consist only of printable ASCII characters other than '='";
const CONFIG_MAP_KEY_ERR: &str =
    "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";
const C_IDENTIFIER_ERR: &str = "a valid C identifier must start with alphabetic character or '_', followed by a string of alphanumeric characters or '_'";

/// Upstream's `MaxLenError`: `must be no more than N characters`.
pub fn max_len_error(length: usize) -> String {
    format!("must be no more than {length} characters")
}

/// Upstream's `EmptyError`: `must be non-empty`.
pub fn empty_error() -> &'static str {
    "must be non-empty"
}

/// Upstream's `InclusiveRangeError`: `must be between LO and HI, inclusive`.
pub fn inclusive_range_error(lo: i64, hi: i64) -> String {
    format!("must be between {lo} and {hi}, inclusive")
}

/// Upstream's `RegexError`: the message, examples and the regex the value must match
/// (including upstream's double space before each ` or`).
pub fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    let mut s = String::with_capacity(msg.len() + fmt.len() + 64);
    s.push_str(msg);
    if examples.is_empty() {
        s.push_str(" (regex used for validation is '");
    } else {
        s.push_str(" (e.g. ");
        for (i, e) in examples.iter().enumerate() {
            if i > 0 {
                s.push_str(" or ");
            }
            s.push('\'');
            s.push_str(e);
            s.push_str("', ");
        }
        s.push_str("regex used for validation is '");
    }
    s.push_str(fmt);
    s.push_str("')");
    s
}

// ---------------------------------------------------------------------------------------------
// Byte scanners (equivalent to upstream's anchored regular expressions).

#[inline]
fn is_lower_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`
fn scan_dns1123_label(s: &[u8]) -> bool {
    match (s.first(), s.last()) {
        (Some(&f), Some(&l)) if is_lower_alnum(f) && is_lower_alnum(l) => {
            s.iter().all(|&b| is_lower_alnum(b) || b == b'-')
        }
        _ => false,
    }
}

/// `label(\.label)*` with [`scan_dns1123_label`] labels.
fn scan_dns1123_subdomain(s: &[u8]) -> bool {
    !s.is_empty() && s.split(|&b| b == b'.').all(scan_dns1123_label)
}

/// `_?[a-z0-9]([-_a-z0-9]*[a-z0-9])?`
fn scan_dns1123_label_underscore(s: &[u8]) -> bool {
    let s = s.strip_prefix(b"_").unwrap_or(s);
    match (s.first(), s.last()) {
        (Some(&f), Some(&l)) if is_lower_alnum(f) && is_lower_alnum(l) => s
            .iter()
            .all(|&b| is_lower_alnum(b) || b == b'-' || b == b'_'),
        _ => false,
    }
}

/// `[a-z]([-a-z0-9]*[a-z0-9])?`
fn scan_dns1035_label(s: &[u8]) -> bool {
    match (s.first(), s.last()) {
        (Some(&f), Some(&l)) if f.is_ascii_lowercase() && is_lower_alnum(l) => {
            s.iter().all(|&b| is_lower_alnum(b) || b == b'-')
        }
        _ => false,
    }
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`
fn scan_qualified_name_part(s: &[u8]) -> bool {
    match (s.first(), s.last()) {
        (Some(&f), Some(&l)) if f.is_ascii_alphanumeric() && l.is_ascii_alphanumeric() => s
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.'),
        _ => false,
    }
}

/// Whether `value` matches upstream's RFC 1123 label regex (no length check).
pub fn matches_dns1123_label(value: &str) -> bool {
    scan_dns1123_label(value.as_bytes())
}

/// Whether `value` matches upstream's RFC 1123 subdomain regex (no length check).
pub fn matches_dns1123_subdomain(value: &str) -> bool {
    scan_dns1123_subdomain(value.as_bytes())
}

// ---------------------------------------------------------------------------------------------
// Is* functions.

/// Upstream's `IsDNS1123Label`: a lowercase RFC 1123 label of at most 63 characters.
pub fn is_dns1123_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_LABEL_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_LABEL_MAX_LENGTH));
    }
    if !scan_dns1123_label(value.as_bytes()) {
        if scan_dns1123_subdomain(value.as_bytes()) {
            errs.push("must not contain dots".to_owned());
        } else {
            errs.push(regex_error(
                DNS1123_LABEL_ERR,
                DNS1123_LABEL_FMT,
                &["my-name", "123-abc"],
            ));
        }
    }
    errs
}

/// Upstream's `IsDNS1123Subdomain`: a lowercase RFC 1123 subdomain of at most 253 characters.
pub fn is_dns1123_subdomain(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH));
    }
    if !scan_dns1123_subdomain(value.as_bytes()) {
        errs.push(regex_error(
            DNS1123_SUBDOMAIN_ERR,
            DNS1123_SUBDOMAIN_FMT,
            &["example.com"],
        ));
    }
    errs
}

/// Upstream's `IsDNS1123SubdomainWithUnderscore`: as a subdomain, but each label may start with
/// `_` and contain `_`.
pub fn is_dns1123_subdomain_with_underscore(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH));
    }
    let ok = !value.is_empty()
        && value
            .as_bytes()
            .split(|&b| b == b'.')
            .all(scan_dns1123_label_underscore);
    if !ok {
        errs.push(regex_error(
            DNS1123_SUBDOMAIN_UNDERSCORE_ERR,
            DNS1123_SUBDOMAIN_UNDERSCORE_FMT,
            &["example.com"],
        ));
    }
    errs
}

/// Upstream's `IsDNS1035Label`: a lowercase RFC 1035 label (starts with a letter), at most 63.
pub fn is_dns1035_label(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1035_LABEL_MAX_LENGTH {
        errs.push(max_len_error(DNS1035_LABEL_MAX_LENGTH));
    }
    if !scan_dns1035_label(value.as_bytes()) {
        errs.push(regex_error(
            DNS1035_LABEL_ERR,
            DNS1035_LABEL_FMT,
            &["my-name", "abc-123"],
        ));
    }
    errs
}

/// Upstream's `IsWildcardDNS1123Subdomain`: `*.` followed by an RFC 1123 subdomain.
pub fn is_wildcard_dns1123_subdomain(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH));
    }
    let ok = value
        .as_bytes()
        .strip_prefix(b"*.")
        .is_some_and(scan_dns1123_subdomain);
    if !ok {
        errs.push(regex_error(
            WILDCARD_DNS1123_SUBDOMAIN_ERR,
            WILDCARD_DNS1123_SUBDOMAIN_FMT,
            &["*.example.com"],
        ));
    }
    errs
}

/// Upstream's `IsQualifiedName` (= label key): an optional DNS subdomain prefix and `/`, then a
/// name of at most 63 alphanumerics, `-`, `_` or `.`, starting and ending alphanumeric.
pub fn is_qualified_name(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let mut parts = value.splitn(3, '/');
    let first = parts.next().unwrap_or("");
    let name = match (parts.next(), parts.next()) {
        (None, _) => first,
        (Some(name), None) => {
            if first.is_empty() {
                errs.push(format!("prefix part {}", empty_error()));
            } else {
                for m in is_dns1123_subdomain(first) {
                    errs.push(format!("prefix part {m}"));
                }
            }
            name
        }
        (Some(_), Some(_)) => {
            let mut m = String::from("a valid label key ");
            m.push_str(&regex_error(
                QUALIFIED_NAME_ERR,
                QUALIFIED_NAME_FMT,
                &["MyName", "my.name", "123-abc"],
            ));
            m.push_str(
                " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
            );
            errs.push(m);
            return errs;
        }
    };
    if name.is_empty() {
        errs.push(format!("name part {}", empty_error()));
    } else if name.len() > QUALIFIED_NAME_MAX_LENGTH {
        errs.push(format!(
            "name part {}",
            max_len_error(QUALIFIED_NAME_MAX_LENGTH)
        ));
    }
    if !scan_qualified_name_part(name.as_bytes()) {
        errs.push(format!(
            "name part {}",
            regex_error(
                QUALIFIED_NAME_ERR,
                QUALIFIED_NAME_FMT,
                &["MyName", "my.name", "123-abc"]
            )
        ));
    }
    errs
}

/// Upstream's `IsValidLabelValue`: empty, or at most 63 alphanumerics, `-`, `_` or `.`, starting
/// and ending alphanumeric.
pub fn is_valid_label_value(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.len() > LABEL_VALUE_MAX_LENGTH {
        errs.push(max_len_error(LABEL_VALUE_MAX_LENGTH));
    }
    if !value.is_empty() && !scan_qualified_name_part(value.as_bytes()) {
        errs.push(regex_error(
            LABEL_VALUE_ERR,
            LABEL_VALUE_FMT,
            &["MyValue", "my_value", "12345"],
        ));
    }
    errs
}

/// Upstream's `IsValidPortNum`: 1–65535.
pub fn is_valid_port_num(port: i64) -> Vec<String> {
    if (1..=65535).contains(&port) {
        Vec::new()
    } else {
        vec![inclusive_range_error(1, 65535)]
    }
}

/// Upstream's `IsInRange`: `min <= value <= max`.
pub fn is_in_range(value: i64, min: i64, max: i64) -> Vec<String> {
    if value >= min && value <= max {
        Vec::new()
    } else {
        vec![inclusive_range_error(min, max)]
    }
}

const MAX_ID: i64 = i32::MAX as i64;

/// Upstream's `IsValidGroupID`: 0–2147483647.
pub fn is_valid_group_id(gid: i64) -> Vec<String> {
    is_in_range(gid, 0, MAX_ID)
}

/// Upstream's `IsValidUserID`: 0–2147483647.
pub fn is_valid_user_id(uid: i64) -> Vec<String> {
    is_in_range(uid, 0, MAX_ID)
}

/// Upstream's `IsValidPortName` (an IANA_SVC_NAME): at most 15 characters of `[-a-z0-9]`, at
/// least one letter, no leading/trailing or doubled hyphen.
pub fn is_valid_port_name(port: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let b = port.as_bytes();
    if b.len() > PORT_NAME_MAX_LENGTH {
        errs.push(max_len_error(PORT_NAME_MAX_LENGTH));
    }
    if b.is_empty() || !b.iter().all(|&c| is_lower_alnum(c) || c == b'-') {
        errs.push(
            "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".to_owned(),
        );
    }
    if !b.iter().any(u8::is_ascii_lowercase) {
        errs.push("must contain at least one letter (a-z)".to_owned());
    }
    if b.windows(2).any(|w| w == b"--") {
        errs.push("must not contain consecutive hyphens".to_owned());
    }
    if b.first() == Some(&b'-') || b.last() == Some(&b'-') {
        errs.push("must not begin or end with a hyphen".to_owned());
    }
    errs
}

/// Upstream's `IsValidPercent`: digits followed by `%`.
pub fn is_valid_percent(percent: &str) -> Vec<String> {
    let ok = percent
        .as_bytes()
        .strip_suffix(b"%")
        .is_some_and(|d| !d.is_empty() && d.iter().all(u8::is_ascii_digit));
    if ok {
        Vec::new()
    } else {
        vec![regex_error(PERCENT_ERR, PERCENT_FMT, &["1%", "93%"])]
    }
}

/// Upstream's `IsHTTPHeaderName`: alphanumerics and `-`.
pub fn is_http_header_name(value: &str) -> Vec<String> {
    let b = value.as_bytes();
    if !b.is_empty() && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'-') {
        Vec::new()
    } else {
        vec![regex_error(
            HTTP_HEADER_NAME_ERR,
            HTTP_HEADER_NAME_FMT,
            &["X-Header-Name"],
        )]
    }
}

/// Upstream's `hasChDirPrefix`: `.`, `..` and a `..` prefix are forbidden.
fn has_chdir_prefix(value: &str, errs: &mut Vec<String>) {
    if value == "." {
        errs.push("must not be '.'".to_owned());
    } else if value == ".." {
        errs.push("must not be '..'".to_owned());
    } else if value.starts_with("..") {
        errs.push("must not start with '..'".to_owned());
    }
}

/// Upstream's `IsEnvVarName`: `[-._a-zA-Z][-._a-zA-Z0-9]*`, and not `.`/`..`/`..…`.
pub fn is_env_var_name(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let b = value.as_bytes();
    let ext = |c: u8| c.is_ascii_alphanumeric() || c == b'-' || c == b'.' || c == b'_';
    let ok = b
        .first()
        .is_some_and(|&f| !f.is_ascii_digit() && b.iter().all(|&c| ext(c)));
    if !ok {
        errs.push(regex_error(
            ENV_VAR_NAME_ERR,
            ENV_VAR_NAME_FMT,
            &["my.env-name", "MY_ENV.NAME", "MyEnvName1"],
        ));
    }
    has_chdir_prefix(value, &mut errs);
    errs
}

/// Upstream's `IsRelaxedEnvVarName`: non-empty, printable ASCII except `=`.
pub fn is_relaxed_env_var_name(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if value.is_empty() {
        errs.push(format!("environment variable name {}", empty_error()));
    }
    if value
        .bytes()
        .any(|c| !(b' '..=b'~').contains(&c) || c == b'=')
    {
        errs.push(RELAXED_ENV_VAR_NAME_ERR.to_owned());
    }
    errs
}

/// Upstream's `IsConfigMapKey`: at most 253 of alphanumerics, `-`, `_`, `.`; not `.`/`..`/`..…`.
pub fn is_config_map_key(value: &str) -> Vec<String> {
    let mut errs = Vec::new();
    let b = value.as_bytes();
    if b.len() > DNS1123_SUBDOMAIN_MAX_LENGTH {
        errs.push(max_len_error(DNS1123_SUBDOMAIN_MAX_LENGTH));
    }
    let ok = !b.is_empty()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.' || c == b'_');
    if !ok {
        errs.push(regex_error(
            CONFIG_MAP_KEY_ERR,
            CONFIG_MAP_KEY_FMT,
            &["key.name", "KEY_NAME", "key-name"],
        ));
    }
    has_chdir_prefix(value, &mut errs);
    errs
}

/// Upstream's `IsCIdentifier`: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_c_identifier(value: &str) -> Vec<String> {
    let b = value.as_bytes();
    let ok = b
        .first()
        .is_some_and(|&f| f.is_ascii_alphabetic() || f == b'_')
        && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_');
    if ok {
        Vec::new()
    } else {
        vec![regex_error(
            C_IDENTIFIER_ERR,
            C_IDENTIFIER_FMT,
            &["my_name", "MY_NAME", "MyName"],
        )]
    }
}

/// Upstream's `IsFullyQualifiedName`: a DNS subdomain with at least three dot-separated segments.
pub fn is_fully_qualified_name(path: &FieldPath, name: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    if name.is_empty() {
        errs.push(FieldError::required(path, ""));
        return errs;
    }
    let msgs = is_dns1123_subdomain(name);
    if !msgs.is_empty() {
        errs.push(FieldError::invalid(path, name, msgs.join(",")));
        return errs;
    }
    if name.split('.').count() < 3 {
        errs.push(FieldError::invalid(
            path,
            name,
            "should be a domain with at least three segments separated by dots",
        ));
    }
    errs
}

/// Upstream's `IsFullyQualifiedDomainName`: a DNS subdomain (trailing `.` allowed) with at least
/// two segments, each a DNS label.
pub fn is_fully_qualified_domain_name(path: &FieldPath, name: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    if name.is_empty() {
        errs.push(FieldError::required(path, ""));
        return errs;
    }
    let name = name.strip_suffix('.').unwrap_or(name);
    let msgs = is_dns1123_subdomain(name);
    if !msgs.is_empty() {
        errs.push(FieldError::invalid(path, name, msgs.join(",")));
        return errs;
    }
    if name.split('.').count() < 2 {
        errs.push(FieldError::invalid(
            path,
            name,
            "should be a domain with at least two segments separated by dots",
        ));
        return errs;
    }
    for label in name.split('.') {
        let msgs = is_dns1123_label(label);
        if !msgs.is_empty() {
            errs.push(FieldError::invalid(path, label, msgs.join(",")));
            return errs;
        }
    }
    errs
}

/// Upstream's `IsDomainPrefixedPath`: `<dns-subdomain>/<http path>`, e.g. `acme.io/foo`.
pub fn is_domain_prefixed_path(path: &FieldPath, dp_path: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    if dp_path.is_empty() {
        errs.push(FieldError::required(path, ""));
        return errs;
    }
    let Some((host, rest)) = dp_path
        .split_once('/')
        .filter(|(h, r)| !h.is_empty() && !r.is_empty())
    else {
        errs.push(FieldError::invalid(
            path,
            dp_path,
            "must be a domain-prefixed path (such as \"acme.io/foo\")",
        ));
        return errs;
    };
    for m in is_dns1123_subdomain(host) {
        errs.push(FieldError::invalid(path, host, m));
    }
    let path_ok = rest.bytes().all(|c| {
        c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'/' | b'-'
                    | b'.'
                    | b'_'
                    | b'~'
                    | b'%'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
            )
    });
    if !path_ok {
        errs.push(FieldError::invalid(
            path,
            rest,
            regex_error("Invalid path", HTTP_PATH_FMT, &[]),
        ));
    }
    errs
}

/// Upstream's `IsDomainPrefixedKey`: a qualified name that has a prefix (`acme.io/foo`).
pub fn is_domain_prefixed_key(path: &FieldPath, key: &str) -> ErrorList {
    let mut errs = ErrorList::new();
    if key.is_empty() {
        errs.push(FieldError::required(path, ""));
        return errs;
    }
    for m in is_qualified_name(key) {
        errs.push(FieldError::invalid(path, key, m));
    }
    if !errs.is_empty() {
        return errs;
    }
    if key.split('/').count() != 2 {
        errs.push(FieldError::invalid(
            path,
            key,
            "must be a domain-prefixed key (such as \"acme.io/foo\")",
        ));
    }
    errs
}

/// Upstream's `IsValidPathSegmentName`: not `.` or `..`, and no `/` or `%`.
pub fn is_valid_path_segment_name(name: &str) -> Vec<String> {
    if name == "." || name == ".." {
        return vec![format!("may not be '{name}'")];
    }
    is_valid_path_segment_prefix(name)
}

/// Upstream's `IsValidPathSegmentPrefix`: no `/` or `%`.
pub fn is_valid_path_segment_prefix(name: &str) -> Vec<String> {
    let mut errs = Vec::new();
    for bad in ["/", "%"] {
        if name.contains(bad) {
            errs.push(format!("may not contain '{bad}'"));
        }
    }
    errs
}

// ---------------------------------------------------------------------------------------------
// Name validators per kind (upstream's `ValidateNameFunc`s).

/// A name validator: `(name, is_generate_name_prefix) -> messages`, as upstream's
/// `ValidateNameFunc`. With `prefix`, a trailing `-` is allowed (the generated suffix follows).
pub type NameFn = fn(&str, bool) -> Vec<String>;

/// Upstream's `maskTrailingDash`: replaces a trailing `-` (and the character before it) by `a`
/// so a `generateName` prefix can be checked as a whole name.
pub fn mask_trailing_dash(name: &str) -> String {
    if name.len() > 1 && name.ends_with('-') {
        let cut = name[..name.len() - 1]
            .char_indices()
            .last()
            .map_or(0, |(i, _)| i);
        let mut s = String::with_capacity(cut + 1);
        s.push_str(&name[..cut]);
        s.push('a');
        s
    } else {
        name.to_owned()
    }
}

fn with_prefix(name: &str, prefix: bool, f: fn(&str) -> Vec<String>) -> Vec<String> {
    if prefix && name.len() > 1 && name.ends_with('-') {
        f(&mask_trailing_dash(name))
    } else {
        f(name)
    }
}

/// Upstream's `NameIsDNSSubdomain`.
pub fn name_is_dns_subdomain(name: &str, prefix: bool) -> Vec<String> {
    with_prefix(name, prefix, is_dns1123_subdomain)
}

/// Upstream's `NameIsDNSLabel`.
pub fn name_is_dns_label(name: &str, prefix: bool) -> Vec<String> {
    with_prefix(name, prefix, is_dns1123_label)
}

/// Upstream's `NameIsDNS1035Label`.
pub fn name_is_dns1035_label(name: &str, prefix: bool) -> Vec<String> {
    with_prefix(name, prefix, is_dns1035_label)
}

/// Upstream's `ValidatePathSegmentName` (used for RBAC object names).
pub fn name_is_path_segment(name: &str, prefix: bool) -> Vec<String> {
    if prefix {
        is_valid_path_segment_prefix(name)
    } else {
        is_valid_path_segment_name(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_like_upstream() {
        assert_eq!(
            is_dns1123_label("A"),
            vec![
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
            ]
        );
        assert_eq!(is_dns1123_label("a.b"), vec!["must not contain dots"]);
        assert_eq!(
            is_valid_port_num(0),
            vec!["must be between 1 and 65535, inclusive"]
        );
        assert_eq!(
            is_qualified_name("a/b/c"),
            vec![
                "a valid label key must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
            ]
        );
        assert_eq!(
            is_qualified_name("/a"),
            vec!["prefix part must be non-empty"]
        );
        assert!(is_dns1123_label("abc").is_empty());
    }
}
