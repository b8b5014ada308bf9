//! Stage 5, render: the plan → Kubernetes objects (typed with k8s-openapi) and native files.
//!
//! Per role: a ConfigMap with the role's files, a headless Service (same name as the
//! StatefulSet, publishing not-ready addresses so peers find each other before they are
//! ready), any extra Services the stack asks for, the StatefulSet, a PodDisruptionBudget and a
//! NetworkPolicy. Per service: a ServiceAccount and the discovery ConfigMap. Pods are hardened
//! (non-root, read-only root filesystem, no capabilities, seccomp RuntimeDefault) and carry a
//! checksum of the config that needs a restart, so a config change rolls exactly the pods it
//! concerns. User `podOverrides` are merged last.

mod check;
mod configmap;
mod controller;
mod hooks;
mod job;
mod manifest;
mod network_policy;
mod pdb;
mod pod;
mod service;
mod statefulset;

pub use check::check_cluster;
pub use controller::{controller_name, rules as controller_rules};
pub use hooks::{post_sync as hook_post_sync, HOOKS_KEY};
pub use job::{args_hash, job, JobKind};
pub use pod::{checksum, merged_pod_template};

use crate::names::{self, LABEL_CLUSTER, LABEL_ROLE, LABEL_SERVICE, WAVE_ANNOTATION};
use crate::plan::Plan;
use crate::resolve::{ResolvedCluster, ResolvedRole, ResolvedService};
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::Value;
use std::collections::BTreeMap;

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

/// A typed object that did not serialise to JSON. k8s-openapi's types always serialise, so
/// this is a bug in bdp; it is reported as an internal error, never written as `null`.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderError {
    /// What was being rendered (`StatefulSet ns/name`).
    pub object: String,
    pub error: String,
}

impl std::fmt::Display for RenderError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot serialise {}: {}", self.object, self.error)
    }
}

impl std::error::Error for RenderError {}

fn to_object<T: serde::Serialize + k8s_openapi::Resource + k8s_openapi::Metadata<Ty = ObjectMeta>>(cluster: &str, wave: u32, t: &T) -> Result<Object, RenderError> {
    let meta = t.metadata();
    let namespace = meta.namespace.clone().unwrap_or_default();
    let name = meta.name.clone().unwrap_or_default();
    let body = serde_json::to_value(t).map_err(|e| RenderError { object: format!("{} {namespace}/{name}", T::KIND), error: e.to_string() })?;
    Ok(Object { api_version: T::API_VERSION.to_string(), kind: T::KIND.to_string(), namespace, name, cluster: cluster.to_string(), wave, body })
}

fn btree<I: IntoIterator<Item = (String, String)>>(i: I) -> BTreeMap<String, String> {
    i.into_iter().collect()
}

/// What every object of a service is rendered with: its cluster and service.
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
                        DepSource::ConfigMap { name, .. } => c2.namespace == c.namespace && *name == names::discovery_config_map(&c.name, s),
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
            (names::LABEL_APP_NAME.into(), self.s.name.clone()),
            (names::LABEL_APP_INSTANCE.into(), self.c.name.clone()),
            (names::LABEL_APP_VERSION.into(), self.s.version.clone()),
            (names::LABEL_APP_PART_OF.into(), names::PART_OF.into()),
            (names::LABEL_APP_MANAGED_BY.into(), names::MANAGED_BY.into()),
            (LABEL_CLUSTER.into(), self.c.name.clone()),
            (LABEL_SERVICE.into(), self.s.name.clone()),
        ]);
        if let Some(r) = role {
            l.insert(names::LABEL_APP_COMPONENT.into(), r.to_string());
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

/// The objects of one role, in the order the golden files list them before sorting.
fn role_objects(ctx: &Ctx, r: &ResolvedRole, wave: u32, out: &mut Vec<Object>) -> Result<(), RenderError> {
    configmap::role_files(ctx, r, wave, out)?;
    service::role_services(ctx, r, wave, out)?;
    statefulset::statefulset(ctx, r, wave, out)?;
    pdb::pdb(ctx, r, wave, out)?;
    network_policy::network_policy(ctx, r, wave, out)
}

/// The wave of the smoke tests: after every wave of the plan, so that Flux applies them in a
/// last Kustomization once everything else is healthy (ArgoCD runs them as PostSync hooks).
fn smoke_wave(plan: &Plan) -> u32 {
    plan.waves.values().max().map_or(0, |w| w + 1)
}

/// Renders the objects of one cluster of the plan (unordered): per service its ServiceAccount,
/// discovery ConfigMap and manifests, then per role its objects and manifests.
pub fn render_cluster(plan: &Plan, c: &ResolvedCluster) -> Result<Vec<Object>, RenderError> {
    let mut out = Vec::new();
    for s in &c.services {
        let ctx = Ctx { c, s, dependents: dependents_of(plan, c, &s.name) };
        let swave = plan.service_wave(c, &s.name);
        let sa = core::ServiceAccount {
            metadata: ctx.meta(&names::service_account(&c.name, &s.name), None, swave),
            automount_service_account_token: Some(false),
            ..Default::default()
        };
        out.push(to_object(&c.name, swave, &sa)?);
        configmap::discovery(&ctx, swave, &mut out)?;
        for m in &s.manifests {
            out.push(manifest::manifest_object(&ctx, None, swave, m.clone()));
        }
        for r in &s.roles {
            let wave = plan.wave(c, &s.name, &r.name);
            role_objects(&ctx, r, wave, &mut out)?;
            for m in &r.manifests {
                out.push(manifest::manifest_object(&ctx, Some(&r.name), wave, m.clone()));
            }
            if let Some(t) = &r.smoke_test {
                out.push(job::job(c, s, r, t, &BTreeMap::new(), job::JobKind::SmokeTest, smoke_wave(plan))?);
                out.push(job::smoke_test_policy(c, s, smoke_wave(plan))?);
            }
        }
    }
    hooks::hooks(c, c.controller.is_some(), smoke_wave(plan), &mut out)?;
    if let Some(rc) = &c.controller {
        let exec = c.services.iter().flat_map(|s| &s.roles).flat_map(|r| &r.hooks).any(|h| h.exec.is_some());
        controller::controller(c, rc, exec, &mut out)?;
    }
    Ok(out)
}
