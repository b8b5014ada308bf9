//! Validation before rendering: every problem is found, located (file:line:column and field
//! path) and explained with a hint, all in one run. Plain error cases are data: one input file
//! each under `tests/inputs/` with its diagnostics as a snapshot (`tests/diagnostics.rs`).

use bdp::diag::{Diagnostics, Severity};
use bdp::{compile, Options};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

static N: AtomicUsize = AtomicUsize::new(0);

fn write(text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("bdp-validation-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(format!("c{}.yaml", N.fetch_add(1, Ordering::SeqCst)));
    std::fs::write(&p, text).unwrap();
    p
}

fn errors(text: &str) -> Vec<String> {
    errors_with(text, &Options::default())
}

fn errors_with(text: &str, opts: &Options) -> Vec<String> {
    match compile(&[write(text)], opts) {
        Ok(c) => panic!("expected errors, got {} objects", c.objects.len()),
        Err(d) => d.sorted().iter().filter(|x| x.severity == Severity::Error).map(|x| x.to_string()).collect(),
    }
}

fn ok(text: &str) -> Diagnostics {
    match compile(&[write(text)], &Options::default()) {
        Ok(c) => c.diags,
        Err(d) => panic!("unexpected errors: {:#?}", d.items),
    }
}

const HEAD: &str = "apiVersion: manager.kubebdp.github.io/v1\nkind: Cluster\nmetadata:\n  name: t\n  namespace: ns\nspec:\n  stack: hadoop-3.3\n";

fn cluster(services: &str) -> String {
    format!("{HEAD}  services:\n{services}")
}

fn has(errs: &[String], needles: &[&str]) -> bool {
    errs.iter().any(|e| needles.iter().all(|n| e.contains(n)))
}

#[test]
fn unknown_config_key_warns_and_strict_refuses() {
    let text = cluster("    zookeeper:\n      configOverrides:\n        zoo.cfg: {tickTme: '3000'}\n");
    let d = ok(&text);
    let w: Vec<String> = d.items.iter().map(|x| x.to_string()).collect();
    assert!(has(&w, &["warning", "`tickTme` is not a key bdp knows", "did you mean `tickTime`"]), "{w:#?}");
    let e = errors_with(&text, &Options { strict: true, ..Default::default() });
    assert!(has(&e, &["error", "tickTme"]), "{e:#?}");
}

const HDFS_SINGLE: &str = "    hdfs:\n      roles:\n        namenode: {replicas: 1}\n        datanode: {replicas: 1}\n";

#[test]
fn keys_the_daemon_reads_are_known_even_when_the_stack_does_not_declare_them() {
    // dfs.namenode.handler.count is in Hadoop 3.3.6's hdfs-default.xml, not in the stack's keys;
    // before the known-keys lists it was "unknown" with "did you mean `dfs.namenode.name.dir`?"
    let text = cluster(&format!(
        "{HDFS_SINGLE}      configOverrides:\n        hdfs-site.xml: {{dfs.namenode.handler.count: '64', dfs.replication: '1'}}\n        core-site.xml: {{fs.trash.interval: '60'}}\n        hadoop-env.sh: {{HADOOP_HEAPSIZE_MAX: 2g}}\n    zookeeper:\n      configOverrides:\n        zoo.cfg: {{snapCount: '100000', ssl.quorum.keyStore.location: /k.jks}}\n"
    ));
    let d = ok(&text);
    assert!(d.items.is_empty(), "{:#?}", d.items);
    match compile(&[write(&text)], &Options { strict: true, ..Default::default() }) {
        Ok(c) => assert!(c.diags.items.is_empty(), "{:#?}", c.diags.items),
        Err(d) => panic!("--strict refused real keys: {:#?}", d.items),
    }
}

#[test]
fn a_misspelt_real_key_gets_the_real_key_as_suggestion() {
    let text = cluster(&format!(
        "{HDFS_SINGLE}      configOverrides:\n        hdfs-site.xml: {{dfs.namenode.handlr.count: '64', dfs.replication: '1'}}\n        hadoop-env.sh: {{HADOOP_HEAPSIZE_MX: 2g}}\n"
    ));
    let e = errors_with(&text, &Options { strict: true, ..Default::default() });
    assert!(has(&e, &["hdfs-site.xml.dfs.namenode.handlr.count", "is not a key bdp knows", "did you mean `dfs.namenode.handler.count`?"]), "{e:#?}");
    assert!(has(&e, &["hadoop-env.sh.HADOOP_HEAPSIZE_MX", "did you mean `HADOOP_HEAPSIZE_MAX`?"]), "{e:#?}");
    // a key far from every known one gets no guess, and says what it was checked against
    let text = cluster(&format!("{HDFS_SINGLE}      configOverrides:\n        hdfs-site.xml: {{my.own.setting: x, dfs.replication: '1'}}\n"));
    let e = errors_with(&text, &Options { strict: true, ..Default::default() });
    assert!(has(&e, &["my.own.setting", "nor in the daemon's key list"]), "{e:#?}");
    assert!(!has(&e, &["my.own.setting", "did you mean"]), "{e:#?}");
}

#[test]
fn known_keys_files_of_a_stack_are_read_relative_to_it_and_checked() {
    let dir = std::env::temp_dir().join(format!("bdp-validation-{}-knownkeys", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("lists")).unwrap();
    std::fs::write(dir.join("lists/app.txt"), "# keys of app.conf\nalpha.timeout\nplugin.*\n").unwrap();
    std::fs::write(dir.join("lists/bad.txt"), "good.key\ntwo words\n").unwrap();
    let stack = |lists: &str| {
        format!(
            "apiVersion: manager.kubebdp.github.io/v1\nkind: StackDefinition\nmetadata: {{name: mini}}\nspec:\n  services:\n    app:\n      version: '1'\n      image: {{repository: busybox, tag: '1'}}\n      runAs: {{user: 1000, group: 1000}}\n      files:\n        app.conf:\n          format: properties\n          dir: /etc/app\n          knownKeys: {lists}\n          keys:\n            alpha.size: {{value: '1'}}\n      roles:\n        main:\n          replicas: {{default: 1}}\n          files: [app.conf]\n          resources: {{requests: {{cpu: 10m, memory: 16Mi}}, limits: {{cpu: 10m, memory: 16Mi}}}}\n          containers:\n            - {{name: main, command: [sleep, infinity]}}\n"
        )
    };
    let user = "---\napiVersion: manager.kubebdp.github.io/v1\nkind: Cluster\nmetadata: {name: a, namespace: ns}\nspec:\n  stack: mini\n  services:\n    app:\n      configOverrides:\n        app.conf: {alpha.timeout: '5', plugin.x.enabled: 'true', alpha.timeot: '5'}\n";
    let f = dir.join("all.yaml");
    std::fs::write(&f, stack("[lists/app.txt]") + user).unwrap();
    let e = match compile(std::slice::from_ref(&f), &Options { strict: true, ..Default::default() }) {
        Ok(c) => panic!("expected an error, got {} objects", c.objects.len()),
        Err(d) => d.sorted().iter().map(|x| x.to_string()).collect::<Vec<_>>(),
    };
    assert_eq!(e.len(), 1, "only the misspelt key: {e:#?}");
    assert!(has(&e, &["alpha.timeot", "did you mean `alpha.timeout`?"]), "{e:#?}");
    // a missing list, a path leaving the stack's folder and a malformed line are stack errors
    for (lists, needle) in [("[lists/none.txt]", "none.txt"), ("[../etc/passwd]", "relative path below"), ("[lists/bad.txt]", "bad.txt:2: `two words` is not a key name")] {
        std::fs::write(&f, stack(lists) + user).unwrap();
        let e = match compile(std::slice::from_ref(&f), &Options::default()) {
            Ok(c) => panic!("{lists}: expected an error, got {} objects", c.objects.len()),
            Err(d) => d.sorted().iter().map(|x| x.to_string()).collect::<Vec<_>>(),
        };
        assert!(has(&e, &["spec.services.app.files.app.conf.knownKeys.0", needle]), "{lists}: {e:#?}");
    }
}

#[test]
fn alias_bomb_fails_fast() {
    let mut t = String::from(HEAD);
    t.push_str("  services:\n    zookeeper:\nx0: &x0 [a, a, a, a, a, a, a, a, a, a]\n");
    for i in 1..10 {
        let p = i - 1;
        t.push_str(&format!("x{i}: &x{i} [*x{p}, *x{p}, *x{p}, *x{p}, *x{p}, *x{p}, *x{p}, *x{p}, *x{p}, *x{p}]\n"));
    }
    let start = std::time::Instant::now();
    let e = errors(&t);
    assert!(has(&e, &["alias"]), "{e:#?}");
    assert!(start.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn role_start_order_gives_waves() {
    let stack = "apiVersion: manager.kubebdp.github.io/v1\nkind: StackDefinition\nmetadata: {name: order}\nspec:\n  services:\n    base:\n      roles: {r: {replicas: {default: 1}, containers: [{name: c}]}}\n    app:\n      dependencies: {base: {service: base, required: true}}\n      roles:\n        first: {replicas: {default: 1}, containers: [{name: c}]}\n        second: {replicas: {default: 1}, after: [first], containers: [{name: c}]}\n";
    let c = "---\napiVersion: manager.kubebdp.github.io/v1\nkind: Cluster\nmetadata: {name: t, namespace: ns}\nspec:\n  stack: order\n  services: {app: , base: }\n";
    let compiled = compile(&[write(&format!("{stack}{c}"))], &Options::default()).unwrap();
    let waves: Vec<(String, u32)> = compiled.plan.waves.iter().map(|(k, v)| (k.to_string(), *v)).collect();
    assert_eq!(waves, [("t/app/first".to_string(), 1), ("t/app/second".to_string(), 2), ("t/base/r".to_string(), 0)]);
    for o in &compiled.objects {
        let w = o.body["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"].as_str().unwrap();
        assert_eq!(w, o.wave.to_string());
        if o.kind == "StatefulSet" {
            assert!(o.body["spec"]["template"]["metadata"]["annotations"].get("argocd.argoproj.io/sync-wave").is_none());
        }
    }
}

#[test]
fn missing_required_dependency_names_the_ways_to_satisfy_it() {
    let stack = "apiVersion: manager.kubebdp.github.io/v1\nkind: StackDefinition\nmetadata: {name: deps}\nspec:\n  services:\n    base:\n      discovery: {BASE: x}\n      roles: {r: {replicas: {default: 1}, containers: [{name: c}]}}\n    app:\n      dependencies: {base: {service: base, required: true, envRef: '${env.{{ var }}}'}}\n      roles: {r: {replicas: {default: 1}, containers: [{name: c}]}}\n";
    let c = "---\napiVersion: manager.kubebdp.github.io/v1\nkind: Cluster\nmetadata: {name: t, namespace: ns}\nspec:\n  stack: deps\n  services: {app: }\n";
    let e = errors(&format!("{stack}{c}"));
    assert!(has(&e, &["needs `base`", "dependencies.base.cluster: NAME", "dependencies.base.configMap"]), "{e:#?}");
    let c2 = "---\napiVersion: manager.kubebdp.github.io/v1\nkind: Cluster\nmetadata: {name: t, namespace: ns}\nspec:\n  stack: deps\n  services:\n    app:\n      dependencies: {base: {configMap: {name: shared, key: BASE}}}\n";
    let compiled = compile(&[write(&format!("{stack}{c2}"))], &Options::default()).unwrap();
    let sts = compiled.objects.iter().find(|o| o.kind == "StatefulSet").unwrap();
    let env = &sts.body["spec"]["template"]["spec"]["containers"][0]["env"];
    assert!(env.as_array().unwrap().iter().any(|e| e["name"] == "DEP_BASE" && e["valueFrom"]["configMapKeyRef"]["name"] == "shared"), "{env}");
}
