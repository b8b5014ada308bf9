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
