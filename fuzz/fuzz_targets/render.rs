//! load → validate → resolve → plan → render through the library (`bdp::compile`) on a
//! mutated example; invariants from tests/fuzzing/check.rs. libFuzzer catches panics, aborts,
//! timeouts (`-timeout=2`) and memory (`-rss_limit_mb`).
#![no_main]

#[path = "../../tests/fuzzing/mod.rs"]
mod fuzzing;
mod common;

use arbitrary::Unstructured;
use fuzzing::{check, mutate};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let st = common::state();
    let mut u = Unstructured::new(data);
    let Ok(i) = u.choose_index(st.corpus.inputs.len()) else { return };
    let seed = &st.corpus.inputs[i];
    let ops = mutate::gen_ops(&mut u, seed, &st.ctx(false)).unwrap_or_default();
    let bytes = mutate::build(seed, &ops);
    let path = st.work.join("case.yaml");
    std::fs::write(&path, &bytes).expect("write case");
    let mut stats = check::Stats::default();
    let findings = match bdp::compile(std::slice::from_ref(&path), &bdp::Options::default()) {
        Ok(c) => check::check_stream(&bdp::emit::stream(&c.objects), &st.env(), &mut stats),
        Err(d) => check::check_error_locations(&common::diag_text(&d), &[(path.clone(), &bytes[..])]),
    };
    let what = format!("seed {}\n{}", seed.name, ops.iter().map(|o| format!("  {o}\n")).collect::<String>());
    common::report(&findings, &what);
});
