//! Stage 4, plan: start order and the checks that need the whole resolved picture.
//!
//! The plan is a petgraph graph whose nodes are roles (`cluster/service/role`) and whose edges
//! say "must be up before": a dependency's roles before the dependent service's roles
//! (within a cluster and across Clusters given together), and a role's `after` list within its
//! service. A cycle is an error that names the cycle. Each role's wave is its depth in the
//! graph (longest path from a root); ArgoCD waits for a wave to be healthy before the next.
//!
//! Checks: replica cardinality (min, max, odd) and Kubernetes name limits. (The stack's own
//! `checks:` rules are evaluated in resolve, where their context exists anyway.)

use crate::diag::{Diagnostic, Diagnostics, Code};
use crate::resolve::{DepSource, ResolvedCluster};
use petgraph::algo::{kosaraju_scc, toposort};
use petgraph::graph::{DiGraph, NodeIndex};
use serde::Serialize;
use std::collections::BTreeMap;

/// A role in the start-order graph.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct RoleId {
    pub namespace: String,
    pub cluster: String,
    pub service: String,
    pub role: String,
}

impl std::fmt::Display for RoleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.cluster, self.service, self.role)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    pub clusters: Vec<ResolvedCluster>,
    /// Wave of every role.
    #[serde(serialize_with = "waves_by_name")]
    pub waves: BTreeMap<RoleId, u32>,
    /// "before → after" edges of the start order (for `bdp graph`).
    pub edges: Vec<(RoleId, RoleId)>,
}

fn waves_by_name<S: serde::Serializer>(w: &BTreeMap<RoleId, u32>, s: S) -> Result<S::Ok, S::Error> {
    let m: BTreeMap<String, u32> = w.iter().map(|(k, v)| (format!("{}/{k}", k.namespace), *v)).collect();
    serde::Serialize::serialize(&m, s)
}

impl Plan {
    pub fn wave(&self, c: &ResolvedCluster, service: &str, role: &str) -> u32 {
        let id = RoleId {
            namespace: c.namespace.clone(),
            cluster: c.name.clone(),
            service: service.into(),
            role: role.into(),
        };
        self.waves.get(&id).copied().unwrap_or(0)
    }

    /// Wave of service-level objects: the earliest wave of the service's roles.
    pub fn service_wave(&self, c: &ResolvedCluster, service: &str) -> u32 {
        c.services
            .iter()
            .find(|s| s.name == service)
            .and_then(|s| s.roles.iter().map(|r| self.wave(c, service, &r.name)).min())
            .unwrap_or(0)
    }
}

use crate::names::{MAX_DNS_LABEL, MAX_STATEFULSET_NAME};

// Long because: three steps on the same graph and node index: build it, order it (waves), name its cycles.
pub fn plan(clusters: Vec<ResolvedCluster>, diags: &mut Diagnostics) -> Plan {
    let mut g: DiGraph<RoleId, ()> = DiGraph::new();
    let mut idx: BTreeMap<RoleId, NodeIndex> = BTreeMap::new();
    for c in &clusters {
        for s in &c.services {
            for r in &s.roles {
                let id = RoleId { namespace: c.namespace.clone(), cluster: c.name.clone(), service: s.name.clone(), role: r.name.clone() };
                let n = g.add_node(id.clone());
                idx.insert(id, n);
            }
        }
    }
    let roles_of = |ns: &str, cl: &str, svc: &str| -> Vec<NodeIndex> {
        idx.iter().filter(|(k, _)| k.namespace == ns && k.cluster == cl && k.service == svc).map(|(_, v)| *v).collect()
    };
    let mut edges = Vec::new();
    for c in &clusters {
        for s in &c.services {
            let mine = roles_of(&c.namespace, &c.name, &s.name);
            for d in &s.deps {
                let providers = match &d.from {
                    DepSource::Service => roles_of(&c.namespace, &c.name, &d.service),
                    DepSource::Cluster { cluster, namespace } => roles_of(namespace, cluster, &d.service),
                    DepSource::ConfigMap { .. } => vec![],
                };
                for p in &providers {
                    for m in &mine {
                        edges.push((*p, *m));
                    }
                }
            }
            for r in &s.roles {
                let me = idx[&RoleId { namespace: c.namespace.clone(), cluster: c.name.clone(), service: s.name.clone(), role: r.name.clone() }];
                for a in &r.after {
                    if let Some(p) = idx.get(&RoleId { namespace: c.namespace.clone(), cluster: c.name.clone(), service: s.name.clone(), role: a.clone() }) {
                        edges.push((*p, me));
                    }
                }
            }
        }
    }
    edges.sort();
    edges.dedup();
    for (a, b) in &edges {
        g.add_edge(*a, *b, ());
    }

    let mut waves = BTreeMap::new();
    match toposort(&g, None) {
        Ok(order) => {
            let mut depth: BTreeMap<NodeIndex, u32> = BTreeMap::new();
            for n in order {
                let d = g.neighbors_directed(n, petgraph::Direction::Incoming).map(|p| depth[&p] + 1).max().unwrap_or(0);
                depth.insert(n, d);
                waves.insert(g[n].clone(), d);
            }
        }
        Err(_) => {
            for scc in kosaraju_scc(&g) {
                let cyclic = scc.len() > 1 || scc.iter().any(|n| g.contains_edge(*n, *n));
                if !cyclic {
                    continue;
                }
                let mut ids: Vec<&RoleId> = scc.iter().map(|n| &g[*n]).collect();
                ids.sort_by_key(|id| (id.to_string(), id.namespace.clone()));
                let mut names: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
                names.push(names[0].clone());
                // the cluster of the cycle's first role, by namespace and name (names repeat
                // across namespaces)
                let cl = clusters.iter().find(|c| c.namespace == ids[0].namespace && c.name == ids[0].cluster);
                diags.push(
                    Diagnostic::error(Code::StartOrderCycle, cl.map(|c| c.doc.span_at(&[])), "spec.services", format!("the start order has a cycle: {}", names.join(" -> ")))
                        .hint("a service cannot depend, directly or through others, on itself; check `dependencies` and the stack's role `after` lists"),
                );
            }
        }
    }

    for c in &clusters {
        check_cluster(c, diags);
    }
    let edges = edges.iter().map(|(a, b)| (g[*a].clone(), g[*b].clone())).collect();
    Plan { clusters, waves, edges }
}

fn check_cluster(c: &ResolvedCluster, diags: &mut Diagnostics) {
    let name_span = c.doc.span_at(&["metadata".into(), "name".into()]);
    for s in &c.services {
        for r in &s.roles {
            let card = &r.cardinality;
            let mut p = r.user_path.clone();
            p.push("replicas".into());
            let span = Some(c.doc.span_at(&p));
            let path = p.join(".");
            if r.replicas < card.min {
                diags.push(
                    Diagnostic::error(Code::ReplicasOutOfRange, span.clone(), &path, format!("{} {} has {} replicas, fewer than {}", s.name, r.name, r.replicas, card.min))
                        .expected(format!("{} to {}", card.min, card.max))
                        .hint(format!("set replicas to at least {}", card.min)),
                );
            }
            if r.replicas > card.max {
                diags.push(
                    Diagnostic::error(Code::ReplicasOutOfRange, span.clone(), &path, format!("{} {} has {} replicas, more than {}", s.name, r.name, r.replicas, card.max))
                        .expected(format!("{} to {}", card.min, card.max))
                        .hint(format!("set replicas to at most {}", card.max)),
                );
            }
            if card.odd && r.replicas % 2 == 0 && r.replicas > 0 {
                let tolerated = (r.replicas - 1) / 2;
                diags.push(
                    Diagnostic::error(Code::EvenQuorum, span.clone(), &path, format!("{} {} needs an odd number of replicas, got {}", s.name, r.name, r.replicas))
                        .expected("an odd number (a majority quorum)")
                        .hint(format!(
                            "{} servers tolerate {tolerated} failure(s), the same as {}; use {} or {}",
                            r.replicas,
                            r.replicas - 1,
                            r.replicas - 1,
                            r.replicas + 1
                        )),
                );
            }
            if r.fullname.len() > MAX_STATEFULSET_NAME {
                diags.push(
                    Diagnostic::error(Code::NameTooLong, Some(name_span.clone()), "metadata.name", format!("StatefulSet name `{}` is {} characters, more than {MAX_STATEFULSET_NAME}", r.fullname, r.fullname.len()))
                        .hint(format!("Kubernetes adds a controller-revision-hash label of the name; shorten the cluster name by {} characters", r.fullname.len() - MAX_STATEFULSET_NAME)),
                );
            }
            for suffix in r.services.keys() {
                let n = crate::names::role_service(&r.fullname, suffix);
                if n.len() > MAX_DNS_LABEL {
                    diags.push(
                        Diagnostic::error(Code::NameTooLong, Some(name_span.clone()), "metadata.name", format!("Service name `{n}` is longer than {MAX_DNS_LABEL} characters"))
                            .hint("shorten the cluster name"),
                    );
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::Code;

    const STACK: &str = "apiVersion: manager.kubebdp.github.io/v1
kind: StackDefinition
metadata: {name: mini}
spec:
  services:
    base:
      version: '1'
      image: {repository: busybox, tag: '1'}
      runAs: {user: 1000, group: 1000}
      roles:
        r:
          replicas: {default: 3, odd: true}
          containers: [{name: c}]
    app:
      version: '1'
      image: {repository: busybox, tag: '1'}
      runAs: {user: 1000, group: 1000}
      dependencies: {base: {service: base, required: true}}
      roles:
        first: {replicas: {default: 1}, containers: [{name: c}]}
        second: {replicas: {default: 1}, after: [first], containers: [{name: c}]}
";

    fn plan_text(clusters: &str) -> (Plan, Diagnostics) {
        let (resolved, mut diags) = crate::resolve::tests::resolve_yaml(&format!("{STACK}{clusters}"));
        (plan(resolved, &mut diags), diags)
    }

    fn cluster(ns: &str, services: &str, base_replicas: u32) -> String {
        format!("---\napiVersion: manager.kubebdp.github.io/v1\nkind: Cluster\nmetadata: {{name: c, namespace: {ns}}}\nspec:\n  stack: mini\n  services:\n{services}    base: {{roles: {{r: {{replicas: {base_replicas}}}}}}}\n")
    }

    #[test]
    fn waves_are_longest_path_depths() {
        let (p, d) = plan_text(&cluster("ns", "    app:\n", 3));
        assert!(!d.has_errors(), "{:#?}", d.items);
        let waves: Vec<(String, u32)> = p.waves.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        assert_eq!(waves, [("c/app/first".to_string(), 1), ("c/app/second".to_string(), 2), ("c/base/r".to_string(), 0)]);
        let c = &p.clusters[0];
        assert_eq!(p.service_wave(c, "app"), 1, "a service's objects go with its earliest role");
    }

    #[test]
    fn clusters_of_the_same_name_in_two_namespaces_are_planned_apart() {
        let (p, d) = plan_text(&(cluster("one", "    app:\n", 3) + &cluster("two", "", 3)));
        assert!(!d.has_errors(), "{:#?}", d.items);
        assert_eq!(p.waves.len(), 4);
        assert!(p.waves.keys().any(|k| k.namespace == "two" && k.service == "base"));
    }

    #[test]
    fn an_even_quorum_is_refused_with_its_code() {
        let (_, d) = plan_text(&cluster("ns", "", 4));
        let e = d.items.iter().find(|x| x.code == Code::EvenQuorum).expect("an error");
        assert_eq!(e.path, "spec.services.base.roles.r.replicas");
        assert!(e.hint.as_deref().is_some_and(|h| h.contains("use 3 or 5")), "{e:?}");
    }
}
