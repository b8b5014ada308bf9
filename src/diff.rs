//! `bdp diff OLD NEW`: what a change does to the running clusters, for pull-request review.
//!
//! OLD and NEW are inputs rendered on the fly (files, directories, or `REV:PATH` read from Git),
//! or with `--rendered`, output bdp rendered earlier (a YAML stream or an `-o` directory, also as
//! `REV:PATH`). Objects are matched by API group, kind, namespace and name (not apiVersion, so a
//! version bump is a change, not a delete and a create); list items by their merge key
//! (`name`, `containerPort`, `port`); config files embedded in ConfigMaps key by key in their
//! own format (Hadoop XML properties by `<name>`, Java properties by key, krb5/ini profiles by
//! `section/relation`, env files by variable), other text line by line.
//!
//! The report leads with the impact: pods that restart and why, objects created or deleted,
//! changes to immutable fields that a sync cannot apply (and how to migrate), data risks
//! (replicas of a role with volume claims reduced, a quorum role made even or smaller, claims or
//! data-bearing StatefulSets deleted, retention set to Delete, image downgrades), and changes of
//! sync wave and start order. Secret values are never printed.
//!
//! Exit codes: 0 no change, 1 changes, 2 invalid input or error.

use crate::diag::{Diagnostic, Diagnostics, Span};
use crate::model::FileFormat;
use crate::formats::{detect, natural_cmp, parse};
use crate::names::{CHECKSUM_ANNOTATION, LABEL_CLUSTER, LABEL_ROLE, LABEL_SERVICE, WAVE_ANNOTATION};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    Text,
    Markdown,
    Json,
}

#[derive(Debug, Clone, Default)]
pub struct DiffOptions {
    /// OLD and NEW are rendered output, not inputs.
    pub rendered: bool,
    /// Options for rendering inputs.
    pub compile: crate::Options,
}

// =============================================================================================
// Sides: the objects of OLD or NEW, and what the plan knows about them

/// Identity of an object: API group (not version), kind, namespace, name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct ObjKey {
    pub group: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
}

impl std::fmt::Display for ObjKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{} {}", self.kind, self.name)
        } else {
            write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

fn group_of(api_version: &str) -> String {
    api_version.rsplit_once('/').map(|(g, _)| g.to_string()).unwrap_or_default()
}

/// What the plan says about a role (known when a side was rendered from inputs).
#[derive(Debug, Clone)]
pub struct RoleFacts {
    /// `namespace/cluster/service/role`
    pub id: String,
    pub odd: bool,
    pub stack: String,
    pub service: String,
    pub role: String,
    /// The stack's advice for lowering the role's replicas (`scaleDown`).
    pub scale_down: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct PlanFacts {
    /// (namespace, StatefulSet name) → role
    pub roles: BTreeMap<(String, String), RoleFacts>,
    /// start-order edges `before → after`, as role ids
    pub edges: BTreeSet<(String, String)>,
    /// (namespace, ConfigMap name, data key) → the file's format
    pub formats: BTreeMap<(String, String, String), FileFormat>,
    /// (namespace, ConfigMap name, data key) → keys whose change needs no restart (`*`: the
    /// whole file)
    pub hot: BTreeMap<(String, String, String), BTreeSet<String>>,
}

impl PlanFacts {
    pub fn from_plan(plan: &crate::plan::Plan) -> Self {
        let mut f = PlanFacts::default();
        for c in &plan.clusters {
            for s in &c.services {
                for r in &s.roles {
                    f.roles.insert(
                        (c.namespace.clone(), r.fullname.clone()),
                        RoleFacts {
                            id: format!("{}/{}/{}/{}", c.namespace, c.name, s.name, r.name),
                            odd: r.cardinality.odd,
                            stack: c.stack.clone(),
                            service: s.name.clone(),
                            role: r.name.clone(),
                            scale_down: r.scale_down.clone(),
                        },
                    );
                    for file in &r.files {
                        let id = (c.namespace.clone(), r.fullname.clone(), file.name.clone());
                        f.formats.insert(id.clone(), file.format);
                        let mut hot: BTreeSet<String> = file.entries.iter().filter(|e| !e.restart).map(|e| e.key.clone()).collect();
                        if !file.restart && file.format == FileFormat::Text {
                            hot.insert("*".into());
                        }
                        if !hot.is_empty() {
                            f.hot.insert(id, hot);
                        }
                    }
                }
            }
        }
        for (a, b) in &plan.edges {
            f.edges.insert((format!("{}/{a}", a.namespace), format!("{}/{b}", b.namespace)));
        }
        f
    }
}

#[derive(Debug, Clone, Default)]
pub struct Side {
    /// As the user named it (`main:prod.yaml`, `out/`).
    pub label: String,
    pub objects: BTreeMap<ObjKey, Value>,
    pub plan: Option<PlanFacts>,
}

impl Side {
    /// A side from compiled objects and their plan.
    pub fn from_compiled(label: &str, c: &crate::Compiled) -> Self {
        let objects = c
            .objects
            .iter()
            .map(|o| (ObjKey { group: group_of(&o.api_version), kind: o.kind.clone(), namespace: o.namespace.clone(), name: o.name.clone() }, o.body.clone()))
            .collect();
        Side { label: label.to_string(), objects, plan: Some(PlanFacts::from_plan(&c.plan)) }
    }

    /// A side from rendered YAML (documents of one or more files).
    pub fn from_documents(label: &str, docs: Vec<crate::source::Doc>, diags: &mut Diagnostics) -> Self {
        let mut objects = BTreeMap::new();
        for d in docs {
            let v = d.root.to_json();
            if v.is_null() {
                continue;
            }
            let span = Some(d.span_at(&[]));
            let s = |k: &[&str]| -> Option<String> {
                let mut cur = &v;
                for p in k {
                    cur = cur.get(*p)?;
                }
                cur.as_str().map(String::from)
            };
            let (Some(api), Some(kind), Some(name)) = (s(&["apiVersion"]), s(&["kind"]), s(&["metadata", "name"])) else {
                diags.push(
                    Diagnostic::error(span, "", "not a Kubernetes object: apiVersion, kind and metadata.name are required")
                        .hint("--rendered reads what `bdp render` wrote (a YAML stream or an -o directory); without --rendered, OLD and NEW are Cluster inputs"),
                );
                continue;
            };
            if api == crate::model::API_VERSION {
                diags.push(
                    Diagnostic::error(span, "kind", format!("a bdp input (`kind: {kind}`), not rendered output"))
                        .hint("drop --rendered to render the inputs, or point at what `bdp render` wrote"),
                );
                continue;
            }
            let key = ObjKey { group: group_of(&api), kind, namespace: s(&["metadata", "namespace"]).unwrap_or_default(), name };
            if objects.contains_key(&key) {
                diags.push(Diagnostic::error(span, "metadata.name", format!("{key} appears twice")).hint("each object may appear once in a rendering"));
                continue;
            }
            objects.insert(key, v);
        }
        Side { label: label.to_string(), objects, plan: None }
    }
}

// =============================================================================================
// Reading OLD and NEW: paths, `REV:PATH` from Git, rendered output

use crate::gitspec::{is_yaml, materialize, Materialized};

/// The files of a rendered directory: what its kustomization.yaml lists (recursively), or
/// every YAML file but kustomization files.
fn rendered_files(dir: &Path, diags: &mut Diagnostics, depth: usize) -> Vec<PathBuf> {
    let kfile = ["kustomization.yaml", "kustomization.yml"].iter().map(|k| dir.join(k)).find(|p| p.is_file());
    let Some(kfile) = kfile else {
        return walkdir::WalkDir::new(dir)
            .sort_by_file_name()
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .map(|e| e.into_path())
            .filter(|p| is_yaml(&p.to_string_lossy()) && !matches!(p.file_name().and_then(|n| n.to_str()), Some("kustomization.yaml" | "kustomization.yml")))
            .collect();
    };
    let docs = crate::load::load(std::slice::from_ref(&kfile), diags);
    let mut out = Vec::new();
    for d in docs {
        let v = d.root.to_json();
        for r in v.get("resources").and_then(Value::as_array).into_iter().flatten() {
            let Some(r) = r.as_str() else { continue };
            let p = dir.join(r);
            if p.is_dir() && depth < 16 {
                out.extend(rendered_files(&p, diags, depth + 1));
            } else if p.is_file() {
                out.push(p);
            } else {
                diags.push(Diagnostic::error(Some(d.span_at(&[])), "resources", format!("{r}: listed in {} but not found", kfile.display())));
            }
        }
    }
    out
}

/// Reads OLD or NEW.
pub fn load_side(spec: &str, opts: &DiffOptions) -> Result<(Side, Diagnostics), Diagnostics> {
    let mut diags = Diagnostics::default();
    let m: Materialized = materialize(&[PathBuf::from(spec)])?;
    let Some(local) = m.paths.first().cloned() else { return Err(diags) };
    let result = if opts.rendered {
        let files = if local.as_os_str() == "-" || local.is_file() {
            vec![local.clone()]
        } else if local.is_dir() {
            let f = rendered_files(&local, &mut diags, 0);
            if f.is_empty() && !diags.has_errors() {
                diags.push(Diagnostic::error(Some(Span::new(&local, 0, 0)), "", "directory holds no rendered YAML"));
            }
            f
        } else {
            diags.push(Diagnostic::error(Some(Span::new(&local, 0, 0)), "", "no such file or directory"));
            vec![]
        };
        let docs: Vec<_> = files.iter().flat_map(|f| crate::load::load_file(f, &mut diags)).collect();
        let side = Side::from_documents(spec, docs, &mut diags);
        if diags.has_errors() { Err(diags) } else { Ok((side, diags)) }
    } else {
        match crate::compile(std::slice::from_ref(&local), &opts.compile) {
            Ok(c) => {
                let w = c.diags.clone();
                Ok((Side::from_compiled(spec, &c), w))
            }
            Err(d) => Err(d),
        }
    };
    match result {
        Ok((s, mut w)) => {
            m.relabel(&mut w);
            Ok((s, w))
        }
        Err(mut d) => {
            m.relabel(&mut d);
            Err(d)
        }
    }
}

// =============================================================================================
// The report

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Added,
    Removed,
    Changed,
    Reordered,
}

impl Op {
    fn sign(self) -> &'static str {
        match self {
            Op::Added => "+",
            Op::Removed => "-",
            Op::Changed => "~",
            Op::Reordered => "↕",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    Key(String),
    Item(String),
    Index(usize),
}

fn path_string(segs: &[Seg]) -> String {
    let mut s = String::new();
    for seg in segs {
        match seg {
            Seg::Key(k) if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Key(k) => {
                let _ = write!(s, "[{}]", serde_json::to_string(k).unwrap_or_default());
            }
            Seg::Item(k) => {
                let _ = write!(s, "[{k}]");
            }
            Seg::Index(i) => {
                let _ = write!(s, "[{i}]");
            }
        }
    }
    s
}

#[derive(Debug, Clone, Serialize)]
pub struct FieldChange {
    pub path: String,
    pub op: Op,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
    /// Secret data: values are not shown.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub redacted: bool,
    #[serde(skip)]
    segs: Vec<Seg>,
}

impl FieldChange {
    fn starts_with(&self, keys: &[&str]) -> bool {
        keys.len() <= self.segs.len() && keys.iter().zip(&self.segs).all(|(k, s)| matches!(s, Seg::Key(x) if x == k))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct EntryChange {
    pub key: String,
    pub op: Op,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<String>,
}

/// A config file (ConfigMap data key) that was added, removed or changed.
#[derive(Debug, Clone, Serialize)]
pub struct FileChange {
    pub file: String,
    pub format: FileFormat,
    pub op: Op,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<EntryChange>,
    /// Unified diff for text files, or when only formatting changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_diff: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines: Option<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ObjRef {
    #[serde(flatten)]
    pub key: ObjKey,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wave: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ObjChange {
    #[serde(flatten)]
    pub key: ObjKey,
    pub fields: Vec<FieldChange>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FileChange>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Restart {
    pub workload: ObjKey,
    pub pods: PodList,
    /// How the pods roll (one at a time, on delete, ...).
    pub rollout: String,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Immutable {
    pub object: ObjKey,
    pub field: String,
    pub change: String,
    pub migration: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Risk {
    pub object: ObjKey,
    pub risk: String,
    pub advice: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct WaveChange {
    /// The role (`namespace/cluster/service/role`) or the object.
    pub what: String,
    pub objects: usize,
    pub old: i64,
    pub new: i64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub created: usize,
    pub deleted: usize,
    pub changed: usize,
    pub unchanged: usize,
    pub pods_restarting: usize,
    pub immutable: usize,
    pub risks: usize,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub old: String,
    pub new: String,
    pub summary: Summary,
    pub restarts: Vec<Restart>,
    pub created: Vec<ObjRef>,
    pub deleted: Vec<ObjRef>,
    pub immutable: Vec<Immutable>,
    pub risks: Vec<Risk>,
    pub waves: Vec<WaveChange>,
    pub order_added: Vec<(String, String)>,
    pub order_removed: Vec<(String, String)>,
    pub notes: Vec<String>,
    pub changes: Vec<ObjChange>,
}

impl Report {
    pub fn has_changes(&self) -> bool {
        !(self.created.is_empty() && self.deleted.is_empty() && self.changes.is_empty() && self.order_added.is_empty() && self.order_removed.is_empty())
    }
}

// =============================================================================================
// Structural diff

fn merge_key(v: &Value) -> Option<String> {
    let proto = || v.get("protocol").and_then(Value::as_str).unwrap_or("TCP").to_string();
    if let Some(n) = v.get("name").and_then(Value::as_str) {
        return Some(format!("name={n}"));
    }
    if let Some(n) = v.get("metadata").and_then(|m| m.get("name")).and_then(Value::as_str) {
        return Some(format!("name={n}"));
    }
    if let Some(p) = v.get("containerPort") {
        return Some(format!("containerPort={p}/{}", proto()));
    }
    if let Some(p) = v.get("port").filter(|p| p.is_number() || p.is_string()) {
        let p = p.as_str().map(String::from).unwrap_or_else(|| p.to_string());
        return Some(format!("port={p}/{}", proto()));
    }
    None
}

fn keyed(items: &[Value]) -> Option<Vec<String>> {
    let keys: Option<Vec<String>> = items.iter().map(|i| if i.is_object() { merge_key(i) } else { None }).collect();
    let keys = keys?;
    let unique: BTreeSet<&String> = keys.iter().collect();
    (unique.len() == keys.len()).then_some(keys)
}

fn diff_value(a: &Value, b: &Value, segs: &mut Vec<Seg>, out: &mut Vec<FieldChange>) {
    let push = |out: &mut Vec<FieldChange>, segs: &[Seg], op, old: Option<&Value>, new: Option<&Value>| {
        out.push(FieldChange { path: path_string(segs), op, old: old.cloned(), new: new.cloned(), redacted: false, segs: segs.to_vec() })
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                segs.push(Seg::Key(k.clone()));
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => diff_value(u, v, segs, out),
                    (None, Some(v)) => push(out, segs, Op::Added, None, Some(v)),
                    (Some(u), None) => push(out, segs, Op::Removed, Some(u), None),
                    (None, None) => {}
                }
                segs.pop();
            }
        }
        (Value::Array(x), Value::Array(y)) if a != b => match (keyed(x), keyed(y)) {
            (Some(kx), Some(ky)) if !x.is_empty() && !y.is_empty() => {
                for (i, k) in kx.iter().enumerate() {
                    segs.push(Seg::Item(k.clone()));
                    match ky.iter().position(|q| q == k) {
                        Some(j) => diff_value(&x[i], &y[j], segs, out),
                        None => push(out, segs, Op::Removed, Some(&x[i]), None),
                    }
                    segs.pop();
                }
                for (j, k) in ky.iter().enumerate() {
                    if !kx.contains(k) {
                        segs.push(Seg::Item(k.clone()));
                        push(out, segs, Op::Added, None, Some(&y[j]));
                        segs.pop();
                    }
                }
                let common_x: Vec<&String> = kx.iter().filter(|k| ky.contains(k)).collect();
                let common_y: Vec<&String> = ky.iter().filter(|k| kx.contains(k)).collect();
                if common_x != common_y {
                    let names = |v: &[&String]| Value::Array(v.iter().map(|s| Value::String(s.to_string())).collect());
                    push(out, segs, Op::Reordered, Some(&names(&common_x)), Some(&names(&common_y)));
                }
            }
            _ if x.iter().chain(y.iter()).all(|v| v.is_object()) && x.len() == y.len() => {
                for (i, (u, v)) in x.iter().zip(y).enumerate() {
                    segs.push(Seg::Index(i));
                    diff_value(u, v, segs, out);
                    segs.pop();
                }
            }
            _ => push(out, segs, Op::Changed, Some(a), Some(b)),
        },
        _ if a != b => push(out, segs, Op::Changed, Some(a), Some(b)),
        _ => {}
    }
}

/// Field changes of a whole object (the wave annotation is reported with waves, not here;
/// ConfigMap data is compared file by file elsewhere).
fn diff_object(key: &ObjKey, a: &Value, b: &Value) -> Vec<FieldChange> {
    let strip = |v: &Value| -> Value {
        let mut v = v.clone();
        if let Some(m) = v.pointer_mut("/metadata/annotations").and_then(Value::as_object_mut) {
            m.remove(WAVE_ANNOTATION);
            if m.is_empty()
                && let Some(md) = v.get_mut("metadata").and_then(Value::as_object_mut)
            {
                md.remove("annotations");
            }
        }
        if key.kind == "ConfigMap"
            && key.group.is_empty()
            && let Some(o) = v.as_object_mut()
        {
            o.remove("data");
            o.remove("binaryData");
        }
        v
    };
    let mut out = Vec::new();
    diff_value(&strip(a), &strip(b), &mut Vec::new(), &mut out);
    if key.kind == "Secret" && key.group.is_empty() {
        for c in &mut out {
            if c.starts_with(&["data"]) || c.starts_with(&["stringData"]) || c.segs.is_empty() {
                c.old = None;
                c.new = None;
                c.redacted = true;
            }
        }
    }
    out
}

// =============================================================================================
// Config files

fn text_diff(name: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new).unified_diff().context_radius(3).header(&format!("a/{name}"), &format!("b/{name}")).to_string()
}

/// Compares one config file of a ConfigMap.
pub fn diff_file(name: &str, old: Option<&str>, new: Option<&str>, hint: Option<FileFormat>) -> Option<FileChange> {
    let guess = |t: &str| hint.unwrap_or_else(|| detect(name, t));
    match (old, new) {
        (None, None) => None,
        (Some(a), Some(b)) if a == b => None,
        (None, Some(b)) => Some(FileChange { file: name.into(), format: guess(b), op: Op::Added, entries: vec![], text_diff: None, lines: Some(b.lines().count()) }),
        (Some(a), None) => Some(FileChange { file: name.into(), format: guess(a), op: Op::Removed, entries: vec![], text_diff: None, lines: Some(a.lines().count()) }),
        (Some(a), Some(b)) => {
            let format = guess(b);
            let parsed = match (parse(format, a), parse(format, b)) {
                (Some(x), Some(y)) => Some((x, y)),
                _ => None,
            };
            let Some((x, y)) = parsed else {
                return Some(FileChange { file: name.into(), format: FileFormat::Text, op: Op::Changed, entries: vec![], text_diff: Some(text_diff(name, a, b)), lines: None });
            };
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect::<BTreeSet<_>>().into_iter().collect();
            keys.sort_by(|p, q| natural_cmp(p, q));
            let mut entries = Vec::new();
            for k in keys {
                let (u, v) = (x.get(k), y.get(k));
                let op = match (u, v) {
                    (Some(u), Some(v)) if u == v => continue,
                    (Some(_), Some(_)) => Op::Changed,
                    (None, Some(_)) => Op::Added,
                    (Some(_), None) => Op::Removed,
                    (None, None) => continue,
                };
                entries.push(EntryChange { key: k.clone(), op, old: u.cloned(), new: v.cloned() });
            }
            // nothing changed key by key: comments, order or formatting; show the text
            let td = entries.is_empty().then(|| text_diff(name, a, b));
            Some(FileChange { file: name.into(), format, op: Op::Changed, entries, text_diff: td, lines: None })
        }
    }
}

// =============================================================================================
// Impact

fn template_path(kind: &str) -> Option<&'static [&'static str]> {
    match kind {
        "StatefulSet" | "Deployment" | "DaemonSet" | "ReplicaSet" | "Job" => Some(&["spec", "template"]),
        "CronJob" => Some(&["spec", "jobTemplate", "spec", "template"]),
        _ => None,
    }
}

fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for p in path {
        cur = cur.get(*p)?;
    }
    Some(cur)
}

/// `spec.replicas` of a rendered workload; a negative count (which the API server refuses)
/// counts as 0. Whatever its size, it is only ever counted, never expanded.
fn replicas(v: &Value) -> i64 {
    at(v, &["spec", "replicas"]).and_then(Value::as_i64).unwrap_or(1).max(0)
}

fn wave_of(v: &Value) -> Option<i64> {
    at(v, &["metadata", "annotations", WAVE_ANNOTATION]).and_then(|w| w.as_str().and_then(|s| s.trim().parse().ok()).or_else(|| w.as_i64()))
}

fn containers(template: &Value) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    for list in ["initContainers", "containers"] {
        for c in at(template, &["spec", list]).and_then(Value::as_array).into_iter().flatten() {
            out.push((c.get("name").and_then(Value::as_str).unwrap_or("?").to_string(), c));
        }
    }
    out
}

/// ConfigMaps a pod template reads (volumes, projected volumes, env, envFrom).
fn config_maps_of(template: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for v in at(template, &["spec", "volumes"]).and_then(Value::as_array).into_iter().flatten() {
        if let Some(n) = at(v, &["configMap", "name"]).and_then(Value::as_str) {
            out.insert(n.to_string());
        }
        for s in at(v, &["projected", "sources"]).and_then(Value::as_array).into_iter().flatten() {
            if let Some(n) = at(s, &["configMap", "name"]).and_then(Value::as_str) {
                out.insert(n.to_string());
            }
        }
    }
    for (_, c) in containers(template) {
        for e in c.get("env").and_then(Value::as_array).into_iter().flatten() {
            if let Some(n) = at(e, &["valueFrom", "configMapKeyRef", "name"]).and_then(Value::as_str) {
                out.insert(n.to_string());
            }
        }
        for e in c.get("envFrom").and_then(Value::as_array).into_iter().flatten() {
            if let Some(n) = at(e, &["configMapRef", "name"]).and_then(Value::as_str) {
                out.insert(n.to_string());
            }
        }
    }
    out
}

/// Image `repo:tag@digest` → (repository, tag).
fn split_image(image: &str) -> (&str, Option<&str>) {
    let no_digest = image.split('@').next().unwrap_or(image);
    match no_digest.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo, Some(tag)),
        _ => (no_digest, None),
    }
}

/// Leading numeric components of a version tag: `v3.8.4-jre` → [3, 8, 4].
fn version_key(tag: &str) -> Vec<u64> {
    let t = tag.strip_prefix('v').unwrap_or(tag);
    let mut out = Vec::new();
    for part in t.split('.') {
        let digits: String = part.chars().take_while(|c| c.is_ascii_digit()).collect();
        match digits.parse::<u64>() {
            Ok(n) => out.push(n),
            Err(_) => break,
        }
        if digits.len() != part.len() {
            break;
        }
    }
    out
}

/// `Some(true)` for a downgrade, `Some(false)` for an upgrade, `None` when not comparable.
pub fn is_downgrade(old: &str, new: &str) -> Option<bool> {
    let ((ro, to), (rn, tn)) = (split_image(old), split_image(new));
    let (to, tn) = (to?, tn?);
    if ro != rn {
        return None;
    }
    let (a, b) = (version_key(to), version_key(tn));
    if a.is_empty() || b.is_empty() || a == b {
        return None;
    }
    Some(b < a)
}

fn short(v: &Value, max: usize) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let s = s.replace('\n', "⏎");
    if s.chars().count() > max {
        let head: String = s.chars().take(max.saturating_sub(1)).collect();
        format!("{head}…")
    } else {
        s
    }
}

/// Pod (or PVC) names without materialising them: runs of `<prefix>-<ordinal>` and single
/// names, in order. A rendered StatefulSet may say `replicas: 1000000000000`; its pods are
/// counted and summarised (first … last (N pods)), never listed one by one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PodList {
    runs: Vec<PodRun>,
}

#[derive(Debug, Clone, PartialEq)]
enum PodRun {
    Ordinals { prefix: String, from: i64, to: i64 },
    Name(String),
}

/// Above this many names, JSON output gives `{"first", "last", "count"}` instead of the list.
pub const MAX_LISTED_PODS: u64 = 1000;

impl PodList {
    /// `<name>-<from>` up to `<name>-<to - 1>`; empty when `to <= from`.
    pub fn range(name: &str, from: i64, to: i64) -> Self {
        let mut l = PodList::default();
        l.push_range(name, from, to);
        l
    }
    fn push_range(&mut self, name: &str, from: i64, to: i64) {
        if to > from {
            self.runs.push(PodRun::Ordinals { prefix: name.to_string(), from, to });
        }
    }
    pub fn named(name: String) -> Self {
        PodList { runs: vec![PodRun::Name(name)] }
    }
    pub fn len(&self) -> u64 {
        self.runs
            .iter()
            .map(|r| match r {
                PodRun::Ordinals { from, to, .. } => to.saturating_sub(*from).max(0) as u64,
                PodRun::Name(_) => 1,
            })
            .fold(0u64, u64::saturating_add)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The first `skip` names dropped (a rolling update's partition).
    pub fn skip(&self, mut skip: u64) -> Self {
        let mut out = PodList::default();
        for r in &self.runs {
            match r {
                PodRun::Ordinals { prefix, from, to } => {
                    let n = to.saturating_sub(*from).max(0) as u64;
                    let s = skip.min(n);
                    skip -= s;
                    out.push_range(prefix, from.saturating_add(s as i64), *to);
                }
                PodRun::Name(n) if skip == 0 => out.runs.push(PodRun::Name(n.clone())),
                PodRun::Name(_) => skip -= 1,
            }
        }
        out
    }
    fn first(&self) -> Option<String> {
        self.runs.first().map(|r| match r {
            PodRun::Ordinals { prefix, from, .. } => format!("{prefix}-{from}"),
            PodRun::Name(n) => n.clone(),
        })
    }
    fn last(&self) -> Option<String> {
        self.runs.last().map(|r| match r {
            PodRun::Ordinals { prefix, to, .. } => format!("{prefix}-{}", to - 1),
            PodRun::Name(n) => n.clone(),
        })
    }
    /// Every name, when there are at most `max` of them.
    pub fn names(&self, max: u64) -> Option<Vec<String>> {
        if self.len() > max {
            return None;
        }
        Some(
            self.runs
                .iter()
                .flat_map(|r| match r {
                    PodRun::Ordinals { prefix, from, to } => (*from..*to).map(|i| format!("{prefix}-{i}")).collect::<Vec<_>>(),
                    PodRun::Name(n) => vec![n.clone()],
                })
                .collect(),
        )
    }
}

impl Serialize for PodList {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.names(MAX_LISTED_PODS) {
            Some(n) => n.serialize(s),
            None => serde_json::json!({"first": self.first(), "last": self.last(), "count": self.len()}).serialize(s),
        }
    }
}

fn list_pods(p: &PodList) -> String {
    match (p.len(), p.names(2)) {
        (0, _) => "no pods".into(),
        (_, Some(n)) => n.join(", "),
        (n, None) => format!("{} … {} ({n} pods)", p.first().unwrap_or_default(), p.last().unwrap_or_default()),
    }
}

const STS_MUTABLE: [&str; 7] = ["replicas", "ordinals", "template", "updateStrategy", "revisionHistoryLimit", "persistentVolumeClaimRetentionPolicy", "minReadySeconds"];

fn immutable_fields(key: &ObjKey, old: &Value, fields: &[FieldChange]) -> Vec<Immutable> {
    let ns = &key.namespace;
    let n = &key.name;
    let mut by_field: BTreeMap<String, Vec<&FieldChange>> = BTreeMap::new();
    for f in fields {
        let top = match (key.group.as_str(), key.kind.as_str()) {
            ("apps", "StatefulSet") => match f.segs.as_slice() {
                [Seg::Key(s), Seg::Key(field), ..] if s == "spec" && !STS_MUTABLE.contains(&field.as_str()) => Some(format!("spec.{field}")),
                _ => None,
            },
            ("apps", "Deployment" | "ReplicaSet" | "DaemonSet") if f.starts_with(&["spec", "selector"]) => Some("spec.selector".into()),
            ("batch", "Job") if f.starts_with(&["spec", "selector"]) || f.starts_with(&["spec", "template"]) => {
                Some(if f.starts_with(&["spec", "selector"]) { "spec.selector".into() } else { "spec.template".into() })
            }
            ("", "Service") if (f.starts_with(&["spec", "clusterIP"]) || f.starts_with(&["spec", "clusterIPs"])) && f.op != Op::Added => Some("spec.clusterIP".into()),
            ("", "PersistentVolumeClaim") if f.starts_with(&["spec"]) => {
                let grow = f.starts_with(&["spec", "resources", "requests", "storage"]) && f.op == Op::Changed;
                (!grow || f.new.as_ref().map(|v| short(v, 40)) < f.old.as_ref().map(|v| short(v, 40))).then(|| "spec".into())
            }
            ("", "ConfigMap" | "Secret") if old.get("immutable") == Some(&Value::Bool(true)) && (f.starts_with(&["data"]) || f.starts_with(&["binaryData"]) || f.starts_with(&["stringData"])) => {
                Some("data".into())
            }
            _ => None,
        };
        if let Some(t) = top {
            by_field.entry(t).or_default().push(f);
        }
    }
    by_field
        .into_iter()
        .map(|(field, fs)| {
            let change = fs
                .iter()
                .take(3)
                .map(|f| {
                    if f.redacted {
                        format!("{} {}", f.path, op_word(f.op))
                    } else {
                        match (&f.old, &f.new) {
                            (Some(a), Some(b)) => format!("{}: {} → {}", f.path, short(a, 40), short(b, 40)),
                            _ => format!("{} {}", f.path, op_word(f.op)),
                        }
                    }
                })
                .collect::<Vec<_>>()
                .join("; ")
                + &if fs.len() > 3 { format!("; and {} more", fs.len() - 3) } else { String::new() };
            let orphan = format!("`kubectl -n {ns} delete statefulset {n} --cascade=orphan`, then sync: the new StatefulSet adopts the running pods and their PVCs and rolls them");
            let migration = match (key.kind.as_str(), field.as_str()) {
                ("StatefulSet", "spec.volumeClaimTemplates") => format!(
                    "{orphan}. Existing PVCs keep their old spec: to grow them, patch each claim (`kubectl -n {ns} patch pvc <claim>-{n}-<i> -p '{{\"spec\":{{\"resources\":{{\"requests\":{{\"storage\":\"<size>\"}}}}}}}}'`, the StorageClass must allow expansion); a new storage class or a smaller size needs the data copied to new volumes"
                ),
                ("StatefulSet", "spec.selector") => format!(
                    "`kubectl -n {ns} delete statefulset {n} --cascade=orphan`, then sync. The orphaned pods do not match the new selector: delete them one at a time (`kubectl -n {ns} delete pod {n}-<i>`), each after the previous is Ready again, so the new StatefulSet re-creates them on their PVCs"
                ),
                ("StatefulSet", _) => orphan,
                ("Deployment" | "ReplicaSet" | "DaemonSet", _) => format!("delete it (`kubectl -n {ns} delete {} {n}`) and sync; its pods are replaced", key.kind.to_lowercase()),
                ("Job", _) => format!("delete the Job (`kubectl -n {ns} delete job {n}`) and sync; with ArgoCD, a hook Job with `hook-delete-policy: BeforeHookCreation` is re-created by every sync"),
                ("Service", _) => format!("delete the Service (`kubectl -n {ns} delete service {n}`) and sync; clients cannot resolve it until it is re-created"),
                ("PersistentVolumeClaim", _) => "only a larger storage request can change on a PVC: create a new claim and copy the data".into(),
                _ => format!("the object is immutable: delete it (`kubectl -n {ns} delete {} {n}`) and sync", key.kind.to_lowercase()),
            };
            Immutable { object: key.clone(), field, change, migration }
        })
        .collect()
}

fn op_word(op: Op) -> &'static str {
    match op {
        Op::Added => "added",
        Op::Removed => "removed",
        Op::Changed => "changed",
        Op::Reordered => "reordered",
    }
}

fn claims(v: &Value) -> Vec<String> {
    at(v, &["spec", "volumeClaimTemplates"])
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| at(c, &["metadata", "name"]).and_then(Value::as_str).map(String::from))
        .collect()
}

fn retention(v: &Value, which: &str) -> String {
    at(v, &["spec", "persistentVolumeClaimRetentionPolicy", which]).and_then(Value::as_str).unwrap_or("Retain").to_string()
}

/// The advice for fewer replicas of a role with volume claims: the stack's own `scaleDown`
/// text for the role when it has one, generic advice otherwise.
fn scale_down_advice(facts: Option<&RoleFacts>) -> String {
    let generic = "make sure the service no longer needs the data on the removed pods (or has moved it off them) before merging; the stack gives no scale-down procedure for this role";
    match facts {
        Some(f) => {
            let text = f.scale_down.as_deref().map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "));
            format!(
                "{} (`bdp explain {}/{}/{}` describes the role)",
                text.as_deref().filter(|t| !t.is_empty()).unwrap_or(generic),
                f.stack,
                f.service,
                f.role
            )
        }
        None => generic.to_string(),
    }
}

/// Risks of a StatefulSet present on both sides.
fn sts_risks(key: &ObjKey, old: &Value, new: &Value, facts_old: Option<&RoleFacts>, facts_new: Option<&RoleFacts>, out: &mut Vec<Risk>) {
    let (ro, rn) = (replicas(old), replicas(new));
    let cl = claims(old).into_iter().chain(claims(new)).collect::<BTreeSet<_>>();
    if rn < ro && !cl.is_empty() {
        let gone = PodList::range(&key.name, rn, ro);
        let mut pvcs = PodList::default();
        for c in &cl {
            pvcs.push_range(&format!("{c}-{}", key.name), rn, ro);
        }
        let (their, are) = if pvcs.len() == 1 { ("its PVC", "is") } else { ("their PVCs", "are") };
        let kept = if retention(new, "whenScaled") == "Delete" {
            format!("{their} ({}) {are} DELETED (persistentVolumeClaimRetentionPolicy.whenScaled: Delete)", list_pods(&pvcs))
        } else {
            format!("{their} ({}) {are} kept but no longer served", list_pods(&pvcs))
        };
        out.push(Risk {
            object: key.clone(),
            risk: format!("replicas {ro} → {rn}: {} removed; {kept}", list_pods(&gone)),
            advice: scale_down_advice(facts_new.or(facts_old)),
        });
    }
    if let Some(f) = facts_new.filter(|f| f.odd) {
        let tol = |n: i64| (n - 1).max(0) / 2;
        if rn % 2 == 0 && rn != ro {
            out.push(Risk {
                object: key.clone(),
                risk: format!("quorum role {}: {rn} replicas is even; it tolerates {} failure(s), no more than {}", f.id, tol(rn), rn - 1),
                advice: format!("use {} or {} replicas", rn - 1, rn.saturating_add(1)),
            });
        } else if rn != ro && tol(rn) < tol(ro) {
            out.push(Risk {
                object: key.clone(),
                risk: format!("quorum role {}: {ro} → {rn} replicas; it tolerates {} failure(s) instead of {}", f.id, tol(rn), tol(ro)),
                advice: "shrink a quorum only while every member is healthy, so a majority of the old membership stays up during the roll".into(),
            });
        }
    }
    for which in ["whenDeleted", "whenScaled"] {
        if retention(old, which) != "Delete" && retention(new, which) == "Delete" && !cl.is_empty() {
            out.push(Risk {
                object: key.clone(),
                risk: format!("persistentVolumeClaimRetentionPolicy.{which} becomes Delete: PVCs are deleted with their pods"),
                advice: "keep Retain for data-bearing roles".into(),
            });
        }
    }
    // smaller volume claims
    for (ca, cb) in at(old, &["spec", "volumeClaimTemplates"]).and_then(Value::as_array).into_iter().flatten().filter_map(|a| {
        let n = at(a, &["metadata", "name"])?;
        let b = at(new, &["spec", "volumeClaimTemplates"])?.as_array()?.iter().find(|b| at(b, &["metadata", "name"]) == Some(n))?;
        Some((a, b))
    }) {
        let size = |v: &Value| at(v, &["spec", "resources", "requests", "storage"]).and_then(Value::as_str).map(parse_quantity);
        if let (Some(Some(x)), Some(Some(y))) = (size(ca), size(cb))
            && y < x
        {
            out.push(Risk {
                object: key.clone(),
                risk: format!("volume claim `{}` shrinks", at(ca, &["metadata", "name"]).and_then(Value::as_str).unwrap_or("?")),
                advice: "volumes cannot shrink: a smaller claim needs new volumes and a data copy".into(),
            });
        }
    }
}

/// A Kubernetes quantity in bytes (or units), for comparison only.
fn parse_quantity(q: &str) -> Option<f64> {
    crate::quantity::parse(q)
}

fn role_label(v: &Value) -> Option<String> {
    let l = at(v, &["metadata", "labels"])?;
    let g = |k: &str| l.get(k).and_then(Value::as_str);
    let ns = at(v, &["metadata", "namespace"]).and_then(Value::as_str).unwrap_or("");
    match (g(LABEL_CLUSTER), g(LABEL_SERVICE), g(LABEL_ROLE)) {
        (Some(c), Some(s), Some(r)) => Some(format!("{ns}/{c}/{s}/{r}")),
        (Some(c), Some(s), None) => Some(format!("{ns}/{c}/{s}")),
        _ => None,
    }
}

/// Compares two sides.
pub fn compare(old: &Side, new: &Side) -> Report {
    let mut r = Report { old: old.label.clone(), new: new.label.clone(), ..Default::default() };
    let role_facts = |side: &Side, k: &ObjKey| side.plan.as_ref().and_then(|p| p.roles.get(&(k.namespace.clone(), k.name.clone()))).cloned();
    let format_hint = |k: &ObjKey, file: &str| {
        new.plan
            .as_ref()
            .and_then(|p| p.formats.get(&(k.namespace.clone(), k.name.clone(), file.to_string())))
            .or_else(|| old.plan.as_ref().and_then(|p| p.formats.get(&(k.namespace.clone(), k.name.clone(), file.to_string()))))
            .copied()
    };

    // created / deleted
    for (k, v) in &new.objects {
        if !old.objects.contains_key(k) {
            r.created.push(ObjRef { key: k.clone(), wave: wave_of(v) });
        }
    }
    for (k, v) in &old.objects {
        if new.objects.contains_key(k) {
            continue;
        }
        r.deleted.push(ObjRef { key: k.clone(), wave: wave_of(v) });
        match (k.group.as_str(), k.kind.as_str()) {
            ("apps", "StatefulSet") if !claims(v).is_empty() => {
                let protected = at(v, &["metadata", "annotations", "argocd.argoproj.io/sync-options"]).and_then(Value::as_str).is_some_and(|s| s.contains("Prune=false"));
                r.risks.push(Risk {
                    object: k.clone(),
                    risk: format!("StatefulSet with volume claims ({}) is removed from the output: its data is no longer served", claims(v).join(", ")),
                    advice: if protected {
                        "it carries Prune=false,Delete=false and `kustomize.toolkit.fluxcd.io/prune: disabled`: ArgoCD and Flux leave it running; move its data, then delete it and its PVCs by hand".into()
                    } else {
                        "a GitOps prune deletes it; its PVCs stay (whenDeleted: Retain) unless the policy says Delete. Move the data first".into()
                    },
                });
            }
            ("", "PersistentVolumeClaim") => r.risks.push(Risk {
                object: k.clone(),
                risk: "PersistentVolumeClaim is removed from the output".into(),
                advice: "a prune deletes the claim and, with reclaimPolicy Delete, its volume and data; annotate it to keep it or copy the data first".into(),
            }),
            ("", "Namespace") => r.risks.push(Risk {
                object: k.clone(),
                risk: "Namespace is removed from the output: deleting it deletes everything in it, PVCs included".into(),
                advice: "keep the Namespace, or move what must survive first".into(),
            }),
            _ => {}
        }
    }

    // changed
    let mut changed_files: BTreeMap<(String, String), Vec<&FileChange>> = BTreeMap::new();
    let mut changes = Vec::new();
    for (k, a) in &old.objects {
        let Some(b) = new.objects.get(k) else { continue };
        let fields = diff_object(k, a, b);
        let mut files = Vec::new();
        if k.kind == "ConfigMap" && k.group.is_empty() {
            for section in ["data", "binaryData"] {
                let da = a.get(section).and_then(Value::as_object);
                let db = b.get(section).and_then(Value::as_object);
                let names: BTreeSet<&String> = da.into_iter().flat_map(|m| m.keys()).chain(db.into_iter().flat_map(|m| m.keys())).collect();
                for n in names {
                    let get = |m: Option<&serde_json::Map<String, Value>>| m.and_then(|m| m.get(n)).map(|v| v.as_str().map(String::from).unwrap_or_else(|| v.to_string()));
                    let (x, y) = (get(da), get(db));
                    let hint = if section == "binaryData" { Some(FileFormat::Text) } else { format_hint(k, n) };
                    if section == "binaryData" && x != y {
                        files.push(FileChange { file: n.clone(), format: FileFormat::Text, op: if x.is_none() { Op::Added } else if y.is_none() { Op::Removed } else { Op::Changed }, entries: vec![], text_diff: None, lines: None });
                        continue;
                    }
                    if let Some(fc) = diff_file(n, x.as_deref(), y.as_deref(), hint) {
                        files.push(fc);
                    }
                }
            }
        }
        // wave changes
        if let (Some(wa), Some(wb)) = (wave_of(a), wave_of(b))
            && wa != wb
        {
            let what = role_label(b).unwrap_or_else(|| k.to_string());
            match r.waves.iter_mut().find(|w| w.what == what && w.old == wa && w.new == wb) {
                Some(w) => w.objects += 1,
                None => r.waves.push(WaveChange { what, objects: 1, old: wa, new: wb }),
            }
        }
        if fields.is_empty() && files.is_empty() {
            if wave_of(a) == wave_of(b) {
                r.summary.unchanged += 1;
            } else {
                // only the wave changed: reported with the waves, but still a change
                changes.push(ObjChange { key: k.clone(), fields, files });
            }
            continue;
        }
        r.immutable.extend(immutable_fields(k, a, &fields));
        if k.group == "apps" && k.kind == "StatefulSet" {
            sts_risks(k, a, b, role_facts(old, k).as_ref(), role_facts(new, k).as_ref(), &mut r.risks);
        }
        changes.push(ObjChange { key: k.clone(), fields, files });
    }
    for c in &changes {
        if !c.files.is_empty() {
            changed_files.insert((c.key.namespace.clone(), c.key.name.clone()), c.files.iter().collect());
        }
    }

    // restarts
    let mut referenced_by_restart: BTreeSet<(String, String)> = BTreeSet::new();
    let mut referenced: BTreeSet<(String, String)> = BTreeSet::new();
    for (k, v) in &new.objects {
        if let Some(t) = template_path(&k.kind).and_then(|tp| at(v, tp)) {
            for cm in config_maps_of(t) {
                referenced.insert((k.namespace.clone(), cm));
            }
        }
    }
    for c in &changes {
        let k = &c.key;
        let Some(tp) = template_path(&k.kind) else { continue };
        let (Some(a), Some(b)) = (old.objects.get(k), new.objects.get(k)) else { continue };
        let (Some(ta), Some(tb)) = (at(a, tp), at(b, tp)) else { continue };
        if ta == tb || k.kind == "Job" {
            continue;
        }
        let mut reasons = Vec::new();
        let ck = |t: &Value| at(t, &["metadata", "annotations", CHECKSUM_ANNOTATION]).cloned();
        let cms = config_maps_of(tb);
        if ck(ta) != ck(tb) {
            let mut files: Vec<String> = Vec::new();
            for cm in &cms {
                referenced_by_restart.insert((k.namespace.clone(), cm.clone()));
                for f in changed_files.get(&(k.namespace.clone(), cm.clone())).into_iter().flatten() {
                    let hot = new.plan.as_ref().and_then(|p| p.hot.get(&(k.namespace.clone(), cm.clone(), f.file.clone())));
                    let is_hot = |key: &str| hot.is_some_and(|h| h.contains("*") || h.contains(key));
                    if is_hot("*") {
                        continue;
                    }
                    let keys: Vec<&str> = f.entries.iter().map(|e| e.key.as_str()).filter(|k| !is_hot(k)).collect();
                    let hot_keys: Vec<&str> = f.entries.iter().map(|e| e.key.as_str()).filter(|k| is_hot(k)).collect();
                    if keys.is_empty() && !hot_keys.is_empty() {
                        continue;
                    }
                    let mut what = if keys.is_empty() {
                        op_word(f.op).to_string()
                    } else if keys.len() > 4 {
                        format!("{}, … ({} keys)", keys[..3].join(", "), keys.len())
                    } else {
                        keys.join(", ")
                    };
                    if !hot_keys.is_empty() {
                        what.push_str(&format!("; without restart: {}", hot_keys.join(", ")));
                    }
                    files.push(format!("{cm}/{} ({what})", f.file));
                }
            }
            reasons.push(if files.is_empty() { "config checksum changed".to_string() } else { format!("config: {}", files.join("; ")) });
        } else {
            for cm in &cms {
                referenced_by_restart.insert((k.namespace.clone(), cm.clone()));
            }
        }
        let (ca, cb) = (containers(ta), containers(tb));
        for (name, c) in &cb {
            let img_b = c.get("image").and_then(Value::as_str).unwrap_or("");
            match ca.iter().find(|(n, _)| n == name) {
                Some((_, o)) => {
                    let img_a = o.get("image").and_then(Value::as_str).unwrap_or("");
                    if img_a != img_b {
                        let dir = match is_downgrade(img_a, img_b) {
                            Some(true) => " (downgrade)",
                            Some(false) => " (upgrade)",
                            None => "",
                        };
                        reasons.push(format!("image of `{name}`: {img_a} → {img_b}{dir}"));
                        if is_downgrade(img_a, img_b) == Some(true) {
                            r.risks.push(Risk {
                                object: k.clone(),
                                risk: format!("image downgrade of `{name}`: {img_a} → {img_b}"),
                                advice: "data written by the newer version may not be readable by the older one; check the release notes before rolling back".into(),
                            });
                        }
                    }
                }
                None => reasons.push(format!("container `{name}` added")),
            }
        }
        for (name, _) in &ca {
            if !cb.iter().any(|(n, _)| n == name) {
                reasons.push(format!("container `{name}` removed"));
            }
        }
        let mut tf = Vec::new();
        diff_value(ta, tb, &mut Vec::new(), &mut tf);
        let others: Vec<String> = tf
            .iter()
            .filter(|f| {
                let p = &f.path;
                !(p.contains(CHECKSUM_ANNOTATION) || (p.ends_with(".image") && p.contains("ontainers[")) || (matches!(f.op, Op::Added | Op::Removed) && p.matches("ontainers[").count() == 1 && !p.contains("].")))
            })
            .map(|f| format!("spec.template.{} {}", f.path, op_word(f.op)))
            .collect();
        if !others.is_empty() {
            let n = others.len();
            let mut shown: Vec<String> = others.into_iter().take(3).collect();
            if n > 3 {
                shown.push(format!("and {} more", n - 3));
            }
            reasons.push(shown.join("; "));
        }
        let n_new = replicas(b);
        let n_old = replicas(a);
        let (pods, rollout) = match k.kind.as_str() {
            "StatefulSet" => {
                let pods = PodList::range(&k.name, 0, n_new.min(n_old));
                let strat = at(b, &["spec", "updateStrategy", "type"]).and_then(Value::as_str).unwrap_or("RollingUpdate");
                let partition = at(b, &["spec", "updateStrategy", "rollingUpdate", "partition"]).and_then(Value::as_i64).unwrap_or(0);
                if strat == "OnDelete" {
                    (pods, "updateStrategy OnDelete: pods change only when deleted by hand".to_string())
                } else if partition > 0 {
                    (pods.skip(partition as u64), format!("one at a time from the highest ordinal, down to the partition {partition}"))
                } else {
                    (pods, "one at a time from the highest ordinal, each after the previous is Ready".to_string())
                }
            }
            "Deployment" | "ReplicaSet" => (PodList::named(format!("{} pod(s) of {}", n_new, k.name)), "rolling update".to_string()),
            "DaemonSet" => (PodList::named(format!("every pod of {}", k.name)), "rolling update, node by node".to_string()),
            _ => (PodList::default(), String::new()),
        };
        let count = if k.kind == "StatefulSet" { pods.len() } else { n_new as u64 };
        r.summary.pods_restarting = r.summary.pods_restarting.saturating_add(usize::try_from(count).unwrap_or(usize::MAX));
        r.restarts.push(Restart { workload: k.clone(), pods, rollout, reasons });
    }
    for (ns, cm) in changed_files.keys() {
        if referenced.contains(&(ns.clone(), cm.clone())) && !referenced_by_restart.contains(&(ns.clone(), cm.clone())) {
            r.notes.push(format!(
                "ConfigMap {ns}/{cm} changed but no pod template did: no pod restarts; the kubelet updates the mounted files in place (within about a minute) and a process sees the change only if it re-reads them"
            ));
        }
    }

    // start order from the plans
    if let (Some(po), Some(pn)) = (&old.plan, &new.plan) {
        r.order_added = pn.edges.difference(&po.edges).cloned().collect();
        r.order_removed = po.edges.difference(&pn.edges).cloned().collect();
    }
    if !r.waves.is_empty() {
        r.notes.push(
            "objects that change wave move to another Flux Kustomization (render --flux): the old wave's Kustomization prunes them and the next re-creates them, except objects with pruning disabled; ArgoCD only re-orders them".into(),
        );
    }
    let quorum_unknown = old.plan.is_none() || new.plan.is_none();
    if quorum_unknown && changes.iter().any(|c| c.key.kind == "StatefulSet" && c.fields.iter().any(|f| f.path == "spec.replicas")) {
        r.notes.push("replicas changed in rendered output: quorum rules (odd sizes) come from the stack's plan, so diff the inputs (without --rendered) to check them".into());
    }
    r.immutable.sort_by(|a, b| (&a.object, &a.field).cmp(&(&b.object, &b.field)));
    r.risks.sort_by(|a, b| (&a.object, &a.risk).cmp(&(&b.object, &b.risk)));
    r.risks.dedup_by(|a, b| a.object == b.object && a.risk == b.risk);
    r.waves.sort_by(|a, b| (&a.what, a.old, a.new).cmp(&(&b.what, b.old, b.new)));
    r.summary.created = r.created.len();
    r.summary.deleted = r.deleted.len();
    r.summary.changed = changes.len();
    r.summary.immutable = r.immutable.len();
    r.summary.risks = r.risks.len();
    r.changes = changes;
    r
}

// =============================================================================================
// Output

struct Style(bool);

impl Style {
    fn paint(&self, code: &str, s: &str) -> String {
        if self.0 { format!("\x1b[{code}m{s}\x1b[0m") } else { s.to_string() }
    }
    fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
    fn red(&self, s: &str) -> String {
        self.paint("31", s)
    }
    fn green(&self, s: &str) -> String {
        self.paint("32", s)
    }
    fn yellow(&self, s: &str) -> String {
        self.paint("33", s)
    }
    fn op(&self, op: Op, s: &str) -> String {
        match op {
            Op::Added => self.green(s),
            Op::Removed => self.red(s),
            Op::Changed | Op::Reordered => self.yellow(s),
        }
    }
}

fn value_text(v: &Option<Value>, redacted: bool) -> String {
    if redacted {
        return "(redacted)".into();
    }
    match v {
        // digests and checksums: the first 12 characters tell them apart
        Some(Value::String(s)) if s.len() > 40 && s.chars().all(|c| c.is_ascii_hexdigit()) => format!("{}…", &s[..12]),
        Some(v) => short(v, 100),
        None => String::new(),
    }
}

fn summary_line(r: &Report) -> String {
    let s = &r.summary;
    let mut line = format!("{} changed, {} created, {} deleted, {} unchanged", s.changed, s.created, s.deleted, s.unchanged);
    let mut extra = vec![];
    if s.pods_restarting > 0 {
        extra.push(format!("{} pod(s) restart", s.pods_restarting));
    }
    if s.immutable > 0 {
        extra.push(format!("{} change(s) a sync cannot apply", s.immutable));
    }
    if s.risks > 0 {
        extra.push(format!("{} data risk(s)", s.risks));
    }
    if !extra.is_empty() {
        line.push_str(" — ");
        line.push_str(&extra.join(", "));
    }
    line
}

fn multiline(v: &Option<Value>) -> Option<&str> {
    v.as_ref().and_then(Value::as_str).filter(|s| s.contains('\n'))
}

/// Plain text (with colour when `color`).
pub fn to_text(r: &Report, color: bool) -> String {
    let st = Style(color);
    let mut s = String::new();
    let _ = writeln!(s, "{} {} → {}", st.bold("bdp diff"), r.old, r.new);
    let _ = writeln!(s, "{}", summary_line(r));
    if !r.has_changes() {
        let _ = writeln!(s, "No changes.");
        return s;
    }
    let _ = writeln!(s, "\n{}", st.bold("IMPACT"));
    if !r.immutable.is_empty() {
        let _ = writeln!(s, "  {}", st.red("Changes a sync cannot apply (immutable fields):"));
        for i in &r.immutable {
            let _ = writeln!(s, "    {} {}: {}\n      migrate: {}", i.object, i.field, i.change, i.migration);
        }
    }
    if !r.risks.is_empty() {
        let _ = writeln!(s, "  {}", st.red("Data risks:"));
        for x in &r.risks {
            let _ = writeln!(s, "    {}: {}\n      what to do: {}", x.object, x.risk, x.advice);
        }
    }
    if !r.restarts.is_empty() {
        let _ = writeln!(s, "  {}", st.yellow("Pods that restart:"));
        for x in &r.restarts {
            let _ = writeln!(s, "    {}: {}; {}", x.workload, list_pods(&x.pods), x.rollout);
            for why in &x.reasons {
                let _ = writeln!(s, "      - {why}");
            }
        }
    }
    if !r.created.is_empty() || !r.deleted.is_empty() {
        let _ = writeln!(s, "  Created and deleted:");
        for o in &r.created {
            let _ = writeln!(s, "    {} {}{}", st.green("+"), o.key, o.wave.map(|w| format!(" (wave {w})")).unwrap_or_default());
        }
        for o in &r.deleted {
            let _ = writeln!(s, "    {} {}{}", st.red("-"), o.key, o.wave.map(|w| format!(" (wave {w})")).unwrap_or_default());
        }
    }
    if !r.waves.is_empty() {
        let _ = writeln!(s, "  Wave changes:");
        for w in &r.waves {
            let _ = writeln!(s, "    {}: wave {} → {} ({} object(s))", w.what, w.old, w.new, w.objects);
        }
    }
    if !r.order_added.is_empty() || !r.order_removed.is_empty() {
        let _ = writeln!(s, "  Start order (a → b: a is up before b starts):");
        for (a, b) in &r.order_added {
            let _ = writeln!(s, "    {} {a} → {b}", st.green("+"));
        }
        for (a, b) in &r.order_removed {
            let _ = writeln!(s, "    {} {a} → {b}", st.red("-"));
        }
    }
    if !r.notes.is_empty() {
        let _ = writeln!(s, "  Notes:");
        for n in &r.notes {
            let _ = writeln!(s, "    - {n}");
        }
    }
    if !r.changes.is_empty() {
        let _ = writeln!(s, "\n{}", st.bold("CHANGES"));
    }
    for c in &r.changes {
        let _ = writeln!(s, "  {} {}", st.yellow("~"), c.key);
        if c.fields.is_empty() && c.files.is_empty() {
            let _ = writeln!(s, "      (sync wave only)");
        }
        for f in &c.fields {
            let sign = st.op(f.op, f.op.sign());
            match (f.op, multiline(&f.old), multiline(&f.new)) {
                (Op::Changed, Some(a), Some(b)) if !f.redacted => {
                    let _ = writeln!(s, "      {sign} {}:", f.path);
                    for l in text_diff(&f.path, a, b).lines().skip(2) {
                        let _ = writeln!(s, "          {}", diff_line(&st, l));
                    }
                }
                (Op::Changed | Op::Reordered, _, _) => {
                    let _ = writeln!(s, "      {sign} {}: {} → {}", f.path, value_text(&f.old, f.redacted), value_text(&f.new, f.redacted));
                }
                (Op::Added, _, _) => {
                    let _ = writeln!(s, "      {sign} {}: {}", f.path, value_text(&f.new, f.redacted));
                }
                (Op::Removed, _, _) => {
                    let _ = writeln!(s, "      {sign} {}: {}", f.path, value_text(&f.old, f.redacted));
                }
            }
        }
        for fc in &c.files {
            let what = match (fc.op, fc.lines) {
                (Op::Added, Some(n)) => format!(" added ({n} lines)"),
                (Op::Removed, Some(n)) => format!(" removed ({n} lines)"),
                _ => String::new(),
            };
            let _ = writeln!(s, "      {} {} ({}){what}", st.op(fc.op, fc.op.sign()), fc.file, fc.format.name());
            for e in &fc.entries {
                let sign = st.op(e.op, e.op.sign());
                let v = |x: &Option<String>| x.as_deref().map(|t| short(&Value::String(t.to_string()), 100)).unwrap_or_default();
                match e.op {
                    Op::Added => {
                        let _ = writeln!(s, "          {sign} {} = {}", e.key, v(&e.new));
                    }
                    Op::Removed => {
                        let _ = writeln!(s, "          {sign} {} = {}", e.key, v(&e.old));
                    }
                    _ => {
                        let _ = writeln!(s, "          {sign} {}: {} → {}", e.key, v(&e.old), v(&e.new));
                    }
                }
            }
            if let Some(td) = &fc.text_diff {
                for l in td.lines().skip(2) {
                    let _ = writeln!(s, "          {}", diff_line(&st, l));
                }
            }
        }
    }
    s
}

fn diff_line(st: &Style, l: &str) -> String {
    if l.starts_with('+') {
        st.green(l)
    } else if l.starts_with('-') {
        st.red(l)
    } else {
        l.to_string()
    }
}

fn md_code(s: &str) -> String {
    let s = s.replace('|', "\\|");
    if s.is_empty() {
        String::new()
    } else if s.contains('`') {
        format!("<code>{}</code>", s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;"))
    } else {
        format!("`{s}`")
    }
}

fn md_text(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', "<br>")
}

/// Markdown for a pull-request comment: a heading, the impact as tables, the changes folded.
pub fn to_markdown(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "## bdp diff: {} → {}\n", md_code(&r.old), md_code(&r.new));
    let _ = writeln!(s, "**{}**\n", summary_line(r));
    if !r.has_changes() {
        let _ = writeln!(s, "No changes.");
        return s;
    }
    let _ = writeln!(s, "### Impact\n");
    if !r.immutable.is_empty() {
        let _ = writeln!(s, "#### Changes a sync cannot apply (immutable fields)\n\n| Object | Field | Change | How to migrate |\n|---|---|---|---|");
        for i in &r.immutable {
            let _ = writeln!(s, "| {} | {} | {} | {} |", md_code(&i.object.to_string()), md_code(&i.field), md_text(&i.change), md_text(&i.migration));
        }
        s.push('\n');
    }
    if !r.risks.is_empty() {
        let _ = writeln!(s, "#### Data risks\n\n| Object | Risk | What to do |\n|---|---|---|");
        for x in &r.risks {
            let _ = writeln!(s, "| {} | {} | {} |", md_code(&x.object.to_string()), md_text(&x.risk), md_text(&x.advice));
        }
        s.push('\n');
    }
    if !r.restarts.is_empty() {
        let _ = writeln!(s, "#### Pods that restart\n\n| Workload | Pods | How | Why |\n|---|---|---|---|");
        for x in &r.restarts {
            let _ = writeln!(s, "| {} | {} | {} | {} |", md_code(&x.workload.to_string()), md_text(&list_pods(&x.pods)), md_text(&x.rollout), md_text(&x.reasons.join("\n")));
        }
        s.push('\n');
    }
    if !r.created.is_empty() || !r.deleted.is_empty() {
        let _ = writeln!(s, "#### Created and deleted objects\n\n| | Object | Wave |\n|---|---|---|");
        for (sign, list) in [("created", &r.created), ("deleted", &r.deleted)] {
            for o in list {
                let _ = writeln!(s, "| {sign} | {} | {} |", md_code(&o.key.to_string()), o.wave.map(|w| w.to_string()).unwrap_or_default());
            }
        }
        s.push('\n');
    }
    if !r.waves.is_empty() {
        let _ = writeln!(s, "#### Sync waves\n\n| Role or object | Objects | Wave before | Wave after |\n|---|---|---|---|");
        for w in &r.waves {
            let _ = writeln!(s, "| {} | {} | {} | {} |", md_code(&w.what), w.objects, w.old, w.new);
        }
        s.push('\n');
    }
    if !r.order_added.is_empty() || !r.order_removed.is_empty() {
        let _ = writeln!(s, "#### Start order\n\n| | Before | After |\n|---|---|---|");
        for (sign, list) in [("added", &r.order_added), ("removed", &r.order_removed)] {
            for (a, b) in list {
                let _ = writeln!(s, "| {sign} | {} | {} |", md_code(a), md_code(b));
            }
        }
        s.push('\n');
    }
    if !r.notes.is_empty() {
        for n in &r.notes {
            let _ = writeln!(s, "> {}", md_text(n));
        }
        s.push('\n');
    }
    if !r.changes.is_empty() {
        let _ = writeln!(s, "### Changes\n");
    }
    for c in &r.changes {
        let n = c.fields.len() + c.files.iter().map(|f| f.entries.len().max(1)).sum::<usize>();
        let _ = writeln!(s, "<details><summary><code>{}</code>: {n} change(s)</summary>\n", c.key.to_string().replace('<', "&lt;"));
        if c.fields.is_empty() && c.files.is_empty() {
            let _ = writeln!(s, "Sync wave only.\n");
        }
        let mut texts: Vec<(String, String)> = Vec::new();
        if !c.fields.is_empty() {
            let _ = writeln!(s, "| | Field | Before | After |\n|---|---|---|---|");
            for f in &c.fields {
                if let (Op::Changed, Some(a), Some(b), false) = (f.op, multiline(&f.old), multiline(&f.new), f.redacted) {
                    let _ = writeln!(s, "| {} | {} | (text, below) | |", f.op.sign(), md_code(&f.path));
                    texts.push((f.path.clone(), text_diff(&f.path, a, b)));
                    continue;
                }
                let _ = writeln!(s, "| {} | {} | {} | {} |", f.op.sign(), md_code(&f.path), md_code(&value_text(&f.old, f.redacted)), md_code(&value_text(&f.new, f.redacted)));
            }
            s.push('\n');
        }
        for fc in &c.files {
            let what = match (fc.op, fc.lines) {
                (Op::Added, Some(n)) => format!(", added ({n} lines)"),
                (Op::Removed, Some(n)) => format!(", removed ({n} lines)"),
                _ => String::new(),
            };
            let _ = writeln!(s, "**{}** ({}{what})\n", md_text(&fc.file), fc.format.name());
            if !fc.entries.is_empty() {
                let _ = writeln!(s, "| | Key | Before | After |\n|---|---|---|---|");
                for e in &fc.entries {
                    let v = |x: &Option<String>| x.as_deref().map(|t| md_code(&short(&Value::String(t.to_string()), 100))).unwrap_or_default();
                    let _ = writeln!(s, "| {} | {} | {} | {} |", e.op.sign(), md_code(&e.key), v(&e.old), v(&e.new));
                }
                s.push('\n');
            }
            if let Some(td) = &fc.text_diff {
                texts.push((fc.file.clone(), td.clone()));
            }
        }
        for (_, td) in texts {
            let _ = writeln!(s, "```diff\n{}```\n", td.replace("```", "` ` `"));
        }
        let _ = writeln!(s, "</details>\n");
    }
    s
}

pub fn to_json(r: &Report) -> String {
    let mut s = serde_json::to_string_pretty(r).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

pub fn format_report(r: &Report, format: DiffFormat, color: bool) -> String {
    match format {
        DiffFormat::Text => to_text(r, color),
        DiffFormat::Markdown => to_markdown(r),
        DiffFormat::Json => to_json(r),
    }
}

/// Reads both sides and compares them; diagnostics of both sides on error.
pub fn run(old: &str, new: &str, opts: &DiffOptions) -> Result<(Report, Diagnostics), Diagnostics> {
    let a = load_side(old, opts);
    let b = load_side(new, opts);
    match (a, b) {
        (Ok((a, mut wa)), Ok((b, wb))) => {
            wa.extend(wb);
            Ok((compare(&a, &b), wa))
        }
        (Err(mut e), Err(f)) => {
            e.extend(f);
            Err(e)
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(group: &str, kind: &str, name: &str) -> ObjKey {
        ObjKey { group: group.into(), kind: kind.into(), namespace: "ns".into(), name: name.into() }
    }

    fn side(objs: Vec<(ObjKey, Value)>) -> Side {
        Side { label: "x".into(), objects: objs.into_iter().collect(), plan: None }
    }

    #[test]
    fn lists_match_by_merge_key_and_report_order() {
        let a = json!({"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}], "ports": [{"containerPort": 80}]});
        let b = json!({"env": [{"name": "B", "value": "3"}, {"name": "A", "value": "1"}, {"name": "C", "value": "4"}], "ports": [{"containerPort": 80}, {"containerPort": 81}]});
        let mut out = vec![];
        diff_value(&a, &b, &mut vec![], &mut out);
        let got: Vec<String> = out.iter().map(|f| format!("{} {}", f.op.sign(), f.path)).collect();
        assert_eq!(got, ["~ env[name=B].value", "+ env[name=C]", "↕ env", "+ ports[containerPort=81/TCP]"]);
    }

    #[test]
    fn annotation_keys_are_quoted_in_paths() {
        let mut out = vec![];
        diff_value(&json!({"metadata": {"annotations": {"a.b/c": "1"}}}), &json!({"metadata": {"annotations": {"a.b/c": "2"}}}), &mut vec![], &mut out);
        assert_eq!(out[0].path, "metadata.annotations[\"a.b/c\"]");
    }

    #[test]
    fn secrets_are_redacted() {
        let k = key("", "Secret", "s");
        let a = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"password": "b2xk"}, "stringData": {"token": "old-token"}});
        let b = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"password": "bmV3"}, "stringData": {"token": "new-token"}});
        let r = compare(&side(vec![(k.clone(), a)]), &side(vec![(k, b)]));
        let all = to_text(&r, false) + &to_markdown(&r) + &to_json(&r);
        for secret in ["b2xk", "bmV3", "old-token", "new-token"] {
            assert!(!all.contains(secret), "{secret} leaked:\n{all}");
        }
        assert!(all.contains("(redacted)"));
    }

    #[test]
    fn file_diff_by_key_and_text() {
        let f = diff_file("zoo.cfg", Some("a=1\nb=2\nserver.10=x\n"), Some("a=1\nb=3\nserver.2=y\nserver.10=x\n"), None).unwrap();
        let got: Vec<String> = f.entries.iter().map(|e| format!("{} {}", e.op.sign(), e.key)).collect();
        assert_eq!(got, ["~ b", "+ server.2"]);
        let t = diff_file("notes", Some("one\ntwo\n"), Some("one\nthree\n"), Some(FileFormat::Text)).unwrap();
        assert!(t.text_diff.unwrap().contains("-two\n+three\n"));
        let only_comments = diff_file("a.properties", Some("# x\na=1\n"), Some("# y\na=1\n"), None).unwrap();
        assert!(only_comments.entries.is_empty() && only_comments.text_diff.is_some());
    }

    #[test]
    fn versions_and_quantities() {
        assert_eq!(is_downgrade("zk:3.8.4", "zk:3.8.3"), Some(true));
        assert_eq!(is_downgrade("reg:5000/zk:3.8.4", "reg:5000/zk:3.10.0"), Some(false));
        assert_eq!(is_downgrade("zk:latest", "zk:3.8.3"), None);
        assert_eq!(is_downgrade("a:1.0", "b:0.9"), None);
        assert_eq!(version_key("v3.8.4-jre"), vec![3, 8, 4]);
        assert!(parse_quantity("10Gi").unwrap() > parse_quantity("2000Mi").unwrap());
    }

    fn sts(name: &str, replicas: i64, image: &str, checksum: &str, vct: bool) -> Value {
        let mut v = json!({
            "apiVersion": "apps/v1", "kind": "StatefulSet",
            "metadata": {"name": name, "namespace": "ns", "annotations": {WAVE_ANNOTATION: "1"}},
            "spec": {"replicas": replicas, "serviceName": name, "selector": {"matchLabels": {"a": "b"}},
                "template": {"metadata": {"annotations": {CHECKSUM_ANNOTATION: checksum}},
                    "spec": {"containers": [{"name": "main", "image": image}], "volumes": [{"name": "c", "configMap": {"name": name}}]}}}
        });
        if vct {
            v["spec"]["volumeClaimTemplates"] = json!([{"metadata": {"name": "data"}, "spec": {"resources": {"requests": {"storage": "1Gi"}}}}]);
        }
        v
    }

    #[test]
    fn impact_restarts_risks_and_immutable() {
        let k = key("apps", "StatefulSet", "db");
        let cm = key("", "ConfigMap", "db");
        let old = side(vec![(k.clone(), sts("db", 4, "img:2.0", "aaa", true)), (cm.clone(), json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "db"}, "data": {"x.properties": "a=1\n"}}))]);
        let mut nb = sts("db", 3, "img:1.9", "bbb", true);
        nb["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] = json!("2Gi");
        nb["metadata"]["annotations"][WAVE_ANNOTATION] = json!("2");
        let new = side(vec![(k.clone(), nb), (cm, json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "db"}, "data": {"x.properties": "a=2\n"}}))]);
        let r = compare(&old, &new);
        assert!(r.has_changes());
        assert_eq!(r.restarts.len(), 1);
        assert_eq!(r.restarts[0].pods.names(10).unwrap(), ["db-0", "db-1", "db-2"]);
        let why = r.restarts[0].reasons.join(" | ");
        assert!(why.contains("config: db/x.properties (a)") && why.contains("img:2.0 → img:1.9 (downgrade)"), "{why}");
        assert_eq!(r.immutable.len(), 1);
        assert_eq!(r.immutable[0].field, "spec.volumeClaimTemplates");
        assert!(r.immutable[0].migration.contains("--cascade=orphan"));
        let risks: Vec<&str> = r.risks.iter().map(|x| x.risk.as_str()).collect();
        assert!(risks.iter().any(|x| x.starts_with("replicas 4 → 3: db-3 removed")), "{risks:?}");
        assert!(risks.iter().any(|x| x.contains("downgrade")), "{risks:?}");
        assert_eq!(r.waves.len(), 1);
        assert_eq!((r.waves[0].old, r.waves[0].new), (1, 2));
        // the same side twice: nothing
        let same = compare(&old, &old);
        assert!(!same.has_changes());
        assert_eq!(same.summary.unchanged, 2);
    }

    #[test]
    fn hot_config_change_restarts_nothing() {
        let k = key("apps", "StatefulSet", "db");
        let cm = key("", "ConfigMap", "db");
        let old = side(vec![(k.clone(), sts("db", 3, "img:2.0", "aaa", false)), (cm.clone(), json!({"data": {"log.properties": "level=INFO\n"}}))]);
        let new = side(vec![(k, sts("db", 3, "img:2.0", "aaa", false)), (cm, json!({"data": {"log.properties": "level=DEBUG\n"}}))]);
        let r = compare(&old, &new);
        assert!(r.restarts.is_empty());
        assert!(r.notes.iter().any(|n| n.contains("ConfigMap ns/db changed but no pod template did")), "{:?}", r.notes);
    }

    #[test]
    fn quorum_rule_comes_from_the_plan() {
        let k = key("apps", "StatefulSet", "q");
        let mut old = side(vec![(k.clone(), sts("q", 5, "i:1", "a", false))]);
        let mut new = side(vec![(k.clone(), sts("q", 3, "i:1", "a", false))]);
        assert!(compare(&old, &new).risks.is_empty(), "no plan, no quorum rule");
        let facts = RoleFacts { id: "ns/c/s/q".into(), odd: true, stack: "st".into(), service: "s".into(), role: "q".into(), scale_down: None };
        let mut p = PlanFacts::default();
        p.roles.insert(("ns".into(), "q".into()), facts);
        old.plan = Some(p.clone());
        new.plan = Some(p);
        let r = compare(&old, &new);
        assert_eq!(r.risks.len(), 1);
        assert!(r.risks[0].risk.contains("tolerates 1 failure(s) instead of 2"), "{:?}", r.risks);
    }

    #[test]
    fn start_order_changes_count_as_changes() {
        let mut old = side(vec![]);
        let mut new = side(vec![]);
        let mut p = PlanFacts::default();
        p.edges.insert(("ns/c/a/x".into(), "ns/c/b/y".into()));
        old.plan = Some(p.clone());
        p.edges.clear();
        p.edges.insert(("ns/c/a/x".into(), "ns/c/d/z".into()));
        new.plan = Some(p);
        let r = compare(&old, &new);
        assert!(r.has_changes());
        assert_eq!(r.order_added, [("ns/c/a/x".to_string(), "ns/c/d/z".to_string())]);
        assert_eq!(r.order_removed, [("ns/c/a/x".to_string(), "ns/c/b/y".to_string())]);
        assert!(to_text(&r, false).contains("+ ns/c/a/x → ns/c/d/z"));
    }
}
