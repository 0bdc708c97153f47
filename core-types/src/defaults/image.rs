//! Image references: the tag upstream reads from a container image to default `imagePullPolicy`.
//!
//! Upstream (`pkg/util/parsers.ParseImageName` over `distribution/reference.ParseNormalizedNamed`)
//! normalizes the reference (`nginx` → `docker.io/library/nginx`), then reports its tag; a
//! reference with neither tag nor digest has the implicit tag `latest`. A reference that does not
//! parse yields no tag at all. `SetDefaults_Container` then picks `Always` when the tag is
//! `latest` and `IfNotPresent` otherwise — so digests, explicit tags other than `latest`, and
//! references that fail to parse (an empty image, upper-case repository names, a malformed
//! digest) all get `IfNotPresent`.
//!
//! ```
//! use kybern_core::defaults::image::{default_pull_policy, image_tag};
//!
//! assert_eq!(image_tag("nginx"), Some("latest"));
//! assert_eq!(image_tag("registry:5000/nginx:1.25"), Some("1.25"));
//! assert_eq!(image_tag("NGINX"), None); // repository names must be lower case
//! assert_eq!(default_pull_policy("nginx"), "Always");
//! assert_eq!(default_pull_policy("nginx:1.25"), "IfNotPresent");
//! ```

/// `imagePullPolicy: Always`.
pub const PULL_ALWAYS: &str = "Always";
/// `imagePullPolicy: IfNotPresent`.
pub const PULL_IF_NOT_PRESENT: &str = "IfNotPresent";

/// The implicit tag of a reference that has neither a tag nor a digest.
const DEFAULT_TAG: &str = "latest";
/// Upstream's limit on the length of a fully qualified repository name.
const NAME_TOTAL_LENGTH_MAX: usize = 255;
/// The registry a reference without a domain is normalized to.
const DEFAULT_DOMAIN: &str = "docker.io";
/// Upstream's limit on the length of a tag.
const TAG_LENGTH_MAX: usize = 128;

/// The pull policy upstream defaults a container (or image volume) to for `image`:
/// `Always` when its tag is `latest` (written or implicit), `IfNotPresent` otherwise.
pub fn default_pull_policy(image: &str) -> &'static str {
    if image_tag(image) == Some(DEFAULT_TAG) {
        PULL_ALWAYS
    } else {
        PULL_IF_NOT_PRESENT
    }
}

/// The tag upstream's `ParseImageName` reports for `image`.
///
/// `Some("latest")` when the reference has neither tag nor digest, `Some("")` when it has only
/// a digest, `Some(tag)` when it has a tag, and `None` when the reference does not parse.
pub fn image_tag(image: &str) -> Option<&str> {
    // A bare 64-character hex string is an image ID, not a repository name.
    if image.len() == 64
        && image
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    {
        return None;
    }
    let (domain, remainder) = split_domain(image);
    let (name_and_tag, digest) = match remainder.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (remainder, None),
    };
    let (path, tag) = match name_and_tag.split_once(':') {
        Some((p, t)) => (p, Some(t)),
        None => (name_and_tag, None),
    };
    // ParseNormalizedNamed rejects an upper-case repository path (tag excluded).
    if path.bytes().any(|b| b.is_ascii_uppercase()) {
        return None;
    }
    if let Some(domain) = domain
        && !valid_domain(domain)
    {
        return None;
    }
    let path_ok = !path.is_empty() && path.split('/').all(valid_path_component);
    if !path_ok {
        return None;
    }
    let domain_len = domain.map_or(DEFAULT_DOMAIN.len(), str::len);
    // A name without a slash is an official image: `library/` is prepended.
    let library = if domain.is_none() && !path.contains('/') {
        "library/".len()
    } else {
        0
    };
    if domain_len + 1 + library + path.len() > NAME_TOTAL_LENGTH_MAX {
        return None;
    }
    if let Some(tag) = tag
        && !valid_tag(tag)
    {
        return None;
    }
    if let Some(digest) = digest
        && !valid_digest(digest)
    {
        return None;
    }
    match (tag, digest) {
        (Some(tag), _) => Some(tag),
        (None, Some(_)) => Some(""),
        (None, None) => Some(DEFAULT_TAG),
    }
}

/// Splits off the registry domain: the first `/`-separated part is a domain when it contains
/// `.` or `:`, is `localhost`, or has upper-case letters (repository paths cannot).
fn split_domain(image: &str) -> (Option<&str>, &str) {
    match image.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.bytes().any(|b| b.is_ascii_uppercase()) =>
        {
            (Some(first), rest)
        }
        _ => (None, image),
    }
}

/// `host[:port]` where host is a dotted DNS-ish name or a bracketed IPv6 address.
fn valid_domain(domain: &str) -> bool {
    let (host, port) = if let Some(rest) = domain.strip_prefix('[') {
        let Some((inner, after)) = rest.split_once(']') else {
            return false;
        };
        if inner.is_empty() || !inner.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return false;
        }
        match after {
            "" => return true,
            _ => match after.strip_prefix(':') {
                Some(port) => ("", Some(port)),
                None => return false,
            },
        }
    } else {
        match domain.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (domain, None),
        }
    };
    if let Some(port) = port
        && (port.is_empty() || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    if domain.starts_with('[') {
        return true;
    }
    !host.is_empty() && host.split('.').all(valid_domain_component)
}

/// `[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]`.
fn valid_domain_component(c: &str) -> bool {
    let b = c.as_bytes();
    match (b.first(), b.last()) {
        (Some(f), Some(l)) => {
            f.is_ascii_alphanumeric()
                && l.is_ascii_alphanumeric()
                && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
        }
        _ => false,
    }
}

/// `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
fn valid_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    let mut i = 0;
    let mut need_alnum = true;
    while i < b.len() {
        if alnum(b[i]) {
            while i < b.len() && alnum(b[i]) {
                i += 1;
            }
            need_alnum = false;
            continue;
        }
        if need_alnum {
            return false;
        }
        // A separator: `.`, `_`, `__`, or one or more `-`.
        match b[i] {
            b'.' => i += 1,
            b'_' => {
                i += 1;
                if i < b.len() && b[i] == b'_' {
                    i += 1;
                }
            }
            b'-' => {
                while i < b.len() && b[i] == b'-' {
                    i += 1;
                }
            }
            _ => return false,
        }
        need_alnum = true;
    }
    !need_alnum
}

/// `[\w][\w.-]{0,127}`.
fn valid_tag(tag: &str) -> bool {
    let word = |x: u8| x.is_ascii_alphanumeric() || x == b'_';
    let b = tag.as_bytes();
    match b.first() {
        Some(&f) if word(f) => {
            b.len() <= TAG_LENGTH_MAX && b.iter().all(|&x| word(x) || x == b'.' || x == b'-')
        }
        _ => false,
    }
}

/// `algorithm:hex` where the algorithm is one upstream knows (`sha256`, `sha384`, `sha512`)
/// and the hex part has that algorithm's length in lower case.
fn valid_digest(digest: &str) -> bool {
    let Some((algorithm, hex)) = digest.split_once(':') else {
        return false;
    };
    let want = match algorithm {
        "sha256" => 64,
        "sha384" => 96,
        "sha512" => 128,
        _ => return false,
    };
    hex.len() == want && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags() {
        let sha = "sha256:".to_owned() + &"a".repeat(64);
        let cases: Vec<(String, Option<&str>)> = vec![
            ("nginx".into(), Some("latest")),
            ("nginx:latest".into(), Some("latest")),
            ("nginx:1.25".into(), Some("1.25")),
            (format!("nginx@{sha}"), Some("")),
            (format!("nginx:latest@{sha}"), Some("latest")),
            ("nginx:latest@sha256:abc".into(), None),
            ("registry:5000/nginx".into(), Some("latest")),
            ("registry:5000/team/nginx:v1".into(), Some("v1")),
            ("localhost/nginx".into(), Some("latest")),
            ("[::1]:5000/nginx:x".into(), Some("x")),
            (
                "my-registry.example.com/a/b__c/d-e.f:tag_1".into(),
                Some("tag_1"),
            ),
            ("".into(), None),
            ("NGINX".into(), None),
            ("nginx:".into(), None),
            ("nginx:.bad".into(), None),
            ("-nginx".into(), None),
            ("nginx/".into(), None),
            ("a".repeat(64), None),
            ("a".repeat(300), None),
        ];
        for (image, want) in cases {
            assert_eq!(image_tag(&image), want, "image {image:?}");
        }
    }
}
