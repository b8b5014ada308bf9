//! Stage 5, render: the plan → Kubernetes objects (typed with k8s-openapi) and native files.
//!
//! Per role: a ConfigMap with the role's files, a headless Service (same name as the
//! StatefulSet, publishing not-ready addresses so peers find each other before they are
//! ready), any extra Services the stack asks for, the StatefulSet, a PodDisruptionBudget and a
//! NetworkPolicy. Per service: a ServiceAccount and the discovery ConfigMap. Pods are hardened
//! (non-root, read-only root filesystem, no capabilities, seccomp RuntimeDefault) and carry a
//! checksum of the config that needs a restart, so a config change rolls exactly the pods it
//! concerns. User `podOverrides` are merged last.

pub mod formats;

use crate::plan::Plan;
use crate::resolve::{Container, EnvValue, Probe, ResolvedCluster, ResolvedRole, ResolvedService};
use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetPersistentVolumeClaimRetentionPolicy, StatefulSetSpec, StatefulSetUpdateStrategy};
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::networking::v1 as net;
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub const WAVE_ANNOTATION: &str = "argocd.argoproj.io/sync-wave";
pub const CHECKSUM_ANNOTATION: &str = "kubebdp.github.io/config-checksum";
pub const LABEL_CLUSTER: &str = "kubebdp.github.io/cluster";
pub const LABEL_SERVICE: &str = "kubebdp.github.io/service";
pub const LABEL_ROLE: &str = "kubebdp.github.io/role";

/// One rendered Kubernetes object with what emit needs to order and place it.
#[derive(Debug, Clone, PartialEq)]
pub struct Object {
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    /// Cluster the object belongs to (for the output layout).
    pub cluster: String,
    pub wave: u32,
    pub body: Value,
}

fn to_object<T: serde::Serialize + k8s_openapi::Resource>(cluster: &str, wave: u32, t: &T) -> Object {
    let body = serde_json::to_value(t).unwrap_or(Value::Null);
    let meta = &body["metadata"];
    Object {
        api_version: T::API_VERSION.to_string(),
        kind: T::KIND.to_string(),
        namespace: meta["namespace"].as_str().unwrap_or_default().to_string(),
        name: meta["name"].as_str().unwrap_or_default().to_string(),
        cluster: cluster.to_string(),
        wave,
        body,
    }
}

/// Merges user overrides onto generated JSON: objects key by key, lists of objects that have a
/// `name` item by item (containers, env, volumes, ports), other lists replaced.
pub fn merge_overrides(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(bv) => merge_overrides(bv, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (Value::Array(b), Value::Array(o))
            if o.iter().all(|x| x.get("name").is_some()) && b.iter().all(|x| x.get("name").is_some()) =>
        {
            for item in o {
                match b.iter_mut().find(|x| x.get("name") == item.get("name")) {
                    Some(existing) => merge_overrides(existing, item),
                    None => b.push(item.clone()),
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

fn btree<I: IntoIterator<Item = (String, String)>>(i: I) -> BTreeMap<String, String> {
    i.into_iter().collect()
}

struct Ctx<'a> {
    c: &'a ResolvedCluster,
    s: &'a ResolvedService,
    /// (namespace, cluster, service) of every service of the plan depending on `s` (ports with
    /// `access: dependents` admit their pods).
    dependents: Vec<(String, String, String)>,
}

/// The services of the plan that depend on service `s` of cluster `c`: through a dependency on
/// the same cluster's service, one naming this Cluster (and namespace), or one reading this
/// service's discovery ConfigMap (`<cluster>-<service>-discovery`, same namespace).
fn dependents_of(plan: &Plan, c: &ResolvedCluster, s: &str) -> Vec<(String, String, String)> {
    use crate::resolve::DepSource;
    let mut out = Vec::new();
    for c2 in &plan.clusters {
        for s2 in &c2.services {
            let depends = s2.deps.iter().any(|d| {
                d.service == s
                    && match &d.from {
                        DepSource::Service => c2.name == c.name && c2.namespace == c.namespace,
                        DepSource::Cluster { cluster, namespace } => *cluster == c.name && *namespace == c.namespace,
                        // this service's discovery ConfigMap, read at runtime by a pod of the same namespace
                        DepSource::ConfigMap { name, .. } => c2.namespace == c.namespace && *name == format!("{}-{s}-discovery", c.name),
                    }
            });
            if depends {
                out.push((c2.namespace.clone(), c2.name.clone(), s2.name.clone()));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

impl Ctx<'_> {
    fn labels(&self, role: Option<&str>) -> BTreeMap<String, String> {
        let mut l = btree([
            ("app.kubernetes.io/name".into(), self.s.name.clone()),
            ("app.kubernetes.io/instance".into(), self.c.name.clone()),
            ("app.kubernetes.io/version".into(), self.s.version.clone()),
            ("app.kubernetes.io/part-of".into(), "kubebdp".into()),
            ("app.kubernetes.io/managed-by".into(), "bdp".into()),
            (LABEL_CLUSTER.into(), self.c.name.clone()),
            (LABEL_SERVICE.into(), self.s.name.clone()),
        ]);
        if let Some(r) = role {
            l.insert("app.kubernetes.io/component".into(), r.to_string());
            l.insert(LABEL_ROLE.into(), r.to_string());
        }
        l
    }

    fn selector(&self, role: &str) -> BTreeMap<String, String> {
        btree([
            (LABEL_CLUSTER.into(), self.c.name.clone()),
            (LABEL_SERVICE.into(), self.s.name.clone()),
            (LABEL_ROLE.into(), role.to_string()),
        ])
    }

    fn meta(&self, name: &str, role: Option<&str>, wave: u32) -> ObjectMeta {
        ObjectMeta {
            name: Some(name.to_string()),
            namespace: Some(self.c.namespace.clone()),
            labels: Some(self.labels(role)),
            annotations: Some(btree([(WAVE_ANNOTATION.into(), wave.to_string())])),
            ..Default::default()
        }
    }
}

fn quantity_map(v: &Value) -> Option<BTreeMap<String, Quantity>> {
    let m = v.as_object()?;
    Some(
        m.iter()
            .map(|(k, v)| (k.clone(), Quantity(match v { Value::String(s) => s.clone(), other => other.to_string() })))
            .collect(),
    )
}

fn probe(p: &Option<Probe>) -> Option<core::Probe> {
    let p = p.as_ref()?;
    Some(core::Probe {
        exec: p.exec.as_ref().map(|c| core::ExecAction { command: Some(c.clone()) }),
        tcp_socket: p.tcp.map(|port| core::TCPSocketAction { port: IntOrString::Int(port), host: None }),
        http_get: p.http.as_ref().map(|(path, port)| core::HTTPGetAction {
            path: Some(path.clone()),
            port: IntOrString::Int(*port),
            ..Default::default()
        }),
        initial_delay_seconds: p.initial_delay_seconds,
        period_seconds: p.period_seconds,
        timeout_seconds: p.timeout_seconds,
        failure_threshold: p.failure_threshold,
        ..Default::default()
    })
}

/// Volume name for a config directory: `config-<dir with / as ->`.
fn config_volume(dir: &str) -> String {
    let s: String = dir.trim_matches('/').chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    let n = format!("config-{s}");
    n.chars().take(63).collect::<String>().trim_end_matches('-').to_string()
}

/// Pod anti-affinity on the node (`kubernetes.io/hostname`) for a role's `placement.spread`.
fn spread_affinity(spread: &str, selector: BTreeMap<String, String>) -> Option<core::Affinity> {
    let term = core::PodAffinityTerm {
        label_selector: Some(LabelSelector { match_labels: Some(selector), match_expressions: None }),
        topology_key: "kubernetes.io/hostname".into(),
        ..Default::default()
    };
    let anti = match spread {
        "required" => core::PodAntiAffinity { required_during_scheduling_ignored_during_execution: Some(vec![term]), ..Default::default() },
        "preferred" => core::PodAntiAffinity {
            preferred_during_scheduling_ignored_during_execution: Some(vec![core::WeightedPodAffinityTerm { weight: 100, pod_affinity_term: term }]),
            ..Default::default()
        },
        _ => return None,
    };
    Some(core::Affinity { pod_anti_affinity: Some(anti), ..Default::default() })
}

/// Best-effort spread over zones (never leaves a pod Pending) for `required` and `preferred`.
fn spread_zones(spread: &str, selector: BTreeMap<String, String>) -> Option<Vec<core::TopologySpreadConstraint>> {
    matches!(spread, "required" | "preferred").then(|| {
        vec![core::TopologySpreadConstraint {
            max_skew: 1,
            topology_key: "topology.kubernetes.io/zone".into(),
            when_unsatisfiable: "ScheduleAnyway".into(),
            label_selector: Some(LabelSelector { match_labels: Some(selector), match_expressions: None }),
            ..Default::default()
        }]
    })
}

fn scratch_volume(i: usize) -> String {
    format!("scratch-{i}")
}

fn container(ctx: &Ctx, r: &ResolvedRole, c: &Container, run_as: i64) -> core::Container {
    let env: Vec<core::EnvVar> = c
        .env
        .iter()
        .map(|(k, v)| match v {
            EnvValue::Value(s) => core::EnvVar { name: k.clone(), value: Some(s.clone()), value_from: None },
            EnvValue::Field(f) => core::EnvVar {
                name: k.clone(),
                value: None,
                value_from: Some(core::EnvVarSource {
                    field_ref: Some(core::ObjectFieldSelector { field_path: f.clone(), api_version: None }),
                    ..Default::default()
                }),
            },
            EnvValue::SecretKey { name, key, optional } => core::EnvVar {
                name: k.clone(),
                value: None,
                value_from: Some(core::EnvVarSource {
                    secret_key_ref: Some(core::SecretKeySelector { name: name.clone(), key: key.clone(), optional: optional.then_some(true) }),
                    ..Default::default()
                }),
            },
            EnvValue::ConfigMapKey { name, key } => core::EnvVar {
                name: k.clone(),
                value: None,
                value_from: Some(core::EnvVarSource {
                    config_map_key_ref: Some(core::ConfigMapKeySelector { name: name.clone(), key: key.clone(), optional: None }),
                    ..Default::default()
                }),
            },
        })
        .collect();
    let mut mounts: Vec<core::VolumeMount> = Vec::new();
    let mut dirs: Vec<&str> = r.files.iter().map(|f| f.dir.as_str()).collect();
    dirs.sort();
    dirs.dedup();
    for d in dirs {
        mounts.push(core::VolumeMount { name: config_volume(d), mount_path: d.to_string(), read_only: Some(true), ..Default::default() });
    }
    for s in &r.storage {
        mounts.push(core::VolumeMount { name: s.name.clone(), mount_path: s.mount_path.clone(), ..Default::default() });
    }
    for v in r.volumes.iter().filter(|v| v.containers.as_ref().is_none_or(|cs| cs.contains(&c.name))) {
        mounts.push(core::VolumeMount { name: v.name.clone(), mount_path: v.mount_path.clone(), read_only: Some(true), ..Default::default() });
    }
    for (i, d) in r.scratch.iter().enumerate() {
        mounts.push(core::VolumeMount { name: scratch_volume(i), mount_path: d.path.clone(), ..Default::default() });
    }
    let ports: Vec<core::ContainerPort> = c
        .ports
        .iter()
        .map(|p| core::ContainerPort {
            name: Some(p.name.clone()),
            container_port: p.port,
            protocol: Some(p.protocol.clone().unwrap_or_else(|| "TCP".into())),
            ..Default::default()
        })
        .collect();
    core::Container {
        name: c.name.clone(),
        image: Some(c.image.clone().unwrap_or_else(|| ctx.s.image.clone())),
        image_pull_policy: Some("Always".into()),
        command: (!c.command.is_empty()).then(|| c.command.clone()),
        args: (!c.args.is_empty()).then(|| c.args.clone()),
        env: (!env.is_empty()).then_some(env),
        ports: (!ports.is_empty()).then_some(ports),
        readiness_probe: probe(&c.readiness),
        liveness_probe: probe(&c.liveness),
        startup_probe: probe(&c.startup),
        resources: Some(core::ResourceRequirements {
            requests: quantity_map(&c.resources["requests"]),
            limits: quantity_map(&c.resources["limits"]),
            ..Default::default()
        }),
        security_context: Some(core::SecurityContext {
            allow_privilege_escalation: Some(false),
            read_only_root_filesystem: Some(true),
            run_as_non_root: Some(true),
            run_as_user: Some(run_as),
            capabilities: Some(core::Capabilities { drop: Some(vec!["ALL".into()]), add: None }),
            ..Default::default()
        }),
        volume_mounts: (!mounts.is_empty()).then_some(mounts),
        termination_message_policy: Some("FallbackToLogsOnError".into()),
        ..Default::default()
    }
}

/// sha256 of the restart-relevant content of a role's files.
pub fn checksum(r: &ResolvedRole) -> String {
    let mut files: Vec<_> = r.files.iter().collect();
    files.sort_by(|a, b| a.name.cmp(&b.name));
    let mut h = Sha256::new();
    for f in files {
        h.update(f.name.as_bytes());
        h.update([0]);
        h.update(formats::restart_relevant(f).as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())
}

/// The pod template of a role, before the user's `podOverrides`.
fn pod_template(ctx: &Ctx, r: &ResolvedRole) -> core::PodTemplateSpec {
    let cl = &ctx.c.name;
    let name = &r.fullname;
    let run_as = ctx.s.run_as.user;
    let mut volumes: Vec<core::Volume> = Vec::new();
    let mut dirs: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for f in &r.files {
        dirs.entry(f.dir.as_str()).or_default().push(f.name.as_str());
    }
    for (d, files) in &dirs {
        volumes.push(core::Volume {
            name: config_volume(d),
            config_map: Some(core::ConfigMapVolumeSource {
                name: name.clone(),
                items: Some(files.iter().map(|f| core::KeyToPath { key: f.to_string(), path: f.to_string(), mode: None }).collect()),
                ..Default::default()
            }),
            ..Default::default()
        });
    }
    for v in &r.volumes {
        // a volume for containers that are not rendered (their `when` is false) is left out
        if v.containers.as_ref().is_some_and(|cs| !r.init_containers.iter().chain(r.containers.iter()).any(|c| cs.contains(&c.name))) {
            continue;
        }
        let items = v.items.as_ref().map(|ks| ks.iter().map(|k| core::KeyToPath { key: k.clone(), path: k.clone(), mode: None }).collect());
        volumes.push(core::Volume {
            name: v.name.clone(),
            secret: v.secret.as_ref().map(|n| core::SecretVolumeSource {
                secret_name: Some(n.clone()),
                optional: v.optional.then_some(true),
                items: items.clone(),
                ..Default::default()
            }),
            config_map: v.config_map.as_ref().map(|n| core::ConfigMapVolumeSource {
                name: n.clone(),
                optional: v.optional.then_some(true),
                items,
                ..Default::default()
            }),
            ..Default::default()
        });
    }
    for (i, d) in r.scratch.iter().enumerate() {
        let empty_dir = core::EmptyDirVolumeSource {
            medium: d.medium.clone(),
            size_limit: d.size_limit.clone().map(k8s_openapi::apimachinery::pkg::api::resource::Quantity),
        };
        volumes.push(core::Volume { name: scratch_volume(i), empty_dir: Some(empty_dir), ..Default::default() });
    }
    let mut pod_annotations = BTreeMap::new();
    pod_annotations.insert(CHECKSUM_ANNOTATION.to_string(), checksum(r));
    let mut pod_labels = ctx.labels(Some(&r.name));
    pod_labels.extend(ctx.selector(&r.name));
    core::PodTemplateSpec {
        metadata: Some(ObjectMeta { labels: Some(pod_labels), annotations: Some(pod_annotations), ..Default::default() }),
        spec: Some(core::PodSpec {
            service_account_name: Some(format!("{}-{}", cl, ctx.s.name)),
            automount_service_account_token: Some(false),
            enable_service_links: Some(false),
            termination_grace_period_seconds: r.termination_grace_period_seconds,
            security_context: Some(core::PodSecurityContext {
                run_as_non_root: Some(true),
                run_as_user: Some(run_as),
                run_as_group: Some(ctx.s.run_as.group),
                fs_group: Some(ctx.s.run_as.group),
                fs_group_change_policy: Some("OnRootMismatch".into()),
                seccomp_profile: Some(core::SeccompProfile { type_: "RuntimeDefault".into(), localhost_profile: None }),
                ..Default::default()
            }),
            init_containers: (!r.init_containers.is_empty())
                .then(|| r.init_containers.iter().map(|c| container(ctx, r, c, run_as)).collect()),
            containers: r.containers.iter().map(|c| container(ctx, r, c, run_as)).collect(),
            volumes: (!volumes.is_empty()).then_some(volumes),
            affinity: spread_affinity(&r.spread, ctx.selector(&r.name)),
            topology_spread_constraints: spread_zones(&r.spread, ctx.selector(&r.name)),
            ..Default::default()
        }),
    }
}

/// A role's pod template with its `podOverrides` merged, as JSON: what the StatefulSet carries.
/// Resolve checks it (the Kubernetes types, requests ≤ limits) before render, which must not fail.
pub fn merged_pod_template(c: &ResolvedCluster, s: &ResolvedService, r: &ResolvedRole) -> Value {
    let ctx = Ctx { c, s, dependents: Vec::new() };
    let mut v = serde_json::to_value(pod_template(&ctx, r)).unwrap_or(Value::Null);
    if let Some(o) = &r.pod_overrides {
        merge_overrides(&mut v, o);
    }
    v
}

fn role_objects(ctx: &Ctx, r: &ResolvedRole, wave: u32, out: &mut Vec<Object>) {
    let cl = &ctx.c.name;
    let name = &r.fullname;
    // ConfigMap with the role's files
    if !r.files.is_empty() {
        let data: BTreeMap<String, String> = r.files.iter().map(|f| (f.name.clone(), formats::write(f))).collect();
        let cm = core::ConfigMap { metadata: ctx.meta(name, Some(&r.name), wave), data: Some(data), ..Default::default() };
        out.push(to_object(cl, wave, &cm));
    }
    let svc_ports = |names: Option<&Vec<String>>| -> Vec<core::ServicePort> {
        r.ports
            .iter()
            .filter(|p| names.is_none_or(|n| n.contains(&p.name)))
            .map(|p| core::ServicePort {
                name: Some(p.name.clone()),
                port: p.port,
                target_port: Some(IntOrString::Int(p.port)),
                protocol: Some(p.protocol.clone().unwrap_or_else(|| "TCP".into())),
                ..Default::default()
            })
            .collect()
    };
    // headless Service: stable pod DNS names, published before readiness
    let headless = core::Service {
        metadata: ctx.meta(name, Some(&r.name), wave),
        spec: Some(core::ServiceSpec {
            cluster_ip: Some("None".into()),
            publish_not_ready_addresses: Some(true),
            selector: Some(ctx.selector(&r.name)),
            ports: Some(svc_ports(None)),
            ..Default::default()
        }),
        ..Default::default()
    };
    out.push(to_object(cl, wave, &headless));
    for (suffix, names) in &r.services {
        let s = core::Service {
            metadata: ctx.meta(&format!("{name}-{suffix}"), Some(&r.name), wave),
            spec: Some(core::ServiceSpec {
                type_: Some("ClusterIP".into()),
                selector: Some(ctx.selector(&r.name)),
                ports: Some(svc_ports(Some(names))),
                ..Default::default()
            }),
            ..Default::default()
        };
        out.push(to_object(cl, wave, &s));
    }

    let run_as = ctx.s.run_as.user;
    let pod = pod_template(ctx, r);
    let claims: Vec<core::PersistentVolumeClaim> = r
        .storage
        .iter()
        .map(|s| core::PersistentVolumeClaim {
            metadata: ObjectMeta { name: Some(s.name.clone()), labels: Some(ctx.selector(&r.name)), ..Default::default() },
            spec: Some(core::PersistentVolumeClaimSpec {
                access_modes: Some(vec!["ReadWriteOnce".into()]),
                storage_class_name: s.storage_class.clone(),
                resources: Some(core::VolumeResourceRequirements {
                    requests: Some(btree_q([("storage".into(), s.size.clone())])),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        })
        .collect();
    let mut meta = ctx.meta(name, Some(&r.name), wave);
    let ann = meta.annotations.get_or_insert_with(BTreeMap::new);
    if !claims.is_empty() {
        // data lives on the PVCs: never prune or delete the StatefulSet from a GitOps tool
        ann.insert("argocd.argoproj.io/sync-options".into(), "Prune=false,Delete=false".into());
        ann.insert("kustomize.toolkit.fluxcd.io/prune".into(), "disabled".into());
    }
    if !ctx.s.image_pinned {
        ann.insert(
            "checkov.io/skip1".into(),
            format!("CKV_K8S_43=image {} is pinned by tag from stack {}; set the service's image.digest in the Cluster to pin by digest", ctx.s.image, ctx.c.stack),
        );
    }
    if let (true, Some(why)) = (run_as < 10000, &ctx.s.run_as.reason) {
        ann.insert("checkov.io/skip2".into(), format!("CKV_K8S_40=runs as uid {run_as}: {why}"));
    }
    let sts = StatefulSet {
        metadata: meta,
        spec: Some(StatefulSetSpec {
            replicas: Some(r.replicas as i32),
            service_name: Some(name.clone()),
            pod_management_policy: Some(r.pod_management_policy.clone()),
            selector: LabelSelector { match_labels: Some(ctx.selector(&r.name)), match_expressions: None },
            update_strategy: Some(StatefulSetUpdateStrategy { type_: Some("RollingUpdate".into()), rolling_update: None }),
            persistent_volume_claim_retention_policy: Some(StatefulSetPersistentVolumeClaimRetentionPolicy {
                when_deleted: Some("Retain".into()),
                when_scaled: Some("Retain".into()),
            }),
            template: pod,
            volume_claim_templates: (!claims.is_empty()).then_some(claims),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut sts_obj = to_object(cl, wave, &sts);
    if let Some(o) = &r.pod_overrides {
        merge_overrides(&mut sts_obj.body["spec"]["template"], o);
    }
    out.push(sts_obj);

    if let Some(mu) = r.pdb_max_unavailable {
        let pdb = PodDisruptionBudget {
            metadata: ctx.meta(name, Some(&r.name), wave),
            spec: Some(PodDisruptionBudgetSpec {
                max_unavailable: Some(IntOrString::Int(mu)),
                selector: Some(LabelSelector { match_labels: Some(ctx.selector(&r.name)), match_expressions: None }),
                ..Default::default()
            }),
            ..Default::default()
        };
        out.push(to_object(cl, wave, &pdb));
    }

    // NetworkPolicy: peer ports from this cluster's pods, client ports from any pod
    let np_port = |p: &crate::model::PortDef| net::NetworkPolicyPort {
        port: Some(IntOrString::Int(p.port)),
        protocol: Some(p.protocol.clone().unwrap_or_else(|| "TCP".into())),
        end_port: None,
    };
    let peer: Vec<_> = r.ports.iter().filter(|p| p.access == crate::model::PortAccess::Peer).map(np_port).collect();
    let client: Vec<_> = r.ports.iter().filter(|p| p.access == crate::model::PortAccess::Client).map(np_port).collect();
    let dependents: Vec<_> = r.ports.iter().filter(|p| p.access == crate::model::PortAccess::Dependents).map(np_port).collect();
    let mut rules = Vec::new();
    if !peer.is_empty() {
        rules.push(net::NetworkPolicyIngressRule {
            from: Some(vec![net::NetworkPolicyPeer {
                pod_selector: Some(LabelSelector { match_labels: Some(btree([(LABEL_CLUSTER.into(), cl.clone())])), match_expressions: None }),
                ..Default::default()
            }]),
            ports: Some(peer),
        });
    }
    if !dependents.is_empty() {
        // this service's own pods, then each dependent service's (another namespace by name)
        let svc_peer = |ns: &str, cluster: &str, service: &str| net::NetworkPolicyPeer {
            pod_selector: Some(LabelSelector {
                match_labels: Some(btree([(LABEL_CLUSTER.into(), cluster.to_string()), (LABEL_SERVICE.into(), service.to_string())])),
                match_expressions: None,
            }),
            namespace_selector: (ns != ctx.c.namespace).then(|| LabelSelector {
                match_labels: Some(btree([("kubernetes.io/metadata.name".into(), ns.to_string())])),
                match_expressions: None,
            }),
            ..Default::default()
        };
        let mut from = vec![svc_peer(&ctx.c.namespace, &ctx.c.name, &ctx.s.name)];
        for (ns, cluster, service) in &ctx.dependents {
            if !(ns == &ctx.c.namespace && cluster == &ctx.c.name && service == &ctx.s.name) {
                from.push(svc_peer(ns, cluster, service));
            }
        }
        rules.push(net::NetworkPolicyIngressRule { from: Some(from), ports: Some(dependents) });
    }
    if !client.is_empty() {
        rules.push(net::NetworkPolicyIngressRule { from: None, ports: Some(client) });
    }
    let np = net::NetworkPolicy {
        metadata: ctx.meta(name, Some(&r.name), wave),
        spec: Some(net::NetworkPolicySpec {
            pod_selector: Some(LabelSelector { match_labels: Some(ctx.selector(&r.name)), match_expressions: None }),
            policy_types: Some(vec!["Ingress".into()]),
            ingress: Some(rules),
            egress: None,
        }),
    };
    out.push(to_object(cl, wave, &np));
}

/// An object from a stack `manifests` template, with bdp's namespace, labels and wave.
fn manifest_object(ctx: &Ctx, role: Option<&str>, wave: u32, mut body: Value) -> Object {
    let meta = &mut body["metadata"];
    if meta.get("namespace").is_none() {
        meta["namespace"] = json!(ctx.c.namespace);
    }
    let mut labels = ctx.labels(role);
    if let Some(Value::Object(m)) = meta.get("labels") {
        for (k, v) in m {
            labels.insert(k.clone(), v.as_str().unwrap_or_default().to_string());
        }
    }
    meta["labels"] = json!(labels);
    let mut ann = serde_json::Map::new();
    if let Some(Value::Object(m)) = meta.get("annotations") {
        ann = m.clone();
    }
    ann.insert(WAVE_ANNOTATION.into(), json!(wave.to_string()));
    meta["annotations"] = Value::Object(ann);
    Object {
        api_version: body["apiVersion"].as_str().unwrap_or_default().to_string(),
        kind: body["kind"].as_str().unwrap_or_default().to_string(),
        namespace: body["metadata"]["namespace"].as_str().unwrap_or_default().to_string(),
        name: body["metadata"]["name"].as_str().unwrap_or_default().to_string(),
        cluster: ctx.c.name.clone(),
        wave,
        body,
    }
}

fn btree_q<I: IntoIterator<Item = (String, String)>>(i: I) -> BTreeMap<String, Quantity> {
    i.into_iter().map(|(k, v)| (k, Quantity(v))).collect()
}

/// Renders every object of every cluster in the plan (unordered; emit orders them).
pub fn render(plan: &Plan) -> Vec<Object> {
    plan.clusters.iter().flat_map(|c| render_cluster(plan, c)).collect()
}

/// Renders the objects of one cluster of the plan (unordered).
pub fn render_cluster(plan: &Plan, c: &ResolvedCluster) -> Vec<Object> {
    let mut out = Vec::new();
    {
        for s in &c.services {
            let ctx = Ctx { c, s, dependents: dependents_of(plan, c, &s.name) };
            let swave = plan.service_wave(c, &s.name);
            let sa = core::ServiceAccount {
                metadata: ctx.meta(&format!("{}-{}", c.name, s.name), None, swave),
                automount_service_account_token: Some(false),
                ..Default::default()
            };
            out.push(to_object(&c.name, swave, &sa));
            if !s.discovery.is_empty() {
                let cm = core::ConfigMap {
                    metadata: ctx.meta(&format!("{}-{}-discovery", c.name, s.name), None, swave),
                    data: Some(s.discovery.clone()),
                    ..Default::default()
                };
                out.push(to_object(&c.name, swave, &cm));
            }
            for m in &s.manifests {
                out.push(manifest_object(&ctx, None, swave, m.clone()));
            }
            for r in &s.roles {
                let wave = plan.wave(c, &s.name, &r.name);
                role_objects(&ctx, r, wave, &mut out);
                for m in &r.manifests {
                    out.push(manifest_object(&ctx, Some(&r.name), wave, m.clone()));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_merge_lists_by_name() {
        let mut base = json!({"spec": {"containers": [{"name": "a", "image": "x", "env": [{"name": "A", "value": "1"}]}], "nodeSelector": {"a": "b"}}});
        merge_overrides(&mut base, &json!({"spec": {"containers": [{"name": "a", "env": [{"name": "B", "value": "2"}]}, {"name": "side", "image": "y"}], "tolerations": [{"key": "k"}]}}));
        assert_eq!(base["spec"]["containers"][0]["image"], "x");
        assert_eq!(base["spec"]["containers"][0]["env"].as_array().unwrap().len(), 2);
        assert_eq!(base["spec"]["containers"][1]["name"], "side");
        assert_eq!(base["spec"]["tolerations"][0]["key"], "k");
        assert_eq!(base["spec"]["nodeSelector"]["a"], "b");
    }

    #[test]
    fn config_volume_names_are_dns_labels() {
        assert_eq!(config_volume("/opt/hadoop/etc/hadoop"), "config-opt-hadoop-etc-hadoop");
        assert_eq!(config_volume("/conf"), "config-conf");
    }
}
