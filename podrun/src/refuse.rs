//! What podrun cannot run is refused before anything starts, each problem naming its field.

use crate::images::Profile;
use crate::stream::{Stream, ns_of};
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{Container, PodSpec, Probe};
use std::collections::BTreeMap;

const VOLUME_TYPES: &[&str] = &["configMap", "secret", "emptyDir", "downwardAPI"];

pub fn check(stream: &Stream, images: &BTreeMap<String, Profile>) -> Vec<String> {
    let mut errs = Vec::new();
    for s in &stream.statefulsets {
        check_sts(s, stream, images, &mut errs);
    }
    for j in &stream.jobs {
        errs.extend(crate::jobs::check(j, stream, images));
    }
    for p in &stream.policies {
        let types = p
            .spec
            .as_ref()
            .and_then(|s| s.policy_types.clone())
            .unwrap_or_default();
        if types.iter().any(|t| t == "Egress") {
            errs.push(format!(
                "NetworkPolicy {}/{}: spec.policyTypes: Egress is not enforced by podrun (ingress only)",
                ns_of(&p.metadata),
                p.metadata.name.as_deref().unwrap_or("?")
            ));
        }
    }
    errs
}

fn check_sts(
    s: &StatefulSet,
    stream: &Stream,
    images: &BTreeMap<String, Profile>,
    errs: &mut Vec<String>,
) {
    let ns = ns_of(&s.metadata);
    let who = format!(
        "StatefulSet {ns}/{}",
        s.metadata.name.as_deref().unwrap_or("?")
    );
    let mut e = |field: &str, msg: &str| errs.push(format!("{who}: {field}: {msg}"));
    let Some(spec) = &s.spec else {
        e("spec", "missing");
        return;
    };
    if spec.ordinals.as_ref().and_then(|o| o.start).unwrap_or(0) != 0 {
        e(
            "spec.ordinals.start",
            "only ordinals from 0 are supported by podrun",
        );
    }
    let Some(pod) = &spec.template.spec else {
        e("spec.template.spec", "missing");
        return;
    };
    let base = "spec.template.spec";
    for (flag, name) in [
        (pod.host_network, "hostNetwork"),
        (pod.host_pid, "hostPID"),
        (pod.host_ipc, "hostIPC"),
    ] {
        if flag == Some(true) {
            e(
                &format!("{base}.{name}"),
                "true is not supported by podrun (every pod gets its own namespaces)",
            );
        }
    }
    for (i, sc) in pod
        .security_context
        .iter()
        .flat_map(|c| c.sysctls.iter().flatten())
        .enumerate()
    {
        if let Err(m) = crate::net::sysctl_supported(&sc.name, &sc.value) {
            e(&format!("{base}.securityContext.sysctls[{i}]"), &m);
        }
    }
    let claims: Vec<String> = spec
        .volume_claim_templates
        .iter()
        .flatten()
        .filter_map(|c| c.metadata.name.clone())
        .collect();
    let mut volume_names = claims.clone();
    for (i, v) in pod.volumes.iter().flatten().enumerate() {
        volume_names.push(v.name.clone());
        let j = serde_json::to_value(v).unwrap_or_default();
        for k in j.as_object().into_iter().flat_map(|o| o.keys()) {
            if k != "name" && !VOLUME_TYPES.contains(&k.as_str()) {
                e(
                    &format!("{base}.volumes[{i}] ({}).{k}", v.name),
                    "this volume type is not supported by podrun (configMap, secret, emptyDir, downwardAPI and volumeClaimTemplates are)",
                );
            }
        }
        for (n, it) in v
            .downward_api
            .iter()
            .flat_map(|d| d.items.iter().flatten())
            .enumerate()
        {
            if it.resource_field_ref.is_some() {
                e(
                    &format!(
                        "{base}.volumes[{i}] ({}).downwardAPI.items[{n}].resourceFieldRef",
                        v.name
                    ),
                    "not supported by podrun",
                );
            }
            if let Some(f) = &it.field_ref
                && crate::env::field_ref(&f.field_path, &Default::default()).is_none()
            {
                e(
                    &format!(
                        "{base}.volumes[{i}] ({}).downwardAPI.items[{n}].fieldRef.fieldPath",
                        v.name
                    ),
                    &format!("{} is not supported by podrun", f.field_path),
                );
            }
        }
    }
    let groups = [
        (
            "initContainers",
            pod.init_containers.clone().unwrap_or_default(),
        ),
        ("containers", pod.containers.clone()),
    ];
    for (group, cs) in &groups {
        for (i, c) in cs.iter().enumerate() {
            let f = format!("{who}: {base}.{group}[{i}] ({})", c.name);
            check_container(
                c,
                &f,
                pod,
                group == &"initContainers",
                &volume_names,
                images,
                &ns,
                stream,
                errs,
            );
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn check_container(
    c: &Container,
    f: &str,
    pod: &PodSpec,
    init: bool,
    volume_names: &[String],
    images: &BTreeMap<String, Profile>,
    ns: &str,
    stream: &Stream,
    errs: &mut Vec<String>,
) {
    let mut e = |field: String, msg: String| errs.push(format!("{f}.{field}: {msg}"));
    let image = c.image.clone().unwrap_or_default();
    match images.get(&image) {
        None => e(
            "image".into(),
            format!(
                "{image:?} has no podrun image profile (podrun/images.yaml has: {})",
                images.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        ),
        Some(p) => {
            if c.command.is_none()
                && p.entrypoint.is_none()
                && !p.cmd.is_empty()
                && c.args.is_some()
            {
                e(
                    "command".into(),
                    format!(
                        "not set, and podrun's profile of {image} has no entrypoint (see its differences)"
                    ),
                );
            }
            let uid = c
                .security_context
                .as_ref()
                .and_then(|s| s.run_as_user)
                .or(pod.security_context.as_ref().and_then(|s| s.run_as_user))
                .or(p.user.map(i64::from));
            let non_root = c
                .security_context
                .as_ref()
                .and_then(|s| s.run_as_non_root)
                .or(pod
                    .security_context
                    .as_ref()
                    .and_then(|s| s.run_as_non_root));
            if non_root == Some(true) && uid.unwrap_or(0) == 0 {
                e(
                    "securityContext.runAsNonRoot".into(),
                    "true, but the container would run as root".into(),
                );
            }
        }
    }
    if c.security_context.as_ref().and_then(|s| s.privileged) == Some(true) {
        e(
            "securityContext.privileged".into(),
            "true is not supported by podrun".into(),
        );
    }
    for (n, p) in c.ports.iter().flatten().enumerate() {
        if p.host_port.is_some() {
            e(
                format!("ports[{n}].hostPort"),
                "not supported by podrun".into(),
            );
        }
    }
    if init && c.restart_policy.is_some() {
        e(
            "restartPolicy".into(),
            "sidecar init containers are not supported by podrun yet".into(),
        );
    }
    for (name, p) in [
        ("readinessProbe", &c.readiness_probe),
        ("livenessProbe", &c.liveness_probe),
        ("startupProbe", &c.startup_probe),
    ] {
        if let Some(p) = p {
            if init {
                e(
                    name.into(),
                    "probes on init containers are not allowed".into(),
                );
            }
            if let Some(m) = probe_problem(p) {
                e(name.into(), m);
            }
        }
    }
    if let Some(l) = &c.lifecycle {
        if l.post_start.is_some() {
            e(
                "lifecycle.postStart".into(),
                "not supported by podrun".into(),
            );
        }
        if let Some(h) = &l.pre_stop
            && h.exec.is_none()
        {
            e(
                "lifecycle.preStop".into(),
                "only exec handlers are supported by podrun".into(),
            );
        }
    }
    for (n, m) in c.volume_mounts.iter().flatten().enumerate() {
        if !volume_names.contains(&m.name) {
            e(
                format!("volumeMounts[{n}].name"),
                format!("{} is neither a volume nor a volumeClaimTemplate", m.name),
            );
        }
        if m.sub_path_expr.is_some() {
            e(
                format!("volumeMounts[{n}].subPathExpr"),
                "not supported by podrun".into(),
            );
        }
        if !m.mount_path.starts_with('/') || m.mount_path.split('/').any(|s| s == "..") {
            e(
                format!("volumeMounts[{n}].mountPath"),
                "must be an absolute path without ..".into(),
            );
        }
    }
    let facts = crate::env::PodFacts::default();
    let src = crate::env::Sources {
        namespace: ns,
        configmaps: &stream.configmaps,
        secrets: &stream.secrets,
    };
    if let Err(m) = crate::env::resolve(c, &facts, &src, f) {
        errs.push(m);
    }
}

fn probe_problem(p: &Probe) -> Option<String> {
    if p.grpc.is_some() {
        return Some("grpc probes are not supported by podrun".into());
    }
    if let Some(h) = &p.http_get
        && h.scheme.as_deref().is_some_and(|s| s != "HTTP")
    {
        return Some("httpGet.scheme: only HTTP is supported by podrun".into());
    }
    if p.exec.is_none() && p.http_get.is_none() && p.tcp_socket.is_none() {
        return Some("no handler (exec, httpGet or tcpSocket)".into());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const STS: &str = "apiVersion: apps/v1
kind: StatefulSet
metadata: {name: zk, namespace: ns}
spec:
  serviceName: zk
  selector: {matchLabels: {a: b}}
  template:
    metadata: {labels: {a: b}}
    spec:
      HOSTNET
      securityContext: {runAsUser: 10000, runAsNonRoot: true}
      containers:
        - name: zookeeper
          image: IMAGE
          command: [zkServer.sh, start-foreground]
          volumeMounts: [{name: data, mountPath: /data}, {name: host, mountPath: /h}]
      volumes:
        - name: host
          VOLUME
  volumeClaimTemplates:
    - metadata: {name: data}
      spec: {accessModes: [ReadWriteOnce]}
";

    fn errs(hostnet: &str, image: &str, volume: &str) -> Vec<String> {
        let y = STS
            .replace("HOSTNET", hostnet)
            .replace("IMAGE", image)
            .replace("VOLUME", volume);
        let s = crate::stream::parse(&y).unwrap();
        check(
            &s,
            &crate::images::load(crate::images::IMAGES_YAML).unwrap(),
        )
    }

    #[test]
    fn a_runnable_pod_passes() {
        assert_eq!(
            errs("", "zookeeper:3.8.4", "emptyDir: {medium: Memory}"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn an_unsupported_volume_type_is_refused_naming_the_field() {
        let e = errs("", "zookeeper:3.8.4", "hostPath: {path: /etc}");
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].starts_with("StatefulSet ns/zk: spec.template.spec.volumes[0] (host).hostPath: this volume type is not supported"), "{e:?}");
    }

    #[test]
    fn host_network_is_refused() {
        let e = errs("hostNetwork: true", "zookeeper:3.8.4", "emptyDir: {}");
        assert_eq!(
            e,
            [
                "StatefulSet ns/zk: spec.template.spec.hostNetwork: true is not supported by podrun (every pod gets its own namespaces)"
            ]
        );
    }

    #[test]
    fn a_startup_probe_runs_and_a_grpc_one_is_refused() {
        let e = errs("", "zookeeper:3.8.4\n          startupProbe: {tcpSocket: {port: 2181}}", "emptyDir: {}");
        assert!(e.is_empty(), "{e:?}");
        let e = errs("", "zookeeper:3.8.4\n          startupProbe: {grpc: {port: 2181}}", "emptyDir: {}");
        assert_eq!(e, ["StatefulSet ns/zk: spec.template.spec.containers[0] (zookeeper).startupProbe: grpc probes are not supported by podrun"]);
    }

    #[test]
    fn only_network_sysctls_are_accepted() {
        let y = STS
            .replace("HOSTNET", "")
            .replace("IMAGE", "zookeeper:3.8.4")
            .replace("VOLUME", "emptyDir: {}")
            .replace(
                "runAsNonRoot: true}",
                "runAsNonRoot: true, sysctls: [{name: net.ipv4.ip_unprivileged_port_start, value: '0'}, {name: kernel.shm_rmid_forced, value: '1'}]}",
            );
        let s = crate::stream::parse(&y).unwrap();
        let e = check(
            &s,
            &crate::images::load(crate::images::IMAGES_YAML).unwrap(),
        );
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(
            e[0].starts_with("StatefulSet ns/zk: spec.template.spec.securityContext.sysctls[1]: \"kernel.shm_rmid_forced\": podrun applies only net.* sysctls"),
            "{e:?}"
        );
    }

    #[test]
    fn an_image_without_a_profile_is_refused() {
        let e = errs("", "apache/kafka:3.7.0", "emptyDir: {}");
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].contains("spec.template.spec.containers[0] (zookeeper).image: \"apache/kafka:3.7.0\" has no podrun image profile"), "{e:?}");
    }
}
