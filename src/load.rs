//! Stage 1, load: input paths → YAML documents with source positions.
//!
//! Files and directories are accepted; directories are walked (walkdir) in sorted order for
//! `*.yaml` / `*.yml`, so the result does not depend on the file system's listing order.
//! Subdirectories holding a `.bdp-output` record (what `bdp render -o` wrote) are skipped, so
//! a repository can keep its Clusters and their rendered output side by side.

use crate::diag::{Diagnostic, Diagnostics, Span, Code};
use crate::source::{decode, parse_documents, Doc};
use std::path::{Path, PathBuf};

pub use crate::limits::MAX_FILE_BYTES;

/// Expands files and directories into the YAML files to read, sorted and de-duplicated.
pub fn expand_inputs(inputs: &[PathBuf], diags: &mut Diagnostics) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for input in inputs {
        if input.as_os_str() == "-" {
            files.push(input.clone());
        } else if input.is_dir() {
            // directories below the input that hold a `.bdp-output` record are bdp's own
            // output (`bdp render repo -o repo/out`): not inputs
            let mut found: Vec<PathBuf> = walkdir::WalkDir::new(input)
                .sort_by_file_name()
                .into_iter()
                .filter_entry(|e| e.depth() == 0 || !e.file_type().is_dir() || !e.path().join(crate::names::OUTPUT_MARKER).exists())
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_file())
                .map(|e| e.into_path())
                .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")))
                .collect();
            if found.is_empty() {
                diags.push(
                    Diagnostic::error(Code::EmptyDirectory, Some(Span::new(input, 0, 0)), "", "directory holds no *.yaml or *.yml file")
                        .hint("point bdp at a directory of Cluster files, or at the files themselves"),
                );
            }
            files.append(&mut found);
        } else if input.is_file() {
            files.push(input.clone());
        } else {
            diags.push(
                Diagnostic::error(Code::NoSuchInput, Some(Span::new(input, 0, 0)), "", "no such file or directory")
                    .hint("check the path; bdp reads files and directories of YAML"),
            );
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    files.retain(|f| seen.insert(f.clone()));
    files
}

/// Reads and parses one file (or standard input for `-`).
pub fn load_file(path: &Path, diags: &mut Diagnostics) -> Vec<Doc> {
    let too_big = || {
        Diagnostic::error(Code::InputTooLarge, Some(Span::new(path, 0, 0)), "", format!("file is larger than {MAX_FILE_BYTES} bytes"))
            .hint("bdp's input limit (see `src/limits.rs`); split the input into several files")
    };
    let bytes = if path.as_os_str() == "-" {
        // one byte more than the limit tells a file at the limit from a larger one
        let mut b = Vec::new();
        match std::io::stdin().take(MAX_FILE_BYTES + 1).read_to_end(&mut b) {
            Ok(_) if b.len() as u64 > MAX_FILE_BYTES => {
                diags.push(too_big());
                return vec![];
            }
            Ok(_) => b,
            Err(e) => {
                diags.push(Diagnostic::error(Code::ReadFailed, Some(Span::new(path, 0, 0)), "", format!("cannot read standard input: {e}")));
                return vec![];
            }
        }
    } else {
        if std::fs::metadata(path).is_ok_and(|m| m.len() > MAX_FILE_BYTES) {
            diags.push(too_big());
            return vec![];
        }
        match std::fs::read(path) {
            Ok(b) => b,
            Err(e) => {
                diags.push(Diagnostic::error(Code::ReadFailed, Some(Span::new(path, 0, 0)), "", format!("cannot read file: {e}")));
                return vec![];
            }
        }
    };
    let text = match decode(path, &bytes) {
        Ok(t) => t,
        Err(d) => {
            diags.push(*d);
            return vec![];
        }
    };
    match parse_documents(path, &text) {
        Ok(docs) => docs,
        Err(errs) => {
            for e in errs {
                diags.push(e);
            }
            vec![]
        }
    }
}

use std::io::Read as _;

/// Loads every document of every input.
pub fn load(inputs: &[PathBuf], diags: &mut Diagnostics) -> Vec<Doc> {
    expand_inputs(inputs, diags).iter().flat_map(|f| load_file(f, diags)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_directories_sorted_and_reports_missing_paths() {
        let dir = std::env::temp_dir().join(format!("bdp-load-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("b.yaml"), "b: 1\n").unwrap();
        std::fs::write(dir.join("sub/a.yml"), "a: 1\n---\nc: 2\n").unwrap();
        std::fs::write(dir.join("notes.txt"), "x").unwrap();
        let mut d = Diagnostics::default();
        let docs = load(&[dir.clone(), dir.join("missing.yaml")], &mut d);
        assert_eq!(docs.len(), 3);
        assert!(docs[0].file.ends_with("b.yaml"));
        assert_eq!(d.errors(), 1);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
