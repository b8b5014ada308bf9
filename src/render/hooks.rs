//! A Cluster's post-start hooks (`hooks` of its services): the ConfigMap
//! `<cluster>-bdp-hooks` that the optional controller reads (never a stack), a NetworkPolicy
//! admitting nothing to the hooks' Job pods, and, without the controller, each idempotent
//! `rolesReady` hook's Job as a post-sync Job (like the smoke test).
//!
//! The ConfigMap's key `hooks.yaml` is deterministic YAML (keys sorted, bdp's writer): per hook its id
//! (`<service>.<hook>`), trigger (with the StatefulSets and pod selectors it watches, and for
//! `fileChanged` the hash of the file's rendered content), idempotency, timeout, retries, delay,
//! and either the Job to create (the controller adds `-<8 hex>` to its name per run) or the exec
//! (StatefulSet, pod selector, container, command).

use super::{job, to_object, Ctx, Object, RenderError};
use crate::model::HookTrigger;
use crate::names;
use crate::resolve::{ResolvedCluster, ResolvedHook, ResolvedRole, ResolvedService};
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement, ObjectMeta};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The key of the hooks ConfigMap that holds the compiled hooks.
pub const HOOKS_KEY: &str = "hooks.yaml";

/// Every hook of the cluster with its service and role.
fn all_hooks(c: &ResolvedCluster) -> Vec<(&ResolvedService, &ResolvedRole, &ResolvedHook)> {
    let mut v: Vec<_> = c.services.iter().flat_map(|s| s.roles.iter().flat_map(move |r| r.hooks.iter().map(move |h| (s, r, h)))).collect();
    v.sort_by(|a, b| (&a.0.name, &a.2.name).cmp(&(&b.0.name, &b.2.name)));
    v
}

/// Does the hook run as a post-sync Job when the controller is off? (`rolesReady`, a Job, and
/// idempotent, since a post-sync Job runs after every sync.)
pub fn post_sync(h: &ResolvedHook) -> bool {
    matches!(h.trigger, HookTrigger::RolesReady(_)) && h.job.is_some() && h.idempotent
}

fn role_ref(ctx: &Ctx, s: &ResolvedService, role: &str) -> Value {
    let full = s.roles.iter().find(|r| r.name == role).map(|r| r.fullname.clone()).unwrap_or_default();
    json!({"role": role, "statefulSet": full, "selector": ctx.selector(role)})
}

/// The hash of a file's rendered content in every role of the service that has it.
fn file_fingerprint(s: &ResolvedService, file: &str) -> (Vec<String>, String) {
    let mut h = Sha256::new();
    let mut roles = Vec::new();
    for r in &s.roles {
        if let Some(f) = r.files.iter().find(|f| f.name == file) {
            roles.push(r.name.clone());
            h.update(r.name.as_bytes());
            h.update([0]);
            h.update(f.render().as_bytes());
            h.update([0]);
        }
    }
    (roles, hex::encode(h.finalize()))
}

fn trigger_json(ctx: &Ctx, s: &ResolvedService, h: &ResolvedHook) -> Value {
    match &h.trigger {
        HookTrigger::RolesReady(rs) => json!({"kind": "rolesReady", "roles": rs.iter().map(|r| role_ref(ctx, s, r)).collect::<Vec<_>>()}),
        HookTrigger::FileChanged(f) => {
            let (roles, fp) = file_fingerprint(s, f);
            json!({"kind": "fileChanged", "file": f, "fingerprint": fp, "roles": roles.iter().map(|r| role_ref(ctx, s, r)).collect::<Vec<_>>()})
        }
        HookTrigger::PodRecreated(r) | HookTrigger::ReplicasChanged(r) => json!({"kind": h.trigger.kind(), "roles": [role_ref(ctx, s, r)]}),
    }
}

/// The hooks ConfigMap, the NetworkPolicy of the hooks' pods and the post-sync Jobs (none when
/// the cluster has no hook). `post_sync_wave`: the smoke tests' wave.
pub(super) fn hooks(c: &ResolvedCluster, controller: bool, post_sync_wave: u32, out: &mut Vec<Object>) -> Result<(), RenderError> {
    let hooks = all_hooks(c);
    if hooks.is_empty() {
        return Ok(());
    }
    let mut list = Vec::new();
    for (s, r, h) in &hooks {
        let ctx = Ctx { c, s, dependents: Vec::new() };
        let mut v = json!({
            "id": format!("{}.{}", s.name, h.name),
            "service": s.name,
            "name": h.name,
            "trigger": trigger_json(&ctx, s, h),
            "idempotent": h.idempotent,
            "timeoutSeconds": h.timeout_seconds,
            "retries": h.retries,
            "delaySeconds": h.delay_seconds,
            "postSync": !controller && post_sync(h),
        });
        if let Some(a) = &h.job {
            v["job"] = job::job(c, s, r, a, &BTreeMap::new(), job::JobKind::HookTemplate, 0)?.body;
            if !controller && post_sync(h) {
                out.push(job::job(c, s, r, a, &BTreeMap::new(), job::JobKind::PostSyncHook, post_sync_wave)?);
            }
        }
        if let Some(e) = &h.exec {
            v["exec"] = json!({"role": role_ref(&ctx, s, &r.name), "container": e.container, "command": e.command});
        }
        list.push(v);
    }
    let doc = json!({"apiVersion": "hooks.kubebdp.github.io/v1", "cluster": c.name, "namespace": c.namespace, "hooks": list});
    // YAML, as bdp writes every object: multi-line scripts stay readable literal blocks
    let text = crate::yamlout::to_yaml(&doc);
    let meta = cluster_meta(c, &names::hooks_config_map(&c.name), 0);
    let cm = core::ConfigMap { metadata: meta, data: Some(BTreeMap::from([(HOOKS_KEY.to_string(), text)])), ..Default::default() };
    out.push(to_object(&c.name, 0, &cm)?);
    // the hooks' Job pods serve no port: a policy that admits nothing
    use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicySpec};
    let np = NetworkPolicy {
        metadata: cluster_meta(c, &names::hooks_config_map(&c.name), 0),
        spec: Some(NetworkPolicySpec {
            pod_selector: Some(LabelSelector {
                match_labels: Some(BTreeMap::from([(names::LABEL_CLUSTER.to_string(), c.name.clone())])),
                match_expressions: Some(vec![LabelSelectorRequirement { key: names::LABEL_HOOK.into(), operator: "Exists".into(), values: None }]),
            }),
            policy_types: Some(vec!["Ingress".into()]),
            ingress: None,
            ..Default::default()
        }),
    };
    out.push(to_object(&c.name, 0, &np)?);
    Ok(())
}

/// Metadata of a per-Cluster object (no service).
pub(super) fn cluster_meta(c: &ResolvedCluster, name: &str, wave: u32) -> ObjectMeta {
    let labels = BTreeMap::from([
        (names::LABEL_APP_INSTANCE.to_string(), c.name.clone()),
        (names::LABEL_APP_PART_OF.to_string(), names::PART_OF.to_string()),
        (names::LABEL_APP_MANAGED_BY.to_string(), names::MANAGED_BY.to_string()),
        (names::LABEL_CLUSTER.to_string(), c.name.clone()),
    ]);
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: Some(c.namespace.clone()),
        labels: Some(labels),
        annotations: Some(BTreeMap::from([(names::WAVE_ANNOTATION.to_string(), wave.to_string())])),
        ..Default::default()
    }
}
