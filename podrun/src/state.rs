//! The state dir: what the daemon publishes (status.json) and how the CLI asks it for things
//! (requests/, answered in responses/).

use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct CtrStatus {
    pub name: String,
    pub init: bool,
    pub state: String,
    pub ready: bool,
    pub restarts: u32,
    pub pid: Option<i32>,
    /// /proc/PID/stat start time, to never signal a re-used pid.
    pub start_ticks: Option<u64>,
    pub uid: u32,
    pub gid: u32,
    pub env: Vec<(String, String)>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct PodStatus {
    pub name: String,
    pub namespace: String,
    pub statefulset: String,
    pub phase: String,
    pub ready: bool,
    pub restarts: u32,
    pub address: String,
    pub revision: String,
    pub message: String,
    pub containers: Vec<CtrStatus>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct StsStatus {
    pub name: String,
    pub namespace: String,
    pub replicas: u32,
    pub ready: u32,
    pub updated: u32,
    pub update_revision: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, Default, PartialEq)]
pub struct Status {
    /// Bumped on each reload of the desired stream.
    pub generation: u64,
    pub host_address: String,
    pub pods: Vec<PodStatus>,
    pub statefulsets: Vec<StsStatus>,
    pub errors: Vec<String>,
    /// Job runs (`podrun run`), latest run of each Job.
    #[serde(default)]
    pub jobs: Vec<crate::jobs::JobStatus>,
}

impl Status {
    /// All StatefulSets have their replicas, all Ready and at the update revision, none terminating.
    pub fn settled(&self) -> bool {
        self.statefulsets
            .iter()
            .all(|s| s.ready == s.replicas && s.updated == s.replicas)
            && self.sts_pods().all(|p| p.ready && p.phase == "Running")
            && self.sts_pods().count() as u32 == self.statefulsets.iter().map(|s| s.replicas).sum::<u32>()
    }
    /// The pods of StatefulSets (not those of Jobs).
    pub fn sts_pods(&self) -> impl Iterator<Item = &PodStatus> {
        self.pods.iter().filter(|p| !p.statefulset.is_empty())
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Request {
    pub op: String,
    #[serde(default)]
    pub pod: String,
    #[serde(default)]
    pub keep_volumes: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Response {
    pub ok: bool,
    pub message: String,
}

pub struct Dir(pub PathBuf);

impl Dir {
    pub fn p(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }
    pub fn pid(&self) -> Option<i32> {
        let pid: i32 = std::fs::read_to_string(self.p("daemon.pid"))
            .ok()?
            .trim()
            .parse()
            .ok()?;
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        String::from_utf8_lossy(&cmdline)
            .contains("__daemon")
            .then_some(pid)
    }
    pub fn status(&self) -> Option<Status> {
        serde_json::from_str(&std::fs::read_to_string(self.p("status.json")).ok()?).ok()
    }
    /// Sends a request to the daemon and waits for its answer.
    pub fn ask(&self, req: &Request, timeout: Duration) -> Result<Response, String> {
        if self.pid().is_none() {
            return Err(format!("no podrun daemon runs for {}", self.0.display()));
        }
        let id = format!(
            "{}-{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0),
            std::process::id()
        );
        let dir = self.p("requests");
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let tmp = dir.join(format!(".{id}.tmp"));
        std::fs::write(&tmp, serde_json::to_vec(req).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
        std::fs::rename(&tmp, dir.join(format!("{id}.json"))).map_err(|e| e.to_string())?;
        let resp = self.p("responses").join(format!("{id}.json"));
        let t0 = Instant::now();
        while t0.elapsed() < timeout {
            if let Ok(t) = std::fs::read_to_string(&resp)
                && let Ok(r) = serde_json::from_str::<Response>(&t)
            {
                let _ = std::fs::remove_file(&resp);
                return Ok(r);
            }
            if self.pid().is_none() && req.op != "down" {
                return Err("the podrun daemon exited (see daemon.log in the state dir)".into());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!(
            "the podrun daemon did not answer {} within {}s",
            req.op,
            timeout.as_secs()
        ))
    }
}

pub fn start_ticks(pid: i32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    rest.split(' ').nth(19)?.parse().ok()
}
