//! The roles of a stack's service: pods, ports, storage, containers and probes.

use super::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// A role of a service: one StatefulSet of identical pods.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct RoleDef {
    /// What the role does, shown by `bdp explain`.
    #[serde(default)]
    pub description: String,
    /// What to do before the role's replicas are lowered (moving data off the pods that go,
    /// keeping a quorum…): `bdp diff` gives it as the advice of a scale-down and `bdp explain`
    /// shows it. Roles without it get generic advice.
    #[serde(default)]
    pub scale_down: Option<String>,
    /// How the replicas may change in one commit (refused directions, pods to drain first, a
    /// majority quorum): `bdp diff --check` refuses what it forbids, with its procedure.
    #[serde(default)]
    pub scale: Option<ScalePolicy>,
    /// Default and bounds of the number of pods.
    pub replicas: Cardinality,
    /// The role exists only when this expression is true (e.g. journalnodes only with HA).
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub enabled: Option<String>,
    /// Roles of the same service that must be up before this one.
    #[serde(default)]
    #[schemars(inner(regex(pattern = DNS_LABEL)))]
    pub after: Vec<String>,
    /// How the StatefulSet starts its pods (default `Parallel`).
    #[serde(default)]
    pub pod_management_policy: Option<PodManagementPolicy>,
    /// The role's ports.
    #[serde(default)]
    pub ports: Vec<PortDef>,
    /// Extra Services beyond the headless one: name suffix → port names.
    #[serde(default)]
    pub services: BTreeMap<String, Vec<String>>,
    /// Persistent volumes of each pod: volume name → mount path and default size.
    #[serde(default)]
    pub storage: BTreeMap<String, StorageDef>,
    /// Writable scratch directories (emptyDir), since the root filesystem is read-only. Each
    /// entry is a path template, or `{path, medium: Memory, sizeLimit}` for a tmpfs-backed
    /// directory (secrets such as keytabs, which must never reach the node's disk); one whose
    /// path renders empty is left out (a directory only some configurations need).
    #[serde(default)]
    pub scratch: Vec<ScratchDef>,
    /// Files of the service mounted into this role.
    #[serde(default)]
    pub files: Vec<String>,
    /// Config keys only this role's pods get (stack language): file → key → definition, as in
    /// the file's `keys`. Several roles may declare the same key, with their own values; its
    /// `doc`, `owned`, `restart` and `when` must then be the same.
    #[serde(default)]
    pub keys: BTreeMap<String, BTreeMap<String, KeyDef>>,
    /// Container resources (`requests`/`limits`), merged over bdp's defaults.
    #[serde(default)]
    #[schemars(schema_with = "shapes::object")]
    pub resources: Option<Value>,
    /// The role's PodDisruptionBudget.
    #[serde(default)]
    pub pdb: Option<PdbDef>,
    /// How the role's pods spread over nodes (default: `preferred`); a Cluster can change it
    /// per role.
    #[serde(default)]
    pub placement: Option<PlacementDef>,
    /// Seconds a pod has to stop after SIGTERM.
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub termination_grace_period_seconds: Option<i64>,
    /// Environment variables of every container of the role (templates).
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Containers that run to completion before the role's containers start, in order.
    #[serde(default)]
    pub init_containers: Vec<ContainerDef>,
    /// The role's containers (the first one rendered, whose `when` holds, gets the role's ports
    /// unless they say otherwise).
    #[schemars(length(min = 1))]
    pub containers: Vec<ContainerDef>,
    /// Volumes from Secrets/ConfigMaps made elsewhere: volume name → definition.
    #[serde(default)]
    pub volumes: BTreeMap<String, VolumeDef>,
    /// Extra Kubernetes objects of the role, as YAML templates.
    #[serde(default)]
    pub manifests: Vec<String>,
    /// Merged onto the generated pod template before the user's podOverrides (e.g. a
    /// namespaced sysctl the role needs).
    #[serde(default)]
    #[schemars(schema_with = "shapes::object")]
    pub pod_overrides: Option<Value>,
}

/// What every role of a service has unless it says otherwise (stack language): the role
/// fields below, with the same meaning.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct RoleDefaults {
    /// Default `podManagementPolicy`.
    #[serde(default)]
    pub pod_management_policy: Option<PodManagementPolicy>,
    /// Default `scratch` directories (a role's own list replaces them).
    #[serde(default)]
    pub scratch: Option<Vec<ScratchDef>>,
    /// Default `files` (a role's own list replaces them).
    #[serde(default)]
    pub files: Option<Vec<String>>,
    /// Default `resources`; a role's resources merge over them key by key.
    #[serde(default)]
    #[schemars(schema_with = "shapes::object")]
    pub resources: Option<Value>,
    /// Default `pdb`.
    #[serde(default)]
    pub pdb: Option<PdbDef>,
    /// Default `placement`.
    #[serde(default)]
    pub placement: Option<PlacementDef>,
    /// Default `terminationGracePeriodSeconds`.
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub termination_grace_period_seconds: Option<i64>,
    /// Environment variables of every role; a role's `env` adds to them and wins.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Init containers every role runs first; a role's init container of the same name
    /// replaces one, the others follow.
    #[serde(default)]
    pub init_containers: Vec<ContainerDef>,
    /// Volumes of every role; a role's `volumes` add to them and win.
    #[serde(default)]
    pub volumes: BTreeMap<String, VolumeDef>,
    /// Default `manifests` (a role's own list replaces them).
    #[serde(default)]
    pub manifests: Option<Vec<String>>,
    /// Default `podOverrides` (a role's own replace them).
    #[serde(default)]
    #[schemars(schema_with = "shapes::object")]
    pub pod_overrides: Option<Value>,
}

/// A port of a role.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct PortDef {
    /// The port's name (an IANA service name: ≤ 15 characters), as templates use it
    /// (`role.ports.<name>`).
    #[schemars(length(max = 15), regex(pattern = DNS_LABEL))]
    pub name: String,
    /// The port number.
    #[schemars(range(min = 1, max = 65535))]
    pub port: i32,
    /// `TCP` (default) or `UDP`.
    #[serde(default)]
    #[schemars(extend("enum" = ["TCP", "UDP"]))]
    pub protocol: Option<String>,
    /// `peer` (only pods of the same cluster may connect) or `client` (any pod).
    #[serde(default)]
    pub access: PortAccess,
    /// The port exists only when this expression is true (sees `settings`, `replicas`, `cluster`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub when: Option<String>,
    /// What the port serves, shown by `bdp explain`.
    #[serde(default)]
    pub description: String,
}

/// Who may connect to a port (the role's NetworkPolicy).
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PortAccess {
    /// Only pods of the same cluster.
    #[default]
    Peer,
    /// Any pod.
    Client,
    /// The pods of this service and of the services that depend on it, in this Cluster or in
    /// other Clusters of the inputs.
    Dependents,
}

/// A persistent volume of each pod of a role.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct StorageDef {
    /// Where the volume is mounted (absolute).
    #[schemars(regex(pattern = ABSOLUTE))]
    pub mount_path: String,
    /// Default size (a Kubernetes quantity); a Cluster may change it.
    pub size: String,
    /// What the volume holds, shown by `bdp explain`.
    #[serde(default)]
    pub description: String,
}

/// The PodDisruptionBudget of a role.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct PdbDef {
    /// Pods that may be down at once during voluntary disruptions (node drains).
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub max_unavailable: Option<i32>,
}

/// A container (or init container) of a role.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ContainerDef {
    /// The container's name.
    #[schemars(regex(pattern = DNS_LABEL))]
    pub name: String,
    /// What the container does, shown by `bdp explain`.
    #[serde(default)]
    pub description: String,
    /// Rendered only when this expression is true.
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub when: Option<String>,
    /// Image of this container (template), when it is not the service's image — e.g. a
    /// client tool from a dependency's image: `{{ deps.kerberos.image }}`.
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub image: Option<String>,
    /// The command (templates).
    #[serde(default)]
    pub command: Vec<String>,
    /// A script file next to the stack document run as the command (stack language), instead
    /// of `command`: becomes `command: [<shell>..., <the file's text>]`.
    #[serde(default)]
    pub script: Option<ScriptDef>,
    /// Arguments of the command (templates).
    #[serde(default)]
    pub args: Vec<String>,
    /// Environment variables (templates), added to the role's.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Environment variables read from Secret keys at runtime.
    #[serde(default)]
    pub secret_env: BTreeMap<String, SecretKeyDef>,
    /// Port names this container exposes (default: the first container gets all role ports).
    #[serde(default)]
    pub ports: Option<Vec<String>>,
    /// When the container is ready for traffic.
    #[serde(default)]
    pub readiness: Option<ProbeDef>,
    /// When the container is restarted.
    #[serde(default)]
    pub liveness: Option<ProbeDef>,
    /// How long the container may take to start before liveness applies.
    #[serde(default)]
    pub startup: Option<ProbeDef>,
    /// Resources of this container, merged over the role's.
    #[serde(default)]
    #[schemars(schema_with = "shapes::object")]
    pub resources: Option<Value>,
}

/// A container's script, kept in a file next to the stack document (stack language).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ScriptDef {
    /// The script, relative to the folder of the stack document (`scripts/format.sh`; no `..`).
    /// It is a template like any command, embedded in the binary with the built-in stacks.
    #[schemars(length(min = 1))]
    pub file: String,
    /// The interpreter and its options, before the script text (default `[bash, -ec]`).
    #[serde(default = "default_shell")]
    #[schemars(length(min = 1))]
    pub shell: Vec<String>,
}

fn default_shell() -> Vec<String> {
    vec!["bash".into(), "-ec".into()]
}

/// A probe: exec, TCP or HTTP, with its timing.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields, extend("minProperties" = 1))]
pub struct ProbeDef {
    /// A command; the probe succeeds when it exits 0.
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub exec: Option<Vec<String>>,
    /// Port name for a TCP probe.
    #[serde(default)]
    pub tcp: Option<String>,
    /// An HTTP GET; the probe succeeds on a 2xx or 3xx answer.
    #[serde(default)]
    pub http: Option<HttpProbe>,
    /// Seconds before the first probe.
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub initial_delay_seconds: Option<i32>,
    /// Seconds between probes.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub period_seconds: Option<i32>,
    /// Seconds a probe may take.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub timeout_seconds: Option<i32>,
    /// Failures in a row that count.
    #[serde(default)]
    #[schemars(range(min = 1))]
    pub failure_threshold: Option<i32>,
}

/// An HTTP probe.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct HttpProbe {
    /// The URL path.
    pub path: String,
    /// The port name.
    pub port: String,
}
