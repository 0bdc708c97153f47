#!/usr/bin/env python3
"""Generate the typed Kubernetes kinds of kybern-core from the upstream v1.33 OpenAPI schema.

Reads ../shared/openapi/kubernetes-v1.33-definitions.json (JSON Schema, `$defs` keyed by the Go
type path) and writes Rust into core-types/src/api/: one module per API group and version, one
struct per object definition in the transitive `$ref` closure of the ROOT_KINDS and META_ROOTS
tables below. The output is formatted with `rustfmt --edition 2024` and committed.

    python3 tools/gen-api.py          # regenerate core-types/src/api/
    python3 tools/gen-api.py --check  # exit 1 if the committed files differ (CI)

Stdlib only. Adding a kind is one line in ROOT_KINDS.
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

# ---------------------------------------------------------------------------------------------
# The root kinds: (group, version, kind, plural, scope). Their `$ref` closure is generated.
# ---------------------------------------------------------------------------------------------
ROOT_KINDS = [
    ("", "v1", "Pod", "pods", "Namespaced"),
    ("", "v1", "Node", "nodes", "Cluster"),
    ("", "v1", "Namespace", "namespaces", "Cluster"),
    ("", "v1", "Service", "services", "Namespaced"),
    ("", "v1", "Endpoints", "endpoints", "Namespaced"),
    ("", "v1", "ConfigMap", "configmaps", "Namespaced"),
    ("", "v1", "Secret", "secrets", "Namespaced"),
    ("", "v1", "ServiceAccount", "serviceaccounts", "Namespaced"),
    ("", "v1", "PersistentVolume", "persistentvolumes", "Cluster"),
    ("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", "Namespaced"),
    ("", "v1", "Event", "events", "Namespaced"),
    ("", "v1", "ResourceQuota", "resourcequotas", "Namespaced"),
    ("", "v1", "LimitRange", "limitranges", "Namespaced"),
    ("", "v1", "Binding", "bindings", "Namespaced"),
    ("apps", "v1", "Deployment", "deployments", "Namespaced"),
    ("apps", "v1", "ReplicaSet", "replicasets", "Namespaced"),
    ("apps", "v1", "StatefulSet", "statefulsets", "Namespaced"),
    ("apps", "v1", "DaemonSet", "daemonsets", "Namespaced"),
    ("apps", "v1", "ControllerRevision", "controllerrevisions", "Namespaced"),
    ("batch", "v1", "Job", "jobs", "Namespaced"),
    ("batch", "v1", "CronJob", "cronjobs", "Namespaced"),
    ("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", "Namespaced"),
    ("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", "Namespaced"),
    ("networking.k8s.io", "v1", "Ingress", "ingresses", "Namespaced"),
    ("networking.k8s.io", "v1", "IngressClass", "ingressclasses", "Cluster"),
    ("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", "Namespaced"),
    ("storage.k8s.io", "v1", "StorageClass", "storageclasses", "Cluster"),
    ("rbac.authorization.k8s.io", "v1", "Role", "roles", "Namespaced"),
    ("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", "Cluster"),
    ("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", "Namespaced"),
    ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", "Cluster"),
    ("coordination.k8s.io", "v1", "Lease", "leases", "Namespaced"),
    ("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", "Cluster"),
    ("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", "Namespaced"),
    ("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", "Cluster"),
]

# Extra meta/v1 types generated as ordinary structs (with their closure).
META_ROOTS = [
    "ObjectMeta", "ListMeta", "OwnerReference", "LabelSelector", "LabelSelectorRequirement",
    "ManagedFieldsEntry", "Condition", "Status", "StatusDetails", "StatusCause", "DeleteOptions",
    "Preconditions",
]

# Go package prefix of a definition -> Rust module path under `crate::api`.
PACKAGES = [
    ("io.k8s.apimachinery.pkg.apis.meta.v1.", ("meta", "v1")),
    ("io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1.", ("apiextensions", "v1")),
]

APIEXT = "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions.v1."
META = "io.k8s.apimachinery.pkg.apis.meta.v1."

# Definitions mapped by hand (not generated as structs): definition -> Rust type.
SPECIAL = {
    "io.k8s.apimachinery.pkg.api.resource.Quantity": "crate::Quantity",
    "io.k8s.apimachinery.pkg.util.intstr.IntOrString": "crate::IntOrString",
    META + "Time": "crate::Time",
    META + "MicroTime": "crate::MicroTime",
    META + "FieldsV1": "serde_json::Value",
    "io.k8s.apimachinery.pkg.runtime.RawExtension": "crate::api::runtime::RawExtension",
    APIEXT + "JSON": "crate::api::apiextensions::v1::Json",
    APIEXT + "JSONSchemaPropsOrArray": "crate::api::apiextensions::v1::JSONSchemaPropsOrArray",
    APIEXT + "JSONSchemaPropsOrBool": "crate::api::apiextensions::v1::JSONSchemaPropsOrBool",
    APIEXT + "JSONSchemaPropsOrStringArray":
        "crate::api::apiextensions::v1::JSONSchemaPropsOrStringArray",
}
# Special types without a `Default`: a required field of one of these stays `Option<T>`
# (upstream's zero `metav1.Time` encodes as `null`).
NO_DEFAULT = {"crate::Time", "crate::MicroTime"}

# Modules whose doc line is fixed here: module path -> doc line.
GROUP_DOCS = {
    "core": "The core (legacy, `\"\"`) API group: `v1` Pods, Nodes, Services, ConfigMaps, …",
    "apps": "The `apps` API group: Deployments, ReplicaSets, StatefulSets, DaemonSets.",
    "batch": "The `batch` API group: Jobs and CronJobs.",
    "autoscaling": "The `autoscaling` API group: HorizontalPodAutoscalers (`v2`).",
    "discovery": "The `discovery.k8s.io` API group: EndpointSlices.",
    "networking": "The `networking.k8s.io` API group: Ingresses, IngressClasses, NetworkPolicies.",
    "storage": "The `storage.k8s.io` API group: StorageClasses.",
    "rbac": "The `rbac.authorization.k8s.io` API group: Roles, ClusterRoles and their bindings.",
    "coordination": "The `coordination.k8s.io` API group: Leases.",
    "apiextensions": "The `apiextensions.k8s.io` API group: CustomResourceDefinitions.",
    "policy": "The `policy` API group: PodDisruptionBudgets.",
    "scheduling": "The `scheduling.k8s.io` API group: PriorityClasses.",
    "meta": "`meta.k8s.io` (apimachinery) types: ObjectMeta, LabelSelector, Status, …",
    "runtime": "apimachinery `runtime` types: `RawExtension`.",
}
MODULE_ORDER = ["core", "apps", "batch", "autoscaling", "discovery", "networking", "storage",
                "rbac", "coordination", "apiextensions", "policy", "scheduling", "meta", "runtime"]

# core/v1 types no core kind uses (only other groups do): the core/v1 file they go to.
CORE_FILE_FOR = {
    "PodTemplateSpec": "pod",
    "TopologySelectorTerm": "node",
    "TopologySelectorLabelRequirement": "node",
}

# Files under core-types/src/api/ that are written by hand, not by this script.
HAND_WRITTEN = {"wire.rs"}

GENERATED_NOTE = ("//!\n//! Generated by tools/gen-api.py from the Kubernetes v1.33 OpenAPI schema; "
                  "do not edit.\n")

RUST_KEYWORDS = {
    "as", "async", "await", "break", "const", "continue", "crate", "dyn", "else", "enum",
    "extern", "false", "fn", "for", "if", "impl", "in", "let", "loop", "match", "mod", "move",
    "mut", "pub", "ref", "return", "self", "static", "struct", "super", "trait", "true", "type",
    "unsafe", "use", "where", "while", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
}
FIELD_NAME_OVERRIDES = {"$ref": "ref_path", "$schema": "schema"}
# Fields given a hand-written Rust type instead of the generic mapping: (definition, JSON name)
# -> (type, container kind). `metadata.labels` is a `LabelMap` (sorted, with cached prefixes for
# fast selector matching; same wire format and schema as the `BTreeMap` it replaces); every
# other string map stays a `BTreeMap`.
FIELD_TYPE_OVERRIDES = {
    ("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta", "labels"):
        ("crate::labels::LabelMap", "map"),
}

WIRE = "crate::api::wire::null_as_default"

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMA_PATH = os.path.join(ROOT, "..", "shared", "openapi", "kubernetes-v1.33-definitions.json")
API_DIR = os.path.join(ROOT, "core-types", "src", "api")


def fail(msg):
    sys.stderr.write("gen-api: " + msg + "\n")
    sys.exit(1)


# ---------------------------------------------------------------------------------------------
# Names
# ---------------------------------------------------------------------------------------------
def module_of(defname):
    """(module path tuple, type name) of a generated definition."""
    for prefix, mod in PACKAGES:
        if defname.startswith(prefix):
            return mod, defname[len(prefix):]
    m = re.fullmatch(r"io\.k8s\.api\.([a-z0-9]+)\.(v[0-9a-z]+)\.([A-Za-z0-9]+)", defname)
    if not m:
        fail("no module mapping for definition " + defname)
    return (m.group(1), m.group(2)), m.group(3)


def rust_path(defname):
    if defname in SPECIAL:
        return SPECIAL[defname]
    mod, name = module_of(defname)
    return "crate::api::" + "::".join(mod) + "::" + name


_WORD = re.compile(r"[A-Z]+s(?=[A-Z]|$)|[A-Z]+(?=[A-Z][a-z0-9])|[A-Z]?[a-z0-9]+|[A-Z]+")


def snake(name):
    if name in FIELD_NAME_OVERRIDES:
        return FIELD_NAME_OVERRIDES[name]
    parts = []
    for chunk in re.split(r"[^A-Za-z0-9]+", name):
        parts.extend(w.lower() for w in _WORD.findall(chunk))
    out = "_".join(p for p in parts if p)
    if out in RUST_KEYWORDS:
        out += "_"
    return out


def snake_file(kind):
    return "_".join(w.lower() for w in _WORD.findall(kind))


# ---------------------------------------------------------------------------------------------
# Docs
# ---------------------------------------------------------------------------------------------
def doc_lines(text):
    """Rustdoc lines for an upstream description: indented blocks become ```text fences so that
    rustdoc never compiles them as doctests; tabs become spaces; trailing space is dropped."""
    lines = [ln.replace("\t", "    ").rstrip() for ln in text.strip().split("\n")]
    out = []
    in_fence = False
    prev_blank = True
    for ln in lines:
        indented = ln.startswith("    ")
        if in_fence:
            if indented or ln == "":
                out.append(ln)
                continue
            while out and out[-1] == "":
                out.pop()
            out.append("```")
            out.append("")
            in_fence = False
        if indented and prev_blank:
            out.append("```text")
            out.append(ln)
            in_fence = True
            continue
        out.append(ln.lstrip() if indented else ln)
        prev_blank = ln == ""
    if in_fence:
        while out and out[-1] == "":
            out.pop()
        out.append("```")
    res = []
    fenced = False
    item_indent = None  # continuation indent of the list item being written, if any
    for ln in out:
        if ln.startswith("```"):
            fenced = not fenced
            item_indent = None
            res.append(ln)
            continue
        if fenced:
            res.append(ln)
            continue
        ln = escape_markdown(ln)
        item = LIST_ITEM.match(ln)
        if ln == "":
            item_indent = None
        elif item:
            item_indent = len(item.group(0))
        elif item_indent is not None:
            # A lazy continuation of a list item: indent it under the item's text.
            ln = " " * item_indent + ln.lstrip()
        res.append(ln)
    return res


_SPAN = re.compile(r"(`[^`]*`)|(https?://[^\s<>()\[\]`\\]+)")


def escape_markdown(line):
    """Escapes `[`, `]`, `<`, `>` (rustdoc would read intra-doc links and HTML tags) outside code
    spans, and wraps bare URLs in `<...>` so rustdoc renders them as links."""
    out = []
    pos = 0
    for m in _SPAN.finditer(line):
        out.append(_escape_text(line[pos:m.start()]))
        if m.group(1):
            out.append(m.group(1))
        else:
            url = m.group(2)
            tail = ""
            while url and url[-1] in ".,;:'\"":
                tail = url[-1] + tail
                url = url[:-1]
            out.append("<" + url + ">" + tail)
        pos = m.end()
    out.append(_escape_text(line[pos:]))
    return "".join(out)


def _escape_text(text):
    for ch in "[]<>":
        text = text.replace(ch, "\\" + ch)
    return text


LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")


def emit_doc(buf, text, indent=""):
    for ln in doc_lines(text):
        buf.append(indent + ("///" if ln == "" else "/// " + ln))


# ---------------------------------------------------------------------------------------------
# Schema walking
# ---------------------------------------------------------------------------------------------
def base_type(ps):
    t = ps.get("type")
    if isinstance(t, list):
        t = [x for x in t if x != "null"]
        t = t[0] if t else None
    return t


def ref_name(ps):
    r = ps.get("$ref")
    if r is None:
        return None
    if not r.startswith("#/$defs/"):
        fail("unexpected $ref " + r)
    return r[len("#/$defs/"):]


def refs_of(schema):
    out = []

    def walk(ps):
        r = ref_name(ps)
        if r:
            out.append(r)
            return
        if "items" in ps:
            walk(ps["items"])
        if isinstance(ps.get("additionalProperties"), dict):
            walk(ps["additionalProperties"])

    for ps in schema.get("properties", {}).values():
        walk(ps)
    return out


def rust_type(ps, where):
    """(Rust type, container kind) of a property schema; kind is 'vec', 'map' or 'one'."""
    r = ref_name(ps)
    if r:
        return rust_path(r), "one"
    t = base_type(ps)
    if t == "string":
        return ("crate::ByteString" if ps.get("format") == "byte" else "String"), "one"
    if t == "integer":
        return ("i32" if ps.get("format") == "int32" else "i64"), "one"
    if t == "number":
        return "f64", "one"
    if t == "boolean":
        return "bool", "one"
    if t == "array":
        inner, _ = rust_type(ps["items"], where + "[]")
        return "Vec<" + inner + ">", "vec"
    if t == "object":
        ap = ps.get("additionalProperties")
        if isinstance(ap, dict):
            inner, _ = rust_type(ap, where + "{}")
            return "std::collections::BTreeMap<String, " + inner + ">", "map"
        return "serde_json::Value", "one"
    fail("unsupported property schema at " + where + ": " + json.dumps(ps))
    return None


# ---------------------------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------------------------
class Field:
    def __init__(self, json_name, rust_name, ty, kind, required, doc):
        self.json_name = json_name
        self.rust_name = rust_name
        self.ty = ty
        self.kind = kind
        self.required = required
        self.doc = doc

    def full_type(self):
        if self.kind != "one" or self.required:
            return self.ty
        return "Option<" + self.ty + ">"

    def serde_attr(self, serialize=True):
        parts = []
        if self.rust_name != self.json_name:
            parts.append('rename = "%s"' % self.json_name)
        parts.append("default")
        if self.kind == "vec":
            if serialize:
                parts.append('skip_serializing_if = "Vec::is_empty"')
            parts.append('deserialize_with = "%s"' % WIRE)
        elif self.kind == "map":
            if serialize:
                parts.append('skip_serializing_if = "%s::is_empty"' % self.ty.split("<")[0])
            parts.append('deserialize_with = "%s"' % WIRE)
        elif self.required:
            parts.append('deserialize_with = "%s"' % WIRE)
        elif serialize:
            parts.append('skip_serializing_if = "Option::is_none"')
        return "#[serde(" + ", ".join(parts) + ")]"


def load():
    try:
        with open(SCHEMA_PATH, encoding="utf-8") as f:
            return json.load(f)["$defs"]
    except OSError as e:
        fail("cannot read the OpenAPI schema %s: %s" % (SCHEMA_PATH, e))
        return None


def find_root(defs, group, version, kind):
    hits = [n for n, s in defs.items()
            if {"group": group, "version": version, "kind": kind}
            in s.get("x-kubernetes-group-version-kind", [])
            and not n.endswith("List")]
    if len(hits) != 1:
        fail("kind %s/%s %s: expected one definition, found %r" % (group, version, kind, hits))
    return hits[0]


def closure(defs, roots):
    seen = set()
    todo = list(roots)
    while todo:
        n = todo.pop()
        if n in seen or n in SPECIAL:
            continue
        if n not in defs:
            fail("missing definition " + n)
        seen.add(n)
        todo.extend(refs_of(defs[n]))
    return seen


def fields_of(defs, defname, boxed_targets):
    schema = defs[defname]
    required = set(schema.get("required", []))
    fields = []
    names = set()
    for jname, ps in schema.get("properties", {}).items():
        ty, kind = FIELD_TYPE_OVERRIDES.get((defname, jname)) or rust_type(ps, defname + "." + jname)
        target = ref_name(ps)
        if kind == "one" and target in boxed_targets:
            ty = "Box<" + ty + ">"
        req = jname in required and ty not in NO_DEFAULT
        rname = snake(jname)
        if rname in names:
            fail("field name clash in %s: %s" % (defname, rname))
        names.add(rname)
        doc = ps.get("description") or "The `%s` field." % jname
        if "enum" in ps and jname not in ("apiVersion", "kind"):
            doc += "\n\nAllowed values: " + ", ".join("`%s`" % v for v in ps["enum"]) + "."
        fields.append(Field(jname, rname, ty, kind, req, doc))
    return fields


def recursive_edges(defs, names):
    """Definitions that must be boxed when held inline (Option<T>/T), per source definition:
    targets in the same strongly connected component of the inline-reference graph."""
    graph = {}
    for n in names:
        outs = []
        for ps in defs[n].get("properties", {}).values():
            r = ref_name(ps)
            if r and r in names:
                outs.append(r)
        graph[n] = outs
    # Tarjan's SCC.
    index = {}
    low = {}
    stack = []
    on = set()
    comp = {}
    counter = [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            while True:
                w = stack.pop()
                on.discard(w)
                comp[w] = v
                if w == v:
                    break

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            strong(v)
    return {n: {w for w in graph[n] if comp[w] == comp[n]} for n in graph}


# ---------------------------------------------------------------------------------------------
# Emission
# ---------------------------------------------------------------------------------------------
DERIVES = ("#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize, "
           "schemars::JsonSchema)]")


def emit_struct(buf, defs, defname, boxed):
    mod, name = module_of(defname)
    schema = defs[defname]
    buf.append("")
    emit_doc(buf, schema.get("description") or "The `%s` type." % name)
    buf.append(DERIVES)
    buf.append("pub struct %s {" % name)
    for f in fields_of(defs, defname, boxed):
        emit_doc(buf, f.doc, "    ")
        buf.append("    " + f.serde_attr())
        buf.append("    pub %s: %s," % (f.rust_name, f.full_type()))
    buf.append("}")


def emit_root(buf, defs, defname, boxed, root):
    group, version, kind, plural, scope = root
    _, name = module_of(defname)
    schema = defs[defname]
    props = schema.get("properties", {})
    if "metadata" not in props:
        fail(kind + " has no metadata")
    fields = [f for f in fields_of(defs, defname, boxed)
              if f.json_name not in ("apiVersion", "kind", "metadata")]
    meta_doc = props["metadata"].get("description") or "Standard object metadata."
    doc = schema.get("description") or "The `%s` kind." % kind
    api_version = version if group == "" else group + "/" + version

    buf.append("")
    emit_doc(buf, doc)
    buf.append("///")
    buf.append("/// `apiVersion: %s`, `kind: %s` (written on serialization, checked on decoding)."
               % (api_version, kind))
    buf.append("#[derive(Clone, Debug, Default, PartialEq)]")
    buf.append("pub struct %s {" % name)
    emit_doc(buf, meta_doc, "    ")
    buf.append("    pub metadata: crate::api::meta::v1::ObjectMeta,")
    for f in fields:
        emit_doc(buf, f.doc, "    ")
        buf.append("    pub %s: %s," % (f.rust_name, f.full_type()))
    buf.append("}")
    buf.append("")
    buf.append('crate::impl_resource!(%s, group = "%s", version = "%s", kind = "%s", '
               'plural = "%s", scope = %s);' % (name, group, version, kind, plural, scope))

    # Serialize: apiVersion, kind, metadata, then the other fields.
    buf.append("")
    buf.append("impl serde::Serialize for %s {" % name)
    buf.append("    fn serialize<S: serde::Serializer>(&self, serializer: S) "
               "-> Result<S::Ok, S::Error> {")
    buf.append("        use serde::ser::SerializeStruct as _;")
    buf.append('        let mut s = serializer.serialize_struct("%s", %d)?;' % (name, 3 + len(fields)))
    buf.append('        s.serialize_field("apiVersion", '
               '<Self as crate::TypedResource>::API_VERSION)?;')
    buf.append('        s.serialize_field("kind", <Self as crate::TypedResource>::KIND)?;')
    buf.append('        s.serialize_field("metadata", &self.metadata)?;')
    for f in fields:
        if f.kind in ("vec", "map"):
            buf.append("        if !self.%s.is_empty() {" % f.rust_name)
            buf.append('            s.serialize_field("%s", &self.%s)?;' % (f.json_name, f.rust_name))
            buf.append("        }")
        elif f.required:
            buf.append('        s.serialize_field("%s", &self.%s)?;' % (f.json_name, f.rust_name))
        else:
            buf.append("        if let Some(v) = &self.%s {" % f.rust_name)
            buf.append('            s.serialize_field("%s", v)?;' % f.json_name)
            buf.append("        }")
    buf.append("        s.end()")
    buf.append("    }")
    buf.append("}")

    # The wire mirror: what is decoded and what the JSON Schema describes.
    wire = name + "Wire"
    buf.append("")
    emit_doc(buf, doc)
    buf.append("#[derive(serde::Deserialize, schemars::JsonSchema)]")
    buf.append('#[serde(rename = "%s")]' % name)
    buf.append("struct %s {" % wire)
    for jname, rname in (("apiVersion", "api_version"), ("kind", "kind")):
        d = props.get(jname, {}).get("description") or jname
        emit_doc(buf, d, "    ")
        if rname != jname:
            buf.append('    #[serde(rename = "%s", default)]' % jname)
        else:
            buf.append("    #[serde(default)]")
        buf.append("    %s: Option<String>," % rname)
    emit_doc(buf, meta_doc, "    ")
    buf.append('    #[serde(default, deserialize_with = "%s")]' % WIRE)
    buf.append("    metadata: crate::api::meta::v1::ObjectMeta,")
    for f in fields:
        emit_doc(buf, f.doc, "    ")
        buf.append("    " + f.serde_attr(serialize=False))
        buf.append("    %s: %s," % (f.rust_name, f.full_type()))
    buf.append("}")
    buf.append("")
    buf.append("impl<'de> serde::Deserialize<'de> for %s {" % name)
    buf.append("    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) "
               "-> Result<Self, D::Error> {")
    buf.append("        let wire = <%s as serde::Deserialize>::deserialize(deserializer)?;" % wire)
    buf.append("        crate::api::wire::check_type_meta::<Self, D::Error>("
               "wire.api_version.as_deref(), wire.kind.as_deref())?;")
    buf.append("        Ok(Self {")
    buf.append("            metadata: wire.metadata,")
    for f in fields:
        buf.append("            %s: wire.%s," % (f.rust_name, f.rust_name))
    buf.append("        })")
    buf.append("    }")
    buf.append("}")
    buf.append("")
    buf.append("impl schemars::JsonSchema for %s {" % name)
    buf.append("    fn schema_name() -> std::borrow::Cow<'static, str> {")
    buf.append("        <%s as schemars::JsonSchema>::schema_name()" % wire)
    buf.append("    }")
    buf.append("    fn schema_id() -> std::borrow::Cow<'static, str> {")
    buf.append("        <%s as schemars::JsonSchema>::schema_id()" % wire)
    buf.append("    }")
    buf.append("    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {")
    buf.append("        <%s as schemars::JsonSchema>::json_schema(generator)" % wire)
    buf.append("    }")
    buf.append("}")


APIEXT_TEMPLATES = r'''
/// Arbitrary JSON (`apiextensions.k8s.io/v1` `JSON`): a default, an enum member or an example
/// in a CRD schema. Serialized transparently.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct Json(pub serde_json::Value);

/// `items` of a CRD schema: one schema for every element, or one schema per position.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum JSONSchemaPropsOrArray {
    /// One schema per position (a JSON array of schemas).
    Schemas(Vec<crate::api::apiextensions::v1::JSONSchemaProps>),
    /// One schema applied to every element (a JSON object).
    Schema(Box<crate::api::apiextensions::v1::JSONSchemaProps>),
}

/// `additionalProperties` / `additionalItems` of a CRD schema: a boolean (allowed or not) or a
/// schema the extra members must satisfy.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum JSONSchemaPropsOrBool {
    /// `true`: anything is allowed; `false`: nothing is.
    Bool(bool),
    /// A schema the members must satisfy (a JSON object).
    Schema(Box<crate::api::apiextensions::v1::JSONSchemaProps>),
}

/// A `dependencies` entry of a CRD schema: a schema, or the names of required properties.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum JSONSchemaPropsOrStringArray {
    /// Property names that must be present (a JSON array of strings).
    Strings(Vec<String>),
    /// A schema the object must satisfy (a JSON object).
    Schema(Box<crate::api::apiextensions::v1::JSONSchemaProps>),
}
'''

RUNTIME_MOD = r'''//! apimachinery `runtime` types: `RawExtension`.
%s
/// An embedded object of any kind, kept as raw JSON (`runtime.RawExtension`), e.g. the `data`
/// of a ControllerRevision. Serialized transparently.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct RawExtension(pub serde_json::Value);
''' % GENERATED_NOTE


def header(doc_line):
    return "//! " + doc_line + "\n" + GENERATED_NOTE


def generate(defs):
    """Returns {relative path under api/: file text} (unformatted)."""
    roots = {}
    for root in ROOT_KINDS:
        roots[find_root(defs, root[0], root[1], root[2])] = root
    start = list(roots) + [META + n for n in META_ROOTS]
    names = closure(defs, start)
    boxed = recursive_edges(defs, names)

    # Group definitions by module (and, for core/v1, by file).
    by_module = {}
    for n in sorted(names):
        mod, _ = module_of(n)
        by_module.setdefault(mod, []).append(n)

    files = {}
    groups = {}
    for mod in by_module:
        groups.setdefault(mod[0], set()).add(mod[1])
    if "apiextensions" in groups:
        pass
    groups.setdefault("runtime", set())
    for g in groups:
        if g not in GROUP_DOCS:
            fail("no module doc for group " + g)
    order = [g for g in MODULE_ORDER if g in groups]
    if set(order) != set(groups):
        fail("MODULE_ORDER misses " + repr(set(groups) - set(order)))

    def type_list(ns):
        shown = [module_of(n)[1] for n in ns]
        return ", ".join("`%s`" % s for s in shown[:6]) + (", …" if len(shown) > 6 else "")

    for mod, ns in by_module.items():
        g, v = mod
        kinds = [r for r in ROOT_KINDS if module_of(find_root(defs, r[0], r[1], r[2]))[0] == mod]
        if mod == ("core", "v1"):
            files.update(split_core(defs, ns, roots, boxed, kinds))
            continue
        buf = [header("`%s` `%s` types: %s." % (g, v, type_list(ns)))]
        for n in ns:
            if n in roots:
                emit_root(buf, defs, n, boxed[n], roots[n])
            else:
                emit_struct(buf, defs, n, boxed[n])
        if mod == ("apiextensions", "v1"):
            buf.append(APIEXT_TEMPLATES)
        files["%s/%s.rs" % (g, v)] = "\n".join(buf) + "\n"

    for g in order:
        if g == "runtime":
            files["runtime/mod.rs"] = RUNTIME_MOD
            continue
        text = header(GROUP_DOCS[g]) + "\n"
        for v in sorted(groups[g]):
            text += "pub mod %s;\n" % v
        files["%s/mod.rs" % g] = text

    files["mod.rs"] = api_mod(defs, order)
    return files


def split_core(defs, ns, roots, boxed, kinds):
    """core/v1 in several files: each type goes to the file of the first core kind (in ROOT_KINDS
    order) whose closure holds it, or to the file CORE_FILE_FOR names."""
    owner = {}
    for root in kinds:
        defname = find_root(defs, root[0], root[1], root[2])
        for n in sorted(closure(defs, [defname])):
            if n in ns and n not in owner:
                owner[n] = snake_file(root[2])
    files = {}
    order = []
    for n in ns:
        f = owner.get(n) or CORE_FILE_FOR.get(module_of(n)[1])
        if f is None:
            fail("core/v1 type %s is used by no core kind: add it to CORE_FILE_FOR" % n)
        if f not in files:
            files[f] = []
            order.append(f)
        files[f].append(n)
    out = {}
    mod_text = header("The core `v1` API: Pods, Nodes, Services, ConfigMaps, Secrets, volumes, …")
    mod_text += "//!\n//! Split into one file per kind (with the types only it uses); every type is " \
                "re-exported here.\n\n"
    for f in sorted(files):
        mod_text += "mod %s;\npub use %s::*;\n" % (f, f)
    out["core/v1/mod.rs"] = mod_text
    for f in sorted(files):
        members = files[f]
        kind = next(r[2] for r in kinds if snake_file(r[2]) == f)
        line = "core `v1` `%s` and the types filed with it." % kind
        buf = [header(line)]
        for n in members:
            if n in roots:
                emit_root(buf, defs, n, boxed[n], roots[n])
            else:
                emit_struct(buf, defs, n, boxed[n])
        out["core/v1/%s.rs" % f] = "\n".join(buf) + "\n"
    return out


def api_mod(defs, order):
    text = header("The typed Kubernetes API kinds, one module per API group and version "
                  "(`crate::api::<group>::<version>::<Type>`).")
    text += "//!\n"
    text += "//! Root kinds (`Pod`, `Deployment`, …) carry no `apiVersion`/`kind` fields: they write\n"
    text += "//! them from their [`crate::TypedResource`] constants and check them when decoding.\n"
    text += "//! Optional fields are `Option<T>`; lists and maps are plain `Vec`/`BTreeMap` (absent\n"
    text += "//! or `null` = empty); required fields are plain `T` (absent or `null` = zero value).\n\n"
    for g in order:
        text += "pub mod %s;\n" % g
    text += "pub mod wire;\n\n"
    paths = []
    for root in ROOT_KINDS:
        mod, name = module_of(find_root(defs, root[0], root[1], root[2]))
        paths.append("$crate::api::" + "::".join(mod) + "::" + name)
    text += "/// Calls the given macro once with the path of every built-in root kind, comma-separated.\n"
    text += "///\n"
    text += "/// ```\n"
    text += "/// macro_rules! count {\n"
    text += "///     ($($kind:path),* $(,)?) => { [$(<$kind as kybern_core::TypedResource>::KIND),*].len() };\n"
    text += "/// }\n"
    text += "/// assert_eq!(kybern_core::for_each_builtin_kind!(count), %d);\n" % len(ROOT_KINDS)
    text += "/// ```\n"
    text += "///\n"
    text += "/// The argument is a macro name or path (`my_macro`, `crate::my_macro`, `$crate::x`).\n"
    text += "#[macro_export]\n"
    text += "macro_rules! for_each_builtin_kind {\n"
    text += "    ($($m:tt)+) => {\n"
    text += "        $($m)+!(\n"
    for p in paths:
        text += "            %s,\n" % p
    text += "        )\n"
    text += "    };\n"
    text += "}\n"
    return text


# ---------------------------------------------------------------------------------------------
# Formatting, writing, checking
# ---------------------------------------------------------------------------------------------
def write_formatted(files, out_dir):
    paths = []
    for rel, text in sorted(files.items()):
        p = os.path.join(out_dir, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w", encoding="utf-8") as f:
            f.write(text)
        paths.append(p)
    # rustfmt follows `mod` declarations: give it the hand-written modules too.
    for rel in sorted(HAND_WRITTEN):
        src = os.path.join(API_DIR, rel)
        if not os.path.exists(src):
            fail("missing hand-written file core-types/src/api/" + rel)
        shutil.copyfile(src, os.path.join(out_dir, rel))
    cmd = ["rustfmt", "--edition", "2024"]
    for cfg in ("rustfmt.toml", ".rustfmt.toml"):
        if os.path.exists(os.path.join(ROOT, cfg)):
            cmd += ["--config-path", os.path.join(ROOT, cfg)]
    try:
        res = subprocess.run(cmd + paths, capture_output=True, text=True, check=False)
    except OSError as e:
        fail("cannot run rustfmt: %s" % e)
    if res.returncode != 0:
        fail("rustfmt failed:\n" + res.stderr)


def existing_files():
    out = set()
    if not os.path.isdir(API_DIR):
        return out
    for dirpath, _, filenames in os.walk(API_DIR):
        for fn in filenames:
            rel = os.path.relpath(os.path.join(dirpath, fn), API_DIR).replace(os.sep, "/")
            if rel not in HAND_WRITTEN:
                out.add(rel)
    return out


def read(p):
    with open(p, encoding="utf-8") as f:
        return f.read()


def main(argv):
    check = "--check" in argv[1:]
    unknown = [a for a in argv[1:] if a != "--check"]
    if unknown:
        fail("unknown arguments %r (usage: gen-api.py [--check])" % unknown)
    defs = load()
    files = generate(defs)
    with tempfile.TemporaryDirectory() as tmp:
        write_formatted(files, tmp)
        current = existing_files()
        stale = sorted(current - set(files))
        differ = sorted(rel for rel in files
                        if rel not in current
                        or read(os.path.join(tmp, rel)) != read(os.path.join(API_DIR, rel)))
        if check:
            if stale or differ:
                msg = "core-types/src/api/ is out of date with tools/gen-api.py:\n"
                msg += "".join("  differs: %s\n" % r for r in differ)
                msg += "".join("  not generated (stale): %s\n" % r for r in stale)
                msg += "run `python3 tools/gen-api.py` and commit the result"
                fail(msg)
            print("gen-api: %d files up to date" % len(files))
            return
        for rel in stale:
            os.remove(os.path.join(API_DIR, rel))
        for rel in differ:
            dst = os.path.join(API_DIR, rel)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copyfile(os.path.join(tmp, rel), dst)
        # Remove directories left empty.
        for dirpath, dirnames, filenames in os.walk(API_DIR, topdown=False):
            if dirpath != API_DIR and not os.listdir(dirpath):
                os.rmdir(dirpath)
        print("gen-api: %d files, %d written, %d removed" % (len(files), len(differ), len(stale)))


if __name__ == "__main__":
    main(sys.argv)
