//! Stage 2, validate: YAML documents → typed `Cluster`s and `StackDefinition`s.
//!
//! Each document is checked against the JSON Schema of its kind (`schemas/`, compiled into the
//! binary and enforced with the jsonschema crate). Schema errors are mapped back to the file,
//! line and column of the offending value, with the field path and a did-you-mean for unknown
//! fields. Only documents without errors are deserialised (serde) into the typed model.

use crate::diag::{did_you_mean, Diagnostic, Diagnostics, Span, Code};
use crate::model::{Cluster, StackDefinition, API_VERSION};
use crate::source::Doc;
use jsonschema::error::ValidationErrorKind;
use serde_json::Value;
use std::sync::LazyLock;

pub const CLUSTER_SCHEMA: &str = include_str!("../schemas/cluster.schema.json");
pub const STACK_SCHEMA: &str = include_str!("../schemas/stackdefinition.schema.json");

struct Schema {
    raw: Value,
    validator: jsonschema::Validator,
}

fn compile(text: &str) -> Schema {
    // The schemas are part of the binary and covered by tests; failing here is a build defect.
    let raw: Value = serde_json::from_str(text).expect("embedded schema is valid JSON");
    let validator = jsonschema::validator_for(&raw).expect("embedded schema compiles");
    Schema { raw, validator }
}

static CLUSTER: LazyLock<Schema> = LazyLock::new(|| compile(CLUSTER_SCHEMA));
static STACK: LazyLock<Schema> = LazyLock::new(|| compile(STACK_SCHEMA));

/// A typed input with the document it came from (for positions in later stages).
#[derive(Debug, Clone)]
pub struct Located<T> {
    pub value: T,
    pub doc: Doc,
}

#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub clusters: Vec<Located<Cluster>>,
    pub stacks: Vec<Located<StackDefinition>>,
    /// Documents of other APIs that were skipped (file, kind): a `kustomization.yaml` next to
    /// the Clusters, or rendered output given where inputs were expected.
    pub foreign: Vec<(std::path::PathBuf, String)>,
}

/// The API group of bdp's own kinds.
pub const API_GROUP: &str = "manager.kubebdp.github.io";

/// A document of another API (both apiVersion and kind set, neither bdp's): not an input.
fn is_foreign(api: &str, kind: &str) -> bool {
    !api.is_empty() && !kind.is_empty() && api.split('/').next() != Some(API_GROUP) && !KINDS.contains(&kind)
}

/// One warning naming the skipped documents by file and kind.
fn foreign_warning(foreign: &[(std::path::PathBuf, String)], first: Span) -> Diagnostic {
    let mut by_file: std::collections::BTreeMap<&std::path::Path, std::collections::BTreeMap<&str, usize>> = Default::default();
    for (f, k) in foreign {
        *by_file.entry(f.as_path()).or_default().entry(k.as_str()).or_default() += 1;
    }
    let files: Vec<String> = by_file
        .iter()
        .map(|(f, kinds)| {
            let ks: Vec<String> = kinds.iter().map(|(k, n)| if *n == 1 { k.to_string() } else { format!("{n}× {k}") }).collect();
            format!("{} ({})", f.display(), ks.join(", "))
        })
        .collect();
    const SHOWN: usize = 5;
    let mut list = files.iter().take(SHOWN).cloned().collect::<Vec<_>>().join("; ");
    if files.len() > SHOWN {
        list.push_str(&format!("; and {} more file(s)", files.len() - SHOWN));
    }
    Diagnostic::warning(Code::ForeignDocuments, 
        Some(first),
        "",
        format!("skipped {} document(s) that are not bdp inputs (apiVersion outside {API_GROUP}): {list}", foreign.len()),
    )
    .hint("bdp reads `kind: Cluster` and `kind: StackDefinition`; other Kubernetes documents among the inputs are ignored")
}

pub const KINDS: [&str; 2] = ["Cluster", "StackDefinition"];

fn path_of(pointer: &str) -> Vec<String> {
    pointer
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect()
}

pub fn dotted(path: &[String]) -> String {
    path.join(".")
}

/// The `properties` names allowed at a schema location (for "did you mean").
fn allowed_properties(schema: &Value, schema_pointer: &str) -> Vec<String> {
    // schema_pointer ends in /additionalProperties; the sibling `properties` lists the names.
    let parent = schema_pointer.strip_suffix("/additionalProperties").unwrap_or(schema_pointer);
    let mut node = schema.pointer(parent);
    // Follow a $ref at that place (locations of errors under $ref are reported through it).
    if let Some(Value::String(r)) = node.and_then(|n| n.get("$ref")) {
        node = r.strip_prefix('#').and_then(|p| schema.pointer(p));
    }
    node.and_then(|n| n.get("properties"))
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

fn resolve_schema_location(schema: &Value, evaluation_path: &str) -> String {
    // Walk the evaluation path, jumping through $ref, to get a pointer into the raw schema.
    let mut cur = String::new();
    for seg in evaluation_path.split('/').filter(|s| !s.is_empty()) {
        if seg == "$ref"
            && let Some(Value::String(r)) = schema.pointer(&cur).and_then(|n| n.get("$ref")) {
                cur = r.trim_start_matches('#').to_string();
                continue;
            }
        cur.push('/');
        cur.push_str(seg);
    }
    cur
}

/// Reports schema errors. Returns the value with unknown fields removed when unknown fields
/// were the only problem (so later stages can still report their own findings in this run),
/// or None when the document cannot be typed.
fn schema_errors(doc: &Doc, value: &Value, schema: &Schema, kind: &str, diags: &mut Diagnostics) -> Option<Value> {
    let mut cleaned = value.clone();
    let mut typable = true;
    for err in schema.validator.iter_errors(value) {
        let path = path_of(err.instance_path().as_str());
        let field = dotted(&path);
        match err.kind() {
            ValidationErrorKind::AdditionalProperties { unexpected } => {
                let loc = resolve_schema_location(&schema.raw, err.evaluation_path().as_str());
                let allowed = allowed_properties(&schema.raw, &loc);
                for u in unexpected {
                    let hint = did_you_mean(u, allowed.iter().map(String::as_str)).unwrap_or_else(|| {
                        if allowed.is_empty() {
                            "remove it".to_string()
                        } else {
                            format!("allowed here: {}", allowed.join(", "))
                        }
                    });
                    let mut p = path.clone();
                    p.push(u.clone());
                    let parent = format!("/{}", path.iter().map(|s| s.replace('~', "~0").replace('/', "~1")).collect::<Vec<_>>().join("/"));
                    let parent = if path.is_empty() { "" } else { parent.as_str() };
                    if let Some(Value::Object(m)) = cleaned.pointer_mut(parent) {
                        m.remove(u);
                    }
                    diags.push(
                        Diagnostic::error(Code::UnknownField, Some(doc.span_of_key(&path, u)), dotted(&p), format!("unknown field `{u}` in {kind}"))
                            .hint(hint),
                    );
                }
            }
            ValidationErrorKind::Required { property } => {
                typable = false;
                let name = property.as_str().unwrap_or_default().to_string();
                diags.push(
                    Diagnostic::error(Code::MissingField, Some(doc.span_at(&path)), field, format!("missing required field `{name}`"))
                        .hint(format!("add `{name}:` here")),
                );
            }
            ValidationErrorKind::Constant { expected_value } => {
                typable = false;
                let hint = if path.first().map(String::as_str) == Some("apiVersion") {
                    format!("bdp reads apiVersion {API_VERSION}")
                } else {
                    format!("known kinds: {}", KINDS.join(", "))
                };
                diags.push(
                    Diagnostic::error(Code::InvalidValue, Some(doc.span_at(&path)), field, format!("{}", err))
                        .expected(expected_value.to_string())
                        .hint(hint),
                );
            }
            // a key that breaks its grammar (`propertyNames`, e.g. environment variable names):
            // point at the key itself, with the grammar and a hint from the schema
            ValidationErrorKind::PropertyNames { error } if error.instance().is_string() => {
                typable = false;
                let key = error.instance().as_str().unwrap_or_default().to_string();
                let loc = err.schema_path().as_str();
                let names = loc.find("/propertyNames").and_then(|i| schema.raw.pointer(&loc[..i]));
                let pattern = names.and_then(|n| n.pointer("/propertyNames/pattern")).and_then(Value::as_str).unwrap_or_default();
                let what = names.and_then(|n| n.get("description")).and_then(Value::as_str).unwrap_or("keys here have a grammar");
                let mut p = path.clone();
                p.push(key.clone());
                diags.push(
                    Diagnostic::error(Code::InvalidName, Some(doc.span_of_key(&path, &key)), dotted(&p), format!("`{}` is not a valid name here", key.escape_debug()))
                        .expected(format!("a name matching {pattern}"))
                        .hint(what.to_string()),
                );
            }
            _ => {
                typable = false;
                diags.push(Diagnostic::error(Code::InvalidValue, Some(doc.span_at(&path)), field, err.to_string()));
            }
        }
    }
    typable.then_some(cleaned)
}

/// Checks every document and returns the typed inputs; errors go to `diags`.
pub fn validate(docs: Vec<Doc>, diags: &mut Diagnostics) -> Inputs {
    let mut out = Inputs::default();
    let mut first_foreign = None;
    for doc in docs {
        let value = doc.root.to_json();
        let kind = value.get("kind").and_then(Value::as_str).unwrap_or_default().to_string();
        let api = value.get("apiVersion").and_then(Value::as_str).unwrap_or_default().to_string();
        if !value.is_object() {
            diags.push(
                Diagnostic::error(Code::NotAMapping, Some(doc.span_at(&[])), "", "document is not a mapping")
                    .expected(format!("a {} or StackDefinition object", "Cluster"))
                    .hint("each YAML document must be one object with apiVersion, kind, metadata, spec"),
            );
            continue;
        }
        if is_foreign(&api, &kind) {
            if out.foreign.is_empty() {
                first_foreign = Some(doc.span_at(&["kind".to_string()]));
            }
            out.foreign.push((doc.file.clone(), kind));
            continue;
        }
        if api != API_VERSION {
            let p = vec!["apiVersion".to_string()];
            let msg = if api.is_empty() { "missing apiVersion".to_string() } else { format!("unknown apiVersion `{api}`") };
            diags.push(
                Diagnostic::error(Code::UnknownApiVersion, Some(doc.span_at(&p)), "apiVersion", msg)
                    .expected(API_VERSION.to_string())
                    .hint(format!("write `apiVersion: {API_VERSION}`")),
            );
        }
        let schema = match kind.as_str() {
            "Cluster" => &*CLUSTER,
            "StackDefinition" => &*STACK,
            _ => {
                let p = vec!["kind".to_string()];
                let msg = if kind.is_empty() { "missing kind".to_string() } else { format!("unknown kind `{kind}`") };
                diags.push(
                    Diagnostic::error(Code::UnknownKind, Some(doc.span_at(&p)), "kind", msg)
                        .expected(KINDS.join(" or "))
                        .hint(did_you_mean(&kind, KINDS).unwrap_or_else(|| format!("bdp reads {}", KINDS.join(" and ")))),
                );
                continue;
            }
        };
        if api != API_VERSION {
            continue;
        }
        let Some(value) = schema_errors(&doc, &value, schema, &kind, diags) else {
            continue;
        };
        match kind.as_str() {
            "Cluster" => match typed::<Cluster>(&doc, value, &kind) {
                Ok(c) => out.clusters.push(Located { value: c, doc }),
                Err(d) => diags.push(*d),
            },
            _ => match typed::<StackDefinition>(&doc, value, &kind) {
                Ok(s) => out.stacks.push(Located { value: s, doc }),
                Err(d) => diags.push(*d),
            },
        }
    }
    if let Some(first) = first_foreign {
        diags.push(foreign_warning(&out.foreign, first));
    }
    out
}

/// A serde_path_to_error path as our field-path segments (map keys, list indexes).
pub fn serde_segments(p: &serde_path_to_error::Path) -> Vec<String> {
    p.iter()
        .filter_map(|seg| match seg {
            serde_path_to_error::Segment::Seq { index } => Some(index.to_string()),
            serde_path_to_error::Segment::Map { key } => Some(key.clone()),
            serde_path_to_error::Segment::Enum { variant } => Some(variant.clone()),
            serde_path_to_error::Segment::Unknown => None,
        })
        .collect()
}

/// Deserialises a schema-checked document into its type. What the schema cannot say (a whole
/// number written `3.0`, a count too large for its type) is reported at the field it concerns,
/// with its path (serde_path_to_error tracks it) and the expectation in the user's words.
fn typed<T: serde::de::DeserializeOwned>(doc: &Doc, value: Value, kind: &str) -> Result<T, Box<Diagnostic>> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = serde_segments(e.path());
        let (got, expected) = serde_words(&e.inner().to_string());
        Box::new(Diagnostic::error(Code::InvalidValue, Some(doc.span_at(&path)), dotted(&path), format!("invalid {kind}: {got}")).expected(expected))
    })
}

/// serde's "invalid type: floating point `3.0`, expected u32" → ("floating point `3.0`",
/// "a whole number from 0 to 4294967295").
fn serde_words(msg: &str) -> (String, String) {
    let body = msg.strip_prefix("invalid type: ").or_else(|| msg.strip_prefix("invalid value: ")).unwrap_or(msg);
    let (got, wanted) = match body.rsplit_once(", expected ") {
        Some((g, w)) => (g.to_string(), w.to_string()),
        None => (body.to_string(), String::new()),
    };
    let expected = match wanted.as_str() {
        "u8" => format!("a whole number from 0 to {}", u8::MAX),
        "u16" => format!("a whole number from 0 to {}", u16::MAX),
        "u32" => format!("a whole number from 0 to {}", u32::MAX),
        "u64" | "usize" => format!("a whole number from 0 to {}", u64::MAX),
        "i32" => format!("a whole number from {} to {}", i32::MIN, i32::MAX),
        "i64" => format!("a whole number from {} to {}", i64::MIN, i64::MAX),
        "a string" | "a borrowed string" => "a string".to_string(),
        "a sequence" => "a list".to_string(),
        w if w.starts_with("struct ") || w == "a map" => "a mapping of fields".to_string(),
        "" => "a value of the documented type".to_string(),
        w => w.to_string(),
    };
    (format!("got {got}"), expected)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::parse_documents;
    use std::path::Path;

    fn run(text: &str) -> (Inputs, Diagnostics) {
        let docs = parse_documents(Path::new("c.yaml"), text).unwrap();
        let mut d = Diagnostics::default();
        let i = validate(docs, &mut d);
        (i, d)
    }

    #[test]
    fn schemas_compile() {
        let _ = &*CLUSTER;
        let _ = &*STACK;
    }

    #[test]
    fn minimal_cluster_is_valid() {
        let (i, d) = run("apiVersion: manager.kubebdp.github.io/v1\nkind: Cluster\nmetadata: {name: a}\nspec:\n  stack: hadoop-3.3\n  services:\n    zookeeper:\n");
        assert!(!d.has_errors(), "{:?}", d.items);
        assert_eq!(i.clusters.len(), 1);
        assert_eq!(i.clusters[0].value.spec.cluster_domain, "cluster.local");
    }

    #[test]
    fn unknown_field_has_position_and_suggestion() {
        let (_, d) = run("apiVersion: manager.kubebdp.github.io/v1\nkind: Cluster\nmetadata: {name: a}\nspec:\n  stack: s\n  clusterDomian: x\n  services: {zookeeper: {roles: {server: {replicaz: 3}}}}\n");
        let msgs: Vec<String> = d.items.iter().map(|x| x.to_string()).collect();
        assert!(msgs.iter().any(|m| m.contains("c.yaml:6:3") && m.contains("did you mean `clusterDomain`")), "{msgs:?}");
        assert!(msgs.iter().any(|m| m.contains("spec.services.zookeeper.roles.server.replicaz") && m.contains("did you mean `replicas`")), "{msgs:?}");
    }

    #[test]
    fn wrong_api_version_and_kind() {
        let (_, d) = run("apiVersion: v1\nkind: Cluster\nmetadata: {name: a}\nspec: {}\n---\napiVersion: manager.kubebdp.github.io/v1\nkind: Clustr\n");
        let msgs: Vec<String> = d.items.iter().map(|x| x.to_string()).collect();
        assert!(msgs.iter().any(|m| m.contains("unknown apiVersion `v1`")), "{msgs:?}");
        assert!(msgs.iter().any(|m| m.contains("unknown kind `Clustr`") && m.contains("did you mean `Cluster`")), "{msgs:?}");
    }

    #[test]
    fn documents_of_other_apis_are_skipped_with_one_warning() {
        let (i, d) = run("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n---\napiVersion: v1\nkind: ConfigMap\n---\napiVersion: v1\nkind: ConfigMap\n---\napiVersion: manager.kubebdp.github.io/v1\nkind: Cluster\nmetadata: {name: a}\nspec: {stack: s, services: {zookeeper: }}\n");
        assert!(!d.has_errors(), "{:?}", d.items);
        assert_eq!(d.items.len(), 1, "{:?}", d.items);
        assert!(d.items[0].message.contains("skipped 3 document(s)") && d.items[0].message.contains("c.yaml (2× ConfigMap, Kustomization)"), "{}", d.items[0]);
        assert_eq!(i.clusters.len(), 1);
        // bdp's own kinds with a wrong apiVersion stay errors (a typo, not a foreign document)
        let (_, d) = run("apiVersion: apps/v1\nkind: Cluster\nmetadata: {name: a}\nspec: {}\n");
        assert!(d.has_errors());
    }

    #[test]
    fn invalid_name_is_reported() {
        let (_, d) = run("apiVersion: manager.kubebdp.github.io/v1\nkind: Cluster\nmetadata: {name: Bad_Name}\nspec: {stack: s, services: {zookeeper: }}\n");
        assert!(d.items.iter().any(|x| x.path == "metadata.name"), "{:?}", d.items);
    }
}
