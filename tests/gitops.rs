//! GitOps delivery: ArgoCD's sync order replayed on the rendered output, the `-o DIR` layout
//! built by the real kustomize (`kubectl kustomize`) against the stream, and the Flux chain of
//! `render --flux` checked against the Flux v1 Kustomization schema and the plan's waves.

use bdp::names::WAVE_ANNOTATION;
use bdp::render::Object;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn compile(inputs: &[&str], stacks: Option<&str>) -> bdp::Compiled {
    let paths: Vec<PathBuf> = inputs.iter().map(|p| root().join(p)).collect();
    let opts = bdp::Options { stacks_dir: stacks.map(|s| root().join(s)), strict: false, monitoring: None };
    match bdp::compile(&paths, &opts) {
        Ok(c) => c,
        Err(d) => panic!("{inputs:?} does not compile:\n{}", d.items.iter().map(|x| x.to_string()).collect::<Vec<_>>().join("\n")),
    }
}

fn chain() -> bdp::Compiled {
    compile(&["tests/fixtures/diff/base.yaml"], Some("tests/fixtures/diff/stacks"))
}

// ---------------------------------------------------------------------------------------------
// ArgoCD's sync order (gitops-engine syncTasks.Less): phase, wave, kind order, name.

/// `kindOrder` of gitops-engine (copied from Helm's kind_sorter.go), as in
/// shared/reference/gitops.md §1.1. Every other kind sorts after these.
const ARGO_KIND_ORDER: [&str; 35] = [
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
];

fn annotation<'a>(o: &'a Object, k: &str) -> Option<&'a str> {
    o.body["metadata"]["annotations"][k].as_str()
}

/// Phase: PreSync -1, Sync 0, PostSync 1, SyncFail 2 (hooks by annotation); `None` for Skip.
fn phase(o: &Object) -> Option<i32> {
    match annotation(o, "argocd.argoproj.io/hook") {
        None | Some("Sync") => Some(0),
        Some("PreSync") => Some(-1),
        Some("PostSync") => Some(1),
        Some("SyncFail") => Some(2),
        Some("Skip") => None,
        Some(other) => panic!("{} {}: unknown hook {other}", o.kind, o.name),
    }
}

fn argo_wave(o: &Object) -> i64 {
    // ArgoCD parses the annotation with strconv.Atoi and silently falls back to 0: bdp must
    // therefore always write a plain integer, which this asserts.
    let w = annotation(o, WAVE_ANNOTATION).unwrap_or_else(|| panic!("{} {} has no sync-wave", o.kind, o.name));
    w.parse::<i64>().unwrap_or_else(|_| panic!("{} {}: sync-wave `{w}` is not an integer", o.kind, o.name))
}

fn kind_index(kind: &str) -> usize {
    ARGO_KIND_ORDER.iter().position(|k| *k == kind).unwrap_or(ARGO_KIND_ORDER.len())
}

/// The objects in the order ArgoCD applies them.
fn argo_order(objects: &[Object]) -> Vec<&Object> {
    let mut v: Vec<&Object> = objects.iter().filter(|o| phase(o).is_some()).collect();
    v.sort_by(|a, b| {
        (phase(a), argo_wave(a), kind_index(&a.kind), a.kind.as_str(), a.name.as_str()).cmp(&(phase(b), argo_wave(b), kind_index(&b.kind), b.kind.as_str(), b.name.as_str()))
    });
    v
}

fn role_of(o: &Object) -> Option<(String, String, String)> {
    let l = &o.body["metadata"]["labels"];
    Some((l["kubebdp.github.io/cluster"].as_str()?.into(), l["kubebdp.github.io/service"].as_str()?.into(), l["kubebdp.github.io/role"].as_str()?.into()))
}

/// Index in ArgoCD's order of the StatefulSet of (cluster, service, role).
fn sts_position(order: &[&Object], cluster: &str, service: &str, role: &str) -> Option<usize> {
    order.iter().position(|o| o.kind == "StatefulSet" && role_of(o).as_ref().is_some_and(|(c, s, r)| c == cluster && s == service && r == role))
}

/// Checks every plan edge against ArgoCD's order: the StatefulSet of the role that must be up
/// first is applied, and its wave is complete, before anything of the dependent role.
fn assert_plan_respected(c: &bdp::Compiled) {
    let order = argo_order(&c.objects);
    for o in &c.objects {
        assert!(
            o.body["spec"]["template"]["metadata"]["annotations"].get(WAVE_ANNOTATION).is_none(),
            "{} {}: sync-wave inside the pod template would roll pods when waves renumber",
            o.kind,
            o.name
        );
        assert_eq!(argo_wave(o), o.wave as i64, "{} {}: annotation and emitted wave differ", o.kind, o.name);
    }
    for (a, b) in &c.plan.edges {
        let pa = sts_position(&order, &a.cluster, &a.service, &a.role).unwrap_or_else(|| panic!("no StatefulSet for {a}"));
        let wa = argo_wave(order[pa]);
        for (i, o) in order.iter().enumerate() {
            if role_of(o).is_some_and(|(cl, s, r)| cl == b.cluster && s == b.service && r == b.role) {
                assert!(i > pa, "{} {} of {b} is applied before the StatefulSet of {a}", o.kind, o.name);
                assert!(argo_wave(o) > wa, "{} {} of {b} is in wave {}, not after {a}'s wave {wa}", o.kind, o.name, argo_wave(o));
            }
        }
    }
    for (id, w) in &c.plan.waves {
        if let Some(p) = sts_position(&order, &id.cluster, &id.service, &id.role) {
            assert_eq!(argo_wave(order[p]) as u32, *w, "{id}: StatefulSet wave differs from the plan");
        }
    }
}

/// Cluster, service and role of the StatefulSets in ArgoCD's order.
fn sts_start_order(c: &bdp::Compiled) -> Vec<String> {
    argo_order(&c.objects).iter().filter(|o| o.kind == "StatefulSet").filter_map(|o| role_of(o)).map(|(c, s, r)| format!("{c}/{s}/{r}")).collect()
}

#[test]
fn argo_order_of_a_multi_service_chain() {
    let c = chain();
    assert_plan_respected(&c);
    assert_eq!(sts_start_order(&c), ["demo/coord/member", "demo/store/journal", "demo/store/meta", "demo/store/data"]);
    // within a wave: dependencies of the workload first (kind order), StatefulSet last but PDB/NP first
    let order = argo_order(&c.objects);
    let wave0: Vec<&str> = order.iter().filter(|o| argo_wave(o) == 0).map(|o| o.kind.as_str()).collect();
    assert_eq!(wave0, ["NetworkPolicy", "PodDisruptionBudget", "ServiceAccount", "ConfigMap", "Service", "StatefulSet"]);
}

#[test]
fn argo_order_of_the_examples() {
    let mut inputs: Vec<String> = std::fs::read_dir(root().join("examples"))
        .expect("examples/")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .map(|p| p.strip_prefix(root()).unwrap().to_string_lossy().into_owned())
        .collect();
    if root().join("examples/fleet").is_dir() {
        inputs.push("examples/fleet".into());
    }
    inputs.sort();
    assert!(inputs.iter().any(|i| i.ends_with("zookeeper.yaml")), "{inputs:?}");
    for i in &inputs {
        let c = compile(&[i], None);
        assert_plan_respected(&c);
    }
}

#[test]
fn argo_order_hdfs_ha_zookeeper_journal_name_data() {
    let p = "examples/hdfs-ha.yaml";
    if !root().join(p).exists() {
        eprintln!("{p} not present yet: nothing to check");
        return;
    }
    let c = compile(&[p], None);
    let order: Vec<String> = sts_start_order(&c).into_iter().map(|s| s.split_once('/').map(|x| x.1.to_string()).unwrap_or(s)).collect();
    let pos = |x: &str| order.iter().position(|s| s == x).unwrap_or_else(|| panic!("{x} not in {order:?}"));
    assert!(pos("zookeeper/server") < pos("hdfs/journalnode"), "{order:?}");
    assert!(pos("hdfs/journalnode") < pos("hdfs/namenode"), "{order:?}");
    assert!(pos("hdfs/namenode") < pos("hdfs/datanode"), "{order:?}");
}

#[test]
fn argo_order_kdc_first() {
    let mut found = false;
    for e in std::fs::read_dir(root().join("examples")).expect("examples/").filter_map(Result::ok) {
        let p = e.path();
        if p.extension().is_none_or(|x| x != "yaml") {
            continue;
        }
        let c = compile(&[&p.strip_prefix(root()).unwrap().to_string_lossy()], None);
        let order = sts_start_order(&c);
        // clusters that run a KDC (an external realm has a kerberos service without roles)
        for cl in c.plan.clusters.iter().filter(|cl| cl.services.iter().any(|s| s.name == "kerberos" && !s.roles.is_empty())) {
            found = true;
            let mine: Vec<&String> = order.iter().filter(|s| s.starts_with(&format!("{}/", cl.name))).collect();
            assert!(mine.first().is_some_and(|s| s.starts_with(&format!("{}/kerberos/", cl.name))), "{}: KDC is not first: {mine:?}", p.display());
        }
    }
    if !found {
        eprintln!("no example with a kerberos service yet: nothing to check");
    }
}

// ---------------------------------------------------------------------------------------------
// kustomize build of the -o layout equals the stream

fn tmpdir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("bdp-gitops-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

fn kubectl_available() -> bool {
    match Command::new("kubectl").arg("version").arg("--client").output() {
        Ok(o) if o.status.success() => true,
        _ => {
            assert!(std::env::var("CI").is_err(), "kubectl is required in CI (tests/e2e/install.sh)");
            eprintln!("kubectl not installed: kustomize checks skipped");
            false
        }
    }
}

fn kustomize(dir: &Path, load_restrictor_none: bool) -> Vec<Value> {
    let mut cmd = Command::new("kubectl");
    cmd.arg("kustomize");
    if load_restrictor_none {
        cmd.args(["--load-restrictor", "LoadRestrictionsNone"]);
    }
    let out = cmd.arg(dir).output().expect("kubectl runs");
    assert!(out.status.success(), "kubectl kustomize {} failed: {}", dir.display(), String::from_utf8_lossy(&out.stderr));
    docs(&String::from_utf8_lossy(&out.stdout))
}

fn docs(text: &str) -> Vec<Value> {
    bdp::source::parse_documents(Path::new("kustomize-output"), text)
        .unwrap_or_else(|e| panic!("unparsable YAML: {e:?}"))
        .into_iter()
        .map(|d| d.root.to_json())
        .filter(|v| !v.is_null())
        .collect()
}

fn by_id(v: Vec<Value>) -> BTreeMap<(String, String, String, String), Value> {
    let mut m = BTreeMap::new();
    for d in v {
        let s = |p: &str| d.pointer(p).and_then(Value::as_str).unwrap_or_default().to_string();
        let id = (s("/apiVersion"), s("/kind"), s("/metadata/namespace"), s("/metadata/name"));
        assert!(m.insert(id.clone(), d).is_none(), "{id:?} twice");
    }
    m
}

fn write_layout(c: &bdp::Compiled, dir: &Path, flux: Option<&bdp::flux::FluxOptions>) {
    let mut files = bdp::emit::layout(&c.objects);
    if let Some(f) = flux {
        files.extend(bdp::flux::files(&c.objects, f));
    }
    bdp::emit::write_dir(dir, &files).expect("write the layout");
}

#[test]
fn kustomize_build_equals_the_stream() {
    if !kubectl_available() {
        return;
    }
    let cases: Vec<(&str, bdp::Compiled)> = vec![
        ("chain", chain()),
        ("zookeeper", compile(&["examples/zookeeper.yaml"], None)),
    ];
    let mut cases = cases;
    if root().join("examples/fleet").is_dir() {
        cases.push(("fleet", compile(&["examples/fleet"], None)));
    }
    for (tag, c) in cases {
        let dir = tmpdir(tag);
        let flux = bdp::flux::FluxOptions::new(None, Some("./clusters/x"), &dir).unwrap();
        write_layout(&c, &dir, Some(&flux));
        let stream = by_id(docs(&bdp::emit::stream(&c.objects)));
        assert_eq!(stream.len(), c.objects.len());
        let built = by_id(kustomize(&dir, false));
        assert_eq!(built.keys().collect::<Vec<_>>(), stream.keys().collect::<Vec<_>>(), "{tag}: kustomize builds other objects than the stream");
        for (id, v) in &stream {
            assert_eq!(&built[id], v, "{tag}: {id:?} differs between kustomize and the stream");
        }
        // the wave kustomizations of --flux together build the same objects, each in its wave
        let mut union = BTreeMap::new();
        let waves: BTreeSet<u32> = c.objects.iter().map(|o| o.wave).collect();
        for w in waves {
            for (id, v) in by_id(kustomize(&dir.join(format!("_flux/wave-{w}")), true)) {
                let wave = v.pointer(&format!("/metadata/annotations/{}", WAVE_ANNOTATION.replace('/', "~1"))).and_then(Value::as_str).unwrap_or("?").to_string();
                assert_eq!(wave, w.to_string(), "{tag}: {id:?} is in the Flux wave-{w} kustomization");
                assert!(union.insert(id, v).is_none());
            }
        }
        assert_eq!(union, stream, "{tag}: the Flux wave kustomizations differ from the stream");
        // _flux/ builds the Flux objects only
        let fluxed = kustomize(&dir.join("_flux"), false);
        assert!(fluxed.iter().all(|d| d["apiVersion"] == "kustomize.toolkit.fluxcd.io/v1"), "{tag}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// Flux chain

fn flux_objects(dir: &Path) -> Vec<Value> {
    docs(&std::fs::read_to_string(dir.join("_flux/kustomizations.yaml")).expect("_flux/kustomizations.yaml"))
}

#[test]
fn flux_chain_is_valid_and_matches_the_plan() {
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(root().join("tests/fixtures/flux/kustomization-v1.schema.json")).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    for (tag, c) in [("chain", chain()), ("zookeeper", compile(&["examples/zookeeper.yaml"], None))] {
        let dir = tmpdir(&format!("flux-{tag}"));
        let flux = bdp::flux::FluxOptions::new(Some("OCIRepository/platform"), Some("deploy/prod"), &dir).unwrap();
        write_layout(&c, &dir, Some(&flux));
        let ks = flux_objects(&dir);
        // the root kustomization.yaml does not list the Flux files
        let root_k = std::fs::read_to_string(dir.join("kustomization.yaml")).unwrap();
        assert!(!root_k.contains("_flux"), "{root_k}");
        // the plan's waves, and after them the wave of the smoke test Jobs (the last Kustomization)
        let mut waves: BTreeSet<u32> = c.plan.waves.values().copied().collect();
        let smoke: Vec<&bdp::render::Object> = c.objects.iter().filter(|o| o.kind == "Job").collect();
        if !smoke.is_empty() {
            let last = waves.iter().max().map_or(0, |w| w + 1);
            assert!(smoke.iter().all(|o| o.wave == last), "{tag}: smoke test Jobs are in wave {last}, after every role");
            waves.insert(last);
        }
        assert_eq!(ks.len(), waves.len(), "{tag}: one Kustomization per wave");
        let mut names = BTreeMap::new();
        for (i, k) in ks.iter().enumerate() {
            let errors: Vec<String> = validator.iter_errors(k).map(|e| format!("{} at {}", e, e.instance_path())).collect();
            assert!(errors.is_empty(), "{tag}: not a valid Flux v1 Kustomization: {errors:?}\n{k}");
            assert_eq!(k["spec"]["wait"], true);
            assert_eq!(k["spec"]["prune"], true);
            assert_eq!(k["spec"]["sourceRef"]["kind"], "OCIRepository");
            assert_eq!(k["spec"]["path"], format!("./deploy/prod/_flux/wave-{i}"));
            names.insert(k["metadata"]["name"].as_str().unwrap().to_string(), i);
        }
        // dependsOn: a chain, wave N on wave N-1 only; hence a DAG whose topological order is the waves
        for (i, k) in ks.iter().enumerate() {
            let deps: Vec<usize> = k["spec"]["dependsOn"].as_array().map(|a| a.iter().map(|d| names[d["name"].as_str().unwrap()]).collect()).unwrap_or_default();
            if i == 0 {
                assert!(deps.is_empty());
            } else {
                assert_eq!(deps, [i - 1], "{tag}: wave {i} depends on {deps:?}");
            }
        }
        // every role's StatefulSet is in the Kustomization of its plan wave
        for (id, w) in &c.plan.waves {
            let sts = c.objects.iter().find(|o| o.kind == "StatefulSet" && role_of(o) == Some((id.cluster.clone(), id.service.clone(), id.role.clone()))).unwrap();
            let wk = std::fs::read_to_string(dir.join(format!("_flux/wave-{w}/kustomization.yaml"))).unwrap();
            assert!(wk.contains(&bdp::emit::object_path(sts).to_string_lossy().to_string()), "{tag}: {id} not in wave {w}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn render_flux_cli() {
    let bin = env!("CARGO_BIN_EXE_bdp");
    let dir = tmpdir("cli");
    let out = Command::new(bin)
        .current_dir(root())
        .args(["render", "--stacks", "tests/fixtures/diff/stacks", "tests/fixtures/diff/base.yaml", "-o"])
        .arg(&dir)
        .args(["--flux", "--flux-source", "GitRepository/platform", "--flux-path", "./clusters/demo"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let ks = flux_objects(&dir);
    assert_eq!(ks.len(), 4);
    assert_eq!(ks[3]["metadata"]["name"], "bdp-clusters-demo-wave-3");
    // without --flux the Flux files are removed again
    let out = Command::new(bin).current_dir(root()).args(["render", "--stacks", "tests/fixtures/diff/stacks", "tests/fixtures/diff/base.yaml", "-o"]).arg(&dir).output().unwrap();
    assert!(out.status.success());
    assert!(!dir.join("_flux").exists());
    // bad options: exit 2, nothing written
    let bad = tmpdir("cli-bad");
    let out = Command::new(bin)
        .current_dir(root())
        .args(["render", "examples/zookeeper.yaml", "-o"])
        .arg(&bad)
        .args(["--flux", "--flux-source", "GitRepo/x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `GitRepository`"));
    assert!(!bad.exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

// ---------------------------------------------------------------------------------------------
// deploy/argocd

#[test]
fn argocd_plugin_and_applicationset_are_well_formed() {
    let plugin = docs(&std::fs::read_to_string(root().join("deploy/argocd/plugin.yaml")).unwrap());
    assert_eq!(plugin.len(), 1);
    let p = &plugin[0];
    assert_eq!(p["apiVersion"], "argoproj.io/v1alpha1");
    assert_eq!(p["kind"], "ConfigManagementPlugin");
    let generate: Vec<String> = p["spec"]["generate"]["command"].as_array().unwrap().iter().chain(p["spec"]["generate"]["args"].as_array().into_iter().flatten()).map(|v| v.as_str().unwrap().to_string()).collect();
    let joined = generate.join(" ");
    assert!(joined.contains("bdp render") && joined.contains("${ARGOCD_ENV_BDP_INPUT:-.}"), "{joined}");
    assert!(p["spec"]["discover"].is_object());
    let sets = docs(&std::fs::read_to_string(root().join("deploy/argocd/applicationset.yaml")).unwrap());
    let set = sets.iter().find(|d| d["kind"] == "ApplicationSet").expect("an ApplicationSet");
    assert_eq!(set["apiVersion"], "argoproj.io/v1alpha1");
    let template = &set["spec"]["template"]["spec"];
    assert!(template["source"]["plugin"].is_object() || template["sources"].is_array(), "{template}");
    assert!(set["spec"]["generators"].as_array().is_some_and(|g| !g.is_empty()));
}
