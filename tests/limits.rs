//! Hostile and careless input: bounds before allocation, text decoding, and errors that always
//! point into the user's file with a field path.
//!
//! No test here measures wall time: a run that built a million pods would still pass a loose
//! timer on a fast machine. Instead each hostile input must come back with its located error
//! (which the old code reached only after building everything, or never); a 10 s guard turns a
//! hang into a failure instead of a stuck test run.

use bdp::diag::Severity;
use bdp::{compile, Options};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static N: AtomicUsize = AtomicUsize::new(0);

fn dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("bdp-limits-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn write_bytes(bytes: &[u8]) -> PathBuf {
    let p = dir().join(format!("c{}.yaml", N.fetch_add(1, Ordering::SeqCst)));
    std::fs::write(&p, bytes).unwrap();
    p
}

/// Runs `bdp ARGS`, killed after 10 s; returns (exit code, stdout, stderr).
fn bdp(args: &[&str]) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bdp"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("bdp runs");
    let start = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            break;
        }
        if start.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("bdp {args:?} ran for more than 10 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let o = child.wait_with_output().unwrap();
    (o.status.code(), String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

const HEAD: &str = "apiVersion: manager.kubebdp.github.io/v1\nkind: Cluster\nmetadata: {name: zk, namespace: ns}\nspec:\n  stack: hadoop-3.3\n  services:\n    zookeeper:\n";

fn render_fails(text: &[u8], needles: &[&str]) -> String {
    let f = write_bytes(text);
    let (code, out, err) = bdp(&["render", f.to_str().unwrap()]);
    assert_eq!(code, Some(1), "stdout: {out}\nstderr: {err}");
    assert!(out.is_empty(), "nothing on stdout after an error");
    for n in needles {
        assert!(err.contains(n), "`{n}` missing from:\n{err}");
    }
    err
}

// ---------------------------------------------------------------------------------------------
// bounds before allocation

#[test]
fn huge_replicas_fail_with_a_located_error_before_pods_are_built() {
    // 4294967295 aborted on a 137 GB allocation; 1000000 took 57 s and 8.5 GB
    for n in ["4294967295", "1000000"] {
        let text = format!("{HEAD}      roles: {{server: {{replicas: {n}}}}}\n");
        render_fails(
            text.as_bytes(),
            &[":8:34:", "spec.services.zookeeper.roles.server.replicas", &format!("{n} replicas, more than 255"), "at most 255"],
        );
    }
}

#[test]
fn a_stack_cannot_raise_the_replica_bound() {
    let stack = "apiVersion: manager.kubebdp.github.io/v1\nkind: StackDefinition\nmetadata: {name: wide}\nspec:\n  services:\n    svc:\n      roles:\n        r:\n          replicas: {default: 1, max: 4294967295}\n          containers: [{name: c, command: [run]}]\n";
    let text = format!("{stack}---\napiVersion: manager.kubebdp.github.io/v1\nkind: Cluster\nmetadata: {{name: w, namespace: ns}}\nspec:\n  stack: wide\n  services:\n    svc:\n      roles: {{r: {{replicas: 4000000000}}}}\n");
    render_fails(text.as_bytes(), &[":19:", "spec.services.svc.roles.r.replicas", "4000000000 replicas, more than 10000"]);
}

#[test]
fn counts_too_large_for_their_type_are_located() {
    let text = format!("{HEAD}      roles: {{server: {{replicas: 99999999999}}}}\n");
    render_fails(text.as_bytes(), &[":8:34:", "spec.services.zookeeper.roles.server.replicas", "expected: a whole number from 0 to 4294967295"]);
}

#[test]
fn wide_mappings_and_long_lists_hit_the_entry_limit() {
    let mut text = format!("{HEAD}      configOverrides:\n        zoo.cfg:\n");
    for i in 0..=bdp::limits::MAX_ENTRIES {
        text.push_str(&format!("          k{i}: v\n"));
    }
    render_fails(text.as_bytes(), &[":10:", "mapping has more than 50000 keys", "src/limits.rs"]);
    let mut text = format!("{HEAD}      podOverrides:\n        spec:\n          tolerations:\n");
    for _ in 0..=bdp::limits::MAX_ENTRIES {
        text.push_str("          - {key: a}\n");
    }
    render_fails(text.as_bytes(), &[":11:", "list has more than 50000 items"]);
}

#[test]
fn wide_overrides_are_reported_once_each() {
    // 20,000 unknown keys: 20,000 warnings, each at its own line (the old de-duplication and
    // key lookups were quadratic; see bench/wide.sh for the timing)
    let n = 20_000;
    let mut text = format!("{HEAD}      configOverrides:\n        zoo.cfg:\n");
    for i in 0..n {
        text.push_str(&format!("          custom.key{i}: v\n"));
    }
    let f = write_bytes(text.as_bytes());
    let c = compile(&[f], &Options::default()).expect("renders");
    let w: Vec<_> = c.diags.items.iter().filter(|d| d.severity == Severity::Warning && d.message.contains("custom.key")).collect();
    assert_eq!(w.len(), n);
    assert_eq!(w.iter().map(|d| d.span.as_ref().unwrap().line).collect::<std::collections::BTreeSet<_>>().len(), n);
}

// ---------------------------------------------------------------------------------------------
// text decoding

#[test]
fn a_leading_bom_is_accepted() {
    let mut text = b"\xEF\xBB\xBF".to_vec();
    text.extend_from_slice(HEAD.as_bytes());
    let f = write_bytes(&text);
    let (code, out, err) = bdp(&["render", f.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("kind: StatefulSet"));
}

#[test]
fn nul_and_control_bytes_are_refused_with_their_offset() {
    // a NUL after the first Cluster used to drop the rest of the file, with exit 0
    let mut text = HEAD.as_bytes().to_vec();
    let offset = text.len() + 4;
    text.extend_from_slice(b"---\n\x00\n");
    text.extend_from_slice(HEAD.replace("name: zk", "name: zk2").as_bytes());
    render_fails(&text, &[":9:1:", &format!("NUL byte at byte offset {offset}"), "not YAML text"]);
    // other control characters, and the offset counts a BOM
    let mut text = b"\xEF\xBB\xBF".to_vec();
    text.extend_from_slice(HEAD.replace("name: zk,", "name: z\x1bk,").as_bytes());
    let offset = 3 + HEAD.find("zk,").unwrap() + 1;
    render_fails(&text, &[":3:19:", &format!("control character U+001B at byte offset {offset}")]);
}

#[test]
fn invalid_utf8_is_refused_with_its_position() {
    let mut text = HEAD.as_bytes().to_vec();
    text.extend_from_slice(b"      envOverrides: {A: \"caf\xE9\"}\n");
    render_fails(&text, &[":8:29:", "invalid UTF-8 byte 0xE9", &format!("byte offset {}", HEAD.len() + 28)]);
}

#[test]
fn tab_cr_lf_and_unicode_are_text() {
    let text = HEAD.replace('\n', "\r\n") + "      envOverrides: {A: \"Grüße\tå 😀\"}\r\n";
    let f = write_bytes(text.as_bytes());
    let (code, _, err) = bdp(&["render", f.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
}

// ---------------------------------------------------------------------------------------------
// diff --rendered reads counts it did not write

fn sts(replicas: &str, image: &str) -> String {
    format!(
        "---\napiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: db, namespace: ns}}\nspec:\n  replicas: {replicas}\n  serviceName: db\n  selector: {{matchLabels: {{a: b}}}}\n  template:\n    metadata: {{labels: {{a: b}}}}\n    spec:\n      containers: [{{name: c, image: {image}}}]\n  volumeClaimTemplates:\n  - metadata: {{name: data}}\n    spec: {{resources: {{requests: {{storage: 1Gi}}}}}}\n"
    )
}

#[test]
fn rendered_replica_counts_are_summarised_never_expanded() {
    // 10^12 pods used to be materialised as names (24 TB)
    let old = write_bytes(sts("1000000000000", "img:1").as_bytes());
    let new = write_bytes(sts("2", "img:2").as_bytes());
    // exit 1: there are differences
    let (code, out, err) = bdp(&["diff", "--rendered", old.to_str().unwrap(), new.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{err}");
    assert!(out.contains("replicas 1000000000000 → 2: db-2 … db-999999999999 (999999999998 pods) removed"), "{out}");
    assert!(out.contains("(data-db-2 … data-db-999999999999 (999999999998 pods))"), "{out}");
    let (code, out, err) = bdp(&["diff", "--rendered", new.to_str().unwrap(), old.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, Some(1), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["restarts"][0]["pods"], serde_json::json!(["db-0", "db-1"]), "{out}");
    let both = write_bytes(sts("1000000000000", "img:3").as_bytes());
    let (_, out, _) = bdp(&["diff", "--rendered", old.to_str().unwrap(), both.to_str().unwrap(), "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["restarts"][0]["pods"], serde_json::json!({"first": "db-0", "last": "db-999999999999", "count": 1000000000000u64}), "{out}");
    // negative and extreme counts neither panic nor wrap
    for (a, b) in [("-5", "3"), ("9223372036854775807", "-9223372036854775808"), ("9223372036854775807", "9223372036854775806")] {
        let x = write_bytes(sts(a, "img:1").as_bytes());
        let y = write_bytes(sts(b, "img:2").as_bytes());
        let (code, _, err) = bdp(&["diff", "--rendered", x.to_str().unwrap(), y.to_str().unwrap()]);
        assert_eq!(code, Some(1), "{a} → {b}: {err}");
    }
}

// ---------------------------------------------------------------------------------------------
// pod overrides are checked like the API server would, at the user's field

#[test]
fn pod_overrides_that_break_the_pod_template_are_located() {
    let text = format!("{HEAD}      podOverrides: {{spec: {{containers: \"not a list\", tolerations: {{a: b}}}}}}\n");
    render_fails(text.as_bytes(), &[":8:41:", "spec.services.zookeeper.podOverrides.spec.containers", "expected a sequence", "PodTemplateSpec"]);
    let text = format!("{HEAD}      roles:\n        server:\n          podOverrides: {{spec: {{tolerations: {{a: b}}}}}}\n");
    render_fails(text.as_bytes(), &[":10:", "spec.services.zookeeper.roles.server.podOverrides.spec.tolerations", "expected a sequence"]);
}

#[test]
fn requests_above_limits_are_refused() {
    let text = format!("{HEAD}      roles:\n        server:\n          resources: {{requests: {{cpu: 2, memory: 1Gi}}, limits: {{cpu: \"1\"}}}}\n");
    let err = render_fails(text.as_bytes(), &[":10:39:", "roles.server.resources.requests.cpu", "requests cpu 2 but is limited to 1"]);
    assert!(err.contains("requests memory 1Gi but is limited to 768Mi"), "{err}");
    let text = format!("{HEAD}      podOverrides: {{spec: {{containers: [{{name: zookeeper, resources: {{requests: {{cpu: 1500m}}, limits: {{cpu: 1e0, memory: lots}}}}}}]}}}}\n");
    let err = render_fails(text.as_bytes(), &["podOverrides.spec.containers.0.resources.requests.cpu", "requests cpu 1500m but is limited to 1"]);
    assert!(err.contains("limits.memory `lots` is not a Kubernetes quantity"), "{err}");
    // equal, and in other units, is fine
    let text = format!("{HEAD}      roles:\n        server:\n          resources: {{requests: {{cpu: 1000m, memory: 512Mi}}, limits: {{cpu: \"1\", memory: 0.5Gi}}}}\n");
    let f = write_bytes(text.as_bytes());
    let (code, _, err) = bdp(&["render", f.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
}

// ---------------------------------------------------------------------------------------------
// one error per cause

#[test]
fn a_missing_stack_does_not_hide_other_errors() {
    let text = "apiVersion: manager.kubebdp.github.io/v1\nkind: Cluster\nmetadata: {name: zk, namespace: ns}\nspec:\n  services:\n    zookeeper:\n      roles: {server: {replicas: 4}}\n";
    render_fails(text.as_bytes(), &[":5:", "spec.stack", "names no stack", "known stacks: hadoop-3.3"]);
    render_fails(text.as_bytes(), &[":7:34:", "needs an odd number of replicas"]);
}

#[test]
fn a_missing_namespace_is_a_located_warning() {
    let f = write_bytes(HEAD.replace("name: zk, namespace: ns", "name: zk").as_bytes());
    let (code, _, err) = bdp(&["render", f.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{err}");
    assert!(err.contains("warning[W020]: ") && err.contains(":3:11: metadata.namespace") && err.contains("bdp puts it in `default`"), "{err}");
}

#[test]
fn a_dependency_in_another_namespace_gets_one_error_that_says_where() {
    let zk = "apiVersion: manager.kubebdp.github.io/v1\nkind: Cluster\nmetadata: {name: shared, namespace: platform}\nspec:\n  stack: hadoop-3.3\n  services:\n    zookeeper:\n";
    let hdfs = "---\napiVersion: manager.kubebdp.github.io/v1\nkind: Cluster\nmetadata: {name: data, namespace: analytics}\nspec:\n  stack: hadoop-3.3\n  services:\n    hdfs:\n      dependencies: {zookeeper: {cluster: shared}}\n      roles: {namenode: {replicas: 2}}\n";
    let err = render_fails(
        format!("{zk}{hdfs}").as_bytes(),
        &["dependencies.zookeeper", "not among the inputs", "a Cluster `shared` is among the inputs in namespace `platform` (", ":3:18)", "add `namespace: platform`"],
    );
    assert!(!err.contains("needs ZooKeeper"), "the stack check on the same dependency is a cascade:\n{err}");
    assert!(err.contains("bdp: 1 error(s)"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// malformed variants of every example: every error is in the user's file, located, with a path

fn paths(v: &serde_json::Value, here: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
    if !here.is_empty() {
        out.push(here.clone());
    }
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                here.push(k.clone());
                paths(x, here, out);
                here.pop();
            }
        }
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                here.push(i.to_string());
                paths(x, here, out);
                here.pop();
            }
        }
        _ => {}
    }
}

fn set(v: &mut serde_json::Value, path: &[String], new: serde_json::Value) {
    let mut cur = v;
    for seg in path {
        cur = match cur {
            serde_json::Value::Object(m) => m.get_mut(seg).unwrap(),
            serde_json::Value::Array(a) => &mut a[seg.parse::<usize>().unwrap()],
            _ => unreachable!(),
        };
    }
    *cur = new;
}

#[test]
fn malformed_variants_of_the_examples_get_errors_in_the_users_file() {
    use serde_json::json;
    let variants = [json!(3.5), json!("x"), json!([1]), json!({"a": "b"}), json!(null), json!(1e20), json!(-1), json!(4294967296u64)];
    let mut failures = Vec::new();
    let mut runs = 0;
    let mut examples: Vec<PathBuf> = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/examples"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    examples.sort();
    let mut seen = std::collections::BTreeSet::new();
    for ex in examples {
        let text = std::fs::read_to_string(&ex).unwrap();
        let docs: Vec<serde_json::Value> =
            bdp::source::parse_documents(&ex, &text).unwrap().iter().map(|d| d.root.to_json()).collect();
        for (di, doc) in docs.iter().enumerate() {
            if doc["kind"] != "Cluster" {
                continue;
            }
            let mut ps = Vec::new();
            paths(doc, &mut vec![], &mut ps);
            // a field already varied in an earlier example is not varied again (bounded run time)
            for p in ps.iter().filter(|p| (p[0] == "metadata" || p[0] == "spec") && seen.insert(p.join("."))) {
                for var in &variants {
                    let mut all = docs.clone();
                    set(&mut all[di], p, var.clone());
                    let text: String = all.iter().map(|d| format!("---\n{}", bdp::yamlout::to_yaml(d))).collect();
                    let f = write_bytes(text.as_bytes());
                    runs += 1;
                    let Err(diags) = compile(std::slice::from_ref(&f), &Options::default()) else { continue };
                    for d in diags.items.iter().filter(|d| d.severity == Severity::Error) {
                        let good = d.span.as_ref().is_some_and(|s| s.file == f && s.line >= 1 && s.col >= 1) && !d.path.is_empty();
                        if !good {
                            failures.push(format!("{}: {} = {var}: {d}", ex.display(), p.join(".")));
                        }
                    }
                }
            }
        }
    }
    assert!(runs > 400, "{runs} variants");
    assert!(failures.is_empty(), "{} of {runs} variants have errors outside the user's file or without a path:\n{}", failures.len(), failures.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// found by the fuzz harness (tests/fuzz.rs) on the merged tree

#[test]
fn many_unknown_fields_in_one_role_are_each_located() {
    // 20,000 unknown fields: each error looked its key up by allocating every key of the
    // mapping (quadratic: 9 s for this input in a release build); now a comparison in place
    let n = 20_000;
    let mut text = format!("{HEAD}      roles:\n        server:\n");
    for i in 0..n {
        text.push_str(&format!("          k{i}: x\n"));
    }
    let f = write_bytes(text.as_bytes());
    let d = compile(&[f], &Options::default()).expect_err("unknown fields are errors");
    let e: Vec<_> = d.items.iter().filter(|d| d.severity == Severity::Error && d.message.contains("unknown field `k")).collect();
    assert_eq!(e.len(), n);
    assert_eq!(e.iter().map(|d| d.span.as_ref().unwrap().line).collect::<std::collections::BTreeSet<_>>().len(), n, "each at its own line");
}

#[test]
fn errors_at_the_end_of_a_truncated_file_stay_inside_it() {
    // a file cut after `name:` (no value, no final newline): the parser puts the missing
    // value on the line after the last one; the error must point at a line of the file
    let text = "apiVersion: manager.kubebdp.github.io/v1\nkind: Cluster\nmetadata:\n  name:";
    let err = render_fails(text.as_bytes(), &["metadata.name"]);
    for l in err.lines().filter(|l| l.starts_with("error[")) {
        let pos = l.split(".yaml:").nth(1).unwrap_or("");
        let line: usize = pos.split(':').next().unwrap_or("0").parse().unwrap_or(0);
        assert!((1..=4).contains(&line), "{l}");
    }
}

#[test]
fn too_few_replicas_is_one_error_not_a_stack_template_failure() {
    // namenode replicas 0: the stack's templates read roles.namenode.pods[0]; they go on with
    // the minimum, so the user sees the one cause, at their field
    let text = "apiVersion: manager.kubebdp.github.io/v1\nkind: Cluster\nmetadata: {name: h, namespace: n}\nspec:\n  stack: hadoop-3.3\n  services:\n    hdfs:\n      roles: {namenode: {replicas: 0}, datanode: {replicas: 3}}\n";
    let err = render_fails(text.as_bytes(), &["namenode has 0 replicas, fewer than 1", "1 error(s)"]);
    assert!(!err.contains("<embedded>"), "{err}");
}
