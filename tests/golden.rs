//! Golden files: the exact output of every example, reviewed like code.
//!
//! Each file `examples/X.yaml` and each folder `examples/X/` (rendered as a whole, e.g. a
//! fleet) has `golden/X.yaml`. A difference fails with a line diff. To accept a change on
//! purpose, run `BDP_UPDATE_GOLDEN=1 cargo test --test golden`
//! and review the diff of golden/ in the pull request.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// (input, golden file name) for every example.
fn examples() -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(root().join("examples")).unwrap().filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        let stem = p.file_stem().unwrap().to_string_lossy().to_string();
        if p.is_dir() || matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
            out.push((p, format!("{stem}.yaml")));
        }
    }
    out
}

fn render(input: &Path) -> String {
    match bdp::compile(&[input.to_path_buf()], &bdp::Options::default()) {
        Ok(c) => bdp::emit::stream(&c.objects),
        Err(d) => panic!("{} does not render:\n{}", input.display(), d.sorted().iter().map(|x| x.to_string()).collect::<Vec<_>>().join("\n")),
    }
}

#[test]
fn every_example_matches_its_golden_file() {
    let update = std::env::var_os("BDP_UPDATE_GOLDEN").is_some();
    let dir = root().join("golden");
    std::fs::create_dir_all(&dir).unwrap();
    let mut failures = Vec::new();
    let ex = examples();
    assert!(!ex.is_empty(), "no examples found");
    for (input, name) in &ex {
        let got = render(input);
        let path = dir.join(name);
        if update {
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_default();
        if want != got {
            let diff = similar::TextDiff::from_lines(&want, &got);
            let text = diff.unified_diff().context_radius(2).header(&format!("golden/{name}"), "rendered").to_string();
            failures.push(text.lines().take(60).collect::<Vec<_>>().join("\n"));
        }
    }
    if update {
        // golden files of examples that no longer exist are stale
        let names: Vec<&String> = ex.iter().map(|(_, n)| n).collect();
        for e in std::fs::read_dir(&dir).unwrap().filter_map(Result::ok) {
            let n = e.file_name().to_string_lossy().to_string();
            if e.path().is_file() && n.ends_with(".yaml") && !names.contains(&&n) {
                std::fs::remove_file(e.path()).unwrap();
            }
        }
    }
    assert!(failures.is_empty(), "{} example(s) differ from golden/ (BDP_UPDATE_GOLDEN=1 to accept):\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn renders_are_byte_identical() {
    for (input, _) in examples() {
        assert_eq!(render(&input), render(&input), "{}", input.display());
    }
}

/// Reverses the order of every mapping of a YAML document (keeps comments out).
fn reorder(v: &serde_json::Value) -> String {
    fn rev(v: &serde_json::Value, indent: usize, out: &mut String) {
        let pad = " ".repeat(indent);
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m.iter().rev() {
                    match x {
                        serde_json::Value::Object(_) | serde_json::Value::Array(_) => {
                            out.push_str(&format!("{pad}{}:\n", serde_json::to_string(k).unwrap()));
                            rev(x, indent + 2, out);
                        }
                        other => out.push_str(&format!("{pad}{}: {}\n", serde_json::to_string(k).unwrap(), other)),
                    }
                }
                if m.is_empty() {
                    out.push_str(&format!("{pad}{{}}\n"));
                }
            }
            serde_json::Value::Array(a) => {
                for x in a {
                    out.push_str(&format!("{pad}- {}\n", serde_json::to_string(x).unwrap()));
                }
                if a.is_empty() {
                    out.push_str(&format!("{pad}[]\n"));
                }
            }
            other => out.push_str(&format!("{pad}{other}\n")),
        }
    }
    let mut out = String::new();
    rev(v, 0, &mut out);
    out
}

#[test]
fn input_key_order_does_not_matter() {
    let tmp = std::env::temp_dir().join(format!("bdp-golden-order-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    for (input, name) in examples() {
        if input.is_dir() {
            continue;
        }
        let text = std::fs::read_to_string(&input).unwrap();
        let docs = bdp::source::parse_documents(&input, &text).unwrap();
        let mut shuffled = String::new();
        for d in docs {
            shuffled.push_str("---\n");
            shuffled.push_str(&reorder(&d.root.to_json()));
        }
        let p = tmp.join(&name);
        std::fs::write(&p, shuffled).unwrap();
        assert_eq!(render(&input), render(&p), "{} with reordered keys", input.display());
    }
    std::fs::remove_dir_all(&tmp).unwrap();
}
