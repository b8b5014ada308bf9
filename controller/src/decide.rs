//! The pure part of the controller: given one hook (from the hooks ConfigMap), what the
//! cluster looks like now, the hook's record (from the status ConfigMap) and the time, decide
//! what to do. No I/O here: state in, actions and the new record out (unit-tested below).
//!
//! A trigger has a *key* that stands for "this event": `ready` for `rolesReady`, the file's
//! fingerprint for `fileChanged`, the pod UIDs for `podRecreated`, the replica count for
//! `replicasChanged`. The record keeps the key last handled; a hook is due when the current key
//! differs from it. Every trigger but `rolesReady` only records its first key (the state the
//! daemons started with) without running.

use crate::hooks::{Hook, TriggerKind};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What the controller sees of one role (a StatefulSet and its pods).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RoleState {
    /// `spec.replicas` of the StatefulSet (None: no such StatefulSet).
    pub replicas: Option<i32>,
    /// Its pods: name → (uid, ready).
    pub pods: BTreeMap<String, (String, bool)>,
}

impl RoleState {
    /// Every replica exists and is ready (and there is at least one).
    pub fn all_ready(&self) -> bool {
        let Some(n) = self.replicas else { return false };
        n > 0 && self.pods.values().filter(|(_, r)| *r).count() as i32 >= n
    }
}

/// The state of a Job the controller created.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobState {
    Running,
    Succeeded,
    Failed,
    /// No such Job (deleted by someone, or never created).
    Missing,
}

/// One run of a hook, as the status ConfigMap records it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Run {
    /// The trigger key the run is for.
    pub key: String,
    /// 1 for the first attempt.
    pub attempt: u32,
    /// `running`, `waiting` (until `notBefore`: a delay or a back-off), `succeeded`, `failed`.
    pub state: String,
    /// The Job's name (Job hooks), or the pod exec'd into.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub target: String,
    /// Unix seconds: when the attempt started / may start.
    #[serde(default)]
    pub since: i64,
    #[serde(default)]
    pub not_before: i64,
    /// What happened (failure message, exit status).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
}

/// A hook's record in the status ConfigMap (key: the hook's id).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Record {
    /// The trigger key last handled (run to the end, or first seen).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handled: Option<String>,
    /// The run in progress or the last one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<Run>,
    /// Finished attempts, newest last (at most [`HISTORY`]).
    #[serde(default)]
    pub history: Vec<Run>,
}

/// How many finished attempts a record keeps.
pub const HISTORY: usize = 10;

/// What the controller must do for a hook.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Create the hook's Job under this name (an existing one of that name is the same run).
    CreateJob { name: String, key: String, attempt: u32 },
    /// Run the hook's command in this pod (the record already says `running`).
    Exec { pod: String, key: String, attempt: u32 },
    /// Report an Event on the hooks ConfigMap.
    Event { warning: bool, reason: &'static str, message: String },
}

/// Back-off before attempt `attempt + 1`: 10 s, 20 s, 40 s … at most 300 s.
pub fn backoff(attempt: u32) -> i64 {
    (10i64 << attempt.saturating_sub(1).min(5)).min(300)
}

/// The trigger's current key, when it can be told (None: not yet, e.g. pods not ready).
pub fn current_key(h: &Hook, roles: &BTreeMap<String, RoleState>) -> Option<String> {
    let role = |name: &str| roles.get(name).cloned().unwrap_or_default();
    match h.trigger.kind {
        TriggerKind::RolesReady => h.trigger.roles.iter().all(|r| role(&r.stateful_set).all_ready()).then(|| "ready".to_string()),
        TriggerKind::FileChanged => Some(h.trigger.fingerprint.clone()),
        TriggerKind::PodRecreated => {
            let r = role(&h.trigger.roles.first()?.stateful_set);
            r.all_ready().then(|| r.pods.iter().map(|(n, (u, _))| format!("{n}={u}")).collect::<Vec<_>>().join(","))
        }
        TriggerKind::ReplicasChanged => {
            let r = role(&h.trigger.roles.first()?.stateful_set);
            r.all_ready().then(|| r.replicas.unwrap_or(0).to_string())
        }
    }
}

/// Does `cur` differ from the handled key in a way the trigger fires on? (`podRecreated`: a
/// pod name that was handled has another UID; a scale-up alone is no re-creation.)
fn fires(h: &Hook, handled: &str, cur: &str) -> bool {
    if handled == cur {
        return false;
    }
    if h.trigger.kind != TriggerKind::PodRecreated {
        return true;
    }
    let parse = |s: &str| s.split(',').filter_map(|p| p.split_once('=')).map(|(a, b)| (a.to_string(), b.to_string())).collect::<BTreeMap<_, _>>();
    let (old, new) = (parse(handled), parse(cur));
    old.iter().any(|(n, u)| new.get(n).is_some_and(|u2| u2 != u))
}

/// The first ready pod of the hook's exec role (sorted by name).
fn exec_pod(h: &Hook, roles: &BTreeMap<String, RoleState>) -> Option<String> {
    let e = h.exec.as_ref()?;
    roles.get(&e.role.stateful_set)?.pods.iter().find(|(_, (_, ready))| *ready).map(|(n, _)| n.clone())
}

/// The Job name of an attempt: the template's name, `-`, 8 hex digits of (hook, key, attempt).
pub fn job_name(h: &Hook, key: &str, attempt: u32) -> String {
    use sha2::{Digest, Sha256};
    let mut d = Sha256::new();
    for part in [h.id.as_str(), key, &attempt.to_string()] {
        d.update(part.as_bytes());
        d.update([0]);
    }
    format!("{}-{}", h.job_base_name(), &hex::encode(d.finalize())[..8])
}

/// Starts attempt `attempt` of the run for `key`: the action and the record's `running` run.
fn start(h: &Hook, roles: &BTreeMap<String, RoleState>, key: &str, attempt: u32, now: i64, out: &mut Vec<Action>) -> Run {
    let mut run = Run { key: key.to_string(), attempt, state: "running".into(), since: now, ..Default::default() };
    if h.exec.is_some() {
        match exec_pod(h, roles) {
            Some(pod) => {
                run.target = pod.clone();
                out.push(Action::Exec { pod, key: key.to_string(), attempt });
            }
            None => {
                // no ready pod to exec into: wait and try again
                run.state = "waiting".into();
                run.attempt = attempt - 1;
                run.not_before = now + backoff(1);
                run.message = "no ready pod to run in".into();
            }
        }
    } else {
        let name = job_name(h, key, attempt);
        run.target = name.clone();
        out.push(Action::CreateJob { name, key: key.to_string(), attempt });
    }
    out.push(Action::Event { warning: false, reason: "HookStarted", message: format!("hook {} ({}) attempt {attempt}: {}", h.id, h.trigger.kind.as_str(), if run.target.is_empty() { "waiting" } else { &run.target }) });
    run
}

/// Ends the current run with `ok`/`message`: succeeded, retried later, or given up.
fn finish(h: &Hook, rec: &mut Record, ok: bool, message: String, now: i64, out: &mut Vec<Action>) {
    let Some(mut run) = rec.run.take() else { return };
    run.message = message;
    let mut done = run.clone();
    done.state = if ok { "succeeded" } else { "failed" }.into();
    done.not_before = 0;
    rec.history.push(done.clone());
    if rec.history.len() > HISTORY {
        rec.history.remove(0);
    }
    if ok {
        rec.handled = Some(run.key.clone());
        out.push(Action::Event { warning: false, reason: "HookSucceeded", message: format!("hook {} ({}) succeeded on attempt {}", h.id, h.trigger.kind.as_str(), run.attempt) });
        rec.run = Some(done);
    } else if h.idempotent && run.attempt <= h.retries {
        let wait = backoff(run.attempt);
        out.push(Action::Event { warning: true, reason: "HookFailed", message: format!("hook {} attempt {} failed ({}); retrying in {wait} s ({} of {} retries left)", h.id, run.attempt, run.message, h.retries + 1 - run.attempt, h.retries) });
        run.state = "waiting".into();
        run.not_before = now + wait;
        rec.run = Some(run);
    } else {
        rec.handled = Some(run.key.clone());
        out.push(Action::Event { warning: true, reason: "HookFailed", message: format!("hook {} failed after {} attempt(s) ({}); not run again until its trigger fires anew", h.id, run.attempt, run.message) });
        rec.run = Some(done);
    }
}

/// Decides for one hook. `job`: the state of the current run's Job (Job hooks with a running
/// run). `exec_timed_out`: an exec run is older than its timeout (its runner is gone).
pub fn decide(h: &Hook, roles: &BTreeMap<String, RoleState>, record: &Record, job: Option<JobState>, now: i64) -> (Record, Vec<Action>) {
    let mut rec = record.clone();
    let mut out = Vec::new();
    let state = rec.run.as_ref().map(|r| r.state.clone()).unwrap_or_default();
    match state.as_str() {
        "running" => {
            let run = rec.run.clone().unwrap_or_default();
            if h.exec.is_some() {
                // the runner records the end itself; a run older than its timeout lost its runner
                if now > run.since + h.timeout_seconds + 60 {
                    finish(h, &mut rec, false, "the controller running it stopped".into(), now, &mut out);
                }
            } else {
                match job.unwrap_or(JobState::Missing) {
                    JobState::Running => {}
                    JobState::Succeeded => finish(h, &mut rec, true, String::new(), now, &mut out),
                    JobState::Failed => finish(h, &mut rec, false, format!("Job {} failed", run.target), now, &mut out),
                    JobState::Missing => finish(h, &mut rec, false, format!("Job {} is gone", run.target), now, &mut out),
                }
            }
            return (rec, out);
        }
        "waiting" => {
            let run = rec.run.clone().unwrap_or_default();
            // a newer event replaces a retry of an older one
            let cur = current_key(h, roles);
            if let Some(c) = cur.as_ref().filter(|c| **c != run.key && fires(h, &run.key, c)) {
                if h.delay_seconds > 0 {
                    // the delay starts again from the newer event
                    rec.run = Some(Run { key: c.clone(), attempt: 0, state: "waiting".into(), since: now, not_before: now + h.delay_seconds, message: "delay after the trigger".into(), ..Default::default() });
                } else {
                    let r = start(h, roles, c, 1, now, &mut out);
                    rec.run = Some(r);
                }
            } else if now >= run.not_before {
                let r = start(h, roles, &run.key, run.attempt + 1, now, &mut out);
                rec.run = Some(r);
            }
            return (rec, out);
        }
        _ => {}
    }
    let Some(cur) = current_key(h, roles) else { return (rec, out) };
    match rec.handled.as_deref() {
        None if h.trigger.kind != TriggerKind::RolesReady => {
            rec.handled = Some(cur);
            let what = if h.trigger.file.is_empty() { String::new() } else { format!(" of {}", h.trigger.file) };
            out.push(Action::Event { warning: false, reason: "HookWatching", message: format!("hook {} ({}{what}) first seen: recorded, not run", h.id, h.trigger.kind.as_str()) });
        }
        Some(hd) if !fires(h, hd, &cur) => {
            if hd != cur {
                rec.handled = Some(cur); // e.g. a scale-up: the new pods are the new baseline
            }
        }
        _ => {
            if h.delay_seconds > 0 {
                rec.run = Some(Run { key: cur, attempt: 0, state: "waiting".into(), since: now, not_before: now + h.delay_seconds, message: "delay after the trigger".into(), ..Default::default() });
            } else {
                let r = start(h, roles, &cur, 1, now, &mut out);
                rec.run = Some(r);
            }
        }
    }
    (rec, out)
}

/// Records the end of an exec run (called by the runner).
pub fn exec_done(h: &Hook, record: &Record, ok: bool, message: String, now: i64) -> (Record, Vec<Action>) {
    let mut rec = record.clone();
    let mut out = Vec::new();
    finish(h, &mut rec, ok, message, now, &mut out);
    (rec, out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hooks::{ExecSpec, RoleRef, Trigger};

    fn hook(kind: TriggerKind, retries: u32) -> Hook {
        Hook {
            id: "svc.h".into(),
            trigger: Trigger { kind, roles: vec![RoleRef { stateful_set: "c-svc-a".into(), selector: Default::default() }], fingerprint: "f1".into(), file: String::new() },
            idempotent: true,
            timeout_seconds: 60,
            retries,
            delay_seconds: 0,
            job: Some(serde_json::json!({"metadata": {"name": "c-svc-hook-h"}})),
            exec: None,
        }
    }

    fn roles(replicas: i32, pods: &[(&str, &str, bool)]) -> BTreeMap<String, RoleState> {
        let r = RoleState { replicas: Some(replicas), pods: pods.iter().map(|(n, u, ok)| (n.to_string(), (u.to_string(), *ok))).collect() };
        BTreeMap::from([("c-svc-a".to_string(), r)])
    }

    fn jobs(a: &[Action]) -> Vec<String> {
        a.iter().filter_map(|x| if let Action::CreateJob { name, .. } = x { Some(name.clone()) } else { None }).collect()
    }

    #[test]
    fn roles_ready_runs_once_when_every_pod_is_ready() {
        let h = hook(TriggerKind::RolesReady, 0);
        let (r0, a) = decide(&h, &roles(2, &[("p-0", "u0", true), ("p-1", "u1", false)]), &Record::default(), None, 100);
        assert!(a.is_empty() && r0.run.is_none(), "one pod not ready: nothing");
        let ready = roles(2, &[("p-0", "u0", true), ("p-1", "u1", true)]);
        let (r1, a) = decide(&h, &ready, &r0, None, 101);
        assert_eq!(jobs(&a).len(), 1);
        assert!(jobs(&a)[0].starts_with("c-svc-hook-h-"));
        let (r2, a) = decide(&h, &ready, &r1, Some(JobState::Running), 102);
        assert!(jobs(&a).is_empty(), "running: no second Job");
        let (r3, a) = decide(&h, &ready, &r2, Some(JobState::Succeeded), 103);
        assert_eq!(r3.handled.as_deref(), Some("ready"));
        assert!(a.iter().any(|x| matches!(x, Action::Event { reason: "HookSucceeded", .. })));
        let (_, a) = decide(&h, &ready, &r3, None, 104);
        assert!(a.is_empty(), "done once: never again");
    }

    #[test]
    fn a_failed_hook_is_retried_with_backoff_then_given_up() {
        let h = hook(TriggerKind::RolesReady, 1);
        let ready = roles(1, &[("p-0", "u0", true)]);
        let (r, a) = decide(&h, &ready, &Record::default(), None, 0);
        let first = jobs(&a)[0].clone();
        let (r, a) = decide(&h, &ready, &r, Some(JobState::Failed), 5);
        assert!(a.iter().any(|x| matches!(x, Action::Event { warning: true, reason: "HookFailed", .. })));
        assert_eq!(r.run.as_ref().unwrap().state, "waiting");
        assert_eq!(r.run.as_ref().unwrap().not_before, 15);
        let (r, a) = decide(&h, &ready, &r, None, 10);
        assert!(a.is_empty(), "back-off not over");
        let (r, a) = decide(&h, &ready, &r, None, 15);
        let second = jobs(&a)[0].clone();
        assert_ne!(first, second, "another attempt, another Job");
        let (r, a) = decide(&h, &ready, &r, Some(JobState::Failed), 20);
        assert!(a.iter().any(|x| matches!(x, Action::Event { message, .. } if message.contains("failed after 2 attempt(s)"))));
        assert_eq!(r.run.as_ref().unwrap().state, "failed");
        assert_eq!(r.history.len(), 2);
        let (_, a) = decide(&h, &ready, &r, None, 1000);
        assert!(a.is_empty(), "given up until the trigger fires anew");
    }

    #[test]
    fn file_changed_records_the_first_fingerprint_and_runs_on_each_change() {
        let mut h = hook(TriggerKind::FileChanged, 0);
        let any = roles(1, &[]);
        let (r, a) = decide(&h, &any, &Record::default(), None, 0);
        assert!(jobs(&a).is_empty());
        assert_eq!(r.handled.as_deref(), Some("f1"));
        let (r, a) = decide(&h, &any, &r, None, 1);
        assert!(a.is_empty());
        h.trigger.fingerprint = "f2".into();
        let (r, a) = decide(&h, &any, &r, None, 2);
        assert_eq!(jobs(&a).len(), 1);
        let (r, _) = decide(&h, &any, &r, Some(JobState::Succeeded), 3);
        assert_eq!(r.handled.as_deref(), Some("f2"));
        let (_, a) = decide(&h, &any, &r, None, 4);
        assert!(a.is_empty());
    }

    #[test]
    fn a_delay_waits_before_the_first_attempt() {
        let mut h = hook(TriggerKind::FileChanged, 0);
        h.delay_seconds = 90;
        let rec = Record { handled: Some("f0".into()), ..Default::default() };
        let (r, a) = decide(&h, &roles(1, &[]), &rec, None, 0);
        assert!(a.is_empty());
        let (r, a) = decide(&h, &roles(1, &[]), &r, None, 89);
        assert!(a.is_empty());
        let (r2, a) = decide(&h, &roles(1, &[]), &r, None, 90);
        assert_eq!(jobs(&a).len(), 1);
        // another change during the delay: the delay starts again, for the newer content
        h.trigger.fingerprint = "f3".into();
        let (r3, a) = decide(&h, &roles(1, &[]), &r, None, 50);
        assert!(a.is_empty());
        assert_eq!((r3.run.as_ref().unwrap().key.as_str(), r3.run.as_ref().unwrap().not_before), ("f3", 140));
        assert_eq!(r2.run.unwrap().key, "f1");
    }

    #[test]
    fn pod_recreated_fires_on_a_new_uid_not_on_a_scale_up() {
        let h = hook(TriggerKind::PodRecreated, 0);
        let (r, a) = decide(&h, &roles(1, &[("p-0", "u0", true)]), &Record::default(), None, 0);
        assert!(jobs(&a).is_empty());
        let (r, a) = decide(&h, &roles(2, &[("p-0", "u0", true), ("p-1", "u1", true)]), &r, None, 1);
        assert!(jobs(&a).is_empty(), "a scale-up re-creates nothing");
        assert_eq!(r.handled.as_deref(), Some("p-0=u0,p-1=u1"));
        let (r, a) = decide(&h, &roles(2, &[("p-0", "u0", true), ("p-1", "u9", false)]), &r, None, 2);
        assert!(a.is_empty() && r.run.is_none(), "not ready yet");
        let (_, a) = decide(&h, &roles(2, &[("p-0", "u0", true), ("p-1", "u9", true)]), &r, None, 3);
        assert_eq!(jobs(&a).len(), 1);
    }

    #[test]
    fn replicas_changed_fires_once_every_replica_is_ready() {
        let h = hook(TriggerKind::ReplicasChanged, 0);
        let (r, _) = decide(&h, &roles(1, &[("p-0", "u0", true)]), &Record::default(), None, 0);
        let (r, a) = decide(&h, &roles(2, &[("p-0", "u0", true)]), &r, None, 1);
        assert!(a.is_empty() && r.run.is_none());
        let (_, a) = decide(&h, &roles(2, &[("p-0", "u0", true), ("p-1", "u1", true)]), &r, None, 2);
        assert_eq!(jobs(&a).len(), 1);
    }

    #[test]
    fn exec_runs_in_the_first_ready_pod_and_a_lost_run_fails() {
        let mut h = hook(TriggerKind::RolesReady, 0);
        h.job = None;
        h.exec = Some(ExecSpec { role: RoleRef { stateful_set: "c-svc-a".into(), selector: Default::default() }, container: "main".into(), command: vec!["true".into()] });
        let st = roles(2, &[("p-0", "u0", true), ("p-1", "u1", true)]);
        let (r, a) = decide(&h, &st, &Record::default(), None, 0);
        assert!(matches!(&a[0], Action::Exec { pod, .. } if pod == "p-0"));
        let (r2, a) = decide(&h, &st, &r, None, 30);
        assert!(a.is_empty(), "still within its timeout");
        let (r3, _) = exec_done(&h, &r2, true, "exit 0".into(), 31);
        assert_eq!(r3.handled.as_deref(), Some("ready"));
        let (r4, a) = decide(&h, &st, &r, None, 200);
        assert!(a.iter().any(|x| matches!(x, Action::Event { reason: "HookFailed", .. })));
        assert_eq!(r4.run.unwrap().state, "failed");
    }

    #[test]
    fn job_names_are_deterministic_and_fit() {
        let h = hook(TriggerKind::RolesReady, 0);
        assert_eq!(job_name(&h, "ready", 1), job_name(&h, "ready", 1));
        assert_ne!(job_name(&h, "ready", 1), job_name(&h, "ready", 2));
        assert_eq!(job_name(&h, "ready", 1).len(), "c-svc-hook-h".len() + 9);
        assert_eq!(backoff(1), 10);
        assert_eq!(backoff(3), 40);
        assert_eq!(backoff(30), 300);
    }
}
