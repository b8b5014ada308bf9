//! The `hive` service (Hive Metastore) of stack hadoop-3.3, compiled through the library: the
//! example's wiring (JDBC URL, warehouse on the HDFS, init containers in order, the Secret read
//! at runtime and never rendered, discovery), secure mode, MySQL, and the Clusters bdp refuses
//! with the field and a hint. The rendered pods run for real in tests/e2e/podrun/hive.sh.

use bdp::render::Object;

mod common;
use common::*;
use serde_json::Value;

fn xml(text: &str, key: &str) -> Option<String> {
    let at = text.find(&format!("<name>{key}</name>"))?;
    let rest = &text[at..];
    let v = &rest[rest.find("<value>")? + 7..rest.find("</value>")?];
    Some(v.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&amp;", "&"))
}

fn pod(o: &Object) -> &Value {
    &o.body["spec"]["template"]["spec"]
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array().map(|a| a.iter().map(|c| c["name"].as_str().unwrap()).collect()).unwrap_or_default()
}

const HDFS: &str = "    hdfs:\n      configOverrides: {hdfs-site.xml: {dfs.replication: '1'}}\n      roles: {namenode: {replicas: 1}, datanode: {replicas: 1}}\n";

fn hive(extra: &str) -> String {
    format!("{HDFS}    hive:\n      databaseHost: pg.db.svc.cluster.local\n      databaseSecret: hms-db\n      jdbcDriverImage: registry.example.com/jdbc/postgresql:42.7.4\n      jdbcDriverPath: /jdbc/postgresql-42.7.4.jar\n{extra}")
}

fn messages(d: &[bdp::diag::Diagnostic]) -> Vec<String> {
    d.iter().map(|x| x.to_string()).collect()
}

#[test]
fn example_wires_database_warehouse_and_discovery() {
    let o = example("hive.yaml");
    let cm = find(&o, "ConfigMap", "warehouse-hive-metastore");
    let site = data(cm, "hive-site.xml");
    assert_eq!(xml(site, "javax.jdo.option.ConnectionURL").unwrap(), "jdbc:postgresql://metastore-db.example.com:5432/metastore");
    assert_eq!(xml(site, "javax.jdo.option.ConnectionDriverName").unwrap(), "org.postgresql.Driver");
    assert_eq!(xml(site, "javax.jdo.option.ConnectionPassword").unwrap(), "${env.HIVE_DB_PASSWORD}");
    assert_eq!(xml(site, "javax.jdo.option.ConnectionUserName").unwrap(), "${env.HIVE_DB_USER}");
    assert_eq!(
        xml(site, "hive.metastore.warehouse.dir").unwrap(),
        "hdfs://warehouse-hdfs-namenode-0.warehouse-hdfs-namenode.sandbox.svc.cluster.local:8020/user/hive/warehouse"
    );
    assert_eq!(xml(site, "hive.metastore.sasl.enabled"), None, "no SASL without kerberos");
    let sts = find(&o, "StatefulSet", "warehouse-hive-metastore");
    assert_eq!(sts.body["spec"]["podManagementPolicy"], "OrderedReady", "one schema init at a time");
    assert_eq!(names(&pod(sts)["initContainers"]), ["jdbc-driver", "warehouse", "schema"]);
    let schema = &pod(sts)["initContainers"][2];
    let script = schema["command"][2].as_str().unwrap();
    assert!(script.contains("exec schematool -dbType \"$DB_TYPE\" -initOrUpgradeSchema"), "{script}");
    assert!(schema["env"].as_array().unwrap().iter().any(|e| e["name"] == "DB_TYPE" && e["value"] == "postgres"));
    // the credentials come from the user's Secret at runtime, as files, only where needed
    let vols = pod(sts)["volumes"].as_array().unwrap();
    let db = vols.iter().find(|v| v["name"] == "db-credentials").unwrap();
    assert_eq!(db["secret"]["secretName"], "hive-metastore-db");
    for (i, c) in pod(sts)["initContainers"].as_array().unwrap().iter().chain(pod(sts)["containers"].as_array().unwrap()).enumerate() {
        let mounted = c["volumeMounts"].as_array().unwrap().iter().any(|m| m["name"] == "db-credentials");
        assert_eq!(mounted, matches!(c["name"].as_str().unwrap(), "schema" | "metastore"), "container {i} {}", c["name"]);
    }
    assert!(!o.iter().any(|x| x.kind == "Secret"), "no Secret is rendered");
    // HDFS's client configuration from its discovery ConfigMap
    let vols = pod(sts)["volumes"].as_array().unwrap();
    let hc = vols.iter().find(|v| v["name"] == "hdfs-client").unwrap();
    assert_eq!(hc["configMap"]["name"], "warehouse-hdfs-discovery");
    let disc = find(&o, "ConfigMap", "warehouse-hive-discovery");
    assert_eq!(
        data(disc, "HIVE"),
        "thrift://warehouse-hive-metastore-0.warehouse-hive-metastore.sandbox.svc.cluster.local:9083,thrift://warehouse-hive-metastore-1.warehouse-hive-metastore.sandbox.svc.cluster.local:9083"
    );
    find(&o, "PodDisruptionBudget", "warehouse-hive-metastore");
    find(&o, "NetworkPolicy", "warehouse-hive-metastore");
}

#[test]
fn mysql_and_a_driver_in_the_image() {
    let text = cluster("my", &format!("{HDFS}    hive:\n      databaseType: mysql\n      databaseHost: 10.1.2.3\n      databasePort: 3307\n      databaseName: hive_ms\n      databaseSecret: hms-db\n      jdbcDriverInImage: true\n"));
    let o = compile_text("mysql", &text).unwrap_or_else(|d| panic!("{:#?}", messages(&d)));
    let site = data(find(&o, "ConfigMap", "my-hive-metastore"), "hive-site.xml");
    assert_eq!(xml(site, "javax.jdo.option.ConnectionURL").unwrap(), "jdbc:mysql://10.1.2.3:3307/hive_ms");
    assert_eq!(xml(site, "javax.jdo.option.ConnectionDriverName").unwrap(), "com.mysql.cj.jdbc.Driver");
    let sts = find(&o, "StatefulSet", "my-hive-metastore");
    assert_eq!(names(&pod(sts)["initContainers"]), ["warehouse", "schema"]);
    assert!(pod(sts)["initContainers"][1]["env"].as_array().unwrap().iter().any(|e| e["name"] == "DB_TYPE" && e["value"] == "mysql"));
}

#[test]
fn secure_metastore_has_a_keytab_and_sasl() {
    let text = cluster(
        "sec",
        &format!("    kerberos:\n      realm: EXAMPLE.COM\n      adminSecret: kdc-admin\n{}", hive("")),
    );
    let o = compile_text("secure", &text).unwrap_or_else(|d| panic!("{:#?}", messages(&d)));
    let site = data(find(&o, "ConfigMap", "sec-hive-metastore"), "hive-site.xml");
    assert_eq!(xml(site, "hive.metastore.sasl.enabled").unwrap(), "true");
    assert_eq!(xml(site, "hive.metastore.kerberos.principal").unwrap(), "hive/sec-hive-metastore.t.svc.cluster.local@EXAMPLE.COM");
    assert_eq!(xml(site, "hive.metastore.kerberos.keytab.file").unwrap(), "/etc/security/keytabs/hive.keytab");
    let sts = find(&o, "StatefulSet", "sec-hive-metastore");
    assert_eq!(names(&pod(sts)["initContainers"]), ["jdbc-driver", "keytab", "warehouse", "schema"]);
    let keytab = &pod(sts)["initContainers"][1];
    let env = keytab["env"].as_array().unwrap();
    assert!(env.iter().any(|e| e["name"] == "KRB_PRINCIPALS" && e["value"] == "hive/sec-hive-metastore.t.svc.cluster.local"));
    let warehouse = &pod(sts)["initContainers"][2];
    assert!(warehouse["env"].as_array().unwrap().iter().any(|e| e["name"] == "HADOOP_USER_NAME" && e["value"] == ""), "no impersonation with Kerberos");
    // the realm's provisioner may create hive/ principals (kadm5.acl from vars.kerberos)
    let acl = data(find(&o, "ConfigMap", "sec-kerberos-kdc"), "kadm5.acl");
    assert!(acl.contains("hive/"), "{acl}");
}

#[test]
fn missing_database_settings_are_refused_with_hints() {
    let d = errors("missing", &cluster("m", &format!("{HDFS}    hive:\n")));
    let m = messages(&d);
    for (field, words) in [
        ("spec.services.hive.databaseHost", "needs its database's host"),
        ("spec.services.hive.databaseSecret", "needs the Secret with its database user and password"),
        ("spec.services.hive.jdbcDriverImage", "has no JDBC driver for postgres"),
    ] {
        assert!(m.iter().any(|e| e.contains(field) && e.contains(words)), "{field}: {m:#?}");
    }
    assert!(m.iter().any(|e| e.contains("kubectl create secret generic")), "{m:#?}");
}

#[test]
fn bad_values_are_refused_at_their_field() {
    for (name, extra, field, words) in [
        ("type", "      databaseType: oracle\n", "databaseType", "must be postgres or mysql"),
        ("port", "      databasePort: 70000\n", "databasePort", "from 1 to 65535"),
        ("path", "      warehouseDir: warehouse\n", "warehouseDir", "absolute HDFS path"),
    ] {
        let text = cluster("b", &hive(extra));
        let m = messages(&errors(name, &text));
        assert!(m.iter().any(|e| e.contains(field) && e.contains(words)), "{name}: {m:#?}");
    }
    // types: a host with a port, a database name that is not an identifier
    let text = cluster("b", &format!("{HDFS}    hive:\n      databaseHost: 'pg:5432'\n      databaseName: my-db\n      databaseSecret: s\n      jdbcDriverInImage: true\n"));
    let m = messages(&errors("types", &text));
    assert!(m.iter().any(|e| e.contains("databaseHost") && e.contains("give the host alone")), "{m:#?}");
    assert!(m.iter().any(|e| e.contains("databaseName") && e.contains("`-`")), "{m:#?}");
    let text = cluster("b", &hive("      jdbcDriverPath: jdbc.jar\n").replace("      jdbcDriverPath: /jdbc/postgresql-42.7.4.jar\n", ""));
    let m = messages(&errors("driverpath", &text));
    assert!(m.iter().any(|e| e.contains("jdbcDriverPath") && e.contains("absolute path of a jar")), "{m:#?}");
}

#[test]
fn hdfs_is_required_and_must_not_be_a_configmap() {
    let text = cluster("n", "    hive:\n      databaseHost: pg\n      databaseSecret: s\n      jdbcDriverInImage: true\n");
    let m = messages(&errors("nohdfs", &text));
    assert!(m.iter().any(|e| e.contains("hdfs")), "{m:#?}");
    let text = cluster("c", "    hive:\n      databaseHost: pg\n      databaseSecret: s\n      jdbcDriverInImage: true\n      dependencies:\n        hdfs: {configMap: {name: other-hdfs}}\n");
    let m = messages(&errors("cmhdfs", &text));
    assert!(m.iter().any(|e| e.contains("dependencies.hdfs") && (e.contains("ConfigMap") || e.contains("cannot be read from a ConfigMap"))), "{m:#?}");
}
