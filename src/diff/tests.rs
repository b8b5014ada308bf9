use super::*;
use serde_json::json;

fn key(group: &str, kind: &str, name: &str) -> ObjKey {
    ObjKey { group: group.into(), kind: kind.into(), namespace: "ns".into(), name: name.into() }
}

fn side(objs: Vec<(ObjKey, Value)>) -> Side {
    Side { label: "x".into(), objects: objs.into_iter().collect(), plan: None }
}

#[test]
fn lists_match_by_merge_key_and_report_order() {
    let a = json!({"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}], "ports": [{"containerPort": 80}]});
    let b = json!({"env": [{"name": "B", "value": "3"}, {"name": "A", "value": "1"}, {"name": "C", "value": "4"}], "ports": [{"containerPort": 80}, {"containerPort": 81}]});
    let mut out = vec![];
    diff_value(&a, &b, &mut vec![], &mut out);
    let got: Vec<String> = out.iter().map(|f| format!("{} {}", f.op.sign(), f.path)).collect();
    assert_eq!(got, ["~ env[name=B].value", "+ env[name=C]", "↕ env", "+ ports[containerPort=81/TCP]"]);
}

#[test]
fn annotation_keys_are_quoted_in_paths() {
    let mut out = vec![];
    diff_value(&json!({"metadata": {"annotations": {"a.b/c": "1"}}}), &json!({"metadata": {"annotations": {"a.b/c": "2"}}}), &mut vec![], &mut out);
    assert_eq!(out[0].path, "metadata.annotations[\"a.b/c\"]");
}

#[test]
fn secrets_are_redacted() {
    let k = key("", "Secret", "s");
    let a = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"password": "b2xk"}, "stringData": {"token": "old-token"}});
    let b = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s"}, "data": {"password": "bmV3"}, "stringData": {"token": "new-token"}});
    let r = compare(&side(vec![(k.clone(), a)]), &side(vec![(k, b)]));
    let all = to_text(&r, false) + &to_markdown(&r) + &to_json(&r);
    for secret in ["b2xk", "bmV3", "old-token", "new-token"] {
        assert!(!all.contains(secret), "{secret} leaked:\n{all}");
    }
    assert!(all.contains("(redacted)"));
}

#[test]
fn file_diff_by_key_and_text() {
    let f = diff_file("zoo.cfg", Some("a=1\nb=2\nserver.10=x\n"), Some("a=1\nb=3\nserver.2=y\nserver.10=x\n"), None).unwrap();
    let got: Vec<String> = f.entries.iter().map(|e| format!("{} {}", e.op.sign(), e.key)).collect();
    assert_eq!(got, ["~ b", "+ server.2"]);
    let t = diff_file("notes", Some("one\ntwo\n"), Some("one\nthree\n"), Some(FileFormat::Text)).unwrap();
    assert!(t.text_diff.unwrap().contains("-two\n+three\n"));
    let only_comments = diff_file("a.properties", Some("# x\na=1\n"), Some("# y\na=1\n"), None).unwrap();
    assert!(only_comments.entries.is_empty() && only_comments.text_diff.is_some());
}

#[test]
fn versions_and_quantities() {
    assert_eq!(is_downgrade("zk:3.8.4", "zk:3.8.3"), Some(true));
    assert_eq!(is_downgrade("reg:5000/zk:3.8.4", "reg:5000/zk:3.10.0"), Some(false));
    assert_eq!(is_downgrade("zk:latest", "zk:3.8.3"), None);
    assert_eq!(is_downgrade("a:1.0", "b:0.9"), None);
    assert_eq!(version_key("v3.8.4-jre"), vec![3, 8, 4]);
    assert!(parse_quantity("10Gi").unwrap() > parse_quantity("2000Mi").unwrap());
}

fn sts(name: &str, replicas: i64, image: &str, checksum: &str, vct: bool) -> Value {
    let mut v = json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": name, "namespace": "ns", "annotations": {WAVE_ANNOTATION: "1"}},
        "spec": {"replicas": replicas, "serviceName": name, "selector": {"matchLabels": {"a": "b"}},
            "template": {"metadata": {"annotations": {CHECKSUM_ANNOTATION: checksum}},
                "spec": {"containers": [{"name": "main", "image": image}], "volumes": [{"name": "c", "configMap": {"name": name}}]}}}
    });
    if vct {
        v["spec"]["volumeClaimTemplates"] = json!([{"metadata": {"name": "data"}, "spec": {"resources": {"requests": {"storage": "1Gi"}}}}]);
    }
    v
}

#[test]
fn impact_restarts_risks_and_immutable() {
    let k = key("apps", "StatefulSet", "db");
    let cm = key("", "ConfigMap", "db");
    let old = side(vec![(k.clone(), sts("db", 4, "img:2.0", "aaa", true)), (cm.clone(), json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "db"}, "data": {"x.properties": "a=1\n"}}))]);
    let mut nb = sts("db", 3, "img:1.9", "bbb", true);
    nb["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] = json!("2Gi");
    nb["metadata"]["annotations"][WAVE_ANNOTATION] = json!("2");
    let new = side(vec![(k.clone(), nb), (cm, json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "db"}, "data": {"x.properties": "a=2\n"}}))]);
    let r = compare(&old, &new);
    assert!(r.has_changes());
    assert_eq!(r.restarts.len(), 1);
    assert_eq!(r.restarts[0].pods.names(10).unwrap(), ["db-0", "db-1", "db-2"]);
    let why = r.restarts[0].reasons.join(" | ");
    assert!(why.contains("config: db/x.properties (a)") && why.contains("img:2.0 → img:1.9 (downgrade)"), "{why}");
    assert_eq!(r.immutable.len(), 1);
    assert_eq!(r.immutable[0].field, "spec.volumeClaimTemplates");
    assert!(r.immutable[0].migration.contains("--cascade=orphan"));
    let risks: Vec<&str> = r.risks.iter().map(|x| x.risk.as_str()).collect();
    assert!(risks.iter().any(|x| x.starts_with("replicas 4 → 3: db-3 removed")), "{risks:?}");
    assert!(risks.iter().any(|x| x.contains("downgrade")), "{risks:?}");
    assert_eq!(r.waves.len(), 1);
    assert_eq!((r.waves[0].old, r.waves[0].new), (1, 2));
    // the same side twice: nothing
    let same = compare(&old, &old);
    assert!(!same.has_changes());
    assert_eq!(same.summary.unchanged, 2);
}

#[test]
fn hot_config_change_restarts_nothing() {
    let k = key("apps", "StatefulSet", "db");
    let cm = key("", "ConfigMap", "db");
    let old = side(vec![(k.clone(), sts("db", 3, "img:2.0", "aaa", false)), (cm.clone(), json!({"data": {"log.properties": "level=INFO\n"}}))]);
    let new = side(vec![(k, sts("db", 3, "img:2.0", "aaa", false)), (cm, json!({"data": {"log.properties": "level=DEBUG\n"}}))]);
    let r = compare(&old, &new);
    assert!(r.restarts.is_empty());
    assert!(r.notes.iter().any(|n| n.contains("ConfigMap ns/db changed but no pod template did")), "{:?}", r.notes);
}

#[test]
fn quorum_rule_comes_from_the_plan() {
    let k = key("apps", "StatefulSet", "q");
    let mut old = side(vec![(k.clone(), sts("q", 5, "i:1", "a", false))]);
    let mut new = side(vec![(k.clone(), sts("q", 3, "i:1", "a", false))]);
    assert!(compare(&old, &new).risks.is_empty(), "no plan, no quorum rule");
    let facts = RoleFacts { id: "ns/c/s/q".into(), odd: true, stack: "st".into(), service: "s".into(), role: "q".into(), scale_down: None, service_id: "ns/c/s".into(), replicas: 3, scale: None };
    let mut p = PlanFacts::default();
    p.roles.insert(("ns".into(), "q".into()), facts);
    old.plan = Some(p.clone());
    new.plan = Some(p);
    let r = compare(&old, &new);
    assert_eq!(r.risks.len(), 1);
    assert!(r.risks[0].risk.contains("tolerates 1 failure(s) instead of 2"), "{:?}", r.risks);
}

#[test]
fn start_order_changes_count_as_changes() {
    let mut old = side(vec![]);
    let mut new = side(vec![]);
    let mut p = PlanFacts::default();
    p.edges.insert(("ns/c/a/x".into(), "ns/c/b/y".into()));
    old.plan = Some(p.clone());
    p.edges.clear();
    p.edges.insert(("ns/c/a/x".into(), "ns/c/d/z".into()));
    new.plan = Some(p);
    let r = compare(&old, &new);
    assert!(r.has_changes());
    assert_eq!(r.order_added, [("ns/c/a/x".to_string(), "ns/c/d/z".to_string())]);
    assert_eq!(r.order_removed, [("ns/c/a/x".to_string(), "ns/c/b/y".to_string())]);
    assert!(to_text(&r, false).contains("+ ns/c/a/x → ns/c/d/z"));
}

#[test]
fn service_cluster_ip_set_or_cleared_is_immutable() {
    // the real API server (tests/e2e/apiserver.sh, day 2) refuses a Service that gains `clusterIP: None`
    // ("may not change once set": the live one holds its allocated IP), and keeps a headless Service
    // headless when the rendered one drops `clusterIP: None`: neither is a change a sync can apply
    let k = key("", "Service", "svc");
    let plain = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc"}, "spec": {"ports": [{"port": 2181}]}});
    let headless = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc"}, "spec": {"clusterIP": "None", "ports": [{"port": 2181}]}});
    for (a, b) in [(&plain, &headless), (&headless, &plain)] {
        let r = compare(&side(vec![(k.clone(), a.clone())]), &side(vec![(k.clone(), b.clone())]));
        assert_eq!(r.immutable.len(), 1, "{a} -> {b}");
        assert_eq!(r.immutable[0].field, "spec.clusterIP");
        assert!(r.immutable[0].migration.contains("delete service svc"));
    }
}

#[test]
fn a_job_every_sync_recreates_takes_a_new_template() {
    // bdp's smoke tests: an ArgoCD hook deleted before re-creation that Flux force-replaces; any
    // other Job's template is immutable
    let k = key("batch", "Job", "smoke");
    let job = |recreated: bool, sum: &str| {
        let ann = if recreated {
            json!({"argocd.argoproj.io/hook": "PostSync", "argocd.argoproj.io/hook-delete-policy": "BeforeHookCreation", "kustomize.toolkit.fluxcd.io/force": "enabled"})
        } else {
            json!({"argocd.argoproj.io/hook": "PostSync"})
        };
        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "smoke", "annotations": ann}, "spec": {"template": {"metadata": {"annotations": {"sum": sum}}}}})
    };
    let r = compare(&side(vec![(k.clone(), job(true, "a"))]), &side(vec![(k.clone(), job(true, "b"))]));
    assert!(r.immutable.is_empty(), "{:?}", r.immutable.iter().map(|i| &i.field).collect::<Vec<_>>());
    let r = compare(&side(vec![(k.clone(), job(false, "a"))]), &side(vec![(k.clone(), job(false, "b"))]));
    assert_eq!(r.immutable.len(), 1);
    assert_eq!(r.immutable[0].field, "spec.template");
}
