//! The hooks ConfigMap (`<cluster>-bdp-hooks`, key `hooks.yaml`) as `bdp render` writes it:
//! the only input of the controller besides the cluster's state (it never reads a stack).

use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// The key of the hooks ConfigMap.
pub const HOOKS_KEY: &str = "hooks.yaml";

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

/// Parses a hooks ConfigMap's `hooks.yaml`.
pub fn parse(text: &str) -> Result<HooksDoc, String> {
    let docs = yaml_rust2::YamlLoader::load_from_str(text).map_err(|e| format!("{HOOKS_KEY}: {e}"))?;
    let doc = docs.first().ok_or_else(|| format!("{HOOKS_KEY}: empty"))?;
    serde_json::from_value(to_json(doc)).map_err(|e| format!("{HOOKS_KEY}: {e}"))
}

/// A YAML value as JSON (bdp's writer quotes every string that would read as another type).
fn to_json(y: &yaml_rust2::Yaml) -> Value {
    use yaml_rust2::Yaml;
    match y {
        Yaml::Hash(h) => Value::Object(h.iter().map(|(k, v)| (k.as_str().map(str::to_string).unwrap_or_else(|| format!("{k:?}")), to_json(v))).collect()),
        Yaml::Array(a) => Value::Array(a.iter().map(to_json).collect()),
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Integer(i) => Value::from(*i),
        Yaml::Real(r) => r.parse::<f64>().map(Value::from).unwrap_or(Value::Null),
        Yaml::Boolean(b) => Value::Bool(*b),
        _ => Value::Null,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn parses_what_bdp_writes() {
        let text = "apiVersion: hooks.kubebdp.github.io/v1\ncluster: c\nnamespace: ns\nhooks:\n  - id: svc.h\n    idempotent: true\n    retries: 2\n    timeoutSeconds: 60\n    delaySeconds: 0\n    trigger:\n      kind: fileChanged\n      file: a.conf\n      fingerprint: \"0123\"\n      roles: []\n    job:\n      metadata: {name: c-svc-hook-h}\n      spec:\n        template:\n          spec:\n            containers:\n              - command:\n                  - sh\n                  - |\n                    echo one\n                    echo two\n";
        let d = super::parse(text).unwrap();
        assert_eq!(d.hooks[0].trigger.fingerprint, "0123");
        assert_eq!(d.hooks[0].retries, 2);
        assert_eq!(d.hooks[0].job_base_name(), "c-svc-hook-h");
        assert_eq!(d.hooks[0].job.as_ref().unwrap()["spec"]["template"]["spec"]["containers"][0]["command"][1], "echo one\necho two\n");
        assert!(super::parse("hooks: x").is_err());
    }
}
