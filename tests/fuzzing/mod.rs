//! Fuzzing code shared by the stable driver (`tests/fuzz.rs`) and the `cargo fuzz` targets
//! (`fuzz/fuzz_targets/*.rs`, which include this directory with `#[path]`). See fuzz/README.md.
#![allow(dead_code)] // each user takes a subset

pub mod check;
pub mod mutate;

use mutate::{Dict, Node, Seed};
use std::path::Path;

/// The seed corpus and the words the mutator inserts, read from the repository.
pub struct Corpus {
    /// Cluster inputs: examples/**/*.yaml.
    pub inputs: Vec<Seed>,
    /// Rendered streams for `diff --rendered`: golden/*.yaml.
    pub rendered: Vec<Seed>,
    pub dict: Dict,
    /// File names the stacks render (configOverrides targets).
    pub files: Vec<String>,
    /// Service settings the stacks define.
    pub settings: Vec<String>,
    /// Per service of the stacks: its name, files and settings.
    pub services: Vec<mutate::ServiceWords>,
}

fn yaml_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = rd.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            yaml_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "yaml" || e == "yml") {
            out.push(p);
        }
    }
}

fn seeds(root: &Path, dir: &str) -> Vec<Seed> {
    let mut files = Vec::new();
    yaml_files(&root.join(dir), &mut files);
    files
        .iter()
        .filter_map(|p| {
            let text = std::fs::read_to_string(p).ok()?;
            Seed::parse(&p.strip_prefix(root).unwrap_or(p).display().to_string(), &text)
        })
        .collect()
}

/// Keys of every map found under a key named `under` (e.g. the stack's `files:` and `settings:`).
fn keys_under(n: &Node, under: &str, out: &mut Vec<String>) {
    match n {
        Node::Map(es) => {
            for (k, v) in es {
                if matches!(k, Node::Str(s) if s == under)
                    && let Node::Map(inner) = v
                {
                    for (ik, _) in inner {
                        if let Node::Str(s) = ik
                            && !out.contains(s)
                        {
                            out.push(s.clone());
                        }
                    }
                }
                keys_under(v, under, out);
            }
        }
        Node::Seq(items) => items.iter().for_each(|i| keys_under(i, under, out)),
        _ => {}
    }
}

pub fn corpus(root: &Path) -> Corpus {
    let inputs = seeds(root, "examples");
    let rendered = seeds(root, "golden");
    let stacks = seeds(root, "stacks");
    let mut files = Vec::new();
    let mut settings = Vec::new();
    let mut services: Vec<mutate::ServiceWords> = Vec::new();
    for s in &stacks {
        for d in &s.docs {
            if let Some(Node::Map(svcs)) = get(d, &["spec", "services"]) {
                for (name, def) in svcs {
                    let Node::Str(name) = name else { continue };
                    let mut w = mutate::ServiceWords { name: name.clone(), ..Default::default() };
                    for (field, out) in [("files", &mut w.files), ("settings", &mut w.settings)] {
                        if let Some(Node::Map(es)) = get(def, &[field]) {
                            out.extend(es.iter().filter_map(|(k, _)| if let Node::Str(k) = k { Some(k.clone()) } else { None }));
                        }
                    }
                    services.push(w);
                }
            }
            keys_under(d, "files", &mut files);
            keys_under(d, "settings", &mut settings);
        }
    }
    let mut dict = Dict::default();
    for s in inputs.iter().chain(&rendered) {
        s.docs.iter().for_each(|d| dict.add_tree(d));
    }
    // the Cluster fields (src/model.rs), so insertions reach every part of the schema
    for k in [
        "configOverrides", "envOverrides", "podOverrides", "image", "repository", "tag", "digest", "replicas", "resources",
        "requests", "limits", "cpu", "memory", "storage", "size", "storageClass", "dependencies", "cluster", "namespace",
        "configMap", "name", "key", "clusterDomain", "annotations", "labels", "containers", "tolerations",
    ] {
        dict.add(k);
    }
    files.iter().chain(&settings).for_each(|k| dict.add(k));
    Corpus { inputs, rendered, dict, files, settings, services }
}

fn get<'a>(n: &'a Node, path: &[&str]) -> Option<&'a Node> {
    let mut n = n;
    for k in path {
        let Node::Map(es) = n else { return None };
        n = &es.iter().find(|(ek, _)| matches!(ek, Node::Str(s) if s == k))?.1;
    }
    Some(n)
}
