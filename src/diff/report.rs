//! The report: every change and its impact, as data (the outputs format it).

use super::*;

// =============================================================================================
// The report

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Added,
    Removed,
    Changed,
    Reordered,
}

impl Op {
    pub(crate) fn sign(self) -> &'static str {
        match self {
            Op::Added => "+",
            Op::Removed => "-",
            Op::Changed => "~",
            Op::Reordered => "↕",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(String),
    Item(String),
    Index(usize),
}

pub(crate) fn path_string(segs: &[Seg]) -> String {
    let mut s = String::new();
    for seg in segs {
        match seg {
            Seg::Key(k) if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(k);
            }
            Seg::Key(k) => {
                let _ = write!(s, "[{}]", serde_json::to_string(k).unwrap_or_default());
            }
            Seg::Item(k) => {
                let _ = write!(s, "[{k}]");
            }
            Seg::Index(i) => {
                let _ = write!(s, "[{i}]");
            }
        }
    }
    s
}

#[derive(Debug, Clone, Serialize)]
pub struct FieldChange {
    pub path: String,
    pub op: Op,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
    /// Secret data: values are not shown.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub redacted: bool,
    #[serde(skip)]
    pub(crate) segs: Vec<Seg>,
}

impl FieldChange {
    pub(crate) fn starts_with(&self, keys: &[&str]) -> bool {
        keys.len() <= self.segs.len() && keys.iter().zip(&self.segs).all(|(k, s)| matches!(s, Seg::Key(x) if x == k))
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct EntryChange {
    pub key: String,
    pub op: Op,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<String>,
}

/// A config file (ConfigMap data key) that was added, removed or changed.
#[derive(Debug, Clone, Serialize)]
pub struct FileChange {
    pub file: String,
    pub format: FileFormat,
    pub op: Op,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub entries: Vec<EntryChange>,
    /// Unified diff for text files, or when only formatting changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text_diff: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lines: Option<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ObjRef {
    #[serde(flatten)]
    pub key: ObjKey,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub wave: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ObjChange {
    #[serde(flatten)]
    pub key: ObjKey,
    pub fields: Vec<FieldChange>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<FileChange>,
}

/// A changed config file the running daemons pick up with a command instead of a restart.
#[derive(Debug, Clone, Serialize)]
pub struct Refresh {
    /// `namespace/ConfigMap/file`.
    pub file: String,
    /// The refreshable keys that changed (empty: the whole file).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<String>,
    /// What to run once the change is synced (from the stack's `refresh`).
    pub command: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Restart {
    pub workload: ObjKey,
    pub pods: PodList,
    /// How the pods roll (one at a time, on delete, ...).
    pub rollout: String,
    pub reasons: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Immutable {
    pub object: ObjKey,
    pub field: String,
    pub change: String,
    pub migration: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Risk {
    pub object: ObjKey,
    pub risk: String,
    pub advice: String,
}

/// A change a stack rule forbids in one commit (`bdp diff --check` exits 1).
#[derive(Debug, Clone, Serialize)]
pub struct Refusal {
    /// The role (`namespace/cluster/service/role`) or service (`namespace/cluster/service`).
    pub what: String,
    pub reason: String,
    /// What the user must do instead, from the stack.
    pub steps: String,
}

/// A service's version change, classified by the stack's `versions` rules.
#[derive(Debug, Clone, Serialize)]
pub struct VersionChange {
    /// `namespace/cluster/service`
    pub service: String,
    pub old: String,
    pub new: String,
    /// `upgrade`, `downgrade` or `rollback` (a downgrade the rules allow, undoing an upgrade).
    pub kind: String,
    pub allowed: bool,
    pub reason: String,
    /// The steps, in order, from the stack.
    pub steps: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct WaveChange {
    /// The role (`namespace/cluster/service/role`) or the object.
    pub what: String,
    pub objects: usize,
    pub old: i64,
    pub new: i64,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub created: usize,
    pub deleted: usize,
    pub changed: usize,
    pub unchanged: usize,
    pub pods_restarting: usize,
    pub immutable: usize,
    pub risks: usize,
    /// Changes the stack's rules refuse.
    #[serde(skip_serializing_if = "is_zero")]
    pub refused: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub old: String,
    pub new: String,
    pub summary: Summary,
    pub restarts: Vec<Restart>,
    /// Config changes that need a refresh command, not a restart.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refreshes: Vec<Refresh>,
    pub created: Vec<ObjRef>,
    pub deleted: Vec<ObjRef>,
    pub immutable: Vec<Immutable>,
    pub risks: Vec<Risk>,
    /// Changes the stack's rules refuse, with the steps to take instead.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<Refusal>,
    /// Version changes of services, classified.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<VersionChange>,
    pub waves: Vec<WaveChange>,
    pub order_added: Vec<(String, String)>,
    pub order_removed: Vec<(String, String)>,
    pub notes: Vec<String>,
    pub changes: Vec<ObjChange>,
}

impl Report {
    pub fn has_changes(&self) -> bool {
        !(self.created.is_empty() && self.deleted.is_empty() && self.changes.is_empty() && self.order_added.is_empty() && self.order_removed.is_empty())
    }
}
