//! `bdp graph`: the plan's start order as a picture for a pull request — Graphviz DOT or a
//! Mermaid flowchart. Clusters are subgraphs, services are subgraphs inside them, roles are
//! nodes labelled with their wave, and an edge `a → b` means "a is up before b starts".
//!
//! By default edges implied by others are left out (the transitive reduction: `a → c` is not
//! drawn when `a → b → c` is), which keeps the picture readable; `--all-edges` draws every edge
//! of the plan.

use crate::plan::{Plan, RoleId};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    Dot,
    Mermaid,
}

/// Edges of the plan, optionally without those implied by a longer path.
pub fn edges(plan: &Plan, all: bool) -> Vec<(RoleId, RoleId)> {
    let mut set: BTreeSet<(RoleId, RoleId)> = plan.edges.iter().cloned().collect();
    if all {
        return set.into_iter().collect();
    }
    let mut succ: BTreeMap<&RoleId, Vec<&RoleId>> = BTreeMap::new();
    for (a, b) in &plan.edges {
        succ.entry(a).or_default().push(b);
    }
    // an edge a→b is redundant when b is reachable from a without using that edge
    let reachable_without = |a: &RoleId, b: &RoleId| -> bool {
        let mut stack: Vec<&RoleId> = succ.get(a).map(|v| v.iter().copied().filter(|x| *x != b).collect()).unwrap_or_default();
        let mut seen: BTreeSet<&RoleId> = BTreeSet::new();
        while let Some(n) = stack.pop() {
            if n == b {
                return true;
            }
            if seen.insert(n)
                && let Some(next) = succ.get(n)
            {
                stack.extend(next.iter().copied());
            }
        }
        false
    };
    set.retain(|(a, b)| !reachable_without(a, b));
    set.into_iter().collect()
}

/// A role's node: its id, node name and wave.
type Node<'a> = (&'a RoleId, String, u32);
/// (namespace, cluster) → service → role nodes
type Groups<'a> = BTreeMap<(&'a str, &'a str), BTreeMap<&'a str, Vec<Node<'a>>>>;

struct Layout<'a> {
    groups: Groups<'a>,
    ids: BTreeMap<&'a RoleId, String>,
}

fn layout(plan: &Plan) -> Layout<'_> {
    let mut groups: Groups = BTreeMap::new();
    let mut ids = BTreeMap::new();
    for (i, (id, wave)) in plan.waves.iter().enumerate() {
        let nid = format!("n{i}");
        ids.insert(id, nid.clone());
        groups
            .entry((id.namespace.as_str(), id.cluster.as_str()))
            .or_default()
            .entry(id.service.as_str())
            .or_default()
            .push((id, nid, *wave));
    }
    for svcs in groups.values_mut() {
        for roles in svcs.values_mut() {
            roles.sort_by(|a, b| (a.2, &a.0.role).cmp(&(b.2, &b.0.role)));
        }
    }
    Layout { groups, ids }
}

fn dot_str(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

fn mermaid_str(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "#quot;"))
}

pub fn render(plan: &Plan, format: GraphFormat, all_edges: bool) -> String {
    let l = layout(plan);
    let es = edges(plan, all_edges);
    let mut s = String::new();
    match format {
        GraphFormat::Dot => {
            s.push_str("// bdp graph: start order (an edge a -> b: a is up before b starts); waves as ArgoCD sync-waves\n");
            s.push_str("digraph bdp {\n  rankdir=LR;\n  compound=true;\n  node [shape=box, style=\"rounded,filled\", fillcolor=white, fontname=\"Helvetica\"];\n  graph [fontname=\"Helvetica\"];\n");
            for (ci, ((ns, cl), svcs)) in l.groups.iter().enumerate() {
                let _ = writeln!(s, "  subgraph cluster_{ci} {{\n    label={};\n    style=rounded;", dot_str(&format!("Cluster {ns}/{cl}")));
                for (si, (svc, roles)) in svcs.iter().enumerate() {
                    let _ = writeln!(s, "    subgraph cluster_{ci}_{si} {{\n      label={};\n      style=\"rounded,filled\";\n      fillcolor=\"#f2f2f2\";", dot_str(svc));
                    for (id, nid, wave) in roles {
                        let role = dot_str(&id.role);
                        let _ = writeln!(s, "      {nid} [label=\"{}\\nwave {wave}\"];", &role[1..role.len() - 1]);
                    }
                    s.push_str("    }\n");
                }
                s.push_str("  }\n");
            }
            for (a, b) in &es {
                let _ = writeln!(s, "  {} -> {};", l.ids[a], l.ids[b]);
            }
            s.push_str("}\n");
        }
        GraphFormat::Mermaid => {
            s.push_str("flowchart LR\n");
            for (ci, ((ns, cl), svcs)) in l.groups.iter().enumerate() {
                let _ = writeln!(s, "  subgraph c{ci}[{}]", mermaid_str(&format!("Cluster {ns}/{cl}")));
                for (si, (svc, roles)) in svcs.iter().enumerate() {
                    let _ = writeln!(s, "    subgraph c{ci}s{si}[{}]", mermaid_str(svc));
                    for (id, nid, wave) in roles {
                        let _ = writeln!(s, "      {nid}[{}]", mermaid_str(&format!("{}<br/>wave {wave}", id.role)));
                    }
                    s.push_str("    end\n");
                }
                s.push_str("  end\n");
            }
            for (a, b) in &es {
                let _ = writeln!(s, "  {} --> {}", l.ids[a], l.ids[b]);
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(svc: &str, role: &str) -> RoleId {
        RoleId { namespace: "ns".into(), cluster: "c".into(), service: svc.into(), role: role.into() }
    }

    fn plan() -> Plan {
        let (a, b, c) = (id("s1", "a"), id("s2", "b"), id("s2", "c"));
        Plan {
            clusters: vec![],
            waves: [(a.clone(), 0), (b.clone(), 1), (c.clone(), 2)].into_iter().collect(),
            edges: vec![(a.clone(), b.clone()), (a.clone(), c.clone()), (b, c)],
        }
    }

    #[test]
    fn reduction_drops_implied_edges_only() {
        let p = plan();
        assert_eq!(edges(&p, false).len(), 2);
        assert!(!edges(&p, false).contains(&(id("s1", "a"), id("s2", "c"))));
        assert_eq!(edges(&p, true).len(), 3);
    }

    #[test]
    fn dot_and_mermaid_shapes() {
        let p = plan();
        let d = render(&p, GraphFormat::Dot, false);
        assert!(d.starts_with("// bdp graph") && d.contains("digraph bdp {") && d.trim_end().ends_with('}'), "{d}");
        assert!(d.contains("subgraph cluster_0 {") && d.contains("label=\"Cluster ns/c\";"), "{d}");
        assert!(d.contains("n0 [label=\"a\\nwave 0\"];"), "{d}");
        assert!(d.contains("n0 -> n1;") && d.contains("n1 -> n2;") && !d.contains("n0 -> n2;"), "{d}");
        let m = render(&p, GraphFormat::Mermaid, false);
        assert!(m.starts_with("flowchart LR\n") && m.contains("n2[\"c<br/>wave 2\"]") && m.contains("n1 --> n2"), "{m}");
        assert_eq!(m.matches("subgraph").count(), m.matches("    end\n").count() + m.matches("\n  end\n").count());
    }
}
