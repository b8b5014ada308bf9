//! The hooks ConfigMap (`<cluster>-bdp-hooks`, key `hooks.json`) as `bdp render` writes it:
//! the only input of the controller besides the cluster's state (it never reads a stack).

use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// The key of the hooks ConfigMap.
pub const HOOKS_KEY: &str = "hooks.json";

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HooksDoc {
    pub cluster: String,
    pub namespace: String,
    pub hooks: Vec<Hook>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TriggerKind {
    RolesReady,
    FileChanged,
    PodRecreated,
    ReplicasChanged,
}

impl TriggerKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TriggerKind::RolesReady => "rolesReady",
            TriggerKind::FileChanged => "fileChanged",
            TriggerKind::PodRecreated => "podRecreated",
            TriggerKind::ReplicasChanged => "replicasChanged",
        }
    }
}

/// A role a trigger or exec refers to: its StatefulSet and the labels of its pods.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleRef {
    pub stateful_set: String,
    #[serde(default)]
    pub selector: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Trigger {
    pub kind: TriggerKind,
    #[serde(default)]
    pub roles: Vec<RoleRef>,
    #[serde(default)]
    pub fingerprint: String,
    #[serde(default)]
    pub file: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecSpec {
    pub role: RoleRef,
    pub container: String,
    pub command: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Hook {
    /// `<service>.<hook>`: the key of its record in the status ConfigMap.
    pub id: String,
    pub trigger: Trigger,
    pub idempotent: bool,
    pub timeout_seconds: i64,
    pub retries: u32,
    pub delay_seconds: i64,
    #[serde(default)]
    pub job: Option<Value>,
    #[serde(default)]
    pub exec: Option<ExecSpec>,
}

impl Hook {
    /// The name of the Job template (the controller appends `-<8 hex>` per attempt).
    pub fn job_base_name(&self) -> String {
        self.job.as_ref().and_then(|j| j["metadata"]["name"].as_str()).unwrap_or("bdp-hook").to_string()
    }

    /// Every StatefulSet the hook looks at (trigger and exec roles).
    pub fn roles(&self) -> Vec<&RoleRef> {
        self.trigger.roles.iter().chain(self.exec.as_ref().map(|e| &e.role)).collect()
    }
}

/// Parses a hooks ConfigMap's `hooks.json`.
pub fn parse(text: &str) -> Result<HooksDoc, String> {
    serde_json::from_str(text).map_err(|e| format!("{HOOKS_KEY}: {e}"))
}
