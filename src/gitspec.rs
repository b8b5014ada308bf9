//! `REV:PATH` inputs: PATH (a file or a directory, relative to the current directory) as it is
//! at a Git revision. Used by every command that reads inputs (`render`, `validate`, `graph`,
//! `diff`): the blob or tree is copied into a temporary directory that lives as long as the
//! [`Materialized`] value, and diagnostics are relabelled from that copy back to `REV:PATH/…`.
//!
//! An argument is `REV:PATH` only when it is not an existing path and has a non-empty
//! revision before its first `:`.

use crate::diag::{Diagnostic, Diagnostics, Span, Code};
use std::path::{Path, PathBuf};

/// A directory bdp made and removes when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> std::io::Result<Self> {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let p = std::env::temp_dir().join(format!("bdp-git-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p)?;
        Ok(TempDir(p))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `REV:PATH` when the argument is not an existing path and has a non-empty revision.
pub fn split_git_spec(spec: &str) -> Option<(&str, &str)> {
    if spec == "-" || Path::new(spec).exists() {
        return None;
    }
    let (rev, path) = spec.split_once(':')?;
    (!rev.is_empty()).then_some((rev, path))
}

fn git(args: &[&str]) -> Result<Vec<u8>, String> {
    let out = std::process::Command::new("git").args(args).output().map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// Git's name for PATH at REV, relative to the current directory (`REV:./PATH`).
pub fn git_object(rev: &str, path: &str) -> String {
    let clean: Vec<&str> = path.split('/').filter(|s| !s.is_empty() && *s != ".").collect();
    format!("{rev}:./{}", clean.join("/"))
}

pub fn is_yaml(p: &str) -> bool {
    p.ends_with(".yaml") || p.ends_with(".yml")
}

/// Copies PATH at REV (a file, or a directory's YAML files and `.bdp-output` records) into
/// `tmp`; returns the local path.
pub fn materialize_git(rev: &str, path: &str, tmp: &Path) -> Result<PathBuf, String> {
    let obj = git_object(rev, path);
    let ty = git(&["cat-file", "-t", &obj]).map_err(|e| format!("cannot read {rev}:{path} from git: {e}"))?;
    let base = Path::new(path).file_name().map(|s| s.to_string_lossy().to_string()).filter(|s| s != "." && s != "..").unwrap_or_else(|| "root".into());
    match String::from_utf8_lossy(&ty).trim() {
        "blob" => {
            let data = git(&["cat-file", "blob", &obj])?;
            let p = tmp.join(&base);
            std::fs::write(&p, data).map_err(|e| format!("{}: {e}", p.display()))?;
            Ok(p)
        }
        "tree" => {
            let list = git(&["ls-tree", "-r", "-z", "--full-tree", "--name-only", &obj])?;
            let root = tmp.join(&base);
            std::fs::create_dir_all(&root).map_err(|e| format!("{}: {e}", root.display()))?;
            for entry in list.split(|b| *b == 0).filter(|e| !e.is_empty()) {
                let entry = String::from_utf8_lossy(entry).to_string();
                let wanted = is_yaml(&entry) || entry.rsplit('/').next() == Some(crate::names::OUTPUT_MARKER);
                if !wanted || entry.split('/').any(|c| c == ".." || c == "." || c.is_empty()) {
                    continue;
                }
                let data = git(&["cat-file", "blob", &format!("{obj}/{entry}").replace(":.//", ":./")])?;
                let p = root.join(&entry);
                if let Some(parent) = p.parent() {
                    std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
                }
                std::fs::write(&p, data).map_err(|e| format!("{}: {e}", p.display()))?;
            }
            Ok(root)
        }
        other => Err(format!("{rev}:{path} is a git {other}, not a file or directory")),
    }
}

/// Rewrites diagnostics' file names from the temporary copy back to `REV:PATH/...`.
pub fn relabel(d: &mut Diagnostics, local: &Path, shown: &str) {
    for x in &mut d.items {
        if let Some(s) = &mut x.span
            && let Ok(rest) = s.file.strip_prefix(local)
        {
            let r = rest.to_string_lossy();
            s.file = PathBuf::from(if r.is_empty() { shown.to_string() } else { format!("{}/{r}", shown.trim_end_matches('/')) });
        }
    }
}

/// Input arguments with every `REV:PATH` copied out of Git: the local paths to read, and what
/// to call them in diagnostics. The copies are removed when this is dropped.
pub struct Materialized {
    pub paths: Vec<PathBuf>,
    labels: Vec<(PathBuf, String)>,
    _tmp: Vec<TempDir>,
}

impl Materialized {
    /// Diagnostics about the copies, relabelled to `REV:PATH/...`.
    pub fn relabel(&self, d: &mut Diagnostics) {
        for (local, shown) in &self.labels {
            relabel(d, local, shown);
        }
    }
}

const HINT: &str = "REV:PATH reads PATH (relative to the current directory) at a Git revision, e.g. main:prod.yaml";

/// Materialises the `REV:PATH` arguments among `args`; other arguments pass unchanged.
pub fn materialize(args: &[PathBuf]) -> Result<Materialized, Diagnostics> {
    let mut m = Materialized { paths: Vec::new(), labels: Vec::new(), _tmp: Vec::new() };
    let mut diags = Diagnostics::default();
    for a in args {
        let Some((rev, path)) = a.to_str().and_then(split_git_spec) else {
            m.paths.push(a.clone());
            continue;
        };
        let tmp = match TempDir::new() {
            Ok(t) => t,
            Err(e) => {
                diags.push(Diagnostic::error(Code::ReadFailed, None, "", format!("cannot create a temporary directory: {e}")));
                continue;
            }
        };
        match materialize_git(rev, path, &tmp.0) {
            Ok(p) => {
                m.labels.push((p.clone(), format!("{rev}:{path}")));
                m.paths.push(p);
                m._tmp.push(tmp);
            }
            Err(e) => diags.push(Diagnostic::error(Code::GitRevision, Some(Span::new(a, 0, 0)), "", e).hint(HINT)),
        }
    }
    if diags.has_errors() { Err(diags) } else { Ok(m) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn git_specs() {
        assert_eq!(split_git_spec("main:prod.yaml"), Some(("main", "prod.yaml")));
        assert_eq!(split_git_spec("HEAD~1:deploy/"), Some(("HEAD~1", "deploy/")));
        assert_eq!(split_git_spec(":x"), None);
        assert_eq!(split_git_spec("plain.yaml"), None);
        assert_eq!(git_object("main", "./a//b/"), "main:./a/b");
        assert_eq!(git_object("main", "."), "main:./");
    }
}
