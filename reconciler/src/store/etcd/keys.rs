//! etcd key layout: upstream's `/registry/...` keys under an optional prefix.

use kybern_core::ApiResource;

/// Builds keys under one store prefix.
#[derive(Clone, Copy, Debug)]
pub(super) struct Keys<'a> {
    pub(super) prefix: &'a str,
}

impl Keys<'_> {
    /// `<prefix>/registry/`: every key of this store is below it.
    pub(super) fn root(&self) -> String {
        format!("{}/registry/", self.prefix)
    }

    /// The range a list or watch reads: every object of a kind
    /// (`<prefix>/registry/[<group>/]<resource>/`), or of one namespace of it.
    pub(super) fn range(&self, resource: &ApiResource, namespace: Option<&str>) -> String {
        self.key(resource, namespace, "")
    }

    /// One object's key (the namespace is ignored for cluster-scoped kinds).
    pub(super) fn object(
        &self,
        resource: &ApiResource,
        namespace: Option<&str>,
        name: &str,
    ) -> String {
        self.key(resource, namespace, name)
    }

    /// `<prefix>/registry/[<group>/]<resource>/[<namespace>/]<name>`, built in one
    /// allocation of the exact size (it runs on every read and write).
    fn key(&self, resource: &ApiResource, namespace: Option<&str>, name: &str) -> String {
        const REGISTRY: &str = "/registry/";
        let group: &str = &resource.gvk.group;
        let namespace = namespace.filter(|_| resource.is_namespaced());
        let len = self.prefix.len()
            + REGISTRY.len()
            + if group.is_empty() { 0 } else { group.len() + 1 }
            + resource.plural.len()
            + 1
            + namespace.map_or(0, |ns| ns.len() + 1)
            + name.len();
        let mut k = String::with_capacity(len);
        k.push_str(self.prefix);
        k.push_str(REGISTRY);
        if !group.is_empty() {
            k.push_str(group);
            k.push('/');
        }
        k.push_str(&resource.plural);
        k.push('/');
        if let Some(ns) = namespace {
            k.push_str(ns);
            k.push('/');
        }
        k.push_str(name);
        k
    }
}

/// The end of the range of keys starting with `prefix` (etcd's `GetPrefixRangeEnd`).
pub(super) fn prefix_end(prefix: &str) -> Vec<u8> {
    let mut end = prefix.as_bytes().to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return end;
        }
    }
    vec![0]
}

#[cfg(test)]
mod tests {
    use super::*;
    use kybern_core::Resource;
    use kybern_core::api::apps::v1::Deployment;
    use kybern_core::api::core::v1::{ConfigMap, Node};

    #[test]
    fn layout() {
        let k = Keys { prefix: "/t" };
        let cases: Vec<(String, &str)> = vec![
            (
                k.object(&ConfigMap::api_resource(&()), Some("ns"), "a"),
                "/t/registry/configmaps/ns/a",
            ),
            (
                k.object(&Deployment::api_resource(&()), Some("ns"), "web"),
                "/t/registry/apps/deployments/ns/web",
            ),
            (
                k.object(&Node::api_resource(&()), Some("ignored"), "n1"),
                "/t/registry/nodes/n1",
            ),
            (
                k.range(&ConfigMap::api_resource(&()), None),
                "/t/registry/configmaps/",
            ),
            (Keys { prefix: "" }.root(), "/registry/"),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
        assert_eq!(prefix_end("/a/"), b"/a0".to_vec());
        assert_eq!(prefix_end("a\u{7f}"), b"a\x80".to_vec());
    }
}
