//! Post-start hooks (`hooks` of a stack's services): the `<cluster>-bdp-hooks` ConfigMap the
//! controller reads, the post-sync Jobs of `rolesReady` hooks without the controller, the
//! fingerprint of a watched file, and the stack declarations resolve refuses.

mod common;
use common::*;
use serde_json::Value;

fn hooks_of(objs: &[bdp::render::Object], cluster: &str) -> Value {
    let cm = find(objs, "ConfigMap", &format!("{cluster}-bdp-hooks"));
    let docs = yaml_rust2::YamlLoader::load_from_str(data(cm, "hooks.yaml")).expect("hooks.yaml is YAML");
    to_json(&docs[0])
}

fn to_json(y: &yaml_rust2::Yaml) -> Value {
    use yaml_rust2::Yaml;
    match y {
        Yaml::Hash(h) => Value::Object(h.iter().map(|(k, v)| (k.as_str().unwrap().to_string(), to_json(v))).collect()),
        Yaml::Array(a) => Value::Array(a.iter().map(to_json).collect()),
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::Boolean(b) => Value::Bool(*b),
        _ => Value::Null,
    }
}

fn hook<'a>(h: &'a Value, id: &str) -> &'a Value {
    h["hooks"].as_array().unwrap().iter().find(|x| x["id"] == id).unwrap_or_else(|| panic!("no hook {id} in {h}"))
}

#[test]
fn a_clusters_hooks_compile_into_one_config_map() {
    let objs = example("hdfs-ha.yaml");
    let h = hooks_of(&objs, "analytics");
    assert_eq!(h["cluster"], "analytics");
    assert_eq!(h["namespace"], "bigdata");
    let ids: Vec<&str> = h["hooks"].as_array().unwrap().iter().map(|x| x["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["hdfs.base-directories", "hdfs.refresh-nodes"]);
    let base = hook(&h, "hdfs.base-directories");
    assert_eq!(base["trigger"]["kind"], "rolesReady");
    let sts: Vec<&str> = base["trigger"]["roles"].as_array().unwrap().iter().map(|r| r["statefulSet"].as_str().unwrap()).collect();
    assert_eq!(sts, ["analytics-hdfs-namenode", "analytics-hdfs-datanode"]);
    assert_eq!(base["trigger"]["roles"][0]["selector"]["kubebdp.github.io/role"], "namenode");
    assert_eq!(base["idempotent"], true);
    assert_eq!(base["retries"], 3);
    assert_eq!(base["postSync"], true);
    let job = &base["job"];
    assert_eq!(job["kind"], "Job");
    assert_eq!(job["metadata"]["name"], "analytics-hdfs-hook-base-directories");
    assert_eq!(job["metadata"]["labels"]["kubebdp.github.io/hook"], "base-directories");
    assert!(job["metadata"]["annotations"]["argocd.argoproj.io/hook"].is_null(), "the controller's template is no ArgoCD hook");
    assert_eq!(job["spec"]["activeDeadlineSeconds"], 300);
    let pod = &job["spec"]["template"]["spec"];
    assert_eq!(pod["automountServiceAccountToken"], false);
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert!(pod["containers"][0]["command"][2].as_str().unwrap().contains("hdfs dfs -chmod 1777 /tmp"));
    let rn = hook(&h, "hdfs.refresh-nodes");
    assert_eq!(rn["trigger"]["kind"], "fileChanged");
    assert_eq!(rn["trigger"]["file"], "dfs.exclude");
    assert_eq!(rn["trigger"]["fingerprint"].as_str().unwrap().len(), 64);
    assert_eq!(rn["delaySeconds"], 90);
    assert_eq!(rn["postSync"], false, "fileChanged needs the controller");
    // a policy admitting nothing selects the hooks' Job pods
    let np = find(&objs, "NetworkPolicy", "analytics-bdp-hooks");
    assert_eq!(np.body["spec"]["podSelector"]["matchExpressions"][0]["key"], "kubebdp.github.io/hook");
    assert!(np.body["spec"]["ingress"].is_null());
}

#[test]
fn without_the_controller_a_roles_ready_hook_is_a_post_sync_job() {
    let objs = example("hdfs-ha.yaml");
    let j = find(&objs, "Job", "analytics-hdfs-hook-base-directories");
    let ann = &j.body["metadata"]["annotations"];
    assert_eq!(ann["argocd.argoproj.io/hook"], "PostSync");
    assert_eq!(ann["argocd.argoproj.io/hook-delete-policy"], "BeforeHookCreation");
    let smoke = find(&objs, "Job", "analytics-hdfs-smoke-test");
    assert_eq!(j.wave, smoke.wave, "the smoke tests' wave: Flux's last Kustomization");
    assert!(!objs.iter().any(|o| o.kind == "Job" && o.name.contains("refresh-nodes")), "a fileChanged hook needs the controller");
}

#[test]
fn the_watched_files_fingerprint_follows_its_content() {
    let one = |decom: &str| {
        let objs = compile_text(&format!("fp{}", decom.len()), &cluster("c", &format!("    zookeeper: {{}}\n    hdfs:\n      decommission: [{decom}]\n      roles: {{datanode: {{replicas: 4}}}}\n"))).unwrap();
        let h = hooks_of(&objs, "c");
        (hook(&h, "hdfs.refresh-nodes")["trigger"]["fingerprint"].clone(), hook(&h, "hdfs.base-directories")["job"].clone())
    };
    let (a, ja) = one("");
    let (b, jb) = one("c-hdfs-datanode-3");
    let (a2, _) = one("");
    assert_ne!(a, b, "another exclude file: another fingerprint");
    assert_eq!(a, a2, "deterministic");
    assert_eq!(ja["metadata"]["name"], jb["metadata"]["name"]);
}

fn stack_errors(name: &str, hooks: &str) -> Vec<String> {
    let stack = format!(
        "apiVersion: manager.kubebdp.github.io/v1\nkind: StackDefinition\nmetadata: {{name: t-1}}\nspec:\n  services:\n    svc:\n      image: {{repository: zookeeper, tag: '3.8.4'}}\n      files:\n        a.conf: {{format: properties, dir: /etc/a}}\n      roles:\n        r:\n          replicas: {{default: 1}}\n          files: [a.conf]\n          initContainers: [{{name: init, command: ['true']}}]\n          containers: [{{name: main, command: [sleep, '1']}}]\n{hooks}"
    );
    stack_errors_of(name, &stack)
}

#[test]
fn wrong_hook_declarations_are_stack_errors() {
    let ok = "      hooks:\n        h: {trigger: {rolesReady: [r]}, role: r, command: [x], initContainers: [{from: init}]}\n        e: {trigger: {fileChanged: a.conf}, role: r, idempotent: true, retries: 2, exec: {container: main}, command: [x]}\n";
    assert_eq!(stack_errors("ok", ok), Vec::<String>::new());
    let cases = [
        ("role", "{trigger: {rolesReady: [nope]}, role: r, command: [x]}", "unknown role `nope`"),
        ("file", "{trigger: {fileChanged: b.conf}, role: r, idempotent: true, command: [x]}", "unknown file `b.conf` (files: a.conf)"),
        ("idem", "{trigger: {podRecreated: r}, role: r, command: [x]}", "a `podRecreated` hook may run many times: it must be idempotent"),
        ("retry", "{trigger: {rolesReady: [r]}, role: r, retries: 1, command: [x]}", "a hook that is retried must be idempotent"),
        ("exec", "{trigger: {rolesReady: [r]}, role: r, exec: {container: other}, command: [x]}", "role `r` has no container `other` (it has: main)"),
        ("exec-env", "{trigger: {rolesReady: [r]}, role: r, exec: {container: main}, env: {A: b}, command: [x]}", "`image`, `env`, `resources` and `initContainers` are for a Job"),
        ("two", "{trigger: {rolesReady: [r], podRecreated: r}, role: r, idempotent: true, command: [x]}", "trigger"),
        ("cmd", "{trigger: {rolesReady: [r]}, role: r, command: []}", "needs a command"),
    ];
    for (name, def, msg) in cases {
        let e = stack_errors(name, &format!("      hooks:\n        h: {def}\n")).join("\n");
        assert!(e.contains(msg), "{name}: {e}");
    }
}

#[test]
fn with_the_controller_bdp_renders_it_with_least_verbs_and_no_post_sync_hook() {
    let c = cluster("c", "    zookeeper: {}\n    hdfs: {}\n").replace("  stack: hadoop-3.3\n", "  stack: hadoop-3.3\n  controller: {enabled: true, image: 'registry.example.com/bdp-controller:0.1.0'}\n");
    let objs = compile_text("ctrl", &c).unwrap();
    assert!(!objs.iter().any(|o| o.kind == "Job" && o.name.contains("-hook-")), "the controller runs the hooks: no post-sync Job");
    assert_eq!(hooks_of(&objs, "c")["hooks"][0]["postSync"], false);
    let d = find(&objs, "Deployment", "c-bdp-controller");
    let pod = &d.body["spec"]["template"]["spec"];
    assert_eq!(pod["serviceAccountName"], "c-bdp-controller");
    assert_eq!(pod["automountServiceAccountToken"], true, "the one pod that talks to the API server");
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(pod["securityContext"]["seccompProfile"]["type"], "RuntimeDefault");
    let ct = &pod["containers"][0];
    assert_eq!(ct["image"], "registry.example.com/bdp-controller:0.1.0");
    assert_eq!(ct["args"], serde_json::json!(["--namespace", "t", "--cluster", "c"]));
    assert_eq!(ct["securityContext"]["readOnlyRootFilesystem"], true);
    assert_eq!(ct["securityContext"]["capabilities"]["drop"][0], "ALL");
    assert_eq!(d.body["spec"]["strategy"]["type"], "Recreate");
    let role = find(&objs, "Role", "c-bdp-controller");
    let mut verbs: Vec<String> = Vec::new();
    for r in role.body["rules"].as_array().unwrap() {
        for res in r["resources"].as_array().unwrap() {
            for v in r["verbs"].as_array().unwrap() {
                let names = r["resourceNames"].as_array().map(|n| format!("[{}]", n.iter().map(|x| x.as_str().unwrap()).collect::<Vec<_>>().join(","))).unwrap_or_default();
                verbs.push(format!("{}/{res}{names}:{v}", r["apiGroups"][0].as_str().unwrap()).replace('"', ""));
            }
        }
    }
    verbs.sort();
    assert_eq!(
        verbs,
        [
            "/configmaps:create", "/configmaps:get", "/configmaps:list", "/configmaps:watch", "/configmaps[c-bdp-hooks-status]:update", "/events:create", "/pods:get", "/pods:list", "/pods:watch",
            "apps/statefulsets:get", "apps/statefulsets:list", "apps/statefulsets:watch", "batch/jobs:create", "batch/jobs:get", "batch/jobs:list", "batch/jobs:watch",
            "coordination.k8s.io/leases:create", "coordination.k8s.io/leases[c-bdp-controller]:get", "coordination.k8s.io/leases[c-bdp-controller]:update",
        ],
        "no delete, patch, secrets or pods/exec (no hook of HDFS execs)"
    );
    let rb = find(&objs, "RoleBinding", "c-bdp-controller");
    assert_eq!(rb.body["subjects"][0]["name"], "c-bdp-controller");
    find(&objs, "ServiceAccount", "c-bdp-controller");
    let np = find(&objs, "NetworkPolicy", "c-bdp-controller");
    assert!(np.body["spec"]["ingress"].is_null());
    let e = errors("ctrl-noimage", &cluster("d", "    zookeeper: {}\n").replace("  stack: hadoop-3.3\n", "  stack: hadoop-3.3\n  controller: {enabled: true}\n"));
    assert!(e.iter().any(|d| d.path == "spec.controller" && d.message.contains("needs the controller's `image`")), "{e:?}");
    let off = compile_text("ctrl-off", &cluster("e", "    zookeeper: {}\n    hdfs: {}\n").replace("  stack: hadoop-3.3\n", "  stack: hadoop-3.3\n  controller: {enabled: false, image: x}\n")).unwrap();
    assert!(off.iter().all(|o| !o.name.ends_with("bdp-controller")), "enabled: false renders no controller");
    assert!(off.iter().any(|o| o.kind == "Job" && o.name == "e-hdfs-hook-base-directories"));
}
