//! NetworkPolicy ingress as an nftables ruleset loaded inside the pod's network namespace: once a
//! policy selects the pod, only the sources and ports some rule allows get in (plus loopback and
//! replies); pods not selected by any policy accept everything, as in Kubernetes.

use crate::select::matches;
use k8s_openapi::api::networking::v1::{NetworkPolicy, NetworkPolicyPort};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use std::collections::BTreeMap;
use std::fmt::Write;

#[derive(Debug, Clone)]
pub struct Peer {
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    pub ip: String,
}

/// The ruleset for `me` (ns, labels, named container ports), or None when no policy selects it.
pub fn ruleset(
    me_ns: &str,
    me_labels: &BTreeMap<String, String>,
    named_ports: &BTreeMap<String, (i32, String)>,
    peers: &[Peer],
    policies: &[NetworkPolicy],
) -> Option<String> {
    let mut rules = Vec::new();
    let mut selected = false;
    for p in policies {
        let ns = crate::stream::ns_of(&p.metadata);
        let Some(spec) = &p.spec else { continue };
        if ns != me_ns
            || !spec
                .pod_selector
                .as_ref()
                .is_none_or(|s| matches(s, me_labels))
        {
            continue;
        }
        let types = spec
            .policy_types
            .clone()
            .unwrap_or_else(|| vec!["Ingress".into()]);
        if !types.iter().any(|t| t == "Ingress") {
            continue;
        }
        selected = true;
        let pname = p.metadata.name.clone().unwrap_or_default();
        for (ri, rule) in spec.ingress.iter().flatten().enumerate() {
            // sources: None = anywhere
            let sources: Option<Vec<String>> =
                rule.from.as_ref().filter(|f| !f.is_empty()).map(|from| {
                    let mut ips = Vec::new();
                    for peer in from {
                        if let Some(b) = &peer.ip_block {
                            let except = b.except.clone().unwrap_or_default();
                            if except.is_empty() {
                                ips.push(b.cidr.clone());
                            } else {
                                // an ipBlock with exceptions becomes its own rule below
                                ips.push(format!("{}!{}", b.cidr, except.join(",")));
                            }
                            continue;
                        }
                        for q in peers {
                            let ns_ok = match &peer.namespace_selector {
                                None => q.namespace == ns,
                                Some(sel) => {
                                    let nl: BTreeMap<String, String> = [(
                                        "kubernetes.io/metadata.name".to_string(),
                                        q.namespace.clone(),
                                    )]
                                    .into();
                                    matches(sel, &nl)
                                }
                            };
                            let pod_ok = peer
                                .pod_selector
                                .as_ref()
                                .is_none_or(|s| matches(s, &q.labels));
                            if ns_ok && pod_ok && !ips.contains(&q.ip) {
                                ips.push(q.ip.clone());
                            }
                        }
                    }
                    ips
                });
            let ports = port_matches(rule.ports.as_deref(), named_ports);
            let mut srcs: Vec<String> = Vec::new();
            match &sources {
                None => srcs.push(String::new()),
                Some(list) => {
                    let plain: Vec<&String> = list.iter().filter(|s| !s.contains('!')).collect();
                    if !plain.is_empty() {
                        srcs.push(format!(
                            "ip saddr {{ {} }} ",
                            plain
                                .iter()
                                .map(|s| s.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ));
                    }
                    for s in list.iter().filter(|s| s.contains('!')) {
                        let (cidr, except) = s.split_once('!').unwrap_or((s, ""));
                        srcs.push(format!("ip saddr {cidr} ip saddr != {{ {except} }} "));
                    }
                }
            }
            for s in &srcs {
                for pm in &ports {
                    rules.push(format!("{s}{pm}accept comment \"{pname} ingress[{ri}]\""));
                }
            }
        }
    }
    if !selected {
        return None;
    }
    let mut out = String::from(
        "flush ruleset\ntable inet podrun {\n  chain input {\n    type filter hook input priority 0; policy drop;\n    ct state established,related accept\n    iif \"lo\" accept\n",
    );
    for r in rules {
        let _ = writeln!(out, "    {r}");
    }
    out.push_str("  }\n}\n");
    Some(out)
}

/// "tcp dport { … } " fragments; [""] for all ports; [] when no port resolves.
fn port_matches(
    ports: Option<&[NetworkPolicyPort]>,
    named: &BTreeMap<String, (i32, String)>,
) -> Vec<String> {
    let Some(ports) = ports.filter(|p| !p.is_empty()) else {
        return vec![String::new()];
    };
    let mut by_proto: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in ports {
        let proto = p
            .protocol
            .clone()
            .unwrap_or_else(|| "TCP".into())
            .to_lowercase();
        let spec = match &p.port {
            None => {
                by_proto
                    .entry(format!("meta l4proto {proto} "))
                    .or_default();
                continue;
            }
            Some(IntOrString::Int(n)) => match p.end_port {
                Some(end) => format!("{n}-{end}"),
                None => n.to_string(),
            },
            Some(IntOrString::String(name)) => match named.get(name) {
                Some((n, pr)) if pr.to_lowercase() == proto => n.to_string(),
                _ => continue,
            },
        };
        by_proto
            .entry(format!("{proto} dport"))
            .or_default()
            .push(spec);
    }
    by_proto
        .into_iter()
        .map(|(k, v)| {
            if v.is_empty() {
                k
            } else {
                format!("{k} {{ {} }} ", v.join(", "))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policies() -> Vec<NetworkPolicy> {
        let y = "apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: zk, namespace: bd}
spec:
  podSelector: {matchLabels: {role: server}}
  policyTypes: [Ingress]
  ingress:
    - from: [{podSelector: {matchLabels: {cluster: zk}}}]
      ports: [{port: 2888, protocol: TCP}, {port: election}]
    - ports: [{port: 2181}]
";
        crate::stream::parse(y).unwrap().policies
    }

    fn lbl(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn peers_and_ports_become_rules_and_the_rest_is_dropped() {
        let peers = [
            Peer {
                namespace: "bd".into(),
                labels: lbl(&[("cluster", "zk"), ("role", "server")]),
                ip: "10.1.0.2".into(),
            },
            Peer {
                namespace: "bd".into(),
                labels: lbl(&[("cluster", "other")]),
                ip: "10.1.0.9".into(),
            },
            Peer {
                namespace: "x".into(),
                labels: lbl(&[("cluster", "zk")]),
                ip: "10.1.0.8".into(),
            },
        ];
        let named: BTreeMap<String, (i32, String)> =
            [("election".to_string(), (3888, "TCP".to_string()))].into();
        let r = ruleset(
            "bd",
            &lbl(&[("role", "server")]),
            &named,
            &peers,
            &policies(),
        )
        .unwrap();
        assert!(r.contains("policy drop;"), "{r}");
        assert!(
            r.contains(
                "ip saddr { 10.1.0.2 } tcp dport { 2888, 3888 } accept comment \"zk ingress[0]\""
            ),
            "{r}"
        );
        assert!(
            r.contains("    tcp dport { 2181 } accept comment \"zk ingress[1]\""),
            "{r}"
        );
        assert!(!r.contains("10.1.0.9") && !r.contains("10.1.0.8"), "{r}");
    }

    #[test]
    fn unselected_pods_get_no_rules() {
        assert!(
            ruleset(
                "bd",
                &lbl(&[("role", "client")]),
                &BTreeMap::new(),
                &[],
                &policies()
            )
            .is_none()
        );
        assert!(
            ruleset(
                "other",
                &lbl(&[("role", "server")]),
                &BTreeMap::new(),
                &[],
                &policies()
            )
            .is_none()
        );
    }
}
