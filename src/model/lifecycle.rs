//! Day-2 policies of a stack, as data: how a role's replica count may change in one commit
//! (`scale`) and which version may follow which (`versions`). `bdp diff` reports them and
//! `bdp diff --check` refuses what they forbid, with the steps the user must take instead.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How a role's replicas may change in one commit.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ScalePolicy {
    /// Rule for more replicas (default: allowed).
    #[serde(default)]
    pub up: Option<ScaleRule>,
    /// Rule for fewer replicas (default: allowed, with the role's `scaleDown` advice as a risk).
    #[serde(default)]
    pub down: Option<ScaleRule>,
    /// `majority`: the role is a majority quorum with static membership, whose config lists
    /// every member, so a change rolls every pod. A change is refused when the pods added could
    /// elect a leader among themselves (added ≥ a majority of the new size); when a growth lets
    /// two leaders exist at once (the added pods and the members already restarted onto the new
    /// membership can be a majority of it while the members not yet restarted are still a
    /// majority of the old one: majority(old) + majority(new) ≤ new), which with odd sizes is
    /// every growth; or when, while one survivor restarts during the roll, the survivors still up
    /// are not a majority of the old membership (new − 1 < a majority of the old size).
    #[serde(default)]
    pub quorum: Option<QuorumKind>,
    /// The steps printed with a refusal by the `quorum` rule (the safe sequence of commits).
    #[serde(default)]
    pub procedure: Option<String>,
    /// With `quorum`: while a setting of the service has a value, the membership changes by
    /// reconfiguration instead of a roll (ZooKeeper's `reconfig`): a new member joins without a
    /// vote and is added once in sync, so any growth is allowed; a member that goes stops before
    /// it is removed, so a shrink is allowed while the members that stay are a majority of the
    /// old size (new ≥ a majority of old). Switching between the two ways and resizing in the
    /// same commit is refused.
    #[serde(default)]
    pub dynamic: Option<DynamicMembership>,
}

/// The setting (and its value) under which a quorum role's membership is dynamic.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct DynamicMembership {
    /// The service's setting, e.g. `membership`.
    #[schemars(length(min = 1))]
    pub setting: String,
    /// Its value that means dynamic, e.g. `dynamic`.
    #[schemars(length(min = 1))]
    pub value: String,
    /// The steps printed with a refusal while the membership is dynamic.
    #[serde(default)]
    pub procedure: String,
    /// Not empty: a commit that switches away from dynamic membership (the setting leaves
    /// `value`) is refused with these steps, with or without a resize.
    #[serde(default)]
    pub leave_procedure: String,
}

/// A membership rule of a quorum role.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum QuorumKind {
    /// A strict majority of the configured members must be up.
    Majority,
}

/// One direction of a replica change.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct ScaleRule {
    /// Never in a commit of its own: the `procedure` says what to do instead.
    #[serde(default)]
    pub refused: bool,
    /// The pods that go must be drained first (only for `down`).
    #[serde(default)]
    pub drain: Option<DrainRule>,
    /// The steps the user must take instead, printed with a refusal.
    #[serde(default)]
    pub procedure: String,
}

/// Two settings of the service, each a list of pod names (or FQDNs): a pod may go only when
/// the OLD side lists it in `requested` (the drain was asked for and has run) and the NEW side
/// lists it in `done` (the user, or a controller, recorded that it finished).
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct DrainRule {
    /// Setting listing the pods being drained (e.g. `decommission`).
    #[schemars(length(min = 1))]
    pub requested: String,
    /// Setting listing the pods whose drain finished (e.g. `decommissioned`).
    #[schemars(length(min = 1))]
    pub done: String,
}

/// Which version of a service may follow which, and the steps of each change. Versions are
/// the image tag's leading numbers (`3.8.4`, `3.8.4-jre-17`); a series is `major.minor`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct VersionPolicy {
    /// A change within a series (patch releases).
    #[serde(default)]
    pub patch: Option<PatchRule>,
    /// Upgrades from one series to another; one not listed is refused.
    #[serde(default)]
    pub upgrades: Vec<VersionStep>,
    /// Going back to an older series (undoing an upgrade); one not listed is a refused
    /// downgrade.
    #[serde(default)]
    pub rollbacks: Vec<VersionStep>,
}

/// Patch releases of one series.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct PatchRule {
    /// How a patch upgrade rolls (printed with it).
    #[serde(default)]
    pub steps: String,
    /// Whether an older patch release of the same series may follow (default: yes).
    #[serde(default = "yes")]
    pub downgrade: bool,
}

fn yes() -> bool {
    true
}

/// One allowed change between series.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq, JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(deny_unknown_fields)]
pub struct VersionStep {
    /// The series of the running version, e.g. `3.3`.
    #[schemars(regex(pattern = r"^[0-9]+(\.[0-9]+)*$"))]
    pub from: String,
    /// The series of the new version, e.g. `3.4`.
    #[schemars(regex(pattern = r"^[0-9]+(\.[0-9]+)*$"))]
    pub to: String,
    /// The steps, in order (commits to make, commands to run before and after the sync).
    pub steps: String,
}
