//! `kind: StackDefinition`: a stack's services, settings, dependencies and config files.

use super::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

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
    /// Which version may follow which, and the steps of each upgrade and rollback: `bdp diff`
    /// classifies a version change with them and `bdp diff --check` refuses what they forbid.
    #[serde(default)]
    pub versions: Option<VersionPolicy>,
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
    /// Files next to the stack document read into `vars` when the stack is loaded (stack
    /// language): var name → path relative to the document's folder (no `..`, no symbolic link,
    /// at most 1 MiB); the var is the file's text, and a `.json` file must be valid JSON. E.g. a
    /// Grafana dashboard a manifest template writes into a ConfigMap:
    /// `{{ dict(vars.dashboard | fromjson, uid=...) | tojson(indent=2) | tojson }}`.
    #[serde(default)]
    pub var_files: BTreeMap<String, String>,
    /// Management actions (`bdp action CLUSTER SERVICE ACTION`): action name → definition.
    /// Each renders as a Kubernetes Job; `bdp explain SERVICE/actions` lists them.
    #[serde(default)]
    #[schemars(extend("propertyNames" = { "pattern": "^[a-z][a-z0-9-]{0,40}$" }))]
    pub actions: BTreeMap<String, ActionDef>,
    /// The service's smoke test: a Job rendered with every Cluster, run after each sync (an
    /// ArgoCD `PostSync` hook; with Flux in the last Kustomization, which waits for it). A
    /// failing test fails the sync. Its `arguments` must be empty; `when` turns it off (e.g.
    /// `when: settings.smokeTest`).
    #[serde(default)]
    pub smoke_test: Option<ActionDef>,
    /// Post-start hooks: hook name → definition. `bdp render` compiles them into the
    /// Cluster's `<cluster>-bdp-hooks` ConfigMap for the optional controller; `rolesReady`
    /// hooks are also post-sync Jobs without it. `bdp explain SERVICE/hooks` lists them.
    #[serde(default)]
    #[schemars(extend("propertyNames" = { "pattern": "^[a-z][a-z0-9-]{0,30}$" }))]
    pub hooks: BTreeMap<String, HookDef>,
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
    /// credential that one init container needs and the daemons must not see. `action` names
    /// the container of the role's Jobs (actions, hooks, smoke test).
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
    /// A host alone: a DNS name (any case), an IPv4 address or an IPv6 address in brackets; no
    /// port (give it in a setting of its own).
    Host,
    /// An SQL-style identifier: a letter or `_`, then letters, digits and `_`, at most 63 (a
    /// database or schema name that reaches a JDBC URL or a script).
    Identifier,
    /// MIT krb5 duration: `24h`, `7d`, `1d 2h`, `3600`, `10:00:00`.
    MitDuration,
    /// MIT principal `component[/component][@REALM]`.
    KrbPrincipal,
    /// Kerberos realm (no blanks, control or profile/ACL characters).
    KrbRealm,
    /// Encryption type names separated by spaces.
    KrbEnctypes,
    /// A network topology path (Hadoop's rack of a node): `/` then names of letters, digits,
    /// `.`, `_`, `-`, separated by `/`, e.g. `/zone-a/rack-1`.
    TopologyPath,
    /// A label selector's `matchLabels`: label keys (`[prefix/]name`) to label values. Render it
    /// with `tojson`.
    LabelSelector,
}

impl SettingType {
    /// Is this type a string with a grammar (as opposed to a JSON type)?
    pub fn is_text(self) -> bool {
        !matches!(self, SettingType::Integer | SettingType::Boolean | SettingType::Object | SettingType::Array | SettingType::LabelSelector)
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
    /// Which roles read a key, for keys only some roles read: key pattern → role names. A
    /// pattern is a key name or a prefix ending in `*` (`dfs.namenode.checkpoint.*`); the longest
    /// matching pattern decides (a key name before a prefix of the same length), and `"*"` among
    /// the roles means every role (to carve exceptions out of a prefix). A key no pattern matches
    /// is read by every role. A change of a key enters only its readers' config checksums, so
    /// only their pods restart; the file itself stays the same in every role's ConfigMap.
    #[serde(default)]
    #[schemars(inner(length(min = 1)))]
    pub read_by: BTreeMap<String, Vec<String>>,
    /// A change of the file (every key) needs no restart: this command makes the running
    /// daemons re-read it (e.g. `hdfs dfsadmin -refreshNodes`). It stays out of the config
    /// checksum, and `bdp diff` says the file refreshes and which command to run.
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub refresh: Option<String>,
}

impl FileDef {
    /// The roles that read `key` (`None`: every role), from [`FileDef::read_by`].
    pub fn readers(&self, key: &str) -> Option<&[String]> {
        let mut best: Option<((usize, bool), &Vec<String>)> = None;
        for (pat, roles) in &self.read_by {
            let rank = match pat.strip_suffix('*') {
                Some(prefix) if key.starts_with(prefix) => (prefix.len(), false),
                None if pat == key => (pat.len(), true),
                _ => continue,
            };
            if best.as_ref().is_none_or(|(b, _)| rank > *b) {
                best = Some((rank, roles));
            }
        }
        match best {
            Some((_, roles)) if !roles.iter().any(|r| r == "*") => Some(roles.as_slice()),
            _ => None,
        }
    }
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
    /// A change of this key needs no restart: this command makes the running daemons re-read
    /// it (overrides the file's `refresh`). It stays out of the config checksum.
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub refresh: Option<String>,
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
        #[schemars(length(min = 1))]
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


#[cfg(test)]
mod read_by_tests {
    use super::FileDef;

    fn file(pats: &[(&str, &[&str])]) -> FileDef {
        FileDef { read_by: pats.iter().map(|(p, r)| (p.to_string(), r.iter().map(|x| x.to_string()).collect())).collect(), ..Default::default() }
    }

    #[test]
    fn the_longest_pattern_decides_and_star_means_every_role() {
        let f = file(&[("dfs.namenode.*", &["namenode"]), ("dfs.namenode.rpc-address*", &["*"]), ("dfs.namenode.x", &["a", "b"]), ("dfs.namenode.x*", &["c"])]);
        assert_eq!(f.readers("dfs.namenode.handler.count"), Some(&["namenode".to_string()][..]));
        assert_eq!(f.readers("dfs.namenode.rpc-address.ns.nn0"), None, "an exception carved out of the prefix");
        assert_eq!(f.readers("dfs.namenode.x"), Some(&["a".to_string(), "b".to_string()][..]), "a key name before a prefix of its length");
        assert_eq!(f.readers("dfs.namenode.xy"), Some(&["c".to_string()][..]));
        assert_eq!(f.readers("dfs.replication"), None, "undeclared: every role");
        assert_eq!(file(&[]).readers("k"), None);
    }
}
