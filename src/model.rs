//! The input kinds, as typed data: `Cluster` (what a user writes) and `StackDefinition`
//! (what a stack author writes under `stacks/<name>/`). Both are checked against the JSON
//! Schemas in `schemas/` before they are deserialised into these types.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

pub const API_VERSION: &str = "manager.kubebdp.github.io/v1";

/// Merges `over` onto `base`: objects key by key, anything else replaced. Used for stack
/// `extends` and for resources (stack default < role < user).
pub fn deep_merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(bv) => deep_merge(bv, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    pub name: String,
    #[serde(default)]
    pub namespace: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Cluster

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Cluster {
    pub api_version: String,
    pub kind: String,
    pub metadata: Meta,
    pub spec: ClusterSpec,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ClusterSpec {
    /// Required: a missing stack is reported by resolve (empty here), not by the schema, so
    /// that it does not hide the Cluster's other problems.
    #[serde(default)]
    pub stack: String,
    #[serde(default = "default_domain")]
    pub cluster_domain: String,
    /// Service name → its spec; `null` means "stack defaults".
    #[serde(default)]
    pub services: BTreeMap<String, Option<ServiceSpec>>,
}

fn default_domain() -> String {
    "cluster.local".into()
}

/// Per-file key overrides: file name → key → value.
pub type ConfigOverrides = BTreeMap<String, BTreeMap<String, Value>>;

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServiceSpec {
    #[serde(default)]
    pub roles: BTreeMap<String, Option<RoleSpec>>,
    #[serde(default)]
    pub dependencies: BTreeMap<String, DependencySpec>,
    #[serde(default)]
    pub config_overrides: ConfigOverrides,
    #[serde(default)]
    pub env_overrides: BTreeMap<String, String>,
    #[serde(default)]
    pub pod_overrides: Option<Value>,
    #[serde(default)]
    pub image: Option<ImageSpec>,
    /// Every other key is a service setting defined by the stack (e.g. `realm`).
    #[serde(flatten)]
    pub settings: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RoleSpec {
    #[serde(default)]
    pub replicas: Option<u32>,
    /// How the role's pods spread over nodes, replacing the stack's default (e.g. `preferred`
    /// for a single-node development cluster, where `required` would leave pods Pending).
    #[serde(default)]
    pub placement: Option<PlacementDef>,
    #[serde(default)]
    pub resources: Option<Value>,
    #[serde(default)]
    pub storage: BTreeMap<String, StorageSpec>,
    #[serde(default)]
    pub config_overrides: ConfigOverrides,
    #[serde(default)]
    pub env_overrides: BTreeMap<String, String>,
    #[serde(default)]
    pub pod_overrides: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StorageSpec {
    #[serde(default)]
    pub size: Option<String>,
    #[serde(default)]
    pub storage_class: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ImageSpec {
    #[serde(default)]
    pub repository: Option<String>,
    #[serde(default)]
    pub tag: Option<String>,
    #[serde(default)]
    pub digest: Option<String>,
    /// What the user's image supports, replacing the stack image's `capabilities` entry by
    /// entry (see `ImageDef::capabilities`). Needed when a custom image differs.
    #[serde(default)]
    pub capabilities: BTreeMap<String, Vec<String>>,
}

/// Where a service finds a dependency: this cluster (default), another Cluster among the
/// inputs, or a ConfigMap in the same namespace read at runtime.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DependencySpec {
    #[serde(default)]
    pub cluster: Option<String>,
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub config_map: Option<ConfigMapRef>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ConfigMapRef {
    pub name: String,
    #[serde(default)]
    pub key: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// StackDefinition

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StackDefinition {
    pub api_version: String,
    pub kind: String,
    pub metadata: Meta,
    pub spec: StackSpec,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StackSpec {
    #[serde(default)]
    pub extends: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub services: BTreeMap<String, ServiceDef>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ServiceDef {
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub image: ImageDef,
    /// uid/gid the pods run as (non-root).
    #[serde(default)]
    pub run_as: RunAs,
    #[serde(default)]
    pub settings: BTreeMap<String, SettingDef>,
    #[serde(default)]
    pub dependencies: BTreeMap<String, DependencyDef>,
    /// Keys of the `<cluster>-<service>-discovery` ConfigMap, as templates.
    #[serde(default)]
    pub discovery: BTreeMap<String, String>,
    #[serde(default)]
    pub files: BTreeMap<String, FileDef>,
    #[serde(default)]
    pub roles: BTreeMap<String, RoleDef>,
    /// Cross-role rules evaluated on the resolved service (expressions).
    #[serde(default)]
    pub checks: Vec<CheckDef>,
    /// A documented sequence of operations (bootstrap, scale), rendered by `bdp explain`.
    #[serde(default)]
    pub operations: BTreeMap<String, String>,
    /// Config files copied into the discovery ConfigMap: key → the file as rendered for a role
    /// (e.g. the client configuration other services mount).
    #[serde(default)]
    pub discovery_files: BTreeMap<String, DiscoveryFileDef>,
    /// Extra Kubernetes objects of the service, as YAML templates (e.g. a cert-manager
    /// Certificate). A template that renders to nothing but whitespace is skipped.
    #[serde(default)]
    pub manifests: Vec<String>,
    /// What every image using this service must support: capability name → requirement. An
    /// image that declares the capability (`image.capabilities`) but lacks a demanded value is
    /// an error; an image that does not declare it is not checked.
    #[serde(default)]
    pub image_requirements: BTreeMap<String, ImageRequirementDef>,
    /// Free-form stack data (not templated) that the service's templates read as `vars`, and
    /// dependents as `deps.<d>.vars` (e.g. a table of identities, a shared script).
    #[serde(default)]
    pub vars: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DiscoveryFileDef {
    /// The role whose rendering of the file is published. Without a role, the file is
    /// rendered in the service context (no `role`, no `deps`), before dependents resolve, so
    /// they can read it as `deps.<d>.discovery.<key>`.
    #[serde(default)]
    pub role: Option<String>,
    pub file: String,
}

/// A pod volume from a Secret or ConfigMap that bdp does not render (the user or another
/// controller creates it), mounted read-only in every container of the role.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct VolumeDef {
    /// Secret name (template).
    #[serde(default)]
    pub secret: Option<String>,
    /// ConfigMap name (template).
    #[serde(default)]
    pub config_map: Option<String>,
    pub mount_path: String,
    #[serde(default)]
    pub optional: bool,
    #[serde(default)]
    pub when: Option<String>,
    /// Only these keys, each as a file of the same name (default: every key).
    #[serde(default)]
    pub items: Option<Vec<String>>,
    /// Mounted only in these containers (default: every container of the role), e.g. a
    /// credential that one init container needs and the daemons must not see.
    #[serde(default)]
    pub containers: Option<Vec<String>>,
}

/// An environment variable read from a Secret key at runtime (never rendered).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SecretKeyDef {
    /// Secret name (template).
    pub secret: String,
    pub key: String,
    #[serde(default)]
    pub optional: bool,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ImageDef {
    #[serde(default)]
    pub repository: String,
    #[serde(default)]
    pub tag: String,
    #[serde(default)]
    pub digest: Option<String>,
    /// What the image's runtime supports, as data: capability name → the values it handles
    /// (e.g. `krb5Enctypes: [aes256-cts-hmac-sha1-96, ...]` for the Kerberos library of the
    /// image's JVM). Checked against the `imageRequirements` of the services this one uses.
    #[serde(default)]
    pub capabilities: BTreeMap<String, Vec<String>>,
}

/// Pod placement of a role. `spread`:
/// - `required`: never two pods of the role on one node (pod anti-affinity required on
///   `kubernetes.io/hostname`); for quorum members, where two on one node lose the quorum
///   with that node;
/// - `preferred` (default): the scheduler avoids it when it can (anti-affinity preferred);
/// - `none`: no rule.
///
/// With `required` and `preferred`, the pods also spread over zones
/// (`topology.kubernetes.io/zone`, maxSkew 1, ScheduleAnyway: best effort, never Pending).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PlacementDef {
    #[serde(default)]
    pub spread: Option<String>,
}

/// A scratch directory of a role: a path template, or one with an emptyDir medium.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(untagged)]
pub enum ScratchDef {
    Path(String),
    Dir {
        path: String,
        /// `Memory`: tmpfs, counted against the containers' memory limits.
        #[serde(default)]
        medium: Option<String>,
        #[serde(default, rename = "sizeLimit")]
        size_limit: Option<String>,
    },
}

impl ScratchDef {
    pub fn path(&self) -> &str {
        match self {
            ScratchDef::Path(p) | ScratchDef::Dir { path: p, .. } => p,
        }
    }
}

/// A demand a service makes of every image that uses it (its own, and the images of the
/// services depending on it), e.g. the Kerberos encryption types a realm issues tickets with.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ImageRequirementDef {
    /// Template rendering to the demanded values, separated by white space.
    pub values: String,
    /// The setting the values come from, named in the error and its hint.
    #[serde(default)]
    pub setting: Option<String>,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RunAs {
    pub user: i64,
    pub group: i64,
    /// Why the pods run as a uid below 10000 (e.g. the image's user must be in its
    /// /etc/passwd); it becomes the reason of the security scanners' skip (checkov CKV_K8S_40).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl Default for RunAs {
    fn default() -> Self {
        RunAs { user: 10000, group: 10000, reason: None }
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct SettingDef {
    #[serde(default)]
    pub default: Value,
    #[serde(default)]
    pub description: String,
    /// The value's type and grammar (checked against the user's value, with its location).
    /// Without a type, any value is accepted.
    #[serde(default, rename = "type")]
    pub ty: Option<SettingType>,
    /// With `type: array`: the type of each item.
    #[serde(default)]
    pub items: Option<SettingType>,
}

/// The type of a setting: a JSON type, or a string with a grammar (`src/grammar.rs`). A setting
/// whose value reaches a config file, a script or a manifest gets the most precise type, so the
/// value can only be data there. An empty string is accepted for a string-like type only when
/// the setting's default is empty (the stack then derives the value).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum SettingType {
    /// Any string.
    String,
    /// A string without control characters (no line breaks).
    Line,
    Integer,
    Boolean,
    Object,
    Array,
    /// RFC 1123 label (`[a-z0-9]([-a-z0-9]*[a-z0-9])?`, ≤ 63).
    DnsLabel,
    /// RFC 1123 subdomain: a Kubernetes object name (Secret, ConfigMap, Issuer).
    DnsSubdomain,
    /// A StorageClass name (a DNS subdomain).
    StorageClass,
    /// `[registry/]path[:tag][@algorithm:hex]`.
    ImageRef,
    /// `host[:port]`.
    HostPort,
    /// MIT krb5 duration: `24h`, `7d`, `1d 2h`, `3600`, `10:00:00`.
    MitDuration,
    /// MIT principal `component[/component][@REALM]`.
    KrbPrincipal,
    /// Kerberos realm (no blanks, control or profile/ACL characters).
    KrbRealm,
    /// Encryption type names separated by spaces.
    KrbEnctypes,
}

impl SettingType {
    /// Is this type a string with a grammar (as opposed to a JSON type)?
    pub fn is_text(self) -> bool {
        !matches!(self, SettingType::Integer | SettingType::Boolean | SettingType::Object | SettingType::Array)
    }
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct DependencyDef {
    /// The service (in the same stack) that provides this dependency.
    pub service: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub description: String,
    /// How a config file refers to a value read at runtime from environment variable `{{ var }}`,
    /// e.g. `${env.{{ var }}}` for Hadoop. Without it, ConfigMap dependencies are refused.
    #[serde(default)]
    pub env_ref: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct CheckDef {
    /// Expression that must be true.
    pub assert: String,
    /// Only checked when this expression is true.
    #[serde(default)]
    pub when: Option<String>,
    pub message: String,
    #[serde(default)]
    pub hint: Option<String>,
    /// Field path (below the service) the error points at, e.g. `roles.datanode.replicas`.
    #[serde(default)]
    pub path: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct FileDef {
    pub format: FileFormat,
    /// Directory the file is mounted in.
    pub dir: String,
    #[serde(default)]
    pub description: String,
    /// Does a change of this file need a restart? Keys may say otherwise.
    #[serde(default = "yes")]
    pub restart: bool,
    /// Keys and their definitions; a key name may itself be a template (e.g. the krb5
    /// `realms/{{ realm }}/kdc`), rendered in the same context as the value.
    #[serde(default)]
    pub keys: BTreeMap<String, KeyDef>,
    #[serde(default)]
    pub generate: Vec<GenerateDef>,
    /// Body for `text` files (a template).
    #[serde(default)]
    pub template: Option<String>,
    /// Rendered only when this expression is true.
    #[serde(default)]
    pub when: Option<String>,
    /// Files listing further keys the daemon reads beyond those declared in `keys` (e.g. every
    /// key of Hadoop's hdfs-default.xml), as paths relative to the folder of the stack document
    /// (`known-keys/hdfs-site.xml.txt`). One key per line; `#` starts a comment line; a line
    /// ending in `*` stands for every key with that prefix. An override of a key that is neither
    /// declared nor listed is unknown: a warning (an error with `--strict`) with a did-you-mean
    /// against both. `stacks/tools/known-keys.py` generates the lists of the built-in stack.
    #[serde(default)]
    pub known_keys: Vec<String>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum FileFormat {
    /// `key=value` lines (zoo.cfg, log4j.properties, java properties).
    #[default]
    Properties,
    /// Hadoop `<configuration><property>` XML.
    HadoopXml,
    /// MIT krb5 profile (krb5.conf, kdc.conf): keys `section/relation` or `section/sub/relation`.
    Krb5,
    /// Shell environment assignments (`export KEY='value'`, values single-quoted).
    Env,
    /// A template rendered as is.
    Text,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct KeyDef {
    /// Template for the value.
    pub value: String,
    #[serde(default)]
    pub doc: String,
    /// Overrides the file's `restart` for this key.
    #[serde(default)]
    pub restart: Option<bool>,
    /// Set by the compiler (wiring); a user override is refused.
    #[serde(default)]
    pub owned: bool,
    #[serde(default)]
    pub when: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct GenerateDef {
    /// Expression yielding a list.
    pub foreach: String,
    #[serde(rename = "as")]
    pub var: String,
    /// Key template (one key per item); or use `keys`.
    #[serde(default)]
    pub key: String,
    /// Expression yielding a list of keys that all receive the item's value (several keys
    /// per item), instead of `key`.
    #[serde(default)]
    pub keys: Option<String>,
    pub value: String,
    #[serde(default)]
    pub doc: String,
    #[serde(default = "yes")]
    pub owned: bool,
    #[serde(default)]
    pub when: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Cardinality {
    pub default: u32,
    #[serde(default)]
    pub min: u32,
    #[serde(default = "max_replicas")]
    pub max: u32,
    #[serde(default)]
    pub odd: bool,
}

fn max_replicas() -> u32 {
    1000
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RoleDef {
    #[serde(default)]
    pub description: String,
    /// What to do before the role's replicas are lowered (moving data off the pods that go,
    /// keeping a quorum…): `bdp diff` gives it as the advice of a scale-down and `bdp explain`
    /// shows it. Roles without it get generic advice.
    #[serde(default)]
    pub scale_down: Option<String>,
    pub replicas: Cardinality,
    /// The role exists only when this expression is true (e.g. journalnodes only with HA).
    #[serde(default)]
    pub enabled: Option<String>,
    /// Roles of the same service that must be up before this one.
    #[serde(default)]
    pub after: Vec<String>,
    #[serde(default)]
    pub pod_management_policy: Option<String>,
    #[serde(default)]
    pub ports: Vec<PortDef>,
    /// Extra Services beyond the headless one: name suffix → port names.
    #[serde(default)]
    pub services: BTreeMap<String, Vec<String>>,
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
    #[serde(default)]
    pub resources: Option<Value>,
    #[serde(default)]
    pub pdb: Option<PdbDef>,
    /// How the role's pods spread over nodes (default: `preferred`); a Cluster can change it
    /// per role.
    #[serde(default)]
    pub placement: Option<PlacementDef>,
    #[serde(default)]
    pub termination_grace_period_seconds: Option<i64>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub init_containers: Vec<ContainerDef>,
    pub containers: Vec<ContainerDef>,
    /// Volumes from Secrets/ConfigMaps made elsewhere: volume name → definition.
    #[serde(default)]
    pub volumes: BTreeMap<String, VolumeDef>,
    /// Extra Kubernetes objects of the role, as YAML templates.
    #[serde(default)]
    pub manifests: Vec<String>,
    /// Merged onto the generated pod template before the user's `podOverrides` (e.g. a
    /// namespaced sysctl the role needs).
    #[serde(default)]
    pub pod_overrides: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PortDef {
    pub name: String,
    pub port: i32,
    #[serde(default)]
    pub protocol: Option<String>,
    /// `peer` (only pods of the same cluster may connect), `client` (any pod) or `dependents`
    /// (the pods of this service and of the services that depend on it, in this Cluster or in
    /// other Clusters of the inputs).
    #[serde(default)]
    pub access: PortAccess,
    /// The port exists only when this expression is true (sees `settings`, `replicas`, `cluster`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum PortAccess {
    #[default]
    Peer,
    Client,
    Dependents,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct StorageDef {
    pub mount_path: String,
    pub size: String,
    #[serde(default)]
    pub description: String,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct PdbDef {
    #[serde(default)]
    pub max_unavailable: Option<i32>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ContainerDef {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Rendered only when this expression is true.
    #[serde(default)]
    pub when: Option<String>,
    /// Image of this container (template), when it is not the service's image — e.g. a
    /// client tool from a dependency's image: `{{ deps.kerberos.image }}`.
    #[serde(default)]
    pub image: Option<String>,
    #[serde(default)]
    pub command: Vec<String>,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Environment variables read from Secret keys at runtime.
    #[serde(default)]
    pub secret_env: BTreeMap<String, SecretKeyDef>,
    /// Port names this container exposes (default: the first container gets all role ports).
    #[serde(default)]
    pub ports: Option<Vec<String>>,
    #[serde(default)]
    pub readiness: Option<ProbeDef>,
    #[serde(default)]
    pub liveness: Option<ProbeDef>,
    #[serde(default)]
    pub startup: Option<ProbeDef>,
    #[serde(default)]
    pub resources: Option<Value>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ProbeDef {
    #[serde(default)]
    pub exec: Option<Vec<String>>,
    /// Port name for a TCP probe.
    #[serde(default)]
    pub tcp: Option<String>,
    #[serde(default)]
    pub http: Option<HttpProbe>,
    #[serde(default)]
    pub initial_delay_seconds: Option<i32>,
    #[serde(default)]
    pub period_seconds: Option<i32>,
    #[serde(default)]
    pub timeout_seconds: Option<i32>,
    #[serde(default)]
    pub failure_threshold: Option<i32>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct HttpProbe {
    pub path: String,
    pub port: String,
}
