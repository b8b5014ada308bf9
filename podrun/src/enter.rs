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

/// Host directories that are shadowed rather than bound: the container's directory lives in its
/// root tmpfs and holds one symlink per host entry into a read-only bind of the host directory at
/// `SHADOW`/<dir>. Images put their own mount points there (a volume at /etc/hadoop/conf, a keytab
/// emptyDir at /etc/security/keytabs), which a kubelet creates in the container's writable layer;
/// a read-only bind of the host's /etc could not take them.
const SHADOWED: &[&str] = &["/etc"];
const SHADOW: &str = "/.podrun-host";

/// Turns every shadow symlink on the way to `dst` (inclusive) into a real directory of the root
/// tmpfs holding symlinks to the host directory's entries (`dst` itself, when it is one, is
/// removed instead: a mount replaces it). Paths outside the shadowed directories are left alone.
fn unshadow(root: &Path, dst: &str) -> Result<(), String> {
    let rel = dst.trim_start_matches('/');
    let mut cur = root.to_path_buf();
    let parts: Vec<&str> = rel.split('/').filter(|p| !p.is_empty()).collect();
    for (i, part) in parts.iter().enumerate() {
        cur.push(part);
        let Ok(meta) = fs::symlink_metadata(&cur) else {
            return Ok(()); // does not exist: mountpoint() creates it
        };
        if !meta.file_type().is_symlink() {
            continue;
        }
        let target = ctx(fs::read_link(&cur), || format!("readlink {}", cur.display()))?;
        let Ok(host) = target.strip_prefix(SHADOW) else {
            continue;
        };
        ctx(fs::remove_file(&cur), || format!("rm {}", cur.display()))?;
        if i + 1 == parts.len() {
            return Ok(());
        }
        ctx(fs::create_dir(&cur), || format!("mkdir {}", cur.display()))?;
        let host = Path::new("/").join(host);
        if host.is_dir() {
            shadow_entries(&host, &target, &cur)?;
        }
    }
    Ok(())
}

/// One symlink in `dir` per entry of the host directory `host`, to `shadow`/<entry>.
fn shadow_entries(host: &Path, shadow: &Path, dir: &Path) -> Result<(), String> {
    for e in ctx(fs::read_dir(host), || format!("read {}", host.display()))? {
        let e = ctx(e, || format!("read {}", host.display()))?;
        let link = dir.join(e.file_name());
        ctx(symlink(shadow.join(e.file_name()), &link), || {
            format!("symlink {}", link.display())
        })?;
    }
    Ok(())
}

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
        if SHADOWED.contains(d) && meta.is_dir() {
            let hidden = inside(root, &format!("{SHADOW}{d}"));
            ctx(fs::create_dir_all(&hidden), || {
                format!("mkdir {}", hidden.display())
            })?;
            bind(host, &hidden, true, true)?;
            ctx(fs::create_dir(&target), || {
                format!("mkdir {}", target.display())
            })?;
            shadow_entries(host, &Path::new(SHADOW).join(d.trim_start_matches('/')), &target)?;
        } else if meta.file_type().is_symlink() {
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
    unshadow(root, "/etc/hosts")?;
    mountpoint(&s.hosts_file, &root.join("etc/hosts"))?;
    bind(&s.hosts_file, &root.join("etc/hosts"), true, false)?;
    for d in &s.image_dirs {
        unshadow(root, d)?;
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
        unshadow(root, &b.dst)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mount_point_under_a_shadowed_host_directory_becomes_a_real_directory() {
        let t = std::env::temp_dir().join(format!("podrun-unshadow-{}", std::process::id()));
        let _ = fs::remove_dir_all(&t);
        let (host, root) = (t.join("host"), t.join("root"));
        fs::create_dir_all(host.join("security")).unwrap();
        fs::write(host.join("security/limits.conf"), "x").unwrap();
        fs::write(host.join("passwd"), "p").unwrap();
        fs::create_dir_all(&root).unwrap();
        let shadow = Path::new(SHADOW).join(host.strip_prefix("/").unwrap());
        shadow_entries(&host, &shadow, &root.join("etc").tap_mkdir()).unwrap();
        assert!(fs::symlink_metadata(root.join("etc/security")).unwrap().file_type().is_symlink());
        // a keytab emptyDir at etc/security/keytabs: etc/security becomes a directory whose
        // entries still point at the host's
        unshadow(&root, "/etc/security/keytabs").unwrap();
        let sec = root.join("etc/security");
        assert!(fs::symlink_metadata(&sec).unwrap().is_dir());
        assert_eq!(fs::read_link(sec.join("limits.conf")).unwrap(), shadow.join("security/limits.conf"));
        assert!(!sec.join("keytabs").exists(), "mountpoint() creates the mount point itself");
        // a file bound over etc/passwd: the symlink goes, so the bind does not land in the host's
        unshadow(&root, "/etc/passwd").unwrap();
        assert!(fs::symlink_metadata(root.join("etc/passwd")).is_err());
        // outside the shadow nothing changes
        unshadow(&root, "/opt/hadoop/etc").unwrap();
        assert!(!root.join("opt").exists());
        fs::remove_dir_all(&t).unwrap();
    }

    trait Mkdir {
        fn tap_mkdir(self) -> PathBuf;
    }
    impl Mkdir for PathBuf {
        fn tap_mkdir(self) -> PathBuf {
            fs::create_dir_all(&self).unwrap();
            self
        }
    }
}
