//! batch/v1 Jobs: what podrun runs of them (one pod at a time to completion, `restartPolicy`
//! Never or OnFailure, `backoffLimit`, `activeDeadlineSeconds`), what it refuses (each with its
//! field), the daemon's record of a Job run, and `podrun run` (hand the daemon the Jobs of a
//! stream, wait for each, print its pods' logs, exit with the Jobs' result).
//!
//! The daemon's `up`/`apply` never start Jobs: a render's Jobs are hooks (the smoke tests run
//! after a sync) or one-off actions, run on demand by `podrun run`.

use crate::state::{Dir, Request};
use crate::stream::ns_of;
use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetSpec};
use k8s_openapi::api::batch::v1::Job;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// The Job's `namespace/name`.
pub fn key(j: &Job) -> String {
    format!("{}/{}", ns_of(&j.metadata), j.metadata.name.as_deref().unwrap_or("?"))
}

/// The daemon's answer to a `job` request: the Job's key and the number of the run it started.
pub fn run_message(key: &str, run: u64) -> String {
    format!("job {key} run {run}")
}

/// The run number in an answer written by [`run_message`] for the Job `key`.
pub fn run_of(message: &str, key: &str) -> Option<u64> {
    message.strip_prefix(&format!("job {key} run "))?.parse().ok()
}

/// What podrun cannot do of a Job, each problem naming its field. The pod template is checked
/// as a StatefulSet's would be (images, volumes, probes, security context).
pub fn check(j: &Job, stream: &crate::stream::Stream, images: &std::collections::BTreeMap<String, crate::images::Profile>) -> Vec<String> {
    let who = format!("Job {}", key(j));
    let mut errs = Vec::new();
    let Some(spec) = &j.spec else {
        return vec![format!("{who}: spec: missing")];
    };
    let mut e = |field: &str, msg: &str| errs.push(format!("{who}: spec.{field}: {msg}"));
    if spec.parallelism.unwrap_or(1) != 1 {
        e("parallelism", "only 1 is supported by podrun (one pod at a time)");
    }
    if spec.completions.unwrap_or(1) != 1 {
        e("completions", "only 1 is supported by podrun");
    }
    if spec.completion_mode.as_deref().unwrap_or("NonIndexed") != "NonIndexed" {
        e("completionMode", "only NonIndexed is supported by podrun");
    }
    if spec.suspend == Some(true) {
        e("suspend", "true: a suspended Job never runs");
    }
    if spec.pod_failure_policy.is_some() {
        e("podFailurePolicy", "not supported by podrun (backoffLimit is)");
    }
    if spec.success_policy.is_some() {
        e("successPolicy", "not supported by podrun");
    }
    if spec.backoff_limit_per_index.is_some() || spec.max_failed_indexes.is_some() {
        e("backoffLimitPerIndex", "indexed Jobs are not supported by podrun");
    }
    if spec.manual_selector == Some(true) || spec.selector.is_some() {
        e("selector", "podrun generates the pods' labels itself; a manual selector is not supported");
    }
    if spec.backoff_limit.is_some_and(|b| b < 0) {
        e("backoffLimit", "must not be negative");
    }
    if spec.active_deadline_seconds.is_some_and(|d| d <= 0) {
        e("activeDeadlineSeconds", "must be positive");
    }
    let pod = spec.template.spec.clone().unwrap_or_default();
    match pod.restart_policy.as_deref() {
        Some("Never") | Some("OnFailure") => {}
        other => e(
            "template.spec.restartPolicy",
            &format!("{other:?}: a Job's pods need Never or OnFailure (Kubernetes refuses Always)"),
        ),
    }
    // A persistentVolumeClaim volume is supported when it is a claim a StatefulSet of the stream
    // holds (`<template>-<statefulset>-<ordinal>`, same namespace): the Job then works on that
    // pod's data, as a Job with a required pod affinity to it does on one node. Other claims are
    // refused below, as for StatefulSet pods.
    let mut template = spec.template.clone();
    for v in template.spec.as_mut().and_then(|p| p.volumes.as_mut()).into_iter().flatten() {
        if v.persistent_volume_claim.as_ref().is_some_and(|c| held_claim(stream, &ns_of(&j.metadata), &c.claim_name)) {
            // checked as the directory it becomes (the mounts still name the volume)
            *v = k8s_openapi::api::core::v1::Volume { name: v.name.clone(), empty_dir: Some(Default::default()), ..Default::default() };
        }
    }
    // the pod template, checked as a one-pod StatefulSet's (the messages then name the Job)
    let sts = StatefulSet {
        metadata: j.metadata.clone(),
        spec: Some(StatefulSetSpec { template, ..Default::default() }),
        ..Default::default()
    };
    let sts_who = format!("StatefulSet {}", key(j));
    let one = crate::stream::Stream { statefulsets: vec![sts], jobs: vec![], ..stream.clone() };
    for m in crate::refuse::check(&crate::stream::Stream { policies: vec![], ..one }, images) {
        errs.push(m.replacen(&sts_who, &who, 1));
    }
    errs
}

/// The daemon's record of a Job run: attempts, the active pod, the outcome.
#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct JobStatus {
    pub name: String,
    pub namespace: String,
    /// Pods created so far (`<job>-<attempt>`).
    pub pods: Vec<String>,
    /// The pod now running, if any.
    pub active: Option<String>,
    pub failed: u32,
    /// `Some(true)` Complete, `Some(false)` Failed, `None` still running.
    pub succeeded: Option<bool>,
    pub reason: String,
    /// Which run of the daemon this is (1, 2, ...): a Job run again under the same name is a new
    /// run, and `podrun run` waits for its own, never for the outcome of the one it replaced.
    #[serde(default)]
    pub run: u64,
}

/// `backoffLimit` (default 6, as Kubernetes) and `activeDeadlineSeconds` of a Job.
pub fn limits(j: &Job) -> (u32, Option<Duration>) {
    let s = j.spec.as_ref();
    let backoff = s.and_then(|s| s.backoff_limit).unwrap_or(6).max(0) as u32;
    let deadline = s.and_then(|s| s.active_deadline_seconds).map(|d| Duration::from_secs(d.max(1) as u64));
    (backoff, deadline)
}

/// The next step of a Job run after its active pod ended (`pod_ok`) or none is active: a new
/// attempt, or the outcome. Kubernetes' rule: a Job fails once its failed pods exceed
/// `backoffLimit`.
pub fn next(st: &mut JobStatus, pod_ok: Option<bool>, backoff: u32) -> bool {
    match pod_ok {
        Some(true) => {
            st.succeeded = Some(true);
            st.reason = "Complete".into();
            false
        }
        Some(false) if st.failed + 1 > backoff => {
            st.failed += 1;
            st.succeeded = Some(false);
            st.reason = format!("BackoffLimitExceeded ({} failed pods, backoffLimit {backoff})", st.failed);
            false
        }
        Some(false) => {
            st.failed += 1;
            true
        }
        None => st.pods.is_empty(),
    }
}

/// `podrun run STREAM`: hands each Job of the stream to the daemon in turn, waits for it
/// (at most `timeout` seconds each), prints its pods' logs and its outcome. Exit 0 when every
/// Job completed, 1 otherwise.
pub fn run(stream: &Path, dir: &Dir, timeout: u64) -> ExitCode {
    // Not checked alone: the daemon checks each Job against the running stream, whose
    // StatefulSets hold the claims a Job may mount (`bdp action`'s mountStorage Jobs).
    let text = match crate::read_text(stream) {
        Ok(t) => t,
        Err(e) => return crate::fail(&e),
    };
    let s = match crate::stream::parse(&text) {
        Ok(s) => s,
        Err(e) => return crate::fail(&e.join("\n")),
    };
    if s.jobs.is_empty() {
        return crate::fail(&format!("{}: no Job in the stream", stream.display()));
    }
    let mut all_ok = true;
    for j in &s.jobs {
        let k = key(j);
        let file = dir.p(&format!("jobs/{}.json", k.replace('/', "_")));
        let written = std::fs::create_dir_all(dir.p("jobs")).and_then(|_| std::fs::write(&file, serde_json::to_vec(j).unwrap_or_default()));
        if let Err(e) = written {
            return crate::fail(&format!("{}: {e}", file.display()));
        }
        let run = match dir.ask(&Request { op: "job".into(), pod: file.to_string_lossy().into_owned(), keep_volumes: false }, Duration::from_secs(30)) {
            Ok(r) if r.ok => match run_of(&r.message, &k) {
                Some(run) => run,
                None => return crate::fail(&format!("unexpected answer from the daemon: {}", r.message)),
            },
            Ok(r) => return crate::fail(&r.message),
            Err(e) => return crate::fail(&e),
        };
        println!("podrun: job {k} started");
        let t0 = Instant::now();
        // status.json may still show the run this one replaced until the daemon next publishes
        let mine = |x: &JobStatus| format!("{}/{}", x.namespace, x.name) == k && x.run == run;
        let done = loop {
            std::thread::sleep(Duration::from_millis(250));
            let st = dir.status().and_then(|st| st.jobs.into_iter().find(|x| mine(x)));
            if let Some(st) = st.filter(|x| x.succeeded.is_some()) {
                break st;
            }
            if t0.elapsed() > Duration::from_secs(timeout) {
                let _ = dir.ask(&Request { op: "job-stop".into(), pod: k.clone(), keep_volumes: false }, Duration::from_secs(30));
                std::thread::sleep(Duration::from_secs(1));
                let mut st = dir.status().and_then(|st| st.jobs.into_iter().find(|x| mine(x))).unwrap_or_default();
                st.succeeded = Some(false);
                st.reason = format!("not finished after {timeout}s (podrun run --timeout)");
                break st;
            }
        };
        for p in &done.pods {
            let logs = dir.p(&format!("logs/{}_{p}", done.namespace));
            let mut files: Vec<_> = std::fs::read_dir(&logs).into_iter().flatten().flatten().map(|e| e.path()).collect();
            files.sort();
            for f in files {
                println!("==== {}/{p} {}", done.namespace, f.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default());
                print!("{}", std::fs::read_to_string(&f).unwrap_or_default());
            }
        }
        let ok = done.succeeded == Some(true);
        println!("podrun: job {k} {} in {:.1}s: {}", if ok { "succeeded" } else { "FAILED" }, t0.elapsed().as_secs_f64(), done.reason);
        all_ok &= ok;
    }
    if all_ok { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

/// Is `claim` a PersistentVolumeClaim a StatefulSet of the stream in namespace `ns` holds: one of
/// its volumeClaimTemplates for one of its ordinals (`<template>-<statefulset>-<ordinal>`)?
fn held_claim(stream: &crate::stream::Stream, ns: &str, claim: &str) -> bool {
    stream.statefulsets.iter().filter(|s| ns_of(&s.metadata) == ns).any(|s| {
        let name = s.metadata.name.as_deref().unwrap_or_default();
        let Some(spec) = &s.spec else { return false };
        let replicas = spec.replicas.unwrap_or(1).max(0);
        spec.volume_claim_templates.iter().flatten().filter_map(|t| t.metadata.name.as_deref()).any(|t| (0..replicas).any(|n| claim == format!("{t}-{name}-{n}")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_is_known_by_its_number_not_by_the_job_name() {
        assert_eq!(run_of(&run_message("ns/snap", 7), "ns/snap"), Some(7));
        // another Job's answer, or an answer without a number, is no run of this Job
        assert_eq!(run_of(&run_message("ns/snap-2", 7), "ns/snap"), None);
        assert_eq!(run_of("job ns/snap", "ns/snap"), None);
        // a status.json written by an older daemon (no run field) is run 0, which no answer names
        let old: JobStatus = serde_json::from_str(r#"{"name":"j","namespace":"n","pods":[],"active":null,"failed":0,"succeeded":true,"reason":"Complete"}"#).unwrap();
        assert_eq!(old.run, 0);
    }

    fn job(extra_spec: &str, restart: &str) -> Job {
        let y = format!(
            "apiVersion: batch/v1\nkind: Job\nmetadata: {{name: j, namespace: n}}\nspec:\n{extra_spec}  template:\n    spec:\n      restartPolicy: {restart}\n      containers: [{{name: c, image: zookeeper:3.8.4, command: ['true']}}]\n"
        );
        crate::stream::parse(&y).unwrap().jobs.remove(0)
    }

    fn refusals(j: &Job) -> Vec<String> {
        check(j, &Default::default(), &crate::images::load(crate::images::IMAGES_YAML).unwrap())
    }

    #[test]
    fn a_plain_job_is_accepted() {
        assert_eq!(refusals(&job("  backoffLimit: 0\n  activeDeadlineSeconds: 60\n", "Never")), Vec::<String>::new());
        assert_eq!(refusals(&job("", "OnFailure")), Vec::<String>::new());
    }

    #[test]
    fn what_podrun_cannot_do_is_refused_with_its_field() {
        let e = refusals(&job("", "Always"));
        assert!(e.iter().any(|m| m.starts_with("Job n/j: spec.template.spec.restartPolicy")), "{e:?}");
        let e = refusals(&job("  parallelism: 2\n  completions: 3\n  completionMode: Indexed\n  suspend: true\n", "Never"));
        for f in ["spec.parallelism", "spec.completions", "spec.completionMode", "spec.suspend"] {
            assert!(e.iter().any(|m| m.contains(f)), "{f}: {e:?}");
        }
        let e = refusals(&job("  podFailurePolicy: {rules: []}\n", "Never"));
        assert!(e.iter().any(|m| m.contains("spec.podFailurePolicy")), "{e:?}");
    }

    #[test]
    fn the_pod_template_is_checked_in_the_jobs_name() {
        let y = "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j, namespace: n}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: c, image: nope:1}]\n";
        let j = crate::stream::parse(y).unwrap().jobs.remove(0);
        let e = refusals(&j);
        assert!(e.iter().any(|m| m.starts_with("Job n/j: spec.template.spec.containers[0] (c).image")), "{e:?}");
    }

    #[test]
    fn a_claim_is_accepted_only_when_a_statefulset_holds_it() {
        let y = "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: kdc, namespace: n}\nspec:\n  replicas: 1\n  serviceName: kdc\n  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec:\n      containers: [{name: c, image: zookeeper:3.8.4}]\n  volumeClaimTemplates: [{metadata: {name: data}}]\n---\napiVersion: batch/v1\nkind: Job\nmetadata: {name: j, namespace: n}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      volumes: [{name: d, persistentVolumeClaim: {claimName: CLAIM}}]\n      containers: [{name: c, image: zookeeper:3.8.4, command: ['true'], volumeMounts: [{name: d, mountPath: /d}]}]\n";
        let images = crate::images::load(crate::images::IMAGES_YAML).unwrap();
        let refused = |claim: &str| {
            let st = crate::stream::parse(&y.replace("CLAIM", claim)).unwrap();
            check(&st.jobs[0], &st, &images)
        };
        assert_eq!(refused("data-kdc-0"), Vec::<String>::new());
        for other in ["data-kdc-1", "data-other-0", "logs-kdc-0"] {
            let e = refused(other);
            assert!(e.iter().any(|m| m.contains("persistentVolumeClaim")), "{other}: {e:?}");
        }
    }

    #[test]
    fn backoff_limit_counts_failed_pods() {
        let mut st = JobStatus::default();
        assert!(next(&mut st, None, 1), "the first pod");
        st.pods.push("j-0".into());
        assert!(next(&mut st, Some(false), 1), "one failure within backoffLimit 1: another pod");
        st.pods.push("j-1".into());
        assert!(!next(&mut st, Some(false), 1));
        assert_eq!(st.succeeded, Some(false));
        assert!(st.reason.starts_with("BackoffLimitExceeded"), "{}", st.reason);
        let mut st = JobStatus { pods: vec!["j-0".into()], ..Default::default() };
        assert!(!next(&mut st, Some(true), 0));
        assert_eq!(st.succeeded, Some(true));
        let mut st = JobStatus::default();
        assert!(next(&mut st, None, 0));
        st.pods.push("j-0".into());
        assert!(!next(&mut st, Some(false), 0), "backoffLimit 0: one pod only");
        assert_eq!(st.succeeded, Some(false));
    }
}

