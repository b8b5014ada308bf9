//! A role's NetworkPolicy: peer ports open to this cluster's pods, dependents ports to the pods
//! of this service and of the services depending on it, client ports to any pod.

use super::{btree, to_object, Ctx, Object, RenderError};
use crate::names::{LABEL_CLUSTER, LABEL_SERVICE};
use crate::resolve::ResolvedRole;
use k8s_openapi::api::networking::v1 as net;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

pub(super) fn network_policy(ctx: &Ctx, r: &ResolvedRole, wave: u32, out: &mut Vec<Object>) -> Result<(), RenderError> {
    let cl = &ctx.c.name;
    let name = &r.fullname;
    // NetworkPolicy: peer ports from this cluster's pods, client ports from any pod
    let np_port = |p: &crate::model::PortDef| net::NetworkPolicyPort {
        port: Some(IntOrString::Int(p.port)),
        protocol: Some(p.protocol.clone().unwrap_or_else(|| "TCP".into())),
        end_port: None,
    };
    let peer: Vec<_> = r.ports.iter().filter(|p| p.access == crate::model::PortAccess::Peer).map(np_port).collect();
    let client: Vec<_> = r.ports.iter().filter(|p| p.access == crate::model::PortAccess::Client).map(np_port).collect();
    let dependents: Vec<_> = r.ports.iter().filter(|p| p.access == crate::model::PortAccess::Dependents).map(np_port).collect();
    let mut rules = Vec::new();
    if !peer.is_empty() {
        rules.push(net::NetworkPolicyIngressRule {
            from: Some(vec![net::NetworkPolicyPeer {
                pod_selector: Some(LabelSelector { match_labels: Some(btree([(LABEL_CLUSTER.into(), cl.clone())])), match_expressions: None }),
                ..Default::default()
            }]),
            ports: Some(peer),
        });
    }
    if !dependents.is_empty() {
        // this service's own pods, then each dependent service's (another namespace by name)
        let svc_peer = |ns: &str, cluster: &str, service: &str| net::NetworkPolicyPeer {
            pod_selector: Some(LabelSelector {
                match_labels: Some(btree([(LABEL_CLUSTER.into(), cluster.to_string()), (LABEL_SERVICE.into(), service.to_string())])),
                match_expressions: None,
            }),
            namespace_selector: (ns != ctx.c.namespace).then(|| LabelSelector {
                match_labels: Some(btree([("kubernetes.io/metadata.name".into(), ns.to_string())])),
                match_expressions: None,
            }),
            ..Default::default()
        };
        let mut from = vec![svc_peer(&ctx.c.namespace, &ctx.c.name, &ctx.s.name)];
        for (ns, cluster, service) in &ctx.dependents {
            if !(ns == &ctx.c.namespace && cluster == &ctx.c.name && service == &ctx.s.name) {
                from.push(svc_peer(ns, cluster, service));
            }
        }
        rules.push(net::NetworkPolicyIngressRule { from: Some(from), ports: Some(dependents) });
    }
    if !client.is_empty() {
        rules.push(net::NetworkPolicyIngressRule { from: None, ports: Some(client) });
    }
    let np = net::NetworkPolicy {
        metadata: ctx.meta(name, Some(&r.name), wave),
        spec: Some(net::NetworkPolicySpec {
            pod_selector: Some(LabelSelector { match_labels: Some(ctx.selector(&r.name)), match_expressions: None }),
            policy_types: Some(vec!["Ingress".into()]),
            ingress: Some(rules),
            egress: None,
        }),
    };
    out.push(to_object(cl, wave, &np)?);
    Ok(())
}
