//! The `hbase` service of stack hadoop-3.3, compiled through the library: what examples/hbase.yaml
//! renders (hbase.rootdir on the HDFS, the ZooKeeper quorum and znode parent, the HDFS client
//! configuration mounted from the HDFS discovery ConfigMap, the discovery ConfigMap), secure mode,
//! and what bdp refuses, with which explanation.

use bdp::diag::Diagnostic;

mod common;
use common::*;

fn all_text(d: &[Diagnostic]) -> String {
    d.iter().map(|x| x.to_string()).collect::<Vec<_>>().join("\n")
}

/// ZooKeeper, a one-namenode HDFS and HBase with `hbase` as given (indented under `hbase:`).
fn with_deps(name: &str, hbase: &str) -> String {
    cluster(
        name,
        &format!(
            "    zookeeper:\n      roles: {{server: {{replicas: 1}}}}\n    hdfs:\n      configOverrides: {{hdfs-site.xml: {{dfs.replication: \"1\"}}}}\n      roles: {{namenode: {{replicas: 1}}, datanode: {{replicas: 1}}}}\n    hbase:\n{hbase}"
        ),
    )
}

#[test]
fn example_wires_hdfs_and_zookeeper() {
    let objs = example("hbase.yaml");
    for role in ["master", "regionserver"] {
        let s = site(&objs, &format!("store-hbase-{role}"), "hbase-site.xml");
        assert_eq!(s["hbase.rootdir"], "hdfs://store-hdfs-namenode-0.store-hdfs-namenode.bigtable.svc.cluster.local:8020/hbase/bigtable/store");
        assert_eq!(s["hbase.zookeeper.quorum"], "store-zookeeper-server-0.store-zookeeper-server.bigtable.svc.cluster.local:2181");
        assert_eq!(s["zookeeper.znode.parent"], "/hbase-bigtable-store");
        assert_eq!(s["hbase.cluster.distributed"], "true");
        assert!(!s.keys().any(|k| k.contains("kerberos")), "no Kerberos keys without a kerberos dependency");
        // the HDFS client configuration is the HDFS discovery ConfigMap, on the classpath
        let sts = find(&objs, "StatefulSet", &format!("store-hbase-{role}"));
        let vols = sts.body["spec"]["template"]["spec"]["volumes"].as_array().unwrap();
        let v = vols.iter().find(|v| v["name"] == "hdfs-client").expect("hdfs-client volume");
        assert_eq!(v["configMap"]["name"], "store-hdfs-discovery");
        assert!(data(find(&objs, "ConfigMap", &format!("store-hbase-{role}")), "hbase-env.sh").contains("HBASE_CLASSPATH='/etc/hadoop/conf'"));
        find(&objs, "PodDisruptionBudget", &format!("store-hbase-{role}"));
        find(&objs, "NetworkPolicy", &format!("store-hbase-{role}"));
    }
    assert_eq!(find(&objs, "StatefulSet", "store-hbase-master").body["spec"]["replicas"], 2);
    let disc = find(&objs, "ConfigMap", "store-hbase-discovery");
    assert_eq!(data(disc, "HBASE_ZNODE_PARENT"), "/hbase-bigtable-store");
    let client = props(data(disc, "hbase-site.xml"));
    assert_eq!(client["hbase.zookeeper.quorum"], "store-zookeeper-server-0.store-zookeeper-server.bigtable.svc.cluster.local:2181");
    assert_eq!(client["zookeeper.znode.parent"], "/hbase-bigtable-store");
    // HBase starts after HDFS and ZooKeeper, regionservers after the masters
    let wave = |k: &str, n: &str| find(&objs, k, n).wave;
    assert!(wave("StatefulSet", "store-hbase-master") > wave("StatefulSet", "store-hdfs-datanode"));
    assert!(wave("StatefulSet", "store-hbase-regionserver") > wave("StatefulSet", "store-hbase-master"));
}

#[test]
fn settings_set_rootdir_and_znode_parent() {
    let y = with_deps("s", "      rootDir: /apps/hbase/s\n      znodeParent: /hb/s\n");
    let objs = compile_text("hbase_settings", &y).map_err(|d| all_text(&d)).unwrap();
    let s = site(&objs, "s-hbase-master", "hbase-site.xml");
    assert!(s["hbase.rootdir"].ends_with(":8020/apps/hbase/s"), "{}", s["hbase.rootdir"]);
    assert_eq!(s["zookeeper.znode.parent"], "/hb/s");
}

#[test]
fn secure_mode_has_principals_per_role_and_sasl_to_zookeeper() {
    let y = format!("{}    kerberos:\n", with_deps("sec", ""));
    let objs = compile_text("hbase_secure", &y).map_err(|d| all_text(&d)).unwrap();
    let s = site(&objs, "sec-hbase-regionserver", "hbase-site.xml");
    assert_eq!(s["hbase.security.authentication"], "kerberos");
    assert_eq!(s["hbase.master.kerberos.principal"], "hbase/sec-hbase-master.t.svc.cluster.local@CLUSTER.LOCAL");
    assert_eq!(s["hbase.regionserver.kerberos.principal"], "hbase/sec-hbase-regionserver.t.svc.cluster.local@CLUSTER.LOCAL");
    assert_eq!(s["hbase.regionserver.keytab.file"], "/etc/security/keytabs/hbase.keytab");
    let cm = find(&objs, "ConfigMap", "sec-hbase-master");
    assert!(data(cm, "zk-jaas.conf").contains("principal=\"hbase/sec-hbase-master.t.svc.cluster.local@CLUSTER.LOCAL\""));
    let env = data(cm, "hbase-env.sh");
    assert!(env.contains("-Djava.security.auth.login.config=/etc/hbase/conf/zk-jaas.conf") && env.contains("-Dzookeeper.server.principal=zookeeper/sec-zookeeper-server"), "{env}");
    let sts = find(&objs, "StatefulSet", "sec-hbase-master");
    let inits = sts.body["spec"]["template"]["spec"]["initContainers"].as_array().unwrap();
    let kt = inits.iter().find(|c| c["name"] == "keytab").expect("keytab init container");
    let princ = kt["env"].as_array().unwrap().iter().find(|e| e["name"] == "KRB_PRINCIPALS").unwrap();
    assert_eq!(princ["value"], "hbase/sec-hbase-master.t.svc.cluster.local HTTP/_HOST");
}

#[test]
fn missing_dependencies_are_named() {
    let y = cluster("nohdfs", "    zookeeper:\n    hbase:\n");
    let e = errors("hbase_without_hdfs", &y);
    assert!(e.iter().any(|d| d.path.starts_with("spec.services.hbase") && d.to_string().contains("hdfs")), "{}", all_text(&e));
    let y = cluster("nozk", "    hdfs:\n      configOverrides: {hdfs-site.xml: {dfs.replication: \"1\"}}\n      roles: {namenode: {replicas: 1}, datanode: {replicas: 1}}\n    hbase:\n");
    let e = errors("hbase_without_zookeeper", &y);
    assert!(e.iter().any(|d| d.path.starts_with("spec.services.hbase") && d.to_string().contains("zookeeper")), "{}", all_text(&e));
    // one cause, one error: the templates that read the missing dependency are not rendered
    assert_eq!(e.len(), 1, "{}", all_text(&e));
    assert!(!all_text(&e).contains("defect in the stack"), "{}", all_text(&e));
}

#[test]
fn bad_paths_are_refused_with_the_setting() {
    for (test, setting, value, words) in [
        ("hbase_root_slash", "rootDir", "/", "not a topology path"),
        ("hbase_root_dotdot", "rootDir", "/a/../b", "not a topology path"),
        ("hbase_root_trailing", "rootDir", "/a/b/", "not a topology path"),
        ("hbase_znode_zookeeper", "znodeParent", "/zookeeper/hbase", "under /zookeeper"),
        ("hbase_znode_zookeeper_itself", "znodeParent", "/zookeeper", "under /zookeeper"),
        ("hbase_znode_dot", "znodeParent", "/a/./b", "not a topology path"),
    ] {
        let y = with_deps("p", &format!("      {setting}: \"{value}\"\n"));
        let e = errors(test, &y);
        let d = e.iter().find(|d| d.path == format!("spec.services.hbase.{setting}")).unwrap_or_else(|| panic!("{test}: {}", all_text(&e)));
        assert!(d.message.contains(words), "{test}: {d}");
    }
    // not a path at all: the setting's type
    let e = errors("hbase_root_relative", &with_deps("p", "      rootDir: hbase\n"));
    assert!(e.iter().any(|d| d.path == "spec.services.hbase.rootDir"), "{}", all_text(&e));
}

#[test]
fn monitoring_is_checked() {
    let e = errors("hbase_monitoring_bad", &with_deps("m", "      monitoring: annotations\n"));
    assert!(e.iter().any(|d| d.path == "spec.services.hbase.monitoring" && d.message.contains("prometheus-operator or none")), "{}", all_text(&e));
    let y = format!("{}    kerberos:\n", with_deps("m", "      monitoring: prometheus-operator\n"));
    let e = errors("hbase_monitoring_secure", &y);
    assert!(e.iter().any(|d| d.path == "spec.services.hbase.monitoring" && d.message.contains("Kerberos")), "{}", all_text(&e));
    let objs = compile_text("hbase_monitoring_ok", &with_deps("m", "      monitoring: prometheus-operator\n")).map_err(|d| all_text(&d)).unwrap();
    find(&objs, "PodMonitor", "m-hbase-regionserver");
    find(&objs, "NetworkPolicy", "m-hbase-regionserver-scrape");
}

#[test]
fn hdfs_of_another_namespace_is_refused() {
    let y = "apiVersion: manager.kubebdp.github.io/v1\nkind: Cluster\nmetadata: {name: fs, namespace: storage}\nspec:\n  stack: hadoop-3.3\n  services:\n    zookeeper:\n    hdfs:\n      configOverrides: {hdfs-site.xml: {dfs.replication: \"1\"}}\n      roles: {namenode: {replicas: 1}, datanode: {replicas: 1}}\n---\napiVersion: manager.kubebdp.github.io/v1\nkind: Cluster\nmetadata: {name: db, namespace: apps}\nspec:\n  stack: hadoop-3.3\n  services:\n    hbase:\n      dependencies:\n        hdfs: {cluster: fs, namespace: storage}\n        zookeeper: {cluster: fs, namespace: storage}\n";
    let e = errors("hbase_hdfs_other_namespace", y);
    let d = e.iter().find(|d| d.path == "spec.services.hbase.dependencies.hdfs").unwrap_or_else(|| panic!("{}", all_text(&e)));
    assert!(d.message.contains("namespace") && d.message.contains("fs-hdfs-discovery"), "{d}");
}

#[test]
fn zookeeper_from_a_configmap_is_read_at_runtime() {
    let y = cluster(
        "cm",
        "    hdfs:\n      configOverrides: {hdfs-site.xml: {dfs.replication: \"1\"}}\n      roles: {namenode: {replicas: 1}, datanode: {replicas: 1}}\n    hbase:\n      dependencies:\n        zookeeper: {configMap: {name: zk-conn}}\n",
    );
    let objs = compile_text("hbase_zk_configmap", &y).map_err(|d| all_text(&d)).unwrap();
    assert_eq!(site(&objs, "cm-hbase-master", "hbase-site.xml")["hbase.zookeeper.quorum"], "${env.DEP_ZOOKEEPER}");
    let sts = find(&objs, "StatefulSet", "cm-hbase-master");
    let env = sts.body["spec"]["template"]["spec"]["containers"][0]["env"].as_array().unwrap();
    let dep = env.iter().find(|e| e["name"] == "DEP_ZOOKEEPER").expect("DEP_ZOOKEEPER");
    assert_eq!(dep["valueFrom"]["configMapKeyRef"]["name"], "zk-conn");
}
