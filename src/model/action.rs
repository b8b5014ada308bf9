//! Management actions and smoke tests of a service (`actions`, `smokeTest`): one-off Jobs that
//! run a tool of the service's image with a role's configuration and Kerberos identity.
//! `bdp action` renders an action as a Kubernetes Job; the smoke test is rendered with every
//! Cluster as a post-sync Job (ArgoCD `PostSync` hook, Flux's last Kustomization).

use super::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// A one-off Job of a service: a tool run with one role's configuration (its ConfigMap, env
/// and scratch directories) and, through the role's init containers it names, its Kerberos
/// identity.
///
/// Arguments are values, never syntax: each is checked against its `type`/`values` and given
/// to the container as the environment variable `BDP_ARG_<NAME>` (upper case, `-` → `_`). The
/// command uses it as `$(BDP_ARG_PATH)` in an argv element (Kubernetes expands it, no shell
/// involved) or as `"$BDP_ARG_PATH"` (quoted) in a shell script; templates never see argument
/// values.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ActionDef {
    /// What the action does, shown by `bdp explain` and `bdp action`.
    #[serde(default)]
    pub description: String,
    /// The role whose files (ConfigMap), env, scratch directories and volumes the Job uses.
    #[schemars(regex(pattern = DNS_LABEL))]
    pub role: String,
    /// Can the action be repeated without harm? An idempotent action's Job retries a failed
    /// pod (backoffLimit 2); any other runs once (backoffLimit 0).
    #[serde(default)]
    pub idempotent: bool,
    /// The action exists only when this expression is true (e.g. `ha`, `secure`).
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub when: Option<String>,
    /// Image of the Job's container (template); default the service's image.
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub image: Option<String>,
    /// The command (templates, in the role's context; argument values are not in it).
    #[serde(default)]
    pub command: Vec<String>,
    /// Arguments of the command (templates).
    #[serde(default)]
    pub args: Vec<String>,
    /// Environment variables (templates), added to the role's.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Resources of the container, merged over the role's.
    #[serde(default)]
    #[schemars(schema_with = "shapes::object")]
    pub resources: Option<Value>,
    /// The role's init containers to run first, by name (e.g. `keytab`: the role's Kerberos
    /// identity), each with environment overrides (e.g. which principals to export). An init
    /// container whose `when` is false (e.g. without Kerberos) is left out.
    #[serde(default)]
    pub init_containers: Vec<ActionInitDef>,
    /// The action's arguments: name → type, allowed values, default.
    #[serde(default)]
    #[schemars(extend("propertyNames" = { "pattern": "^[a-z][a-z0-9-]{0,30}$" }))]
    pub arguments: BTreeMap<String, ActionArgDef>,
    /// Mount the volumes (PVCs) of the role's pod 0 and run on its node (required pod affinity:
    /// ReadWriteOnce volumes attach to one node), for tools that work on a daemon's data next
    /// to the daemon (e.g. `kadmin.local` on the KDC database).
    #[serde(default)]
    pub mount_storage: bool,
    /// The Job's `activeDeadlineSeconds`: the action fails when it runs longer (default 600).
    #[serde(default)]
    #[schemars(range(min = 1, max = 86400))]
    pub deadline_seconds: Option<i64>,
}

/// An init container of the action's role that the action's Job runs first.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ActionInitDef {
    /// The name of one of the role's init containers.
    #[schemars(regex(pattern = DNS_LABEL))]
    pub from: String,
    /// Environment variables (templates) that replace the init container's own.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
}

/// An argument of an action: a value the user gives with `--arg NAME=VALUE`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ActionArgDef {
    /// What the argument means, shown by `bdp explain` and in errors.
    #[serde(default)]
    pub description: String,
    /// The value's grammar (default `line`).
    #[serde(default, rename = "type")]
    pub ty: ActionArgType,
    /// The only values allowed (an enumeration), when given.
    #[serde(default)]
    pub values: Vec<String>,
    /// The value when the user gives none; without it the argument is required.
    #[serde(default)]
    pub default: Option<String>,
    /// With `type: integer`: the smallest value.
    #[serde(default)]
    pub min: Option<i64>,
    /// With `type: integer`: the largest value.
    #[serde(default)]
    pub max: Option<i64>,
}

/// The grammar of an action argument's value.
#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum ActionArgType {
    /// One line of text without control characters.
    #[default]
    Line,
    /// A whole number (see `min` and `max`).
    Integer,
    /// An absolute path (`/…`) without control characters, `//`, `.` or `..` segments.
    AbsolutePath,
    /// A DNS label (lower-case letters, digits, `-`).
    DnsLabel,
    /// A name of letters, digits, `.`, `_` and `-` (e.g. a snapshot name).
    Name,
}

/// A post-start hook of a service: a command that must run after pods are up and again when
/// the running cluster changes in a way a sync alone does not handle (e.g. create a
/// filesystem's base directories once it is up, re-read an exclude file after it changed).
///
/// `bdp render` compiles a Cluster's hooks into one ConfigMap, `<cluster>-bdp-hooks`, that the
/// optional controller (`bdp-controller`) reads. Without the controller every `rolesReady` hook
/// is also rendered as a post-sync Job (like the smoke test); the other triggers need it.
/// What runs is either a Job made like an action's (the role's configuration, init containers
/// and identity) or, with `exec`, a command in a container of a ready pod of the role.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct HookDef {
    /// What the hook does, shown by `bdp explain`.
    #[serde(default)]
    pub description: String,
    /// When the hook is due.
    pub trigger: HookTriggerDef,
    /// The role whose configuration (ConfigMap, env, scratch directories, volumes) the hook's
    /// Job uses, or, with `exec`, in whose ready pod the command runs.
    #[schemars(regex(pattern = DNS_LABEL))]
    pub role: String,
    /// Run the command in a container of a ready pod of `role` (through `pods/exec`) instead
    /// of a Job. Needs the controller (never a post-sync Job).
    #[serde(default)]
    pub exec: Option<HookExecDef>,
    /// Is the hook safe to repeat? Required `true` for every trigger but `rolesReady` (which
    /// fires once), and for a hook with `retries`: the controller may run it again after a
    /// failure, a lost Job, or a change it cannot tell from a repeat.
    #[serde(default)]
    pub idempotent: bool,
    /// The hook exists only when this expression is true (e.g. `ha`, `secure`).
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub when: Option<String>,
    /// Image of the Job's container (template); default the service's image. Not with `exec`.
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub image: Option<String>,
    /// The command (templates, in the role's context).
    pub command: Vec<String>,
    /// Environment variables (templates) of the Job's container, added to the role's. Not
    /// with `exec`.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Resources of the Job's container, merged over the role's. Not with `exec`.
    #[serde(default)]
    #[schemars(schema_with = "shapes::object")]
    pub resources: Option<Value>,
    /// The role's init containers the Job runs first (as an action's `initContainers`). Not
    /// with `exec`.
    #[serde(default)]
    pub init_containers: Vec<ActionInitDef>,
    /// How long one run may take, in seconds (the Job's `activeDeadlineSeconds`; the exec's
    /// timeout); default 600.
    #[serde(default)]
    #[schemars(range(min = 1, max = 86400))]
    pub timeout_seconds: Option<i64>,
    /// How many times the controller runs a failed hook again (with back-off: 10 s, 20 s, 40 s
    /// … at most 5 min) before it reports it failed for this trigger; default 0. Needs
    /// `idempotent: true`.
    #[serde(default)]
    #[schemars(range(min = 0, max = 20))]
    pub retries: Option<u32>,
    /// Seconds the controller waits after the trigger fires before it runs the hook (e.g. the
    /// time the kubelet takes to bring a changed ConfigMap into the pods: about a minute);
    /// default 0.
    #[serde(default)]
    #[schemars(range(min = 0, max = 3600))]
    pub delay_seconds: Option<u32>,
}

/// When a hook is due (exactly one of the fields).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields, extend("minProperties" = 1, "maxProperties" = 1))]
pub struct HookTriggerDef {
    /// The first time every pod of these roles is ready (once per Cluster; roles of the
    /// service that the Cluster leaves out are ignored).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles_ready: Option<Vec<String>>,
    /// Whenever the content of this file of the service (a key of `files`) changes after it
    /// was first seen; the controller compares the hash `bdp render` writes into the hooks
    /// ConfigMap.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_changed: Option<String>,
    /// Whenever a pod of this role is re-created (a new pod UID under the same name, e.g. on a
    /// new node with an empty volume), once the new pod is ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pod_recreated: Option<String>,
    /// Whenever the number of replicas of this role's StatefulSet changes, once every replica
    /// is ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replicas_changed: Option<String>,
}

impl HookTriggerDef {
    /// The trigger, when exactly one field is set (the schema makes sure of it).
    pub fn get(&self) -> Option<HookTrigger> {
        match (&self.roles_ready, &self.file_changed, &self.pod_recreated, &self.replicas_changed) {
            (Some(r), None, None, None) => Some(HookTrigger::RolesReady(r.clone())),
            (None, Some(f), None, None) => Some(HookTrigger::FileChanged(f.clone())),
            (None, None, Some(r), None) => Some(HookTrigger::PodRecreated(r.clone())),
            (None, None, None, Some(r)) => Some(HookTrigger::ReplicasChanged(r.clone())),
            _ => None,
        }
    }
}

/// A hook's trigger (see [`HookTriggerDef`]).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub enum HookTrigger {
    RolesReady(Vec<String>),
    FileChanged(String),
    PodRecreated(String),
    ReplicasChanged(String),
}

impl Default for HookTrigger {
    fn default() -> Self {
        HookTrigger::RolesReady(Vec::new())
    }
}

impl HookTrigger {
    /// The trigger's field name (`rolesReady`, …).
    pub fn kind(&self) -> &'static str {
        match self {
            HookTrigger::RolesReady(_) => "rolesReady",
            HookTrigger::FileChanged(_) => "fileChanged",
            HookTrigger::PodRecreated(_) => "podRecreated",
            HookTrigger::ReplicasChanged(_) => "replicasChanged",
        }
    }
}

/// Where an `exec` hook runs: a container of the first ready pod of the hook's role.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct HookExecDef {
    /// The container (one of the role's `containers`).
    #[schemars(regex(pattern = DNS_LABEL))]
    pub container: String,
}
