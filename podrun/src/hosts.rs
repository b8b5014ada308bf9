//! The hosts file the runner writes in place of cluster DNS: pod FQDNs under their headless
//! Service (`<pod>.<svc>.<ns>.svc.<domain>`), headless Services → every selected pod (ready ones,
//! or all with publishNotReadyAddresses), ClusterIP Services → one ready pod.

use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Debug, Clone)]
pub struct PodAddr {
    pub name: String,
    pub namespace: String,
    pub ip: String,
    /// The StatefulSet's serviceName (the pod's subdomain).
    pub subdomain: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub ready: bool,
}

#[derive(Debug, Clone)]
pub struct Svc {
    pub name: String,
    pub namespace: String,
    pub headless: bool,
    pub publish_not_ready: bool,
    pub selector: BTreeMap<String, String>,
}

pub fn render(domain: &str, pods: &[PodAddr], services: &[Svc]) -> String {
    let mut out = String::from(
        "# Written by podrun: cluster DNS for the pods of this state dir.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n",
    );
    let mut pods: Vec<&PodAddr> = pods.iter().collect();
    pods.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    let mut short: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &pods {
        *short.entry(p.name.as_str()).or_default() += 1;
    }
    for p in &pods {
        let mut names = Vec::new();
        if let Some(sd) = &p.subdomain
            && services
                .iter()
                .any(|s| s.headless && s.name == *sd && s.namespace == p.namespace)
        {
            names.push(format!("{}.{sd}.{}.svc.{domain}", p.name, p.namespace));
        }
        if short[p.name.as_str()] == 1 {
            names.push(p.name.clone());
        }
        if !names.is_empty() {
            let _ = writeln!(out, "{}\t{}", p.ip, names.join(" "));
        }
    }
    let mut svcs: Vec<&Svc> = services.iter().collect();
    svcs.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    for s in svcs {
        let fqdn = format!("{}.{}.svc.{domain}", s.name, s.namespace);
        let selected = pods.iter().filter(|p| {
            p.namespace == s.namespace && crate::select::map_matches(&s.selector, &p.labels)
        });
        if s.headless {
            for p in selected.filter(|p| p.ready || s.publish_not_ready) {
                let _ = writeln!(out, "{}\t{fqdn}", p.ip);
            }
        } else if let Some(p) = selected.clone().find(|p| p.ready) {
            let _ = writeln!(out, "{}\t{fqdn}", p.ip);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(name: &str, ip: &str, ready: bool) -> PodAddr {
        PodAddr {
            name: name.into(),
            namespace: "bd".into(),
            ip: ip.into(),
            subdomain: Some("zk".into()),
            labels: [("app".into(), "zk".into())].into(),
            ready,
        }
    }

    #[test]
    fn pods_headless_and_clusterip_services() {
        let sel: BTreeMap<String, String> = [("app".into(), "zk".into())].into();
        let svcs = [
            Svc {
                name: "zk".into(),
                namespace: "bd".into(),
                headless: true,
                publish_not_ready: true,
                selector: sel.clone(),
            },
            Svc {
                name: "zk-client".into(),
                namespace: "bd".into(),
                headless: false,
                publish_not_ready: false,
                selector: sel.clone(),
            },
            Svc {
                name: "zk-ready".into(),
                namespace: "bd".into(),
                headless: true,
                publish_not_ready: false,
                selector: sel,
            },
        ];
        let h = render(
            "cluster.local",
            &[
                pod("zk-1", "10.9.0.3", true),
                pod("zk-0", "10.9.0.2", false),
            ],
            &svcs,
        );
        let lines: Vec<&str> = h.lines().skip(3).collect();
        assert_eq!(
            lines,
            [
                "10.9.0.2\tzk-0.zk.bd.svc.cluster.local zk-0",
                "10.9.0.3\tzk-1.zk.bd.svc.cluster.local zk-1",
                "10.9.0.2\tzk.bd.svc.cluster.local",
                "10.9.0.3\tzk.bd.svc.cluster.local",
                "10.9.0.3\tzk-client.bd.svc.cluster.local",
                "10.9.0.3\tzk-ready.bd.svc.cluster.local",
            ]
        );
    }

    #[test]
    fn no_fqdn_without_a_headless_service_and_no_clusterip_without_a_ready_pod() {
        let svcs = [Svc {
            name: "c".into(),
            namespace: "bd".into(),
            headless: false,
            publish_not_ready: false,
            selector: [("app".into(), "zk".into())].into(),
        }];
        let h = render("cluster.local", &[pod("zk-0", "10.9.0.2", false)], &svcs);
        assert!(!h.contains("svc.cluster.local"), "{h}");
    }
}
