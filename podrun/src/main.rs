//! podrun: runs the pods of a rendered stream (`bdp render`) as real processes, each pod in its own
//! network namespace on a bridge, each container in its own mount namespace. See podrun/README.md.

mod daemon;
mod enter;
mod env;
mod hosts;
mod images;
mod jobs;
mod net;
mod netpol;
mod probe;
mod refuse;
mod select;
mod state;
mod stream;
mod sts;

use clap::{Parser, Subcommand};
use state::{Dir, Request, Status};
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(
    name = "podrun",
    version,
    about = "Run the pods of a rendered stream as real processes, for tests"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Args, Clone)]
struct StateArg {
    /// The state dir: one running cluster per dir
    #[arg(long, default_value = "/tmp/podrun")]
    state: PathBuf,
}

#[derive(Subcommand)]
enum Cmd {
    /// The image profiles: what each image is here and how it differs from the real one
    Images,
    /// Check a stream (parse, deserialize, refuse what podrun cannot run) without running it
    Check { stream: PathBuf },
    /// Start the daemon with STREAM; exit 0 when every pod is Ready, 1 with the failing pods' logs
    Up {
        stream: PathBuf,
        #[command(flatten)]
        s: StateArg,
        #[arg(long, default_value_t = 300)]
        timeout: u64,
        /// The cluster domain of the hosts file
        #[arg(long, default_value = "cluster.local")]
        domain: String,
        /// The pods' /24 as its first three octets (default: a free one in 10.200.0.0/11)
        #[arg(long)]
        subnet: Option<String>,
    },
    /// Hand the daemon a new render (roll, scale, as a controller would)
    Apply {
        stream: PathBuf,
        #[command(flatten)]
        s: StateArg,
        /// Wait until every StatefulSet is updated and Ready (seconds; 0: do not wait)
        #[arg(long, default_value_t = 0)]
        wait: u64,
    },
    /// Run the Jobs of STREAM (e.g. `bdp action` output, or a render's smoke tests) against the
    /// running daemon, one after the other; print their pods' logs; exit 0 when every Job
    /// completed, 1 when one failed (backoffLimit, activeDeadlineSeconds) or timed out
    Run {
        stream: PathBuf,
        #[command(flatten)]
        s: StateArg,
        /// Longest wait for each Job (seconds); then its pod is stopped and it counts as failed
        #[arg(long, default_value_t = 600)]
        timeout: u64,
    },
    /// Each pod's name, namespace, phase, readiness, restarts and address
    Status {
        #[command(flatten)]
        s: StateArg,
        #[arg(long)]
        json: bool,
    },
    /// Run a command in a pod's container (its namespaces, root, user and env)
    Exec {
        pod: String,
        #[arg(short = 'c')]
        container: Option<String>,
        #[command(flatten)]
        s: StateArg,
        #[arg(last = true, required = true)]
        cmd: Vec<String>,
    },
    /// A container's log (every start of it, appended)
    Logs {
        pod: String,
        #[arg(short = 'c')]
        container: Option<String>,
        #[command(flatten)]
        s: StateArg,
    },
    /// SIGKILL a pod's processes; its StatefulSet re-creates it
    Kill {
        pod: String,
        #[command(flatten)]
        s: StateArg,
    },
    /// Delete a pod gracefully (preStop, SIGTERM, grace period, SIGKILL); it is re-created
    Delete {
        pod: String,
        #[command(flatten)]
        s: StateArg,
    },
    /// Evict a pod if its PodDisruptionBudgets allow it (exit 1 otherwise)
    Drain {
        pod: String,
        #[command(flatten)]
        s: StateArg,
    },
    /// Stop everything: pods, namespaces, bridge, mounts (volumes too unless --keep-volumes)
    Down {
        #[command(flatten)]
        s: StateArg,
        #[arg(long)]
        keep_volumes: bool,
    },
    #[command(name = "__daemon", hide = true)]
    Daemon {
        #[command(flatten)]
        s: StateArg,
        #[arg(long)]
        domain: String,
        #[arg(long)]
        subnet: Option<String>,
    },
    #[command(name = "__enter", hide = true)]
    Enter { spec: PathBuf },
}

fn abs(p: &Path) -> PathBuf {
    std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf())
}

/// The stream's text, from a file or `-` (stdin).
fn read_text(stream: &Path) -> Result<String, String> {
    if stream == Path::new("-") {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| format!("stdin: {e}"))?;
        Ok(s)
    } else {
        std::fs::read_to_string(stream).map_err(|e| format!("{}: {e}", stream.display()))
    }
}

fn read_checked(stream: &Path) -> Result<String, String> {
    let text = read_text(stream)?;
    let s = stream::parse(&text).map_err(|e| e.join("\n"))?;
    let imgs = images::load(images::IMAGES_YAML)?;
    let errs = refuse::check(&s, &imgs);
    if !errs.is_empty() {
        return Err(errs.join("\n"));
    }
    Ok(text)
}

fn fail(msg: &str) -> ExitCode {
    eprintln!("podrun: {msg}");
    ExitCode::from(1)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.cmd {
        Cmd::Enter { spec } => enter::run(&spec),
        Cmd::Daemon { s, domain, subnet } => {
            ExitCode::from(daemon::main(abs(&s.state), domain, subnet) as u8)
        }
        Cmd::Images => match images::load(images::IMAGES_YAML) {
            Ok(m) => {
                for (name, p) in m {
                    println!(
                        "{name}\n  real: {}\n  jvm: {}",
                        p.real,
                        p.jvm.as_deref().unwrap_or("-")
                    );
                    for d in p.differences {
                        println!("  differs: {d}");
                    }
                }
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        },
        Cmd::Check { stream } => match read_checked(&stream) {
            Ok(_) => ExitCode::SUCCESS,
            Err(e) => fail(&e),
        },
        Cmd::Up {
            stream,
            s,
            timeout,
            domain,
            subnet,
        } => up(&stream, &abs(&s.state), timeout, &domain, subnet),
        Cmd::Apply { stream, s, wait } => apply(&stream, &Dir(abs(&s.state)), wait),
        Cmd::Status { s, json } => status(&Dir(abs(&s.state)), json),
        Cmd::Run { stream, s, timeout } => jobs::run(&stream, &Dir(abs(&s.state)), timeout),
        Cmd::Exec {
            pod,
            container,
            s,
            cmd,
        } => exec(&Dir(abs(&s.state)), &pod, container.as_deref(), &cmd),
        Cmd::Logs { pod, container, s } => logs(&Dir(abs(&s.state)), &pod, container.as_deref()),
        Cmd::Kill { pod, s } => ask(&Dir(abs(&s.state)), "kill", &pod),
        Cmd::Delete { pod, s } => ask(&Dir(abs(&s.state)), "delete", &pod),
        Cmd::Drain { pod, s } => ask(&Dir(abs(&s.state)), "drain", &pod),
        Cmd::Down { s, keep_volumes } => down(&Dir(abs(&s.state)), keep_volumes),
    }
}

fn up(stream: &Path, state: &Path, timeout: u64, domain: &str, subnet: Option<String>) -> ExitCode {
    let text = match read_checked(stream) {
        Ok(t) => t,
        Err(e) => return fail(&e),
    };
    let dir = Dir(state.to_path_buf());
    if dir.pid().is_some() {
        return fail(&format!(
            "a podrun daemon already runs for {} (use apply, or down first)",
            state.display()
        ));
    }
    if let Err(e) =
        std::fs::create_dir_all(state).and_then(|_| std::fs::write(dir.p("desired.yaml"), &text))
    {
        return fail(&format!("{}: {e}", state.display()));
    }
    let _ = std::fs::remove_file(dir.p("status.json"));
    let log = match std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.p("daemon.log"))
    {
        Ok(l) => l,
        Err(e) => return fail(&format!("daemon.log: {e}")),
    };
    let Ok(err) = log.try_clone() else {
        return fail("daemon.log");
    };
    let Ok(exe) = std::env::current_exe() else {
        return fail("cannot find the podrun binary");
    };
    let mut c = Command::new(exe);
    c.arg("__daemon")
        .arg("--state")
        .arg(state)
        .arg("--domain")
        .arg(domain);
    if let Some(s) = subnet {
        c.arg("--subnet").arg(s);
    }
    c.stdin(Stdio::null()).stdout(log).stderr(err);
    // its own session: the daemon outlives this command and the test's terminal
    unsafe {
        c.pre_exec(|| {
            nix::unistd::setsid()
                .map(|_| ())
                .map_err(std::io::Error::from)
        });
    }
    if let Err(e) = c.spawn() {
        return fail(&format!("cannot start the daemon: {e}"));
    }
    let t0 = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(250));
        let st = dir.status();
        if let Some(st) = &st
            && !st.statefulsets.is_empty()
            && st.settled()
        {
            println!(
                "podrun: {} pods Ready in {:.1}s",
                st.pods.len(),
                t0.elapsed().as_secs_f64()
            );
            print_status(st);
            return ExitCode::SUCCESS;
        }
        if dir.pid().is_none() && t0.elapsed() > Duration::from_secs(2) {
            let log = std::fs::read_to_string(dir.p("daemon.log")).unwrap_or_default();
            return fail(&format!("the daemon exited:\n{log}"));
        }
        if t0.elapsed() > Duration::from_secs(timeout) {
            eprintln!("podrun: not every pod is Ready after {timeout}s");
            if let Some(st) = st {
                print_status(&st);
                for p in st.pods.iter().filter(|p| !p.ready) {
                    for c in &p.containers {
                        eprintln!("==== {}/{} {} ({})", p.namespace, p.name, c.name, c.state);
                        eprintln!(
                            "{}",
                            tail(
                                &dir.p(&format!("logs/{}_{}/{}.log", p.namespace, p.name, c.name)),
                                60
                            )
                        );
                    }
                    if !p.message.is_empty() {
                        eprintln!("==== {}/{}: {}", p.namespace, p.name, p.message);
                    }
                }
            }
            return ExitCode::from(1);
        }
    }
}

fn tail(p: &Path, n: usize) -> String {
    let t = std::fs::read_to_string(p).unwrap_or_default();
    let lines: Vec<&str> = t.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn apply(stream: &Path, dir: &Dir, wait: u64) -> ExitCode {
    let text = match read_checked(stream) {
        Ok(t) => t,
        Err(e) => return fail(&e),
    };
    let tmp = dir.p(".desired.yaml.tmp");
    if let Err(e) =
        std::fs::write(&tmp, text).and_then(|_| std::fs::rename(&tmp, dir.p("desired.yaml")))
    {
        return fail(&e.to_string());
    }
    let reply = match dir.ask(
        &Request {
            op: "reload".into(),
            pod: String::new(),
            keep_volumes: false,
        },
        Duration::from_secs(30),
    ) {
        Ok(r) if r.ok => {
            println!("podrun: applied ({})", r.message);
            r.message
        }
        Ok(r) => return fail(&r.message),
        Err(e) => return fail(&e),
    };
    // the answer names the generation the reload made: status.json may still be the one written
    // before it, which would look settled
    let Some(generation) = reply.strip_prefix("generation ").and_then(|g| g.parse::<u64>().ok()) else {
        return fail(&format!("unexpected answer from the daemon: {reply}"));
    };
    if wait == 0 {
        return ExitCode::SUCCESS;
    }
    let t0 = Instant::now();
    loop {
        std::thread::sleep(Duration::from_millis(250));
        if let Some(st) = dir.status()
            && st.generation >= generation
            && st.settled()
        {
            println!("podrun: rolled out in {:.1}s", t0.elapsed().as_secs_f64());
            return ExitCode::SUCCESS;
        }
        if t0.elapsed() > Duration::from_secs(wait) {
            if let Some(st) = dir.status() {
                print_status(&st);
            }
            return fail(&format!("not rolled out after {wait}s"));
        }
    }
}

fn print_status(st: &Status) {
    println!(
        "{:<12} {:<32} {:<12} {:<6} {:<9} ADDRESS",
        "NAMESPACE", "NAME", "PHASE", "READY", "RESTARTS"
    );
    for p in &st.pods {
        println!(
            "{:<12} {:<32} {:<12} {:<6} {:<9} {}",
            p.namespace, p.name, p.phase, p.ready, p.restarts, p.address
        );
    }
    for e in &st.errors {
        println!("error: {e}");
    }
}

fn status(dir: &Dir, json: bool) -> ExitCode {
    let Some(st) = dir.status() else {
        return fail(&format!("no status in {}", dir.0.display()));
    };
    if json {
        let pods: Vec<serde_json::Value> = st
            .pods
            .iter()
            .map(|p| {
                serde_json::json!({"name": p.name, "namespace": p.namespace, "phase": p.phase, "ready": p.ready,
                    "restarts": p.restarts, "address": p.address, "revision": p.revision, "statefulset": p.statefulset,
                    "containers": p.containers.iter().map(|c| serde_json::json!({"name": c.name, "init": c.init, "state": c.state, "ready": c.ready, "restarts": c.restarts, "pid": c.pid})).collect::<Vec<_>>()})
            })
            .collect();
        let v = serde_json::json!({"generation": st.generation, "hostAddress": st.host_address, "pods": pods,
            "statefulsets": st.statefulsets, "errors": st.errors, "jobs": st.jobs});
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        print_status(&st);
    }
    ExitCode::SUCCESS
}

fn find_pod<'a>(st: &'a Status, pod: &str) -> Result<&'a state::PodStatus, String> {
    let hits: Vec<&state::PodStatus> = st
        .pods
        .iter()
        .filter(|p| {
            p.phase != "Terminating"
                && (p.name == pod || format!("{}/{}", p.namespace, p.name) == pod)
        })
        .collect();
    match hits.len() {
        1 => Ok(hits[0]),
        0 => Err(format!("no pod {pod}")),
        _ => Err(format!(
            "{pod} names pods in several namespaces: say namespace/name"
        )),
    }
}

fn container<'a>(p: &'a state::PodStatus, c: Option<&str>) -> Result<&'a state::CtrStatus, String> {
    match c {
        Some(n) => p
            .containers
            .iter()
            .find(|x| x.name == n)
            .ok_or_else(|| format!("{} has no container {n}", p.name)),
        None => p
            .containers
            .iter()
            .find(|x| !x.init)
            .ok_or_else(|| format!("{} has no container", p.name)),
    }
}

fn exec(dir: &Dir, pod: &str, c: Option<&str>, cmd: &[String]) -> ExitCode {
    let Some(st) = dir.status() else {
        return fail("no status");
    };
    let r = find_pod(&st, pod).and_then(|p| container(p, c));
    let ctr = match r {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    let Some(pid) = ctr.pid else {
        return fail(&format!("container {} is not running", ctr.name));
    };
    if ctr.start_ticks.is_none() || state::start_ticks(pid) != ctr.start_ticks {
        return fail(&format!("container {} is not running", ctr.name));
    }
    match daemon::exec_cmd(pid, ctr.uid, ctr.gid, &ctr.env, cmd).status() {
        Ok(s) => ExitCode::from(s.code().unwrap_or(1) as u8),
        Err(e) => fail(&format!("nsenter: {e}")),
    }
}

fn logs(dir: &Dir, pod: &str, c: Option<&str>) -> ExitCode {
    let Some(st) = dir.status() else {
        return fail("no status");
    };
    let r = find_pod(&st, pod).and_then(|p| container(p, c).map(|c| (p, c)));
    match r {
        Ok((p, c)) => match std::fs::read_to_string(
            dir.p(&format!("logs/{}_{}/{}.log", p.namespace, p.name, c.name)),
        ) {
            Ok(t) => {
                print!("{t}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e.to_string()),
        },
        Err(e) => fail(&e),
    }
}

fn ask(dir: &Dir, op: &str, pod: &str) -> ExitCode {
    match dir.ask(
        &Request {
            op: op.into(),
            pod: pod.into(),
            keep_volumes: false,
        },
        Duration::from_secs(30),
    ) {
        Ok(r) if r.ok => {
            println!("podrun: {}", r.message);
            ExitCode::SUCCESS
        }
        Ok(r) => fail(&r.message),
        Err(e) => fail(&e),
    }
}

fn down(dir: &Dir, keep_volumes: bool) -> ExitCode {
    let daemon = dir.pid();
    if daemon.is_some() {
        match dir.ask(
            &Request {
                op: "down".into(),
                pod: String::new(),
                keep_volumes,
            },
            Duration::from_secs(150),
        ) {
            Ok(_) => {
                // until the daemon process itself is gone, not only its pid file
                let alive = |pid: i32| {
                    std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| String::from_utf8_lossy(&c).contains("__daemon"))
                };
                for _ in 0..100 {
                    if daemon.is_none_or(|p| !alive(p)) {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
            Err(e) => eprintln!("podrun: {e}; cleaning up without the daemon"),
        }
    }
    // what a crashed or stuck daemon left behind: its own pid, the containers it recorded, net, mounts
    if let Some(pid) = dir.pid() {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    if let Some(st) = dir.status() {
        for p in &st.pods {
            for c in &p.containers {
                if let (Some(pid), Some(t)) = (c.pid, c.start_ticks)
                    && state::start_ticks(pid) == Some(t)
                {
                    let _ = nix::sys::signal::kill(
                        nix::unistd::Pid::from_raw(-pid),
                        nix::sys::signal::Signal::SIGKILL,
                    );
                }
            }
        }
    }
    if let Ok(t) = std::fs::read_to_string(dir.p("net.json"))
        && let Ok(mut n) = serde_json::from_str::<net::Net>(&t)
    {
        n.teardown();
    }
    daemon::cleanup_files(dir, keep_volumes);
    let _ = std::fs::remove_file(dir.p("daemon.pid"));
    println!("podrun: down");
    ExitCode::SUCCESS
}
