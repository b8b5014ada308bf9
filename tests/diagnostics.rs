//! Error cases as data: each `tests/inputs/NAME.yaml` (or folder `tests/inputs/NAME/`, read as
//! one input) is compiled, and the diagnostics bdp prints (`Diagnostics::report`, codes,
//! locations, expectations and hints) must equal `tests/inputs/NAME.snap`. A case whose name
//! starts with `strict-` runs with `--strict`. `BDP_UPDATE_SNAPSHOTS=1 cargo test --test
//! diagnostics` rewrites the snapshots; review their diff like code.
//!
//! A small runner instead of `insta`: snapshots are plain text files next to their inputs, in
//! the same style as `golden/` (`BDP_UPDATE_GOLDEN`), and no new dependency is needed.

use bdp::{compile, Options};
use std::path::{Path, PathBuf};

fn cases() -> Vec<PathBuf> {
    let dir = Path::new("tests/inputs");
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir() || p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    v.sort();
    v
}

fn snapshot_of(case: &Path) -> PathBuf {
    case.with_extension("snap")
}

fn report(case: &Path) -> String {
    let name = case.file_stem().unwrap().to_string_lossy();
    let opts = Options { strict: name.starts_with("strict-"), ..Default::default() };
    match compile(&[case.to_path_buf()], &opts) {
        Ok(c) => format!("ok: {} objects\n{}", c.objects.len(), c.diags.report()),
        Err(d) => d.report(),
    }
}

#[test]
fn every_input_gives_its_snapshot() {
    let update = std::env::var_os("BDP_UPDATE_SNAPSHOTS").is_some();
    let mut failures = Vec::new();
    for case in cases() {
        let got = report(&case);
        let snap = snapshot_of(&case);
        if update {
            std::fs::write(&snap, &got).unwrap();
            continue;
        }
        match std::fs::read_to_string(&snap) {
            Ok(want) if want == got => {}
            Ok(want) => {
                let diff = similar::TextDiff::from_lines(&want, &got).unified_diff().header(&snap.display().to_string(), "now").to_string();
                failures.push(diff);
            }
            Err(_) => failures.push(format!("{}: no snapshot (run with BDP_UPDATE_SNAPSHOTS=1 and review it)\n{got}", snap.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_snapshot_has_an_input() {
    for e in std::fs::read_dir("tests/inputs").unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|e| e == "snap") {
            let yaml = p.with_extension("yaml");
            let dir = p.with_extension("");
            assert!(yaml.exists() || dir.is_dir(), "{} has no input", p.display());
        }
    }
}

#[test]
fn error_cases_fail_with_codes() {
    // every case is an error case (or a warning one): each snapshot line that reports a
    // problem carries a code
    for case in cases() {
        let r = report(&case);
        for l in r.lines().filter(|l| l.starts_with("error") || l.starts_with("warning")) {
            assert!(l.starts_with("error[E") || l.starts_with("warning[W") || l.starts_with("error[W"), "{}: {l}", case.display());
        }
        assert!(r.contains("error["), "{}: not an error case:\n{r}", case.display());
    }
}
