//! A role's pod template: hardened pods (non-root, read-only root filesystem, no
//! capabilities, seccomp RuntimeDefault, no ServiceAccount token), containers with requests and
//! limits, probes, config and scratch volumes, spread over nodes and zones, and the checksum of
//! the config that needs a restart.

use super::{Ctx, RenderError};
use crate::merge::merge_overrides;
use crate::names::{self, config_volume, CHECKSUM_ANNOTATION};
use crate::resolve::{Container, EnvValue, Probe, ResolvedCluster, ResolvedRole, ResolvedService};
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

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

// Long because: one k8s-openapi struct literal, field by field.
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
        h.update(f.restart_relevant().as_bytes());
        h.update([0]);
    }
    hex::encode(h.finalize())
}

/// The pod template of a role, before the user's `podOverrides`.
pub(super) fn pod_template(ctx: &Ctx, r: &ResolvedRole) -> core::PodTemplateSpec {
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
            service_account_name: Some(names::service_account(cl, &ctx.s.name)),
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
pub fn merged_pod_template(c: &ResolvedCluster, s: &ResolvedService, r: &ResolvedRole) -> Result<Value, RenderError> {
    let ctx = Ctx { c, s, dependents: Vec::new() };
    let mut v = serde_json::to_value(pod_template(&ctx, r)).map_err(|e| RenderError { object: format!("pod template of {}", r.fullname), error: e.to_string() })?;
    if let Some(o) = &r.pod_overrides {
        merge_overrides(&mut v, o);
    }
    Ok(v)
}
