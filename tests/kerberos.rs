//! The `kerberos` service of stack hadoop-3.3 and secure HDFS, compiled through the library:
//! the seed cluster (`kerberos:`, `zookeeper:`, `hdfs:` with nothing after them) renders a secure
//! cluster, an external realm renders no KDC, no Secret is ever rendered, the KDC starts in an
//! earlier sync wave than HDFS, and the settings bdp refuses. The rendered pieces are run for real
//! by tests/e2e/kerberos/run.sh.

use bdp::render::Object;

mod common;
use common::*;
use serde_json::Value;

/// The value of `key` in a rendered Hadoop XML file, if the key is there.
fn xml(text: &str, key: &str) -> Option<String> {
    let at = text.find(&format!("<name>{key}</name>"))?;
    let rest = &text[at..];
    let v = &rest[rest.find("<value>")? + 7..rest.find("</value>")?];
    Some(v.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&amp;", "&"))
}

fn service_of(o: &Object) -> &str {
    o.body["metadata"]["labels"]["kubebdp.github.io/service"].as_str().unwrap_or_default()
}

fn statefulsets<'a>(objs: &'a [Object], service: &str) -> Vec<&'a Object> {
    objs.iter().filter(|o| o.kind == "StatefulSet" && service_of(o) == service).collect()
}

fn init_containers(sts: &Object) -> &Vec<Value> {
    sts.body["spec"]["template"]["spec"]["initContainers"].as_array().unwrap_or_else(|| panic!("{} has no init containers", sts.name))
}

fn env(c: &Value, name: &str) -> Option<String> {
    c["env"].as_array()?.iter().find(|e| e["name"] == name).and_then(|e| e["value"].as_str()).map(str::to_string)
}

fn wave(o: &Object) -> u32 {
    o.body["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"].as_str().and_then(|w| w.parse().ok()).unwrap_or_else(|| panic!("{} has no sync wave", o.name))
}

#[test]
fn seed_renders_a_secure_cluster() {
    let o = example("seed.yaml");
    // the KDC
    let kdc = find(&o, "StatefulSet", "seed-kerberos-kdc");
    let pod = &kdc.body["spec"]["template"]["spec"];
    let names: Vec<&str> = pod["containers"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["kdc", "kadmind"]);
    assert_eq!(pod["initContainers"][0]["name"], "bootstrap");
    assert_eq!(pod["securityContext"]["sysctls"][0]["name"], "net.ipv4.ip_unprivileged_port_start", "ports 88/464/749 as non-root");
    let kdc_cm = find(&o, "ConfigMap", "seed-kerberos-kdc");
    let kdc_conf = data(kdc_cm, "kdc.conf");
    assert!(kdc_conf.contains("database_name = /var/lib/krb5kdc/principal"), "{kdc_conf}");
    assert!(kdc_conf.contains("max_renewable_life = 7d"), "{kdc_conf}");
    // the provisioner may create and export only the service principals of the realm's services,
    // never an administrator (*/admin, denied before any allow line)
    let acl: Vec<&str> = data(kdc_cm, "kadm5.acl").lines().filter(|l| !l.starts_with('#')).collect();
    let allows: Vec<&str> = acl.iter().copied().filter(|l| l.contains("  aie  ")).collect();
    assert_eq!(allows, [
        "bdp/provisioner@CLUSTER.LOCAL  aie  dn/*@CLUSTER.LOCAL",
        "bdp/provisioner@CLUSTER.LOCAL  aie  HTTP/*@CLUSTER.LOCAL",
        "bdp/provisioner@CLUSTER.LOCAL  aie  jn/*@CLUSTER.LOCAL",
        "bdp/provisioner@CLUSTER.LOCAL  aie  nn/*@CLUSTER.LOCAL",
        "bdp/provisioner@CLUSTER.LOCAL  aie  zookeeper/*@CLUSTER.LOCAL",
    ]);
    let deny_admin = acl.iter().position(|l| *l == "bdp/provisioner@CLUSTER.LOCAL  ADMCILPSE  */admin@CLUSTER.LOCAL").expect("*/admin denied");
    assert!(acl.iter().position(|l| l.contains("  aie  ")).unwrap() > deny_admin, "{acl:?}");
    assert!(!acl.iter().any(|l| l.contains("*/*@")), "{acl:?}");
    // krb5.conf, published for the services
    let krb5 = data(find(&o, "ConfigMap", "seed-kerberos-discovery"), "krb5.conf");
    for line in [
        "default_realm = CLUSTER.LOCAL",
        "rdns = false",
        "dns_canonicalize_hostname = false",
        "renew_lifetime = 7d",
        "allow_weak_crypto = false",
        "kdc = seed-kerberos-kdc-client.bigdata.svc.cluster.local:88",
        "admin_server = seed-kerberos-kdc-client.bigdata.svc.cluster.local:749",
        ".bigdata.svc.cluster.local = CLUSTER.LOCAL",
    ] {
        assert!(krb5.contains(line), "krb5.conf lacks `{line}`:\n{krb5}");
    }
    // secure HDFS: keys
    let nn = find(&o, "ConfigMap", "seed-hdfs-namenode");
    let core = data(nn, "core-site.xml");
    let site = data(nn, "hdfs-site.xml");
    assert_eq!(xml(core, "hadoop.security.authentication").as_deref(), Some("kerberos"));
    assert_eq!(xml(core, "hadoop.security.authorization").as_deref(), Some("true"));
    let a2l = xml(core, "hadoop.security.auth_to_local").unwrap();
    assert!(a2l.contains(r"(nn/seed-hdfs-namenode\.bigdata\.svc\.cluster\.local@CLUSTER\.LOCAL)s/.*/hdfs/"), "{a2l}");
    assert!(a2l.contains(r"(dn/seed-hdfs-datanode\.bigdata\.svc\.cluster\.local@CLUSTER\.LOCAL)s/.*/hdfs/"), "{a2l}");
    assert!(a2l.trim_end().ends_with("DEFAULT"), "{a2l}");
    assert_eq!(xml(site, "dfs.namenode.kerberos.principal").as_deref(), Some("nn/seed-hdfs-namenode.bigdata.svc.cluster.local@CLUSTER.LOCAL"));
    assert_eq!(xml(site, "dfs.datanode.kerberos.principal").as_deref(), Some("dn/seed-hdfs-datanode.bigdata.svc.cluster.local@CLUSTER.LOCAL"));
    assert_eq!(xml(site, "dfs.namenode.keytab.file").as_deref(), Some("/etc/security/keytabs/hdfs.keytab"));
    assert_eq!(xml(site, "dfs.web.authentication.kerberos.principal").as_deref(), Some("*"));
    assert_eq!(xml(site, "dfs.block.access.token.enable").as_deref(), Some("true"));
    assert_eq!(xml(site, "dfs.http.policy").as_deref(), Some("HTTPS_ONLY"));
    assert!(xml(site, "dfs.data.transfer.protection").is_some());
    assert!(xml(site, "dfs.namenode.https-address").is_some_and(|a| a.ends_with(":9870")), "HTTPS on the web port");
    assert!(xml(data(nn, "ssl-server.xml"), "ssl.server.keystore.location").is_some_and(|l| l.starts_with("/etc/hadoop/tls/")));
    assert_eq!(data(nn, "krb5.conf"), krb5, "HDFS pods get the realm's krb5.conf");
    // the HDFS discovery carries what clients need
    let disc = data(find(&o, "ConfigMap", "seed-hdfs-discovery"), "hdfs-site.xml");
    assert!(xml(disc, "dfs.namenode.kerberos.principal").is_some());
    // every HDFS pod: keytab init container first, from the kerberos image; a Certificate per role
    let hdfs = statefulsets(&o, "hdfs");
    assert!(hdfs.len() >= 2);
    let kdc_image = pod["containers"][0]["image"].as_str().unwrap();
    for sts in &hdfs {
        let kt = &init_containers(sts)[0];
        assert_eq!(kt["name"], "keytab", "{}", sts.name);
        assert_eq!(kt["image"].as_str(), Some(kdc_image), "{}", sts.name);
        let principals = env(kt, "KRB_PRINCIPALS").unwrap();
        let role = sts.name.trim_start_matches("seed-hdfs-");
        assert!(principals.contains(&format!("/{}.bigdata.svc.cluster.local", sts.name)), "{principals}");
        assert!(principals.contains("HTTP/_HOST"), "{principals}");
        let cert = find(&o, "Certificate", &format!("{}-tls", sts.name));
        assert_eq!(cert.body["spec"]["secretName"], format!("{}-tls", sts.name));
        assert_eq!(cert.body["spec"]["issuerRef"]["name"], "bdp-ca");
        assert_eq!(cert.body["spec"]["dnsNames"][0], format!("{}-0.{}.bigdata.svc.cluster.local", sts.name, sts.name), "{role}");
        let vols = sts.body["spec"]["template"]["spec"]["volumes"].as_array().unwrap();
        assert!(vols.iter().any(|v| v["secret"]["secretName"] == format!("{}-tls", sts.name)), "{} mounts its TLS Secret", sts.name);
    }
    assert_eq!(env(&init_containers(find(&o, "StatefulSet", "seed-hdfs-namenode"))[0], "KRB_PRINCIPALS").as_deref(),
        Some("nn/seed-hdfs-namenode.bigdata.svc.cluster.local HTTP/_HOST"));
}

#[test]
fn the_admin_secret_reaches_only_the_init_containers_that_need_it() {
    let o = example("seed.yaml");
    for sts in o.iter().filter(|o| o.kind == "StatefulSet") {
        let pod = &sts.body["spec"]["template"]["spec"];
        let vols = pod["volumes"].as_array().cloned().unwrap_or_default();
        let admin: Vec<&Value> = vols.iter().filter(|v| v["secret"]["secretName"] == "seed-kerberos-admin").collect();
        let all = pod["initContainers"].as_array().cloned().unwrap_or_default().into_iter().chain(pod["containers"].as_array().cloned().unwrap_or_default());
        for c in all {
            let mounts = c["volumeMounts"].as_array().cloned().unwrap_or_default();
            let reads = admin.iter().any(|v| mounts.iter().any(|m| m["name"] == v["name"]));
            let should = matches!(c["name"].as_str(), Some("keytab" | "bootstrap"));
            assert_eq!(reads, should, "{}: container {} mounts the admin Secret: {reads}", sts.name, c["name"]);
            assert!(c["env"].as_array().into_iter().flatten().all(|e| e["valueFrom"]["secretKeyRef"].is_null()), "no Secret value in env of {}", c["name"]);
        }
        for v in admin {
            let keys: Vec<&str> = v["secret"]["items"].as_array().unwrap().iter().map(|i| i["key"].as_str().unwrap()).collect();
            let want: &[&str] = if service_of(sts) == "kerberos" { &["master-password", "admin-password"] } else { &["admin-password"] };
            assert_eq!(keys, want, "{}", sts.name);
        }
    }
}

#[test]
fn external_kdc_renders_no_kdc_statefulset() {
    let o = example("kerberos-external.yaml");
    assert!(statefulsets(&o, "kerberos").is_empty(), "an external realm needs no KDC");
    assert!(!o.iter().any(|x| service_of(x) == "kerberos" && matches!(x.kind.as_str(), "Service" | "PersistentVolumeClaim")));
    let disc = o.iter().find(|x| x.kind == "ConfigMap" && service_of(x) == "kerberos" && x.name.ends_with("-discovery")).expect("kerberos discovery");
    let krb5 = data(disc, "krb5.conf");
    assert!(krb5.contains("default_realm = CORP.EXAMPLE.COM"), "{krb5}");
    assert!(krb5.contains("kdc = kdc1.corp.example.com\n") && krb5.contains("kdc = kdc2.corp.example.com:88\n"), "{krb5}");
    assert!(krb5.contains("admin_server = kdc1.corp.example.com:749"), "{krb5}");
    // HDFS is secure against that realm
    let hdfs = statefulsets(&o, "hdfs");
    assert!(!hdfs.is_empty());
    for sts in hdfs {
        let kt = &init_containers(sts)[0];
        assert_eq!(kt["name"], "keytab");
        assert_eq!(env(kt, "KRB_REALM").as_deref(), Some("CORP.EXAMPLE.COM"));
        assert!(env(kt, "KRB_ADMIN_PRINCIPAL").unwrap().ends_with("@CORP.EXAMPLE.COM"));
    }
}

#[test]
fn no_secret_is_rendered() {
    for ex in ["seed.yaml", "secure-hdfs.yaml", "kerberos-external.yaml"] {
        let o = example(ex);
        let secrets: Vec<&str> = o.iter().filter(|x| x.kind == "Secret").map(|x| x.name.as_str()).collect();
        assert!(secrets.is_empty(), "{ex} renders Secrets {secrets:?}");
        // and no credential in a ConfigMap either: the only password-like value is the keystore's,
        // which protects nothing (docs/kerberos.md)
        for cm in o.iter().filter(|x| x.kind == "ConfigMap") {
            let text = cm.body["data"].to_string();
            assert!(!text.contains("master-password\":") && !text.contains("admin-password\":"), "{ex}: {}", cm.name);
        }
    }
}

#[test]
fn kerberos_waves_before_hdfs() {
    for ex in ["seed.yaml", "secure-hdfs.yaml"] {
        let o = example(ex);
        let kdc = statefulsets(&o, "kerberos");
        assert_eq!(kdc.len(), 1, "{ex}");
        let hdfs = statefulsets(&o, "hdfs");
        assert!(!hdfs.is_empty());
        for sts in &hdfs {
            assert!(wave(kdc[0]) < wave(sts), "{ex}: KDC wave {} is not before {} (wave {})", wave(kdc[0]), sts.name, wave(sts));
            let cert = find(&o, "Certificate", &format!("{}-tls", sts.name));
            assert_eq!(wave(cert), wave(sts), "{ex}: a role's Certificate comes with the role");
        }
    }
}

#[test]
fn without_kerberos_hdfs_is_plain() {
    let o = compile_text("plain", &cluster("plain", "    zookeeper:\n    hdfs:\n")).unwrap();
    let nn = find(&o, "ConfigMap", "plain-hdfs-namenode");
    assert!(xml(data(nn, "core-site.xml"), "hadoop.security.authentication").is_none());
    assert!(xml(data(nn, "hdfs-site.xml"), "dfs.namenode.kerberos.principal").is_none());
    assert!(nn.body["data"]["krb5.conf"].is_null() && nn.body["data"]["ssl-server.xml"].is_null());
    assert!(!o.iter().any(|x| x.kind == "Certificate"));
    for sts in statefulsets(&o, "hdfs") {
        let inits = sts.body["spec"]["template"]["spec"]["initContainers"].as_array().cloned().unwrap_or_default();
        assert!(inits.iter().all(|c| c["name"] != "keytab"), "{}", sts.name);
        let vols = sts.body["spec"]["template"]["spec"]["volumes"].as_array().cloned().unwrap_or_default();
        assert!(vols.iter().all(|v| v["secret"].is_null()), "{} mounts a Secret without Kerberos", sts.name);
    }
}

#[test]
fn a_kerberos_of_another_cluster_secures_hdfs() {
    let text = format!(
        "{}---\n{}",
        cluster("realm", "    kerberos:\n      realm: SHARED.EXAMPLE\n      servicePrimaries: [nn, dn, jn, HTTP]\n"),
        cluster("data", "    zookeeper:\n    hdfs:\n      dependencies:\n        kerberos: {cluster: realm}\n")
    );
    let o = compile_text("other", &text).unwrap();
    let acl = data(find(&o, "ConfigMap", "realm-kerberos-kdc"), "kadm5.acl");
    assert!(acl.contains("bdp/provisioner@SHARED.EXAMPLE  aie  nn/*@SHARED.EXAMPLE"), "{acl}");
    // without them, the realm's kadm5.acl would refuse HDFS's principals at runtime: refused here
    let text = format!(
        "{}---\n{}",
        cluster("realm", "    kerberos:\n      realm: SHARED.EXAMPLE\n      servicePrimaries: [nn]\n"),
        cluster("data", "    zookeeper:\n    hdfs:\n      dependencies:\n        kerberos: {cluster: realm}\n")
    );
    let e = match compile_text("other-noacl", &text) { Ok(_) => panic!("compiled"), Err(d) => d };
    let d = e.iter().find(|d| d.message.contains("does not let its provisioner create HDFS principals")).unwrap_or_else(|| panic!("{e:?}"));
    assert!(d.message.contains("jn, dn, HTTP") || d.message.contains("dn") && d.message.contains("HTTP"), "{d:?}");
    assert!(d.hint.as_deref().is_some_and(|h| h.contains("servicePrimaries: [nn, jn, dn, HTTP]")), "{d:?}");
    let nn = find(&o, "ConfigMap", "data-hdfs-namenode");
    assert_eq!(xml(data(nn, "hdfs-site.xml"), "dfs.namenode.kerberos.principal").as_deref(), Some("nn/data-hdfs-namenode.t.svc.cluster.local@SHARED.EXAMPLE"));
    assert!(data(nn, "krb5.conf").contains("kdc = realm-kerberos-kdc-client.t.svc.cluster.local:88"));
    let kt = &init_containers(find(&o, "StatefulSet", "data-hdfs-namenode"))[0];
    assert_eq!(kt["name"], "keytab");
    let kdc = find(&o, "StatefulSet", "realm-kerberos-kdc");
    assert!(wave(kdc) < wave(find(&o, "StatefulSet", "data-hdfs-namenode")), "the other Cluster's KDC starts first");
}

#[test]
fn refused_kerberos_settings() {
    let e = errors("lower", &cluster("l", "    kerberos:\n      realm: example.com\n"));
    assert!(e.iter().any(|d| d.message.contains("upper case") && d.path.ends_with("realm")), "{e:?}");
    let e = errors("noadmin", &cluster("n", "    kerberos:\n      externalKdcs: [kdc.example.com]\n"));
    assert!(e.iter().any(|d| d.message.contains("externalAdminServer")), "{e:?}");
    let e = errors("adminonly", &cluster("a", "    kerberos:\n      externalAdminServer: kdc.example.com:749\n"));
    assert!(e.iter().any(|d| d.message.contains("only used with `externalKdcs`")), "{e:?}");
    let e = errors("typo", &cluster("t", "    kerberos:\n      relam: EXAMPLE.COM\n"));
    assert!(e.iter().any(|d| d.message.contains("unknown field `relam`") && d.hint.as_deref().is_some_and(|h| h.contains("realm"))), "{e:?}");
    let e = errors("issuerkind", &cluster("i", "    kerberos:\n    hdfs:\n      tlsIssuerKind: ClusterIsuer\n"));
    assert!(e.iter().any(|d| d.message.contains("tlsIssuerKind must be") && d.path.ends_with("tlsIssuerKind")), "{e:?}");
    let e = errors("kdctype", &cluster("k", "    kerberos:\n      externalKdcs: kdc.example.com\n"));
    assert!(e.iter().any(|d| d.message.contains("is not a list") && d.expected.as_deref() == Some("a list") && d.span.as_ref().is_some_and(|s| s.line == 10)), "{e:?}");
}

#[test]
fn the_realm_defaults_to_the_cluster_domain() {
    let text = "apiVersion: manager.kubebdp.github.io/v1\nkind: Cluster\nmetadata: {name: d, namespace: ns1}\nspec:\n  stack: hadoop-3.3\n  clusterDomain: k8s.example.org\n  services:\n    kerberos:\n";
    let o = compile_text("domain", text).unwrap();
    let disc = find(&o, "ConfigMap", "d-kerberos-discovery");
    assert_eq!(data(disc, "REALM"), "K8S.EXAMPLE.ORG");
    assert!(data(disc, "krb5.conf").contains(".ns1.svc.k8s.example.org = K8S.EXAMPLE.ORG"));
}

const SHA2: &str = "aes256-cts-hmac-sha384-192 aes128-cts-hmac-sha256-128 aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96";

#[test]
fn the_realm_issues_only_enctypes_that_java_8_reads() {
    // apache/hadoop 3.x runs Java 8, which has no RFC 8009 (SHA-2) enctypes: the default realm
    // must not make keys of them, nor ask for them
    let o = example("seed.yaml");
    let kdc = find(&o, "ConfigMap", "seed-kerberos-kdc");
    let kdc_conf = data(kdc, "kdc.conf");
    assert!(kdc_conf.contains("supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal\n"), "{kdc_conf}");
    for (cm, file) in [("seed-kerberos-kdc", "krb5.conf"), ("seed-hdfs-namenode", "krb5.conf"), ("seed-kerberos-discovery", "krb5.conf")] {
        let text = data(find(&o, "ConfigMap", cm), file);
        for key in ["permitted_enctypes", "default_tkt_enctypes", "default_tgs_enctypes"] {
            assert!(text.contains(&format!("{key} = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96\n")), "{cm} {key}: {text}");
        }
        assert!(!text.contains("sha384") && !text.contains("sha256"), "{cm}: {text}");
    }
    // the keytab script makes keys of exactly these types
    let kt = &init_containers(find(&o, "StatefulSet", "seed-hdfs-namenode"))[0];
    assert_eq!(env(kt, "KRB_ENCTYPES").as_deref(), Some("aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96"));
}

#[test]
fn a_realm_enctype_that_an_image_cannot_handle_is_refused() {
    // in-cluster realm with SHA-2 types: the hdfs image (Java 8) cannot read such tickets
    let e = errors("sha2", &cluster("s", &format!("    kerberos:\n      enctypes: {SHA2}\n    hdfs:\n      roles: {{datanode: {{replicas: 3}}}}\n")));
    let d = e.iter().find(|d| d.message.contains("cannot handle")).unwrap_or_else(|| panic!("{e:?}"));
    assert_eq!(d.path, "spec.services.hdfs");
    assert!(d.message.contains("apache/hadoop:3.3.6") && d.message.contains("aes256-cts-hmac-sha384-192, aes128-cts-hmac-sha256-128"), "{d:?}");
    assert!(d.message.contains("setting `enctypes` of `kerberos`"), "{d:?}");
    assert!(d.hint.as_deref().is_some_and(|h| h.contains("spec.services.kerberos.enctypes") && h.contains("`aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96`")), "{d:?}");
    assert!(d.span.is_some());
    // the KDC image itself handles them: no error for kerberos alone
    compile_text("sha2-kdc-only", &cluster("k", &format!("    kerberos:\n      enctypes: {SHA2}\n"))).unwrap();
    // an external realm is checked the same way (its `enctypes` say what it issues)
    let e = errors("sha2-external", &cluster("x", &format!(
        "    kerberos:\n      realm: CORP.EXAMPLE\n      externalKdcs: [kdc1.corp.example:88]\n      externalAdminServer: kdc1.corp.example:749\n      enctypes: {SHA2}\n    hdfs:\n")));
    assert!(e.iter().any(|d| d.message.contains("cannot handle") && d.path == "spec.services.hdfs"), "{e:?}");
    // a realm in another Cluster too
    let text = format!("{}---\n{}", cluster("realm", &format!("    kerberos:\n      enctypes: {SHA2}\n")),
        cluster("data", "    hdfs:\n      dependencies:\n        kerberos: {cluster: realm}\n"));
    let e = match compile_text("sha2-other", &text) { Ok(_) => panic!("compiled"), Err(d) => d };
    assert!(e.iter().any(|d| d.message.contains("cannot handle") && d.message.contains("Cluster `realm`")), "{e:?}");
    // a custom image that declares SHA-2 support (e.g. Hadoop on Java 17) is accepted
    compile_text("sha2-java17", &cluster("j", &format!(
        "    kerberos:\n      enctypes: {SHA2}\n    hdfs:\n      image:\n        repository: registry.example/hadoop-java17\n        tag: 3.3.6\n        capabilities:\n          krb5Enctypes: [{}]\n",
        SHA2.replace(' ', ", ")))).unwrap();
}

#[test]
fn service_primaries_of_other_clusters_are_granted_and_checked() {
    let o = compile_text("primaries", &cluster("p", "    kerberos:\n      servicePrimaries: [zookeeper, nn]\n")).unwrap();
    let acl = data(find(&o, "ConfigMap", "p-kerberos-kdc"), "kadm5.acl");
    let allows: Vec<&str> = acl.lines().filter(|l| l.contains("  aie  ")).collect();
    assert_eq!(allows, ["bdp/provisioner@CLUSTER.LOCAL  aie  nn/*@CLUSTER.LOCAL", "bdp/provisioner@CLUSTER.LOCAL  aie  zookeeper/*@CLUSTER.LOCAL"]);
    for bad in ["admin", "krbtgt", "'*'", "'a b'", "'x/y'"] {
        let e = errors("badprimary", &cluster("b", &format!("    kerberos:\n      servicePrimaries: [{bad}]\n")));
        assert!(e.iter().any(|d| d.message.contains("servicePrimaries must be") && d.path.ends_with("servicePrimaries")), "{bad}: {e:?}");
    }
}

#[test]
fn keytabs_live_on_tmpfs() {
    let o = example("seed.yaml");
    for sts in ["seed-hdfs-namenode", "seed-hdfs-datanode"] {
        let s = find(&o, "StatefulSet", sts);
        let spec = &s.body["spec"]["template"]["spec"];
        let mount = spec["containers"][0]["volumeMounts"].as_array().unwrap().iter().find(|m| m["mountPath"] == "/etc/security/keytabs").expect("keytab mount");
        let vol = spec["volumes"].as_array().unwrap().iter().find(|v| v["name"] == mount["name"]).unwrap();
        assert_eq!(vol["emptyDir"]["medium"], "Memory", "{sts}: {vol}");
        assert_eq!(vol["emptyDir"]["sizeLimit"], "16Mi", "{sts}: {vol}");
    }
}

/// The rule of a NetworkPolicy that admits `port`.
fn rule_for(np: &Object, port: i64) -> Value {
    np.body["spec"]["ingress"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["ports"].as_array().unwrap().iter().any(|p| p["port"] == port))
        .unwrap_or_else(|| panic!("{}: no rule for port {port}", np.name))
        .clone()
}

#[test]
fn secure_zookeeper_authenticates_clients_with_kerberos() {
    // review finding 9: with kerberos, the servers log in from a keytab and take SASL clients
    let o = example("seed.yaml");
    let cm = find(&o, "ConfigMap", "seed-zookeeper-server");
    let zoo = data(cm, "zoo.cfg");
    for line in ["authProvider.sasl=org.apache.zookeeper.server.auth.SASLAuthenticationProvider", "kerberos.removeHostFromPrincipal=true", "kerberos.removeRealmFromPrincipal=true"] {
        assert!(zoo.lines().any(|l| l == line), "{line} missing:\n{zoo}");
    }
    let jaas = data(cm, "jaas.conf");
    assert!(jaas.contains("Server {") && jaas.contains("keyTab=\"/etc/security/keytabs/zookeeper.keytab\""), "{jaas}");
    assert!(jaas.contains("principal=\"zookeeper/seed-zookeeper-server.bigdata.svc.cluster.local@CLUSTER.LOCAL\";"), "{jaas}");
    assert!(data(cm, "java.env").contains("-Djava.security.auth.login.config=/conf/jaas.conf -Djava.security.krb5.conf=/etc/krb5/krb5.conf"));
    let sts = find(&o, "StatefulSet", "seed-zookeeper-server");
    let kt = &init_containers(sts)[0];
    assert_eq!(kt["name"], "keytab");
    assert_eq!(env(kt, "KRB_PRINCIPALS").as_deref(), Some("zookeeper/seed-zookeeper-server.bigdata.svc.cluster.local"));
    assert_eq!(data(find(&o, "ConfigMap", "seed-zookeeper-discovery"), "ZOOKEEPER_PRINCIPAL"), "zookeeper/seed-zookeeper-server.bigdata.svc.cluster.local");
    let acl = data(find(&o, "ConfigMap", "seed-kerberos-kdc"), "kadm5.acl");
    assert!(acl.contains("bdp/provisioner@CLUSTER.LOCAL  aie  zookeeper/*@CLUSTER.LOCAL"), "{acl}");
    assert!(wave(find(&o, "StatefulSet", "seed-kerberos-kdc")) < wave(sts), "the KDC starts before ZooKeeper");
    // without kerberos: anonymous, no keytab, no JAAS
    let plain = example("zookeeper.yaml");
    let cm = find(&plain, "ConfigMap", "zk-zookeeper-server");
    assert!(cm.body["data"]["jaas.conf"].is_null() && !data(cm, "zoo.cfg").contains("authProvider"));
    assert!(init_containers(find(&plain, "StatefulSet", "zk-zookeeper-server")).iter().all(|c| c["name"] != "keytab"));
}

#[test]
fn secure_ha_failover_znodes_belong_to_the_namenodes() {
    // review finding 9: ha.zookeeper.acl in secure mode, and the ZKFC's ZooKeeper login
    let o = example("secure-hdfs.yaml");
    let nn = find(&o, "ConfigMap", "prod-hdfs-namenode");
    assert_eq!(xml(data(nn, "core-site.xml"), "ha.zookeeper.acl").as_deref(), Some("sasl:nn:rwcda"));
    let jaas = data(nn, "zk-jaas.conf");
    assert!(jaas.contains("Client {") && jaas.contains("principal=\"nn/prod-hdfs-namenode.analytics.svc.cluster.local@ANALYTICS.EXAMPLE.COM\";"), "{jaas}");
    let env_sh = data(nn, "hadoop-env.sh");
    assert!(env_sh.contains("HDFS_ZKFC_OPTS='-Xmx256m -Djava.security.auth.login.config=/etc/hadoop/conf/zk-jaas.conf -Dzookeeper.server.principal=zookeeper/prod-zookeeper-server.analytics.svc.cluster.local'"), "{env_sh}");
    // without kerberos the failover znodes keep ZooKeeper's open default
    let plain = example("hdfs-ha.yaml");
    let nn = find(&plain, "ConfigMap", "analytics-hdfs-namenode");
    assert_eq!(xml(data(nn, "core-site.xml"), "ha.zookeeper.acl"), None);
    assert!(nn.body["data"]["zk-jaas.conf"].is_null());
}

#[test]
fn the_zookeeper_client_port_admits_only_zookeeper_and_its_dependents() {
    // review finding 9: 2181 no longer open to every pod (`access: dependents`)
    let o = example("secure-hdfs.yaml");
    let r = rule_for(find(&o, "NetworkPolicy", "prod-zookeeper-server"), 2181);
    let from: Vec<String> = r["from"].as_array().expect("2181 has sources").iter().map(|p| p.to_string()).collect();
    assert_eq!(
        from,
        [
            r#"{"podSelector":{"matchLabels":{"kubebdp.github.io/cluster":"prod","kubebdp.github.io/service":"zookeeper"}}}"#,
            r#"{"podSelector":{"matchLabels":{"kubebdp.github.io/cluster":"prod","kubebdp.github.io/service":"hdfs"}}}"#
        ]
    );
    // the kerberos service does not depend on zookeeper: its KDC pods are not admitted; the
    // metrics port admits this Cluster's pods only (a scraper gets in through the `-scrape`
    // policy that monitoring renders)
    let m = rule_for(find(&o, "NetworkPolicy", "prod-zookeeper-server"), 7000);
    assert_eq!(m["from"].to_string(), r#"[{"podSelector":{"matchLabels":{"kubebdp.github.io/cluster":"prod"}}}]"#);
    // a dependent Cluster in another namespace: its pods, selected in their namespace
    let text = "apiVersion: manager.kubebdp.github.io/v1\nkind: Cluster\nmetadata: {name: coord, namespace: platform}\nspec:\n  stack: hadoop-3.3\n  services:\n    zookeeper:\n---\napiVersion: manager.kubebdp.github.io/v1\nkind: Cluster\nmetadata: {name: wh, namespace: data}\nspec:\n  stack: hadoop-3.3\n  services:\n    hdfs:\n      dependencies:\n        zookeeper: {cluster: coord, namespace: platform}\n      roles:\n        namenode: {replicas: 2}\n";
    let o = compile_text("zk-dependents-ns", text).unwrap();
    let r = rule_for(find(&o, "NetworkPolicy", "coord-zookeeper-server"), 2181);
    let from = r["from"].as_array().unwrap();
    assert_eq!(from.len(), 2, "{r}");
    assert_eq!(from[1]["podSelector"]["matchLabels"]["kubebdp.github.io/cluster"], "wh");
    assert_eq!(from[1]["podSelector"]["matchLabels"]["kubebdp.github.io/service"], "hdfs");
    assert_eq!(from[1]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"], "data");
    assert!(from[0]["namespaceSelector"].is_null(), "own pods: same namespace");
}

#[test]
fn a_dependent_reading_the_discovery_configmap_is_admitted() {
    // hdfs-configmap-zk: HDFS of Cluster `lake` reads quorum-zookeeper-discovery at runtime
    let o = example("hdfs-configmap-zk.yaml");
    let r = rule_for(find(&o, "NetworkPolicy", "quorum-zookeeper-server"), 2181);
    let clusters: Vec<(&str, &str)> = r["from"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["podSelector"]["matchLabels"]["kubebdp.github.io/cluster"].as_str().unwrap(), p["podSelector"]["matchLabels"]["kubebdp.github.io/service"].as_str().unwrap()))
        .collect();
    assert_eq!(clusters, [("quorum", "zookeeper"), ("lake", "hdfs")], "{r}");
}

#[test]
fn secure_web_servers_demand_spnego_and_only_prom_is_whitelisted_for_a_scraper() {
    // review finding 7: every role's core-site.xml puts its web server behind Kerberos (SPNEGO)
    let objs = example("seed.yaml");
    for role in ["namenode", "datanode"] {
        let core = data(find(&objs, "ConfigMap", &format!("seed-hdfs-{role}")), "core-site.xml");
        let k = |key: &str| xml(core, key).unwrap_or_else(|| panic!("{role}: no {key}"));
        assert_eq!(k("hadoop.http.filter.initializers"), "org.apache.hadoop.security.AuthenticationFilterInitializer");
        assert_eq!(k("hadoop.http.authentication.type"), "kerberos");
        assert_eq!(k("hadoop.http.authentication.simple.anonymous.allowed"), "false");
        assert_eq!(k("hadoop.http.authentication.kerberos.principal"), "*");
        assert_eq!(k("hadoop.http.authentication.kerberos.keytab"), "/etc/security/keytabs/hdfs.keytab");
        assert_eq!(k("hadoop.http.authentication.signer.secret.provider"), "random");
        // no scraper (monitoring: none), no hole
        assert_eq!(xml(core, "hadoop.http.authentication.kerberos.endpoint.whitelist"), None, "{role}");
    }
    // an insecure HDFS keeps Hadoop's defaults
    let plain = example("hdfs-ha.yaml");
    let core = data(find(&plain, "ConfigMap", "analytics-hdfs-namenode"), "core-site.xml");
    assert_eq!(xml(core, "hadoop.http.authentication.type"), None);

    // monitoring: prometheus-operator whitelists /prom only, and the PodMonitors scrape it over
    // HTTPS with the role's CA and a name of its certificate
    let y = cluster("sec", "    kerberos:\n    zookeeper:\n    hdfs:\n      monitoring: prometheus-operator\n");
    let objs = compile_text("secure_monitoring", &y).unwrap_or_else(|d| panic!("{d:?}"));
    let core = data(find(&objs, "ConfigMap", "sec-hdfs-datanode"), "core-site.xml");
    assert_eq!(xml(core, "hadoop.http.authentication.kerberos.endpoint.whitelist").as_deref(), Some("/prom"));
    let pm = find(&objs, "PodMonitor", "sec-hdfs-namenode");
    let ep = &pm.body["spec"]["podMetricsEndpoints"][0];
    assert_eq!((ep["path"].as_str(), ep["scheme"].as_str()), (Some("/prom"), Some("https")));
    assert_eq!(ep["tlsConfig"]["ca"]["secret"]["name"], "sec-hdfs-namenode-tls");
    assert_eq!(ep["tlsConfig"]["ca"]["secret"]["key"], "ca.crt");
    assert_eq!(ep["tlsConfig"]["serverName"], "sec-hdfs-namenode.t.svc.cluster.local");
    // annotations cannot carry the CA: refused with Kerberos
    let y = cluster("sec", "    kerberos:\n    zookeeper:\n    hdfs:\n      monitoring: annotations\n");
    let e = errors("secure_monitoring_annotations", &y);
    assert!(e.iter().any(|d| d.path == "spec.services.hdfs.monitoring" && d.message.contains("not available with Kerberos")), "{e:?}");
}
