//! State shared by the libFuzzer targets: the seed corpus, a work directory and the canary.
use super::fuzzing::{self, check, mutate};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub struct State {
    pub corpus: fuzzing::Corpus,
    pub work: PathBuf,
    pub canary: PathBuf,
}

pub fn state() -> &'static State {
    static S: OnceLock<State> = OnceLock::new();
    S.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let corpus = fuzzing::corpus(&root);
        assert!(!corpus.inputs.is_empty() && !corpus.rendered.is_empty(), "empty seed corpus under {}", root.display());
        let work = std::env::temp_dir().join(format!("bdp-cargo-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&work).expect("work dir");
        let canary = work.join("CANARY");
        State { corpus, work, canary }
    })
}

impl State {
    pub fn ctx(&self, rendered: bool) -> mutate::Ctx<'_> {
        mutate::Ctx {
            dict: &self.corpus.dict,
            files: &self.corpus.files,
            settings: &self.corpus.settings,
            services: &self.corpus.services,
            canary: self.canary.to_str().expect("utf-8 temp dir"),
            rendered,
        }
    }
    pub fn env(&self) -> check::Env<'_> {
        check::Env { work: &self.work, canary: &self.canary }
    }
}

/// The diagnostics as the CLI prints them, for `check::check_error_locations`.
pub fn diag_text(d: &bdp::diag::Diagnostics) -> String {
    d.sorted().iter().map(|x| format!("{x}\n")).collect()
}

/// Fails the run (libFuzzer saves the input) when an invariant is broken.
pub fn report(findings: &[check::Finding], what: &str) {
    if !findings.is_empty() {
        panic!("invariant broken: {findings:#?}\ncase:\n{what}");
    }
}
