//! `bdp diff --rendered` through the library (`bdp::diff::run`) on two mutated golden streams:
//! no panic, JSON output parses, errors located in one of the two files.
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
    let Ok(i) = u.choose_index(st.corpus.rendered.len()) else { return };
    let seed = &st.corpus.rendered[i];
    let old_ops = if u.ratio(1, 3).unwrap_or(false) { mutate::gen_ops(&mut u, seed, &st.ctx(true)).unwrap_or_default() } else { Vec::new() };
    let ops = mutate::gen_ops(&mut u, seed, &st.ctx(true)).unwrap_or_default();
    let (old, new) = (mutate::build(seed, &old_ops), mutate::build(seed, &ops));
    let (po, pn) = (st.work.join("old.yaml"), st.work.join("new.yaml"));
    std::fs::write(&po, &old).expect("write old");
    std::fs::write(&pn, &new).expect("write new");
    let opts = bdp::diff::DiffOptions { rendered: true, ..Default::default() };
    let findings = match bdp::diff::run(po.to_str().expect("utf-8"), pn.to_str().expect("utf-8"), &opts) {
        Ok((report, _)) => match serde_json::from_str::<serde_json::Value>(&bdp::diff::to_json(&report)) {
            Ok(_) => {
                let _ = bdp::diff::to_text(&report, false);
                let _ = bdp::diff::to_markdown(&report);
                Vec::new()
            }
            Err(e) => vec![check::Finding::new("diff-json-parses", e.to_string())],
        },
        Err(d) => check::check_error_locations(&common::diag_text(&d), &[(po.clone(), &old[..]), (pn.clone(), &new[..])]),
    };
    let what = format!(
        "seed {}\nOLD:\n{}NEW:\n{}",
        seed.name,
        old_ops.iter().map(|o| format!("  {o}\n")).collect::<String>(),
        ops.iter().map(|o| format!("  {o}\n")).collect::<String>()
    );
    common::report(&findings, &what);
});
