//! The `hdfs` service of stack hadoop-3.3, compiled through the library: what the examples render
//! (HA with 3 namenodes and 5 journalnodes, the single-namenode form, a ZooKeeper of another
//! Cluster, a ZooKeeper read from a ConfigMap) and what bdp refuses, with which explanation.

use bdp::diag::Diagnostic;
use bdp::render::Object;

mod common;
use common::*;
use serde_json::Value;

fn has(objs: &[Object], kind: &str, name: &str) -> bool {
    objs.iter().any(|o| o.kind == kind && o.name == name)
}

fn pod_spec(sts: &Object) -> &Value {
    &sts.body["spec"]["template"]["spec"]
}

fn names(list: &Value) -> Vec<String> {
    list.as_array().map(|a| a.iter().map(|c| c["name"].as_str().unwrap_or_default().to_string()).collect()).unwrap_or_default()
}

fn fqdns(sts: &str, ns: &str, n: usize, port: u16) -> Vec<String> {
    (0..n).map(|i| format!("{sts}-{i}.{sts}.{ns}.svc.cluster.local:{port}")).collect()
}

fn script(c: &Value) -> String {
    c["command"].as_array().unwrap().iter().map(|x| x.as_str().unwrap_or_default()).collect::<Vec<_>>().join(" ")
}

fn wave(o: &Object) -> u32 {
    o.wave
}

fn all_text(d: &[Diagnostic]) -> String {
    d.iter().map(|x| x.to_string()).collect::<Vec<_>>().join("\n")
}

#[test]
fn ha_renders_the_expected_keys() {
    let objs = example("hdfs-ha.yaml");
    let nn = "analytics-hdfs-namenode";
    let hdfs = site(&objs, nn, "hdfs-site.xml");
    let core = site(&objs, nn, "core-site.xml");
    let ids: Vec<String> = (0..3).map(|i| format!("{nn}-{i}")).collect();

    assert_eq!(core["fs.defaultFS"], "hdfs://analytics");
    assert_eq!(hdfs["dfs.nameservices"], "analytics");
    assert_eq!(hdfs["dfs.ha.namenodes.analytics"], ids.join(","));
    let rpc = fqdns(nn, "bigdata", 3, 8020);
    let http = fqdns(nn, "bigdata", 3, 9870);
    for (i, id) in ids.iter().enumerate() {
        assert_eq!(hdfs[&format!("dfs.namenode.rpc-address.analytics.{id}")], rpc[i]);
        assert_eq!(hdfs[&format!("dfs.namenode.http-address.analytics.{id}")], http[i]);
    }
    assert_eq!(hdfs["dfs.ha.namenode.id"], "${env.POD_NAME}");
    let jn = fqdns("analytics-hdfs-journalnode", "bigdata", 5, 8485);
    assert_eq!(hdfs["dfs.namenode.shared.edits.dir"], format!("qjournal://{}/analytics", jn.join(";")));
    assert_eq!(
        hdfs["dfs.client.failover.proxy.provider.analytics"],
        "org.apache.hadoop.hdfs.server.namenode.ha.ConfiguredFailoverProxyProvider"
    );
    assert_eq!(hdfs["dfs.ha.fencing.methods"], "shell(/bin/true)");
    assert_eq!(hdfs["dfs.ha.automatic-failover.enabled"], "true");
    assert_eq!(hdfs["dfs.namenode.datanode.registration.ip-hostname-check"], "false");
    assert_eq!(hdfs["dfs.reformat.disabled"], "true");
    assert_eq!(hdfs["dfs.namenode.rpc-bind-host"], "0.0.0.0");
    assert_eq!(hdfs["dfs.namenode.http-bind-host"], "0.0.0.0");
    assert_eq!(hdfs["dfs.namenode.name.dir"], "file:///data/name");
    assert_eq!(hdfs["dfs.hosts.exclude"], "/etc/hadoop/conf/dfs.exclude");
    let zk = fqdns("analytics-zookeeper-server", "bigdata", 3, 2181);
    assert_eq!(core["ha.zookeeper.quorum"], zk.join(","));

    // the exclude file is there from day one, next to the configuration
    let nn_cm = find(&objs, "ConfigMap", nn);
    assert!(nn_cm.body["data"]["dfs.exclude"].is_string());
    // journalnode and datanode files hold their own keys, not the namenode's
    let jh = site(&objs, "analytics-hdfs-journalnode", "hdfs-site.xml");
    assert_eq!(jh["dfs.journalnode.edits.dir"], "/data/journal");
    // the journalnodes' JournalNodeSyncer finds its peers in the shared edits URI (review finding 6)
    assert_eq!(jh["dfs.namenode.shared.edits.dir"], hdfs["dfs.namenode.shared.edits.dir"]);
    assert!(jh["dfs.namenode.shared.edits.dir"].starts_with("qjournal://"));
    let dh = site(&objs, "analytics-hdfs-datanode", "hdfs-site.xml");
    assert_eq!(dh["dfs.datanode.data.dir"], "file:///data/data");
    assert_eq!(dh["dfs.ha.namenodes.analytics"], ids.join(","));
    assert!(!dh.contains_key("dfs.ha.namenode.id"));
    assert!(!site(&objs, "analytics-hdfs-datanode", "core-site.xml").contains_key("ha.zookeeper.quorum"));

    // the namenode pods: Parallel (a namenode that cannot start holds no other back; the
    // `format` init container waits for what it needs), ZKFC sidecar, guarded bootstrap
    let sts = find(&objs, "StatefulSet", nn);
    assert_eq!(sts.body["spec"]["podManagementPolicy"], "Parallel");
    assert_eq!(sts.body["spec"]["replicas"], 3);
    let ps = pod_spec(sts);
    assert_eq!(names(&ps["containers"]), ["namenode", "zkfc"]);
    // the example sets datanodeRacks: the topology script is installed after the format steps
    assert_eq!(names(&ps["initContainers"]), ["format", "format-zk", "topology"]);
    let format = script(&ps["initContainers"][0]);
    assert!(format.contains("current/VERSION"), "{format}");
    assert!(format.contains("hdfs namenode -format -nonInteractive"), "{format}");
    assert!(format.contains("hdfs namenode -bootstrapStandby -nonInteractive"), "{format}");
    assert!(!format.contains("-force"), "{format}");
    assert!(format.contains("/dev/tcp/") && format.contains("WAIT_TRIES"), "{format}");
    let jn_env: Vec<&Value> = ps["initContainers"][0]["env"].as_array().unwrap().iter().filter(|e| e["name"] == "JOURNALNODES").collect();
    assert_eq!(jn_env[0]["value"].as_str().unwrap().split(',').collect::<Vec<_>>(), jn);
    let fzk = script(&ps["initContainers"][1]);
    assert!(fzk.contains("hdfs zkfc -formatZK -nonInteractive") && fzk.contains("2)"), "{fzk}");
    assert_eq!(ps["securityContext"]["runAsUser"], 1000);
    for c in ps["containers"].as_array().unwrap() {
        let env = c["env"].as_array().unwrap();
        assert!(env.iter().any(|e| e["name"] == "HADOOP_CONF_DIR" && e["value"] == "/etc/hadoop/conf"));
        assert!(env.iter().any(|e| e["name"] == "POD_NAME" && e["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"));
    }

    // PDBs on the quorum roles, start order journalnode -> namenode -> datanode after ZooKeeper
    for role in ["journalnode", "namenode"] {
        assert_eq!(find(&objs, "PodDisruptionBudget", &format!("analytics-hdfs-{role}")).body["spec"]["maxUnavailable"], 1);
    }
    let w = |r: &str| wave(find(&objs, "StatefulSet", r));
    assert!(w("analytics-zookeeper-server") < w("analytics-hdfs-journalnode"));
    assert!(w("analytics-hdfs-journalnode") < w(nn));
    assert!(w(nn) < w("analytics-hdfs-datanode"));
    assert_eq!(find(&objs, "StatefulSet", "analytics-hdfs-journalnode").body["spec"]["replicas"], 5);

    // datanode storage from the Cluster
    let dn = find(&objs, "StatefulSet", "analytics-hdfs-datanode");
    let claim = &dn.body["spec"]["volumeClaimTemplates"][0]["spec"];
    assert_eq!(claim["resources"]["requests"]["storage"], "2Ti");
    assert_eq!(claim["storageClassName"], "large-capacity");

    // the discovery ConfigMap carries the client configuration
    let disc = find(&objs, "ConfigMap", "analytics-hdfs-discovery");
    assert_eq!(data(disc, "HDFS"), "hdfs://analytics");
    let dcore = props(data(disc, "core-site.xml"));
    let dhdfs = props(data(disc, "hdfs-site.xml"));
    assert_eq!(dcore["fs.defaultFS"], "hdfs://analytics");
    assert_eq!(dhdfs["dfs.namenode.rpc-address.analytics.analytics-hdfs-namenode-2"], rpc[2]);
    assert!(dhdfs.contains_key("dfs.client.failover.proxy.provider.analytics"));
}

#[test]
fn single_namenode_has_no_journalnode_zkfc_or_zookeeper() {
    let objs = example("hdfs-single.yaml");
    let nn = "dev-hdfs-namenode";
    assert!(!has(&objs, "StatefulSet", "dev-hdfs-journalnode"));
    assert!(!objs.iter().any(|o| o.name.contains("zookeeper")));
    let ps = pod_spec(find(&objs, "StatefulSet", nn));
    assert_eq!(names(&ps["containers"]), ["namenode"]);
    assert_eq!(names(&ps["initContainers"]), ["format"]);
    let env = ps["initContainers"][0]["env"].as_array().unwrap();
    assert!(env.iter().any(|e| e["name"] == "JOURNALNODES" && e["value"] == ""));

    let core = site(&objs, nn, "core-site.xml");
    let hdfs = site(&objs, nn, "hdfs-site.xml");
    let rpc = "dev-hdfs-namenode-0.dev-hdfs-namenode.sandbox.svc.cluster.local:8020";
    assert_eq!(core["fs.defaultFS"], format!("hdfs://{rpc}"));
    assert_eq!(hdfs["dfs.namenode.rpc-address"], rpc);
    for k in core.keys().chain(hdfs.keys()) {
        assert!(!k.starts_with("ha.") && !k.starts_with("dfs.ha.") && !k.starts_with("dfs.nameservices"), "HA key {k}");
        assert!(!k.contains("shared.edits") && !k.contains("failover"), "HA key {k}");
    }
    assert_eq!(hdfs["dfs.replication"], "1");
    assert_eq!(data(find(&objs, "ConfigMap", "dev-hdfs-discovery"), "HDFS"), format!("hdfs://{rpc}"));
}

#[test]
fn even_journalnodes_are_an_error() {
    let y = cluster("ev", "    zookeeper:\n    hdfs:\n      roles:\n        namenode: {replicas: 3}\n        journalnode: {replicas: 4}\n");
    let e = errors("even_journalnodes", &y);
    let d = e.iter().find(|d| d.path == "spec.services.hdfs.roles.journalnode.replicas").unwrap_or_else(|| panic!("{}", all_text(&e)));
    assert!(d.message.contains("odd") && d.message.contains('4'), "{d}");
    assert!(d.hint.as_deref().unwrap_or_default().contains("use 3 or 5"), "{d}");
    // and with 3 it compiles
    let ok = cluster("ev", "    zookeeper:\n    hdfs:\n      roles:\n        namenode: {replicas: 3}\n        journalnode: {replicas: 3}\n");
    assert!(compile_text("odd_journalnodes", &ok).is_ok());
}

#[test]
fn journalnodes_without_ha_are_refused() {
    let y = cluster("jn", "    hdfs:\n      roles:\n        namenode: {replicas: 1}\n        journalnode: {replicas: 3}\n");
    let e = errors("journalnodes_without_ha", &y);
    assert!(e.iter().any(|d| d.path == "spec.services.hdfs.roles.journalnode" && d.message.contains("not used")), "{}", all_text(&e));
}

#[test]
fn namenode_count_is_one_to_five() {
    let y = cluster("six", "    zookeeper:\n    hdfs:\n      roles:\n        namenode: {replicas: 6}\n");
    let e = errors("six_namenodes", &y);
    assert!(e.iter().any(|d| d.path == "spec.services.hdfs.roles.namenode.replicas" && d.message.contains("more than 5")), "{}", all_text(&e));
    let y = cluster("none", "    hdfs:\n      roles:\n        namenode: {replicas: 0}\n");
    let e = errors("zero_namenodes", &y);
    assert!(e.iter().any(|d| d.path == "spec.services.hdfs.roles.namenode.replicas" && d.message.contains("fewer than 1")), "{}", all_text(&e));
}

#[test]
fn fewer_datanodes_than_replication_is_an_error_with_a_hint() {
    let y = cluster("few", "    hdfs:\n      roles:\n        datanode: {replicas: 2}\n");
    let e = errors("few_datanodes", &y);
    let d = e.iter().find(|d| d.path == "spec.services.hdfs.roles.datanode.replicas").unwrap_or_else(|| panic!("{}", all_text(&e)));
    assert!(d.message.contains("dfs.replication=3"), "{d}");
    let hint = d.hint.as_deref().unwrap_or_default();
    assert!(hint.contains("at least 3") && hint.contains("dfs.replication: \"2\""), "{d}");
    // lowering dfs.replication to the datanode count is accepted
    let y = cluster("few", "    hdfs:\n      configOverrides:\n        hdfs-site.xml: {dfs.replication: \"2\"}\n      roles:\n        datanode: {replicas: 2}\n");
    let objs = compile_text("few_datanodes_lower_replication", &y).map_err(|d| all_text(&d)).unwrap();
    assert_eq!(site(&objs, "few-hdfs-datanode", "hdfs-site.xml")["dfs.replication"], "2");
    // and a replication that is not a number is explained, not a crash of the check
    let y = cluster("few", "    hdfs:\n      configOverrides:\n        hdfs-site.xml: {dfs.replication: three}\n");
    let e = errors("replication_not_a_number", &y);
    assert!(e.iter().any(|d| d.message.contains("whole number") && d.message.contains("three")), "{}", all_text(&e));
    assert!(!e.iter().any(|d| d.message.contains("failed to evaluate")), "{}", all_text(&e));
}

#[test]
fn overriding_an_owned_key_is_refused() {
    let y = cluster(
        "own",
        "    hdfs:\n      configOverrides:\n        core-site.xml: {fs.defaultFS: \"hdfs://elsewhere\"}\n        hdfs-site.xml: {dfs.namenode.rpc-address: \"x:1\", dfs.blocksize: \"268435456\"}\n      roles:\n        datanode:\n          configOverrides:\n            hdfs-site.xml: {dfs.datanode.data.dir: /tmp/data}\n",
    );
    let e = errors("owned_keys", &y);
    for (path, key) in [
        ("spec.services.hdfs.configOverrides.core-site.xml.fs.defaultFS", "fs.defaultFS"),
        ("spec.services.hdfs.configOverrides.hdfs-site.xml.dfs.namenode.rpc-address", "dfs.namenode.rpc-address"),
        ("spec.services.hdfs.roles.datanode.configOverrides.hdfs-site.xml.dfs.datanode.data.dir", "dfs.datanode.data.dir"),
    ] {
        let d = e.iter().find(|d| d.path == path).unwrap_or_else(|| panic!("no error at {path}:\n{}", all_text(&e)));
        assert!(d.message.contains(key) && d.message.contains("cannot be overridden"), "{d}");
        assert!(d.hint.is_some(), "{d}");
    }
    // a key bdp does not own is accepted (and only the three owned ones are errors)
    assert_eq!(e.len(), 3, "{}", all_text(&e));
    let y = cluster("own", "    hdfs:\n      configOverrides:\n        hdfs-site.xml: {dfs.blocksize: \"268435456\"}\n");
    let objs = compile_text("not_owned_key", &y).map_err(|d| all_text(&d)).unwrap();
    assert_eq!(site(&objs, "own-hdfs-namenode", "hdfs-site.xml")["dfs.blocksize"], "268435456");
}

#[test]
fn missing_zookeeper_dependency_names_the_three_ways() {
    let y = cluster("nozk", "    hdfs:\n      roles:\n        namenode: {replicas: 2}\n");
    let e = errors("missing_zookeeper", &y);
    let d = e.iter().find(|d| d.message.contains("ZooKeeper")).unwrap_or_else(|| panic!("{}", all_text(&e)));
    assert_eq!(d.path, "spec.services.hdfs.dependencies");
    let hint = d.hint.as_deref().unwrap_or_default();
    assert!(hint.contains("add `zookeeper:` under spec.services"), "{d}");
    assert!(hint.contains("dependencies.zookeeper.cluster: NAME"), "{d}");
    assert!(hint.contains("dependencies.zookeeper.configMap: {name: NAME, key: KEY}"), "{d}");
    // a dependency on a Cluster that is not among the inputs is also explained
    let y = cluster("nozk", "    hdfs:\n      dependencies:\n        zookeeper: {cluster: gone}\n      roles:\n        namenode: {replicas: 2}\n");
    let e = errors("zookeeper_cluster_missing", &y);
    assert!(e.iter().any(|d| d.path == "spec.services.hdfs.dependencies.zookeeper" && d.message.contains("gone")), "{}", all_text(&e));
}

#[test]
fn dependency_on_another_cluster_inlines_its_connection_string() {
    let objs = example("hdfs-shared-zk.yaml");
    let core = site(&objs, "warehouse-hdfs-namenode", "core-site.xml");
    let zk = fqdns("coord-zookeeper-server", "platform", 3, 2181);
    assert_eq!(core["ha.zookeeper.quorum"], zk.join(","));
    // nothing is read at runtime, and the other Cluster's ZooKeeper starts first
    let sts = find(&objs, "StatefulSet", "warehouse-hdfs-namenode");
    let env = serde_json::to_string(&pod_spec(sts)["containers"]).unwrap();
    assert!(!env.contains("DEP_ZOOKEEPER") && !env.contains("configMapKeyRef"), "{env}");
    assert!(find(&objs, "StatefulSet", "coord-zookeeper-server").wave < find(&objs, "StatefulSet", "warehouse-hdfs-journalnode").wave);
    // 2 namenodes: 2 ids, 3 journalnodes
    let hdfs = site(&objs, "warehouse-hdfs-namenode", "hdfs-site.xml");
    assert_eq!(hdfs["dfs.ha.namenodes.warehouse"], "warehouse-hdfs-namenode-0,warehouse-hdfs-namenode-1");
    assert_eq!(hdfs["dfs.namenode.shared.edits.dir"].matches(":8485").count(), 3);
}

#[test]
fn dependency_on_a_configmap_is_read_at_runtime() {
    let objs = example("hdfs-configmap-zk.yaml");
    let core = site(&objs, "lake-hdfs-namenode", "core-site.xml");
    assert_eq!(core["ha.zookeeper.quorum"], "${env.DEP_ZOOKEEPER}");
    let ps = pod_spec(find(&objs, "StatefulSet", "lake-hdfs-namenode"));
    let zkfc = ps["containers"].as_array().unwrap().iter().find(|c| c["name"] == "zkfc").unwrap();
    let e = zkfc["env"].as_array().unwrap().iter().find(|e| e["name"] == "DEP_ZOOKEEPER").expect("DEP_ZOOKEEPER in zkfc");
    assert_eq!(e["valueFrom"]["configMapKeyRef"]["name"], "quorum-zookeeper-discovery");
    assert_eq!(e["valueFrom"]["configMapKeyRef"]["key"], "ZOOKEEPER");
    // the ConfigMap it names exists among the outputs and holds the servers
    let zk = fqdns("quorum-zookeeper-server", "data", 3, 2181);
    assert_eq!(data(find(&objs, "ConfigMap", "quorum-zookeeper-discovery"), "ZOOKEEPER"), zk.join(","));
}

#[test]
fn decommission_writes_the_exclude_file_and_is_checked() {
    let y = cluster(
        "dec",
        "    hdfs:\n      decommission: [dec-hdfs-datanode-3]\n      roles:\n        datanode: {replicas: 4}\n",
    );
    let objs = compile_text("decommission", &y).map_err(|d| all_text(&d)).unwrap();
    let ex = data(find(&objs, "ConfigMap", "dec-hdfs-namenode"), "dfs.exclude");
    let hosts: Vec<&str> = ex.lines().filter(|l| !l.trim().is_empty() && !l.starts_with('#')).collect();
    assert_eq!(hosts, ["dec-hdfs-datanode-3.dec-hdfs-datanode.t.svc.cluster.local"]);
    // the exclude file needs no restart: the namenode pods keep their config checksum
    let plain = cluster("dec", "    hdfs:\n      roles:\n        datanode: {replicas: 4}\n");
    let before = compile_text("decommission_before", &plain).map_err(|d| all_text(&d)).unwrap();
    let sum = |o: &[Object]| find(o, "StatefulSet", "dec-hdfs-namenode").body["spec"]["template"]["metadata"]["annotations"].clone();
    assert_eq!(sum(&objs), sum(&before));

    // too many, or pods that are not datanodes, are refused
    let y = cluster("dec", "    hdfs:\n      decommission: [dec-hdfs-datanode-2, dec-hdfs-datanode-3]\n      roles:\n        datanode: {replicas: 4}\n");
    let e = errors("decommission_too_many", &y);
    assert!(e.iter().any(|d| d.path == "spec.services.hdfs.decommission" && d.message.contains("never finish")), "{}", all_text(&e));
    let y = cluster("dec", "    hdfs:\n      decommission: [dec-hdfs-datanode-9]\n      roles:\n        datanode: {replicas: 4}\n");
    let e = errors("decommission_unknown_pod", &y);
    assert!(e.iter().any(|d| d.message.contains("dec-hdfs-datanode-9")), "{}", all_text(&e));
}

#[test]
fn nameservice_setting_names_the_filesystem() {
    let y = cluster(
        "ns",
        "    zookeeper:\n    hdfs:\n      nameservice: hdfs\n      roles:\n        namenode: {replicas: 2}\n",
    );
    let objs = compile_text("nameservice", &y).map_err(|d| all_text(&d)).unwrap();
    let hdfs = site(&objs, "ns-hdfs-datanode", "hdfs-site.xml");
    assert_eq!(hdfs["dfs.nameservices"], "hdfs");
    assert!(hdfs.contains_key("dfs.namenode.rpc-address.hdfs.ns-hdfs-namenode-1"));
    assert_eq!(site(&objs, "ns-hdfs-datanode", "core-site.xml")["fs.defaultFS"], "hdfs://hdfs");
    let y = cluster("ns", "    zookeeper:\n    hdfs:\n      nameservice: my.fs\n      roles:\n        namenode: {replicas: 2}\n");
    let e = errors("nameservice_invalid", &y);
    assert!(e.iter().any(|d| d.path == "spec.services.hdfs.nameservice"), "{}", all_text(&e));
}

#[test]
fn review_findings_datanode_ipc_open_to_clients_and_no_namenode_http_service() {
    let objs = example("hdfs-ha.yaml");
    // readers elsewhere call getReplicaVisibleLength on the datanode IPC port: open like 9866
    let np = find(&objs, "NetworkPolicy", "analytics-hdfs-datanode");
    let ingress = np.body["spec"]["ingress"].as_array().unwrap();
    let open_to_all: Vec<i64> = ingress
        .iter()
        .filter(|r| r["from"].is_null())
        .flat_map(|r| r["ports"].as_array().unwrap().iter().map(|p| p["port"].as_i64().unwrap()))
        .collect();
    for port in [9866, 9864, 9867] {
        assert!(open_to_all.contains(&port), "port {port} not open to clients: {ingress:?}");
    }
    // the balancing namenode HTTP Service (onto standbys, and no HTTP/ principal for its name) is gone
    assert!(!has(&objs, "Service", "analytics-hdfs-namenode-http"));
    let seed = example("seed.yaml");
    assert!(!has(&seed, "Service", "seed-hdfs-namenode-http"));
    let cert = find(&seed, "Certificate", "seed-hdfs-namenode-tls");
    assert!(!cert.body.to_string().contains("namenode-http"), "{}", cert.body);
}

#[test]
fn pods_spread_over_nodes_and_zones_with_a_per_role_setting() {
    let objs = example("hdfs-ha.yaml");
    let pod = |o: &[Object], n: &str| pod_spec(find(o, "StatefulSet", n)).clone();
    // quorum members and HA namenodes: never two on one node; datanodes: preferably not
    for sts in ["analytics-hdfs-namenode", "analytics-hdfs-journalnode", "analytics-zookeeper-server"] {
        let ps = pod(&objs, sts);
        let req = &ps["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"];
        assert_eq!(req[0]["topologyKey"], "kubernetes.io/hostname", "{sts}: {ps}");
        assert_eq!(req[0]["labelSelector"]["matchLabels"], find(&objs, "StatefulSet", sts).body["spec"]["selector"]["matchLabels"]);
        assert_eq!(ps["topologySpreadConstraints"][0]["topologyKey"], "topology.kubernetes.io/zone");
        assert_eq!(ps["topologySpreadConstraints"][0]["whenUnsatisfiable"], "ScheduleAnyway");
    }
    let dn = pod(&objs, "analytics-hdfs-datanode");
    assert!(dn["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"].is_null());
    let pref = &dn["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0];
    assert_eq!(pref["weight"], 100);
    assert_eq!(pref["podAffinityTerm"]["topologyKey"], "kubernetes.io/hostname");
    assert_eq!(dn["topologySpreadConstraints"][0]["whenUnsatisfiable"], "ScheduleAnyway");
    // a single-node development cluster relaxes it per role
    let dev = compile_text("dev", &cluster("dev", "    zookeeper:\n      roles:\n        server: {placement: {spread: preferred}}\n    hdfs:\n      roles:\n        datanode: {replicas: 3, placement: {spread: none}}\n")).unwrap();
    let zk = pod(&dev, "dev-zookeeper-server");
    assert!(zk["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"].is_null(), "{zk}");
    assert!(zk["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"].is_array());
    let d = pod(&dev, "dev-hdfs-datanode");
    assert!(d["affinity"].is_null() && d["topologySpreadConstraints"].is_null(), "{d}");
    // anything else is refused with the choices
    let e = match compile_text("badspread", &cluster("b", "    zookeeper:\n      roles:\n        server: {placement: {spread: always}}\n")) {
        Ok(_) => panic!("compiled"),
        Err(d) => d,
    };
    assert!(e.iter().any(|d| d.path.contains("placement") && d.to_string().contains("required")), "{e:?}");
}

#[test]
fn datanode_racks_render_a_topology_table_and_script_for_the_namenodes_only() {
    // off by default: no topology key, file or init container
    let y = cluster("r", "    zookeeper:\n    hdfs:\n      roles:\n        namenode: {replicas: 2}\n");
    let objs = compile_text("racks_off", &y).map_err(|d| all_text(&d)).unwrap();
    assert!(!site(&objs, "r-hdfs-namenode", "core-site.xml").contains_key("net.topology.script.file.name"));
    let cm = find(&objs, "ConfigMap", "r-hdfs-namenode");
    assert!(cm.body["data"].get("topology.table").is_none());
    let sts = find(&objs, "StatefulSet", "r-hdfs-namenode");
    assert!(!names(&pod_spec(sts)["initContainers"]).contains(&"topology".to_string()));

    // on: the table maps each datanode FQDN to its item, the namenode runs the script from /tmp
    let objs = example("hdfs-ha.yaml");
    let nn = "analytics-hdfs-namenode";
    assert_eq!(site(&objs, nn, "core-site.xml")["net.topology.script.file.name"], "/tmp/topology.sh");
    let table = data(find(&objs, "ConfigMap", nn), "topology.table");
    let rows: Vec<&str> = table.lines().filter(|l| !l.starts_with('#') && !l.is_empty()).collect();
    let dn = fqdns("analytics-hdfs-datanode", "bigdata", 4, 0);
    let want: Vec<String> =
        dn.iter().zip(["/zone-a", "/zone-b", "/zone-c", "/zone-a"]).map(|(h, r)| format!("{} {r}", h.trim_end_matches(":0"))).collect();
    assert_eq!(rows, want);
    assert!(data(find(&objs, "ConfigMap", nn), "topology.sh").contains("getent ahosts"));
    let init = &pod_spec(find(&objs, "StatefulSet", nn))["initContainers"];
    let t = init.as_array().unwrap().iter().find(|c| c["name"] == "topology").expect("topology init container");
    assert_eq!(t["command"], serde_json::json!(["install", "-m", "0755", "/etc/hadoop/conf/topology.sh", "/tmp/topology.sh"]));
    // the datanodes and journalnodes neither need nor get it
    for r in ["analytics-hdfs-datanode", "analytics-hdfs-journalnode"] {
        assert!(find(&objs, "ConfigMap", r).body["data"].get("topology.table").is_none(), "{r}");
        assert!(!site(&objs, r, "core-site.xml").contains_key("net.topology.script.file.name"), "{r}");
    }

    // a rack that is not a topology path is refused at its item; too few racks name the first pod without one
    let y = cluster("r", "    hdfs:\n      datanodeRacks: [/a, \"/b c\", /d]\n");
    let e = errors("racks_bad_path", &y);
    assert!(e.iter().any(|d| d.path == "spec.services.hdfs.datanodeRacks.1" && d.message.contains("not a topology path")), "{}", all_text(&e));
    let y = cluster("r", "    hdfs:\n      datanodeRacks: [/a]\n");
    let e = errors("racks_too_few", &y);
    assert!(e.iter().any(|d| d.path == "spec.services.hdfs.datanodeRacks" && d.message.contains("r-hdfs-datanode-1")), "{}", all_text(&e));
}
