//! Stage 3, resolve: Clusters + their stacks → [`ResolvedCluster`]s.
//!
//! Everything a later stage needs is decided here: which services and roles exist, how many
//! pods each role has and their DNS names, every config file's keys and values (stack defaults
//! < service overrides < role overrides, templates evaluated), every container's command and
//! environment, and where each dependency comes from (this cluster, another Cluster among the
//! inputs, or a ConfigMap read at runtime). Nothing here knows a particular service: all of it
//! is driven by the stack data.

use crate::diag::{known_hint, Diagnostic, Diagnostics, Span};
use crate::names;
use crate::model::*;
use crate::source::Doc;
use crate::stacks::{Registry, Stack};
use crate::template::Templates;
use crate::validate::Located;
use serde::Serialize;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize)]
pub struct ResolvedCluster {
    pub name: String,
    pub namespace: String,
    pub domain: String,
    pub stack: String,
    pub services: Vec<ResolvedService>,
    #[serde(skip)]
    pub doc: Doc,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResolvedService {
    pub name: String,
    pub version: String,
    pub image: String,
    pub image_pinned: bool,
    pub run_as: RunAs,
    pub settings: BTreeMap<String, Value>,
    pub deps: Vec<ResolvedDep>,
    pub discovery: BTreeMap<String, String>,
    pub roles: Vec<ResolvedRole>,
    /// Extra objects from the stack's service `manifests` templates.
    pub manifests: Vec<Value>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "source", rename_all = "camelCase")]
pub enum DepSource {
    /// The same cluster's service.
    Service,
    /// Another Cluster among the inputs.
    Cluster { cluster: String, namespace: String },
    /// A ConfigMap in the same namespace, read at runtime.
    ConfigMap { name: String, key: String },
}

#[derive(Debug, Clone, Serialize)]
pub struct ResolvedDep {
    pub name: String,
    pub service: String,
    pub from: DepSource,
}

#[derive(Debug, Clone, Serialize)]
pub struct Pod {
    pub name: String,
    pub ordinal: u32,
    pub fqdn: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Storage {
    pub name: String,
    pub mount_path: String,
    pub size: String,
    pub storage_class: Option<String>,
}

pub use crate::formats::Entry;

#[derive(Debug, Clone, Serialize)]
pub struct ConfigFile {
    pub name: String,
    pub format: FileFormat,
    pub dir: String,
    pub entries: Vec<Entry>,
    /// Body of a `text` file.
    pub text: Option<String>,
    pub restart: bool,
}

impl ConfigFile {
    /// The file's full text, in its format.
    pub fn render(&self) -> String {
        crate::formats::write(self.format, &self.entries, self.text.as_deref())
    }
    /// The part of the file whose change needs a restart (see [`crate::formats::restart_relevant`]).
    pub fn restart_relevant(&self) -> String {
        crate::formats::restart_relevant(self.format, &self.entries, self.text.as_deref(), self.restart)
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub enum EnvValue {
    Value(String),
    /// Downward API field (`metadata.name`).
    Field(String),
    ConfigMapKey { name: String, key: String },
    SecretKey { name: String, key: String, optional: bool },
}

/// A pod volume from a Secret or ConfigMap that bdp references but does not render.
#[derive(Debug, Clone, Serialize)]
pub struct ExternalVolume {
    pub name: String,
    pub secret: Option<String>,
    pub config_map: Option<String>,
    pub mount_path: String,
    pub optional: bool,
    /// Only these keys (each as a file of the same name).
    pub items: Option<Vec<String>>,
    /// Only mounted in these containers (None: all).
    pub containers: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Probe {
    pub exec: Option<Vec<String>>,
    pub tcp: Option<i32>,
    pub http: Option<(String, i32)>,
    pub initial_delay_seconds: Option<i32>,
    pub period_seconds: Option<i32>,
    pub timeout_seconds: Option<i32>,
    pub failure_threshold: Option<i32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Container {
    pub name: String,
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub env: BTreeMap<String, EnvValue>,
    pub ports: Vec<PortDef>,
    pub readiness: Option<Probe>,
    pub liveness: Option<Probe>,
    pub startup: Option<Probe>,
    pub resources: Value,
    /// Image when not the service's.
    pub image: Option<String>,
}

/// A writable emptyDir of a role's pods.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Scratch {
    pub path: String,
    /// emptyDir medium (`Memory`: tmpfs).
    pub medium: Option<String>,
    pub size_limit: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResolvedRole {
    pub name: String,
    /// `<cluster>-<service>-<role>`: StatefulSet, headless Service, ConfigMap, PDB names.
    pub fullname: String,
    pub replicas: u32,
    pub cardinality: Cardinality,
    pub pods: Vec<Pod>,
    pub after: Vec<String>,
    pub pod_management_policy: String,
    pub ports: Vec<PortDef>,
    pub services: BTreeMap<String, Vec<String>>,
    pub storage: Vec<Storage>,
    pub scratch: Vec<Scratch>,
    pub files: Vec<ConfigFile>,
    pub init_containers: Vec<Container>,
    pub containers: Vec<Container>,
    pub pdb_max_unavailable: Option<i32>,
    /// Pod spread over nodes: `required`, `preferred` or `none` (Cluster, else stack, else preferred).
    pub spread: String,
    pub termination_grace_period_seconds: Option<i64>,
    pub pod_overrides: Option<Value>,
    pub volumes: Vec<ExternalVolume>,
    /// Extra objects from the stack's role `manifests` templates.
    pub manifests: Vec<Value>,
    /// Where the user wrote this role (for diagnostics), `spec.services.<s>.roles.<r>`.
    #[serde(skip)]
    pub user_path: Vec<String>,
    /// The stack's scale-down advice for the role (`scaleDown`), for `bdp diff`.
    #[serde(skip)]
    pub scale_down: Option<String>,
}

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

impl Resolver<'_> {
    fn stack_err(&mut self, stack: &Stack, svc: &str, path: &[String], msg: String) {
        let doc = stack.service_docs.get(svc);
        let mut full = segs(&["spec", "services", svc]);
        full.extend(path.iter().cloned());
        let span = doc.map(|d| d.span_at(&full));
        self.diags.push(
            Diagnostic::error(span, full.join("."), format!("stack `{}`: {msg}", stack.name))
                .hint("this is a defect in the stack definition"),
        );
    }

    /// A stack's setting defaults must fit their own types.
    fn check_setting_defaults(&mut self, stack: &Stack) {
        for (svc, def) in &stack.spec.services {
            for (k, sd) in &def.settings {
                if let Err(m) = sd.check(&sd.default) {
                    self.stack_err(stack, svc, &segs(&["settings", k, "default"]), format!("the default of setting `{k}` is not {}: {}", m.expected, m.message));
                }
            }
        }
    }

    fn user_err(&mut self, doc: &Doc, path: &[String], msg: String, hint: String) {
        self.diags.push(Diagnostic::error(Some(doc.span_at(path)), path.join("."), msg).hint(hint));
    }

    /// An image that declares capability `cap` must handle every value the service `provider`
    /// demands (its `imageRequirements`); an image that does not declare `cap` is not checked.
    #[allow(clippy::too_many_arguments)]
    fn check_image(
        &mut self,
        doc: &Doc,
        path: &[String],
        svc: &str,
        image: &str,
        caps: &BTreeMap<String, Vec<String>>,
        provider: &str,
        provider_cluster: &str,
        cap: &str,
        demanded: &[String],
        setting: Option<&str>,
        provider_base: &[String],
    ) {
        let Some(have) = caps.get(cap) else { return };
        let missing: Vec<&str> = demanded.iter().filter(|v| !have.contains(v)).map(String::as_str).collect();
        if missing.is_empty() {
            return;
        }
        let from = match setting {
            Some(s) => format!("setting `{s}` of `{provider}` (Cluster `{provider_cluster}`)"),
            None => format!("`{provider}` (Cluster `{provider_cluster}`)"),
        };
        let usable: Vec<&str> = demanded.iter().filter(|v| have.contains(v)).map(String::as_str).collect();
        let fix = match setting {
            Some(s) if !usable.is_empty() => format!(
                "set `{}.{s}` to values the image handles, e.g. `{}`; or use an image that handles {} and declare it in `image.capabilities.{cap}`",
                provider_base.join("."),
                usable.join(" "),
                missing.join(", ")
            ),
            _ => format!("use an image that handles {} and declare it in `image.capabilities.{cap}`", missing.join(", ")),
        };
        self.diags.push(
            Diagnostic::error(Some(match path.split_last() {
                Some((last, parent)) => doc.span_of_key(parent, last),
                None => doc.span_at(path),
            }), path.join("."), format!(
                "the image of `{svc}` ({image}) cannot handle {cap} {}, which {from} requires",
                missing.join(", ")
            ))
            .expected(format!("{cap} within what the image declares: {}", have.join(" ")))
            .hint(fix),
        );
    }

    fn skeleton(&mut self, c: &Cluster, doc: &Doc, stack: &Stack, svc: &str, spec: &ServiceSpec) -> Option<Skeleton> {
        let mut def = stack.spec.services.get(svc)?.clone();
        let ns = c.metadata.namespace.clone().unwrap_or_else(|| "default".into());
        let base = segs(&["spec", "services", svc]);
        // settings
        let mut settings = BTreeMap::new();
        for (k, sd) in &def.settings {
            settings.insert(k.clone(), sd.default.clone());
        }
        for (k, v) in &spec.settings {
            let mut p = base.clone();
            p.push(k.clone());
            match def.settings.get(k) {
                None => {
                    let known: Vec<&str> = ["roles", "dependencies", "configOverrides", "envOverrides", "podOverrides", "image"]
                        .into_iter()
                        .chain(def.settings.keys().map(String::as_str))
                        .collect();
                    self.diags.push(
                        Diagnostic::error(Some(doc.span_of_key(&base, k)), p.join("."), format!("unknown field `{k}` for service `{svc}`"))
                            .hint(known_hint(k, "fields", known)),
                    );
                }
                Some(sd) => {
                    if let Err(m) = sd.check(v) {
                        let mut at = p.clone();
                        at.extend(m.item.map(|i| i.to_string()));
                        let hint = match sd.description.trim() {
                            "" => format!("`{k}` is a setting of `{svc}`; `bdp explain {}/{svc}` describes it", stack.name),
                            d => d.split_whitespace().collect::<Vec<_>>().join(" "),
                        };
                        self.diags.push(
                            Diagnostic::error(Some(doc.span_at(&at)), at.join("."), format!("setting `{k}`: {}", m.message))
                                .expected(m.expected)
                                .hint(hint),
                        );
                        // the stack's templates go on with its default: one error, no cascade
                        continue;
                    }
                    settings.insert(k.clone(), v.clone());
                }
            }
        }
        // roles: replicas first (an `enabled` expression may look at them). A count is checked
        // against its bound here, before anything (pods, names, template lists) is built from it.
        let mut replicas: BTreeMap<String, u32> = BTreeMap::new();
        for (r, rd) in &def.roles {
            let user = spec.roles.get(r).and_then(|x| x.as_ref()).and_then(|x| x.replicas);
            let n = user.unwrap_or(rd.replicas.default);
            let max = rd.replicas.max.min(crate::limits::MAX_REPLICAS);
            if n > max {
                let mut p = base.clone();
                p.extend(segs(&["roles", r, "replicas"]));
                let d = Diagnostic::error(Some(doc.span_at(&p)), p.join("."), format!("{svc} {r} has {n} replicas, more than {max}"))
                    .expected(format!("{} to {max}", rd.replicas.min))
                    .hint(format!("set replicas to at most {max}"));
                if user.is_some() {
                    self.diags.push(d);
                } else {
                    self.stack_err(stack, svc, &segs(&["roles", r, "replicas", "default"]), format!("default replicas {n} is more than {max}"));
                }
            }
            // over the bound: the error above stops the run; later stages see the bound
            replicas.insert(r.clone(), n.min(max));
        }
        for r in spec.roles.keys() {
            if !def.roles.contains_key(r) {
                let mut p = base.clone();
                p.push("roles".into());
                let mut pr = p.clone();
                pr.push(r.clone());
                self.diags.push(
                    Diagnostic::error(Some(doc.span_of_key(&p, r)), pr.join("."), format!("unknown role `{r}` of service `{svc}`"))
                        .hint(known_hint(r, "roles", def.roles.keys().map(String::as_str))),
                );
            }
        }
        let pre_ctx = json!({
            "settings": settings,
            "replicas": replicas,
            "cluster": {"name": c.metadata.name, "namespace": ns, "domain": c.spec.cluster_domain},
        });
        let pre = crate::template::value(&pre_ctx);
        // ports that exist only in some configurations
        let mut port_errors = Vec::new();
        for (r, rd) in def.roles.iter_mut() {
            rd.ports.retain(|p| match &p.when {
                None => true,
                Some(w) => self.tpl.truthy(w, &pre).unwrap_or_else(|m| {
                    port_errors.push((r.clone(), p.name.clone(), m));
                    false
                }),
            });
        }
        for (r, port, m) in port_errors {
            self.stack_err(stack, svc, &segs(&["roles", &r, "ports"]), format!("port `{port}`: {m}"));
        }
        let mut roles = Vec::new();
        for (r, rd) in &def.roles {
            let enabled = match &rd.enabled {
                None => true,
                Some(e) => match self.tpl.truthy(e, &pre) {
                    Ok(b) => b,
                    Err(m) => {
                        self.stack_err(stack, svc, &segs(&["roles", r, "enabled"]), m);
                        false
                    }
                },
            };
            let user_role = spec.roles.get(r).and_then(|x| x.as_ref());
            if !enabled {
                if user_role.is_some() {
                    let mut p = base.clone();
                    p.extend(segs(&["roles", r]));
                    let cond = rd.enabled.clone().unwrap_or_default();
                    self.user_err(
                        doc,
                        &p,
                        format!("role `{r}` is not used in this configuration"),
                        format!("the stack enables `{r}` only when `{cond}`; remove it or change the settings"),
                    );
                }
                continue;
            }
            let n = replicas[r];
            if n < rd.replicas.min {
                // reported here, and the stack's templates go on with the minimum (a template
                // that reads `roles.<r>.pods[0]` would otherwise fail inside the stack): one
                // cause, one error
                let mut p = base.clone();
                p.extend(segs(&["roles", r, "replicas"]));
                let min = rd.replicas.min;
                self.diags.push(
                    Diagnostic::error(Some(doc.span_at(&p)), p.join("."), format!("{svc} {r} has {n} replicas, fewer than {min}"))
                        .expected(format!("{min} to {}", rd.replicas.max.min(crate::limits::MAX_REPLICAS)))
                        .hint(format!("set replicas to at least {min}")),
                );
            }
            roles.push((r.clone(), n.max(rd.replicas.min)));
        }
        // role contexts
        let cluster = &c.metadata.name;
        let domain = &c.spec.cluster_domain;
        let mut roles_ctx = Map::new();
        for (r, n) in &roles {
            let rd = &def.roles[r];
            let full = names::role_fullname(cluster, svc, r);
            let pods: Vec<Value> = (0..*n)
                .map(|i| json!({"name": names::pod(&full, i), "ordinal": i, "fqdn": names::pod_fqdn(&full, i, &ns, domain)}))
                .collect();
            let ports: Map<String, Value> = rd.ports.iter().map(|p| (p.name.clone(), json!(p.port))).collect();
            let storage: Map<String, Value> =
                rd.storage.iter().map(|(k, s)| (k.clone(), json!({"mountPath": s.mount_path}))).collect();
            let services: Map<String, Value> = rd
                .services
                .keys()
                .map(|s| (s.clone(), json!(names::service_fqdn(&names::role_service(&full, s), &ns, domain))))
                .collect();
            roles_ctx.insert(
                r.clone(),
                json!({
                    "name": r, "fullname": full, "replicas": n, "pods": pods,
                    "headless": names::service_fqdn(&full, &ns, domain),
                    "ports": ports, "storage": storage, "services": services,
                }),
            );
        }
        // an image override is an image reference, part by part
        if let Some(img) = &spec.image {
            let parts: [(&str, &Option<String>, GrammarFn, &str); 3] = [
                ("repository", &img.repository, crate::grammar::image_repository, "a repository `[registry[:port]/]path`, lower case, e.g. `docker.io/library/zookeeper`"),
                ("tag", &img.tag, crate::grammar::image_tag, "a tag of letters, digits, `_`, `.` and `-` (at most 128), e.g. `3.9.3`"),
                ("digest", &img.digest, crate::grammar::image_digest, "a digest `sha256:` followed by 64 hex digits"),
            ];
            for (field, value, check, expected) in parts {
                if let Some(Err(m)) = value.as_deref().map(check) {
                    let mut p = base.clone();
                    p.extend(segs(&["image", field]));
                    self.diags.push(
                        Diagnostic::error(Some(doc.span_at(&p)), p.join("."), format!("image {field}: {m}"))
                            .expected(expected)
                            .hint("the image reference is written into every pod as is; give the exact reference of a pushed image"),
                    );
                }
            }
        }
        let img = spec.image.clone().unwrap_or_default();
        let mut capabilities = def.image.capabilities.clone();
        capabilities.extend(img.capabilities.clone());
        let repo = img.repository.unwrap_or_else(|| def.image.repository.clone());
        let tag = img.tag.unwrap_or_else(|| def.image.tag.clone());
        let digest = img.digest.or_else(|| def.image.digest.clone());
        let image = match &digest {
            Some(d) => (format!("{repo}:{tag}@{d}"), true),
            None => (format!("{repo}:{tag}"), false),
        };
        let ctx = json!({
            "cluster": {"name": cluster, "namespace": ns, "domain": domain},
            "service": {"name": svc, "version": def.version, "image": image.0},
            "settings": settings,
            "roles": roles_ctx,
            "vars": def.vars,
        });
        let mctx = crate::template::value(&ctx);
        let mut discovery = BTreeMap::new();
        for (k, t) in &def.discovery {
            match self.tpl.render(t, &mctx) {
                Ok(v) => {
                    discovery.insert(k.clone(), v);
                }
                Err(m) => self.stack_err(stack, svc, &segs(&["discovery", k]), m),
            }
        }
        // discovery files without a role: rendered in the service context, so that dependents
        // (resolved in pass 2) can read them
        let base_ov = segs(&["spec", "services", svc, "configOverrides"]);
        for (key, df) in &def.discovery_files {
            if df.role.is_some() {
                continue;
            }
            let Some(fd) = def.files.get(&df.file) else {
                self.stack_err(stack, svc, &segs(&["discoveryFiles", key]), format!("no file `{}`", df.file));
                continue;
            };
            let f = self.file(doc, stack, svc, &df.file, fd, &mctx, spec, &RoleSpec::default(), &base_ov, &base_ov);
            discovery.insert(key.clone(), f.render());
        }
        // what this service demands of the images that use it, starting with its own
        let mut requirements = BTreeMap::new();
        for (cap, rq) in &def.image_requirements {
            match self.tpl.render(&rq.values, &mctx) {
                Ok(v) => {
                    let vals: Vec<String> = v.split_whitespace().map(str::to_string).collect();
                    requirements.insert(cap.clone(), (vals, rq.setting.clone()));
                }
                Err(m) => self.stack_err(stack, svc, &segs(&["imageRequirements", cap, "values"]), m),
            }
        }
        for (cap, (vals, setting)) in &requirements {
            self.check_image(doc, &base, svc, &image.0, &capabilities, svc, &c.metadata.name, cap, vals, setting.as_deref(), &base);
        }
        Some(Skeleton { def, image, settings, roles, ctx, discovery, capabilities, requirements })
    }
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

/// The stack a Cluster is checked against: the one it names; when it names none and bdp knows
/// exactly one stack, that one, so the missing `stack` (an error) does not hide the Cluster's
/// other problems.
fn stack_name_of(c: &Cluster, registry: &Registry) -> Option<String> {
    if !c.spec.stack.is_empty() {
        return Some(c.spec.stack.clone());
    }
    let names = registry.names();
    (names.len() == 1).then(|| names[0].to_string())
}

fn missing_stack(c: &Cluster, doc: &Doc, registry: &Registry) -> Diagnostic {
    let names = registry.names();
    let checked = match names.as_slice() {
        [one] => format!("; the rest of the Cluster is checked against `{one}`, the only stack bdp knows"),
        _ => String::new(),
    };
    Diagnostic::error(Some(doc.span_at(&segs(&["spec"]))), "spec.stack", format!("Cluster `{}` names no stack{checked}", c.metadata.name))
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
                Diagnostic::error(Some(here), "metadata.name", format!("Cluster `{}` in namespace `{ns}` is given twice (first at {first})", c.metadata.name))
                    .hint("names are unique per namespace; rename one of them"),
            );
            continue;
        }
        seen.insert(key, here);
        if c.metadata.namespace.is_none() {
            r.diags.push(
                Diagnostic::warning(Some(doc.span_at(&segs(&["metadata"]))), "metadata.namespace", format!("Cluster `{}` names no namespace; bdp puts it in `default`", c.metadata.name))
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
                        Diagnostic::error(Some(doc.span_at(&segs(&["spec", "stack"]))), "spec.stack", m)
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
                    Diagnostic::error(Some(doc.span_of_key(&p, svc)), format!("spec.services.{svc}"), format!("unknown service `{svc}` in stack `{}`", stack.name))
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
            if let Some(s) = r.service(c, doc, stack, svc, &spec, sk, &skeletons) {
                services.push(s);
            }
        }
        // A cluster with errors still goes on to the plan, so its checks are reported in the
        // same run; rendering never starts while there are errors.
        let rc = ResolvedCluster {
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

impl Resolver<'_> {
    #[allow(clippy::too_many_arguments)]
    fn service(
        &mut self,
        c: &Cluster,
        doc: &Doc,
        stack: &Stack,
        svc: &str,
        spec: &ServiceSpec,
        sk: &Skeleton,
        all: &BTreeMap<SkeletonKey, Skeleton>,
    ) -> Option<ResolvedService> {
        let ns = c.metadata.namespace.clone().unwrap_or_else(|| "default".into());
        let base = segs(&["spec", "services", svc]);
        let def = &sk.def;

        // dependencies
        let mut deps = Vec::new();
        let mut deps_ctx = Map::new();
        let mut dep_env: BTreeMap<String, EnvValue> = BTreeMap::new();
        // dependencies that could not be resolved (each already reported once)
        let mut failed: Vec<String> = Vec::new();
        for d in spec.dependencies.keys() {
            if !def.dependencies.contains_key(d) {
                let mut p = base.clone();
                p.push("dependencies".into());
                let mut pd = p.clone();
                pd.push(d.clone());
                self.diags.push(
                    Diagnostic::error(Some(doc.span_of_key(&p, d)), pd.join("."), format!("service `{svc}` has no dependency `{d}`"))
                        .hint(known_hint(d, "dependencies", def.dependencies.keys().map(String::as_str))),
                );
            }
        }
        for (d, dd) in &def.dependencies {
            let mut p = base.clone();
            p.extend(segs(&["dependencies", d]));
            let user = spec.dependencies.get(d);
            let three_ways = format!(
                "run `{}` in this cluster (add `{}:` under spec.services), name another Cluster among the inputs (`dependencies.{d}.cluster: NAME`), or a ConfigMap in this namespace (`dependencies.{d}.configMap: {{name: NAME, key: KEY}}`)",
                dd.service, dd.service
            );
            let provider: Option<(&Skeleton, DepSource)> = match user {
                Some(DependencySpec { config_map: Some(cm), cluster: None, .. }) => {
                    let Some(env_ref) = &dd.env_ref else {
                        failed.push(d.clone());
                        self.user_err(doc, &p, format!("dependency `{d}` cannot be read from a ConfigMap"), format!("the config files of `{svc}` cannot expand environment variables; use this cluster's `{}` or another Cluster", dd.service));
                        continue;
                    };
                    let var = names::dependency_env_var(d);
                    let key = cm.key.clone().unwrap_or_else(|| names::dependency_value_key(&dd.service));
                    // a ConfigMap name and key, as the API server accepts them
                    let key_ok = !key.is_empty() && key.len() <= names::MAX_DNS_SUBDOMAIN && key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
                    for (field, bad, expected) in [
                        ("name", crate::grammar::dns_subdomain(&cm.name).err(), SettingType::DnsSubdomain.describe()),
                        ("key", (!key_ok).then(|| format!("`{}` is not a ConfigMap key", key.escape_debug())), "a ConfigMap key: letters, digits, `-`, `_` and `.`"),
                    ] {
                        if let Some(m) = bad {
                            let at: Vec<String> = p.iter().cloned().chain(segs(&["configMap", field])).collect();
                            self.diags.push(Diagnostic::error(Some(doc.span_at(&at)), at.join("."), format!("configMap {field}: {m}")).expected(expected).hint("name the ConfigMap (and key) that holds the dependency's discovery value, as `kubectl get configmap` shows it"));
                        }
                    }
                    let ctx = crate::template::value(&json!({"var": var}));
                    let value = match self.tpl.render(env_ref, &ctx) {
                        Ok(v) => v,
                        Err(m) => {
                            failed.push(d.clone());
                            self.stack_err(stack, svc, &segs(&["dependencies", d, "envRef"]), m);
                            continue;
                        }
                    };
                    dep_env.insert(var.clone(), EnvValue::ConfigMapKey { name: cm.name.clone(), key: key.clone() });
                    deps_ctx.insert(d.clone(), json!({"source": "configMap", "value": value, "discovery": {}}));
                    deps.push(ResolvedDep { name: d.clone(), service: dd.service.clone(), from: DepSource::ConfigMap { name: cm.name.clone(), key } });
                    continue;
                }
                Some(DependencySpec { config_map: Some(_), cluster: Some(_), .. }) => {
                    failed.push(d.clone());
                    self.user_err(doc, &p, format!("dependency `{d}` names both a cluster and a configMap"), "choose one of them".into());
                    continue;
                }
                Some(DependencySpec { cluster: Some(other), namespace, .. }) => {
                    let ons = namespace.clone().unwrap_or_else(|| ns.clone());
                    match all.get(&(ons.clone(), other.clone(), dd.service.clone())) {
                        Some(s) => Some((s, DepSource::Cluster { cluster: other.clone(), namespace: ons })),
                        None => {
                            failed.push(d.clone());
                            if self.found.contains_key(&(ons.clone(), other.clone())) {
                                let msg = format!("Cluster `{other}` (namespace `{ons}`) does not run `{}`", dd.service);
                                self.user_err(doc, &p, msg, format!("add `{}:` to that Cluster's services; or {three_ways}", dd.service));
                                continue;
                            }
                            let msg = format!("dependency `{d}` names Cluster `{other}` (namespace `{ons}`), which is not among the inputs");
                            // a Cluster of that name elsewhere is most likely the one meant
                            let elsewhere: Vec<(&String, &Span)> =
                                self.found.iter().filter(|((_, n), _)| n == other).map(|((n, _), sp)| (n, sp)).collect();
                            let hint = match elsewhere.as_slice() {
                                [] => format!("give that Cluster's file to bdp too; or {three_ways}"),
                                found => {
                                    let at: Vec<String> = found.iter().map(|(n, sp)| format!("namespace `{n}` ({sp})")).collect();
                                    format!(
                                        "a Cluster `{other}` is among the inputs in {}; add `namespace: {}` to dependencies.{d}",
                                        at.join(", "),
                                        found[0].0
                                    )
                                }
                            };
                            self.user_err(doc, &p, msg, hint);
                            continue;
                        }
                    }
                }
                _ => match all.get(&(ns.clone(), c.metadata.name.clone(), dd.service.clone())) {
                    Some(s) => Some((s, DepSource::Service)),
                    None => None,
                },
            };
            match provider {
                Some((s, from)) => {
                    let (dc, dns) = match &from {
                        DepSource::Cluster { cluster, namespace } => (cluster.clone(), namespace.clone()),
                        _ => (c.metadata.name.clone(), ns.clone()),
                    };
                    let primary = s.discovery.get(&names::dependency_value_key(&dd.service)).cloned().or_else(|| s.discovery.values().next().cloned());
                    deps_ctx.insert(
                        d.clone(),
                        json!({"source": if from == DepSource::Service {"service"} else {"cluster"},
                               "cluster": dc, "namespace": dns, "value": primary,
                               "discovery": s.discovery, "settings": s.settings, "roles": s.ctx["roles"],
                               "image": s.image.0, "vars": s.def.vars}),
                    );
                    let pbase = segs(&["spec", "services", &dd.service]);
                    for (cap, (vals, setting)) in &s.requirements {
                        self.check_image(doc, &base, svc, &sk.image.0, &sk.capabilities, &dd.service, &dc, cap, vals, setting.as_deref(), &pbase);
                    }
                    deps.push(ResolvedDep { name: d.clone(), service: dd.service.clone(), from });
                }
                None if dd.required => {
                    failed.push(d.clone());
                    self.diags.push(
                        Diagnostic::error(Some(doc.span_at(&base)), base.join("."), format!("service `{svc}` needs `{}` (dependency `{d}`), and none is given", dd.service))
                            .hint(three_ways),
                    );
                }
                None => {}
            }
        }

        // the service context every template of this service sees
        let mut ctx = sk.ctx.clone();
        ctx["deps"] = Value::Object(deps_ctx);
        let present: Map<String, Value> = all
            .iter()
            .filter(|((n, cl, _), _)| n == &ns && cl == &c.metadata.name)
            .map(|((_, _, s), k)| (s.clone(), json!({"settings": k.settings, "roles": k.ctx["roles"], "discovery": k.discovery, "vars": k.def.vars})))
            .collect();
        ctx["services"] = Value::Object(present);

        let (image, image_pinned) = sk.image.clone();

        // user overrides: validate file names
        let role_files: BTreeMap<&str, Vec<&str>> = sk
            .roles
            .iter()
            .map(|(r, _)| (r.as_str(), def.roles[r].files.iter().map(String::as_str).collect()))
            .collect();
        let mut op = base.clone();
        op.push("configOverrides".into());
        self.check_override_files(doc, &op, &spec.config_overrides, def, None);

        let mut roles = Vec::new();
        let mut roles_files_ctx = Map::new();
        for (r, n) in &sk.roles {
            let rd = &def.roles[r];
            let user = spec.roles.get(r).and_then(|x| x.clone()).unwrap_or_default();
            let mut rp = base.clone();
            rp.extend(segs(&["roles", r]));
            let mut rctx = ctx.clone();
            rctx["role"] = ctx["roles"][r].clone();
            let mctx = crate::template::value(&rctx);
            let fullname = names::role_fullname(&c.metadata.name, svc, r);

            // files
            let mut rop = rp.clone();
            rop.push("configOverrides".into());
            self.check_override_files(doc, &rop, &user.config_overrides, def, Some((r, &role_files[r.as_str()])));
            let mut files = Vec::new();
            let mut files_ctx = Map::new();
            for fname in &rd.files {
                let Some(fd) = def.files.get(fname) else {
                    self.stack_err(stack, svc, &segs(&["roles", r, "files"]), format!("role `{r}` mounts unknown file `{fname}`"));
                    continue;
                };
                if let Some(w) = &fd.when {
                    match self.tpl.truthy(w, &mctx) {
                        Ok(false) => continue,
                        Ok(true) => {}
                        Err(m) => {
                            self.stack_err(stack, svc, &segs(&["files", fname, "when"]), m);
                            continue;
                        }
                    }
                }
                let f = self.file(doc, stack, svc, fname, fd, &mctx, spec, &user, &op, &rop);
                let kv: Map<String, Value> = f.entries.iter().map(|e| (e.key.clone(), json!(e.value))).collect();
                files_ctx.insert(fname.clone(), Value::Object(kv));
                files.push(f);
            }
            roles_files_ctx.insert(r.clone(), Value::Object(files_ctx));

            // containers
            let mut env: BTreeMap<String, EnvValue> = BTreeMap::new();
            env.insert("POD_NAME".into(), EnvValue::Field("metadata.name".into()));
            env.insert("POD_NAMESPACE".into(), EnvValue::Field("metadata.namespace".into()));
            for (k, t) in &rd.env {
                match self.tpl.render(t, &mctx) {
                    Ok(v) => {
                        env.insert(k.clone(), EnvValue::Value(v));
                    }
                    Err(m) => self.stack_err(stack, svc, &segs(&["roles", r, "env", k]), m),
                }
            }
            env.extend(dep_env.clone());
            for (k, v) in spec.env_overrides.iter().chain(user.env_overrides.iter()) {
                env.insert(k.clone(), EnvValue::Value(v.clone()));
            }
            let mut resources: Value = serde_json::from_str(DEFAULT_RESOURCES).unwrap_or(Value::Null);
            if let Some(rr) = &rd.resources {
                deep_merge(&mut resources, rr);
            }
            if let Some(ur) = &user.resources {
                deep_merge(&mut resources, ur);
            }
            let mut conts = Vec::new();
            let mut inits = Vec::new();
            for (i, cd) in rd.containers.iter().enumerate() {
                let path = segs(&["roles", r, "containers", &i.to_string()]);
                if let Some(c) = self.container(stack, svc, &path, cd, &mctx, &env, rd, i == 0, &resources) {
                    conts.push(c);
                }
            }
            for (i, cd) in rd.init_containers.iter().enumerate() {
                let path = segs(&["roles", r, "initContainers", &i.to_string()]);
                if let Some(c) = self.container(stack, svc, &path, cd, &mctx, &env, rd, false, &resources) {
                    inits.push(c);
                }
            }

            // storage
            for k in user.storage.keys() {
                if !rd.storage.contains_key(k) {
                    let mut p = rp.clone();
                    p.push("storage".into());
                    let mut pk = p.clone();
                    pk.push(k.clone());
                    self.diags.push(
                        Diagnostic::error(Some(doc.span_of_key(&p, k)), pk.join("."), format!("role `{r}` has no volume `{k}`"))
                            .hint(known_hint(k, "volumes", rd.storage.keys().map(String::as_str))),
                    );
                }
            }
            for (k, st) in &user.storage {
                if let Some(Err(m)) = st.storage_class.as_deref().map(crate::grammar::dns_subdomain) {
                    let p: Vec<String> = rp.iter().cloned().chain(segs(&["storage", k, "storageClass"])).collect();
                    self.diags.push(
                        Diagnostic::error(Some(doc.span_at(&p)), p.join("."), format!("storage class: {m}"))
                            .expected(SettingType::StorageClass.describe())
                            .hint("`kubectl get storageclass` lists the names of the cluster's storage classes"),
                    );
                }
            }
            let storage = rd
                .storage
                .iter()
                .map(|(k, s)| {
                    let u = user.storage.get(k).cloned().unwrap_or_default();
                    Storage {
                        name: k.clone(),
                        mount_path: s.mount_path.clone(),
                        size: u.size.unwrap_or_else(|| s.size.clone()),
                        storage_class: u.storage_class,
                    }
                })
                .collect();
            let mut volumes = Vec::new();
            for (vn, vd) in &rd.volumes {
                let vp = segs(&["roles", r, "volumes", vn]);
                if let Some(w) = &vd.when {
                    match self.tpl.truthy(w, &mctx) {
                        Ok(true) => {}
                        Ok(false) => continue,
                        Err(m) => {
                            self.stack_err(stack, svc, &vp, m);
                            continue;
                        }
                    }
                }
                let name_of = |this: &mut Self, t: &Option<String>| -> Option<String> {
                    let t = t.as_ref()?;
                    match this.tpl.render(t, &mctx) {
                        Ok(v) => Some(v),
                        Err(m) => {
                            this.stack_err(stack, svc, &vp, m);
                            None
                        }
                    }
                };
                let secret = name_of(self, &vd.secret);
                let config_map = name_of(self, &vd.config_map);
                if secret.is_none() == config_map.is_none() {
                    self.stack_err(stack, svc, &vp, "a volume names exactly one of `secret` or `configMap`".into());
                    continue;
                }
                if let Some(cs) = &vd.containers {
                    let known: Vec<&str> = rd.init_containers.iter().chain(rd.containers.iter()).map(|c| c.name.as_str()).collect();
                    for c in cs.iter().filter(|c| !known.contains(&c.as_str())) {
                        self.stack_err(stack, svc, &vp, format!("volume `{vn}` names unknown container `{c}`"));
                    }
                }
                volumes.push(ExternalVolume {
                    name: vn.clone(),
                    secret,
                    config_map,
                    mount_path: vd.mount_path.clone(),
                    optional: vd.optional,
                    items: vd.items.clone(),
                    containers: vd.containers.clone(),
                });
            }
            let manifests = self.manifests(stack, svc, &segs(&["roles", r, "manifests"]), &rd.manifests, &mctx);
            let pods = (0..*n)
                .map(|i| Pod {
                    name: names::pod(&fullname, i),
                    ordinal: i,
                    fqdn: names::pod_fqdn(&fullname, i, &ns, &c.spec.cluster_domain),
                })
                .collect();
            let pod_overrides = match (&rd.pod_overrides, &spec.pod_overrides, &user.pod_overrides) {
                (None, None, None) => None,
                (st, a, b) => {
                    let mut v = st.clone().unwrap_or(json!({}));
                    for o in [a, b].into_iter().flatten() {
                        crate::merge::merge_overrides(&mut v, o);
                    }
                    Some(v)
                }
            };
            roles.push(ResolvedRole {
                scale_down: rd.scale_down.clone(),
                name: r.clone(),
                fullname,
                replicas: *n,
                cardinality: rd.replicas.clone(),
                pods,
                after: rd.after.iter().filter(|a| sk.roles.iter().any(|(x, _)| x == *a)).cloned().collect(),
                pod_management_policy: rd.pod_management_policy.clone().unwrap_or_else(|| "Parallel".into()),
                ports: rd.ports.clone(),
                services: rd.services.clone(),
                storage,
                scratch: rd
                    .scratch
                    .iter()
                    .enumerate()
                    .filter_map(|(i, t)| match self.tpl.render(t.path(), &mctx) {
                        Ok(d) => Some(d.trim().to_string()).filter(|d| !d.is_empty()).map(|path| match t {
                            crate::model::ScratchDef::Path(_) => Scratch { path, medium: None, size_limit: None },
                            crate::model::ScratchDef::Dir { medium, size_limit, .. } => {
                                Scratch { path, medium: medium.clone(), size_limit: size_limit.clone() }
                            }
                        }),
                        Err(m) => {
                            self.stack_err(stack, svc, &segs(&["roles", r, "scratch", &i.to_string()]), m);
                            None
                        }
                    })
                    .collect(),
                files,
                init_containers: inits,
                containers: conts,
                pdb_max_unavailable: rd.pdb.as_ref().and_then(|p| p.max_unavailable),
                spread: user
                    .placement
                    .as_ref()
                    .and_then(|p| p.spread.clone())
                    .or_else(|| rd.placement.as_ref().and_then(|p| p.spread.clone()))
                    .unwrap_or_else(|| "preferred".into()),
                termination_grace_period_seconds: rd.termination_grace_period_seconds,
                pod_overrides,
                volumes,
                manifests,
                user_path: rp,
            });
        }
        for a in def.roles.values().flat_map(|rd| rd.after.iter()) {
            if !def.roles.contains_key(a) {
                self.stack_err(stack, svc, &segs(&["roles"]), format!("`after` names unknown role `{a}`"));
            }
        }
        let mut discovery = sk.discovery.clone();
        for (key, df) in &def.discovery_files {
            let Some(df_role) = &df.role else { continue }; // rendered in the skeleton
            match roles.iter().find(|x| &x.name == df_role).and_then(|x| x.files.iter().find(|f| f.name == df.file)) {
                Some(f) => {
                    discovery.insert(key.clone(), f.render());
                }
                None if sk.roles.iter().any(|(x, _)| x == df_role) || !def.roles.contains_key(df_role) => self.stack_err(
                    stack,
                    svc,
                    &segs(&["discoveryFiles", key]),
                    format!("role `{df_role}` has no file `{}`", df.file),
                ),
                None => {} // the role is not enabled in this configuration
            }
        }
        let smctx = crate::template::value(&ctx);
        let manifests = self.manifests(stack, svc, &segs(&["manifests"]), &def.manifests, &smctx);
        let mut check_ctx = ctx;
        check_ctx["config"] = Value::Object(roles_files_ctx);
        self.checks(doc, stack, svc, &def.checks, &crate::template::value(&check_ctx), &failed);
        Some(ResolvedService {
            name: svc.to_string(),
            version: def.version.clone(),
            image,
            image_pinned,
            run_as: def.run_as.clone(),
            settings: sk.settings.clone(),
            deps,
            discovery,
            roles,
            manifests,
        })
    }

    /// The stack's `checks`: rules over the resolved service (e.g. enough datanodes for
    /// `dfs.replication`). A failed rule points at the Cluster; a broken rule at the stack.
    /// A check that reads a dependency in `failed` is skipped: that dependency's error is
    /// already reported, and one cause gets one error (no cascade).
    fn checks(&mut self, doc: &Doc, stack: &Stack, svc: &str, checks: &[CheckDef], ctx: &minijinja::Value, failed: &[String]) {
        for (i, chk) in checks.iter().enumerate() {
            let here = segs(&["checks", &i.to_string()]);
            let exprs = [Some(&chk.assert), chk.when.as_ref(), Some(&chk.message)];
            if failed.iter().any(|d| exprs.iter().flatten().any(|e| mentions_dep(e, d))) {
                continue;
            }
            if let Some(w) = &chk.when {
                match self.tpl.truthy(w, ctx) {
                    Ok(true) => {}
                    Ok(false) => continue,
                    Err(m) => {
                        self.stack_err(stack, svc, &here, format!("check `when`: {m}"));
                        continue;
                    }
                }
            }
            match self.tpl.truthy(&chk.assert, ctx) {
                Ok(true) => {}
                Ok(false) => {
                    let mut p = segs(&["spec", "services", svc]);
                    if let Some(extra) = &chk.path {
                        p.extend(extra.split('.').map(String::from));
                    }
                    let msg = self.tpl.render(&chk.message, ctx).unwrap_or_else(|_| chk.message.clone());
                    let hint = chk.hint.as_ref().map(|h| self.tpl.render(h, ctx).unwrap_or_else(|_| h.clone()));
                    self.diags.push(Diagnostic::error(Some(doc.span_at(&p)), p.join("."), msg).hint_opt(hint));
                }
                Err(m) => self.stack_err(stack, svc, &here, format!("check `assert`: {m}")),
            }
        }
    }

    /// Renders manifest templates into objects (apiVersion, kind and metadata.name required).
    fn manifests(&mut self, stack: &Stack, svc: &str, path: &[String], templates: &[String], ctx: &minijinja::Value) -> Vec<Value> {
        let mut out = Vec::new();
        for (i, t) in templates.iter().enumerate() {
            let mut p = path.to_vec();
            p.push(i.to_string());
            let text = match self.tpl.render(t, ctx) {
                Ok(x) => x,
                Err(m) => {
                    self.stack_err(stack, svc, &p, m);
                    continue;
                }
            };
            if text.trim().is_empty() {
                continue;
            }
            match crate::source::parse_documents(std::path::Path::new("<manifest>"), &text) {
                Ok(docs) => {
                    for d in docs {
                        let v = d.root.to_json();
                        let ok = v["apiVersion"].is_string() && v["kind"].is_string() && v["metadata"]["name"].is_string();
                        if ok {
                            out.push(v);
                        } else {
                            self.stack_err(stack, svc, &p, "a manifest needs apiVersion, kind and metadata.name".into());
                        }
                    }
                }
                Err(e) => {
                    let m = e.into_iter().map(|d| d.message).collect::<Vec<_>>().join("; ");
                    self.stack_err(stack, svc, &p, format!("manifest is not valid YAML: {m}"));
                }
            }
        }
        out
    }

    /// File names in overrides must exist (and be mounted by the role, for role overrides).
    fn check_override_files(
        &mut self,
        doc: &Doc,
        path: &[String],
        ov: &ConfigOverrides,
        def: &ServiceDef,
        role: Option<(&str, &Vec<&str>)>,
    ) {
        for f in ov.keys() {
            let mut pf = path.to_vec();
            pf.push(f.clone());
            if !def.files.contains_key(f) {
                self.diags.push(
                    Diagnostic::error(Some(doc.span_of_key(path, f)), pf.join("."), format!("unknown config file `{f}`"))
                        .hint(known_hint(f, "files", def.files.keys().map(String::as_str))),
                );
            } else if let Some((r, mounted)) = role
                && !mounted.contains(&f.as_str()) {
                    self.diags.push(
                        Diagnostic::error(Some(doc.span_of_key(path, f)), pf.join("."), format!("role `{r}` does not use `{f}`"))
                            .hint(format!("role `{r}` uses: {}", mounted.join(", "))),
                    );
                }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn file(
        &mut self,
        doc: &Doc,
        stack: &Stack,
        svc: &str,
        fname: &str,
        fd: &FileDef,
        ctx: &minijinja::Value,
        spec: &ServiceSpec,
        user: &RoleSpec,
        svc_path: &[String],
        role_path: &[String],
    ) -> ConfigFile {
        let mut entries: BTreeMap<String, Entry> = BTreeMap::new();
        let mut owned: BTreeMap<String, String> = BTreeMap::new();
        let mut text = None;
        if fd.format == FileFormat::Text {
            match fd.template.as_deref().map(|t| self.tpl.render(t, ctx)) {
                Some(Ok(t)) => text = Some(t),
                Some(Err(m)) => self.stack_err(stack, svc, &segs(&["files", fname, "template"]), m),
                None => self.stack_err(stack, svc, &segs(&["files", fname]), "a `text` file needs a `template`".into()),
            }
        }
        // rendered key name → its definition (for overrides of templated key names)
        let mut key_defs: BTreeMap<String, &KeyDef> = BTreeMap::new();
        for (k, kd) in &fd.keys {
            if let Some(w) = &kd.when {
                match self.tpl.truthy(w, ctx) {
                    Ok(true) => {}
                    Ok(false) => continue,
                    Err(m) => {
                        self.stack_err(stack, svc, &segs(&["files", fname, "keys", k, "when"]), m);
                        continue;
                    }
                }
            }
            // a key name may itself be a template (e.g. a krb5 `realms/<realm>/kdc`)
            let name = match self.tpl.render(k, ctx) {
                Ok(n) => n,
                Err(m) => {
                    self.stack_err(stack, svc, &segs(&["files", fname, "keys", k]), m);
                    continue;
                }
            };
            match self.tpl.render(&kd.value, ctx) {
                Ok(v) => {
                    entries.insert(name.clone(), Entry { key: name.clone(), value: v, restart: kd.restart.unwrap_or(fd.restart) });
                    if kd.owned {
                        owned.insert(name.clone(), kd.doc.clone());
                    }
                    key_defs.insert(name, kd);
                }
                Err(m) => self.stack_err(stack, svc, &segs(&["files", fname, "keys", k, "value"]), m),
            }
        }
        for (gi, g) in fd.generate.iter().enumerate() {
            let gp = segs(&["files", fname, "generate", &gi.to_string()]);
            if g.key.is_empty() == g.keys.is_none() {
                self.stack_err(stack, svc, &gp, "a `generate` entry names exactly one of `key` or `keys`".into());
                continue;
            }
            if let Some(w) = &g.when {
                match self.tpl.truthy(w, ctx) {
                    Ok(true) => {}
                    Ok(false) => continue,
                    Err(m) => {
                        self.stack_err(stack, svc, &gp, m);
                        continue;
                    }
                }
            }
            let items = match self.tpl.eval(&g.foreach, ctx) {
                Ok(v) => v,
                Err(m) => {
                    self.stack_err(stack, svc, &gp, m);
                    continue;
                }
            };
            let Ok(iter) = items.try_iter() else {
                self.stack_err(stack, svc, &gp, format!("`foreach: {}` is not a list", g.foreach));
                continue;
            };
            for item in iter {
                let local = minijinja::value::merge_maps([minijinja::Value::from(BTreeMap::from([(g.var.clone(), item)])), ctx.clone()]);
                let value = match self.tpl.render(&g.value, &local) {
                    Ok(v) => v,
                    Err(m) => {
                        self.stack_err(stack, svc, &gp, m);
                        continue;
                    }
                };
                // one key (`key`), or every key of the list `keys` yields
                let keys: Result<Vec<String>, String> = match &g.keys {
                    None => self.tpl.render(&g.key, &local).map(|k| vec![k]),
                    Some(e) => self.tpl.eval(e, &local).and_then(|v| match v.try_iter() {
                        Ok(it) => Ok(it.map(|k| k.as_str().map(str::to_string).unwrap_or_else(|| k.to_string())).collect()),
                        Err(_) => Err(format!("`keys: {e}` is not a list")),
                    }),
                };
                let keys = match keys {
                    Ok(k) => k,
                    Err(m) => {
                        self.stack_err(stack, svc, &gp, m);
                        continue;
                    }
                };
                for key in keys {
                    if g.owned {
                        owned.insert(key.clone(), g.doc.clone());
                    }
                    entries.insert(key.clone(), Entry { key, value: value.clone(), restart: fd.restart });
                }
            }
        }
        // overrides: service level, then role level
        const MAX_SUGGESTIONS: usize = 32;
        let mut suggested = 0;
        let mut overridden = std::collections::BTreeSet::new();
        for (ov, path) in [(&spec.config_overrides, svc_path), (&user.config_overrides, role_path)] {
            let Some(keys) = ov.get(fname) else { continue };
            let mut fp = path.to_vec();
            fp.push(fname.to_string());
            // positions of the keys, looked up once (a search per key made wide overrides quadratic)
            let key_spans = KeySpans::new(doc, &fp);
            for (k, v) in keys {
                let mut kp = fp.clone();
                kp.push(k.clone());
                if fd.format == FileFormat::Text {
                    self.diags.push(
                        Diagnostic::error(Some(key_spans.get(k)), kp.join("."), format!("`{fname}` is a template file without keys"))
                            .hint("it cannot be overridden key by key"),
                    );
                    continue;
                }
                if let Some(why) = owned.get(k) {
                    let why = if why.is_empty() { String::new() } else { format!(" ({why})") };
                    self.diags.push(
                        Diagnostic::error(Some(key_spans.get(k)), kp.join("."), format!("`{k}` in `{fname}` is set by bdp and cannot be overridden{why}"))
                            .hint("bdp derives this key from the cluster layout; change the roles, replicas or dependencies instead"),
                    );
                    continue;
                }
                // unknown: neither declared by the stack nor in the daemon's key lists (knownKeys)
                let lists = stack.known_keys(svc, fname);
                if !entries.contains_key(k) && !fd.keys.contains_key(k) && !lists.iter().any(|l| l.contains(k)) {
                    let mut d = Diagnostic::warning(Some(key_spans.get(k)), kp.join("."), format!("`{k}` is not a key bdp knows in `{fname}`"));
                    // bounded work: a did-you-mean for the first MAX_SUGGESTIONS unknown keys of a file
                    let close = (suggested < MAX_SUGGESTIONS).then(|| {
                        suggested += 1;
                        let declared = entries.keys().chain(fd.keys.keys()).map(String::as_str);
                        crate::diag::did_you_mean_key(k, declared.chain(lists.iter().flat_map(|l| l.keys())))
                    });
                    let checked = if lists.is_empty() { "" } else { " nor in the daemon's key list" };
                    d = d.hint_opt(close.flatten().or_else(|| Some(format!("it is not declared by the stack{checked}; it is passed through as written, so check its spelling against the service's documentation"))));
                    self.diags.push(d);
                }
                let restart = key_defs.get(k).copied().or_else(|| fd.keys.get(k)).and_then(|kd| kd.restart).unwrap_or(fd.restart);
                let value = scalar_string(v);
                // a value the file's format cannot hold is an error here, at the user's value
                if let Err(why) = crate::formats::check_entry(fd.format, k, &value) {
                    let key_is_bad = crate::formats::check_entry(fd.format, k, "").is_err();
                    let span = if key_is_bad { doc.span_of_key(&fp, k) } else { doc.span_at(&kp) };
                    self.diags.push(
                        Diagnostic::error(Some(span), kp.join("."), format!("`{k}` in `{fname}` cannot be written: {why}"))
                            .expected(fd.format.grammar())
                            .hint("bdp writes values as data, never as syntax; remove the character or write the value another way"),
                    );
                    overridden.insert(k.clone());
                    continue;
                }
                overridden.insert(k.clone());
                entries.insert(k.clone(), Entry { key: k.clone(), value, restart });
            }
        }
        // values from the stack's templates: a setting without a precise enough `type` could
        // still carry syntax; the writer leaves such an entry out, and this is the error
        for e in entries.values().filter(|e| !overridden.contains(&e.key)) {
            if let Err(why) = crate::formats::check_entry(fd.format, &e.key, &e.value) {
                self.stack_err(stack, svc, &segs(&["files", fname, "keys"]), format!("key `{}` of `{fname}` cannot be written: {why}; give the settings it uses a `type`", e.key.escape_debug()));
            }
        }
        let mut entries: Vec<Entry> = entries.into_values().collect();
        entries.sort_by(|a, b| crate::formats::natural_cmp(&a.key, &b.key));
        ConfigFile { name: fname.to_string(), format: fd.format, dir: fd.dir.clone(), entries, text, restart: fd.restart }
    }

    #[allow(clippy::too_many_arguments)]
    fn container(
        &mut self,
        stack: &Stack,
        svc: &str,
        path: &[String],
        cd: &ContainerDef,
        ctx: &minijinja::Value,
        env: &BTreeMap<String, EnvValue>,
        rd: &RoleDef,
        first: bool,
        resources: &Value,
    ) -> Option<Container> {
        if let Some(w) = &cd.when {
            match self.tpl.truthy(w, ctx) {
                Ok(true) => {}
                Ok(false) => return None,
                Err(m) => {
                    self.stack_err(stack, svc, path, m);
                    return None;
                }
            }
        }
        let mut ok = true;
        let mut render_all = |this: &mut Self, items: &[String], what: &str| -> Vec<String> {
            items
                .iter()
                .filter_map(|t| match this.tpl.render(t, ctx) {
                    Ok(v) => Some(v),
                    Err(m) => {
                        let mut p = path.to_vec();
                        p.push(what.into());
                        this.stack_err(stack, svc, &p, m);
                        ok = false;
                        None
                    }
                })
                .collect()
        };
        let image = cd.image.as_ref().map(|t| render_all(self, std::slice::from_ref(t), "image").pop().unwrap_or_default());
        let command = render_all(self, &cd.command, "command");
        let args = render_all(self, &cd.args, "args");
        let mut cenv = env.clone();
        for (k, t) in &cd.env {
            match self.tpl.render(t, ctx) {
                Ok(v) => {
                    // container-specific values do not override the user's overrides
                    cenv.entry(k.clone()).or_insert(EnvValue::Value(v));
                }
                Err(m) => {
                    let mut p = path.to_vec();
                    p.extend(segs(&["env", k]));
                    self.stack_err(stack, svc, &p, m);
                }
            }
        }
        for (k, sd) in &cd.secret_env {
            match self.tpl.render(&sd.secret, ctx) {
                Ok(name) => {
                    cenv.insert(k.clone(), EnvValue::SecretKey { name, key: sd.key.clone(), optional: sd.optional });
                }
                Err(m) => {
                    let mut p = path.to_vec();
                    p.extend(segs(&["secretEnv", k]));
                    self.stack_err(stack, svc, &p, m);
                }
            }
        }
        let ports: Vec<PortDef> = match &cd.ports {
            Some(names) => rd.ports.iter().filter(|p| names.contains(&p.name)).cloned().collect(),
            None if first => rd.ports.clone(),
            None => vec![],
        };
        let mut probe = |this: &mut Self, p: &Option<ProbeDef>, what: &str| -> Option<Probe> {
            let p = p.as_ref()?;
            let port_of = |name: &str| rd.ports.iter().find(|x| x.name == name).map(|x| x.port);
            let mut pp = path.to_vec();
            pp.push(what.into());
            let tcp = match &p.tcp {
                Some(n) => match port_of(n) {
                    Some(x) => Some(x),
                    None => {
                        this.stack_err(stack, svc, &pp, format!("probe names unknown port `{n}`"));
                        None
                    }
                },
                None => None,
            };
            let http = match &p.http {
                Some(h) => match port_of(&h.port) {
                    Some(x) => Some((h.path.clone(), x)),
                    None => {
                        this.stack_err(stack, svc, &pp, format!("probe names unknown port `{}`", h.port));
                        None
                    }
                },
                None => None,
            };
            let exec = p.exec.as_ref().map(|e| render_all(this, e, what));
            Some(Probe {
                exec,
                tcp,
                http,
                initial_delay_seconds: p.initial_delay_seconds,
                period_seconds: p.period_seconds,
                timeout_seconds: p.timeout_seconds,
                failure_threshold: p.failure_threshold,
            })
        };
        let readiness = probe(self, &cd.readiness, "readiness");
        let liveness = probe(self, &cd.liveness, "liveness");
        let startup = probe(self, &cd.startup, "startup");
        let mut res = resources.clone();
        if let Some(cr) = &cd.resources {
            deep_merge(&mut res, cr);
        }
        if !ok {
            return None;
        }
        Some(Container { name: cd.name.clone(), command, args, env: cenv, ports, readiness, liveness, startup, resources: res, image })
    }
}
