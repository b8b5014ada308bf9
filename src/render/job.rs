//! Jobs of a service's actions (`bdp action`) and smoke tests (rendered with every Cluster).
//!
//! The pod is the role's pod made one-off: the same hardening (non-root, read-only root
//! filesystem, no capabilities, seccomp, no ServiceAccount token), the role's ConfigMap,
//! scratch directories and volumes, the init containers the action names (e.g. the keytab of
//! the role's Kerberos identity), and one container `action`; `restartPolicy: Never`. Its labels
//! name the cluster, the service and the action but not the role, so no Service, PDB or
//! NetworkPolicy of the role selects it, while the service's `peer`/`dependents` ports admit it.
//! Arguments reach the container only as environment variables (`BDP_ARG_<NAME>`). The role's
//! pod-level `podOverrides` (not its container entries) are merged onto the Job's pod.

use super::{pod::pod_template, to_object, Ctx, Object, RenderError};
use crate::merge::merge_overrides;
use crate::names::{self, LABEL_ACTION};
use crate::resolve::{arg_env, EnvValue, ResolvedAction, ResolvedCluster, ResolvedRole, ResolvedService};
use k8s_openapi::api::batch::v1::{Job, JobSpec};
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// How a Job is delivered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobKind {
    /// `bdp action`: committed or `kubectl create`d by the user; no wave, no hook.
    Action,
    /// The smoke test: an ArgoCD PostSync hook (re-created before each sync's hook run), and
    /// for Flux an object of the last wave's Kustomization (`wait: true`), replaced when its
    /// pod template changes.
    SmokeTest,
    /// A `rolesReady` hook without the controller: delivered like the smoke test.
    PostSyncHook,
    /// A hook's Job as the hooks ConfigMap carries it for the controller (no hook annotations,
    /// no wave).
    HookTemplate,
}

impl JobKind {
    fn is_hook(self) -> bool {
        matches!(self, JobKind::PostSyncHook | JobKind::HookTemplate)
    }
}

/// The role's `podOverrides` that hold for its Jobs too: everything but the entries of
/// `spec.containers` and `spec.initContainers`, which name the daemon's containers (a Job has one
/// container, `action`) — so tolerations, node selectors, affinity, priority class, image pull
/// secrets, the pod's security context and metadata reach the Jobs of the role's actions and
/// smoke test, where the nodes and the registry demand them as they do for the daemons.
fn pod_level_overrides(r: &ResolvedRole) -> Option<serde_json::Value> {
    let mut o = r.pod_overrides.clone()?;
    if let Some(spec) = o.get_mut("spec").and_then(|s| s.as_object_mut()) {
        spec.remove("containers");
        spec.remove("initContainers");
    }
    Some(o)
}

/// A NetworkPolicy that admits nothing to the smoke test's pod (a client that serves no port),
/// so that no pod of the render is left without a policy.
pub fn smoke_test_policy(c: &ResolvedCluster, s: &ResolvedService, wave: u32) -> Result<Object, RenderError> {
    use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicySpec};
    let ctx = Ctx { c, s, dependents: Vec::new() };
    let mut sel = ctx.labels(None);
    sel.retain(|k, _| k == names::LABEL_CLUSTER || k == names::LABEL_SERVICE);
    sel.insert(LABEL_ACTION.into(), names::SMOKE_TEST.into());
    let mut meta = ctx.meta(&smoke_test_name(c, s), None, wave);
    meta.labels.get_or_insert_with(BTreeMap::new).insert(LABEL_ACTION.into(), names::SMOKE_TEST.into());
    let np = NetworkPolicy {
        metadata: meta,
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector { match_labels: Some(sel), match_expressions: None }),
            policy_types: Some(vec!["Ingress".into()]),
            ingress: None,
            ..Default::default()
        }),
    };
    to_object(&c.name, wave, &np)
}

/// `<cluster>-<service>-smoke-test` (cut and hashed when longer than a Job name may be).
fn smoke_test_name(c: &ResolvedCluster, s: &ResolvedService) -> String {
    let name = format!("{}-{}-{}", c.name, s.name, names::SMOKE_TEST);
    if name.len() > names::MAX_JOB_NAME {
        names::action_job(&c.name, &s.name, names::SMOKE_TEST, &args_hash(&name, &BTreeMap::new()))
    } else {
        name
    }
}

/// The hash in an action Job's name: the action and its argument values, sorted by name.
pub fn args_hash(action: &str, args: &BTreeMap<String, String>) -> String {
    let mut h = Sha256::new();
    h.update(action.as_bytes());
    for (k, v) in args {
        h.update([0]);
        h.update(k.as_bytes());
        h.update([0]);
        h.update(v.as_bytes());
    }
    hex::encode(&h.finalize()[..4])
}

/// The Job of an action (or smoke test) `a` of role `r`, with the argument values `args`
/// (already checked against their declarations; missing ones take their defaults).
// Long because: the role's pod template made one-off, then the Job around it, field by field.
pub fn job(c: &ResolvedCluster, s: &ResolvedService, r: &ResolvedRole, a: &ResolvedAction, args: &BTreeMap<String, String>, kind: JobKind, wave: u32) -> Result<Object, RenderError> {
    let ctx = Ctx { c, s, dependents: Vec::new() };
    let mut container = a.container.clone();
    for (name, def) in &a.arguments {
        let v = args.get(name).or(def.default.as_ref()).cloned().unwrap_or_default();
        container.env.insert(arg_env(name), EnvValue::Value(v));
    }
    let one_off = ResolvedRole {
        init_containers: a.init_containers.clone(),
        containers: vec![container],
        storage: if a.mount_storage { r.storage.clone() } else { Vec::new() },
        spread: "none".into(),
        ..r.clone()
    };
    let mut tmpl = pod_template(&ctx, &one_off);
    let mut labels = ctx.labels(None);
    if kind.is_hook() {
        labels.insert(LABEL_ACTION.into(), format!("hook-{}", a.name));
        labels.insert(names::LABEL_HOOK.into(), a.name.clone());
    } else {
        labels.insert(LABEL_ACTION.into(), a.name.clone());
    }
    let meta = tmpl.metadata.get_or_insert_with(Default::default);
    meta.labels = Some(labels.clone());
    if let Some(spec) = tmpl.spec.as_mut() {
        spec.restart_policy = Some("Never".into());
        if a.mount_storage {
            let pod0 = names::pod(&r.fullname, 0);
            let vols = spec.volumes.get_or_insert_with(Vec::new);
            for st in &r.storage {
                vols.push(core::Volume {
                    name: st.name.clone(),
                    persistent_volume_claim: Some(core::PersistentVolumeClaimVolumeSource { claim_name: format!("{}-{pod0}", st.name), read_only: None }),
                    ..Default::default()
                });
            }
            // a ReadWriteOnce volume is attached to one node: run where pod 0 runs
            let mut sel = ctx.selector(&r.name);
            sel.insert("statefulset.kubernetes.io/pod-name".into(), pod0);
            spec.affinity = Some(core::Affinity {
                pod_affinity: Some(core::PodAffinity {
                    required_during_scheduling_ignored_during_execution: Some(vec![core::PodAffinityTerm {
                        label_selector: Some(LabelSelector { match_labels: Some(sel), match_expressions: None }),
                        topology_key: "kubernetes.io/hostname".into(),
                        ..Default::default()
                    }]),
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
    }
    if let Some(o) = pod_level_overrides(r) {
        let mut v = serde_json::to_value(&tmpl).map_err(|e| RenderError { object: format!("Job pod of {}", a.name), error: e.to_string() })?;
        merge_overrides(&mut v, &o);
        tmpl = serde_json::from_value(v).map_err(|e| RenderError { object: format!("Job pod of {} with the role's podOverrides", a.name), error: e.to_string() })?;
    }
    let (name, mut jmeta) = match kind {
        JobKind::Action => {
            let name = names::action_job(&c.name, &s.name, &a.name, &args_hash(&a.name, args));
            let mut m = ctx.meta(&name, None, wave);
            m.annotations = None;
            (name, m)
        }
        JobKind::HookTemplate => {
            let name = names::hook_job(&c.name, &s.name, &a.name, &args_hash(&a.name, &BTreeMap::new()));
            let mut m = ctx.meta(&name, None, wave);
            m.annotations = None;
            (name, m)
        }
        JobKind::SmokeTest | JobKind::PostSyncHook => {
            let name = if kind == JobKind::SmokeTest { smoke_test_name(c, s) } else { names::hook_job(&c.name, &s.name, &a.name, &args_hash(&a.name, &BTreeMap::new())) };
            let mut m = ctx.meta(&name, None, wave);
            let ann = m.annotations.get_or_insert_with(BTreeMap::new);
            ann.insert(names::ARGOCD_HOOK.into(), "PostSync".into());
            ann.insert(names::ARGOCD_HOOK_DELETE_POLICY.into(), "BeforeHookCreation".into());
            ann.insert(names::FLUX_FORCE.into(), "enabled".into());
            (name, m)
        }
    };
    jmeta.labels = Some(labels);
    if kind != JobKind::Action {
        // what the StatefulSets say to security scanners holds for the Job's pod too
        let ann = jmeta.annotations.get_or_insert_with(BTreeMap::new);
        if !s.image_pinned {
            ann.insert("checkov.io/skip1".into(), format!("CKV_K8S_43=image {} is pinned by tag from stack {}; set the service's image.digest in the Cluster to pin by digest", s.image, c.stack));
        }
        if let (true, Some(why)) = (s.run_as.user < 10000, &s.run_as.reason) {
            ann.insert("checkov.io/skip2".into(), format!("CKV_K8S_40=runs as uid {}: {why}", s.run_as.user));
        }
    }
    debug_assert_eq!(jmeta.name.as_deref(), Some(name.as_str()));
    let job = Job {
        metadata: jmeta,
        spec: Some(JobSpec {
            backoff_limit: Some(if a.idempotent { 2 } else { 0 }),
            active_deadline_seconds: Some(a.deadline_seconds),
            template: tmpl,
            ..Default::default()
        }),
        ..Default::default()
    };
    to_object(&c.name, wave, &job)
}
