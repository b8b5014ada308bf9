//! The `bdp` binary: exit codes, stdout/stderr discipline, `-o` directories, the listing
//! commands and completions.

use std::path::PathBuf;
use std::process::{Command, Output};

fn bdp(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bdp"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("bdp runs")
}

fn tmp(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("bdp-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn render_prints_a_stream_and_exits_0() {
    let o = bdp(&["render", "examples/zookeeper.yaml"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.starts_with("---\n"));
    assert_eq!(out.matches("\n---\n").count() + 1, 8, "8 objects");
    assert!(o.stderr.is_empty(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn invalid_input_exits_1_with_nothing_on_stdout() {
    let dir = tmp("invalid");
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("bad.yaml");
    std::fs::write(
        &f,
        "apiVersion: manager.kubebdp.github.io/v1\nkind: Cluster\nmetadata: {name: x, namespace: y}\nspec:\n  stack: hadoop-3.3\n  services:\n    zookeeper:\n      roles: {server: {replicas: 2}}\n    hbase:\n",
    )
    .unwrap();
    let o = bdp(&["render", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(err.contains("bad.yaml:8:34"), "{err}");
    assert!(err.contains("unknown service `hbase`"), "{err}");
    assert!(err.contains("bdp: 2 error(s)"), "{err}");
    let o = bdp(&["validate", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(bdp(&["render"]).status.code(), Some(2));
    assert_eq!(bdp(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(bdp(&["render", "--stage", "nope", "examples/zookeeper.yaml"]).status.code(), Some(2));
    assert_eq!(bdp(&["--help"]).status.code(), Some(0));
}

#[test]
fn output_directory_is_owned_and_cleaned() {
    let dir = tmp("out");
    let o = bdp(&["render", "examples/fleet", "-o", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stdout.is_empty());
    let k = std::fs::read_to_string(dir.join("kustomization.yaml")).unwrap();
    assert!(k.contains("team-a/team-a/wave-0/statefulset-team-a-zookeeper-server.yaml"), "{k}");
    assert!(dir.join(".bdp-output").is_file());
    // a smaller render removes what it no longer produces
    let o = bdp(&["render", "examples/fleet/team-a.yaml", "-o", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0));
    assert!(!dir.join("team-b").exists());
    assert!(dir.join("team-a/team-a/wave-0/statefulset-team-a-zookeeper-server.yaml").is_file());
    // a directory bdp did not write is refused
    let foreign = tmp("foreign");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("precious.txt"), "x").unwrap();
    let o = bdp(&["render", "examples/zookeeper.yaml", "-o", foreign.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("not written by bdp"));
    assert!(foreign.join("precious.txt").is_file());
    std::fs::remove_dir_all(&dir).unwrap();
    std::fs::remove_dir_all(&foreign).unwrap();
}

#[test]
fn stream_and_directory_hold_the_same_documents() {
    let dir = tmp("same");
    assert_eq!(bdp(&["render", "examples/fleet", "-o", dir.to_str().unwrap()]).status.code(), Some(0));
    let stream = String::from_utf8(bdp(&["render", "examples/fleet"]).stdout).unwrap();
    let k = std::fs::read_to_string(dir.join("kustomization.yaml")).unwrap();
    let mut from_dir = String::new();
    for line in k.lines().filter_map(|l| l.strip_prefix("  - ")) {
        from_dir.push_str("---\n");
        from_dir.push_str(&std::fs::read_to_string(dir.join(line)).unwrap());
    }
    assert_eq!(stream, from_dir);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn stdin_input() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_bdp"))
        .args(["render", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/zookeeper.yaml")).unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), text.as_bytes()).unwrap();
    drop(child.stdin.take());
    let o = child.wait_with_output().unwrap();
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(o.stdout, bdp(&["render", "examples/zookeeper.yaml"]).stdout);
}

#[test]
fn stages_can_be_printed() {
    let o = bdp(&["render", "--stage", "plan", "examples/zookeeper.yaml"]);
    assert_eq!(o.status.code(), Some(0));
    let s = String::from_utf8(o.stdout).unwrap();
    assert!(s.contains("waves:") && s.contains("fqdn: zk-zookeeper-server-0.zk-zookeeper-server.bigdata.svc.cluster.local"), "{s}");
}

#[test]
fn stacks_and_explain() {
    let s = String::from_utf8(bdp(&["stacks"]).stdout).unwrap();
    assert!(s.contains("hadoop-3.3") && s.contains("server: replicas 3 (1..255, odd)"), "{s}");
    let s = String::from_utf8(bdp(&["explain", "hadoop-3.3/zookeeper/zoo.cfg/autopurge.purgeInterval"]).stdout).unwrap();
    assert!(s.contains("default: 1") && s.contains("fills the disk"), "{s}");
    let s = String::from_utf8(bdp(&["explain", "hadoop-3.3/zookeeper/zoo.cfg"]).stdout).unwrap();
    assert!(s.contains("server.{{ pod.ordinal + 1 }}"), "{s}");
    let o = bdp(&["explain", "hadoop-3.3/zookeepr"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("did you mean `zookeeper`"));
}

#[test]
fn completions_for_bash() {
    let o = bdp(&["completions", "bash"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("_bdp()"));
}

#[test]
fn strict_accepts_real_hadoop_keys_and_names_the_real_key_for_a_typo() {
    let dir = tmp("known-keys");
    std::fs::create_dir_all(&dir).unwrap();
    let head = "apiVersion: manager.kubebdp.github.io/v1\nkind: Cluster\nmetadata: {name: h, namespace: n}\nspec:\n  stack: hadoop-3.3\n  services:\n    hdfs:\n      roles: {namenode: {replicas: 1}, datanode: {replicas: 1}}\n      configOverrides:\n";
    let good = dir.join("good.yaml");
    std::fs::write(&good, format!("{head}        hdfs-site.xml: {{dfs.namenode.handler.count: '64', dfs.replication: '1'}}\n        hadoop-env.sh: {{HADOOP_HEAPSIZE_MAX: 2g}}\n")).unwrap();
    let o = bdp(&["render", "--strict", good.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(o.stderr.is_empty(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8(o.stdout).unwrap();
    assert!(out.contains("<name>dfs.namenode.handler.count</name>") && out.contains("HADOOP_HEAPSIZE_MAX"), "the keys are rendered");
    let typo = dir.join("typo.yaml");
    std::fs::write(&typo, format!("{head}        hdfs-site.xml: {{dfs.namenode.handlr.count: '64', dfs.replication: '1'}}\n")).unwrap();
    let o = bdp(&["render", "--strict", typo.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(err.contains("`dfs.namenode.handlr.count` is not a key bdp knows in `hdfs-site.xml`") && err.contains("did you mean `dfs.namenode.handler.count`?"), "{err}");
    assert!(!err.contains("dfs.namenode.name.dir"), "{err}");
}

#[test]
fn explain_counts_the_known_keys_and_describes_one() {
    let o = bdp(&["explain", "hadoop-3.3/hdfs/hdfs-site.xml"]);
    let s = String::from_utf8(o.stdout).unwrap();
    assert!(s.contains("further keys known from <embedded>/stacks/hadoop-3.3/known-keys/hdfs-site.xml.txt"), "{s}");
    let o = bdp(&["explain", "hadoop-3.3/hdfs/hdfs-site.xml/dfs.namenode.handler.count"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let s = String::from_utf8(o.stdout).unwrap();
    assert!(s.contains("not declared by the stack") && s.contains("known-keys/hdfs-site.xml.txt"), "{s}");
    let o = bdp(&["explain", "hadoop-3.3/hdfs/hdfs-site.xml/dfs.namenode.handlr.count"]);
    assert_ne!(o.status.code(), Some(0));
}
