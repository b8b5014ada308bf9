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

/// A mount point (or image directory) to create below a host directory that lacks it.
#[derive(Debug, PartialEq)]
pub struct Missing {
    /// Path relative to the host directory.
    pub rel: PathBuf,
    pub dir: bool,
    /// An image directory: owned by the container's user.
    pub owned: bool,
}

/// The volume mount points, image files and image directories of `s` that lie below the host
/// directory `d` but do not exist there (Kubernetes creates mount points in the image; the host's
/// directory is bound read-only, so podrun cannot create them in it).
pub fn missing_under(d: &str, s: &Spec) -> Vec<Missing> {
    let base = Path::new(d);
    let mut out = Vec::new();
    let binds = s.image_files.iter().chain(s.mounts.iter());
    let items = binds
        .map(|b| (b.dst.as_str(), b.src.is_dir(), false))
        .chain(s.image_dirs.iter().map(|p| (p.as_str(), true, true)));
    for (dst, dir, owned) in items {
        let Ok(rel) = Path::new(dst).strip_prefix(base) else {
            continue;
        };
        if rel.as_os_str().is_empty() || fs::symlink_metadata(base.join(rel)).is_ok() {
            continue;
        }
        out.push(Missing {
            rel: rel.to_path_buf(),
            dir,
            owned,
        });
    }
    out
}

/// Mounts `host` read-only at `target` with the `missing` mount points added: a read-only
/// overlay of a staging tmpfs holding just those paths over the host directory. The staging tmpfs
/// is detached afterwards (overlayfs keeps private clones of its layers).
fn overlay_with_mountpoints(
    host: &Path,
    target: &Path,
    stage: &Path,
    missing: &[Missing],
    uid: u32,
    gid: u32,
) -> Result<(), String> {
    let layer = stage.join(host.strip_prefix("/").unwrap_or(host));
    for p in [host, &layer] {
        let t = p.to_string_lossy();
        if t.contains([':', ',', '\\']) {
            return Err(format!(
                "{t}: a path with ':', ',' or '\\' cannot be an overlay layer"
            ));
        }
    }
    ctx(fs::create_dir_all(stage), || {
        format!("mkdir {}", stage.display())
    })?;
    ctx(
        mount(
            Some("tmpfs"),
            stage,
            Some("tmpfs"),
            MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
            Some("mode=755"),
        ),
        || format!("tmpfs on {}", stage.display()),
    )?;
    ctx(fs::create_dir_all(&layer), || {
        format!("mkdir {}", layer.display())
    })?;
    for m in missing {
        let p = layer.join(&m.rel);
        if let Some(parent) = p.parent() {
            ctx(fs::create_dir_all(parent), || {
                format!("mkdir {}", parent.display())
            })?;
        }
        if m.dir {
            ctx(fs::create_dir_all(&p), || format!("mkdir {}", p.display()))?;
        } else if !p.exists() {
            ctx(fs::write(&p, b""), || format!("create {}", p.display()))?;
        }
        if m.owned {
            ctx(
                nix::unistd::chown(&p, Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid))),
                || format!("chown {}", p.display()),
            )?;
        }
    }
    let opts = format!("lowerdir={}:{}", layer.display(), host.display());
    ctx(
        mount(
            Some("overlay"),
            target,
            Some("overlay"),
            MsFlags::MS_RDONLY,
            Some(opts.as_str()),
        ),
        || format!("overlay {opts} on {}", target.display()),
    )?;
    ctx(
        nix::mount::umount2(stage, nix::mount::MntFlags::MNT_DETACH),
        || format!("detach {}", stage.display()),
    )?;
    let _ = fs::remove_dir(stage);
    Ok(())
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
    let stage = root.join(".podrun-stage");
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
            let missing = missing_under(d, &s);
            if missing.is_empty() {
                bind(host, &target, true, true)?;
            } else {
                overlay_with_mountpoints(host, &target, &stage, &missing, s.uid, s.gid)?;
            }
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
        // already owned: made in a staging layer below a read-only host directory
        use std::os::unix::fs::MetadataExt;
        if fs::metadata(&p).is_ok_and(|m| m.uid() == s.uid && m.gid() == s.gid) {
            continue;
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(mounts: &[(&str, &Path)], dirs: &[&str]) -> Spec {
        Spec {
            netns: String::new(),
            hostname: String::new(),
            root: PathBuf::new(),
            hosts_file: PathBuf::new(),
            image_dirs: dirs.iter().map(|d| d.to_string()).collect(),
            image_files: Vec::new(),
            mounts: mounts
                .iter()
                .map(|(d, s)| Bind {
                    dst: d.to_string(),
                    src: s.to_path_buf(),
                    ro: true,
                })
                .collect(),
            read_only_root: false,
            no_new_privs: false,
            uid: 0,
            gid: 0,
            groups: Vec::new(),
            cwd: "/".into(),
            env: Vec::new(),
            argv: Vec::new(),
        }
    }

    #[test]
    fn mount_points_missing_below_a_host_directory_are_found() {
        let d = std::env::temp_dir().join(format!("podrun-enter-test-{}", std::process::id()));
        fs::create_dir_all(d.join("present")).unwrap();
        fs::write(d.join("file"), b"x").unwrap();
        let host = d.to_str().unwrap();
        let s = spec(
            &[
                (&format!("{host}/krb5"), &d),                  // missing directory
                (&format!("{host}/present"), &d),               // exists: nothing to add
                (&format!("{host}/a/b.conf"), &d.join("file")), // missing file, nested
                ("/elsewhere/x", &d),                           // not below the host directory
            ],
            &[&format!("{host}/owned")],
        );
        let m = missing_under(host, &s);
        let _ = fs::remove_dir_all(&d);
        assert_eq!(
            m,
            [
                Missing {
                    rel: "krb5".into(),
                    dir: true,
                    owned: false
                },
                Missing {
                    rel: "a/b.conf".into(),
                    dir: false,
                    owned: false
                },
                Missing {
                    rel: "owned".into(),
                    dir: true,
                    owned: true
                },
            ]
        );
    }
}
