//! `kind: Cluster`: what a platform team writes.

use super::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// A kubebdp cluster: which services of which stack run in which namespace.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Cluster {
    /// The API version of bdp's kinds.
    #[schemars(schema_with = "shapes::api_version")]
    pub api_version: String,
    /// The kind of this document.
    #[schemars(schema_with = "shapes::kind_cluster")]
    pub kind: String,
    /// The cluster's name and namespace.
    pub metadata: ClusterMeta,
    /// The stack and the services of this cluster.
    pub spec: ClusterSpec,
}

/// Name and namespace of a Cluster.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ClusterMeta {
    /// Prefix of every object name.
    #[schemars(length(max = 63), regex(pattern = DNS_LABEL))]
    pub name: String,
    /// Namespace of every object (default: default).
    #[serde(default)]
    #[schemars(length(max = 63), regex(pattern = DNS_LABEL))]
    pub namespace: Option<String>,
}

/// The stack a Cluster uses and its services.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields, extend("required" = ["services"]))]
pub struct ClusterSpec {
    /// Name of a StackDefinition (embedded, among the inputs, or in --stacks DIR). Required; its
    /// absence is reported in resolve, with the known stacks, so that the rest of the Cluster is
    /// still checked in the same run.
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub stack: String,
    /// The kubelet's cluster domain (default cluster.local).
    #[serde(default = "default_domain")]
    #[schemars(regex(pattern = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"))]
    pub cluster_domain: String,
    /// The services of the stack this cluster runs: service name → its spec (`null` or `{}`:
    /// the stack's defaults).
    #[serde(default)]
    #[schemars(extend("minProperties" = 1))]
    pub services: BTreeMap<String, Option<ServiceSpec>>,
    /// The optional controller that runs the services' post-start hooks (`bdp-controller`,
    /// docs/controller.md). With `enabled: true` bdp renders its Deployment, ServiceAccount,
    /// Role and RoleBinding, and no post-sync hook Jobs (the controller runs the hooks).
    #[serde(default)]
    pub controller: Option<ControllerSpec>,
}

/// The controller of a Cluster's post-start hooks.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ControllerSpec {
    /// Render the controller (default false: every idempotent `rolesReady` hook is a post-sync
    /// Job instead, the other hooks do not run).
    #[serde(default)]
    pub enabled: bool,
    /// The controller's image (built from `controller/Dockerfile`), e.g.
    /// `registry.example.com/bdp-controller:0.1.0`; required when enabled.
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub image: Option<String>,
    /// Replicas of its Deployment (default 1); more stand by, a Lease lets one run the hooks.
    #[serde(default)]
    #[schemars(range(min = 1, max = 3))]
    pub replicas: Option<i32>,
}

fn default_domain() -> String {
    "cluster.local".into()
}

/// Per-file key overrides: file name → key → value.
pub type ConfigOverrides = BTreeMap<String, BTreeMap<String, Value>>;

/// A service of the stack. Keys other than those below are service settings defined by the stack.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSpec {
    /// The service's roles: role name → replicas, resources, storage, placement and overrides
    /// (`null`: the stack's defaults).
    #[serde(default)]
    pub roles: BTreeMap<String, Option<RoleSpec>>,
    /// Where the service finds its dependencies: dependency name → this cluster (default),
    /// another Cluster among the inputs, or a ConfigMap read at runtime.
    #[serde(default)]
    pub dependencies: BTreeMap<String, DependencySpec>,
    /// Config file keys of every role: file name → key → value (a string, number or boolean).
    #[serde(default)]
    #[schemars(schema_with = "shapes::config_overrides")]
    pub config_overrides: ConfigOverrides,
    /// Environment variables of the containers. A name is a shell variable name (letters,
    /// digits, `_`, not starting with a digit): the daemons' start scripts read them, and env
    /// files export them.
    #[serde(default)]
    #[schemars(schema_with = "shapes::env_overrides")]
    pub env_overrides: BTreeMap<String, String>,
    /// Merged onto every role's generated pod template (a PodTemplateSpec fragment); all but its
    /// `containers`/`initContainers` entries also onto the pods of the role's action and
    /// smoke-test Jobs.
    #[serde(default)]
    #[schemars(schema_with = "shapes::object")]
    pub pod_overrides: Option<Value>,
    /// Another image for the service (a mirror, a patched build).
    #[serde(default)]
    pub image: Option<ImageSpec>,
    /// Every other key is a service setting defined by the stack (e.g. `realm`).
    #[serde(flatten)]
    pub settings: BTreeMap<String, Value>,
}

/// A role of a service in a Cluster.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct RoleSpec {
    /// Number of pods (within the stack's bounds for the role).
    #[serde(default)]
    #[schemars(range(min = 0))]
    pub replicas: Option<u32>,
    /// How the role's pods spread over nodes, replacing the stack's default (e.g. `preferred`
    /// for a single-node development cluster, where `required` would leave pods Pending).
    #[serde(default)]
    pub placement: Option<PlacementDef>,
    /// Container resources, merged over the stack's (`requests`/`limits` of `cpu`, `memory`,
    /// `ephemeral-storage`).
    #[serde(default)]
    #[schemars(schema_with = "shapes::user_resources")]
    pub resources: Option<Value>,
    /// The role's volumes: volume name (as the stack names it) → size and StorageClass.
    #[serde(default)]
    pub storage: BTreeMap<String, StorageSpec>,
    /// Config file keys of this role's pods: file name → key → value; wins over the service's.
    #[serde(default)]
    #[schemars(schema_with = "shapes::config_overrides")]
    pub config_overrides: ConfigOverrides,
    /// Environment variables of this role's containers (shell names); win over the service's.
    #[serde(default)]
    #[schemars(schema_with = "shapes::env_overrides")]
    pub env_overrides: BTreeMap<String, String>,
    /// Merged onto this role's pod template, after the service's `podOverrides` (all but its
    /// `containers`/`initContainers` entries also onto the role's Jobs).
    #[serde(default)]
    #[schemars(schema_with = "shapes::object")]
    pub pod_overrides: Option<Value>,
}

/// Size and class of a role's persistent volume.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct StorageSpec {
    /// Requested size (a Kubernetes quantity, e.g. `100Gi`).
    #[serde(default)]
    #[schemars(schema_with = "shapes::quantity")]
    pub size: Option<String>,
    /// StorageClass of the volume claim (default: the cluster's default class).
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub storage_class: Option<String>,
}

/// The image a Cluster runs a service with, replacing parts of the stack's.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ImageSpec {
    /// Image repository (`registry/path`).
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub repository: Option<String>,
    /// Image tag.
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub tag: Option<String>,
    /// Image digest (`sha256:` and 64 hex digits); pins the image whatever the tag.
    #[serde(default)]
    #[schemars(regex(pattern = "^sha256:[0-9a-f]{64}$"))]
    pub digest: Option<String>,
    /// What the image's runtime supports: capability name -> the values it handles (e.g.
    /// krb5Enctypes, the Kerberos encryption types of the image's JVM). Replaces the stack
    /// image's entries one by one; needed when a custom image differs.
    #[serde(default)]
    #[schemars(schema_with = "shapes::capabilities")]
    pub capabilities: BTreeMap<String, Vec<String>>,
}

/// Where a service finds a dependency: this cluster (default), another Cluster among the
/// inputs, or a ConfigMap in the same namespace read at runtime.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields, extend("maxProperties" = 2))]
pub struct DependencySpec {
    /// Another Cluster among the inputs that runs this dependency.
    #[serde(default)]
    #[schemars(length(max = 63), regex(pattern = DNS_LABEL))]
    pub cluster: Option<String>,
    /// Namespace of that Cluster (default: this cluster's).
    #[serde(default)]
    #[schemars(length(max = 63), regex(pattern = DNS_LABEL))]
    pub namespace: Option<String>,
    /// A ConfigMap in this namespace holding the dependency's value, read at runtime.
    #[serde(default)]
    pub config_map: Option<ConfigMapRef>,
}

/// A key of a ConfigMap.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ConfigMapRef {
    /// The ConfigMap's name.
    #[schemars(length(min = 1))]
    pub name: String,
    /// The key holding the value (default: the dependency's service name, upper-cased).
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub key: Option<String>,
}

