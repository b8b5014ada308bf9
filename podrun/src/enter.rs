//! `podrun __enter SPEC`: the helper process that becomes a container. It joins the pod's network
//! namespace, unshares a mount and UTS namespace, assembles the container's root on a tmpfs from
//! read-only binds of the host's system directories, the image profile's files and the pod's
//! volumes, chroots into it, drops to the pod's user and execs the command. Running as a separate
//! process (not a pre_exec hook) keeps all of this out of the multi-threaded daemon's fork.

use nix::mount::{MsFlags, mount};
use nix::sched::{CloneFlags, setns, unshare};
use nix::unistd::{Gid, Uid, chdir, chroot, execve, setgid, setgroups, setuid};
use serde::{Deserialize, Serialize};
use std::ffi::CString;
use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Bind {
    pub dst: String,
    pub src: PathBuf,
    pub ro: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Spec {
    pub netns: String,
    pub hostname: String,
    pub root: PathBuf,
    pub hosts_file: PathBuf,
    pub image_dirs: Vec<String>,
    pub image_files: Vec<Bind>,
    pub mounts: Vec<Bind>,
    pub read_only_root: bool,
    pub no_new_privs: bool,
    pub uid: u32,
    pub gid: u32,
    pub groups: Vec<u32>,
    pub cwd: String,
    pub env: Vec<(String, String)>,
    pub argv: Vec<String>,
}

/// The host directories every container root is built from, read-only.
const HOST_DIRS: &[&str] = &[
    "/usr", "/lib", "/lib64", "/lib32", "/libx32", "/bin", "/sbin", "/etc",
];

pub fn run(spec_path: &Path) -> ! {
    let err = match setup(spec_path) {
        Ok(never) => match never {},
        Err(e) => e,
    };
    eprintln!("podrun: cannot start the container: {err}");
    std::process::exit(127)
}

fn ctx<T, E: std::fmt::Display>(
    r: Result<T, E>,
    what: impl FnOnce() -> String,
) -> Result<T, String> {
    r.map_err(|e| format!("{}: {e}", what()))
}

fn bind(src: &Path, dst: &Path, ro: bool, recursive: bool) -> Result<(), String> {
    let mut f = MsFlags::MS_BIND;
    if recursive {
        f |= MsFlags::MS_REC;
    }
    ctx(mount(Some(src), dst, None::<&str>, f, None::<&str>), || {
        format!("bind {} on {}", src.display(), dst.display())
    })?;
    if ro {
        ctx(
            mount(
                None::<&str>,
                dst,
                None::<&str>,
                MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY,
                None::<&str>,
            ),
            || format!("read-only remount of {}", dst.display()),
        )?;
    }
    Ok(())
}

/// Creates the mount point for `src` at `dst` (a directory or an empty file, parents included).
fn mountpoint(src: &Path, dst: &Path) -> Result<(), String> {
    if dst.exists() {
        return Ok(());
    }
    if let Some(p) = dst.parent() {
        ctx(fs::create_dir_all(p), || format!("mkdir {}", p.display()))?;
    }
    if src.is_dir() {
        ctx(fs::create_dir(dst), || format!("mkdir {}", dst.display()))
    } else {
        ctx(fs::write(dst, b""), || format!("create {}", dst.display()))
    }
}

fn inside(root: &Path, p: &str) -> PathBuf {
    root.join(p.trim_start_matches('/'))
}

fn setup(spec_path: &Path) -> Result<std::convert::Infallible, String> {
    let text = ctx(fs::read_to_string(spec_path), || {
        format!("read {}", spec_path.display())
    })?;
    let s: Spec = ctx(serde_json::from_str(&text), || "container spec".to_string())?;
    let ns = ctx(fs::File::open(format!("/run/netns/{}", s.netns)), || {
        format!("network namespace {}", s.netns)
    })?;
    ctx(setns(&ns, CloneFlags::CLONE_NEWNET), || {
        "setns(net)".to_string()
    })?;
    drop(ns);
    ctx(
        unshare(CloneFlags::CLONE_NEWNS | CloneFlags::CLONE_NEWUTS),
        || "unshare(mount, uts)".to_string(),
    )?;
    ctx(nix::unistd::sethostname(&s.hostname), || {
        "sethostname".to_string()
    })?;
    ctx(
        mount(
            None::<&str>,
            "/",
            None::<&str>,
            MsFlags::MS_REC | MsFlags::MS_PRIVATE,
            None::<&str>,
        ),
        || "make / private".to_string(),
    )?;
    let root = &s.root;
    ctx(fs::create_dir_all(root), || {
        format!("mkdir {}", root.display())
    })?;
    ctx(
        mount(
            Some("tmpfs"),
            root,
            Some("tmpfs"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            Some("mode=755"),
        ),
        || format!("tmpfs on {}", root.display()),
    )?;
    for d in HOST_DIRS {
        let host = Path::new(d);
        let Ok(meta) = fs::symlink_metadata(host) else {
            continue;
        };
        let target = inside(root, d);
        if meta.file_type().is_symlink() {
            let link = ctx(fs::read_link(host), || format!("readlink {d}"))?;
            ctx(symlink(&link, &target), || {
                format!("symlink {}", target.display())
            })?;
        } else {
            ctx(fs::create_dir(&target), || {
                format!("mkdir {}", target.display())
            })?;
            bind(host, &target, true, true)?;
        }
    }
    for (d, mode) in [
        ("proc", 0o555),
        ("dev", 0o755),
        ("sys", 0o555),
        ("tmp", 0o1777),
        ("run", 0o755),
        ("var", 0o755),
        ("var/tmp", 0o1777),
        ("home", 0o755),
        ("root", 0o700),
    ] {
        let p = root.join(d);
        ctx(fs::create_dir_all(&p), || format!("mkdir {}", p.display()))?;
        ctx(
            fs::set_permissions(&p, fs::Permissions::from_mode(mode)),
            || format!("chmod {}", p.display()),
        )?;
    }
    ctx(
        mount(
            Some("proc"),
            &root.join("proc"),
            Some("proc"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
            None::<&str>,
        ),
        || "mount proc".to_string(),
    )?;
    bind(Path::new("/dev"), &root.join("dev"), false, true)?;
    bind(Path::new("/sys"), &root.join("sys"), true, true)?;
    bind(&s.hosts_file, &root.join("etc/hosts"), true, false)?;
    for d in &s.image_dirs {
        let p = inside(root, d);
        ctx(fs::create_dir_all(&p), || format!("mkdir {}", p.display()))?;
        ctx(
            nix::unistd::chown(&p, Some(Uid::from_raw(s.uid)), Some(Gid::from_raw(s.gid))),
            || format!("chown {}", p.display()),
        )?;
    }
    let mut binds: Vec<&Bind> = s.image_files.iter().chain(s.mounts.iter()).collect();
    binds.sort_by_key(|b| b.dst.matches('/').count());
    for b in binds {
        let dst = inside(root, &b.dst);
        mountpoint(&b.src, &dst)?;
        bind(&b.src, &dst, b.ro, false)?;
    }
    if s.read_only_root {
        ctx(
            mount(
                None::<&str>,
                root,
                None::<&str>,
                MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
                None::<&str>,
            ),
            || "read-only root".to_string(),
        )?;
    }
    ctx(chroot(root), || format!("chroot {}", root.display()))?;
    ctx(chdir(s.cwd.as_str()), || format!("workingDir {}", s.cwd))?;
    let groups: Vec<Gid> = s.groups.iter().map(|g| Gid::from_raw(*g)).collect();
    ctx(setgroups(&groups), || "setgroups".to_string())?;
    ctx(setgid(Gid::from_raw(s.gid)), || "setgid".to_string())?;
    ctx(setuid(Uid::from_raw(s.uid)), || "setuid".to_string())?;
    if s.no_new_privs {
        ctx(nix::sys::prctl::set_no_new_privs(), || {
            "no_new_privs".to_string()
        })?;
    }
    let path_var = s
        .env
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.clone())
        .unwrap_or_else(|| "/usr/bin:/bin".into());
    let prog = s.argv.first().ok_or("empty command")?;
    let exe =
        lookup(prog, &path_var).ok_or_else(|| format!("{prog}: not found in PATH {path_var}"))?;
    let cs = |v: &str| CString::new(v).map_err(|_| format!("{v:?} holds a NUL byte"));
    let argv: Vec<CString> = s.argv.iter().map(|a| cs(a)).collect::<Result<_, _>>()?;
    let envp: Vec<CString> = s
        .env
        .iter()
        .map(|(k, v)| cs(&format!("{k}={v}")))
        .collect::<Result<_, _>>()?;
    let exe_c = cs(&exe)?;
    ctx(execve(&exe_c, &argv, &envp), || format!("exec {exe}"))
}

/// execvp's search, in the container's PATH (after chroot).
pub fn lookup(prog: &str, path: &str) -> Option<String> {
    if prog.contains('/') {
        return Some(prog.to_string());
    }
    path.split(':')
        .filter(|d| !d.is_empty())
        .map(|d| format!("{d}/{prog}"))
        .find(|p| fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0))
}
