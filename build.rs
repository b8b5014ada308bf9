//! Rebuild when the embedded stacks, schemas or docs change (include_dir! does not track new
//! files), and embed the commit bdp was built from (`bdp --version`).
use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let s = String::from_utf8(out.stdout).ok()?.trim().to_string();
    (out.status.success() && !s.is_empty()).then_some(s)
}

fn main() {
    println!("cargo:rerun-if-changed=stacks");
    println!("cargo:rerun-if-changed=schemas");
    println!("cargo:rerun-if-changed=docs");
    // `BDP_COMMIT` set by the builder (e.g. from a source tarball) wins; otherwise
    // `git describe --always --dirty`, or "unknown" outside a Git checkout.
    println!("cargo:rerun-if-env-changed=BDP_COMMIT");
    let commit = std::env::var("BDP_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(|| git(&["describe", "--always", "--dirty"]))
        .unwrap_or_else(|| "unknown".to_string());
    // describe again when HEAD moves, a branch advances, or the work tree changes (the tracked
    // directories below). Not on .git/index: `git describe --dirty` itself refreshes the index,
    // so watching it made the next cargo command build bdp again (seen in CI after a fresh clone)
    if let Some(dir) = git(&["rev-parse", "--git-dir"]) {
        println!("cargo:rerun-if-changed={dir}/HEAD");
    }
    if let (Some(common), Some(head)) = (git(&["rev-parse", "--git-common-dir"]), git(&["symbolic-ref", "-q", "HEAD"])) {
        println!("cargo:rerun-if-changed={common}/{head}");
        println!("cargo:rerun-if-changed={common}/packed-refs");
    }
    for tracked in ["src", "tests", "examples", "Cargo.toml", "README.md"] {
        println!("cargo:rerun-if-changed={tracked}");
    }
    println!("cargo:rustc-env=BDP_COMMIT={commit}");
}
