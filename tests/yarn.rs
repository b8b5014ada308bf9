//! The `yarn` service of stack hadoop-3.3 (YARN with the MapReduce JobHistory server), compiled
//! through the library: the HA example (2 ResourceManagers through ZooKeeper, NodeManagers sized
//! by their pods' limits, an HA HDFS client view), a single RM, an HDFS of another Cluster, the
//! secure mode, and what bdp refuses (tests/inputs/yarn-checks.yaml has the messages).


mod common;
use common::*;

const HDFS1: &str = "    hdfs: {roles: {namenode: {replicas: 1}, datanode: {replicas: 1}}, configOverrides: {hdfs-site.xml: {dfs.replication: \"1\"}}}\n";

#[test]
fn ha_example_wires_the_resourcemanagers_zookeeper_and_hdfs() {
    let objs = example("yarn.yaml");
    let rm = "compute-yarn-resourcemanager";
    let yarn = site(&objs, rm, "yarn-site.xml");
    let ids: Vec<String> = (0..2).map(|i| format!("{rm}-{i}")).collect();
    assert_eq!(yarn["yarn.resourcemanager.ha.enabled"], "true");
    assert_eq!(yarn["yarn.resourcemanager.ha.rm-ids"], ids.join(","));
    assert_eq!(yarn["yarn.resourcemanager.ha.id"], "${env.POD_NAME}");
    for id in &ids {
        assert_eq!(yarn[&format!("yarn.resourcemanager.hostname.{id}")], format!("{id}.{rm}.bigdata.svc.cluster.local"));
        assert_eq!(yarn[&format!("yarn.resourcemanager.webapp.address.{id}")], format!("{id}.{rm}.bigdata.svc.cluster.local:8088"));
    }
    let zk: Vec<String> = (0..3).map(|i| format!("compute-zookeeper-server-{i}.compute-zookeeper-server.bigdata.svc.cluster.local:2181")).collect();
    assert_eq!(yarn["hadoop.zk.address"], zk.join(","));
    assert_eq!(yarn["yarn.resourcemanager.recovery.enabled"], "true");
    assert_eq!(yarn["yarn.resourcemanager.store.class"], "org.apache.hadoop.yarn.server.resourcemanager.recovery.ZKRMStateStore");
    assert_eq!(yarn["yarn.resourcemanager.zk-state-store.parent-path"], "/rmstore/bigdata/compute");
    assert_eq!(yarn["yarn.resourcemanager.ha.automatic-failover.zk-base-path"], "/yarn-leader-election/bigdata");
    assert!(!yarn.contains_key("yarn.resourcemanager.hostname"));
    // the RM's own keys are not in the other roles' files
    let jhs_yarn = site(&objs, "compute-yarn-jobhistory", "yarn-site.xml");
    assert!(!jhs_yarn.contains_key("yarn.resourcemanager.ha.id"));
    assert_eq!(jhs_yarn["yarn.resourcemanager.ha.rm-ids"], ids.join(","));

    // the HA HDFS of the same Cluster, as a client sees it
    let core = site(&objs, rm, "core-site.xml");
    assert_eq!(core["fs.defaultFS"], "hdfs://compute");
    let hdfs = site(&objs, rm, "hdfs-site.xml");
    assert_eq!(hdfs["dfs.nameservices"], "compute");
    assert_eq!(hdfs["dfs.ha.namenodes.compute"], "compute-hdfs-namenode-0,compute-hdfs-namenode-1");
    assert_eq!(
        hdfs["dfs.namenode.rpc-address.compute.compute-hdfs-namenode-1"],
        "compute-hdfs-namenode-1.compute-hdfs-namenode.bigdata.svc.cluster.local:8020"
    );
    assert_eq!(hdfs["dfs.client.failover.proxy.provider.compute"], "org.apache.hadoop.hdfs.server.namenode.ha.ConfiguredFailoverProxyProvider");

    // MapReduce: the JobHistory server and its directories
    let mapred = site(&objs, rm, "mapred-site.xml");
    assert_eq!(mapred["mapreduce.framework.name"], "yarn");
    assert_eq!(mapred["mapreduce.jobhistory.address"], "compute-yarn-jobhistory-0.compute-yarn-jobhistory.bigdata.svc.cluster.local:10020");
    assert_eq!(mapred["mapreduce.shuffle.port"], "13562");

    // discovery: the RMs' addresses and the client files
    let disc = find(&objs, "ConfigMap", "compute-yarn-discovery");
    let rpc: Vec<String> = ids.iter().map(|id| format!("{id}.{rm}.bigdata.svc.cluster.local:8032")).collect();
    assert_eq!(data(disc, "YARN"), rpc.join(","));
    assert_eq!(data(disc, "MAPREDUCE_JOBHISTORY_HTTP"), "compute-yarn-jobhistory-0.compute-yarn-jobhistory.bigdata.svc.cluster.local:19888");
    for f in ["core-site.xml", "hdfs-site.xml", "yarn-site.xml", "mapred-site.xml"] {
        assert!(data(disc, f).contains("<configuration>"), "{f}");
    }
    // the RMs never share a node; the NodeManagers' containers' ports are open to the namespace
    let sts = find(&objs, "StatefulSet", rm);
    assert!(sts.body["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"].is_array());
    let np = find(&objs, "NetworkPolicy", "compute-yarn-nodemanager-containers");
    assert_eq!(np.body["spec"]["ingress"][0]["ports"][0]["endPort"], 60999);
}

#[test]
fn nodemanager_resources_come_from_the_pods_limits() {
    let objs = example("yarn.yaml");
    let nm = site(&objs, "compute-yarn-nodemanager", "yarn-site.xml");
    // 8Gi limit - 512 MiB heap - 256 MiB overhead; 4 CPUs
    assert_eq!(nm["yarn.nodemanager.resource.memory-mb"], "7424");
    assert_eq!(nm["yarn.nodemanager.resource.cpu-vcores"], "4");
    assert_eq!(nm["yarn.nodemanager.local-dirs"], "/data/local");
    assert_eq!(nm["yarn.nodemanager.log-dirs"], "/data/logs");
    assert_eq!(nm["yarn.nodemanager.aux-services"], "mapreduce_shuffle");
    assert_eq!(nm["yarn.nodemanager.container-executor.class"], "org.apache.hadoop.yarn.server.nodemanager.DefaultContainerExecutor");
    let env = data(find(&objs, "ConfigMap", "compute-yarn-nodemanager"), "hadoop-env.sh");
    assert!(env.contains("export YARN_NODEMANAGER_OPTS='-Xmx512m'"), "{env}");

    // fractional CPU limits round up, memory in other units converts; the settings move the split
    let text = cluster(
        "sized",
        &format!(
            "{HDFS1}    yarn:\n      nodemanagerHeapMb: 1024\n      nodemanagerOverheadMb: 512\n      roles:\n        nodemanager:\n          resources: {{limits: {{cpu: 1500m, memory: 6G}}, requests: {{cpu: 500m, memory: 6G}}}}\n"
        ),
    );
    let objs = compile_text("sized", &text).unwrap_or_else(|d| panic!("{d:?}"));
    let nm = site(&objs, "sized-yarn-nodemanager", "yarn-site.xml");
    // 6e9 bytes = 5722.04 MiB, - 1024 - 512
    assert_eq!(nm["yarn.nodemanager.resource.memory-mb"], "4186");
    assert_eq!(nm["yarn.nodemanager.resource.cpu-vcores"], "2");
}

#[test]
fn single_resourcemanager_needs_no_zookeeper() {
    let text = cluster("solo", &format!("{HDFS1}    yarn:\n"));
    let objs = compile_text("solo", &text).unwrap_or_else(|d| panic!("{d:?}"));
    let yarn = site(&objs, "solo-yarn-resourcemanager", "yarn-site.xml");
    assert_eq!(yarn["yarn.resourcemanager.hostname"], "solo-yarn-resourcemanager-0.solo-yarn-resourcemanager.t.svc.cluster.local");
    for k in ["yarn.resourcemanager.ha.enabled", "hadoop.zk.address", "yarn.resourcemanager.recovery.enabled", "yarn.resourcemanager.ha.id"] {
        assert!(!yarn.contains_key(k), "{k}");
    }
    let core = site(&objs, "solo-yarn-resourcemanager", "core-site.xml");
    assert_eq!(core["fs.defaultFS"], "hdfs://solo-hdfs-namenode-0.solo-hdfs-namenode.t.svc.cluster.local:8020");
    let hdfs = site(&objs, "solo-yarn-resourcemanager", "hdfs-site.xml");
    assert!(hdfs.is_empty(), "{hdfs:?}");
    assert!(!objs.iter().any(|o| o.kind == "Job" && o.name.contains("service-state")));
}

#[test]
fn hdfs_and_zookeeper_of_another_cluster() {
    let text = format!(
        "{}\n---\n{}",
        cluster("storage", "    zookeeper:\n    hdfs:\n      nameservice: lake\n      roles: {namenode: {replicas: 2}, journalnode: {replicas: 3}, datanode: {replicas: 3}}\n"),
        cluster(
            "batch",
            "    yarn:\n      dependencies:\n        hdfs: {cluster: storage}\n        zookeeper: {cluster: storage}\n      roles: {resourcemanager: {replicas: 2}}\n"
        )
    );
    let objs = compile_text("other", &text).unwrap_or_else(|d| panic!("{d:?}"));
    let hdfs = site(&objs, "batch-yarn-nodemanager", "hdfs-site.xml");
    assert_eq!(hdfs["dfs.nameservices"], "lake");
    assert_eq!(hdfs["dfs.ha.namenodes.lake"], "storage-hdfs-namenode-0,storage-hdfs-namenode-1");
    assert_eq!(hdfs["dfs.namenode.rpc-address.lake.storage-hdfs-namenode-0"], "storage-hdfs-namenode-0.storage-hdfs-namenode.t.svc.cluster.local:8020");
    let core = site(&objs, "batch-yarn-nodemanager", "core-site.xml");
    assert_eq!(core["fs.defaultFS"], "hdfs://lake");
    let yarn = site(&objs, "batch-yarn-resourcemanager", "yarn-site.xml");
    assert!(yarn["hadoop.zk.address"].starts_with("storage-zookeeper-server-0.storage-zookeeper-server.t.svc.cluster.local:2181"));
}

#[test]
fn secure_mode_has_a_principal_per_role_and_spnego() {
    let text = cluster(
        "sec",
        "    kerberos:\n      realm: EXAMPLE.COM\n    zookeeper:\n    hdfs:\n      roles: {namenode: {replicas: 1}, datanode: {replicas: 3}}\n    yarn:\n      roles: {resourcemanager: {replicas: 2}}\n",
    );
    let objs = compile_text("sec", &text).unwrap_or_else(|d| panic!("{d:?}"));
    let rm = site(&objs, "sec-yarn-resourcemanager", "yarn-site.xml");
    assert_eq!(rm["yarn.resourcemanager.principal"], "yarn/sec-yarn-resourcemanager.t.svc.cluster.local@EXAMPLE.COM");
    assert_eq!(rm["yarn.nodemanager.principal"], "yarn/sec-yarn-nodemanager.t.svc.cluster.local@EXAMPLE.COM");
    assert_eq!(rm["mapreduce.jobhistory.principal"], "mapred/sec-yarn-jobhistory.t.svc.cluster.local@EXAMPLE.COM");
    assert_eq!(rm["yarn.resourcemanager.keytab"], "/etc/security/keytabs/yarn.keytab");
    assert_eq!(rm["yarn.resourcemanager.webapp.spnego-principal"], "*");
    assert_eq!(rm["hadoop.zk.acl"], "sasl:yarn:rwcda");
    let core = site(&objs, "sec-yarn-resourcemanager", "core-site.xml");
    assert_eq!(core["hadoop.security.authentication"], "kerberos");
    assert_eq!(core["hadoop.http.authentication.type"], "kerberos");
    let hdfs = site(&objs, "sec-yarn-resourcemanager", "hdfs-site.xml");
    assert_eq!(hdfs["dfs.namenode.kerberos.principal"], "nn/sec-hdfs-namenode.t.svc.cluster.local@EXAMPLE.COM");
    let env = data(find(&objs, "ConfigMap", "sec-yarn-resourcemanager"), "hadoop-env.sh");
    assert!(env.contains("-Djava.security.auth.login.config=/etc/hadoop/conf/zk-jaas.conf"), "{env}");
    let jaas = data(find(&objs, "ConfigMap", "sec-yarn-resourcemanager"), "zk-jaas.conf");
    assert!(jaas.contains("principal=\"yarn/sec-yarn-resourcemanager.t.svc.cluster.local@EXAMPLE.COM\""), "{jaas}");
    // the keytab init container of each role exports its principals; the KDC lets it
    let sts = find(&objs, "StatefulSet", "sec-yarn-jobhistory");
    let inits = sts.body["spec"]["template"]["spec"]["initContainers"].as_array().unwrap();
    let keytab = inits.iter().find(|c| c["name"] == "keytab").unwrap();
    let principals = keytab["env"].as_array().unwrap().iter().find(|e| e["name"] == "KRB_PRINCIPALS").unwrap()["value"].as_str().unwrap();
    assert_eq!(principals, "mapred/sec-yarn-jobhistory.t.svc.cluster.local HTTP/_HOST");
    let acl = data(find(&objs, "ConfigMap", "sec-kerberos-kdc"), "kadm5.acl");
    assert!(acl.contains("aie  yarn/*@EXAMPLE.COM") && acl.contains("aie  mapred/*@EXAMPLE.COM"), "{acl}");
}

#[test]
fn checks_refuse_what_cannot_run() {
    let text = cluster("noquorum", &format!("{HDFS1}    yarn:\n      roles: {{resourcemanager: {{replicas: 2}}}}\n"));
    let e = errors("noquorum", &text);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].to_string().contains("needs ZooKeeper"), "{}", e[0]);

    let text = cluster("tiny", &format!("{HDFS1}    yarn:\n      roles: {{nodemanager: {{resources: {{requests: {{memory: 512Mi}}, limits: {{memory: 512Mi}}}}}}}}\n"));
    let e = errors("tiny", &text);
    assert!(e.iter().any(|d| d.to_string().contains("leaves nothing")), "{e:?}");

    let text = cluster(
        "am",
        &format!("{HDFS1}    yarn:\n      configOverrides: {{mapred-site.xml: {{yarn.app.mapreduce.am.resource.mb: \"9000\"}}}}\n"),
    );
    let e = errors("am", &text);
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].to_string().contains("ApplicationMaster asks for 9000 MiB"), "{}", e[0]);

    // no HDFS: one error, the missing dependency (nothing of the service is rendered)
    let e = errors("nohdfs", &cluster("nohdfs", "    yarn:\n"));
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(e[0].to_string().contains("needs `hdfs`"), "{}", e[0]);
}
