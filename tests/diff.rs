//! `bdp diff` end to end: scenarios on the test stack (tests/fixtures/diff/) with golden outputs
//! under golden/diff/, plus checks of the meaning behind them (exit codes, impact, redaction,
//! `REV:PATH`, `--rendered`).
//!
//! Golden files are written only on request: `BDP_UPDATE_GOLDEN=1 cargo test --release --test diff`;
//! otherwise a difference fails the test and shows a line diff.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const STACKS: &str = "tests/fixtures/diff/stacks";
const F: &str = "tests/fixtures/diff";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn bdp(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bdp")).current_dir(dir).args(args).output().expect("bdp runs")
}

fn diff(old: &str, new: &str, extra: &[&str]) -> Output {
    let o = format!("{F}/{old}.yaml");
    let n = format!("{F}/{new}.yaml");
    let mut args = vec!["diff", "--stacks", STACKS, o.as_str(), n.as_str()];
    args.extend_from_slice(extra);
    bdp(&root(), &args)
}

fn golden(name: &str, actual: &str) {
    let path = root().join("golden/diff").join(name);
    if std::env::var("BDP_UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{} missing: run BDP_UPDATE_GOLDEN=1 cargo test --release --test diff", path.display()));
    if expected != actual {
        let d = similar::TextDiff::from_lines(&expected, actual).unified_diff().header("golden", "actual").to_string();
        panic!("{} differs from the output (BDP_UPDATE_GOLDEN=1 to accept):\n{d}", path.display());
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json(old: &str, new: &str) -> Value {
    let o = diff(old, new, &["--format", "json"]);
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", stdout(&o)))
}

#[test]
fn no_change() {
    let o = diff("base", "base", &[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("No changes."));
    golden("no-change.txt", &stdout(&o));
    let m = diff("base", "base", &["--format", "markdown"]);
    assert_eq!(m.status.code(), Some(0));
    golden("no-change.md", &stdout(&m));
}

#[test]
fn config_key_change() {
    let o = diff("base", "config", &[]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(!stdout(&o).contains('\x1b'), "colour only on a terminal");
    golden("config-change.txt", &stdout(&o));
    golden("config-change.md", &stdout(&diff("base", "config", &["--format", "markdown"])));
    let j = json("base", "config");
    let restarts = j["restarts"].as_array().unwrap();
    let who: Vec<&str> = restarts.iter().map(|r| r["workload"]["name"].as_str().unwrap()).collect();
    assert_eq!(who, ["demo-coord-member", "demo-store-data", "demo-store-journal", "demo-store-meta"]);
    let coord = restarts[0]["reasons"][0].as_str().unwrap();
    assert!(coord.contains("tickTime") && coord.contains("without restart: logLevel"), "{coord}");
    // the Hadoop-style XML is compared by property name
    let files: Vec<&Value> = j["changes"].as_array().unwrap().iter().flat_map(|c| c["files"].as_array().into_iter().flatten()).collect();
    assert!(files.iter().any(|f| f["format"] == "hadoop-xml" && f["entries"][0]["key"] == "store.replication" && f["entries"][0]["old"] == "3" && f["entries"][0]["new"] == "2"));
    assert_eq!(j["summary"]["pods_restarting"], 12);
}

#[test]
fn hot_config_change_restarts_nothing() {
    let o = diff("base", "hotconfig", &[]);
    assert_eq!(o.status.code(), Some(1));
    golden("hot-config.txt", &stdout(&o));
    let j = json("base", "hotconfig");
    assert!(j["restarts"].as_array().unwrap().is_empty());
    assert!(j["notes"][0].as_str().unwrap().contains("no pod restarts"));
}

#[test]
fn scale_down() {
    let o = diff("base", "scaledown", &[]);
    assert_eq!(o.status.code(), Some(1));
    golden("scale-down.txt", &stdout(&o));
    golden("scale-down.md", &stdout(&diff("base", "scaledown", &["--format", "markdown"])));
    let j = json("base", "scaledown");
    let risks: Vec<String> = j["risks"].as_array().unwrap().iter().map(|r| r["risk"].as_str().unwrap().to_string()).collect();
    assert!(risks.iter().any(|r| r.starts_with("replicas 4 → 2: demo-store-data-2, demo-store-data-3 removed") && r.contains("blocks-demo-store-data-3")), "{risks:?}");
    assert!(risks.iter().any(|r| r.contains("quorum role data/demo/coord/member: 3 → 1") && r.contains("tolerates 0 failure(s) instead of 1")), "{risks:?}");
    // the remaining member restarts: its membership list changed
    assert_eq!(j["restarts"][0]["pods"], serde_json::json!(["demo-coord-member-0"]));
}

#[test]
fn image_bump() {
    let o = diff("base", "image", &[]);
    assert_eq!(o.status.code(), Some(1));
    golden("image-bump.txt", &stdout(&o));
    let j = json("base", "image");
    golden("image-bump.json", &serde_json::to_string_pretty(&j).unwrap());
    let reasons: Vec<String> = j["restarts"].as_array().unwrap().iter().flat_map(|r| r["reasons"].as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string())).collect();
    assert!(reasons.contains(&"image of `coord`: example.org/coord:1.2.0 → example.org/coord:1.3.0 (upgrade)".to_string()), "{reasons:?}");
    let downgrades = j["risks"].as_array().unwrap().iter().filter(|r| r["risk"].as_str().unwrap().starts_with("image downgrade")).count();
    assert_eq!(downgrades, 3, "journal, meta and data run the downgraded image");
}

#[test]
fn immutable_field_change() {
    let o = diff("base", "immutable", &[]);
    assert_eq!(o.status.code(), Some(1));
    golden("immutable-field.txt", &stdout(&o));
    golden("immutable-field.md", &stdout(&diff("base", "immutable", &["--format", "markdown"])));
    let j = json("base", "immutable");
    let im = j["immutable"].as_array().unwrap();
    assert_eq!(im.len(), 1);
    assert_eq!(im[0]["object"]["name"], "demo-store-data");
    assert_eq!(im[0]["field"], "spec.volumeClaimTemplates");
    assert!(im[0]["migration"].as_str().unwrap().contains("kubectl -n data delete statefulset demo-store-data --cascade=orphan"));
    assert!(j["restarts"].as_array().unwrap().is_empty(), "a claim template change restarts nothing by itself");
}

#[test]
fn invalid_input() {
    let o = diff("base", "invalid", &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(o.stdout.is_empty(), "nothing on stdout for invalid input: {}", stdout(&o));
    let e = stderr(&o);
    assert!(e.contains("tests/fixtures/diff/invalid.yaml:13:28") && e.contains("needs an odd number of replicas, got 4"), "{e}");
    assert!(e.contains("did you mean `data`?"), "{e}");
    golden("invalid-input.stderr", &e);
    // also a missing file, a bad revision and a usage error
    assert_eq!(diff("base", "missing", &[]).status.code(), Some(2));
    let o = bdp(&root(), &["diff", "no-such-rev-xyz:examples/zookeeper.yaml", "examples/zookeeper.yaml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("cannot read no-such-rev-xyz:examples/zookeeper.yaml from git"), "{}", stderr(&o));
    assert_eq!(bdp(&root(), &["diff", "only-one.yaml"]).status.code(), Some(2));
}

fn tmp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("bdp-difftest-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn rendered_output_stream_and_directory() {
    let dir = tmp("rendered");
    std::fs::create_dir_all(&dir).unwrap();
    let out_dir = dir.join("out");
    let r = bdp(&root(), &["render", "--stacks", STACKS, &format!("{F}/base.yaml"), "-o", out_dir.to_str().unwrap(), "--flux", "--flux-path", "./out"]);
    assert!(r.status.success(), "{}", stderr(&r));
    for (name, input) in [("base.yaml", "base"), ("scaledown.yaml", "scaledown")] {
        let r = bdp(&root(), &["render", "--stacks", STACKS, &format!("{F}/{input}.yaml")]);
        std::fs::write(dir.join(name), &r.stdout).unwrap();
    }
    let d = |a: &Path, b: &Path| bdp(&root(), &["diff", "--rendered", a.to_str().unwrap(), b.to_str().unwrap(), "--format", "json"]);
    // the directory (its kustomization.yaml, not the Flux files) and the stream are the same objects
    let same = d(&out_dir, &dir.join("base.yaml"));
    assert_eq!(same.status.code(), Some(0), "{}{}", stdout(&same), stderr(&same));
    let j: Value = serde_json::from_slice(&same.stdout).unwrap();
    assert_eq!(j["summary"]["unchanged"], 19);
    let changed = d(&out_dir, &dir.join("scaledown.yaml"));
    assert_eq!(changed.status.code(), Some(1));
    let j: Value = serde_json::from_slice(&changed.stdout).unwrap();
    let risks = j["risks"].as_array().unwrap();
    assert_eq!(risks.len(), 2, "{risks:?}");
    assert!(j["notes"].as_array().unwrap().iter().any(|n| n.as_str().unwrap().contains("quorum rules")), "without a plan the quorum rule is not checked, and the report says so");
    // inputs are refused with --rendered; garbage too
    let o = bdp(&root(), &["diff", "--rendered", &format!("{F}/base.yaml"), dir.join("base.yaml").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("a bdp input (`kind: Cluster`)"));
    std::fs::write(dir.join("bad.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n").unwrap();
    let o = d(&dir.join("bad.yaml"), &dir.join("base.yaml"));
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bad.yaml:1:1") && stderr(&o).contains("not a Kubernetes object"), "{}", stderr(&o));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn git_revisions() {
    let repo = tmp("git");
    std::fs::create_dir_all(repo.join("clusters/stacks")).unwrap();
    let copy = |from: &str, to: &str| std::fs::copy(root().join(from), repo.join(to)).unwrap();
    copy(&format!("{STACKS}/chain-1.yaml"), "clusters/stacks/chain-1.yaml");
    copy(&format!("{F}/base.yaml"), "clusters/demo.yaml");
    let git = |args: &[&str]| {
        let o = Command::new("git").current_dir(&repo).args(["-c", "user.name=t", "-c", "user.email=t@example.com", "-c", "commit.gpgsign=false"]).args(args).output().unwrap();
        assert!(o.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    };
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-q", "-m", "base"]);
    copy(&format!("{F}/scaledown.yaml"), "clusters/demo.yaml");
    // a file at a revision, relative to the current directory
    let o = bdp(&repo.join("clusters"), &["diff", "--stacks", "stacks", "HEAD:demo.yaml", "demo.yaml"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("bdp diff HEAD:demo.yaml → demo.yaml\n"), "{}", stdout(&o));
    assert!(stdout(&o).contains("replicas 4 → 2"));
    // a directory at a revision (StackDefinitions inside it are inputs too)
    let o = bdp(&repo, &["diff", "HEAD:clusters", "clusters"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let o = bdp(&repo, &["diff", "HEAD:clusters", "HEAD:clusters"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // diagnostics name the revision, not a temporary copy
    std::fs::write(repo.join("clusters/demo.yaml"), std::fs::read_to_string(root().join(F).join("invalid.yaml")).unwrap()).unwrap();
    git(&["commit", "-q", "-am", "broken"]);
    let o = bdp(&repo, &["diff", "HEAD~1:clusters", "HEAD:clusters"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("HEAD:clusters/demo.yaml:13:28"), "{}", stderr(&o));
    std::fs::remove_dir_all(&repo).unwrap();
}

// =============================================================================================
// `bdp diff --check`: the stack's day-2 rules (scale, versions) on the real hadoop-3.3/3.4
// stacks, Clusters in tests/fixtures/day2/.

const D: &str = "tests/fixtures/day2";

fn check(old: &str, new: &str, extra: &[&str]) -> Output {
    let o = format!("{D}/{old}.yaml");
    let n = format!("{D}/{new}.yaml");
    let mut args = vec!["diff", "--check", o.as_str(), n.as_str()];
    args.extend_from_slice(extra);
    bdp(&root(), &args)
}

/// Exit code and stdout of a check, with stderr shown on a surprise.
fn gate(old: &str, new: &str) -> (i32, String) {
    let o = check(old, new, &[]);
    let code = o.status.code().unwrap_or(-1);
    assert!(code == 0 || code == 1, "{old} → {new}: exit {code}: {}", stderr(&o));
    (code, stdout(&o))
}

#[test]
fn check_refuses_a_datanode_scale_down_without_decommission() {
    let (code, out) = gate("base", "dn-down");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("1 refused"), "{out}");
    assert!(out.contains("analytics-hdfs-datanode-3 not in `decommission` before this change"), "{out}");
    assert!(out.contains("analytics-hdfs-datanode-3 not recorded in `decommissioned` by this change"), "{out}");
    assert!(out.contains("hdfs dfsadmin -refreshNodes"), "the steps: {out}");
    // recorded as done without having been decommissioned first: still refused
    let (code, out) = gate("base", "dn-down-done");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("not in `decommission` before") && !out.contains("not recorded in `decommissioned`"), "{out}");
    // the two commits of the procedure each pass
    assert_eq!(gate("base", "dn-decommission").0, 0);
    let (code, out) = gate("dn-decommission", "dn-down-done");
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("refused"), "{out}");
    // scale-up needs nothing
    assert_eq!(gate("base", "dn-up").0, 0);
    assert_eq!(gate("base", "base").0, 0);
}

#[test]
fn check_refuses_namenode_and_journalnode_count_changes_with_the_procedure() {
    let (code, out) = gate("base", "nn-3");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("bigdata/analytics/hdfs/namenode: replicas 2 → 3: the stack does not let role namenode have more pods in one commit"), "{out}");
    assert!(out.contains("bootstraps as a standby") && out.contains("Never 2 → 1"), "{out}");
    let (code, out) = gate("base", "jn-5");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("journalnode: replicas 3 → 5") && out.contains("initializeSharedEdits"), "{out}");
    let (code, out) = gate("jn-5", "base");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("have fewer pods in one commit"), "{out}");
}

#[test]
fn check_refuses_a_zookeeper_resize_that_loses_the_quorum() {
    // 5 → 3: two survivors of the old five are up while the third restarts
    let (code, out) = gate("base", "zk-3");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("replicas 5 → 3: while each of the 3 remaining members restarts onto the new membership, 2 of the old 5 are up, fewer than its majority of 3"), "{out}");
    assert!(out.contains("maintenance window") && out.contains("zk_num_alive_connections 0"), "the steps: {out}");
    // 3 → 7: four new, empty servers are a majority of seven
    let (code, out) = gate("zk-3", "zk-7");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("the 4 new members are a majority of 7"), "{out}");
    // 3 → 5 and 5 → 7: the majorities of the old and the new membership need not overlap during
    // the roll (two leaders; tests/e2e/podrun/zookeeper_scale.sh saw 3 → 5 truncate the writes)
    for (a, b, k, old_left, ro) in [("zk-3", "base", 1, 2, 3), ("base", "zk-7", 2, 3, 5)] {
        let (code, out) = gate(a, b);
        assert_eq!(code, 1, "{a} → {b}: {out}");
        assert!(out.contains(&format!("once {k} old member(s) restart onto the new membership")) && out.contains(&format!("the {old_left} old members not yet restarted are a majority of {ro}: two leaders at once (split brain)")), "{a} → {b}: {out}");
    }
    // 7 → 5 keeps one leader and a quorum at every moment of the roll
    let (code, out) = gate("zk-7", "base");
    assert_eq!(code, 0, "7 → 5: {out}");
}

#[test]
fn check_classifies_upgrades_and_rollbacks_and_refuses_forbidden_versions() {
    // hadoop-3.3 → hadoop-3.4: both upgrades allowed, with their steps
    let (code, out) = gate("base", "hadoop-3.4");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("bigdata/analytics/hdfs: 3.3.6 → 3.4.1: upgrade (series 3.3 → 3.4)"), "{out}");
    assert!(out.contains("hdfs dfsadmin -rollingUpgrade prepare") && out.contains("-rollingUpgrade query") && out.contains("-rollingUpgrade finalize"), "{out}");
    assert!(out.contains("bigdata/analytics/zookeeper: 3.8.4 → 3.9.3: upgrade (series 3.8 → 3.9)"), "{out}");
    // back: HDFS may roll back (before finalize), ZooKeeper may not leave 3.9
    let (code, out) = gate("hadoop-3.4", "base");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("bigdata/analytics/hdfs: 3.4.1 → 3.3.6: rollback (series 3.4 → 3.3)") && out.contains("BEFORE `hdfs dfsadmin -rollingUpgrade finalize`"), "{out}");
    assert!(out.contains("bigdata/analytics/zookeeper: downgrade 3.9.3 → 3.8.4: a downgrade across series (3.9 → 3.8)"), "{out}");
    // HDFS alone goes back while ZooKeeper stays pinned to 3.9 (docs/operations.md, Roll back)
    let (code, out) = gate("hadoop-3.4", "hdfs-back-zk-pinned");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("hdfs: 3.4.1 → 3.3.6: rollback") && !out.contains("zookeeper: 3.9.3"), "{out}");
    // skipping a series is refused, with the next step named
    let (code, out) = gate("base", "hdfs-3.5");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("upgrade 3.3.6 → 3.5.0: the stack has no upgrade from series 3.3 to 3.5") && out.contains("from 3.3 to 3.4 first"), "{out}");
    // a patch downgrade within a series is allowed
    let (code, out) = gate("base", "hdfs-3.3.5");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("3.3.6 → 3.3.5: downgrade (within series 3.3)"), "{out}");
    // the same as JSON and Markdown
    let j: Value = serde_json::from_slice(&check("hadoop-3.4", "base", &["--format", "json"]).stdout).unwrap();
    assert_eq!(j["summary"]["refused"], 1);
    let kinds: Vec<(&str, bool)> = j["versions"].as_array().unwrap().iter().map(|v| (v["kind"].as_str().unwrap(), v["allowed"].as_bool().unwrap())).collect();
    assert_eq!(kinds, [("rollback", true), ("downgrade", false)]);
    let md = stdout(&check("base", "hdfs-3.5", &["--format", "markdown"]));
    assert!(md.contains("#### Refused by the stack's rules") && md.contains("#### Version changes"), "{md}");
}

#[test]
fn deleting_a_cluster_names_every_orphaned_pvc() {
    let o = bdp(&root(), &["diff", &format!("{D}/base.yaml"), &format!("{D}/other.yaml")]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("its 4 PVC(s) (data-analytics-hdfs-datanode-0 … data-analytics-hdfs-datanode-3 (4 PVCs)) are orphaned"), "{out}");
    assert!(
        out.contains("kubectl -n bigdata delete pvc data-analytics-hdfs-datanode-0 data-analytics-hdfs-datanode-1 data-analytics-hdfs-datanode-2 data-analytics-hdfs-datanode-3"),
        "{out}"
    );
    assert!(out.contains("`kubectl -n bigdata delete pvc data-analytics-hdfs-namenode-0 data-analytics-hdfs-namenode-1`"), "{out}");
    assert!(out.contains("data-analytics-zookeeper-server-4"), "{out}");
    // a data risk, not a refusal: the gate passes
    assert_eq!(gate("base", "other").0, 0);
    // a service that disappears: its roles' PVCs
    let (_, out) = gate("base", "zk-only");
    assert!(out.contains("`kubectl -n bigdata delete pvc data-analytics-hdfs-journalnode-0 data-analytics-hdfs-journalnode-1 data-analytics-hdfs-journalnode-2`"), "{out}");
    assert!(!out.contains("zookeeper-server-0"), "ZooKeeper stays: {out}");
}

#[test]
fn check_usage_errors_exit_2() {
    let o = bdp(&root(), &["diff", "--check", "--rendered", "a.yaml", "b.yaml"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--rendered"), "{}", stderr(&o));
    let o = bdp(&root(), &["diff", "--check", &format!("{D}/base.yaml")]);
    assert_eq!(o.status.code(), Some(2));
    let o = bdp(&root(), &["diff", "--check", &format!("{D}/base.yaml"), &format!("{D}/missing.yaml")]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// `bdp diff --format json` of two day-2 Cluster files (the built-in stacks).
fn day2_json(old: &str, new: &str) -> (Value, String) {
    let (o, n) = (format!("{D}/{old}.yaml"), format!("{D}/{new}.yaml"));
    let j = bdp(&root(), &["diff", "--format", "json", &o, &n]);
    let t = bdp(&root(), &["diff", &o, &n]);
    let v = serde_json::from_slice(&j.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", stdout(&j), stderr(&j)));
    (v, stdout(&t))
}

fn restarting(j: &Value) -> Vec<String> {
    j["restarts"].as_array().unwrap().iter().map(|r| r["workload"]["name"].as_str().unwrap().to_string()).collect()
}

#[test]
fn a_key_only_some_roles_read_restarts_only_them() {
    // a namenode-only key set at service level: every role's hdfs-site.xml carries it, only the
    // namenodes' config checksum changes (the stack's `readBy`)
    let (j, text) = day2_json("base", "nn-handlers");
    assert_eq!(restarting(&j), ["analytics-hdfs-namenode"], "{text}");
    assert!(text.contains("analytics-hdfs-namenode/hdfs-site.xml (dfs.namenode.handler.count)"), "{text}");
    assert!(!text.contains("StatefulSet bigdata/analytics-hdfs-datanode:"), "the datanodes do not restart: {text}");
    assert!(text.contains("ConfigMap bigdata/analytics-hdfs-datanode changed in keys its role does not read (hdfs-site.xml: dfs.namenode.handler.count): no pod restarts"), "{text}");
    let (j, text) = day2_json("base", "dn-handlers");
    assert_eq!(restarting(&j), ["analytics-hdfs-datanode"], "{text}");
    // a key the stack does not declare is read by every role: all of them restart, as before
    let (j, text) = day2_json("base", "blocksize");
    assert_eq!(restarting(&j), ["analytics-hdfs-datanode", "analytics-hdfs-journalnode", "analytics-hdfs-namenode"], "{text}");
}

#[test]
fn a_refreshable_change_refreshes_instead_of_restarting() {
    let (j, text) = day2_json("base", "dn-decommission");
    assert!(restarting(&j).is_empty(), "{text}");
    assert_eq!(j["refreshes"], serde_json::json!([{"file": "bigdata/analytics-hdfs-namenode/dfs.exclude", "command": "hdfs dfsadmin -refreshNodes"}]), "{text}");
    assert!(text.contains("bigdata/analytics-hdfs-namenode/dfs.exclude refreshes (run: hdfs dfsadmin -refreshNodes)"), "{text}");
    assert!(!text.contains("Pods that restart"), "{text}");
}
