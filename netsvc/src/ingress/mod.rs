//! Ingress routing as the Ingress API specifies it: which Ingresses a controller serves
//! (IngressClass), and which Service backend a request's host and path go to.
//!
//! - Host: an exact host matches equal hosts (case-insensitive); `*.foo.com` matches exactly
//!   one extra label (`bar.foo.com`, not `foo.com` nor `a.bar.foo.com`); a rule without host
//!   matches every host. Exact hosts are preferred to wildcards, wildcards to host-less rules.
//! - Paths: `Exact` matches the path exactly; `Prefix` matches element-wise on `/`-separated
//!   elements, ignoring a trailing `/` (`/foo` matches `/foo`, `/foo/` and `/foo/bar`, not
//!   `/foobar`); `ImplementationSpecific` is treated as `Prefix` here (documented choice).
//!   The longest matching path wins, `Exact` before `Prefix` at equal length.
//! - No matching rule: the Ingress's `defaultBackend`, if any.

use kybern_core::api::networking::v1::{Ingress, IngressBackend, IngressClass};

/// Annotation marking the default IngressClass.
pub const ANNOTATION_DEFAULT_CLASS: &str = "ingressclass.kubernetes.io/is-default-class";
/// The legacy class annotation on Ingresses.
pub const ANNOTATION_LEGACY_CLASS: &str = "kubernetes.io/ingress.class";

/// A resolved Service backend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceBackend {
    /// Namespace (the Ingress's).
    pub namespace: String,
    /// Service name.
    pub service: String,
    /// Port: a number or a port name.
    pub port: BackendPort,
}

/// A backend's Service port.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BackendPort {
    /// By number.
    Number(i32),
    /// By name.
    Name(String),
}

/// The default IngressClass: the one annotated `is-default-class: "true"` (when several are,
/// upstream's admission refuses to pick; so do we: `None`).
pub fn default_class(classes: &[IngressClass]) -> Option<&IngressClass> {
    let mut defaults = classes.iter().filter(|c| {
        c.metadata
            .annotations
            .get(ANNOTATION_DEFAULT_CLASS)
            .map(String::as_str)
            == Some("true")
    });
    let first = defaults.next()?;
    defaults.next().is_none().then_some(first)
}

/// The class name an Ingress belongs to: `spec.ingressClassName`, else the legacy
/// annotation, else the default class.
pub fn ingress_class_of<'a>(ingress: &'a Ingress, classes: &'a [IngressClass]) -> Option<&'a str> {
    ingress
        .spec
        .as_ref()
        .and_then(|s| s.ingress_class_name.as_deref())
        .or_else(|| {
            ingress
                .metadata
                .annotations
                .get(ANNOTATION_LEGACY_CLASS)
                .map(String::as_str)
        })
        .or_else(|| default_class(classes).and_then(|c| c.metadata.name.as_deref()))
}

/// The Ingresses served by the controller named `controller` (`spec.controller` of a class).
pub fn ingresses_for_controller<'a>(
    ingresses: &'a [Ingress],
    classes: &'a [IngressClass],
    controller: &str,
) -> Vec<&'a Ingress> {
    ingresses
        .iter()
        .filter(|ing| {
            ingress_class_of(ing, classes).is_some_and(|name| {
                classes.iter().any(|c| {
                    c.metadata.name.as_deref() == Some(name)
                        && c.spec.as_ref().and_then(|s| s.controller.as_deref()) == Some(controller)
                })
            })
        })
        .collect()
}

/// How well a rule's host matches: 2 exact, 1 wildcard, 0 host-less; `None` no match.
pub fn host_match(rule_host: Option<&str>, host: &str) -> Option<u8> {
    let host = host
        .split(':')
        .next()
        .unwrap_or(host)
        .trim_end_matches('.')
        .to_ascii_lowercase();
    match rule_host.filter(|h| !h.is_empty()) {
        None => Some(0),
        Some(h) => {
            let h = h.to_ascii_lowercase();
            if let Some(suffix) = h.strip_prefix("*.") {
                let (first, rest) = host.split_once('.')?;
                (!first.is_empty() && rest == suffix).then_some(1)
            } else {
                (h == host).then_some(2)
            }
        }
    }
}

/// Whether `path` matches a rule path of `path_type`; `Some(specificity)` when it does
/// (longer is more specific; Exact ranks above Prefix at equal length).
pub fn path_match(path_type: &str, rule_path: &str, path: &str) -> Option<(usize, u8)> {
    match path_type {
        "Exact" => (rule_path == path).then_some((rule_path.len(), 1)),
        _ => {
            let elems = |p: &str| -> Vec<String> {
                p.split('/')
                    .filter(|e| !e.is_empty())
                    .map(str::to_owned)
                    .collect()
            };
            let want = elems(rule_path);
            let got = elems(path);
            (got.len() >= want.len() && got[..want.len()] == want[..])
                .then_some((rule_path.trim_end_matches('/').len(), 0))
        }
    }
}

fn backend_of(ns: &str, b: &IngressBackend) -> Option<ServiceBackend> {
    let svc = b.service.as_ref()?;
    let port = svc.port.as_ref()?;
    let port = match (&port.name, port.number) {
        (Some(n), _) if !n.is_empty() => BackendPort::Name(n.clone()),
        (_, Some(n)) => BackendPort::Number(n),
        _ => return None,
    };
    Some(ServiceBackend {
        namespace: ns.to_owned(),
        service: svc.name.clone(),
        port,
    })
}

/// Routes a request (`host`, `path`) over a set of Ingresses (those one controller serves):
/// the best host match, then the longest path; else the first Ingress default backend.
pub fn route(ingresses: &[&Ingress], host: &str, path: &str) -> Option<ServiceBackend> {
    let mut best: Option<((u8, usize, u8), ServiceBackend)> = None;
    for ing in ingresses {
        let ns = ing.metadata.namespace.as_deref().unwrap_or("default");
        let Some(spec) = ing.spec.as_ref() else {
            continue;
        };
        for rule in &spec.rules {
            let Some(h) = host_match(rule.host.as_deref(), host) else {
                continue;
            };
            for p in rule.http.iter().flat_map(|http| &http.paths) {
                let rule_path = p.path.as_deref().unwrap_or("/");
                let Some((len, exact)) = path_match(&p.path_type, rule_path, path) else {
                    continue;
                };
                let score = (h, len, exact);
                if best.as_ref().is_none_or(|(s, _)| score > *s)
                    && let Some(b) = backend_of(ns, &p.backend)
                {
                    best = Some((score, b));
                }
            }
        }
    }
    best.map(|(_, b)| b).or_else(|| {
        ingresses.iter().find_map(|ing| {
            let ns = ing.metadata.namespace.as_deref().unwrap_or("default");
            ing.spec
                .as_ref()?
                .default_backend
                .as_ref()
                .and_then(|b| backend_of(ns, b))
        })
    })
}
