//! `bdp action` and the smoke tests: the rendered Jobs (hardening, the role's config, the
//! Kerberos identity in secure mode, arguments only as env), the CLI's exit codes and messages,
//! and the stack declarations resolve refuses.

mod common;
use common::*;
use serde_json::Value;
use std::process::{Command, Output};

fn bdp(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_bdp")).args(args).current_dir(root()).output().expect("bdp runs")
}

/// The Job of `bdp action ARGS…` as JSON (exit 0 expected).
fn job(args: &[&str]) -> Value {
    let mut all = vec!["action"];
    all.extend_from_slice(args);
    let o = bdp(&all);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).unwrap();
    let docs = yaml_rust2::YamlLoader::load_from_str(&text).unwrap();
    assert_eq!(docs.len(), 1, "one Job");
    to_json(&docs[0])
}

fn to_json(y: &yaml_rust2::Yaml) -> Value {
    use yaml_rust2::Yaml;
    match y {
        Yaml::Hash(h) => Value::Object(h.iter().map(|(k, v)| (k.as_str().map(str::to_string).unwrap_or_else(|| format!("{k:?}")), to_json(v))).collect()),
        Yaml::Array(a) => Value::Array(a.iter().map(to_json).collect()),
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::Boolean(b) => Value::Bool(*b),
        _ => Value::Null,
    }
}

fn env_of(c: &Value) -> Vec<(String, String)> {
    c["env"].as_array().into_iter().flatten().map(|e| (e["name"].as_str().unwrap().to_string(), e["value"].as_str().unwrap_or("<ref>").to_string())).collect()
}

fn container<'a>(j: &'a Value, list: &str, name: &str) -> &'a Value {
    j["spec"]["template"]["spec"][list].as_array().and_then(|a| a.iter().find(|c| c["name"] == name)).unwrap_or_else(|| panic!("no {list} {name} in {j}"))
}

#[test]
fn an_action_job_is_a_hardened_one_off_pod_of_its_role() {
    let j = job(&["examples/hdfs-ha.yaml", "hdfs", "fsck", "--arg", "path=/data; rm -rf x"]);
    assert_eq!(j["apiVersion"], "batch/v1");
    assert_eq!(j["kind"], "Job");
    let spec = &j["spec"]["template"]["spec"];
    assert_eq!(spec["restartPolicy"], "Never");
    assert_eq!(spec["automountServiceAccountToken"], false);
    assert_eq!(spec["securityContext"]["runAsNonRoot"], true);
    assert_eq!(spec["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
    assert_eq!(j["spec"]["backoffLimit"], 2, "fsck is idempotent: retried");
    assert_eq!(j["spec"]["activeDeadlineSeconds"], 600);
    let c = container(&j, "containers", "action");
    assert_eq!(c["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(c["securityContext"]["capabilities"]["drop"][0], "ALL");
    assert!(c["resources"]["limits"]["memory"].is_string() && c["resources"]["requests"]["cpu"].is_string());
    // the namenode role's ConfigMap, mounted read-only
    let vols = spec["volumes"].as_array().unwrap();
    assert!(vols.iter().any(|v| v["configMap"]["name"] == "analytics-hdfs-namenode"), "{vols:?}");
    // the value is data: only in the env, the command names the variable
    assert_eq!(c["command"], serde_json::json!(["hdfs", "fsck", "$(BDP_ARG_PATH)"]));
    assert!(env_of(c).contains(&("BDP_ARG_PATH".into(), "/data; rm -rf x".into())));
    assert!(!serde_json::to_string(&c["command"]).unwrap().contains("rm -rf"));
    // labels: the cluster, service and action, never the role (no Service, PDB or policy selects it)
    let labels = &j["spec"]["template"]["metadata"]["labels"];
    assert_eq!(labels["kubebdp.github.io/action"], "fsck");
    assert_eq!(labels["kubebdp.github.io/service"], "hdfs");
    assert!(labels["kubebdp.github.io/role"].is_null(), "{labels}");
    // no hook, no wave: the user creates it
    assert!(j["metadata"]["annotations"].is_null(), "{}", j["metadata"]);
}

#[test]
fn job_names_are_deterministic_and_differ_with_the_arguments() {
    let a = job(&["examples/hdfs-ha.yaml", "hdfs", "fsck", "--arg", "path=/a"]);
    let b = job(&["examples/hdfs-ha.yaml", "hdfs", "fsck", "--arg", "path=/a"]);
    let c = job(&["examples/hdfs-ha.yaml", "hdfs", "fsck", "--arg", "path=/b"]);
    let d = job(&["examples/hdfs-ha.yaml", "hdfs", "fsck"]);
    let e = job(&["examples/hdfs-ha.yaml", "hdfs", "fsck", "--arg", "path=/"]);
    assert_eq!(a["metadata"]["name"], b["metadata"]["name"]);
    assert_ne!(a["metadata"]["name"], c["metadata"]["name"]);
    assert_eq!(d["metadata"]["name"], e["metadata"]["name"], "the default is the argument's value");
    assert!(a["metadata"]["name"].as_str().unwrap().starts_with("analytics-hdfs-fsck-"));
}

#[test]
fn in_secure_mode_the_job_gets_the_roles_keytab_and_a_ticket_cache() {
    let j = job(&["examples/secure-hdfs.yaml", "hdfs", "report"]);
    let k = container(&j, "initContainers", "keytab");
    let env = env_of(k);
    let get = |n: &str| env.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).unwrap_or_default();
    assert!(get("KRB_PRINCIPALS").starts_with("nn/") && !get("KRB_PRINCIPALS").contains("HTTP"), "only the namenode principal: {env:?}");
    assert_eq!(get("KRB_CCACHE"), "FILE:/etc/security/keytabs/action.ccache");
    let a = container(&j, "containers", "action");
    assert!(env_of(a).contains(&("KRB5CCNAME".into(), "FILE:/etc/security/keytabs/action.ccache".into())));
    // the provisioner's password only in the keytab init container
    let mounts = |c: &Value| c["volumeMounts"].as_array().unwrap().iter().map(|m| m["name"].as_str().unwrap().to_string()).collect::<Vec<_>>();
    assert!(mounts(k).contains(&"kerberos-admin".to_string()));
    assert!(!mounts(a).contains(&"kerberos-admin".to_string()));
    // the keytab on tmpfs, shared by both
    let keytabs = j["spec"]["template"]["spec"]["volumes"].as_array().unwrap().iter().find(|v| v["emptyDir"]["medium"] == "Memory").expect("a tmpfs");
    let name = keytabs["name"].as_str().unwrap().to_string();
    assert!(mounts(k).contains(&name) && mounts(a).contains(&name));
    // without Kerberos, no init container at all
    let j = job(&["examples/hdfs-ha.yaml", "hdfs", "report"]);
    assert!(j["spec"]["template"]["spec"]["initContainers"].is_null());
}

#[test]
fn the_kdc_actions_mount_its_volume_on_its_node() {
    let j = job(&["examples/seed.yaml", "kerberos", "list-principals"]);
    let spec = &j["spec"]["template"]["spec"];
    let pvc = spec["volumes"].as_array().unwrap().iter().find(|v| v["persistentVolumeClaim"].is_object()).expect("the KDC's PVC");
    assert_eq!(pvc["persistentVolumeClaim"]["claimName"], "data-seed-kerberos-kdc-0");
    let term = &spec["affinity"]["podAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0];
    assert_eq!(term["topologyKey"], "kubernetes.io/hostname");
    assert_eq!(term["labelSelector"]["matchLabels"]["statefulset.kubernetes.io/pod-name"], "seed-kerberos-kdc-0");
    let c = container(&j, "containers", "action");
    assert_eq!(c["command"][0], "kadmin.local");
    assert!(c["volumeMounts"].as_array().unwrap().iter().any(|m| m["mountPath"] == "/var/lib/krb5kdc"));
}

#[test]
fn the_roles_pod_level_overrides_reach_its_jobs_but_not_its_container_entries() {
    let y = cluster(
        "ov",
        "    zookeeper:\n      roles:\n        server:\n          podOverrides:\n            metadata: {labels: {team: data}}\n            spec:\n              tolerations: [{key: dedicated, operator: Equal, value: bigdata, effect: NoSchedule}]\n              nodeSelector: {pool: bigdata}\n              priorityClassName: bigdata-high\n              containers: [{name: zookeeper, env: [{name: EXTRA, value: x}]}]\n",
    );
    let objs = compile_text("job_pod_overrides", &y).unwrap_or_else(|d| panic!("{d:?}"));
    let sts = objs.iter().find(|o| o.kind == "StatefulSet").unwrap();
    let job = objs.iter().find(|o| o.kind == "Job").expect("the smoke test");
    for (what, pod) in [("StatefulSet", &sts.body["spec"]["template"]), ("smoke test", &job.body["spec"]["template"])] {
        assert_eq!(pod["spec"]["tolerations"][0]["key"], "dedicated", "{what}");
        assert_eq!(pod["spec"]["nodeSelector"]["pool"], "bigdata", "{what}");
        assert_eq!(pod["spec"]["priorityClassName"], "bigdata-high", "{what}");
        assert_eq!(pod["metadata"]["labels"]["team"], "data", "{what}");
    }
    let names: Vec<&str> = job.body["spec"]["template"]["spec"]["containers"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["action"], "the daemon's container entry does not become a second container of the Job");
    assert_eq!(job.body["spec"]["template"]["spec"]["restartPolicy"], "Never");
}

#[test]
fn every_listed_action_renders() {
    for (example, service, actions) in [
        ("examples/hdfs-ha.yaml", "hdfs", &["report", "fsck", "balancer", "refresh-nodes"][..]),
        ("examples/zookeeper.yaml", "zookeeper", &["srvr", "mntr", "health"][..]),
        ("examples/seed.yaml", "kerberos", &["list-principals"][..]),
        ("examples/seed.yaml", "hdfs", &["report", "fsck", "balancer", "refresh-nodes"][..]),
    ] {
        for a in actions {
            job(&[example, service, a]);
        }
    }
    job(&["examples/hdfs-ha.yaml", "hdfs", "safemode", "--arg", "mode=enter"]);
    job(&["examples/hdfs-ha.yaml", "hdfs", "snapshot", "--arg", "path=/data", "--arg", "name=before-upgrade"]);
    for step in ["prepare", "query", "finalize"] {
        job(&["examples/hdfs-ha.yaml", "hdfs", "rolling-upgrade", "--arg", &format!("step={step}")]);
    }
}

#[test]
fn bad_requests_exit_1_with_what_is_allowed_and_usage_errors_exit_2() {
    let cases: [(&[&str], i32, &str); 8] = [
        (&["examples/hdfs-ha.yaml", "hdfs", "safemode", "--arg", "mode=off"], 1, "allowed values: get, enter, leave, wait"),
        (&["examples/hdfs-ha.yaml", "hdfs", "safemode"], 1, "needs `--arg mode=VALUE`"),
        (&["examples/hdfs-ha.yaml", "hdfs", "balancer", "--arg", "threshold=x"], 1, "expected: an integer from 1 to 100"),
        (&["examples/hdfs-ha.yaml", "hdfs", "fsck", "--arg", "depth=2"], 1, "no argument `depth`; its arguments: path"),
        (&["examples/hdfs-ha.yaml", "hdfs", "nope"], 1, "its actions:\n  balancer"),
        (&["examples/hdfs-ha.yaml", "hbase", "nope"], 1, "no service `hbase`"),
        (&["examples/hdfs-ha.yaml", "hdfs", "fsck", "--arg", "path"], 2, "expected NAME=VALUE"),
        (&["examples/hdfs-ha.yaml", "hdfs"], 2, ""),
    ];
    for (args, code, msg) in cases {
        let mut all = vec!["action"];
        all.extend_from_slice(args);
        let o = bdp(&all);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(code), "{args:?}: {err}");
        assert!(err.contains(msg), "{args:?}: {err}");
        assert!(o.stdout.is_empty(), "{args:?}: nothing on stdout");
    }
}

#[test]
fn smoke_tests_are_postsync_hooks_in_the_last_wave_and_can_be_turned_off() {
    let objs = example("hdfs-ha.yaml");
    let jobs: Vec<_> = objs.iter().filter(|o| o.kind == "Job" && o.name.ends_with("smoke-test")).collect();
    let names: Vec<&str> = jobs.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    // (post-sync hook Jobs share the smoke tests' wave, tests/hooks.rs)
    let last = objs.iter().filter(|o| !o.name.ends_with("smoke-test") && o.body["metadata"]["annotations"]["argocd.argoproj.io/hook"].is_null()).map(|o| o.wave).max().unwrap();
    for j in &jobs {
        let ann = &j.body["metadata"]["annotations"];
        assert_eq!(ann["argocd.argoproj.io/hook"], "PostSync");
        assert_eq!(ann["argocd.argoproj.io/hook-delete-policy"], "BeforeHookCreation");
        assert_eq!(ann["kustomize.toolkit.fluxcd.io/force"], "enabled");
        assert_eq!(j.wave, last + 1, "{}: after every other object", j.name);
        assert_eq!(j.body["spec"]["backoffLimit"], 2);
    }
    // a policy admitting nothing selects each smoke test's pod (no pod of the render without one)
    for j in &jobs {
        let np = find(&objs, "NetworkPolicy", &j.name);
        let sel = &np.body["spec"]["podSelector"]["matchLabels"];
        let labels = &j.body["spec"]["template"]["metadata"]["labels"];
        for (k, v) in sel.as_object().unwrap() {
            assert_eq!(&labels[k], v, "{}: the policy selects the Job's pod", j.name);
        }
        assert_eq!(np.body["spec"]["policyTypes"], serde_json::json!(["Ingress"]));
        assert!(np.body["spec"]["ingress"].is_null(), "no ingress rule: nothing admitted");
    }
    let off = compile_text(
        "smoke-off",
        &cluster("s", "    zookeeper:\n      smokeTest: false\n    hdfs:\n      smokeTest: false\n      roles: {namenode: {replicas: 1}}\n"),
    )
    .unwrap();
    assert!(off.iter().all(|o| !o.name.ends_with("smoke-test")), "smokeTest: false renders no Job, no policy");
}

#[test]
fn explain_lists_the_actions_with_their_arguments() {
    let o = bdp(&["explain", "hdfs/actions"]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0));
    for s in ["fsck (role namenode, safe to repeat)", "--arg path=…  an absolute path", "snapshot (role namenode, not idempotent: runs once)", "--arg step=…  one of prepare, query, finalize", "smoke test"] {
        assert!(out.contains(s), "{s}: {out}");
    }
    let o = bdp(&["explain", "zookeeper"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("actions: health, mntr, srvr"));
    let o = bdp(&["explain", "hdfs/actions/nope"]);
    assert_ne!(o.status.code(), Some(0));
}

fn stack_errors(name: &str, actions: &str) -> Vec<String> {
    let stack = format!(
        "apiVersion: manager.kubebdp.github.io/v1\nkind: StackDefinition\nmetadata: {{name: t-1}}\nspec:\n  services:\n    svc:\n      image: {{repository: zookeeper, tag: '3.8.4'}}\n      roles:\n        r:\n          replicas: {{default: 1}}\n          initContainers: [{{name: init, command: ['true']}}]\n          containers: [{{name: main, command: [sleep, '1']}}]\n{actions}"
    );
    stack_errors_of(name, &stack)
}

#[test]
fn wrong_action_declarations_are_stack_errors() {
    assert_eq!(stack_errors("ok", "      actions:\n        a: {role: r, command: [x], initContainers: [{from: init}]}\n"), Vec::<String>::new());
    let e = stack_errors("role", "      actions:\n        a: {role: nope, command: [x]}\n").join("\n");
    assert!(e.contains("actions.a.role") && e.contains("unknown role `nope`"), "{e}");
    let e = stack_errors("init", "      actions:\n        a: {role: r, command: [x], initContainers: [{from: other}]}\n").join("\n");
    assert!(e.contains("has no init container `other` (it has: init)"), "{e}");
    let e = stack_errors("default", "      actions:\n        a: {role: r, command: [x], arguments: {n: {type: integer, default: ten}}}\n").join("\n");
    assert!(e.contains("the default does not fit"), "{e}");
    let e = stack_errors("smoke-args", "      smokeTest: {role: r, command: [x], arguments: {n: {}}}\n").join("\n");
    assert!(e.contains("a smoke test takes no arguments"), "{e}");
    let e = stack_errors("values", "      actions:\n        a: {role: r, command: [x], arguments: {n: {type: dnsLabel, values: [ok, Not_OK]}}}\n").join("\n");
    assert!(e.contains("an allowed value does not fit the type"), "{e}");
}
