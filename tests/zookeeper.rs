//! ZooKeeper's two membership modes (setting `membership`) as rendered: static (server.N lines
//! in zoo.cfg, no hook) and dynamic (reconfiguration: no server lines, the start script, the
//! super user's Secret, the hook `membership`), and what a resize changes in each. The running
//! proof is tests/e2e/podrun/zookeeper_dynamic.sh.

mod common;
use common::*;
use serde_json::Value;

fn zk(extra: &str, replicas: u32) -> String {
    cluster("zk", &format!("    zookeeper:\n{extra}      roles:\n        server:\n          replicas: {replicas}\n"))
}

const DYNAMIC: &str = "      membership: dynamic\n      superUserSecret: zk-super\n";

fn sts(objs: &[bdp::render::Object]) -> &Value {
    &find(objs, "StatefulSet", "zk-zookeeper-server").body
}

fn env_of(c: &Value) -> Vec<(String, String)> {
    c["env"].as_array().unwrap().iter().map(|e| (e["name"].as_str().unwrap().to_string(), e["value"].as_str().unwrap_or("").to_string())).collect()
}

fn mounts(c: &Value) -> Vec<String> {
    c["volumeMounts"].as_array().map(|m| m.iter().map(|v| v["name"].as_str().unwrap().to_string()).collect()).unwrap_or_default()
}

#[test]
fn static_membership_lists_every_server_and_has_no_hook() {
    let objs = compile_text("zk-static", &zk("", 3)).unwrap();
    let cfg = data(find(&objs, "ConfigMap", "zk-zookeeper-server"), "zoo.cfg");
    assert!(cfg.contains("reconfigEnabled=false") && cfg.contains("standaloneEnabled=true"), "{cfg}");
    assert_eq!(cfg.lines().filter(|l| l.starts_with("server.")).count(), 3, "{cfg}");
    assert!(!objs.iter().any(|o| o.name.contains("hook-membership") || o.name.ends_with("-bdp-hooks")));
    let c = &sts(&objs)["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["command"], serde_json::json!(["zkServer.sh", "start-foreground"]));
}

#[test]
fn dynamic_membership_renders_the_start_script_the_secret_and_the_hook() {
    let objs = compile_text("zk-dynamic", &zk(DYNAMIC, 3)).unwrap();
    let cfg = data(find(&objs, "ConfigMap", "zk-zookeeper-server"), "zoo.cfg");
    assert!(cfg.contains("reconfigEnabled=true") && cfg.contains("standaloneEnabled=false"), "{cfg}");
    assert!(!cfg.lines().any(|l| l.starts_with("server.")), "no server lines: the membership lives on the volumes\n{cfg}");
    let pod = &sts(&objs)["spec"]["template"]["spec"];
    let containers = pod["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 1);
    let c = &containers[0];
    assert_eq!(c["name"], "zookeeper");
    assert_eq!(c["command"][0], "bash");
    assert!(c["command"][2].as_str().unwrap().contains("exec zkServer.sh start-foreground"));
    // the role's ports go to the container rendered, though the static one comes first in the stack
    let ports: Vec<&str> = c["ports"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(ports, ["client", "quorum", "election", "admin", "metrics"]);
    assert!(mounts(c).contains(&"superuser".to_string()));
    for i in pod["initContainers"].as_array().unwrap() {
        assert!(!mounts(i).contains(&"superuser".to_string()), "init container {} must not see the super user's password", i["name"]);
    }
    let vol = pod["volumes"].as_array().unwrap().iter().find(|v| v["name"] == "superuser").unwrap();
    assert_eq!(vol["secret"]["secretName"], "zk-super");

    let job = &find(&objs, "Job", "zk-zookeeper-hook-membership").body;
    assert_eq!(job["metadata"]["annotations"]["argocd.argoproj.io/hook"], "PostSync");
    let a = &job["spec"]["template"]["spec"]["containers"][0];
    assert!(mounts(a).contains(&"superuser".to_string()));
    let env = env_of(a);
    let get = |k: &str| env.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).unwrap_or_else(|| panic!("no env {k}"));
    assert_eq!(get("ZK_REPLICAS"), "3");
    assert_eq!(get("ZK_POD_PREFIX"), "zk-zookeeper-server");
    assert_eq!(get("ZK_PEER_PORTS"), "2888:3888");
    assert!(a["command"][2].as_str().unwrap().contains("reconfig"));
}

#[test]
fn a_dynamic_resize_changes_the_replicas_and_the_hook_not_the_pods() {
    let (three, five) = (compile_text("zk-dyn3", &zk(DYNAMIC, 3)).unwrap(), compile_text("zk-dyn5", &zk(DYNAMIC, 5)).unwrap());
    assert_eq!(sts(&three)["spec"]["template"], sts(&five)["spec"]["template"], "no roll: the pod template does not depend on the size");
    assert_eq!(sts(&five)["spec"]["replicas"], 5);
    let replicas = |objs: &[bdp::render::Object]| {
        let job = &find(objs, "Job", "zk-zookeeper-hook-membership").body;
        env_of(&job["spec"]["template"]["spec"]["containers"][0]).into_iter().find(|(k, _)| k == "ZK_REPLICAS").unwrap().1
    };
    assert_eq!((replicas(&three).as_str(), replicas(&five).as_str()), ("3", "5"));
    // while static, a resize rolls every server (the server lines are in zoo.cfg)
    let (s3, s5) = (compile_text("zk-st3", &zk("", 3)).unwrap(), compile_text("zk-st5", &zk("", 5)).unwrap());
    assert_ne!(sts(&s3)["spec"]["template"], sts(&s5)["spec"]["template"]);
}

#[test]
fn dynamic_membership_needs_the_super_users_secret_and_a_known_mode() {
    let e = errors("zk-no-secret", &zk("      membership: dynamic\n", 3));
    assert!(e.iter().any(|d| d.to_string().contains("superUserSecret")), "{e:?}");
    let e = errors("zk-bad-mode", &zk("      membership: elastic\n", 3));
    assert!(e.iter().any(|d| d.to_string().contains("membership must be static or dynamic")), "{e:?}");
}
