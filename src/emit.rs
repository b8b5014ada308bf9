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
use std::path::{Component, Path, PathBuf};

use crate::names::OUTPUT_MARKER as MARKER;

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
    /// A symbolic link inside (or as) the output directory: bdp never writes links, so one is
    /// either foreign or planted, and following it could write or delete outside DIR.
    Symlink(PathBuf),
    /// A line of `.bdp-output` that is not a path bdp writes (absolute, `..`, `.`, empty parts).
    BadRecord(PathBuf, usize, String),
    /// Something other than a regular file or directory where bdp writes or removes one.
    NotRegular(PathBuf),
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
            WriteError::Symlink(p) => write!(
                f,
                "{} is a symbolic link; bdp writes no links into an output directory and follows none, so it refuses to write or remove anything through it. Remove the link, or pass the directory it points to",
                p.display()
            ),
            WriteError::BadRecord(p, line, entry) => write!(
                f,
                "{}:{line}: `{entry}` is not a file bdp writes (records hold relative paths without `..`); the record was edited, so bdp refuses to remove anything. Delete the directory and render again",
                p.display()
            ),
            WriteError::NotRegular(p) => {
                write!(f, "{} is neither a regular file nor a directory; refusing to write or remove it", p.display())
            }
            WriteError::Io(p, e) => write!(f, "{}: {e}", p.display()),
        }
    }
}

/// Writes the layout into `dir`, removing files an earlier render wrote and this one does not.
pub fn write_dir(dir: &Path, files: &[(PathBuf, String)]) -> Result<Vec<PathBuf>, WriteError> {
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

/// A relative path of normal components only (what bdp writes and may remove).
fn is_plain_relative(p: &Path) -> bool {
    p.components().next().is_some() && p.components().all(|c| matches!(c, Component::Normal(_)))
}

/// What is at `p`, without following a link: None when nothing is there.
fn kind_at(p: &Path) -> Result<Option<std::fs::FileType>, WriteError> {
    match std::fs::symlink_metadata(p) {
        Ok(m) => Ok(Some(m.file_type())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(WriteError::Io(p.to_path_buf(), e)),
    }
}

/// Writes an output directory file by file (so a large fleet need not be held in memory),
/// then removes what an earlier render wrote and this one did not, and records the new list.
///
/// No symbolic link is ever followed below DIR: `open` refuses a DIR that is a link or holds
/// one, every directory on the way to a file is checked with `symlink_metadata` before bdp
/// creates, writes or removes anything in it, and the `.bdp-output` record may name only
/// relative paths of normal components. (Ancestors of DIR are the user's file system and are
/// not checked.)
pub struct DirWriter {
    dir: PathBuf,
    previous: std::collections::BTreeSet<PathBuf>,
    written: Vec<PathBuf>,
    /// directories below DIR known to be real directories (checked or made by bdp)
    checked: std::collections::BTreeSet<PathBuf>,
}

impl DirWriter {
    /// Checks that bdp owns `dir` (absent, empty, or holding a `.bdp-output` record) and that
    /// nothing in it is a symbolic link.
    pub fn open(dir: &Path) -> Result<DirWriter, WriteError> {
        let previous = match kind_at(dir)? {
            None => Default::default(),
            Some(t) if t.is_symlink() => return Err(WriteError::Symlink(dir.to_path_buf())),
            Some(t) if !t.is_dir() => return Err(WriteError::NotRegular(dir.to_path_buf())),
            Some(_) => {
                let non_empty = std::fs::read_dir(dir).map_err(io_err(dir))?.next().is_some();
                let marker = dir.join(MARKER);
                match kind_at(&marker)? {
                    Some(t) if t.is_file() => {
                        // bdp owns this directory: a link anywhere in it was planted
                        for e in walkdir::WalkDir::new(dir).min_depth(1).sort_by_file_name() {
                            let e = e.map_err(|e| {
                                let p = e.path().unwrap_or(dir).to_path_buf();
                                WriteError::Io(p, e.into())
                            })?;
                            if e.path_is_symlink() {
                                return Err(WriteError::Symlink(e.into_path()));
                            }
                        }
                        let text = std::fs::read_to_string(&marker).map_err(io_err(&marker))?;
                        let mut prev = std::collections::BTreeSet::new();
                        for (i, l) in text.lines().enumerate() {
                            if l.is_empty() || l.starts_with('#') {
                                continue;
                            }
                            let p = PathBuf::from(l);
                            if !is_plain_relative(&p) || p == Path::new(MARKER) {
                                return Err(WriteError::BadRecord(marker.clone(), i + 1, l.to_string()));
                            }
                            prev.insert(p);
                        }
                        prev
                    }
                    Some(t) if t.is_symlink() => return Err(WriteError::Symlink(marker)),
                    Some(_) => return Err(WriteError::NotRegular(marker)),
                    None if non_empty => return Err(WriteError::NotOwned(dir.to_path_buf())),
                    None => Default::default(),
                }
            }
        };
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        // created just now or checked above; a link racing in afterwards is caught below
        if kind_at(dir)?.is_none_or(|t| !t.is_dir()) {
            return Err(WriteError::Symlink(dir.to_path_buf()));
        }
        Ok(DirWriter { dir: dir.to_path_buf(), previous, written: Vec::new(), checked: Default::default() })
    }

    /// Makes sure every directory of `rel`'s parent below DIR is a real directory, creating
    /// missing ones; never goes through a link.
    fn ensure_parent(&mut self, rel: &Path) -> Result<(), WriteError> {
        let mut cur = PathBuf::new();
        let Some(parent) = rel.parent() else { return Ok(()) };
        for c in parent.components() {
            cur.push(c);
            if self.checked.contains(&cur) {
                continue;
            }
            let p = self.dir.join(&cur);
            match kind_at(&p)? {
                Some(t) if t.is_dir() => {}
                Some(t) if t.is_symlink() => return Err(WriteError::Symlink(p)),
                Some(_) => return Err(WriteError::NotRegular(p)),
                None => std::fs::create_dir(&p).map_err(io_err(&p))?,
            }
            self.checked.insert(cur.clone());
        }
        Ok(())
    }

    /// Every directory of `rel`'s parent is a real directory (for removal: creates nothing).
    /// False when one is missing.
    fn parents_are_dirs(&self, rel: &Path) -> Result<bool, WriteError> {
        let mut cur = PathBuf::new();
        for c in rel.parent().into_iter().flat_map(Path::components) {
            cur.push(c);
            let p = self.dir.join(&cur);
            match kind_at(&p)? {
                Some(t) if t.is_dir() => {}
                Some(t) if t.is_symlink() => return Err(WriteError::Symlink(p)),
                Some(_) => return Err(WriteError::NotRegular(p)),
                None => return Ok(false),
            }
        }
        Ok(true)
    }

    pub fn write(&mut self, rel: &Path, content: &str) -> Result<(), WriteError> {
        if !is_plain_relative(rel) {
            return Err(WriteError::BadRecord(self.dir.join(MARKER), 0, rel.to_string_lossy().into_owned()));
        }
        self.ensure_parent(rel)?;
        let p = self.dir.join(rel);
        let existing = kind_at(&p)?;
        match existing {
            Some(t) if t.is_symlink() => return Err(WriteError::Symlink(p)),
            Some(t) if !t.is_file() => return Err(WriteError::NotRegular(p)),
            _ => {}
        }
        // unchanged files are not rewritten (keeps mtimes stable for tools that watch them);
        // only files an earlier render wrote can exist
        let unchanged =
            existing.is_some() && self.previous.contains(rel) && std::fs::read(&p).ok().as_deref() == Some(content.as_bytes());
        if !unchanged {
            std::fs::write(&p, content).map_err(io_err(&p))?;
        }
        self.written.push(rel.to_path_buf());
        Ok(())
    }

    /// Removes the files of the previous render that this one did not write (returned,
    /// relative to DIR, sorted) and records the new list.
    pub fn finish(self) -> Result<Vec<PathBuf>, WriteError> {
        let wanted: std::collections::BTreeSet<&PathBuf> = self.written.iter().collect();
        let mut removed = Vec::new();
        for old in &self.previous {
            if wanted.contains(old) || !self.parents_are_dirs(old)? {
                continue;
            }
            let p = self.dir.join(old);
            match kind_at(&p)? {
                None => continue,
                Some(t) if t.is_file() => std::fs::remove_file(&p).map_err(io_err(&p))?,
                Some(t) if t.is_symlink() => return Err(WriteError::Symlink(p)),
                Some(_) => return Err(WriteError::NotRegular(p)),
            }
            removed.push(old.clone());
            // empty directories go too (remove_dir never follows a link and fails on non-empty)
            let mut parent = old.parent();
            while let Some(d) = parent.filter(|d| !d.as_os_str().is_empty()) {
                if std::fs::remove_dir(self.dir.join(d)).is_err() {
                    break;
                }
                parent = d.parent();
            }
        }
        let mut list = String::from("# Files written by bdp render -o; bdp removes the ones a later render does not produce.\n");
        for rel in &self.written {
            list.push_str(&rel.to_string_lossy());
            list.push('\n');
        }
        let marker = self.dir.join(MARKER);
        match kind_at(&marker)? {
            Some(t) if t.is_symlink() => return Err(WriteError::Symlink(marker)),
            Some(t) if !t.is_file() => return Err(WriteError::NotRegular(marker)),
            _ => {}
        }
        std::fs::write(&marker, list).map_err(io_err(&marker))?;
        Ok(removed)
    }
}

/// One line per group of removed files: `<namespace>/<cluster>` for object files, the top
/// directory (e.g. `_flux`) or the file itself otherwise.
pub fn removal_summary(removed: &[PathBuf]) -> Vec<String> {
    let mut groups: std::collections::BTreeMap<String, usize> = Default::default();
    for r in removed {
        let parts: Vec<String> = r.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
        let key = match parts.len() {
            0 | 1 => parts.join("/"),
            2 => format!("{}/", parts[0]),
            _ if parts[0].starts_with('_') => format!("{}/", parts[0]),
            _ => format!("{}/{}/", parts[0], parts[1]),
        };
        *groups.entry(key).or_default() += 1;
    }
    groups.into_iter().map(|(k, n)| if k.ends_with('/') { format!("{k} ({n} file(s))") } else { k }).collect()
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
