//! `bdp-controller`: the thin, optional controller of bdp. In the namespaces it is given it
//! watches the hooks ConfigMaps `bdp render` writes (`<cluster>-bdp-hooks`) and the pods,
//! StatefulSets and Jobs labelled by bdp; it runs the hooks that are due (creates their Job, or
//! execs into a pod), records every run in `<cluster>-bdp-hooks-status` and as Events, retries
//! with back-off, holds a Lease per Cluster so that no two replicas run one hook, and exits
//! cleanly on SIGTERM. It never modifies an object bdp renders. See docs/controller.md.

mod decide;
mod hooks;
mod lease;

use decide::{Action, JobState, Record, RoleState};
use futures::StreamExt;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Event, ObjectReference, Pod};
use kube::api::{Api, ListParams, ObjectMeta, PostParams};
use kube::runtime::watcher;
use kube::Client;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

const LABEL_CLUSTER: &str = "kubebdp.github.io/cluster";
const LABEL_HOOK: &str = "kubebdp.github.io/hook";
const ANN_KEY: &str = "kubebdp.github.io/hook-trigger-key";
const ANN_ATTEMPT: &str = "kubebdp.github.io/hook-attempt";
const STATUS_SUFFIX: &str = "-bdp-hooks-status";
const HOOKS_SUFFIX: &str = "-bdp-hooks";

/// The command line.
#[derive(Debug, Clone)]
struct Args {
    namespaces: Vec<String>,
    /// Only these Clusters (empty: every Cluster with a hooks ConfigMap).
    clusters: Vec<String>,
    identity: String,
    interval: Duration,
    lease_seconds: i32,
}

const USAGE: &str = "usage: bdp-controller --namespace NS [--namespace NS2 …] [--cluster NAME …] [--identity ID] [--interval SECONDS] [--lease-seconds SECONDS]
  Runs the post-start hooks of bdp Clusters (their <cluster>-bdp-hooks ConfigMaps) in the given namespaces.
  --identity   the Lease holder name (default: $POD_NAME, else $HOSTNAME, else bdp-controller-<pid>)
  --interval   seconds between full reconciliations besides watch events (default 10)
  --lease-seconds  Lease duration (default 15)
  Kubernetes access: in-cluster ServiceAccount, else $KUBECONFIG / ~/.kube/config.";

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        namespaces: Vec::new(),
        clusters: Vec::new(),
        identity: std::env::var("POD_NAME").or_else(|_| std::env::var("HOSTNAME")).unwrap_or_else(|_| format!("bdp-controller-{}", std::process::id())),
        interval: Duration::from_secs(10),
        lease_seconds: 15,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut val = || it.next().ok_or_else(|| format!("{arg} needs a value\n{USAGE}"));
        match arg.as_str() {
            "--namespace" | "-n" => a.namespaces.push(val()?),
            "--cluster" => a.clusters.push(val()?),
            "--identity" => a.identity = val()?,
            "--interval" => a.interval = Duration::from_secs(val()?.parse().map_err(|e| format!("--interval: {e}"))?),
            "--lease-seconds" => a.lease_seconds = val()?.parse().map_err(|e| format!("--lease-seconds: {e}"))?,
            "--help" | "-h" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    if a.namespaces.is_empty() {
        return Err(format!("give at least one --namespace\n{USAGE}"));
    }
    Ok(a)
}

fn log(msg: &str) {
    eprintln!("{} bdp-controller: {msg}", k8s_openapi::jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ"));
}

fn now() -> i64 {
    k8s_openapi::jiff::Timestamp::now().as_second()
}

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("bdp-controller: cannot start the runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = rt.block_on(run(args));
    std::process::exit(code);
}

async fn run(args: Args) -> i32 {
    let client = match Client::try_default().await {
        Ok(c) => c,
        Err(e) => {
            log(&format!("no Kubernetes client: {e}"));
            return 1;
        }
    };
    let (mut term, mut int) = match (
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()),
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt()),
    ) {
        (Ok(t), Ok(i)) => (t, i),
        _ => {
            log("cannot install the signal handlers");
            return 1;
        }
    };
    log(&format!("started as {} for namespaces {}", args.identity, args.namespaces.join(", ")));
    let wake = Arc::new(Notify::new());
    let mut tasks = Vec::new();
    for ns in &args.namespaces {
        tasks.push(tokio::spawn(wake_on(Api::<ConfigMap>::namespaced(client.clone(), ns), LABEL_CLUSTER, wake.clone())));
        tasks.push(tokio::spawn(wake_on(Api::<Pod>::namespaced(client.clone(), ns), LABEL_CLUSTER, wake.clone())));
        tasks.push(tokio::spawn(wake_on(Api::<StatefulSet>::namespaced(client.clone(), ns), LABEL_CLUSTER, wake.clone())));
        tasks.push(tokio::spawn(wake_on(Api::<Job>::namespaced(client.clone(), ns), LABEL_HOOK, wake.clone())));
    }
    let mut held: BTreeMap<(String, String), ()> = BTreeMap::new();
    let signal = loop {
        for ns in &args.namespaces {
            if let Err(e) = reconcile_namespace(&client, &args, ns, &mut held).await {
                log(&format!("namespace {ns}: {e}"));
            }
        }
        tokio::select! {
            _ = term.recv() => break "SIGTERM",
            _ = int.recv() => break "SIGINT",
            _ = wake.notified() => {
                // let a burst of events settle
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
            _ = tokio::time::sleep(args.interval) => {}
        }
    };
    for t in &tasks {
        t.abort();
    }
    for (ns, name) in held.keys() {
        if let Err(e) = lease::release(&Api::namespaced(client.clone(), ns), name, &args.identity).await {
            log(&format!("could not release Lease {ns}/{name}: {e}"));
        }
    }
    log(&format!("{signal}: released {} Lease(s), stopped", held.len()));
    0
}

/// Wakes the main loop on every change of the objects with label `label`.
async fn wake_on<K>(api: Api<K>, label: &'static str, wake: Arc<Notify>)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug + Send + 'static,
{
    let mut s = watcher(api, watcher::Config::default().labels(label)).boxed();
    while let Some(ev) = s.next().await {
        match ev {
            Ok(_) => wake.notify_one(),
            Err(e) => {
                log(&format!("watch: {e}"));
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
        }
    }
}

fn kube_err(e: kube::Error) -> String {
    e.to_string()
}

fn is_status(e: &kube::Error, code: u16) -> bool {
    matches!(e, kube::Error::Api(s) if s.code == code)
}

/// Every Cluster of the namespace with a hooks ConfigMap whose Lease this replica holds.
async fn reconcile_namespace(client: &Client, args: &Args, ns: &str, held: &mut BTreeMap<(String, String), ()>) -> Result<(), String> {
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    let list = cms.list(&ListParams::default().labels(LABEL_CLUSTER)).await.map_err(kube_err)?;
    for cm in list.items {
        let name = cm.metadata.name.clone().unwrap_or_default();
        let Some(cluster) = name.strip_suffix(HOOKS_SUFFIX) else { continue };
        if cm.metadata.labels.as_ref().and_then(|l| l.get(LABEL_CLUSTER)).map(String::as_str) != Some(cluster) {
            continue;
        }
        if !args.clusters.is_empty() && !args.clusters.iter().any(|c| c == cluster) {
            continue;
        }
        let Some(text) = cm.data.as_ref().and_then(|d| d.get(hooks::HOOKS_KEY)) else { continue };
        let lease_name = format!("{cluster}-bdp-controller");
        let leases = Api::namespaced(client.clone(), ns);
        match lease::try_lead(&leases, &lease_name, &args.identity, args.lease_seconds).await {
            Ok(true) => {
                if held.insert((ns.to_string(), lease_name.clone()), ()).is_none() {
                    log(&format!("leading {ns}/{cluster} (Lease {lease_name})"));
                }
            }
            Ok(false) => {
                if held.remove(&(ns.to_string(), lease_name.clone())).is_some() {
                    log(&format!("lost Lease {ns}/{lease_name}"));
                }
                continue;
            }
            Err(e) => {
                log(&format!("Lease {ns}/{lease_name}: {e}"));
                continue;
            }
        }
        let doc = match hooks::parse(text) {
            Ok(d) => d,
            Err(e) => {
                log(&format!("{ns}/{name}: {e}"));
                continue;
            }
        };
        if doc.cluster != cluster || doc.namespace != ns {
            log(&format!("{ns}/{name}: written for Cluster {}/{}, not this one: ignored", doc.namespace, doc.cluster));
            continue;
        }
        if let Err(e) = reconcile_cluster(client, ns, cluster, &cm, &doc).await {
            log(&format!("{ns}/{cluster}: {e}"));
        }
    }
    Ok(())
}

fn pod_ready(p: &Pod) -> bool {
    p.status.as_ref().and_then(|s| s.conditions.as_ref()).is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn job_state(j: &Job) -> JobState {
    let conds = j.status.as_ref().and_then(|s| s.conditions.clone()).unwrap_or_default();
    let has = |t: &str| conds.iter().any(|c| c.type_ == t && c.status == "True");
    if has("Complete") || has("SuccessCriteriaMet") {
        JobState::Succeeded
    } else if has("Failed") || has("FailureTarget") {
        JobState::Failed
    } else {
        JobState::Running
    }
}

/// The status ConfigMap's records and its resourceVersion (None: it does not exist yet).
async fn read_status(api: &Api<ConfigMap>, name: &str) -> Result<(BTreeMap<String, Record>, Option<ConfigMap>), String> {
    match api.get(name).await {
        Ok(cm) => {
            let recs = cm.data.clone().unwrap_or_default().into_iter().filter_map(|(k, v)| serde_json::from_str(&v).ok().map(|r| (k, r))).collect();
            Ok((recs, Some(cm)))
        }
        Err(e) if is_status(&e, 404) => Ok((BTreeMap::new(), None)),
        Err(e) => Err(kube_err(e)),
    }
}

/// Writes the records (optimistic concurrency: a conflict means another writer; the next round
/// starts again from what is stored).
async fn write_status(api: &Api<ConfigMap>, ns: &str, cluster: &str, recs: &BTreeMap<String, Record>, current: Option<ConfigMap>) -> Result<ConfigMap, String> {
    let data: BTreeMap<String, String> = recs.iter().map(|(k, r)| (k.clone(), serde_json::to_string(r).unwrap_or_default())).collect();
    let name = format!("{cluster}{STATUS_SUFFIX}");
    match current {
        Some(mut cm) => {
            cm.data = Some(data);
            api.replace(&name, &PostParams::default(), &cm).await.map_err(kube_err)
        }
        None => {
            let cm = ConfigMap {
                metadata: ObjectMeta {
                    name: Some(name),
                    namespace: Some(ns.to_string()),
                    labels: Some(BTreeMap::from([("app.kubernetes.io/managed-by".to_string(), "bdp-controller".to_string()), (LABEL_CLUSTER.to_string(), cluster.to_string())])),
                    ..Default::default()
                },
                data: Some(data),
                ..Default::default()
            };
            api.create(&PostParams::default(), &cm).await.map_err(kube_err)
        }
    }
}

// Long because: one pass over a Cluster's hooks: observe, decide, act, record.
async fn reconcile_cluster(client: &Client, ns: &str, cluster: &str, hooks_cm: &ConfigMap, doc: &hooks::HooksDoc) -> Result<(), String> {
    let sel = format!("{LABEL_CLUSTER}={cluster}");
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let stss: Api<StatefulSet> = Api::namespaced(client.clone(), ns);
    let jobs: Api<Job> = Api::namespaced(client.clone(), ns);
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    let pod_list = pods.list(&ListParams::default().labels(&sel)).await.map_err(kube_err)?.items;
    let sts_list = stss.list(&ListParams::default().labels(&sel)).await.map_err(kube_err)?.items;
    let job_list = jobs.list(&ListParams::default().labels(&format!("{sel},{LABEL_HOOK}"))).await.map_err(kube_err)?.items;
    let mut roles: BTreeMap<String, RoleState> = BTreeMap::new();
    for h in &doc.hooks {
        for r in h.roles() {
            let replicas = sts_list.iter().find(|s| s.metadata.name.as_deref() == Some(&r.stateful_set)).map(|s| s.spec.as_ref().and_then(|sp| sp.replicas).unwrap_or(1));
            let matching = pod_list.iter().filter(|p| {
                let labels = p.metadata.labels.clone().unwrap_or_default();
                !r.selector.is_empty() && r.selector.iter().all(|(k, v)| labels.get(k) == Some(v)) && p.metadata.deletion_timestamp.is_none()
            });
            let pods = matching.map(|p| (p.metadata.name.clone().unwrap_or_default(), (p.metadata.uid.clone().unwrap_or_default(), pod_ready(p)))).collect();
            roles.insert(r.stateful_set.clone(), RoleState { replicas, pods });
        }
    }
    let status_name = format!("{cluster}{STATUS_SUFFIX}");
    let (mut recs, current) = read_status(&cms, &status_name).await?;
    let mut all_actions = Vec::new();
    let t = now();
    for h in &doc.hooks {
        let rec = recs.get(&h.id).cloned().unwrap_or_default();
        let js = rec.run.as_ref().filter(|r| r.state == "running" && h.job.is_some()).map(|r| job_list.iter().find(|j| j.metadata.name.as_deref() == Some(&r.target)).map_or(JobState::Missing, job_state));
        let (new, actions) = decide::decide(h, &roles, &rec, js, t);
        if new != rec {
            recs.insert(h.id.clone(), new);
        }
        all_actions.extend(actions.into_iter().map(|a| (h, a)));
    }
    if all_actions.is_empty() && current.is_some() {
        return Ok(());
    }
    // Jobs first: a Job created but not recorded is adopted next round (same name: 409)
    for (h, a) in &all_actions {
        if let Action::CreateJob { name, key, attempt } = a {
            create_job(&jobs, h, name, key, *attempt).await?;
        }
    }
    let mut stored = write_status(&cms, ns, cluster, &recs, current).await?;
    for (h, a) in &all_actions {
        if let Action::Event { warning, reason, message } = a {
            event(client, ns, hooks_cm, *warning, reason, message).await;
            log(&format!("{ns}/{cluster}: {reason}: {message}"));
        }
        let _ = h;
    }
    // execs after the record says `running` (another replica taking over sees it in flight)
    for (h, a) in &all_actions {
        if let Action::Exec { pod, .. } = a {
            let (ok, msg) = exec(client, ns, h, pod).await;
            let rec = recs.get(&h.id).cloned().unwrap_or_default();
            let (new, actions) = decide::exec_done(h, &rec, ok, msg, now());
            recs.insert(h.id.clone(), new);
            stored = write_status(&cms, ns, cluster, &recs, Some(stored)).await?;
            for a in actions {
                if let Action::Event { warning, reason, message } = a {
                    event(client, ns, hooks_cm, warning, reason, &message).await;
                    log(&format!("{ns}/{cluster}: {reason}: {message}"));
                }
            }
        }
    }
    Ok(())
}

async fn create_job(api: &Api<Job>, h: &hooks::Hook, name: &str, key: &str, attempt: u32) -> Result<(), String> {
    let Some(tmpl) = &h.job else { return Ok(()) };
    let mut j: Job = serde_json::from_value(tmpl.clone()).map_err(|e| format!("hook {}: the Job template: {e}", h.id))?;
    j.metadata.name = Some(name.to_string());
    j.metadata.resource_version = None;
    // ArgoCD tracks its objects by app.kubernetes.io/instance: a Job it did not render must not look like one of its own
    if let Some(l) = j.metadata.labels.as_mut() {
        l.remove("app.kubernetes.io/instance");
        l.insert("app.kubernetes.io/managed-by".into(), "bdp-controller".into());
    }
    let ann = j.metadata.annotations.get_or_insert_with(BTreeMap::new);
    ann.insert(ANN_KEY.into(), key.chars().take(200).collect());
    ann.insert(ANN_ATTEMPT.into(), attempt.to_string());
    if let Some(spec) = j.spec.as_mut() {
        spec.ttl_seconds_after_finished = Some(86400);
    }
    match api.create(&PostParams::default(), &j).await {
        Ok(_) => Ok(()),
        Err(e) if is_status(&e, 409) => Ok(()), // the same attempt, created before: adopted
        Err(e) => Err(format!("create Job {name}: {e}")),
    }
}

async fn exec(client: &Client, ns: &str, h: &hooks::Hook, pod: &str) -> (bool, String) {
    use kube::api::AttachParams;
    use tokio::io::AsyncReadExt;
    let Some(e) = &h.exec else { return (false, "no exec".into()) };
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let ap = AttachParams::default().container(e.container.clone()).stdin(false).stdout(true).stderr(true);
    let run = async {
        let mut p = pods.exec(pod, e.command.clone(), &ap).await.map_err(|x| x.to_string())?;
        let mut out = String::new();
        if let Some(mut so) = p.stdout() {
            let _ = so.read_to_string(&mut out).await;
        }
        let mut err = String::new();
        if let Some(mut se) = p.stderr() {
            let _ = se.read_to_string(&mut err).await;
        }
        let status = match p.take_status() {
            Some(s) => s.await,
            None => None,
        };
        let ok = status.as_ref().and_then(|s| s.status.as_deref()) == Some("Success");
        let tail: String = format!("{out}{err}").lines().rev().take(3).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join(" | ");
        Ok::<_, String>((ok, format!("exec in {pod}/{}: {}{}", e.container, if ok { "exit 0" } else { "failed" }, if tail.is_empty() { String::new() } else { format!(": {tail}") })))
    };
    match tokio::time::timeout(Duration::from_secs(h.timeout_seconds.max(1) as u64), run).await {
        Ok(Ok(r)) => r,
        Ok(Err(m)) => (false, format!("exec in {pod}: {m}")),
        Err(_) => (false, format!("exec in {pod}: timed out after {} s", h.timeout_seconds)),
    }
}

/// An Event on the hooks ConfigMap (best effort: a lost Event is logged, the record stays).
async fn event(client: &Client, ns: &str, on: &ConfigMap, warning: bool, reason: &str, message: &str) {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
    let api: Api<Event> = Api::namespaced(client.clone(), ns);
    let t = Time(k8s_openapi::jiff::Timestamp::now());
    let ev = Event {
        metadata: ObjectMeta { generate_name: Some(format!("{}.", on.metadata.name.clone().unwrap_or_default())), namespace: Some(ns.to_string()), ..Default::default() },
        involved_object: ObjectReference {
            api_version: Some("v1".into()),
            kind: Some("ConfigMap".into()),
            name: on.metadata.name.clone(),
            namespace: Some(ns.to_string()),
            uid: on.metadata.uid.clone(),
            ..Default::default()
        },
        reason: Some(reason.to_string()),
        message: Some(message.chars().take(1000).collect()),
        type_: Some(if warning { "Warning" } else { "Normal" }.to_string()),
        first_timestamp: Some(t.clone()),
        last_timestamp: Some(t),
        count: Some(1),
        reporting_component: Some("bdp-controller".into()),
        source: Some(k8s_openapi::api::core::v1::EventSource { component: Some("bdp-controller".into()), host: None }),
        ..Default::default()
    };
    if let Err(e) = api.create(&PostParams::default(), &ev).await {
        log(&format!("Event {reason}: {e}"));
    }
}
