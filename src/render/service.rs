//! Services of a role: the headless Service (same name as the StatefulSet, publishing
//! not-ready addresses so peers find each other before they are ready) and the extra
//! ClusterIP Services the stack asks for (`roles.<r>.services.<suffix>: [ports]`).

use super::{to_object, Ctx, Object, RenderError};
use crate::names;
use crate::resolve::ResolvedRole;
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

pub(super) fn role_services(ctx: &Ctx, r: &ResolvedRole, wave: u32, out: &mut Vec<Object>) -> Result<(), RenderError> {
    let cl = &ctx.c.name;
    let name = &r.fullname;
    let svc_ports = |names: Option<&Vec<String>>| -> Vec<core::ServicePort> {
        r.ports
            .iter()
            .filter(|p| names.is_none_or(|n| n.contains(&p.name)))
            .map(|p| core::ServicePort {
                name: Some(p.name.clone()),
                port: p.port,
                target_port: Some(IntOrString::Int(p.port)),
                protocol: Some(p.protocol.clone().unwrap_or_else(|| "TCP".into())),
                ..Default::default()
            })
            .collect()
    };
    // headless Service: stable pod DNS names, published before readiness
    let headless = core::Service {
        metadata: ctx.meta(name, Some(&r.name), wave),
        spec: Some(core::ServiceSpec {
            cluster_ip: Some("None".into()),
            publish_not_ready_addresses: Some(true),
            selector: Some(ctx.selector(&r.name)),
            ports: Some(svc_ports(None)),
            ..Default::default()
        }),
        ..Default::default()
    };
    out.push(to_object(cl, wave, &headless)?);
    for (suffix, names) in &r.services {
        let s = core::Service {
            metadata: ctx.meta(&names::role_service(name, suffix), Some(&r.name), wave),
            spec: Some(core::ServiceSpec {
                type_: Some("ClusterIP".into()),
                selector: Some(ctx.selector(&r.name)),
                ports: Some(svc_ports(Some(names))),
                ..Default::default()
            }),
            ..Default::default()
        };
        out.push(to_object(cl, wave, &s)?);
    }

    Ok(())
}
