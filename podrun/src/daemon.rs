//! The supervisor: owns the pods of one state dir. A loop every 100 ms reads requests, runs the
//! StatefulSet controller, steps every pod (network, volumes, init containers, containers, restarts
//! with back-off, probes, graceful termination) and publishes status.json and the hosts file.

use crate::enter::{self, Bind};
use crate::env::{self, PodFacts, Sources};
use crate::hosts;
use crate::images::{self, Profile};
use crate::net::{self, Net};
use crate::probe::{self, Verdict};
use crate::state::{self, CtrStatus, Dir, PodStatus, Request, Response, Status, StsStatus};
use crate::stream::{self, Stream, ns_of};
use crate::sts;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::{Container, PodTemplateSpec, Probe};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

static STOP: AtomicBool = AtomicBool::new(false);
extern "C" fn on_term(_: nix::libc::c_int) {
    STOP.store(true, Ordering::SeqCst);
}

const BACKOFF_BASE: Duration = Duration::from_secs(10);
const BACKOFF_MAX: Duration = Duration::from_secs(300);

/// Kubelet's crash-loop back-off: 10 s doubling up to 5 min.
pub fn backoff(restarts: u32) -> Duration {
    let d = BACKOFF_BASE.saturating_mul(1u32 << restarts.saturating_sub(1).min(10));
    d.min(BACKOFF_MAX)
}

enum Job {
    Proc(Child),
    Thread(JoinHandle<bool>),
}

/// Which of a container's probes a run belongs to.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Readiness,
    Liveness,
    Startup,
}

struct RunningProbe {
    kind: Kind,
    deadline: Instant,
    job: Job,
}

struct Ctr {
    spec: Container,
    init: bool,
    env: Vec<(String, String)>,
    argv: Vec<String>,
    uid: u32,
    gid: u32,
    child: Option<Child>,
    pid: Option<i32>,
    /// The container's mount namespace (`/proc/<pid>/ns/mnt`), once `__enter` has made it: every
    /// process in it belongs to the container, also those that left its process group
    /// (`setsid`, e.g. a YARN NodeManager's containers); they are signalled with it, as a
    /// kubelet's cgroup kill would.
    mnt_ns: Option<String>,
    restarts: u32,
    not_before: Option<Instant>,
    started: Option<Instant>,
    readiness: Option<probe::State>,
    liveness: Option<probe::State>,
    /// The startup probe until it passes; readiness and liveness wait for it (as in the kubelet).
    startup: Option<probe::State>,
    probes: Vec<RunningProbe>,
    ready: bool,
    done: bool,
    /// A Job pod's container that ran to its end: did it exit 0?
    exited_ok: Option<bool>,
    state: String,
}

#[derive(PartialEq)]
enum Phase {
    Pending,
    Init(usize),
    Running,
    Terminating,
}

struct Pod {
    key: String,
    name: String,
    ns: String,
    sts: String,
    ordinal: u32,
    revision: String,
    template: PodTemplateSpec,
    host_n: u8,
    ip: String,
    netns: String,
    phase: Phase,
    ctrs: Vec<Ctr>,
    message: String,
    retry_at: Instant,
    deadline: Option<Instant>,
    term_sent: bool,
    prestops: Vec<Child>,
    memory_mounts: Vec<PathBuf>,
    scaled_down: bool,
    /// The pod of a Job run (`namespace/name` of the Job): it runs to completion, never restarts.
    job: Option<JobPod>,
}

/// What a Job's pod needs beyond a StatefulSet's: the Job, its restart policy, its outcome.
#[derive(Clone)]
struct JobPod {
    key: String,
    /// `restartPolicy: OnFailure` (else Never): a failed container restarts in the pod.
    on_failure: bool,
    /// Set when the pod's containers are all done: did each exit 0?
    result: Option<bool>,
}

impl Pod {
    /// The labels of the pod's template (what selectors of Services, PDBs and policies match).
    fn labels(&self) -> BTreeMap<String, String> {
        self.template.metadata.as_ref().and_then(|m| m.labels.clone()).unwrap_or_default()
    }
    fn ready(&self) -> bool {
        self.phase == Phase::Running && self.ctrs.iter().filter(|c| !c.init).all(|c| c.ready)
    }
    fn dir(&self, d: &Dir) -> PathBuf {
        d.p(&format!("pods/{}_{}", self.ns, self.name))
    }
}

pub struct Daemon {
    dir: Dir,
    domain: String,
    net: Net,
    images: BTreeMap<String, Profile>,
    stream: Stream,
    revisions: BTreeMap<String, BTreeMap<String, PodTemplateSpec>>,
    last_rev: BTreeMap<String, String>,
    pods: Vec<Pod>,
    generation: u64,
    hosts_text: String,
    rules: BTreeMap<String, String>,
    status_text: String,
    down: Option<bool>,
    down_reply: Option<String>,
    errors: Vec<String>,
    /// Job runs (`podrun run`): the Job, its status, when it started.
    jobs: Vec<(k8s_openapi::api::batch::v1::Job, crate::jobs::JobStatus, Instant)>,
    /// Job runs started so far (each run's number, see JobStatus::run).
    job_runs: u64,
}

fn revision_of(t: &PodTemplateSpec) -> String {
    use sha2::Digest;
    let j = serde_json::to_vec(t).unwrap_or_default();
    hex::encode(&sha2::Sha256::digest(&j)[..5])
}

fn log_line(msg: &str) {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0);
    eprintln!("{t:.3} {msg}");
}

pub fn main(state: PathBuf, domain: String, subnet: Option<String>) -> i32 {
    let dir = Dir(state.clone());
    let _ = fs::write(dir.p("daemon.pid"), format!("{}\n", std::process::id()));
    unsafe {
        let h = nix::sys::signal::SigHandler::Handler(on_term);
        let a = nix::sys::signal::SigAction::new(
            h,
            nix::sys::signal::SaFlags::empty(),
            nix::sys::signal::SigSet::empty(),
        );
        let _ = nix::sys::signal::sigaction(Signal::SIGTERM, &a);
        let _ = nix::sys::signal::sigaction(Signal::SIGINT, &a);
    }
    let images = match images::load(images::IMAGES_YAML) {
        Ok(i) => i,
        Err(e) => {
            log_line(&e);
            return 1;
        }
    };
    if let Err(e) = images::write_embedded(&dir.p("image-files")) {
        log_line(&format!("image files: {e}"));
        return 1;
    }
    let tag = net::tag_of(&state);
    let mut netst: Net = fs::read_to_string(dir.p("net.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    if netst.bridge.is_empty() {
        netst.tag = tag.clone();
        netst.bridge = format!("pb{tag}");
        netst.prefix = match net::pick_prefix(&tag, subnet.as_deref()) {
            Ok(p) => p,
            Err(e) => {
                log_line(&e);
                return 1;
            }
        };
    }
    let _ = fs::write(
        dir.p("net.json"),
        serde_json::to_vec_pretty(&netst).unwrap_or_default(),
    );
    if let Err(e) = netst.bridge_up() {
        log_line(&format!("bridge: {e}"));
        netst.teardown();
        return 1;
    }
    let mut d = Daemon {
        dir,
        domain,
        net: netst,
        images,
        stream: Stream::default(),
        revisions: BTreeMap::new(),
        last_rev: BTreeMap::new(),
        pods: Vec::new(),
        generation: 0,
        hosts_text: String::new(),
        rules: BTreeMap::new(),
        status_text: String::new(),
        down: None,
        down_reply: None,
        errors: Vec::new(),
        jobs: Vec::new(),
        job_runs: 0,
    };
    d.write_hosts(true);
    d.reload();
    log_line(&format!(
        "podrun daemon up: bridge {} {}.0/24",
        d.net.bridge, d.net.prefix
    ));
    loop {
        if STOP.load(Ordering::SeqCst) && d.down.is_none() {
            d.down = Some(false);
        }
        d.requests();
        if d.down.is_none() {
            d.control();
        } else {
            for p in d.pods.iter_mut() {
                if p.phase != Phase::Terminating {
                    start_termination(p, None);
                }
            }
        }
        d.step_pods();
        d.write_hosts(false);
        d.apply_policies();
        d.publish();
        if d.down.is_some() && d.pods.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let keep = d.down.unwrap_or(false);
    d.net.teardown();
    d.save_net();
    cleanup_files(&d.dir, keep);
    if let Some(id) = d.down_reply.take() {
        respond(&d.dir, &id, true, "down");
    }
    log_line("podrun daemon down");
    let _ = fs::remove_file(d.dir.p("daemon.pid"));
    0
}

/// Removes what a state dir holds but the logs (and volumes with keep).
pub fn cleanup_files(dir: &Dir, keep_volumes: bool) {
    unmount_under(&dir.0);
    let _ = fs::remove_dir_all(dir.p("pods"));
    if !keep_volumes {
        let _ = fs::remove_dir_all(dir.p("pvc"));
    }
    let _ = fs::remove_file(dir.p("status.json"));
    let _ = fs::remove_file(dir.p("net.json"));
}

/// Unmounts every mount under `root` in this mount namespace, deepest first.
pub fn unmount_under(root: &Path) {
    let Ok(mi) = fs::read_to_string("/proc/self/mountinfo") else {
        return;
    };
    let prefix = root.to_string_lossy().to_string();
    let mut pts: Vec<String> = mi
        .lines()
        .filter_map(|l| l.split(' ').nth(4).map(|s| s.replace("\\040", " ")))
        .filter(|m| m.starts_with(&prefix))
        .collect();
    pts.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for p in pts {
        let _ = nix::mount::umount2(p.as_str(), nix::mount::MntFlags::MNT_DETACH);
    }
}

fn respond(dir: &Dir, id: &str, ok: bool, msg: &str) {
    let _ = fs::create_dir_all(dir.p("responses"));
    let r = Response {
        ok,
        message: msg.to_string(),
    };
    let tmp = dir.p(&format!("responses/.{id}.tmp"));
    if fs::write(&tmp, serde_json::to_vec(&r).unwrap_or_default()).is_ok() {
        let _ = fs::rename(&tmp, dir.p(&format!("responses/{id}.json")));
    }
}

fn signal_group(pid: i32, sig: Signal) {
    let _ = kill(Pid::from_raw(-pid), sig);
}

/// The mount namespace of a process (`mnt:[4026532…]`), if it can be read.
fn mnt_ns_of(pid: i32) -> Option<String> {
    fs::read_link(format!("/proc/{pid}/ns/mnt")).ok().map(|l| l.to_string_lossy().into_owned())
}

/// Signals a container: its process group, and every other process in its mount namespace
/// (processes that started a session of their own, which a kubelet's cgroup kill reaches too).
fn signal_ctr(c: &Ctr, sig: Signal) {
    signal_ctr_parts(c.pid, c.mnt_ns.as_deref(), sig);
}

fn signal_ctr_parts(pid: Option<i32>, mnt_ns: Option<&str>, sig: Signal) {
    if let Some(pid) = pid {
        signal_group(pid, sig);
    }
    let Some(ns) = mnt_ns else { return };
    let Ok(rd) = fs::read_dir("/proc") else { return };
    for e in rd.flatten() {
        let Some(n) = e.file_name().to_str().and_then(|n| n.parse::<i32>().ok()) else { continue };
        if mnt_ns_of(n).as_deref() == Some(ns) {
            let _ = kill(Pid::from_raw(n), sig);
        }
    }
}

/// Records a running container's mount namespace once `__enter` has unshared it (it differs
/// from the daemon's own).
fn note_mnt_ns(c: &mut Ctr) {
    if c.mnt_ns.is_some() || c.child.is_none() {
        return;
    }
    if let Some(pid) = c.pid
        && let Some(ns) = mnt_ns_of(pid)
        && mnt_ns_of(std::process::id() as i32).is_some_and(|own| own != ns)
    {
        c.mnt_ns = Some(ns);
    }
}

fn start_termination(p: &mut Pod, grace: Option<Duration>) {
    let g = grace.unwrap_or_else(|| {
        Duration::from_secs(
            p.template
                .spec
                .as_ref()
                .and_then(|s| s.termination_grace_period_seconds)
                .unwrap_or(30)
                .max(0) as u64,
        )
    });
    p.phase = Phase::Terminating;
    p.deadline = Some(Instant::now() + g);
    p.term_sent = false;
    if g.is_zero() {
        return;
    }
    for c in p.ctrs.iter().filter(|c| !c.init) {
        if let (Some(pid), Some(h)) = (
            c.pid,
            c.spec.lifecycle.as_ref().and_then(|l| l.pre_stop.as_ref()),
        ) && let Some(cmd) = h.exec.as_ref().and_then(|e| e.command.clone())
            && c.child.is_some()
            && let Ok(ch) = exec_in(pid, c, &cmd, Stdio::null(), Stdio::null())
        {
            p.prestops.push(ch);
        }
    }
}

/// A command in a running container's namespaces and root, as its user, with its env.
pub fn exec_cmd(pid: i32, uid: u32, gid: u32, env: &[(String, String)], cmd: &[String]) -> Command {
    let mut c = Command::new("nsenter");
    c.args([
        "--target",
        &pid.to_string(),
        "--mount",
        "--net",
        "--uts",
        "--root",
        "--wd",
    ])
    .args([
        "--setuid",
        &uid.to_string(),
        "--setgid",
        &gid.to_string(),
        "--",
    ])
    .args(cmd)
    .env_clear()
    .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    c
}

fn exec_in(pid: i32, c: &Ctr, cmd: &[String], out: Stdio, err: Stdio) -> std::io::Result<Child> {
    exec_cmd(pid, c.uid, c.gid, &c.env, cmd)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()
}

impl Daemon {
    fn save_net(&self) {
        let _ = fs::write(
            self.dir.p("net.json"),
            serde_json::to_vec_pretty(&self.net).unwrap_or_default(),
        );
    }

    fn reload(&mut self) {
        let text = match fs::read_to_string(self.dir.p("desired.yaml")) {
            Ok(t) => t,
            Err(e) => {
                self.errors = vec![format!("desired.yaml: {e}")];
                return;
            }
        };
        match stream::parse(&text) {
            Ok(s) => {
                let errs = crate::refuse::check(&s, &self.images);
                if errs.is_empty() {
                    self.stream = s;
                    self.errors.clear();
                    self.generation += 1;
                } else {
                    self.errors = errs;
                }
            }
            Err(e) => self.errors = e,
        }
    }

    fn requests(&mut self) {
        let Ok(rd) = fs::read_dir(self.dir.p("requests")) else {
            return;
        };
        let mut names: Vec<String> = rd
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".json") && !n.starts_with('.'))
            .collect();
        names.sort();
        for n in names {
            let path = self.dir.p(&format!("requests/{n}"));
            let req: Option<Request> = fs::read_to_string(&path)
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok());
            let _ = fs::remove_file(&path);
            let id = n.trim_end_matches(".json").to_string();
            let Some(req) = req else {
                respond(&self.dir, &id, false, "unreadable request");
                continue;
            };
            log_line(&format!("request {} {}", req.op, req.pod));
            let (ok, msg) = match req.op.as_str() {
                "reload" => {
                    self.reload();
                    if self.errors.is_empty() {
                        (true, format!("generation {}", self.generation))
                    } else {
                        (false, self.errors.join("\n"))
                    }
                }
                "down" => {
                    self.down = Some(req.keep_volumes);
                    self.down_reply = Some(id.clone());
                    continue;
                }
                "job" => self.job_request(&req.pod),
                "job-stop" => self.job_stop(&req.pod, "stopped by podrun run (timeout)"),
                "kill" | "delete" | "drain" => match self.find(&req.pod) {
                    Err(e) => (false, e),
                    Ok(i) => {
                        if req.op == "drain"
                            && let Err(e) = self.pdb_allows(i)
                        {
                            (false, e)
                        } else {
                            let grace = (req.op == "kill").then_some(Duration::ZERO);
                            let p = &mut self.pods[i];
                            if req.op == "kill" {
                                for c in &p.ctrs {
                                    if c.pid.is_some() && c.child.is_some() {
                                        signal_ctr(c, Signal::SIGKILL);
                                    }
                                }
                            }
                            start_termination(p, grace);
                            (true, format!("{} {}/{}", req.op, p.ns, p.name))
                        }
                    }
                },
                other => (false, format!("unknown request {other}")),
            };
            respond(&self.dir, &id, ok, &msg);
        }
    }

    fn find(&self, pod: &str) -> Result<usize, String> {
        let hits: Vec<usize> = self
            .pods
            .iter()
            .enumerate()
            .filter(|(_, p)| {
                p.phase != Phase::Terminating
                    && (p.name == pod || format!("{}/{}", p.ns, p.name) == pod)
            })
            .map(|(i, _)| i)
            .collect();
        match hits.len() {
            1 => Ok(hits[0]),
            0 => Err(format!("no running pod {pod}")),
            _ => Err(format!(
                "{pod} names pods in several namespaces: say namespace/name"
            )),
        }
    }

    /// A PodDisruptionBudget that selects the pod must allow one more disruption.
    fn pdb_allows(&self, i: usize) -> Result<(), String> {
        let p = &self.pods[i];
        let labels = p.labels();
        for b in &self.stream.pdbs {
            let Some(spec) = &b.spec else { continue };
            if ns_of(&b.metadata) != p.ns
                || !spec
                    .selector
                    .as_ref()
                    .is_some_and(|s| crate::select::matches(s, &labels))
            {
                continue;
            }
            let sel: Vec<&Pod> = self
                .pods
                .iter()
                .filter(|q| {
                    q.ns == p.ns
                        && spec.selector.as_ref().is_some_and(|s| {
                            crate::select::matches(
                                s,
                                &q.labels(),
                            )
                        })
                })
                .collect();
            let expected = self.expected_for(&sel);
            let healthy = sel.iter().filter(|q| q.ready()).count() as i64;
            let resolve = |v: &k8s_openapi::apimachinery::pkg::util::intstr::IntOrString| -> i64 {
                match v {
                    k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(n) => *n as i64,
                    k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(s) => {
                        let pct: i64 = s.trim_end_matches('%').parse().unwrap_or(0);
                        (pct * expected + 99) / 100
                    }
                }
            };
            let desired_healthy = if let Some(m) = &spec.min_available {
                resolve(m)
            } else if let Some(m) = &spec.max_unavailable {
                expected - resolve(m)
            } else {
                expected
            };
            if healthy - 1 < desired_healthy || !p.ready() && healthy < desired_healthy {
                return Err(format!(
                    "PodDisruptionBudget {}/{} does not allow evicting {}: {healthy} healthy, {desired_healthy} required",
                    p.ns,
                    b.metadata.name.as_deref().unwrap_or("?"),
                    p.name
                ));
            }
        }
        Ok(())
    }

    fn expected_for(&self, pods: &[&Pod]) -> i64 {
        let mut n = 0;
        let mut seen = Vec::new();
        for p in pods {
            if seen.contains(&p.sts) {
                continue;
            }
            seen.push(p.sts.clone());
            n += self
                .stream
                .statefulsets
                .iter()
                .find(|s| s.metadata.name.as_deref() == Some(&p.sts) && ns_of(&s.metadata) == p.ns)
                .and_then(|s| s.spec.as_ref()?.replicas)
                .unwrap_or(1) as i64;
        }
        n
    }

    fn control(&mut self) {
        let stss = self.stream.statefulsets.clone();
        for s in &stss {
            let Some(spec) = &s.spec else { continue };
            let name = s.metadata.name.clone().unwrap_or_default();
            let ns = ns_of(&s.metadata);
            let skey = format!("{ns}/{name}");
            let rev = revision_of(&spec.template);
            self.revisions
                .entry(skey.clone())
                .or_default()
                .insert(rev.clone(), spec.template.clone());
            let strategy = spec.update_strategy.clone().unwrap_or_default();
            let rolling = strategy.type_.as_deref().unwrap_or("RollingUpdate") == "RollingUpdate";
            let partition = strategy
                .rolling_update
                .as_ref()
                .and_then(|r| r.partition)
                .unwrap_or(0)
                .max(0) as u32;
            let sp = sts::Spec {
                replicas: spec.replicas.unwrap_or(1).max(0) as u32,
                parallel: spec.pod_management_policy.as_deref() == Some("Parallel"),
                rolling,
                partition,
                update_revision: rev.clone(),
            };
            let observed: Vec<sts::Observed> = self
                .pods
                .iter()
                .filter(|p| p.sts == name && p.ns == ns)
                .map(|p| sts::Observed {
                    ordinal: p.ordinal,
                    revision: p.revision.clone(),
                    ready: p.ready(),
                    terminating: p.phase == Phase::Terminating,
                })
                .collect();
            for a in sts::next(&sp, &observed) {
                match a {
                    sts::Action::Create(o) => {
                        let pname = format!("{name}-{o}");
                        let pkey = format!("{ns}/{pname}");
                        let r = if !rolling || o < partition {
                            self.last_rev.get(&pkey).cloned().unwrap_or(rev.clone())
                        } else {
                            rev.clone()
                        };
                        let tmpl = self.revisions[&skey]
                            .get(&r)
                            .cloned()
                            .unwrap_or(spec.template.clone());
                        self.create(s, o, r, tmpl);
                    }
                    sts::Action::Delete(o) => {
                        if let Some(p) = self.pods.iter_mut().find(|p| {
                            p.sts == name
                                && p.ns == ns
                                && p.ordinal == o
                                && p.phase != Phase::Terminating
                        }) {
                            log_line(&format!("delete {}/{} (ordinal {o})", p.ns, p.name));
                            p.scaled_down = o >= sp.replicas;
                            start_termination(p, None);
                        }
                    }
                }
            }
        }
        // pods of StatefulSets no longer in the stream
        for p in self.pods.iter_mut() {
            if p.phase != Phase::Terminating
                && p.job.is_none()
                && !stss.iter().any(|s| {
                    s.metadata.name.as_deref() == Some(&p.sts) && ns_of(&s.metadata) == p.ns
                })
            {
                p.scaled_down = true;
                start_termination(p, None);
            }
        }
        self.control_jobs();
    }

    fn create(
        &mut self,
        s: &StatefulSet,
        ordinal: u32,
        revision: String,
        template: PodTemplateSpec,
    ) {
        let sname = s.metadata.name.clone().unwrap_or_default();
        let ns = ns_of(&s.metadata);
        let name = format!("{sname}-{ordinal}");
        let key = format!("{ns}/{name}");
        let host_n = match self.net.allocate(&key) {
            Ok(n) => n,
            Err(e) => {
                self.errors.push(e);
                return;
            }
        };
        self.save_net();
        let ip = format!("{}.{host_n}", self.net.prefix);
        log_line(&format!("create {key} revision {revision} at {ip}"));
        self.last_rev.insert(key.clone(), revision.clone());
        let mut pod = Pod {
            key,
            name,
            ns,
            sts: sname,
            ordinal,
            revision,
            template,
            host_n,
            ip,
            ..placeholder()
        };
        pod.message = "Pending".into();
        self.pods.push(pod);
    }

    fn facts(&self, p: &Pod) -> PodFacts {
        let m = p.template.metadata.clone().unwrap_or_default();
        let mut labels = m.labels.unwrap_or_default();
        labels.insert("statefulset.kubernetes.io/pod-name".into(), p.name.clone());
        labels.insert("apps.kubernetes.io/pod-index".into(), p.ordinal.to_string());
        PodFacts {
            name: p.name.clone(),
            namespace: p.ns.clone(),
            uid: format!("podrun-{}-{}", p.key.replace('/', "-"), p.revision),
            labels,
            annotations: m.annotations.unwrap_or_default(),
            node_name: "podrun".into(),
            service_account: p
                .template
                .spec
                .as_ref()
                .and_then(|s| s.service_account_name.clone())
                .unwrap_or_else(|| "default".into()),
            pod_ip: p.ip.clone(),
            host_ip: self.net.host_ip(),
        }
    }

    /// Network, volumes and the containers' resolved specs of a new pod.
    fn prepare(&mut self, i: usize) -> Result<(), String> {
        let (ns_name, ip) = self.net.pod_up(self.pods[i].host_n)?;
        self.save_net();
        let sysctls: Vec<(String, String)> = self.pods[i]
            .template
            .spec
            .as_ref()
            .and_then(|s| s.security_context.as_ref())
            .and_then(|c| c.sysctls.clone())
            .unwrap_or_default()
            .into_iter()
            .map(|s| (s.name, s.value))
            .collect();
        net::apply_sysctls(&ns_name, &sysctls)?;
        self.pods[i].netns = ns_name;
        debug_assert_eq!(ip, self.pods[i].ip);
        let facts = self.facts(&self.pods[i]);
        let p = &self.pods[i];
        let pdir = p.dir(&self.dir);
        let _ = fs::remove_dir_all(&pdir);
        fs::create_dir_all(pdir.join("vol")).map_err(|e| e.to_string())?;
        let spec = p.template.spec.clone().unwrap_or_default();
        let psc = spec.security_context.clone().unwrap_or_default();
        let fs_group = psc.fs_group.map(|g| g as u32);
        let mut memory = Vec::new();
        let src = Sources {
            namespace: &p.ns,
            configmaps: &self.stream.configmaps,
            secrets: &self.stream.secrets,
        };
        let mut vols: BTreeMap<String, PathBuf> = BTreeMap::new();
        for v in spec.volumes.iter().flatten() {
            // a claim of a StatefulSet's pod (a Job working on a daemon's data; `jobs::check`
            // accepted only claims the stream's StatefulSets hold): that pod's claim directory
            if let Some(c) = &v.persistent_volume_claim {
                let d = self.dir.p(&format!("pvc/{}/{}", p.ns, c.claim_name));
                if !d.is_dir() {
                    return Err(format!("volume {}: claim {} does not exist yet (its StatefulSet's pod has not run)", v.name, c.claim_name));
                }
                vols.insert(v.name.clone(), d);
                continue;
            }
            let vd = pdir.join("vol").join(&v.name);
            fs::create_dir_all(&vd).map_err(|e| e.to_string())?;
            let write = |rel: &str, data: &[u8], mode: i32| -> Result<(), String> {
                if rel.split('/').any(|s| s == ".." || s.is_empty()) {
                    return Err(format!(
                        "volume {}: item path {rel:?} is not allowed",
                        v.name
                    ));
                }
                let f = vd.join(rel);
                if let Some(parent) = f.parent() {
                    fs::create_dir_all(parent).map_err(|e| e.to_string())?;
                }
                fs::write(&f, data).map_err(|e| e.to_string())?;
                fs::set_permissions(&f, fs::Permissions::from_mode(mode as u32 & 0o7777))
                    .map_err(|e| e.to_string())?;
                if let Some(g) = fs_group {
                    let _ = nix::unistd::chown(&f, None, Some(nix::unistd::Gid::from_raw(g)));
                }
                Ok(())
            };
            let kv = |all: Option<BTreeMap<String, Vec<u8>>>,
                      items: &Option<Vec<k8s_openapi::api::core::v1::KeyToPath>>,
                      def: i32,
                      optional: bool,
                      what: &str|
             -> Result<(), String> {
                let Some(all) = all else {
                    return if optional {
                        Ok(())
                    } else {
                        Err(format!("volume {}: {what} is not in the stream", v.name))
                    };
                };
                match items {
                    Some(items) => {
                        for it in items {
                            let Some(val) = all.get(&it.key) else {
                                if optional {
                                    continue;
                                }
                                return Err(format!(
                                    "volume {}: key {} of {what} is missing",
                                    v.name, it.key
                                ));
                            };
                            write(&it.path, val, it.mode.unwrap_or(def))?;
                        }
                    }
                    None => {
                        for (k, val) in &all {
                            write(k, val, def)?;
                        }
                    }
                }
                Ok(())
            };
            if let Some(c) = &v.config_map {
                kv(
                    src.cm_all(&c.name)
                        .map(|m| m.into_iter().map(|(k, v)| (k, v.into_bytes())).collect()),
                    &c.items,
                    c.default_mode.unwrap_or(0o644),
                    c.optional.unwrap_or(false),
                    &format!("ConfigMap {}", c.name),
                )?;
            } else if let Some(s) = &v.secret {
                let n = s.secret_name.clone().unwrap_or_default();
                kv(
                    src.secret_files(&n),
                    &s.items,
                    s.default_mode.unwrap_or(0o644),
                    s.optional.unwrap_or(false),
                    &format!("Secret {n}"),
                )?;
            } else if let Some(dw) = &v.downward_api {
                for it in dw.items.iter().flatten() {
                    let val = match it.field_ref.as_ref().map(|f| f.field_path.as_str()) {
                        Some("metadata.labels") => facts
                            .labels
                            .iter()
                            .map(|(k, v)| format!("{k}=\"{v}\"\n"))
                            .collect(),
                        Some("metadata.annotations") => facts
                            .annotations
                            .iter()
                            .map(|(k, v)| format!("{k}=\"{v}\"\n"))
                            .collect(),
                        Some(f) => env::field_ref(f, &facts).unwrap_or_default(),
                        None => String::new(),
                    };
                    write(
                        &it.path,
                        val.as_bytes(),
                        it.mode.or(dw.default_mode).unwrap_or(0o644),
                    )?;
                }
            } else if let Some(e) = &v.empty_dir {
                if e.medium.as_deref() == Some("Memory") {
                    nix::mount::mount(
                        Some("tmpfs"),
                        &vd,
                        Some("tmpfs"),
                        nix::mount::MsFlags::MS_NOSUID | nix::mount::MsFlags::MS_NODEV,
                        Some("mode=0777"),
                    )
                    .map_err(|er| format!("volume {}: tmpfs: {er}", v.name))?;
                    memory.push(vd.clone());
                }
                fs::set_permissions(&vd, fs::Permissions::from_mode(0o777))
                    .map_err(|e| e.to_string())?;
            }
            vols.insert(v.name.clone(), vd);
        }
        let sts = self
            .stream
            .statefulsets
            .iter()
            .find(|s| s.metadata.name.as_deref() == Some(&p.sts) && ns_of(&s.metadata) == p.ns);
        for c in sts
            .and_then(|s| s.spec.as_ref()?.volume_claim_templates.clone())
            .unwrap_or_default()
        {
            let cname = c.metadata.name.unwrap_or_default();
            let d = self.dir.p(&format!("pvc/{}/{cname}-{}", p.ns, p.name));
            if !d.exists() {
                fs::create_dir_all(&d).map_err(|e| e.to_string())?;
                if let Some(g) = fs_group {
                    let _ = nix::unistd::chown(&d, None, Some(nix::unistd::Gid::from_raw(g)));
                    let _ = fs::set_permissions(&d, fs::Permissions::from_mode(0o2775));
                }
            }
            vols.insert(cname, d);
        }
        let mut ctrs = Vec::new();
        let groups_list = [
            (true, spec.init_containers.clone().unwrap_or_default()),
            (false, spec.containers.clone()),
        ];
        for (init, list) in groups_list {
            for c in list {
                let image = c.image.clone().unwrap_or_default();
                let prof = self
                    .images
                    .get(&image)
                    .ok_or_else(|| format!("{}: image {image} has no profile", c.name))?;
                let own = env::resolve(&c, &facts, &src, &c.name)?;
                let argv = env::argv(
                    &c,
                    prof.entrypoint.as_deref().unwrap_or(&[]),
                    &prof.cmd,
                    &own,
                );
                let mut envv: Vec<(String, String)> = prof
                    .env
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                envv.push(("HOSTNAME".into(), p.name.clone()));
                for (k, v) in own {
                    envv.retain(|(n, _)| *n != k);
                    envv.push((k, v));
                }
                let sc = c.security_context.clone().unwrap_or_default();
                let uid = sc
                    .run_as_user
                    .or(psc.run_as_user)
                    .map(|u| u as u32)
                    .or(prof.user)
                    .unwrap_or(0);
                let gid = sc
                    .run_as_group
                    .or(psc.run_as_group)
                    .map(|u| u as u32)
                    .or(prof.group)
                    .unwrap_or(0);
                let mut groups = vec![gid];
                groups.extend(fs_group);
                groups.extend(psc.supplemental_groups.iter().flatten().map(|g| *g as u32));
                groups.dedup();
                let mut mounts = Vec::new();
                for m in c.volume_mounts.iter().flatten() {
                    let mut src = vols
                        .get(&m.name)
                        .cloned()
                        .ok_or_else(|| format!("{}: volume {} unknown", c.name, m.name))?;
                    if let Some(sp) = m.sub_path.as_ref().filter(|s| !s.is_empty()) {
                        if sp.split('/').any(|s| s == "..") {
                            return Err(format!("{}: subPath {sp} is not allowed", c.name));
                        }
                        src = src.join(sp);
                        if !src.exists() {
                            fs::create_dir_all(&src).map_err(|e| e.to_string())?;
                        }
                    }
                    mounts.push(Bind {
                        dst: m.mount_path.clone(),
                        src,
                        ro: m.read_only.unwrap_or(false),
                    });
                }
                let mut image_files = Vec::new();
                for f in &prof.files {
                    image_files.push(Bind {
                        dst: f.path.clone(),
                        src: images::resolve_source(&f.from, &self.dir.p("image-files"))?,
                        ro: true,
                    });
                }
                let cdir = pdir.join(&c.name);
                fs::create_dir_all(&cdir).map_err(|e| e.to_string())?;
                let es = enter::Spec {
                    netns: self.pods[i].netns.clone(),
                    hostname: p.name.clone(),
                    root: cdir.join("root"),
                    hosts_file: self.dir.p("hosts"),
                    image_dirs: prof.dirs.clone(),
                    image_files,
                    mounts,
                    read_only_root: sc.read_only_root_filesystem.unwrap_or(false),
                    no_new_privs: sc.allow_privilege_escalation == Some(false),
                    uid,
                    gid,
                    groups,
                    cwd: c
                        .working_dir
                        .clone()
                        .or(prof.working_dir.clone())
                        .unwrap_or_else(|| "/".into()),
                    env: envv.clone(),
                    argv: argv.clone(),
                };
                fs::write(
                    cdir.join("spec.json"),
                    serde_json::to_vec_pretty(&es).map_err(|e| e.to_string())?,
                )
                .map_err(|e| e.to_string())?;
                ctrs.push(Ctr {
                    spec: c.clone(),
                    init,
                    env: envv,
                    argv,
                    uid,
                    gid,
                    child: None,
                    pid: None,
                    mnt_ns: None,
                    restarts: 0,
                    not_before: None,
                    started: None,
                    readiness: None,
                    liveness: None,
                    startup: None,
                    probes: Vec::new(),
                    ready: false,
                    done: false,
                    exited_ok: None,
                    state: "Waiting".into(),
                });
            }
        }
        let p = &mut self.pods[i];
        p.ctrs = ctrs;
        p.memory_mounts = memory;
        Ok(())
    }

    fn start(&self, p: &mut Pod, ci: usize) {
        let dir = &self.dir;
        let pdir = p.dir(dir);
        let logs = dir.p(&format!("logs/{}_{}", p.ns, p.name));
        let _ = fs::create_dir_all(&logs);
        let c = &mut p.ctrs[ci];
        let path = logs.join(format!("{}.log", c.spec.name));
        let Ok(mut log) = fs::OpenOptions::new().create(true).append(true).open(&path) else {
            return;
        };
        let _ = writeln!(
            log,
            "--- podrun: start {} of {} (restart {}) as {}:{}: {:?}",
            c.spec.name, p.name, c.restarts, c.uid, c.gid, c.argv
        );
        let Ok(err) = log.try_clone() else { return };
        let spec = pdir.join(&c.spec.name).join("spec.json");
        let Ok(exe) = std::env::current_exe() else {
            return;
        };
        let r = Command::new(exe)
            .arg("__enter")
            .arg(&spec)
            .env_clear()
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .process_group(0)
            .spawn();
        match r {
            Ok(ch) => {
                c.pid = Some(ch.id() as i32);
                c.mnt_ns = None;
                c.child = Some(ch);
                let now = Instant::now();
                c.started = Some(now);
                c.ready = false;
                c.state = "Running".into();
                c.readiness = c
                    .spec
                    .readiness_probe
                    .as_ref()
                    .map(|pr| probe::State::new(probe::Timing::of(pr), now));
                c.liveness = c
                    .spec
                    .liveness_probe
                    .as_ref()
                    .map(|pr| probe::State::new(probe::Timing::of(pr), now));
                c.startup = c
                    .spec
                    .startup_probe
                    .as_ref()
                    .map(|pr| probe::State::new(probe::Timing::of(pr), now));
                c.probes.clear();
            }
            Err(e) => {
                c.state = format!("cannot start: {e}");
                c.not_before = Some(Instant::now() + backoff(c.restarts + 1));
            }
        }
    }

    fn step_pods(&mut self) {
        let now = Instant::now();
        let mut gone = Vec::new();
        for i in 0..self.pods.len() {
            if self.pods[i].phase == Phase::Pending {
                if now < self.pods[i].retry_at {
                    continue;
                }
                match self.prepare(i) {
                    Ok(()) => {
                        self.pods[i].phase = Phase::Init(0);
                        self.pods[i].message.clear();
                        self.rules.remove(&self.pods[i].key);
                    }
                    Err(e) => {
                        log_line(&format!("{}: {e}", self.pods[i].key));
                        self.pods[i].message = e;
                        self.pods[i].retry_at = now + Duration::from_secs(5);
                    }
                }
                continue;
            }
            let mut p = std::mem::replace(&mut self.pods[i], placeholder());
            let finished = self.step(&mut p, now);
            self.pods[i] = p;
            if finished {
                gone.push(i);
            }
        }
        for i in gone.into_iter().rev() {
            let p = self.pods.remove(i);
            self.teardown_pod(p);
        }
    }

    fn teardown_pod(&mut self, p: Pod) {
        if let Some(j) = &p.job {
            self.job_pod_ended(&j.key, &p.name, j.result);
        }
        for m in &p.memory_mounts {
            let _ = nix::mount::umount2(m, nix::mount::MntFlags::MNT_DETACH);
        }
        unmount_under(&p.dir(&self.dir));
        let _ = fs::remove_dir_all(p.dir(&self.dir));
        if !p.netns.is_empty() {
            self.net.pod_down(&p.netns);
        }
        self.rules.remove(&p.key);
        if p.scaled_down {
            let sts =
                self.stream.statefulsets.iter().find(|s| {
                    s.metadata.name.as_deref() == Some(&p.sts) && ns_of(&s.metadata) == p.ns
                });
            let policy = sts.and_then(|s| {
                s.spec
                    .as_ref()?
                    .persistent_volume_claim_retention_policy
                    .clone()
            });
            let when = if sts.is_some() {
                policy.as_ref().and_then(|r| r.when_scaled.clone())
            } else {
                policy.as_ref().and_then(|r| r.when_deleted.clone())
            };
            if when.as_deref() == Some("Delete")
                && let Ok(rd) = fs::read_dir(self.dir.p(&format!("pvc/{}", p.ns)))
            {
                {
                    for e in rd.flatten() {
                        if e.file_name()
                            .to_string_lossy()
                            .ends_with(&format!("-{}", p.name))
                        {
                            let _ = fs::remove_dir_all(e.path());
                        }
                    }
                }
            }
        }
        self.save_net();
        log_line(&format!("pod {} gone", p.key));
    }

    /// One step of a prepared pod; true when it has terminated completely.
    fn step(&self, p: &mut Pod, now: Instant) -> bool {
        // reap
        for c in p.ctrs.iter_mut() {
            note_mnt_ns(c);
            if let Some(ch) = c.child.as_mut()
                && let Ok(Some(st)) = ch.try_wait()
            {
                // what the container left running dies with it (its group, its mount namespace)
                signal_ctr(c, Signal::SIGKILL);
                c.child = None;
                c.ready = false;
                c.probes.clear();
                let code = st.code().map(|c| c.to_string()).unwrap_or_else(|| {
                    format!(
                        "signal {:?}",
                        std::os::unix::process::ExitStatusExt::signal(&st)
                    )
                });
                let ok = st.success();
                let job_never = p.job.as_ref().is_some_and(|j| !j.on_failure);
                if c.init && ok {
                    c.done = true;
                    c.state = "Completed".into();
                } else if p.job.is_some() && p.phase != Phase::Terminating && (ok || job_never) {
                    // a Job's container ran to its end: no restart
                    c.done = true;
                    c.exited_ok = Some(ok);
                    c.state = format!("Terminated {code}");
                    log_line(&format!("{} {}: exited {code}", p.key, c.spec.name));
                } else if p.phase != Phase::Terminating {
                    c.restarts += 1;
                    let ran = c.started.map(|s| now - s).unwrap_or_default();
                    let b = if ran > Duration::from_secs(600) {
                        BACKOFF_BASE
                    } else {
                        backoff(c.restarts)
                    };
                    c.not_before = Some(now + b);
                    c.state = format!("exited {code}, back-off {}s", b.as_secs());
                    log_line(&format!(
                        "{} {}: exited {code}, restart in {}s",
                        p.key,
                        c.spec.name,
                        b.as_secs()
                    ));
                } else {
                    c.state = format!("Terminated {code}");
                }
            }
        }
        match p.phase {
            Phase::Pending => false,
            Phase::Init(k) => {
                let inits: Vec<usize> = (0..p.ctrs.len()).filter(|&j| p.ctrs[j].init).collect();
                if k >= inits.len() {
                    p.phase = Phase::Running;
                    return false;
                }
                let ci = inits[k];
                if p.ctrs[ci].exited_ok == Some(false) || (p.ctrs[ci].restarts > 0 && p.job.as_ref().is_some_and(|j| !j.on_failure)) {
                    // restartPolicy Never: a failed init container fails the Job's pod
                    if let Some(j) = p.job.as_mut() {
                        j.result = Some(false);
                    }
                    start_termination(p, Some(Duration::ZERO));
                } else if p.ctrs[ci].done {
                    p.phase = Phase::Init(k + 1);
                } else if p.ctrs[ci].child.is_none()
                    && p.ctrs[ci].not_before.is_none_or(|t| now >= t)
                {
                    self.start(p, ci);
                }
                false
            }
            Phase::Running => {
                for ci in 0..p.ctrs.len() {
                    if p.ctrs[ci].init {
                        continue;
                    }
                    if p.ctrs[ci].child.is_none() {
                        if !p.ctrs[ci].done && p.ctrs[ci].not_before.is_none_or(|t| now >= t) {
                            self.start(p, ci);
                        }
                        continue;
                    }
                    let ip = p.ip.clone();
                    let netns = p.netns.clone();
                    probe_step(&mut p.ctrs[ci], now, &ip, &netns, &p.key);
                }
                let mains = || p.ctrs.iter().filter(|c| !c.init);
                if p.job.is_some() && mains().all(|c| c.done) {
                    let ok = mains().all(|c| c.exited_ok == Some(true));
                    if let Some(j) = p.job.as_mut() {
                        j.result = Some(ok);
                    }
                    start_termination(p, Some(Duration::ZERO));
                }
                false
            }
            Phase::Terminating => {
                let deadline = p.deadline.unwrap_or(now);
                p.prestops
                    .retain_mut(|c| !matches!(c.try_wait(), Ok(Some(_))));
                if !p.term_sent && (p.prestops.is_empty() || now >= deadline) {
                    for c in &p.ctrs {
                        if let (Some(pid), Some(_)) = (c.pid, &c.child) {
                            signal_group(pid, Signal::SIGTERM);
                        }
                    }
                    p.term_sent = true;
                }
                if now >= deadline {
                    for c in p.prestops.iter_mut() {
                        let _ = c.kill();
                        let _ = c.wait();
                    }
                    p.prestops.clear();
                    for c in &p.ctrs {
                        if c.pid.is_some() && c.child.is_some() {
                            signal_ctr(c, Signal::SIGKILL);
                        }
                    }
                }
                for c in p.ctrs.iter_mut() {
                    for pr in c.probes.iter_mut() {
                        if let Job::Proc(ch) = &mut pr.job {
                            let _ = ch.kill();
                            let _ = ch.wait();
                        }
                    }
                    c.probes.retain(|pr| !matches!(pr.job, Job::Proc(_)));
                }
                p.ctrs.iter().all(|c| c.child.is_none()) && p.prestops.is_empty()
            }
        }
    }

    fn write_hosts(&mut self, force: bool) {
        let pods: Vec<hosts::PodAddr> = self
            .pods
            .iter()
            // terminating pods too: their records stay while the pod object exists, as in cluster DNS
            // (published for headless Services with publishNotReadyAddresses, never as ready)
            .map(|p| hosts::PodAddr {
                name: p.name.clone(),
                namespace: p.ns.clone(),
                ip: p.ip.clone(),
                subdomain: self
                    .stream
                    .statefulsets
                    .iter()
                    .find(|s| {
                        s.metadata.name.as_deref() == Some(&p.sts) && ns_of(&s.metadata) == p.ns
                    })
                    .and_then(|s| s.spec.as_ref().and_then(|x| x.service_name.clone())),
                labels: p.labels(),
                ready: p.ready(),
            })
            .collect();
        let svcs: Vec<hosts::Svc> = self
            .stream
            .services
            .iter()
            .map(|s| {
                let sp = s.spec.clone().unwrap_or_default();
                hosts::Svc {
                    name: s.metadata.name.clone().unwrap_or_default(),
                    namespace: ns_of(&s.metadata),
                    headless: sp.cluster_ip.as_deref() == Some("None"),
                    publish_not_ready: sp.publish_not_ready_addresses.unwrap_or(false),
                    selector: sp.selector.unwrap_or_default(),
                }
            })
            .collect();
        let text = hosts::render(&self.domain, &pods, &svcs);
        if text != self.hosts_text || force {
            // in place: the file is bind-mounted into the containers, a rename would not reach them
            let _ = fs::OpenOptions::new()
                .create(true)
                .write(true)
                .truncate(false)
                .open(self.dir.p("hosts"))
                .and_then(|mut f| {
                    f.write_all(text.as_bytes())?;
                    f.set_len(text.len() as u64)
                });
            self.hosts_text = text;
        }
    }

    fn apply_policies(&mut self) {
        let peers: Vec<crate::netpol::Peer> = self
            .pods
            .iter()
            .map(|p| crate::netpol::Peer {
                namespace: p.ns.clone(),
                labels: p.labels(),
                ip: p.ip.clone(),
            })
            .collect();
        for p in &self.pods {
            if p.netns.is_empty() || p.phase == Phase::Terminating {
                continue;
            }
            let labels = p.labels();
            let mut named = BTreeMap::new();
            for c in p.template.spec.iter().flat_map(|s| s.containers.iter()) {
                for port in c.ports.iter().flatten() {
                    if let Some(n) = &port.name {
                        named.insert(
                            n.clone(),
                            (
                                port.container_port,
                                port.protocol.clone().unwrap_or_else(|| "TCP".into()),
                            ),
                        );
                    }
                }
            }
            let rules =
                crate::netpol::ruleset(&p.ns, &labels, &named, &peers, &self.stream.policies);
            let text = rules.clone().unwrap_or_default();
            if self.rules.get(&p.key) != Some(&text) {
                match net::apply_rules(&p.netns, rules.as_deref()) {
                    Ok(()) => {
                        self.rules.insert(p.key.clone(), text);
                    }
                    Err(e) => log_line(&format!("{}: {e}", p.key)),
                }
            }
        }
    }

    fn publish(&mut self) {
        let mut st = Status {
            generation: self.generation,
            host_address: self.net.host_ip(),
            errors: self.errors.clone(),
            ..Default::default()
        };
        for p in &self.pods {
            let phase = match p.phase {
                Phase::Pending => "Pending",
                Phase::Init(_) => "Init",
                Phase::Running => "Running",
                Phase::Terminating => "Terminating",
            };
            st.pods.push(PodStatus {
                name: p.name.clone(),
                namespace: p.ns.clone(),
                statefulset: p.sts.clone(),
                phase: phase.into(),
                ready: p.ready(),
                restarts: p.ctrs.iter().map(|c| c.restarts).sum(),
                address: p.ip.clone(),
                revision: p.revision.clone(),
                message: p.message.clone(),
                containers: p
                    .ctrs
                    .iter()
                    .map(|c| CtrStatus {
                        name: c.spec.name.clone(),
                        init: c.init,
                        state: c.state.clone(),
                        ready: c.ready,
                        restarts: c.restarts,
                        pid: c.child.as_ref().and(c.pid),
                        start_ticks: c.child.as_ref().and(c.pid).and_then(state::start_ticks),
                        uid: c.uid,
                        gid: c.gid,
                        env: c.env.clone(),
                    })
                    .collect(),
            });
        }
        for s in &self.stream.statefulsets {
            let name = s.metadata.name.clone().unwrap_or_default();
            let ns = ns_of(&s.metadata);
            let rev = s
                .spec
                .as_ref()
                .map(|x| revision_of(&x.template))
                .unwrap_or_default();
            let mine: Vec<&Pod> = self
                .pods
                .iter()
                .filter(|p| p.sts == name && p.ns == ns && p.phase != Phase::Terminating)
                .collect();
            st.statefulsets.push(StsStatus {
                name,
                namespace: ns,
                replicas: s.spec.as_ref().and_then(|x| x.replicas).unwrap_or(1).max(0) as u32,
                ready: mine.iter().filter(|p| p.ready()).count() as u32,
                updated: mine.iter().filter(|p| p.revision == rev).count() as u32,
                update_revision: rev,
            });
        }
        st.jobs = self.jobs.iter().map(|(_, js, _)| js.clone()).collect();
        let text = serde_json::to_string_pretty(&st).unwrap_or_default();
        if text != self.status_text {
            let tmp = self.dir.p(".status.json.tmp");
            if fs::write(&tmp, &text).is_ok() {
                let _ = fs::rename(&tmp, self.dir.p("status.json"));
            }
            self.status_text = text;
        }
    }
}

fn placeholder() -> Pod {
    Pod {
        key: String::new(),
        name: String::new(),
        ns: String::new(),
        sts: String::new(),
        ordinal: 0,
        revision: String::new(),
        template: PodTemplateSpec::default(),
        host_n: 0,
        ip: String::new(),
        netns: String::new(),
        phase: Phase::Pending,
        ctrs: Vec::new(),
        message: String::new(),
        retry_at: Instant::now(),
        deadline: None,
        term_sent: false,
        prestops: Vec::new(),
        memory_mounts: Vec::new(),
        scaled_down: false,
        job: None,
    }
}

/// Whether a container's startup probe (if any) has passed: `None` once it did, or without one.
fn started_up(startup: Option<&probe::State>) -> bool {
    startup.is_none_or(|s| s.verdict == Verdict::Pass)
}

/// Runs due probes of a running container and takes their results.
fn probe_step(c: &mut Ctr, now: Instant, ip: &str, netns: &str, key: &str) {
    // finished or timed-out runs
    let mut results = Vec::new();
    c.probes.retain_mut(|pr| {
        let done = match &mut pr.job {
            Job::Proc(ch) => match ch.try_wait() {
                Ok(Some(st)) => Some(st.success()),
                _ if now >= pr.deadline => {
                    let _ = kill(Pid::from_raw(-(ch.id() as i32)), Signal::SIGKILL);
                    let _ = ch.wait();
                    Some(false)
                }
                _ => None,
            },
            Job::Thread(h) => {
                if h.is_finished() {
                    Some(true)
                } else if now >= pr.deadline {
                    Some(false)
                } else {
                    None
                }
            }
        };
        match done {
            Some(r) => {
                results.push((
                    pr.kind,
                    r,
                    std::mem::replace(&mut pr.job, Job::Thread(std::thread::spawn(|| false))),
                ));
                false
            }
            None => true,
        }
    });
    let (pid, mnt_ns) = (c.pid, c.mnt_ns.clone());
    for (kind, r, job) in results {
        let ok = match job {
            Job::Thread(h) if r => h.join().unwrap_or(false),
            _ => r,
        };
        match kind {
            Kind::Liveness | Kind::Startup => {
                let st = if kind == Kind::Liveness {
                    &mut c.liveness
                } else {
                    &mut c.startup
                };
                match st.as_mut().map(|s| s.record(ok)) {
                    Some(Verdict::Fail) => {
                        log_line(&format!(
                            "{key} {}: {} probe failed, killing",
                            c.spec.name,
                            if kind == Kind::Liveness {
                                "liveness"
                            } else {
                                "startup"
                            }
                        ));
                        signal_ctr_parts(pid, mnt_ns.as_deref(), Signal::SIGKILL);
                        // a failed startup probe keeps readiness and liveness off until the restart
                        if kind == Kind::Liveness {
                            *st = None;
                        }
                    }
                    // a startup probe runs until its first pass, then never again
                    Some(Verdict::Pass) if kind == Kind::Startup => {
                        log_line(&format!("{key} {}: startup probe passed", c.spec.name));
                        *st = None;
                    }
                    _ => {}
                }
            }
            Kind::Readiness => {
                if let Some(s) = c.readiness.as_mut() {
                    c.ready = s.record(ok) == Verdict::Pass && started_up(c.startup.as_ref());
                }
            }
        }
    }
    if c.spec.readiness_probe.is_none() {
        c.ready = started_up(c.startup.as_ref());
    }
    let Some(pid) = c.pid else { return };
    for kind in [Kind::Startup, Kind::Readiness, Kind::Liveness] {
        if c.probes.iter().any(|p| p.kind == kind) {
            continue;
        }
        // readiness and liveness wait until the startup probe has passed
        if kind != Kind::Startup && !started_up(c.startup.as_ref()) {
            continue;
        }
        let (st, spec): (Option<&mut probe::State>, Option<&Probe>) = match kind {
            Kind::Liveness => (c.liveness.as_mut(), c.spec.liveness_probe.as_ref()),
            Kind::Readiness => (c.readiness.as_mut(), c.spec.readiness_probe.as_ref()),
            Kind::Startup => (c.startup.as_mut(), c.spec.startup_probe.as_ref()),
        };
        let (Some(st), Some(spec)) = (st, spec) else {
            continue;
        };
        if !st.due(now) {
            continue;
        }
        st.started_run(now);
        let deadline = now + st.timing.timeout;
        let job = if let Some(cmd) = spec.exec.as_ref().and_then(|e| e.command.clone()) {
            match exec_cmd(pid, c.uid, c.gid, &c.env, &cmd)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
            {
                Ok(ch) => Job::Proc(ch),
                Err(_) => continue,
            }
        } else {
            let port = |p: &k8s_openapi::apimachinery::pkg::util::intstr::IntOrString| match p {
                k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(n) => {
                    Some(*n as u16)
                }
                k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::String(name) => c
                    .spec
                    .ports
                    .iter()
                    .flatten()
                    .find(|x| x.name.as_deref() == Some(name))
                    .map(|x| x.container_port as u16),
            };
            let (target_port, path) = if let Some(t) = &spec.tcp_socket {
                (port(&t.port), None)
            } else if let Some(h) = &spec.http_get {
                (
                    port(&h.port),
                    Some(h.path.clone().unwrap_or_else(|| "/".into())),
                )
            } else {
                (None, None)
            };
            let Some(target_port) = target_port else {
                continue;
            };
            let ns = netns.to_string();
            let addr = format!("{ip}:{target_port}");
            let timeout = st.timing.timeout;
            Job::Thread(std::thread::spawn(move || {
                net_probe(&ns, &addr, path.as_deref(), timeout)
            }))
        };
        c.probes.push(RunningProbe {
            kind,
            deadline,
            job,
        });
    }
}

/// A TCP or HTTP probe from inside the pod's network namespace (this thread only joins it).
fn net_probe(netns: &str, addr: &str, http_path: Option<&str>, timeout: Duration) -> bool {
    use std::io::Read;
    let Ok(f) = fs::File::open(format!("/run/netns/{netns}")) else {
        return false;
    };
    if nix::sched::setns(&f, nix::sched::CloneFlags::CLONE_NEWNET).is_err() {
        return false;
    }
    let Ok(sa) = addr.parse() else { return false };
    let Ok(mut s) = std::net::TcpStream::connect_timeout(&sa, timeout) else {
        return false;
    };
    let Some(path) = http_path else { return true };
    let _ = s.set_read_timeout(Some(timeout));
    let _ = s.set_write_timeout(Some(timeout));
    if write!(s, "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUser-Agent: kube-probe/podrun\r\nConnection: close\r\n\r\n").is_err() {
        return false;
    }
    let mut buf = [0u8; 64];
    let n = s.read(&mut buf).unwrap_or(0);
    let head = String::from_utf8_lossy(&buf[..n]);
    head.split(' ')
        .nth(1)
        .and_then(|c| c.parse::<u16>().ok())
        .is_some_and(|c| (200..400).contains(&c))
}

/// Job runs (`podrun run`, see jobs.rs): one pod at a time, to completion.
impl Daemon {
    /// `job` request: the Job in file `path` (JSON, written by `podrun run`) starts a run; a
    /// finished run of the same Job is replaced (as `kubectl delete` and `create` would).
    fn job_request(&mut self, path: &str) -> (bool, String) {
        let job: k8s_openapi::api::batch::v1::Job = match fs::read_to_string(path).map_err(|e| e.to_string()).and_then(|t| serde_json::from_str(&t).map_err(|e| e.to_string())) {
            Ok(j) => j,
            Err(e) => return (false, format!("{path}: {e}")),
        };
        let errs = crate::jobs::check(&job, &self.stream, &self.images);
        if !errs.is_empty() {
            return (false, errs.join("\n"));
        }
        let key = crate::jobs::key(&job);
        if self.jobs.iter().any(|(j, st, _)| crate::jobs::key(j) == key && st.succeeded.is_none()) {
            return (false, format!("job {key} is still running"));
        }
        // the finished run goes, with its pods' logs (as `kubectl delete job` deletes its pods)
        for (_, st, _) in self.jobs.iter().filter(|(j, _, _)| crate::jobs::key(j) == key) {
            for p in &st.pods {
                let _ = fs::remove_dir_all(self.dir.p(&format!("logs/{}_{p}", st.namespace)));
            }
        }
        self.jobs.retain(|(j, _, _)| crate::jobs::key(j) != key);
        self.job_runs += 1;
        let run = self.job_runs;
        let st = crate::jobs::JobStatus { name: job.metadata.name.clone().unwrap_or_default(), namespace: ns_of(&job.metadata), run, ..Default::default() };
        self.jobs.push((job, st, Instant::now()));
        (true, crate::jobs::run_message(&key, run))
    }

    /// Ends a run: its active pod is killed, the Job failed with `reason`.
    fn job_stop(&mut self, key: &str, reason: &str) -> (bool, String) {
        let Some((_, st, _)) = self.jobs.iter_mut().find(|(j, st, _)| crate::jobs::key(j) == key && st.succeeded.is_none()) else {
            return (false, format!("no running job {key}"));
        };
        st.succeeded = Some(false);
        st.reason = reason.to_string();
        let active = st.active.take();
        for p in self.pods.iter_mut().filter(|p| p.job.as_ref().is_some_and(|j| j.key == key) && Some(&p.name) == active.as_ref()) {
            start_termination(p, Some(Duration::ZERO));
        }
        (true, format!("job {key} stopped"))
    }

    /// Each running Job: its deadline, its OnFailure restarts against backoffLimit, a new pod
    /// when none is active.
    fn control_jobs(&mut self) {
        let now = Instant::now();
        for i in 0..self.jobs.len() {
            let (job, st, started) = &self.jobs[i];
            if st.succeeded.is_some() {
                continue;
            }
            let key = crate::jobs::key(job);
            let (backoff, deadline) = crate::jobs::limits(job);
            if deadline.is_some_and(|d| now > *started + d) {
                self.job_stop(&key, &format!("DeadlineExceeded (activeDeadlineSeconds {})", deadline.map_or(0, |d| d.as_secs())));
                continue;
            }
            let restarts: u32 = self.pods.iter().filter(|p| p.job.as_ref().is_some_and(|j| j.key == key)).flat_map(|p| p.ctrs.iter()).map(|c| c.restarts).sum();
            if restarts > backoff {
                self.job_stop(&key, &format!("BackoffLimitExceeded ({restarts} container restarts, backoffLimit {backoff})"));
                continue;
            }
            if st.active.is_some() {
                continue;
            }
            let name = format!("{}-{}", st.name, st.pods.len());
            let ns = st.namespace.clone();
            let template = job.spec.as_ref().map(|s| s.template.clone()).unwrap_or_default();
            let on_failure = template.spec.as_ref().and_then(|s| s.restart_policy.as_deref()) == Some("OnFailure");
            let pkey = format!("{ns}/{name}");
            let host_n = match self.net.allocate(&pkey) {
                Ok(n) => n,
                Err(e) => {
                    self.errors.push(e);
                    continue;
                }
            };
            self.save_net();
            let ip = format!("{}.{host_n}", self.net.prefix);
            log_line(&format!("create {pkey} of job {key} at {ip}"));
            let st = &mut self.jobs[i].1;
            st.pods.push(name.clone());
            st.active = Some(name.clone());
            let mut pod = Pod {
                key: pkey,
                name,
                ns,
                revision: "job".into(),
                template,
                host_n,
                ip,
                job: Some(JobPod { key, on_failure, result: None }),
                ..placeholder()
            };
            pod.message = "Pending".into();
            self.pods.push(pod);
        }
    }

    /// A Job's pod is gone: its result decides the run (or another attempt).
    fn job_pod_ended(&mut self, key: &str, pod: &str, result: Option<bool>) {
        let Some((job, st, _)) = self.jobs.iter_mut().find(|(j, _, _)| crate::jobs::key(j) == key) else { return };
        if st.active.as_deref() != Some(pod) || st.succeeded.is_some() {
            return;
        }
        st.active = None;
        let (backoff, _) = crate::jobs::limits(job);
        crate::jobs::next(st, Some(result.unwrap_or(false)), backoff);
        log_line(&format!("job {key}: pod {pod} {}", if result == Some(true) { "succeeded" } else { "failed" }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_10s_to_5min() {
        assert_eq!(backoff(1), Duration::from_secs(10));
        assert_eq!(backoff(2), Duration::from_secs(20));
        assert_eq!(backoff(4), Duration::from_secs(80));
        assert_eq!(backoff(6), Duration::from_secs(300));
        assert_eq!(backoff(60), Duration::from_secs(300));
    }

    #[test]
    fn readiness_and_liveness_wait_for_the_startup_probe() {
        let t = probe::Timing::of(&Probe {
            failure_threshold: Some(2),
            ..Probe::default()
        });
        assert!(started_up(None), "no startup probe: started");
        let mut s = probe::State::new(t, Instant::now());
        assert!(!started_up(Some(&s)), "before its first result");
        s.record(false);
        s.record(false);
        assert!(!started_up(Some(&s)), "failed: the container is killed, not started");
        let mut s = probe::State::new(t, Instant::now());
        s.record(true);
        assert!(started_up(Some(&s)));
    }
}
