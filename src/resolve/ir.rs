//! The resolved IR: what resolve decided, and all that plan, render, diff and explain see
//! of a Cluster.

use super::*;

#[derive(Debug, Clone, Serialize)]
pub struct ResolvedCluster {
    pub name: String,
    pub namespace: String,
    pub domain: String,
    pub stack: String,
    pub services: Vec<ResolvedService>,
    /// The hooks controller, when `spec.controller.enabled`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub controller: Option<ResolvedController>,
    #[serde(skip)]
    pub doc: Doc,
}

/// `spec.controller` of an enabled controller.
#[derive(Debug, Clone, Serialize)]
pub struct ResolvedController {
    pub image: String,
    pub replicas: i32,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResolvedService {
    pub name: String,
    pub version: String,
    pub image: String,
    pub image_pinned: bool,
    pub run_as: RunAs,
    pub settings: BTreeMap<String, Value>,
    pub deps: Vec<ResolvedDep>,
    pub discovery: BTreeMap<String, String>,
    pub roles: Vec<ResolvedRole>,
    /// Extra objects from the stack's service `manifests` templates.
    pub manifests: Vec<Value>,
    /// The stack's version rules (`versions`), for `bdp diff`.
    #[serde(skip)]
    pub versions: Option<crate::model::VersionPolicy>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "source", rename_all = "camelCase")]
pub enum DepSource {
    /// The same cluster's service.
    Service,
    /// Another Cluster among the inputs.
    Cluster { cluster: String, namespace: String },
    /// A ConfigMap in the same namespace, read at runtime.
    ConfigMap { name: String, key: String },
}

#[derive(Debug, Clone, Serialize)]
pub struct ResolvedDep {
    pub name: String,
    pub service: String,
    pub from: DepSource,
}

#[derive(Debug, Clone, Serialize)]
pub struct Pod {
    pub name: String,
    pub ordinal: u32,
    pub fqdn: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Storage {
    pub name: String,
    pub mount_path: String,
    pub size: String,
    pub storage_class: Option<String>,
}

pub use crate::formats::Entry;

#[derive(Debug, Clone, Serialize)]
pub struct ConfigFile {
    pub name: String,
    pub format: FileFormat,
    pub dir: String,
    pub entries: Vec<Entry>,
    /// Body of a `text` file.
    pub text: Option<String>,
    pub restart: bool,
    /// Keys whose change the running daemons pick up with a command instead of a restart:
    /// key (`*`: the whole file) → the command.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub refresh: BTreeMap<String, String>,
    /// Keys the file's role does not read (the stack's `readBy`): out of its config checksum.
    #[serde(skip_serializing_if = "std::collections::BTreeSet::is_empty")]
    pub unread: std::collections::BTreeSet<String>,
}

impl ConfigFile {
    /// The file's full text, in its format.
    pub fn render(&self) -> String {
        crate::formats::write(self.format, &self.entries, self.text.as_deref())
    }
    /// The part of the file whose change needs a restart (see [`crate::formats::restart_relevant`]).
    pub fn restart_relevant(&self) -> String {
        crate::formats::restart_relevant(self.format, &self.entries, self.text.as_deref(), self.restart)
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub enum EnvValue {
    Value(String),
    /// Downward API field (`metadata.name`).
    Field(String),
    ConfigMapKey { name: String, key: String },
    SecretKey { name: String, key: String, optional: bool },
}

/// A pod volume from a Secret or ConfigMap that bdp references but does not render.
#[derive(Debug, Clone, Serialize)]
pub struct ExternalVolume {
    pub name: String,
    pub secret: Option<String>,
    pub config_map: Option<String>,
    pub mount_path: String,
    pub optional: bool,
    /// Only these keys (each as a file of the same name).
    pub items: Option<Vec<String>>,
    /// Only mounted in these containers (None: all).
    pub containers: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Probe {
    pub exec: Option<Vec<String>>,
    pub tcp: Option<i32>,
    pub http: Option<(String, i32)>,
    pub initial_delay_seconds: Option<i32>,
    pub period_seconds: Option<i32>,
    pub timeout_seconds: Option<i32>,
    pub failure_threshold: Option<i32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Container {
    pub name: String,
    pub command: Vec<String>,
    pub args: Vec<String>,
    pub env: BTreeMap<String, EnvValue>,
    pub ports: Vec<PortDef>,
    pub readiness: Option<Probe>,
    pub liveness: Option<Probe>,
    pub startup: Option<Probe>,
    pub resources: Value,
    /// Image when not the service's.
    pub image: Option<String>,
}

/// A writable emptyDir of a role's pods.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Scratch {
    pub path: String,
    /// emptyDir medium (`Memory`: tmpfs).
    pub medium: Option<String>,
    pub size_limit: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ResolvedRole {
    pub name: String,
    /// `<cluster>-<service>-<role>`: StatefulSet, headless Service, ConfigMap, PDB names.
    pub fullname: String,
    pub replicas: u32,
    pub cardinality: Cardinality,
    pub pods: Vec<Pod>,
    pub after: Vec<String>,
    pub pod_management_policy: String,
    pub ports: Vec<PortDef>,
    pub services: BTreeMap<String, Vec<String>>,
    pub storage: Vec<Storage>,
    pub scratch: Vec<Scratch>,
    pub files: Vec<ConfigFile>,
    pub init_containers: Vec<Container>,
    pub containers: Vec<Container>,
    pub pdb_max_unavailable: Option<i32>,
    /// Pod spread over nodes: `required`, `preferred` or `none` (Cluster, else stack, else preferred).
    pub spread: String,
    pub termination_grace_period_seconds: Option<i64>,
    pub pod_overrides: Option<Value>,
    pub volumes: Vec<ExternalVolume>,
    /// Extra objects from the stack's role `manifests` templates.
    pub manifests: Vec<Value>,
    /// Where the user wrote this role (for diagnostics), `spec.services.<s>.roles.<r>`.
    #[serde(skip)]
    pub user_path: Vec<String>,
    /// The stack's scale-down advice for the role (`scaleDown`), for `bdp diff`.
    #[serde(skip)]
    pub scale_down: Option<String>,
    /// The service's actions that run with this role's config (`bdp action`), by name.
    #[serde(skip)]
    pub actions: Vec<ResolvedAction>,
    /// The service's smoke test, when it runs with this role's config and is enabled.
    #[serde(skip)]
    pub smoke_test: Option<ResolvedAction>,
    /// The stack's scale policy for the role (`scale`), for `bdp diff --check`.
    #[serde(skip)]
    pub scale: Option<crate::model::ScalePolicy>,
    /// The service's post-start hooks that run with this role (its Job's context, or its pods
    /// for `exec`).
    #[serde(skip)]
    pub hooks: Vec<ResolvedHook>,
}

/// A post-start hook of a service, resolved in its role's context: what `render::hooks`
/// writes into the hooks ConfigMap (and, for `rolesReady` without the controller, as a
/// post-sync Job).
#[derive(Debug, Clone, Serialize)]
pub struct ResolvedHook {
    pub name: String,
    pub description: String,
    /// The trigger, its roles limited to those the Cluster has.
    pub trigger: crate::model::HookTrigger,
    pub idempotent: bool,
    pub timeout_seconds: i64,
    pub retries: u32,
    pub delay_seconds: u32,
    /// The Job (made like an action's), unless the hook is an `exec`.
    pub job: Option<ResolvedAction>,
    pub exec: Option<HookExec>,
}

/// A command run in a container of a ready pod of the hook's role.
#[derive(Debug, Clone, Serialize)]
pub struct HookExec {
    pub container: String,
    pub command: Vec<String>,
}

/// A management action or smoke test of a service, resolved in its role's context: what
/// `render::job` turns into a Job once the arguments are known.
#[derive(Debug, Clone, Serialize)]
pub struct ResolvedAction {
    pub name: String,
    pub description: String,
    pub idempotent: bool,
    /// The role's init containers the Job runs first (with the action's env overrides).
    pub init_containers: Vec<Container>,
    /// The action's container (named `action`).
    pub container: Container,
    /// The arguments as the stack declares them.
    pub arguments: BTreeMap<String, crate::model::ActionArgDef>,
    /// Mount the role's pod-0 volumes and run on that pod's node.
    pub mount_storage: bool,
    pub deadline_seconds: i64,
}
