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
    assert_eq!(out.matches("\n---\n").count() + 1, 10, "10 objects (with the smoke test Job and its NetworkPolicy)");
    assert!(o.stderr.is_empty(), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn invalid_input_exits_1_with_nothing_on_stdout() {
    let dir = tmp("invalid");
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("bad.yaml");
    std::fs::write(
        &f,
        "apiVersion: manager.kubebdp.github.io/v1\nkind: Cluster\nmetadata: {name: x, namespace: y}\nspec:\n  stack: hadoop-3.3\n  services:\n    zookeeper:\n      roles: {server: {replicas: 2}}\n    nosuchservice:\n",
    )
    .unwrap();
    let o = bdp(&["render", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(o.stdout.is_empty());
    let err = String::from_utf8(o.stderr).unwrap();
    assert!(err.contains("bad.yaml:8:34"), "{err}");
    assert!(err.contains("unknown service `nosuchservice`"), "{err}");
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
    assert!(s.contains("server.1 = example-zookeeper-server-0.example-zookeeper-server.default.svc.cluster.local:2888:3888;2181"), "{s}");
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

/// A planted link and record line must not make `render -o` delete (or write) outside DIR.
#[test]
fn output_directory_cannot_be_turned_against_its_host() {
    let base = tmp("symlink");
    let out = base.join("out");
    let victim = base.join("victim");
    std::fs::create_dir_all(&victim).unwrap();
    std::fs::write(victim.join("secret.txt"), "keep me").unwrap();
    let o = bdp(&["render", "examples/zookeeper.yaml", "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let marker = out.join(".bdp-output");
    let record = std::fs::read_to_string(&marker).unwrap();
    std::os::unix::fs::symlink("../victim", out.join("evil")).unwrap();
    std::fs::write(&marker, format!("{record}evil/secret.txt\n")).unwrap();
    let o = bdp(&["render", "examples/zookeeper.yaml", "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("evil is a symbolic link"), "{err}");
    assert_eq!(std::fs::read_to_string(victim.join("secret.txt")).unwrap(), "keep me");
    // a link deeper down (a directory bdp wrote, replaced by a link) is refused as well
    std::fs::remove_file(out.join("evil")).unwrap();
    std::fs::write(&marker, &record).unwrap();
    let wave = out.join("bigdata/zk/wave-0");
    std::fs::remove_dir_all(&wave).unwrap();
    std::os::unix::fs::symlink("../../../victim", &wave).unwrap();
    let o = bdp(&["render", "examples/zookeeper.yaml", "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read_dir(&victim).unwrap().count(), 1, "nothing written through the link");
    std::fs::remove_file(&wave).unwrap();
    // record lines that are not plain relative paths are refused, whatever they name
    for bad in ["../victim/secret.txt", "/etc/hostname", "./x/../../victim/secret.txt"] {
        std::fs::write(&marker, format!("{record}{bad}\n")).unwrap();
        let o = bdp(&["render", "examples/zookeeper.yaml", "-o", out.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{bad}: {}", String::from_utf8_lossy(&o.stderr));
        assert!(String::from_utf8_lossy(&o.stderr).contains("is not a file bdp writes"), "{bad}");
        assert!(victim.join("secret.txt").is_file());
    }
    // the -o directory itself may not be a link either
    std::fs::write(&marker, &record).unwrap();
    let link = base.join("link");
    std::os::unix::fs::symlink("out", &link).unwrap();
    let o = bdp(&["render", "examples/zookeeper.yaml", "-o", link.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("is a symbolic link"));
    // and the clean directory renders again
    let o = bdp(&["render", "examples/zookeeper.yaml", "-o", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    std::fs::remove_dir_all(&base).unwrap();
}

#[test]
fn kubectl_style_output_flags_are_refused_and_dash_is_stdout() {
    let dir = tmp("kubectl");
    std::fs::create_dir_all(&dir).unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_bdp"))
            .args(args)
            .current_dir(&dir)
            .output()
            .unwrap()
    };
    let zk = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/zookeeper.yaml");
    for f in ["yaml", "json", "wide", "name", "jsonpath={.items}"] {
        let o = run(&["render", zk, "-o", f]);
        assert_eq!(o.status.code(), Some(2), "-o {f}");
        assert!(String::from_utf8_lossy(&o.stderr).contains("kubectl"), "-o {f}");
    }
    let o = run(&["render", zk, "-o", "-"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(o.stdout, bdp(&["render", "examples/zookeeper.yaml"]).stdout);
    assert_eq!(run(&["render", zk, "-o", "-", "--flux"]).status.code(), Some(2));
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "no directory `yaml` or `-` made");
    // --stage prints to standard output; with -o it is a usage error, not a silent ignore
    let o = run(&["render", zk, "--stage", "plan", "-o", "x"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!dir.join("x").exists());
    // `-o ./yaml` is how to ask for a directory called yaml
    assert_eq!(run(&["render", zk, "-o", "./yaml"]).status.code(), Some(0));
    assert!(dir.join("yaml/kustomization.yaml").is_file());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn rerender_lists_what_it_removes() {
    let dir = tmp("removed");
    let d = dir.to_str().unwrap();
    assert_eq!(bdp(&["render", "examples/fleet", "-o", d, "--flux", "--flux-path", "./deploy"]).status.code(), Some(0));
    let o = bdp(&["render", "examples/fleet/team-a.yaml", "-o", d]);
    assert_eq!(o.status.code(), Some(0));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("removed") && err.contains("team-b/team-b/ ("), "{err}");
    assert!(err.contains("_flux/ ("), "{err}");
    assert!(!err.contains("team-a/team-a/"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn examples_directory_renders_as_a_whole() {
    let o = bdp(&["validate", "examples/"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let o = bdp(&["render", "examples/"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
}

/// A repository with Clusters, a kustomization.yaml beside them and bdp's own output inside.
#[test]
fn walking_skips_own_output_and_other_kinds() {
    let repo = tmp("repo");
    std::fs::create_dir_all(&repo).unwrap();
    let zk = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/zookeeper.yaml")).unwrap();
    std::fs::write(repo.join("zk.yaml"), &zk).unwrap();
    let r = repo.to_str().unwrap();
    let out = repo.join("out");
    for run in 1..=2 {
        let o = bdp(&["render", r, "-o", out.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "run {run}: {}", String::from_utf8_lossy(&o.stderr));
        assert!(String::from_utf8_lossy(&o.stderr).contains("wrote 10 objects"), "run {run}");
    }
    std::fs::write(
        repo.join("kustomization.yaml"),
        "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [out]\n",
    )
    .unwrap();
    let o = bdp(&["validate", r]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.matches("warning").count(), 1, "{err}");
    assert!(err.contains("kustomization.yaml (Kustomization)"), "{err}");
    assert!(!err.contains("error"), "{err}");
    std::fs::remove_dir_all(&repo).unwrap();
}

/// Rendered output where Clusters are expected: one hint, not two errors per object.
#[test]
fn rendered_input_without_rendered_flag_gets_one_hint() {
    let dir = tmp("rendered-hint");
    std::fs::create_dir_all(&dir).unwrap();
    let stream = dir.join("stream.yaml");
    std::fs::write(&stream, bdp(&["render", "examples/zookeeper.yaml"]).stdout).unwrap();
    let s = stream.to_str().unwrap();
    let o = bdp(&["diff", s, s]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("--rendered"), "{err}");
    let errors = err.lines().filter(|l| l.starts_with("error[")).count();
    assert!((1..=2).contains(&errors), "one error per side at most: {err}");
    assert!(err.contains("10 document(s)"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Scale-down advice comes from the role's own `scaleDown` text in the stack.
#[test]
fn scale_down_advice_is_the_roles_own() {
    let dir = tmp("scale-advice");
    std::fs::create_dir_all(&dir).unwrap();
    let five = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/zookeeper-5.yaml")).unwrap();
    let three = five.replace("replicas: 5", "replicas: 3");
    assert_ne!(five, three);
    std::fs::write(dir.join("old.yaml"), &five).unwrap();
    std::fs::write(dir.join("new.yaml"), &three).unwrap();
    let o = bdp(&["diff", dir.join("old.yaml").to_str().unwrap(), dir.join("new.yaml").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(s.contains("Shrink by two to stay odd"), "{s}");
    assert!(s.contains("bdp explain hadoop-3.3/zookeeper/server"), "{s}");
    assert!(!s.contains("decommission") && !s.contains("re-replicated"), "{s}");
    // HDFS datanodes get HDFS's advice
    let hdfs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/hdfs-single.yaml")).unwrap();
    std::fs::write(dir.join("h-old.yaml"), hdfs.replace("datanode:\n          replicas: 1", "datanode:\n          replicas: 2")).unwrap();
    assert!(std::fs::read_to_string(dir.join("h-old.yaml")).unwrap().contains("replicas: 2"));
    std::fs::write(dir.join("h-new.yaml"), &hdfs).unwrap();
    let o = bdp(&["diff", dir.join("h-old.yaml").to_str().unwrap(), dir.join("h-new.yaml").to_str().unwrap()]);
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(s.contains("hdfs dfsadmin -refreshNodes"), "{s}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn explain_addresses_roles_operations_and_docs() {
    let ok = |args: &[&str]| {
        let o = bdp(args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    // a role, with its stack data and scale-down advice
    let s = ok(&["explain", "hadoop-3.3/hdfs/namenode"]);
    assert!(s.starts_with("role namenode of hdfs") && s.contains("replicas: default 1, 1..5"), "{s}");
    assert!(s.contains("before lowering the replicas:") && s.contains("haadmin"), "{s}");
    // who reads a key (readBy) and what refreshes
    let s = ok(&["explain", "hadoop-3.3/hdfs/hdfs-site.xml/dfs.namenode.handler.count"]);
    assert!(s.contains("read by (a change restarts only): namenode"), "{s}");
    let s = ok(&["explain", "hadoop-3.3/hdfs/hdfs-site.xml/dfs.blocksize"]);
    assert!(!s.contains("read by"), "an undeclared key is read by every role: {s}");
    let s = ok(&["explain", "hadoop-3.3/hdfs/dfs.exclude"]);
    assert!(s.contains("a change does not restart the pods; run: hdfs dfsadmin -refreshNodes"), "{s}");
    // operations, listed and one by one
    let s = ok(&["explain", "hadoop-3.3/hdfs/operations"]);
    assert!(s.contains("decommission: Removing datanodes"), "{s}");
    let s = ok(&["explain", "hadoop-3.3/hdfs/operations/decommission"]);
    assert!(s.contains("hdfs dfsadmin -refreshNodes"), "{s}");
    // a service name alone, when one stack has it
    assert_eq!(ok(&["explain", "zookeeper"]), ok(&["explain", "hadoop-3.3/zookeeper"]));
    assert_eq!(ok(&["explain", "hdfs/datanode"]), ok(&["explain", "hadoop-3.3/hdfs/datanode"]));
    // wrapped text keeps its indent; summaries end with their sentence
    let s = ok(&["explain", "hadoop-3.3/zookeeper/zoo.cfg"]);
    assert!(s.contains("The probes use\n      srvr (readiness: in quorum)"), "{s}");
    let s = ok(&["explain", "hadoop-3.3"]);
    for line in s.lines().filter(|l| l.starts_with("  ")) {
        assert!(line.ends_with('.') || line.ends_with(':') || line.ends_with(')'), "cut short: {line}");
    }
    // computed defaults show a value, not a raw template
    let s = ok(&["explain", "zookeeper/zoo.cfg/clientPort"]);
    assert!(s.contains("default: computed by bdp: `2181`"), "{s}");
    let s = ok(&["explain", "zookeeper/zoo.cfg"]);
    assert!(!s.lines().any(|l| l.contains(" = {{")), "{s}");
    // the docs the stacks point to ship with the binary
    let s = ok(&["explain", "hadoop-3.3/kerberos"]);
    assert!(s.contains("bdp explain docs/kerberos") && !s.contains("docs/kerberos.md"), "{s}");
    let s = ok(&["explain", "docs/kerberos"]);
    assert!(s.starts_with("# Kerberos"), "{s}");
    assert!(ok(&["explain", "docs"]).contains("kerberos:"));
    let o = bdp(&["explain", "zookeeper/srver"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("did you mean `server`"));
}

#[test]
fn help_describes_every_argument_and_version_names_the_commit() {
    for (cmd, needle) in [
        (vec!["validate", "--help"], "Cluster (and StackDefinition) files"),
        (vec!["stacks", "--help"], "Extra directory of StackDefinitions"),
        (vec!["explain", "--help"], "What to explain"),
        (vec!["--help"], "Examples:"),
        (vec!["render", "--help"], "Examples:"),
        (vec!["explain", "--help"], "Examples:"),
    ] {
        let o = bdp(&cmd);
        assert_eq!(o.status.code(), Some(0));
        let s = String::from_utf8_lossy(&o.stdout);
        assert!(s.contains(needle), "{cmd:?}: {s}");
    }
    let v = String::from_utf8(bdp(&["--version"]).stdout).unwrap();
    let commit = v.trim().strip_prefix(concat!("bdp ", env!("CARGO_PKG_VERSION"), " (commit ")).and_then(|r| r.strip_suffix(')'));
    let commit = commit.unwrap_or_else(|| panic!("{v}"));
    assert!(!commit.is_empty(), "{v}");
    let head = Command::new("git").args(["rev-parse", "--short=7", "HEAD"]).current_dir(env!("CARGO_MANIFEST_DIR")).output();
    if let Some(h) = head.ok().filter(|h| h.status.success()) {
        let h = String::from_utf8_lossy(&h.stdout).trim().to_string();
        assert!(commit.starts_with(&h[..7]) || commit.contains(&format!("-g{}", &h[..7])), "{v} vs HEAD {h}");
    }
}

/// `REV:PATH` works for render, validate and graph, not only diff.
#[test]
fn rev_path_inputs_everywhere() {
    let repo = tmp("revpath");
    std::fs::create_dir_all(&repo).unwrap();
    let git = |args: &[&str]| {
        let o = Command::new("git").args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"]).args(args).current_dir(&repo).output().unwrap();
        assert!(o.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    };
    let zk = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/zookeeper.yaml")).unwrap();
    std::fs::create_dir_all(repo.join("clusters")).unwrap();
    std::fs::write(repo.join("clusters/zk.yaml"), &zk).unwrap();
    git(&["init", "-q"]);
    git(&["add", "."]);
    git(&["commit", "-qm", "zk"]);
    std::fs::write(repo.join("clusters/zk.yaml"), zk.replace("bigdata", "broken namespace")).unwrap();
    let run = |args: &[&str]| Command::new(env!("CARGO_BIN_EXE_bdp")).args(args).current_dir(&repo).output().unwrap();
    let expected = bdp(&["render", "examples/zookeeper.yaml"]).stdout;
    for input in ["HEAD:clusters/zk.yaml", "HEAD:clusters"] {
        let o = run(&["render", input]);
        assert_eq!(o.status.code(), Some(0), "{input}: {}", String::from_utf8_lossy(&o.stderr));
        assert_eq!(o.stdout, expected, "{input}");
        assert_eq!(run(&["validate", input]).status.code(), Some(0), "{input}");
        let o = run(&["graph", input]);
        assert_eq!(o.status.code(), Some(0), "{input}");
        assert!(String::from_utf8_lossy(&o.stdout).contains("digraph"), "{input}");
    }
    // the work tree is broken; diagnostics about a revision name the revision
    git(&["commit", "-qam", "broken"]);
    let o = run(&["validate", "HEAD:clusters"]);
    assert_eq!(o.status.code(), Some(1));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("HEAD:clusters/zk.yaml:"), "{err}");
    let o = run(&["render", "nosuchrev:clusters"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("REV:PATH"));
    std::fs::remove_dir_all(&repo).unwrap();
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

/// Kinds of a rendered stream, with their counts.
fn kinds(stream: &[u8]) -> std::collections::BTreeMap<String, usize> {
    let mut m = std::collections::BTreeMap::new();
    for l in String::from_utf8_lossy(stream).lines().filter_map(|l| l.strip_prefix("kind: ")) {
        *m.entry(l.to_string()).or_insert(0) += 1;
    }
    m
}

#[test]
fn monitoring_flag_sets_the_default_of_every_services_monitoring() {
    // examples/zookeeper.yaml sets no monitoring: the flag decides
    let none = bdp(&["render", "examples/zookeeper.yaml"]);
    assert!(!kinds(&none.stdout).contains_key("PodMonitor"));
    let op = bdp(&["render", "--monitoring", "prometheus-operator", "examples/zookeeper.yaml"]);
    assert_eq!(op.status.code(), Some(0), "{}", String::from_utf8_lossy(&op.stderr));
    let k = kinds(&op.stdout);
    assert_eq!((k.get("PodMonitor"), k.get("PrometheusRule")), (Some(&1), Some(&1)), "{k:?}");
    assert!(String::from_utf8_lossy(&op.stdout).contains("grafana_dashboard: '1'"), "the dashboard ConfigMap");
    let ann = bdp(&["render", "--monitoring", "annotations", "examples/zookeeper.yaml"]);
    let out = String::from_utf8_lossy(&ann.stdout);
    assert!(out.contains("prometheus.io/scrape: 'true'") && !kinds(&ann.stdout).contains_key("PodMonitor"), "{out}");
    // a Cluster's own value wins over the flag, in both directions
    let dir = tmp("monitoring-flag");
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("zk.yaml");
    let text = std::fs::read_to_string("examples/zookeeper.yaml").unwrap().replace("    zookeeper:", "    zookeeper:\n      monitoring: none\n    #");
    std::fs::write(&f, &text).unwrap();
    let o = bdp(&["render", "--monitoring", "prometheus-operator", f.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(o.stdout, none.stdout, "monitoring: none in the Cluster wins over --monitoring");
    std::fs::write(&f, text.replace("monitoring: none", "monitoring: prometheus-operator")).unwrap();
    let o = bdp(&["render", "--monitoring", "none", f.to_str().unwrap()]);
    assert_eq!(o.stdout, op.stdout, "monitoring: prometheus-operator in the Cluster wins over --monitoring none");
    // diff: both sides get the default; the flag on a change that adds nothing else shows the objects it adds
    let d = bdp(&["diff", "--monitoring", "annotations", "examples/zookeeper.yaml", "examples/zookeeper.yaml"]);
    assert_eq!(d.status.code(), Some(0), "no change: {}", String::from_utf8_lossy(&d.stdout));
    std::fs::write(&f, text.replace("monitoring: none", "monitoring: prometheus-operator")).unwrap();
    let d = bdp(&["diff", "--monitoring", "prometheus-operator", "examples/zookeeper.yaml", f.to_str().unwrap()]);
    assert_eq!(d.status.code(), Some(0), "the flag's default equals the Cluster's value: {}", String::from_utf8_lossy(&d.stdout));
    let d = bdp(&["diff", "examples/zookeeper.yaml", f.to_str().unwrap()]);
    assert_eq!(d.status.code(), Some(1), "without the flag the Cluster's value is a change");
    assert!(String::from_utf8_lossy(&d.stdout).contains("PodMonitor"), "{}", String::from_utf8_lossy(&d.stdout));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_bad_monitoring_flag_exits_2_with_the_allowed_values() {
    for cmd in ["render", "diff", "validate"] {
        let mut args = vec![cmd, "--monitoring", "prometheus", "examples/zookeeper.yaml"];
        if cmd == "diff" {
            args.push("examples/zookeeper.yaml");
        }
        let o = bdp(&args);
        assert_eq!(o.status.code(), Some(2), "{cmd}");
        assert!(o.stdout.is_empty());
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains("invalid value 'prometheus' for '--monitoring <MODE>'") && err.contains("prometheus-operator, annotations, none"), "{err}");
    }
}

#[test]
fn explain_lists_metrics_endpoints_and_alerts() {
    // the monitoring section of each built-in service against its snapshot
    // (tests/snapshots/explain/SERVICE.txt; BDP_UPDATE_SNAPSHOTS=1 rewrites them)
    let update = std::env::var_os("BDP_UPDATE_SNAPSHOTS").is_some();
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/explain");
    for svc in ["zookeeper", "hdfs", "kerberos"] {
        let o = bdp(&["explain", &format!("hadoop-3.3/{svc}")]);
        assert_eq!(o.status.code(), Some(0));
        let out = String::from_utf8(o.stdout).unwrap();
        let got = &out[out.find("\nmonitoring (").unwrap_or_else(|| panic!("no monitoring section: {out}")) + 1..];
        let snap = dir.join(format!("{svc}.txt"));
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&snap, got).unwrap();
        }
        let want = std::fs::read_to_string(&snap).unwrap_or_else(|_| panic!("no snapshot {} (BDP_UPDATE_SNAPSHOTS=1)", snap.display()));
        assert_eq!(got, want, "{svc}: explain's monitoring section differs from {}", snap.display());
    }
    // every alert the HA render holds is listed, with its severity, for and runbook anchor
    let s = String::from_utf8(bdp(&["explain", "hdfs"]).stdout).unwrap();
    assert!(s.contains("    namenode: port http (9870), path /prom"), "{s}");
    assert!(s.contains("HdfsJournalNodeLagging       warning, for 15m, #hdfsjournalnodelagging"), "{s}");
    assert!(s.contains("HdfsNameNodeDown             critical|warning, for 5m"), "critical with one namenode, warning with HA: {s}");
    let s = String::from_utf8(bdp(&["explain", "kerberos"]).stdout).unwrap();
    assert!(s.contains("module tcp_connect, targets example-kerberos-kdc-0."), "{s}");
    // a service without a `monitoring` setting has no such section
    let s = String::from_utf8(bdp(&["explain", "--stacks", "tests/fixtures/authoring", "tutorial/greeter"]).stdout).unwrap();
    assert!(s.contains("greeter") && !s.contains("monitoring ("), "{s}");
}

#[test]
fn dashboards_are_deterministic_valid_json_and_one_per_cluster_and_service() {
    let a = bdp(&["render", "--monitoring", "annotations", "examples/fleet", "examples/hdfs-ha.yaml"]);
    assert_eq!(a.status.code(), Some(0), "{}", String::from_utf8_lossy(&a.stderr));
    let b = bdp(&["render", "--monitoring", "annotations", "examples/fleet", "examples/hdfs-ha.yaml"]);
    assert_eq!(a.stdout, b.stdout, "byte-identical re-render");
    let mut uids = std::collections::BTreeSet::new();
    let mut n = 0;
    for doc in String::from_utf8(a.stdout).unwrap().split("\n---\n") {
        if !doc.contains("grafana_dashboard: '1'") {
            continue;
        }
        let v = yaml_to_json(yaml_rust2::YamlLoader::load_from_str(doc).unwrap().remove(0));
        let ns = v["metadata"]["namespace"].as_str().unwrap();
        let cluster = v["metadata"]["labels"]["kubebdp.github.io/cluster"].as_str().unwrap();
        for text in v["data"].as_object().unwrap().values() {
            let d: serde_json::Value = serde_json::from_str(text.as_str().unwrap()).unwrap();
            n += 1;
            let uid = d["uid"].as_str().unwrap();
            assert!(uid.len() <= 40 && uids.insert(uid.to_string()), "uid {uid}: at most 40 characters, one per dashboard");
            assert!(d["schemaVersion"].is_u64());
            assert!(d["title"].as_str().unwrap().ends_with(&format!(" {ns}/{cluster}")), "{}", d["title"]);
            let vars: Vec<(&str, &str)> = d["templating"]["list"].as_array().unwrap().iter().map(|t| (t["name"].as_str().unwrap(), t["query"].as_str().unwrap())).collect();
            assert!(vars.contains(&("namespace", ns)) && vars.contains(&("cluster", cluster)) && vars.contains(&("datasource", "prometheus")), "{vars:?}");
            for p in d["panels"].as_array().unwrap() {
                assert_eq!(p["datasource"]["uid"], "${datasource}");
                assert!(p["targets"].as_array().unwrap().iter().all(|t| t["expr"].as_str().is_some_and(|e| e.contains("${cluster}") && e.contains("${namespace}"))), "every query selects the Cluster: {p}");
            }
        }
    }
    assert!(n >= 4, "{n} dashboards");
}

fn yaml_to_json(y: yaml_rust2::Yaml) -> serde_json::Value {
    use yaml_rust2::Yaml;
    match y {
        Yaml::String(s) | Yaml::Real(s) => serde_json::Value::String(s),
        Yaml::Integer(i) => i.into(),
        Yaml::Boolean(b) => b.into(),
        Yaml::Array(a) => a.into_iter().map(yaml_to_json).collect(),
        Yaml::Hash(h) => h.into_iter().map(|(k, v)| (k.into_string().unwrap_or_default(), yaml_to_json(v))).collect::<serde_json::Map<_, _>>().into(),
        _ => serde_json::Value::Null,
    }
}
