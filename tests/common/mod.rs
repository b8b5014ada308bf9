//! Helpers shared by the service test files (tests/hdfs.rs, tests/kerberos.rs, tests/yarn.rs,
//! tests/hbase.rs…): compile an example or a Cluster text through the library, find objects and
//! ConfigMap data, and read a Hadoop configuration file.
#![allow(dead_code)] // each test file uses a subset

use bdp::diag::{Diagnostic, Severity};
use bdp::render::Object;
use std::path::{Path, PathBuf};

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn compile(path: &Path) -> Result<Vec<Object>, Vec<Diagnostic>> {
    bdp::compile(&[path.to_path_buf()], &bdp::Options::default()).map(|c| c.objects).map_err(|d| d.items)
}

pub fn example(name: &str) -> Vec<Object> {
    let p = root().join("examples").join(name);
    compile(&p).unwrap_or_else(|d| panic!("{} does not compile:\n{}", p.display(), d.iter().map(|x| x.to_string()).collect::<Vec<_>>().join("\n")))
}

/// Writes a Cluster document to a file of its own (tests run in parallel) and compiles it.
pub fn compile_text(test: &str, yaml: &str) -> Result<Vec<Object>, Vec<Diagnostic>> {
    let dir = std::env::temp_dir().join(format!("bdp-{}-tests-{}", env!("CARGO_CRATE_NAME"), std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("{test}.yaml"));
    std::fs::write(&p, yaml).unwrap();
    compile(&p)
}

pub fn errors(test: &str, yaml: &str) -> Vec<Diagnostic> {
    match compile_text(test, yaml) {
        Ok(_) => panic!("{test}: expected errors, but the cluster compiled"),
        Err(d) => d.into_iter().filter(|x| x.severity == Severity::Error).collect(),
    }
}

pub fn cluster(name: &str, services: &str) -> String {
    format!("apiVersion: manager.kubebdp.github.io/v1\nkind: Cluster\nmetadata:\n  name: {name}\n  namespace: t\nspec:\n  stack: hadoop-3.3\n  services:\n{services}")
}

pub fn find<'a>(objs: &'a [Object], kind: &str, name: &str) -> &'a Object {
    objs.iter()
        .find(|o| o.kind == kind && o.name == name)
        .unwrap_or_else(|| panic!("no {kind} {name} among {:?}", objs.iter().map(|o| format!("{}/{}", o.kind, o.name)).collect::<Vec<_>>()))
}

pub fn data<'a>(cm: &'a Object, key: &str) -> &'a str {
    cm.body["data"][key].as_str().unwrap_or_else(|| panic!("ConfigMap {} has no key {key}", cm.name))
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

/// name → value of a Hadoop configuration file; fails on a repeated name.
pub fn props(xml: &str) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    for chunk in xml.split("<property>").skip(1) {
        let between = |open: &str, close: &str| -> String {
            let a = chunk.find(open).unwrap_or_else(|| panic!("no {open} in {chunk}")) + open.len();
            let b = chunk[a..].find(close).unwrap() + a;
            unescape(&chunk[a..b])
        };
        let (k, v) = (between("<name>", "</name>"), between("<value>", "</value>"));
        assert!(out.insert(k.clone(), v).is_none(), "{k} appears twice");
    }
    out
}

/// The Hadoop configuration file `file` of ConfigMap `cm`, as name → value.
pub fn site(objs: &[Object], cm: &str, file: &str) -> std::collections::BTreeMap<String, String> {
    props(data(find(objs, "ConfigMap", cm), file))
}

/// Compiles the StackDefinition text `stack` (name `t-1`, one service `svc`) with a Cluster that
/// enables `svc`, in a directory of its own; the error lines, empty when it compiles.
pub fn stack_errors_of(test: &str, stack: &str) -> Vec<String> {
    let dir = std::env::temp_dir().join(format!("bdp-{}-{}-{test}", env!("CARGO_CRATE_NAME"), std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("stack.yaml"), stack).unwrap();
    let c = "apiVersion: manager.kubebdp.github.io/v1\nkind: Cluster\nmetadata: {name: c, namespace: t}\nspec:\n  stack: t-1\n  services:\n    svc: {}\n";
    std::fs::write(dir.join("c.yaml"), c).unwrap();
    let r = bdp::compile(&[dir.join("stack.yaml"), dir.join("c.yaml")], &bdp::Options::default());
    let _ = std::fs::remove_dir_all(&dir);
    match r {
        Ok(_) => vec![],
        Err(d) => d.items.iter().map(|x| x.to_string()).collect(),
    }
}
