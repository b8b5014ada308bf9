//! The pods' network: one bridge per state dir with the host's address on it, one network
//! namespace per pod with a veth into the bridge and an address of the runner's /24.

use serde::{Deserialize, Serialize};
use std::io::Write;
use std::process::{Command, Stdio};

#[derive(Debug, Clone, Serialize, Deserialize, Default)]
pub struct Net {
    pub bridge: String,
    /// The /24's first three octets, e.g. "10.213.7".
    pub prefix: String,
    /// Network namespaces created (for `down` after a crash).
    pub netns: Vec<String>,
    /// Pod key → host number of its address (2..=254), stable across re-creation.
    pub hosts: std::collections::BTreeMap<String, u8>,
    pub tag: String,
}

fn run(cmd: &str, args: &[&str]) -> Result<String, String> {
    let out = Command::new(cmd)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("{cmd}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "{cmd} {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// A short tag of the state dir for interface names (IFNAMSIZ is 16).
pub fn tag_of(state: &std::path::Path) -> String {
    use sha2::Digest;
    let h = sha2::Sha256::digest(state.to_string_lossy().as_bytes());
    hex::encode(&h[..3])
}

/// A /24 in 10.200.0.0–10.249.255.0 derived from the tag that no address or route of the host uses.
pub fn pick_prefix(tag: &str, explicit: Option<&str>) -> Result<String, String> {
    if let Some(p) = explicit {
        return Ok(p.to_string());
    }
    let used = run("ip", &["-4", "-o", "addr"])? + &run("ip", &["-4", "route"])?;
    let n = u32::from_str_radix(tag, 16).unwrap_or(0);
    for i in 0..50 * 256 {
        let k = (n + i) % (50 * 256);
        let p = format!("10.{}.{}", 200 + k / 256, k % 256);
        if !used.contains(&format!("{p}.")) {
            return Ok(p);
        }
    }
    Err("no free /24 in 10.200.0.0/11 for the pods".into())
}

/// A pod's MAC address, derived from its IPv4 address: the locally administered prefix `0a:58`,
/// then the address's four bytes (as the CNI plugins' `hwaddr` package derives one). A pod
/// re-created under its old address (addresses are stable per pod, see [`Net::allocate`]) keeps
/// its MAC too, so the host's and the other pods' neighbour caches stay right. With a random MAC
/// per creation they kept the dead interface's address while the entry was REACHABLE and sent
/// into the void: measured, 55 s before the host connected to a re-created pod; in CI, a kinit
/// right after a KDC pod was re-created failed.
pub fn mac_of(ip: &str) -> Result<String, String> {
    let a: std::net::Ipv4Addr = ip
        .parse()
        .map_err(|e| format!("pod address {ip}: {e}"))?;
    let [a, b, c, d] = a.octets();
    Ok(format!("0a:58:{a:02x}:{b:02x}:{c:02x}:{d:02x}"))
}

impl Net {
    pub fn bridge_up(&self) -> Result<(), String> {
        if run("ip", &["link", "show", &self.bridge]).is_err() {
            run("ip", &["link", "add", &self.bridge, "type", "bridge"])?;
        }
        let addr = format!("{}.1/24", self.prefix);
        if !run("ip", &["-4", "-o", "addr", "show", "dev", &self.bridge])?
            .contains(&format!("{}.1/", self.prefix))
        {
            run("ip", &["addr", "add", &addr, "dev", &self.bridge])?;
        }
        run("ip", &["link", "set", &self.bridge, "up"])?;
        Ok(())
    }

    pub fn host_ip(&self) -> String {
        format!("{}.1", self.prefix)
    }

    /// The address host number for a pod, allocated once.
    pub fn allocate(&mut self, key: &str) -> Result<u8, String> {
        if let Some(n) = self.hosts.get(key) {
            return Ok(*n);
        }
        let n = (2..=254u8)
            .find(|n| !self.hosts.values().any(|v| v == n))
            .ok_or("no free pod address in the /24")?;
        self.hosts.insert(key.to_string(), n);
        Ok(n)
    }

    pub fn names(&self, n: u8) -> (String, String) {
        (
            format!("podrun-{}-{n}", self.tag),
            format!("pv{}-{n}", self.tag),
        )
    }

    /// Creates the pod's namespace and veth (removing a stale one of the same name first).
    pub fn pod_up(&mut self, n: u8) -> Result<(String, String), String> {
        let (ns, veth) = self.names(n);
        let _ = run("ip", &["netns", "del", &ns]);
        let _ = run("ip", &["link", "del", &veth]);
        if !self.netns.contains(&ns) {
            self.netns.push(ns.clone());
        }
        let ip = format!("{}.{n}", self.prefix);
        let mac = mac_of(&ip)?;
        run("ip", &["netns", "add", &ns])?;
        run(
            "ip",
            &[
                "link", "add", &veth, "type", "veth", "peer", "name", "eth0", "address", &mac,
                "netns", &ns,
            ],
        )?;
        run("ip", &["link", "set", &veth, "master", &self.bridge])?;
        run("ip", &["link", "set", &veth, "up"])?;
        run(
            "ip",
            &["-n", &ns, "addr", "add", &format!("{ip}/24"), "dev", "eth0"],
        )?;
        run("ip", &["-n", &ns, "link", "set", "eth0", "up"])?;
        run("ip", &["-n", &ns, "link", "set", "lo", "up"])?;
        run(
            "ip",
            &["-n", &ns, "route", "add", "default", "via", &self.host_ip()],
        )?;
        Ok((ns, ip))
    }

    /// Deletes the pod's namespace and its veth: the namespace itself may outlive its name while
    /// the kernel still holds orphaned sockets of it; deleting the host end removes the pair now.
    pub fn pod_down(&mut self, ns: &str) {
        let _ = run("ip", &["netns", "del", ns]);
        if let Some(n) = ns.rsplit('-').next() {
            let _ = run("ip", &["link", "del", &format!("pv{}-{n}", self.tag)]);
        }
        self.netns.retain(|n| n != ns);
    }

    /// Everything this state dir created, also after a crash.
    pub fn teardown(&mut self) {
        for ns in std::mem::take(&mut self.netns) {
            let _ = run("ip", &["netns", "del", &ns]);
        }
        let prefix = format!("pv{}-", self.tag);
        if !self.tag.is_empty()
            && let Ok(links) = run("ip", &["-o", "link"])
        {
            for l in links.lines() {
                let name = l.split(": ").nth(1).unwrap_or("").split('@').next().unwrap_or("");
                if name.starts_with(&prefix) {
                    let _ = run("ip", &["link", "del", name]);
                }
            }
        }
        if !self.bridge.is_empty() {
            let _ = run("ip", &["link", "del", &self.bridge]);
        }
    }
}

/// Whether podrun can apply a pod's sysctl: one of the network namespace (`net.*`, each pod has
/// its own), with a name of letters, digits, `_`, `-` and dots (`/` separators as in sysctl(8) are
/// accepted too), and a value without control characters.
pub fn sysctl_supported(name: &str, value: &str) -> Result<(), String> {
    let ok_name = name.starts_with("net.")
        && !name.contains("..")
        && !name.ends_with(['.', '/'])
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'));
    if !ok_name {
        return Err(format!(
            "{name:?}: podrun applies only net.* sysctls (each pod has its own network namespace; it has no IPC namespace for kernel.*)"
        ));
    }
    if value.chars().any(|c| c.is_control()) {
        return Err(format!(
            "{name}: the value {value:?} holds a control character"
        ));
    }
    Ok(())
}

/// The /proc/sys path of a sysctl name (`a.b.c` or `a/b/c`).
pub fn sysctl_path(name: &str) -> String {
    format!("/proc/sys/{}", name.replace('.', "/"))
}

/// Sets the pod's namespaced sysctls (checked by `sysctl_supported`) from a thread that joins
/// the pod's network namespace: /proc/sys/net/* belongs to the opening thread's namespace.
pub fn apply_sysctls(netns: &str, sysctls: &[(String, String)]) -> Result<(), String> {
    if sysctls.is_empty() {
        return Ok(());
    }
    for (k, v) in sysctls {
        sysctl_supported(k, v)?;
    }
    let ns = format!("/run/netns/{netns}");
    let list = sysctls.to_vec();
    std::thread::spawn(move || -> Result<(), String> {
        let f = std::fs::File::open(&ns).map_err(|e| format!("{ns}: {e}"))?;
        nix::sched::setns(&f, nix::sched::CloneFlags::CLONE_NEWNET)
            .map_err(|e| format!("setns {ns}: {e}"))?;
        for (k, v) in &list {
            let p = sysctl_path(k);
            std::fs::write(&p, format!("{v}\n"))
                .map_err(|e| format!("sysctl {k}={v}: {p}: {e}"))?;
        }
        Ok(())
    })
    .join()
    .map_err(|_| "sysctl thread panicked".to_string())?
}

/// Loads a ruleset into the pod's namespace (`None`: accept everything).
pub fn apply_rules(netns: &str, rules: Option<&str>) -> Result<(), String> {
    let text = rules.unwrap_or("flush ruleset\n");
    let mut c = Command::new("ip")
        .args(["netns", "exec", netns, "nft", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("nft: {e}"))?;
    if let Some(mut i) = c.stdin.take() {
        i.write_all(text.as_bytes())
            .map_err(|e| format!("nft: {e}"))?;
    }
    let out = c.wait_with_output().map_err(|e| format!("nft: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "nft in {netns}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pods_mac_is_its_address_behind_a_local_prefix() {
        assert_eq!(mac_of("10.213.7.2").unwrap(), "0a:58:0a:d5:07:02");
        assert_eq!(mac_of("10.249.255.254").unwrap(), "0a:58:0a:f9:ff:fe");
        // locally administered (bit 1 of the first byte), unicast (bit 0 clear)
        let first = u8::from_str_radix(&mac_of("10.200.0.2").unwrap()[..2], 16).unwrap();
        assert_eq!(first & 0b11, 0b10);
        assert!(mac_of("10.213.7").is_err());
        assert!(mac_of("10.213.7.256").is_err());
    }

    #[test]
    fn only_network_namespace_sysctls_are_applied() {
        assert!(sysctl_supported("net.ipv4.ip_unprivileged_port_start", "0").is_ok());
        assert!(sysctl_supported("net.ipv4.ip_local_port_range", "32768 60999").is_ok());
        let e = sysctl_supported("kernel.shm_rmid_forced", "1").unwrap_err();
        assert!(e.contains("net.*"), "{e}");
        assert!(sysctl_supported("net.ipv4/../../kernel/x", "1").is_err());
        assert!(sysctl_supported("net..x", "1").is_err());
        assert!(sysctl_supported("net.ipv4.x", "1\n2").is_err());
        assert_eq!(
            sysctl_path("net.ipv4.ip_unprivileged_port_start"),
            "/proc/sys/net/ipv4/ip_unprivileged_port_start"
        );
    }
}
