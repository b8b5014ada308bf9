//! The input kinds, as typed data: `Cluster` (what a user writes) and `StackDefinition`
//! (what a stack author writes under `stacks/<name>/`). Both are checked against the JSON
//! Schemas in `schemas/` before they are deserialised into these types.
//!
//! The schemas are generated from these types (`src/schema.rs`, schemars): the doc comment of
//! every type and field is its description, and the `#[schemars(...)]` attributes carry the
//! constraints (patterns, ranges, closed objects) the validator enforces. After editing this
//! file, run `BDP_UPDATE_SCHEMAS=1 cargo test --test schemas` and commit `schemas/`.
//!
//! A StackDefinition may use the stack language's shorthands (`conditions`, `roleDefaults`,
//! per-role `keys`, key `blocks`, container `script` files, scalar key values); `src/lower.rs`
//! rewrites them into the plain fields when the stack is loaded, so later stages never see them.

use schemars::JsonSchema;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

pub const API_VERSION: &str = "manager.kubebdp.github.io/v1";

/// RFC 1123 label (Kubernetes names of Services, pods, namespaces, containers).
const DNS_LABEL: &str = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
/// An image capability name (`krb5Enctypes`).
const CAPABILITY_NAME: &str = "^[A-Za-z][A-Za-z0-9]{0,62}$";
/// A value in an image capability list.
const CAPABILITY_VALUE: &str = "^[A-Za-z0-9][A-Za-z0-9._:+-]{0,127}$";
/// A Kubernetes quantity (`500m`, `1.5Gi`).
const QUANTITY: &str = "^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$";
/// An absolute path (mount points).
const ABSOLUTE: &str = "^/";

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

// ---------------------------------------------------------------------------------------------
// Schema helpers: shapes that serde's types cannot say by themselves.

mod shapes {
    use schemars::{json_schema, Schema, SchemaGenerator};

    pub fn api_version(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "const": super::API_VERSION, "description": "Always `manager.kubebdp.github.io/v1`." })
    }
    pub fn kind_cluster(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "const": "Cluster", "description": "Always `Cluster`." })
    }
    pub fn kind_stack(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "const": "StackDefinition", "description": "Always `StackDefinition`." })
    }
    /// Any JSON object (pod template fragments, free-form data).
    pub fn object(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "object" })
    }
    /// A Kubernetes quantity, as a string or a number.
    pub fn quantity(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": ["string", "number"], "pattern": super::QUANTITY })
    }
    /// `requests`/`limits` of cpu, memory and ephemeral-storage.
    pub fn user_resources(_: &mut SchemaGenerator) -> Schema {
        let q = |what: &str| {
            serde_json::json!({ "type": "object", "additionalProperties": false, "description": what, "properties": {
                "cpu": { "type": ["string", "number"], "pattern": super::QUANTITY, "description": "CPU (`500m`, `2`)." },
                "memory": { "type": ["string", "number"], "pattern": super::QUANTITY, "description": "Memory (`1536Mi`, `2Gi`)." },
                "ephemeral-storage": { "type": ["string", "number"], "pattern": super::QUANTITY, "description": "Local ephemeral storage (`1Gi`)." }
            }})
        };
        json_schema!({ "type": "object", "additionalProperties": false, "properties": {
            "requests": q("What the scheduler reserves for each container."),
            "limits": q("What each container may use at most.")
        }})
    }
    /// Config override values: strings, numbers or booleans.
    pub fn config_overrides(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "object", "additionalProperties": {
            "type": "object",
            "additionalProperties": { "type": ["string", "number", "boolean"] }
        }})
    }
    /// Environment variable names: shell names.
    pub fn env_overrides(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "object",
            "propertyNames": { "pattern": "^[A-Za-z_][A-Za-z0-9_]*$" },
            "additionalProperties": { "type": "string" }
        })
    }
    /// Image capabilities: name → values, both with a grammar.
    pub fn capabilities(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "object",
            "propertyNames": { "pattern": super::CAPABILITY_NAME },
            "additionalProperties": {
                "type": "array",
                "maxItems": 64,
                "items": { "type": "string", "pattern": super::CAPABILITY_VALUE }
            }
        })
    }
    /// A key's value: a string template, or a number or boolean written as such.
    pub fn scalar(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": ["string", "number", "boolean"] })
    }
}

/// A key's value as written in a stack: a template string, or a number or boolean (`true`,
/// `3`), which the file gets in its plain text form (`"true"`, `"3"`).
fn scalar_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::invalid_type(serde::de::Unexpected::Other(&other.to_string()), &"a string, number or boolean")),
    }
}

// ---------------------------------------------------------------------------------------------
// Cluster

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
    /// Merged onto every role's generated pod template (a PodTemplateSpec fragment).
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
    /// Merged onto this role's pod template, after the service's `podOverrides`.
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

// ---------------------------------------------------------------------------------------------
// StackDefinition

/// A versioned set of services (roles, images, ports, config files, dependencies) as data.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct StackDefinition {
    /// The API version of bdp's kinds.
    #[schemars(schema_with = "shapes::api_version")]
    pub api_version: String,
    /// The kind of this document.
    #[schemars(schema_with = "shapes::kind_stack")]
    pub kind: String,
    /// The stack's name.
    pub metadata: StackMeta,
    /// The stack's services.
    pub spec: StackSpec,
}

/// The name of a stack.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct StackMeta {
    /// The stack's name, as a Cluster's `spec.stack` names it (e.g. `hadoop-3.3`). Documents
    /// with the same name form one stack.
    #[schemars(regex(pattern = "^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$"))]
    pub name: String,
}

/// The content of a stack.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct StackSpec {
    /// Stack this one starts from; services and their fields are merged over it.
    #[serde(default)]
    pub extends: Option<String>,
    /// What the stack is, shown by `bdp stacks` and `bdp explain`.
    #[serde(default)]
    pub description: String,
    /// The services of the stack: service name → definition.
    #[serde(default)]
    pub services: BTreeMap<String, ServiceDef>,
}

/// A service of a stack: its image, settings, dependencies, config files and roles.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ServiceDef {
    /// What the service is and how it is set up, shown by `bdp explain`.
    #[serde(default)]
    pub description: String,
    /// The version of the software, shown in labels (`app.kubernetes.io/version`).
    #[serde(default)]
    pub version: String,
    /// The image the service's containers run.
    #[serde(default)]
    pub image: ImageDef,
    /// uid/gid the pods run as (non-root).
    #[serde(default)]
    pub run_as: RunAs,
    /// What a Cluster may set for this service: setting name → type, default and description.
    #[serde(default)]
    pub settings: BTreeMap<String, SettingDef>,
    /// Services this one uses: dependency name (how templates call it, `deps.<name>`) →
    /// definition.
    #[serde(default)]
    pub dependencies: BTreeMap<String, DependencyDef>,
    /// Keys of the `<cluster>-<service>-discovery` ConfigMap, as templates.
    #[serde(default)]
    pub discovery: BTreeMap<String, String>,
    /// Named conditions (stack language): name → expression. An expression field (`when`,
    /// `enabled`, a check's `assert`) may use the name as a word, e.g. `when: secure` or
    /// `when: secure and not ha`; it stands for the expression in parentheses. Names are
    /// identifiers and must not shadow a template variable (`role`, `deps`, `settings`…).
    #[serde(default)]
    #[schemars(extend("propertyNames" = { "pattern": "^[A-Za-z_][A-Za-z0-9_]*$" }, "additionalProperties" = { "type": "string", "minLength": 1 }))]
    pub conditions: BTreeMap<String, String>,
    /// The service's config files: file name → definition. A role mounts the files its
    /// `files` lists.
    #[serde(default)]
    pub files: BTreeMap<String, FileDef>,
    /// Defaults of every role (stack language): fields a role does not set come from here;
    /// `env`, `volumes` and `resources` merge key by key (the role wins); `initContainers`
    /// come first, then the role's (one of the same name replaces the default's).
    #[serde(default)]
    pub role_defaults: Option<RoleDefaults>,
    /// The service's roles: role name → definition (a StatefulSet each).
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
    /// What every image using this service must support: capability name -> requirement
    /// (checked against image.capabilities of this service and of its dependents). An image
    /// that declares the capability but lacks a demanded value is an error; an image that does
    /// not declare it is not checked.
    #[serde(default)]
    #[schemars(extend("propertyNames" = { "pattern": CAPABILITY_NAME }))]
    pub image_requirements: BTreeMap<String, ImageRequirementDef>,
    /// Free-form stack data (not templated) that the service's templates read as `vars`, and
    /// dependents as `deps.<d>.vars` (e.g. a table of identities, a shared script).
    #[serde(default)]
    pub vars: BTreeMap<String, Value>,
}

/// A config file published in the discovery ConfigMap.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct DiscoveryFileDef {
    /// Role whose rendering is published; without it the file is rendered in the service
    /// context (no role, no deps), before dependents resolve, so they can read it as
    /// `deps.<d>.discovery.<key>`.
    #[serde(default)]
    pub role: Option<String>,
    /// The service's file (a key of `files`).
    pub file: String,
}

/// A pod volume from a Secret or ConfigMap that bdp does not render (the user or another
/// controller creates it), mounted read-only in every container of the role.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct VolumeDef {
    /// Secret name (template).
    #[serde(default)]
    pub secret: Option<String>,
    /// ConfigMap name (template).
    #[serde(default)]
    pub config_map: Option<String>,
    /// Where the volume is mounted (absolute).
    #[schemars(regex(pattern = ABSOLUTE))]
    pub mount_path: String,
    /// The pod starts even when the Secret or ConfigMap does not exist.
    #[serde(default)]
    pub optional: bool,
    /// Mounted only when this expression is true.
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub when: Option<String>,
    /// Only these keys, each as a file of the same name (default: every key).
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub items: Option<Vec<String>>,
    /// Mounted only in these containers (default: every container of the role), e.g. a
    /// credential that one init container needs and the daemons must not see.
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub containers: Option<Vec<String>>,
}

/// An environment variable read from a Secret key at runtime (never rendered).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct SecretKeyDef {
    /// Secret name (template).
    pub secret: String,
    /// The key of the Secret.
    pub key: String,
    /// The container starts even when the Secret or key does not exist.
    #[serde(default)]
    pub optional: bool,
}

/// The image of a service.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ImageDef {
    /// Image repository (`registry/path`).
    #[serde(default)]
    pub repository: String,
    /// Image tag.
    #[serde(default)]
    pub tag: String,
    /// Image digest (`sha256:…`), pinning the image.
    #[serde(default)]
    pub digest: Option<String>,
    /// What the image's runtime supports, as data: capability name → the values it handles
    /// (e.g. `krb5Enctypes: [aes256-cts-hmac-sha1-96, ...]` for the Kerberos library of the
    /// image's JVM). Checked against the `imageRequirements` of the services this one uses.
    #[serde(default)]
    #[schemars(schema_with = "shapes::capabilities")]
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
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct PlacementDef {
    /// `required` (never two on one node), `preferred` (avoided when possible; the default) or
    /// `none`.
    #[serde(default)]
    #[schemars(extend("enum" = ["required", "preferred", "none"]))]
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

/// Written by hand: an untagged enum whose variants carry constraints (schemars' derive takes
/// no validation attributes on newtype variants).
impl JsonSchema for ScratchDef {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "ScratchDef".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A scratch directory of a role: a path template, or one with an emptyDir medium.",
            "oneOf": [
                { "type": "string", "pattern": "^(/|\\{)", "description": "The directory's path (a template; absolute once rendered)." },
                {
                    "type": "object",
                    "description": "A directory with an emptyDir medium or size limit.",
                    "additionalProperties": false,
                    "required": ["path"],
                    "properties": {
                        "path": { "type": "string", "pattern": "^(/|\\{)", "description": "The directory's path (a template; absolute once rendered)." },
                        "medium": { "enum": ["Memory"], "description": "`Memory`: tmpfs, counted against the containers' memory limits." },
                        "sizeLimit": { "type": "string", "pattern": "^[0-9]+(Ki|Mi|Gi)?$", "description": "Largest size of the directory (`16Mi`)." }
                    }
                }
            ]
        })
    }
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
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ImageRequirementDef {
    /// Template rendering to the demanded values, separated by white space.
    pub values: String,
    /// The setting the values come from, named in the error and its hint.
    #[serde(default)]
    pub setting: Option<String>,
    /// Why the service demands it, shown in the error.
    #[serde(default)]
    pub description: String,
}

/// The uid and gid the pods of a service run as.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct RunAs {
    /// The uid (not 0).
    #[schemars(range(min = 1))]
    pub user: i64,
    /// The gid (not 0), also the pods' fsGroup.
    #[schemars(range(min = 1))]
    pub group: i64,
    /// Why the pods run as a uid below 10000 (e.g. the image's user must be in its
    /// /etc/passwd); it becomes the reason of the security scanners' skip (checkov CKV_K8S_40).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub reason: Option<String>,
}

impl Default for RunAs {
    fn default() -> Self {
        RunAs { user: 10000, group: 10000, reason: None }
    }
}

/// A setting a Cluster may give for the service.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct SettingDef {
    /// The value when the Cluster gives none (it must fit `type`).
    #[serde(default)]
    pub default: Value,
    /// What the setting does, shown by `bdp explain` and as the hint of a wrong value.
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

/// A setting's type: a JSON type, or a string with a grammar checked against the Cluster's
/// value (`src/grammar.rs`). A setting whose value reaches a config file, a script or a
/// manifest gets the most precise type, so the value can only be data there. An empty string
/// is accepted for a string-like type only when the setting's default is empty (the stack
/// then derives the value).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum SettingType {
    /// Any string.
    String,
    /// A string without control characters (no line breaks).
    Line,
    /// A whole number.
    Integer,
    /// `true` or `false`.
    Boolean,
    /// A mapping.
    Object,
    /// A list (see `items`).
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

/// A service this one uses.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct DependencyDef {
    /// The service (in the same stack) that provides this dependency.
    #[schemars(regex(pattern = DNS_LABEL))]
    pub service: String,
    /// Is the service unusable without it? An optional dependency that is absent leaves
    /// `deps.<name>` undefined.
    #[serde(default)]
    pub required: bool,
    /// What the dependency is used for, shown by `bdp explain`.
    #[serde(default)]
    pub description: String,
    /// How a config file refers to a value read at runtime from environment variable `{{ var }}`,
    /// e.g. `${env.{{ var }}}` for Hadoop. Without it, ConfigMap dependencies are refused.
    #[serde(default)]
    pub env_ref: Option<String>,
}

/// A rule on the resolved service: an error when `assert` is false.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct CheckDef {
    /// Expression that must be true.
    #[schemars(length(min = 1))]
    pub assert: String,
    /// Only checked when this expression is true.
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub when: Option<String>,
    /// The error's message (a template).
    pub message: String,
    /// The error's hint (a template).
    #[serde(default)]
    pub hint: Option<String>,
    /// Field path (below the service) the error points at, e.g. `roles.datanode.replicas`.
    #[serde(default)]
    pub path: Option<String>,
}

/// A config file of a service.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct FileDef {
    /// How the file is written.
    pub format: FileFormat,
    /// Directory the file is mounted in.
    #[schemars(regex(pattern = ABSOLUTE))]
    pub dir: String,
    /// What the file configures, shown by `bdp explain`.
    #[serde(default)]
    pub description: String,
    /// Does a change of this file need a restart? Keys may say otherwise.
    #[serde(default = "yes")]
    pub restart: bool,
    /// Keys and their definitions; a key name may itself be a template (e.g. the krb5
    /// `realms/{{ realm }}/kdc`), rendered in the same context as the value.
    #[serde(default)]
    pub keys: BTreeMap<String, KeyDef>,
    /// Keys that share one condition (stack language): each block's `when` applies to every
    /// key in it, and-ed with the key's own.
    #[serde(default)]
    pub blocks: Vec<KeyBlock>,
    /// Keys generated from lists (one key per item, e.g. `server.N` of zoo.cfg).
    #[serde(default)]
    pub generate: Vec<GenerateDef>,
    /// Body for `text` files (a template).
    #[serde(default)]
    pub template: Option<String>,
    /// Rendered only when this expression is true.
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub when: Option<String>,
    /// Files listing further keys the daemon reads beyond those declared in `keys` (e.g. every
    /// key of Hadoop's hdfs-default.xml), as paths relative to the folder of the stack document
    /// (`known-keys/hdfs-site.xml.txt`). One key per line; `#` starts a comment line; a line
    /// ending in `*` stands for every key with that prefix. An override of a key that is neither
    /// declared nor listed is unknown: a warning (an error with `--strict`) with a did-you-mean
    /// against both. `stacks/tools/known-keys.py` generates the lists of the built-in stack.
    #[serde(default)]
    #[schemars(inner(length(min = 1)))]
    pub known_keys: Vec<String>,
}

fn yes() -> bool {
    true
}

/// Keys under one condition (stack language).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct KeyBlock {
    /// The keys exist only when this expression (or named condition) is true.
    #[schemars(length(min = 1))]
    pub when: String,
    /// What the block is about (a comment for readers; not rendered).
    #[serde(default)]
    pub doc: String,
    /// The keys of the block, as in a file's `keys`.
    pub keys: BTreeMap<String, KeyDef>,
}

/// The format of a config file.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq, JsonSchema)]
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

/// A key of a config file.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct KeyDef {
    /// The value: a template string, or a number or boolean (written as its text, `true`, `3`).
    #[serde(deserialize_with = "scalar_string")]
    #[schemars(schema_with = "shapes::scalar")]
    pub value: String,
    /// What the key does and why it has this value, shown by `bdp explain`.
    #[serde(default)]
    pub doc: String,
    /// Overrides the file's `restart` for this key.
    #[serde(default)]
    pub restart: Option<bool>,
    /// Set by the compiler (wiring); a user override is refused.
    #[serde(default)]
    pub owned: bool,
    /// The key exists only when this expression is true.
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub when: Option<String>,
}

/// Keys generated from a list: one key (or several) per item.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields, transform = generate_shape)]
pub struct GenerateDef {
    /// Expression yielding a list.
    #[schemars(length(min = 1))]
    pub foreach: String,
    /// The name of the item in `key`, `keys` and `value`.
    #[serde(rename = "as")]
    pub var: String,
    /// Which keys each item yields.
    #[serde(flatten)]
    pub target: GenerateTarget,
    /// Template for the value.
    #[serde(deserialize_with = "scalar_string")]
    #[schemars(schema_with = "shapes::scalar")]
    pub value: String,
    /// What the keys do, shown by `bdp explain`.
    #[serde(default)]
    pub doc: String,
    /// Set by the compiler (default: yes); a user override is refused.
    #[serde(default = "yes")]
    pub owned: bool,
    /// Generated only when this expression is true.
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub when: Option<String>,
}

/// The keys of a `generate` item: one key template, or an expression yielding several keys.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(untagged)]
pub enum GenerateTarget {
    /// One key per item.
    Key {
        /// Key template (one key per item).
        key: String,
    },
    /// Several keys per item, all receiving the item's value.
    Keys {
        /// Expression yielding a list of keys that all receive the item's value.
        #[schemars(length(min = 1))]
        keys: String,
    },
}

impl Default for GenerateTarget {
    fn default() -> Self {
        GenerateTarget::Key { key: String::new() }
    }
}

/// `key` and `keys` as properties of the entry, exactly one of them required.
fn generate_shape(schema: &mut schemars::Schema) {
    let Some(obj) = schema.as_object_mut() else { return };
    let mut branches = Vec::new();
    for k in ["anyOf", "oneOf"] {
        if let Some(Value::Array(a)) = obj.remove(k) {
            branches.extend(a);
        }
    }
    let mut required = Vec::new();
    if let Some(Value::Object(props)) = obj.get_mut("properties") {
        for b in branches {
            if let Some(Value::Object(bp)) = b.get("properties") {
                for (k, v) in bp {
                    props.insert(k.clone(), v.clone());
                    required.push(serde_json::json!({ "required": [k] }));
                }
            }
        }
    }
    obj.insert("oneOf".into(), Value::Array(required));
    obj.remove("unevaluatedProperties");
    obj.insert("additionalProperties".into(), Value::Bool(false));
}

/// The number of pods of a role.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct Cardinality {
    /// Replicas when the Cluster gives none.
    pub default: u32,
    /// Fewest replicas a Cluster may ask for.
    #[serde(default)]
    pub min: u32,
    /// Most replicas a Cluster may ask for (default 1000).
    #[serde(default = "max_replicas")]
    #[schemars(range(min = 1))]
    pub max: u32,
    /// The number must be odd (a quorum).
    #[serde(default)]
    pub odd: bool,
}

fn max_replicas() -> u32 {
    1000
}

/// How a StatefulSet creates and deletes its pods.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq, JsonSchema)]
pub enum PodManagementPolicy {
    /// All pods at once (the default).
    #[default]
    Parallel,
    /// One at a time, each Ready before the next.
    OrderedReady,
}

impl PodManagementPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            PodManagementPolicy::Parallel => "Parallel",
            PodManagementPolicy::OrderedReady => "OrderedReady",
        }
    }
}

impl std::fmt::Display for PodManagementPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

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
    /// The role's containers (the first one gets the role's ports unless they say otherwise).
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
