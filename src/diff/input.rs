//! The two sides of a diff: reading OLD and NEW (inputs rendered on the fly, or rendered
//! output, from paths or `REV:PATH`), and what the plan knows about their roles.

use super::*;

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

pub(crate) fn group_of(api_version: &str) -> String {
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
    /// `namespace/cluster/service`: the key of the role's service in [`PlanFacts::services`].
    pub service_id: String,
    /// The role's replicas.
    pub replicas: u32,
    /// The stack's scale policy (`scale`).
    pub scale: Option<crate::model::ScalePolicy>,
}

/// What the plan says about a service: its version, settings and version rules.
#[derive(Debug, Clone)]
pub struct ServiceFacts {
    pub stack: String,
    pub version: String,
    pub image: String,
    pub settings: BTreeMap<String, Value>,
    pub versions: Option<crate::model::VersionPolicy>,
}

#[derive(Debug, Clone, Default)]
pub struct PlanFacts {
    /// (namespace, StatefulSet name) → role
    pub roles: BTreeMap<(String, String), RoleFacts>,
    /// `namespace/cluster/service` → service
    pub services: BTreeMap<String, ServiceFacts>,
    /// start-order edges `before → after`, as role ids
    pub edges: BTreeSet<(String, String)>,
    /// (namespace, ConfigMap name, data key) → the file's format
    pub formats: BTreeMap<(String, String, String), FileFormat>,
    /// (namespace, ConfigMap name, data key) → keys whose change needs no restart (`*`: the
    /// whole file)
    pub hot: BTreeMap<(String, String, String), BTreeSet<String>>,
    /// (namespace, ConfigMap name, data key) → refreshable key (`*`: the whole file) → the
    /// command that makes the daemons re-read it
    pub refresh: BTreeMap<(String, String, String), BTreeMap<String, String>>,
    /// (namespace, ConfigMap name, data key) → keys the role of the ConfigMap does not read
    pub unread: BTreeMap<(String, String, String), BTreeSet<String>>,
}

impl PlanFacts {
    pub fn from_plan(plan: &crate::plan::Plan) -> Self {
        let mut f = PlanFacts::default();
        for c in &plan.clusters {
            for s in &c.services {
                let service_id = format!("{}/{}/{}", c.namespace, c.name, s.name);
                f.services.insert(
                    service_id.clone(),
                    ServiceFacts { stack: c.stack.clone(), version: s.version.clone(), image: s.image.clone(), settings: s.settings.clone(), versions: s.versions.clone() },
                );
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
                            service_id: service_id.clone(),
                            replicas: r.replicas,
                            scale: r.scale.clone(),
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
                            f.hot.insert(id.clone(), hot);
                        }
                        if !file.refresh.is_empty() {
                            f.refresh.insert(id.clone(), file.refresh.clone());
                        }
                        if !file.unread.is_empty() {
                            f.unread.insert(id, file.unread.clone());
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
                    Diagnostic::error(Code::NotAnObject, span, "", "not a Kubernetes object: apiVersion, kind and metadata.name are required")
                        .hint("--rendered reads what `bdp render` wrote (a YAML stream or an -o directory); without --rendered, OLD and NEW are Cluster inputs"),
                );
                continue;
            };
            if api == crate::model::API_VERSION {
                diags.push(
                    Diagnostic::error(Code::NotRendered, span, "kind", format!("a bdp input (`kind: {kind}`), not rendered output"))
                        .hint("drop --rendered to render the inputs, or point at what `bdp render` wrote"),
                );
                continue;
            }
            let key = ObjKey { group: group_of(&api), kind, namespace: s(&["metadata", "namespace"]).unwrap_or_default(), name };
            if objects.contains_key(&key) {
                diags.push(Diagnostic::error(Code::DuplicateObject, span, "metadata.name", format!("{key} appears twice")).hint("each object may appear once in a rendering"));
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
pub(crate) fn rendered_files(dir: &Path, diags: &mut Diagnostics, depth: usize) -> Vec<PathBuf> {
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
                diags.push(Diagnostic::error(Code::MissingResource, Some(d.span_at(&[])), "resources", format!("{r}: listed in {} but not found", kfile.display())));
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
                diags.push(Diagnostic::error(Code::EmptyDirectory, Some(Span::new(&local, 0, 0)), "", "directory holds no rendered YAML"));
            }
            f
        } else {
            diags.push(Diagnostic::error(Code::NoSuchInput, Some(Span::new(&local, 0, 0)), "", "no such file or directory"));
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
