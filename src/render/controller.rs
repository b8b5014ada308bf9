//! The hooks controller of a Cluster (`spec.controller.enabled`): its ServiceAccount, a
//! namespaced Role with the least verbs it needs, the RoleBinding, a NetworkPolicy admitting
//! nothing to it (it serves no port) and its Deployment, hardened like every pod bdp renders
//! (non-root, read-only root filesystem, no capabilities, seccomp RuntimeDefault). It is the one
//! pod with a ServiceAccount token: it talks to the API server.
//!
//! The Role (docs/controller.md lists it): read the Cluster's ConfigMaps, pods, StatefulSets
//! and Jobs (get, list, watch); create Jobs and Events; create ConfigMaps and update only
//! `<cluster>-bdp-hooks-status`; create Leases and get/update only `<cluster>-bdp-controller`;
//! `pods/exec` create only when a hook of the Cluster runs through exec.

use super::{hooks::cluster_meta, to_object, Object, RenderError};
use crate::resolve::{ResolvedCluster, ResolvedController};
use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec, DeploymentStrategy};
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicySpec};
use k8s_openapi::api::rbac::v1::{PolicyRule, Role, RoleBinding, RoleRef, Subject};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use std::collections::BTreeMap;

/// `<cluster>-bdp-controller`: the Deployment, ServiceAccount, Role, RoleBinding, NetworkPolicy
/// and the Lease the controller holds.
pub fn controller_name(cluster: &str) -> String {
    format!("{cluster}-bdp-controller")
}

/// The uid the controller runs as (distroless' `nonroot`).
const UID: i64 = 65532;

fn rule(groups: &[&str], resources: &[&str], verbs: &[&str], names: &[String]) -> PolicyRule {
    let v = |x: &[&str]| x.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    PolicyRule {
        api_groups: Some(v(groups)),
        resources: Some(v(resources)),
        verbs: v(verbs),
        resource_names: (!names.is_empty()).then(|| names.to_vec()),
        non_resource_urls: None,
    }
}

/// The Role's rules (least privilege; `exec`: a hook of the Cluster runs through `pods/exec`).
pub fn rules(cluster: &str, exec: bool) -> Vec<PolicyRule> {
    let mut r = vec![
        rule(&[""], &["configmaps", "pods"], &["get", "list", "watch"], &[]),
        rule(&["apps"], &["statefulsets"], &["get", "list", "watch"], &[]),
        rule(&["batch"], &["jobs"], &["get", "list", "watch", "create"], &[]),
        rule(&[""], &["configmaps"], &["create"], &[]),
        rule(&[""], &["configmaps"], &["update"], &[format!("{cluster}-bdp-hooks-status")]),
        rule(&[""], &["events"], &["create"], &[]),
        rule(&["coordination.k8s.io"], &["leases"], &["create"], &[]),
        rule(&["coordination.k8s.io"], &["leases"], &["get", "update"], &[controller_name(cluster)]),
    ];
    if exec {
        r.push(rule(&[""], &["pods/exec"], &["create"], &[]));
    }
    r
}

// Long because: five objects, the Deployment's hardened pod field by field.
pub(super) fn controller(c: &ResolvedCluster, rc: &ResolvedController, exec: bool, out: &mut Vec<Object>) -> Result<(), RenderError> {
    let name = controller_name(&c.name);
    let meta = || cluster_meta(c, &name, 0);
    let sa = core::ServiceAccount { metadata: meta(), automount_service_account_token: Some(false), ..Default::default() };
    out.push(to_object(&c.name, 0, &sa)?);
    let role = Role { metadata: meta(), rules: Some(rules(&c.name, exec)) };
    out.push(to_object(&c.name, 0, &role)?);
    let rb = RoleBinding {
        metadata: meta(),
        role_ref: RoleRef { api_group: "rbac.authorization.k8s.io".into(), kind: "Role".into(), name: name.clone() },
        subjects: Some(vec![Subject { kind: "ServiceAccount".into(), name: name.clone(), namespace: Some(c.namespace.clone()), api_group: None }]),
    };
    out.push(to_object(&c.name, 0, &rb)?);
    let mut labels = BTreeMap::from([
        (crate::names::LABEL_CLUSTER.to_string(), c.name.clone()),
        ("app.kubernetes.io/name".to_string(), "bdp-controller".to_string()),
    ]);
    let selector = LabelSelector { match_labels: Some(labels.clone()), match_expressions: None };
    let np = NetworkPolicy {
        metadata: meta(),
        spec: Some(NetworkPolicySpec { pod_selector: Some(selector.clone()), policy_types: Some(vec!["Ingress".into()]), ingress: None, ..Default::default() }),
    };
    out.push(to_object(&c.name, 0, &np)?);
    labels.insert("app.kubernetes.io/part-of".into(), crate::names::PART_OF.into());
    let q = |s: &str| Quantity(s.to_string());
    let container = core::Container {
        name: "controller".into(),
        image: Some(rc.image.clone()),
        image_pull_policy: Some("Always".into()),
        args: Some(vec!["--namespace".into(), c.namespace.clone(), "--cluster".into(), c.name.clone()]),
        env: Some(vec![core::EnvVar {
            name: "POD_NAME".into(),
            value_from: Some(core::EnvVarSource { field_ref: Some(core::ObjectFieldSelector { field_path: "metadata.name".into(), api_version: None }), ..Default::default() }),
            value: None,
        }]),
        resources: Some(core::ResourceRequirements {
            requests: Some(BTreeMap::from([("cpu".to_string(), q("10m")), ("memory".to_string(), q("32Mi"))])),
            limits: Some(BTreeMap::from([("cpu".to_string(), q("200m")), ("memory".to_string(), q("64Mi"))])),
            ..Default::default()
        }),
        security_context: Some(core::SecurityContext {
            allow_privilege_escalation: Some(false),
            read_only_root_filesystem: Some(true),
            run_as_non_root: Some(true),
            run_as_user: Some(UID),
            run_as_group: Some(UID),
            capabilities: Some(core::Capabilities { drop: Some(vec!["ALL".into()]), add: None }),
            ..Default::default()
        }),
        termination_message_policy: Some("FallbackToLogsOnError".into()),
        ..Default::default()
    };
    let mut dmeta = meta();
    let ann = dmeta.annotations.get_or_insert_with(BTreeMap::new);
    ann.insert("checkov.io/skip1".into(), "CKV_K8S_38=the controller talks to the API server: it needs its ServiceAccount token (a namespaced Role of the least verbs)".into());
    ann.insert("checkov.io/skip2".into(), "CKV_K8S_8=bdp-controller serves no port; a crash ends the process and the kubelet restarts it".into());
    ann.insert("checkov.io/skip3".into(), "CKV_K8S_9=bdp-controller serves no port; it is ready once started".into());
    if !rc.image.contains("@sha256:") {
        ann.insert("checkov.io/skip4".into(), format!("CKV_K8S_43=image {} is pinned by tag in spec.controller.image; name it with @sha256:… to pin by digest", rc.image));
    }
    let d = Deployment {
        metadata: dmeta,
        spec: Some(DeploymentSpec {
            replicas: Some(rc.replicas),
            selector,
            // never two leaders' worth of pods during a rollout: the old one releases its Lease on SIGTERM
            strategy: Some(DeploymentStrategy { type_: Some("Recreate".into()), rolling_update: None }),
            template: core::PodTemplateSpec {
                metadata: Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta { labels: Some(labels), ..Default::default() }),
                spec: Some(core::PodSpec {
                    service_account_name: Some(name.clone()),
                    automount_service_account_token: Some(true),
                    enable_service_links: Some(false),
                    containers: vec![container],
                    termination_grace_period_seconds: Some(30),
                    security_context: Some(core::PodSecurityContext {
                        run_as_non_root: Some(true),
                        run_as_user: Some(UID),
                        run_as_group: Some(UID),
                        seccomp_profile: Some(core::SeccompProfile { type_: "RuntimeDefault".into(), localhost_profile: None }),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        ..Default::default()
    };
    out.push(to_object(&c.name, 0, &d)?);
    Ok(())
}
