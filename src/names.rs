//! Every name bdp gives an object, a pod, a label or an annotation, and the Kubernetes length
//! limits they must fit. A leaf module: the single place these conventions are spelled, so
//! resolve (template contexts), plan (length checks), render (objects), emit and diff agree.

/// Kubernetes: a DNS label (Service, pod and namespace names, label values) is at most 63.
pub const MAX_DNS_LABEL: usize = 63;
/// Kubernetes: a DNS subdomain (most object names, ConfigMap keys) is at most 253.
pub const MAX_DNS_SUBDOMAIN: usize = 253;
/// A StatefulSet name leaves room for the `controller-revision-hash` label (`<name>-<hash>`, ≤ 63).
pub const MAX_STATEFULSET_NAME: usize = 52;

/// ArgoCD's sync wave, on every object's metadata (never inside a pod template).
pub const WAVE_ANNOTATION: &str = "argocd.argoproj.io/sync-wave";
/// Checksum of a role's restart-relevant config, on its pod template.
pub const CHECKSUM_ANNOTATION: &str = "kubebdp.github.io/config-checksum";
/// Selector labels: only these select pods.
pub const LABEL_CLUSTER: &str = "kubebdp.github.io/cluster";
pub const LABEL_SERVICE: &str = "kubebdp.github.io/service";
pub const LABEL_ROLE: &str = "kubebdp.github.io/role";
/// The recommended `app.kubernetes.io` labels.
pub const LABEL_APP_NAME: &str = "app.kubernetes.io/name";
pub const LABEL_APP_INSTANCE: &str = "app.kubernetes.io/instance";
pub const LABEL_APP_VERSION: &str = "app.kubernetes.io/version";
pub const LABEL_APP_COMPONENT: &str = "app.kubernetes.io/component";
pub const LABEL_APP_PART_OF: &str = "app.kubernetes.io/part-of";
pub const LABEL_APP_MANAGED_BY: &str = "app.kubernetes.io/managed-by";
/// Values of `part-of` and `managed-by`.
pub const PART_OF: &str = "kubebdp";
pub const MANAGED_BY: &str = "bdp";

/// The ownership record in an output directory (`bdp render -o DIR`); load and gitspec skip
/// directories holding one.
pub const OUTPUT_MARKER: &str = ".bdp-output";

/// `<cluster>-<service>-<role>`: a role's StatefulSet, headless Service, ConfigMap, PDB and
/// NetworkPolicy.
pub fn role_fullname(cluster: &str, service: &str, role: &str) -> String {
    format!("{cluster}-{service}-{role}")
}

/// `<cluster>-<service>`: the service's ServiceAccount.
pub fn service_account(cluster: &str, service: &str) -> String {
    format!("{cluster}-{service}")
}

/// `<cluster>-<service>-discovery`: the ConfigMap other clusters read a service's discovery from.
pub fn discovery_config_map(cluster: &str, service: &str) -> String {
    format!("{cluster}-{service}-discovery")
}

/// `<fullname>-<suffix>`: an extra Service of a role (`roles.<r>.services.<suffix>`).
pub fn role_service(fullname: &str, suffix: &str) -> String {
    format!("{fullname}-{suffix}")
}

/// `<fullname>-<ordinal>`: a pod of a role's StatefulSet.
pub fn pod(fullname: &str, ordinal: u32) -> String {
    format!("{fullname}-{ordinal}")
}

/// `<name>.<namespace>.svc.<domain>`: a Service's DNS name.
pub fn service_fqdn(service: &str, namespace: &str, domain: &str) -> String {
    format!("{service}.{namespace}.svc.{domain}")
}

/// `<fullname>-<i>.<fullname>.<namespace>.svc.<domain>`: a pod's DNS name through its headless Service.
pub fn pod_fqdn(fullname: &str, ordinal: u32, namespace: &str, domain: &str) -> String {
    format!("{}.{}", pod(fullname, ordinal), service_fqdn(fullname, namespace, domain))
}

/// The discovery key a dependency reads by default: the service's name in upper case
/// (`zookeeper` → `ZOOKEEPER`), a contract between a stack's `discovery` and its dependants.
pub fn dependency_value_key(service: &str) -> String {
    service.to_uppercase()
}

/// The env variable carrying a dependency read at runtime from a ConfigMap:
/// `DEP_<NAME>` (upper case, `-` as `_`), referenced as `${env.DEP_<NAME>}`.
pub fn dependency_env_var(dependency: &str) -> String {
    format!("DEP_{}", dependency.to_uppercase().replace('-', "_"))
}

/// Volume name for a config directory: `config-<dir with / as ->`, at most a DNS label.
pub fn config_volume(dir: &str) -> String {
    let s: String = dir.trim_matches('/').chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect();
    let n = format!("config-{s}");
    n.chars().take(MAX_DNS_LABEL).collect::<String>().trim_end_matches('-').to_string()
}

/// A Job name leaves room for the pods' generated suffix within the 63 of the `job-name` label.
pub const MAX_JOB_NAME: usize = 52;
/// The action a Job's pod runs (`bdp action`, smoke tests), on the pod; never a selector of a
/// Service, PDB or policy, which select roles.
pub const LABEL_ACTION: &str = "kubebdp.github.io/action";
/// ArgoCD resource hooks: the smoke test Jobs run after every sync.
pub const ARGOCD_HOOK: &str = "argocd.argoproj.io/hook";
pub const ARGOCD_HOOK_DELETE_POLICY: &str = "argocd.argoproj.io/hook-delete-policy";
/// Flux replaces an object whose immutable fields changed (a Job's pod template).
pub const FLUX_FORCE: &str = "kustomize.toolkit.fluxcd.io/force";
/// The name of a smoke test (`<cluster>-<service>-smoke-test`).
pub const SMOKE_TEST: &str = "smoke-test";
/// The one container of an action's, hook's or smoke test's Job; a role volume's `containers`
/// may name it to reach those Jobs.
pub const ACTION_CONTAINER: &str = "action";

/// The hook a Job's pod runs (`hooks`), on the pod: the cluster's hooks NetworkPolicy selects it.
pub const LABEL_HOOK: &str = "kubebdp.github.io/hook";
/// The controller's suffix on a hook's Job name: `-` and 8 hex digits.
pub const HOOK_RUN_SUFFIX: usize = 9;

/// `<cluster>-bdp-hooks`: the ConfigMap with a Cluster's compiled hooks (read by the controller),
/// also the name of the NetworkPolicy of the hooks' Job pods.
pub fn hooks_config_map(cluster: &str) -> String {
    format!("{cluster}-bdp-hooks")
}

/// `<cluster>-<service>-hook-<hook>`: a hook's Job (the post-sync one; the controller adds
/// `-<8 hex>` to it per run), cut and hashed to leave room for that suffix.
pub fn hook_job(cluster: &str, service: &str, hook: &str, hash: &str) -> String {
    let name = format!("{cluster}-{service}-hook-{hook}");
    let max = MAX_JOB_NAME - HOOK_RUN_SUFFIX;
    if name.len() <= max {
        return name;
    }
    let suffix = format!("-{hash}");
    let mut prefix = name;
    prefix.truncate(max - suffix.len());
    format!("{}{suffix}", prefix.trim_end_matches(['-', '.']))
}

/// `<cluster>-<service>-<action>-<hash>`: an action's Job, the hash standing for the argument
/// values (same action and arguments: same name). A prefix too long is cut so that the name
/// fits [`MAX_JOB_NAME`]; the hash keeps it unique.
pub fn action_job(cluster: &str, service: &str, action: &str, hash: &str) -> String {
    let suffix = format!("-{hash}");
    let mut prefix = format!("{cluster}-{service}-{action}");
    prefix.truncate(MAX_JOB_NAME.saturating_sub(suffix.len()));
    format!("{}{suffix}", prefix.trim_end_matches(['-', '.']))
}

#[cfg(test)]
mod tests {
    #[test]
    fn job_names_fit_and_stay_unique() {
        assert_eq!(action_job("c", "hdfs", "fsck", "0123abcd"), "c-hdfs-fsck-0123abcd");
        let long = action_job(&"x".repeat(60), "hdfs", "fsck", "0123abcd");
        assert_eq!(long.len(), MAX_JOB_NAME);
        assert!(long.ends_with("-0123abcd"));
    }

    use super::*;

    #[test]
    fn config_volume_names_are_dns_labels() {
        assert_eq!(config_volume("/opt/hadoop/etc/hadoop"), "config-opt-hadoop-etc-hadoop");
        assert_eq!(config_volume("/conf"), "config-conf");
        assert_eq!(config_volume(&"/x".repeat(100)).len(), MAX_DNS_LABEL - 1);
    }

    #[test]
    fn pod_names_and_dns() {
        let full = role_fullname("c", "zookeeper", "server");
        assert_eq!(full, "c-zookeeper-server");
        assert_eq!(pod_fqdn(&full, 2, "ns", "cluster.local"), "c-zookeeper-server-2.c-zookeeper-server.ns.svc.cluster.local");
        assert_eq!(service_fqdn(&role_service(&full, "client"), "ns", "d"), "c-zookeeper-server-client.ns.svc.d");
        assert_eq!(dependency_env_var("my-zk"), "DEP_MY_ZK");
        assert_eq!(dependency_value_key("zookeeper"), "ZOOKEEPER");
    }
}
