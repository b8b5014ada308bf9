//! Architecture invariants, checked on the source text: modules import only downwards in the
//! layer table (the same table as ARCHITECTURE.md's "Layers"), the module graph has no cycle,
//! and only the CLI writes to stdout or stderr or exits.
//!
//! A module is a file or directory directly under `src/`; its imports are every `crate::…`
//! path in its non-test code (`use` lines, paths in expressions and types, brace groups).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Layer of every top-level module; a module may import modules of its own or a lower layer.
/// `lib` is the crate root (the pipeline driver: `compile`, `Options`).
const LAYERS: &[(u32, &[&str])] = &[
    (0, &["diag", "limits", "model", "names", "merge", "formats", "quantity", "template", "yamlout", "source", "grammar"]),
    (1, &["load", "gitspec", "schema"]),
    (2, &["validate", "lower"]),
    (3, &["stacks"]),
    (4, &["resolve"]),
    (5, &["plan"]),
    (6, &["render"]),
    (7, &["emit", "flux"]),
    (8, &["lib"]),
    (9, &["diff", "graph", "explain", "action"]),
    (10, &["cli", "main"]),
];

fn layer_of() -> BTreeMap<&'static str, u32> {
    LAYERS.iter().flat_map(|(l, ms)| ms.iter().map(move |m| (*m, *l))).collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// The top-level module a file belongs to: `src/render/pod.rs` → `render`, `src/lib.rs` → `lib`.
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel.components().next().unwrap().as_os_str().to_string_lossy().into_owned();
    first.strip_suffix(".rs").map(str::to_string).unwrap_or(first)
}

/// The code of a file without its `#[cfg(test)]` modules and without comments.
fn code(text: &str) -> String {
    let mut out = String::new();
    let mut lines = text.lines().peekable();
    while let Some(l) = lines.next() {
        if l.trim_start().starts_with("#[cfg(test)]") {
            // skip the item that follows, up to its closing brace at the same indentation
            let indent = l.len() - l.trim_start().len();
            for m in lines.by_ref() {
                if m.len() - m.trim_start().len() == indent && m.trim_start().starts_with('}') {
                    break;
                }
            }
            continue;
        }
        let t = l.trim_start();
        if t.starts_with("//") {
            continue;
        }
        out.push_str(l);
        out.push('\n');
    }
    out
}

fn ident(s: &str) -> &str {
    let end = s.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(s.len());
    &s[..end]
}

/// The first segments of the paths in `{a, b::c, d::{e, f}}` (the text after the `{`).
fn group_heads(s: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut start = true;
    for (i, c) in s.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => start = true,
            c if start && (c.is_alphanumeric() || c == '_') => {
                heads.push(ident(&s[i..]).to_string());
                start = false;
            }
            _ => {}
        }
    }
    heads
}

/// Top-level names a module's code refers to through `crate::`.
fn crate_refs(code: &str) -> BTreeSet<String> {
    let mut refs = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        if i > 0 && code[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_') {
            continue; // `bdp_crate::` or similar
        }
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            refs.extend(group_heads(group));
        } else {
            refs.insert(ident(rest).to_string());
        }
    }
    refs
}

struct Module {
    files: Vec<PathBuf>,
    imports: BTreeSet<String>,
    code: String,
}

fn modules() -> BTreeMap<String, Module> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let names: BTreeSet<String> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut out: BTreeMap<String, Module> = BTreeMap::new();
    for f in files {
        let m = module_of(&src, &f);
        let c = code(&std::fs::read_to_string(&f).unwrap());
        let imports: BTreeSet<String> = crate_refs(&c)
            .into_iter()
            .map(|r| if names.contains(&r) && r != "lib" && r != "main" { r } else { "lib".to_string() })
            .filter(|r| *r != m)
            .collect();
        let e = out.entry(m).or_insert_with(|| Module { files: vec![], imports: BTreeSet::new(), code: String::new() });
        e.files.push(f);
        e.imports.extend(imports);
        e.code.push_str(&c);
    }
    out
}

#[test]
fn every_module_has_a_layer() {
    let layers = layer_of();
    for m in modules().keys() {
        assert!(layers.contains_key(m.as_str()), "src/{m} has no layer: add it to LAYERS here and to the table in ARCHITECTURE.md");
    }
    for m in layers.keys() {
        assert!(modules().contains_key(*m), "LAYERS names `{m}`, which is not a module of src/");
    }
}

#[test]
fn modules_import_only_downwards() {
    let layers = layer_of();
    let mut bad = Vec::new();
    for (m, module) in modules() {
        let Some(&own) = layers.get(m.as_str()) else { continue };
        for i in &module.imports {
            let Some(&theirs) = layers.get(i.as_str()) else { continue };
            if theirs > own {
                bad.push(format!("{m} (layer {own}) imports {i} (layer {theirs})"));
            }
        }
    }
    assert!(bad.is_empty(), "upward imports:\n{}", bad.join("\n"));
}

#[test]
fn the_module_graph_has_no_cycle() {
    let mods = modules();
    // depth-first search with colours: 1 on the stack, 2 done
    fn visit<'a>(m: &'a str, mods: &'a BTreeMap<String, Module>, colour: &mut BTreeMap<&'a str, u8>, path: &mut Vec<&'a str>) -> Option<Vec<String>> {
        match colour.get(m) {
            Some(2) => return None,
            Some(1) => {
                let start = path.iter().position(|x| *x == m).unwrap();
                return Some(path[start..].iter().map(|s| s.to_string()).chain([m.to_string()]).collect());
            }
            _ => {}
        }
        colour.insert(m, 1);
        path.push(m);
        for i in mods.get(m).map(|x| &x.imports).into_iter().flatten() {
            if let Some(c) = visit(i, mods, colour, path) {
                return Some(c);
            }
        }
        path.pop();
        colour.insert(m, 2);
        None
    }
    let mut colour = BTreeMap::new();
    for m in mods.keys() {
        if let Some(cycle) = visit(m, &mods, &mut colour, &mut Vec::new()) {
            panic!("import cycle: {}", cycle.join(" → "));
        }
    }
}

#[test]
fn only_the_cli_prints_or_exits() {
    const FORBIDDEN: [&str; 7] = ["println!", "eprintln!", "print!(", "eprint!(", "stdout()", "stderr()", "process::exit"];
    let mut bad = Vec::new();
    for (m, module) in modules() {
        if m == "cli" || m == "main" {
            continue;
        }
        for f in FORBIDDEN {
            if module.code.contains(f) {
                bad.push(format!("{m} ({:?}) uses {f}", module.files.iter().map(|p| p.file_name().unwrap()).collect::<Vec<_>>()));
            }
        }
    }
    assert!(bad.is_empty(), "only src/cli writes to stdout or stderr or exits:\n{}", bad.join("\n"));
}

/// ARCHITECTURE.md's layer table (`| N | `a`, `b` |` rows under "### Layers") is this table.
#[test]
fn architecture_md_has_the_same_layers() {
    let md = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md")).unwrap();
    let section = md.split("### Layers").nth(1).expect("ARCHITECTURE.md has a `### Layers` section");
    let mut found: BTreeMap<String, u32> = BTreeMap::new();
    for line in section.lines().skip_while(|l| !l.starts_with('|')).take_while(|l| l.starts_with('|')) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let Ok(layer) = cells.get(1).unwrap_or(&"").parse::<u32>() else { continue };
        for m in cells.get(2).unwrap_or(&"").split(',') {
            found.insert(m.trim().trim_matches('`').to_string(), layer);
        }
    }
    let want: BTreeMap<String, u32> = layer_of().into_iter().map(|(m, l)| (m.to_string(), l)).collect();
    assert_eq!(found, want, "the layer table of ARCHITECTURE.md differs from tests/layers.rs");
}

#[test]
fn the_parser_sees_imports() {
    let c = code("use crate::diag::{A, B};\nuse crate::{emit, names::X, Options};\nfn f() { crate::plan::plan(); }\n// crate::cli\n#[cfg(test)]\nmod tests {\n    use crate::diff;\n}\n");
    let r = crate_refs(&c);
    assert_eq!(r.into_iter().collect::<Vec<_>>(), ["Options", "diag", "emit", "names", "plan"]);
}

/// ARCHITECTURE.md's table of diagnostic codes is `Code::ALL`, row for row.
#[test]
fn architecture_md_lists_every_diagnostic_code() {
    let md = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md")).unwrap();
    let section = md.split("### Diagnostic codes").nth(1).expect("ARCHITECTURE.md has a `### Diagnostic codes` section");
    let rows: Vec<(String, String)> = section
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (cells[1].to_string(), cells[2].to_string())
        })
        .collect();
    let want: Vec<(String, String)> = bdp::diag::Code::ALL.iter().map(|(_, c, s)| (c.to_string(), s.to_string())).collect();
    assert_eq!(rows, want, "the code table of ARCHITECTURE.md differs from diag::Code::ALL");
}

/// ARCHITECTURE.md's module table names every module of `src/` (`x.rs` or `x/`), and nothing else.
#[test]
fn architecture_md_module_table_matches_the_tree() {
    let md = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("ARCHITECTURE.md")).unwrap();
    let table = md.split("| module | owns |").nth(1).expect("ARCHITECTURE.md has a module table");
    let mut named = BTreeSet::new();
    for line in table.lines().skip(2).take_while(|l| l.starts_with('|')) {
        let first = line.split('|').nth(1).unwrap_or("");
        for part in first.split('`').skip(1).step_by(2) {
            named.insert(part.trim_end_matches(".rs").trim_end_matches('/').to_string());
        }
    }
    // main.rs is named in lib.rs's row
    named.insert("main".into());
    let tree: BTreeSet<String> = modules().into_keys().collect();
    assert_eq!(named, tree, "ARCHITECTURE.md's module table and src/ differ");
}
