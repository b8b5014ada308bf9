//! Stage 6, emit: rendered objects → one canonical YAML stream, or a directory tree with a
//! `kustomization.yaml` (so `kubectl kustomize DIR` yields the same objects as the stream).
//!
//! Canonical order: namespace, cluster, wave, kind (dependencies first: NetworkPolicy,
//! ServiceAccount, ConfigMap, Service before workloads), name. Directory layout:
//! `DIR/<namespace>/<cluster>/wave-<N>/<kind>-<name>.yaml`. bdp records the files it wrote in
//! `DIR/.bdp-output`; a later render removes the ones it no longer produces, and bdp refuses to
//! write into a non-empty directory that holds no such record.

use crate::render::Object;
use crate::yamlout::to_yaml;
use std::path::{Path, PathBuf};

pub const MARKER: &str = ".bdp-output";

pub fn kind_rank(kind: &str) -> u32 {
    match kind {
        "Namespace" => 0,
        "CustomResourceDefinition" => 1,
        "NetworkPolicy" => 2,
        "ServiceAccount" => 3,
        "Secret" => 4,
        "ConfigMap" => 5,
        "PersistentVolumeClaim" => 6,
        "Service" => 7,
        "Certificate" => 8,
        "PodDisruptionBudget" => 9,
        "Deployment" => 10,
        "StatefulSet" => 11,
        "Job" => 12,
        _ => 20,
    }
}

pub fn sort(objects: &mut [Object]) {
    objects.sort_by(|a, b| {
        (a.namespace.as_str(), a.cluster.as_str(), a.wave, kind_rank(&a.kind), a.kind.as_str(), a.name.as_str()).cmp(&(
            b.namespace.as_str(),
            b.cluster.as_str(),
            b.wave,
            kind_rank(&b.kind),
            b.kind.as_str(),
            b.name.as_str(),
        ))
    });
}

/// The whole stream: documents separated by `---`.
pub fn stream(objects: &[Object]) -> String {
    let mut out = String::new();
    for o in objects {
        out.push_str("---\n");
        out.push_str(&to_yaml(&o.body));
    }
    out
}

/// Relative path of an object's file in the directory layout.
pub fn object_path(o: &Object) -> PathBuf {
    PathBuf::from(&o.namespace)
        .join(&o.cluster)
        .join(format!("wave-{}", o.wave))
        .join(format!("{}-{}.yaml", o.kind.to_lowercase(), o.name))
}

/// Files of the directory layout: (relative path, content), kustomization.yaml included.
pub fn layout(objects: &[Object]) -> Vec<(PathBuf, String)> {
    let mut files = object_files(objects);
    files.push(kustomization(&files));
    files
}

/// One file per object.
pub fn object_files(objects: &[Object]) -> Vec<(PathBuf, String)> {
    objects.iter().map(|o| (object_path(o), to_yaml(&o.body))).collect()
}

/// The `kustomization.yaml` listing the given object files, in their order.
pub fn kustomization(files: &[(PathBuf, String)]) -> (PathBuf, String) {
    let resources: Vec<serde_json::Value> =
        files.iter().map(|(p, _)| serde_json::Value::String(p.to_string_lossy().replace('\\', "/"))).collect();
    let k = serde_json::json!({
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": resources,
    });
    (PathBuf::from("kustomization.yaml"), to_yaml(&k))
}

#[derive(Debug)]
pub enum WriteError {
    NotOwned(PathBuf),
    Io(PathBuf, std::io::Error),
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::NotOwned(p) => write!(
                f,
                "{} is not empty and was not written by bdp (no {MARKER} file); refusing to write into it. Choose an empty or new directory",
                p.display()
            ),
            WriteError::Io(p, e) => write!(f, "{}: {e}", p.display()),
        }
    }
}

/// Writes the layout into `dir`, removing files an earlier render wrote and this one does not.
pub fn write_dir(dir: &Path, files: &[(PathBuf, String)]) -> Result<(), WriteError> {
    let mut w = DirWriter::open(dir)?;
    for (rel, content) in files {
        w.write(rel, content)?;
    }
    w.finish()
}

fn io_err(p: &Path) -> impl FnOnce(std::io::Error) -> WriteError {
    let p = p.to_path_buf();
    move |e| WriteError::Io(p, e)
}

/// Writes an output directory file by file (so a large fleet need not be held in memory),
/// then removes what an earlier render wrote and this one did not, and records the new list.
pub struct DirWriter {
    dir: PathBuf,
    previous: std::collections::BTreeSet<PathBuf>,
    written: Vec<PathBuf>,
    made: std::collections::BTreeSet<PathBuf>,
}

impl DirWriter {
    /// Checks that bdp owns `dir` (absent, empty, or holding a `.bdp-output` record).
    pub fn open(dir: &Path) -> Result<DirWriter, WriteError> {
        let previous = if dir.exists() {
            let non_empty = std::fs::read_dir(dir).map_err(io_err(dir))?.next().is_some();
            match std::fs::read_to_string(dir.join(MARKER)) {
                Ok(t) => t.lines().filter(|l| !l.is_empty() && !l.starts_with('#')).map(PathBuf::from).collect(),
                Err(_) if non_empty => return Err(WriteError::NotOwned(dir.to_path_buf())),
                Err(_) => Default::default(),
            }
        } else {
            Default::default()
        };
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        Ok(DirWriter { dir: dir.to_path_buf(), previous, written: Vec::new(), made: Default::default() })
    }

    pub fn write(&mut self, rel: &Path, content: &str) -> Result<(), WriteError> {
        let p = self.dir.join(rel);
        if let Some(parent) = p.parent()
            && !self.made.contains(parent) {
                std::fs::create_dir_all(parent).map_err(io_err(parent))?;
                self.made.insert(parent.to_path_buf());
            }
        // unchanged files are not rewritten (keeps mtimes stable for tools that watch them);
        // only files an earlier render wrote can exist
        let unchanged = self.previous.contains(rel) && std::fs::read(&p).ok().as_deref() == Some(content.as_bytes());
        if !unchanged {
            std::fs::write(&p, content).map_err(io_err(&p))?;
        }
        self.written.push(rel.to_path_buf());
        Ok(())
    }

    pub fn finish(self) -> Result<(), WriteError> {
        let wanted: std::collections::BTreeSet<&PathBuf> = self.written.iter().collect();
        for old in &self.previous {
            // only paths bdp itself could have written: relative, no `..`
            if old.is_absolute() || old.components().any(|c| matches!(c, std::path::Component::ParentDir)) {
                continue;
            }
            if !wanted.contains(old) {
                let p = self.dir.join(old);
                if p.is_file() {
                    std::fs::remove_file(&p).map_err(io_err(&p))?;
                }
                let mut parent = p.parent();
                while let Some(d) = parent {
                    if d == self.dir || std::fs::remove_dir(d).is_err() {
                        break;
                    }
                    parent = d.parent();
                }
            }
        }
        let mut list = String::from("# Files written by bdp render -o; bdp removes the ones a later render does not produce.\n");
        for rel in &self.written {
            list.push_str(&rel.to_string_lossy());
            list.push('\n');
        }
        let marker = self.dir.join(MARKER);
        std::fs::write(&marker, list).map_err(io_err(&marker))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(kind: &str, name: &str, wave: u32) -> Object {
        Object {
            api_version: "v1".into(),
            kind: kind.into(),
            namespace: "ns".into(),
            name: name.into(),
            cluster: "c".into(),
            wave,
            body: json!({"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": "ns"}}),
        }
    }

    #[test]
    fn canonical_order() {
        let mut v = vec![obj("StatefulSet", "a", 0), obj("ConfigMap", "b", 1), obj("Service", "a", 0), obj("ConfigMap", "a", 0)];
        sort(&mut v);
        let got: Vec<String> = v.iter().map(|o| format!("{}/{}/{}", o.wave, o.kind, o.name)).collect();
        assert_eq!(got, ["0/ConfigMap/a", "0/Service/a", "0/StatefulSet/a", "1/ConfigMap/b"]);
    }

    #[test]
    fn directory_ownership_and_stale_files() {
        let dir = std::env::temp_dir().join(format!("bdp-emit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let v1 = layout(&[obj("ConfigMap", "a", 0), obj("ConfigMap", "b", 1)]);
        write_dir(&dir, &v1).unwrap();
        assert!(dir.join("ns/c/wave-1/configmap-b.yaml").is_file());
        let v2 = layout(&[obj("ConfigMap", "a", 0)]);
        write_dir(&dir, &v2).unwrap();
        assert!(!dir.join("ns/c/wave-1/configmap-b.yaml").exists());
        assert!(!dir.join("ns/c/wave-1").exists(), "empty directories are removed");
        assert!(dir.join("ns/c/wave-0/configmap-a.yaml").is_file());
        let foreign = dir.join("foreign");
        std::fs::create_dir_all(&foreign).unwrap();
        std::fs::write(foreign.join("x.txt"), "mine").unwrap();
        assert!(matches!(write_dir(&foreign, &v2), Err(WriteError::NotOwned(_))));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
