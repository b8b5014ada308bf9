//! Stage 3, resolve: Clusters + their stacks → [`ResolvedCluster`]s.
//!
//! Everything a later stage needs is decided here: which services and roles exist, how many
//! pods each role has and their DNS names, every config file's keys and values (stack defaults
//! < service overrides < role overrides, templates evaluated), every container's command and
//! environment, and where each dependency comes from (this cluster, another Cluster among the
//! inputs, or a ConfigMap read at runtime). Nothing here knows a particular service: all of it
//! is driven by the stack data.

mod actions;
mod checks;
mod containers;
mod context;
mod files;
mod ir;
mod service;
mod settings;
#[cfg(test)]
pub(crate) mod tests;

pub use actions::arg_env;
pub use ir::*;

use crate::diag::{known_hint, Diagnostic, Diagnostics, Span, Code};
use crate::names;
use crate::model::*;
use crate::source::Doc;
use crate::stacks::{Registry, Stack};
use crate::template::Templates;
use crate::validate::Located;
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

pub(crate) fn segs(p: &[&str]) -> Vec<String> {
    p.iter().map(|s| s.to_string()).collect()
}

/// A grammar check of `src/grammar.rs`.
type GrammarFn = fn(&str) -> crate::grammar::Check;

pub(crate) fn scalar_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

const DEFAULT_RESOURCES: &str = r#"{"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}"#;

/// A role's container resources: bdp's defaults, then the stack's role (with its
/// `roleDefaults`), then the Cluster's role, merged key by key. Templates see them as
/// `roles.<r>.resources` (e.g. a daemon sized from its pod's memory limit).
pub(crate) fn role_resources(rd: &RoleDef, user: Option<&Value>) -> Value {
    let mut resources: Value = serde_json::from_str(DEFAULT_RESOURCES).unwrap_or(Value::Null);
    if let Some(rr) = &rd.resources {
        crate::merge::deep_merge(&mut resources, rr);
    }
    if let Some(ur) = user {
        crate::merge::deep_merge(&mut resources, ur);
    }
    resources
}

/// First pass over one service: what other services may see of it (roles, pods, discovery).
#[derive(Debug, Clone)]
struct Skeleton {
    def: ServiceDef,
    /// Full image reference and whether it is pinned by digest.
    image: (String, bool),
    settings: BTreeMap<String, Value>,
    /// Enabled roles and their replica counts, in stack order.
    roles: Vec<(String, u32)>,
    ctx: Value,
    discovery: BTreeMap<String, String>,
    /// The image's capabilities (stack, then the Cluster's `image.capabilities` per entry).
    capabilities: BTreeMap<String, Vec<String>>,
    /// What this service demands of every image using it: capability → (values, setting).
    requirements: BTreeMap<String, (Vec<String>, Option<String>)>,
}

struct Resolver<'a> {
    tpl: Templates,
    registry: &'a Registry,
    diags: &'a mut Diagnostics,
    /// Every Cluster among the inputs, (namespace, name) → where it is written.
    found: BTreeMap<(String, String), Span>,
}

type SkeletonKey = (String, String, String); // namespace, cluster, service

/// Whether a template expression reads dependency `d` (`deps.d`, `deps['d']`, `deps["d"]`).
fn mentions_dep(expr: &str, d: &str) -> bool {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    expr.match_indices("deps").any(|(i, _)| {
        let before_ok = !expr[..i].chars().next_back().is_some_and(ident);
        let rest = &expr[i + 4..];
        let dotted = rest.strip_prefix('.').and_then(|r| r.strip_prefix(d)).is_some_and(|r| !r.starts_with(ident));
        let indexed = [format!("['{d}']"), format!("[\"{d}\"]")].iter().any(|x| rest.starts_with(x.as_str()));
        before_ok && (dotted || indexed)
    })
}

/// The stack a Cluster is checked against: the one it names; when it names none, the stack
/// every known stack is or extends (the only one, or hadoop-3.3 beside hadoop-3.4), so the
/// missing `stack` (an error) does not hide the Cluster's other problems.
fn stack_name_of(c: &Cluster, registry: &Registry) -> Option<String> {
    if !c.spec.stack.is_empty() {
        return Some(c.spec.stack.clone());
    }
    registry.sole_base().map(String::from)
}

fn missing_stack(c: &Cluster, doc: &Doc, registry: &Registry) -> Diagnostic {
    let names = registry.names();
    let checked = match (names.as_slice(), registry.sole_base()) {
        ([one], _) => format!("; the rest of the Cluster is checked against `{one}`, the only stack bdp knows"),
        (_, Some(base)) => format!("; the rest of the Cluster is checked against `{base}`, which the other stacks extend"),
        _ => String::new(),
    };
    Diagnostic::error(Code::NoStack, Some(doc.span_at(&segs(&["spec"]))), "spec.stack", format!("Cluster `{}` names no stack{checked}", c.metadata.name))
        .expected("`stack: NAME` under spec")
        .hint(format!("known stacks: {} (`bdp stacks` describes them)", names.join(", ")))
}

/// The positions of the keys of one mapping in a user's document, indexed once.
struct KeySpans<'a> {
    doc: &'a Doc,
    path: &'a [String],
    keys: std::collections::HashMap<String, (usize, usize)>,
}

impl<'a> KeySpans<'a> {
    fn new(doc: &'a Doc, path: &'a [String]) -> Self {
        let keys = match &doc.root.locate(path).value {
            crate::source::NodeValue::Map(m) => m.iter().map(|(k, _)| (k.key_string(), (k.line, k.col))).collect(),
            _ => Default::default(),
        };
        KeySpans { doc, path, keys }
    }
    fn get(&self, key: &str) -> Span {
        match self.keys.get(key) {
            Some(&(line, col)) => Span::new(&self.doc.file, line, col),
            None => self.doc.span_at(self.path),
        }
    }
}

/// Resolves every Cluster. Clusters with errors are left out; errors go to `diags`.
pub fn resolve(
    clusters: &[Located<Cluster>],
    registry: &Registry,
    diags: &mut Diagnostics,
) -> Vec<ResolvedCluster> {
    let mut r = Resolver { tpl: Templates::new(), registry, diags, found: BTreeMap::new() };
    let mut stacks: BTreeMap<String, Stack> = BTreeMap::new();
    let mut skeletons: BTreeMap<SkeletonKey, Skeleton> = BTreeMap::new();
    let mut seen: BTreeMap<(String, String), Span> = BTreeMap::new();

    // pass 1: stacks, services, roles, discovery
    for Located { value: c, doc } in clusters {
        let ns = c.metadata.namespace.clone().unwrap_or_else(|| "default".into());
        let key = (ns.clone(), c.metadata.name.clone());
        let here = doc.span_at(&segs(&["metadata", "name"]));
        if let Some(first) = seen.get(&key) {
            r.diags.push(
                Diagnostic::error(Code::DuplicateCluster, Some(here), "metadata.name", format!("Cluster `{}` in namespace `{ns}` is given twice (first at {first})", c.metadata.name))
                    .hint("names are unique per namespace; rename one of them"),
            );
            continue;
        }
        seen.insert(key, here);
        if c.metadata.namespace.is_none() {
            r.diags.push(
                Diagnostic::warning(Code::NoNamespace, Some(doc.span_at(&segs(&["metadata"]))), "metadata.namespace", format!("Cluster `{}` names no namespace; bdp puts it in `default`", c.metadata.name))
                    .hint("add `namespace: NAME` under metadata; objects in `default` mix with everything else there, and a later namespace change recreates every object"),
            );
        }
        let Some(stack_name) = stack_name_of(c, r.registry) else {
            r.diags.push(missing_stack(c, doc, r.registry));
            continue;
        };
        if c.spec.stack.is_empty() {
            r.diags.push(missing_stack(c, doc, r.registry));
        }
        if !stacks.contains_key(&stack_name) {
            match r.registry.resolved(&stack_name) {
                Ok(s) => {
                    r.check_setting_defaults(&s);
                    stacks.insert(stack_name.clone(), s);
                }
                Err(m) => {
                    r.diags.push(
                        Diagnostic::error(Code::UnknownStack, Some(doc.span_at(&segs(&["spec", "stack"]))), "spec.stack", m)
                            .hint("`bdp stacks` lists the stacks; a StackDefinition may also be given among the inputs or with --stacks DIR"),
                    );
                    continue;
                }
            }
        }
        let stack = &stacks[&stack_name];
        for (svc, spec) in &c.spec.services {
            let spec = spec.clone().unwrap_or_default();
            if !stack.spec.services.contains_key(svc) {
                let p = segs(&["spec", "services"]);
                r.diags.push(
                    Diagnostic::error(Code::UnknownService, Some(doc.span_of_key(&p, svc)), format!("spec.services.{svc}"), format!("unknown service `{svc}` in stack `{}`", stack.name))
                        .hint(known_hint(svc, "services", stack.spec.services.keys().map(String::as_str))),
                );
                continue;
            }
            if let Some(sk) = r.skeleton(c, doc, stack, svc, &spec) {
                skeletons.insert((ns.clone(), c.metadata.name.clone(), svc.clone()), sk);
            }
        }
    }

    r.found = seen;

    // pass 2: dependencies, files, containers
    let mut out = Vec::new();
    for Located { value: c, doc } in clusters {
        let Some(stack) = stack_name_of(c, r.registry).and_then(|n| stacks.get(&n)) else { continue };
        let ns = c.metadata.namespace.clone().unwrap_or_else(|| "default".into());
        let mut services = Vec::new();
        for (svc, spec) in &c.spec.services {
            let key = (ns.clone(), c.metadata.name.clone(), svc.clone());
            let Some(sk) = skeletons.get(&key) else { continue };
            let spec = spec.clone().unwrap_or_default();
            let scope = service::Scope { c, doc, stack, svc, spec: &spec, sk, all: &skeletons, ns: ns.clone(), base: segs(&["spec", "services", svc]) };
            if let Some(s) = r.service(&scope) {
                services.push(s);
            }
        }
        let controller = match &c.spec.controller {
            Some(cs) if cs.enabled => match cs.image.as_deref().map(str::trim).filter(|i| !i.is_empty()) {
                Some(image) => Some(ResolvedController { image: image.to_string(), replicas: cs.replicas.unwrap_or(1) }),
                None => {
                    r.user_err(Code::MissingField, doc, &segs(&["spec", "controller"]), "`enabled: true` needs the controller's `image`".into(), "build one from controller/Dockerfile (docs/controller.md) and name it: image: registry.example.com/bdp-controller:0.1.0".into());
                    None
                }
            },
            _ => None,
        };
        // A cluster with errors still goes on to the plan, so its checks are reported in the
        // same run; rendering never starts while there are errors.
        let rc = ResolvedCluster {
            controller,
            name: c.metadata.name.clone(),
            namespace: ns,
            domain: c.spec.cluster_domain.clone(),
            stack: stack.name.clone(),
            services,
            doc: doc.clone(),
        };
        out.push(rc);
    }
    out
}
