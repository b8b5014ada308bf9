//! ConfigMaps: a role's config files, and a service's discovery values.

use super::{to_object, Ctx, Object, RenderError};
use crate::names;
use crate::resolve::ResolvedRole;
use k8s_openapi::api::core::v1 as core;
use std::collections::BTreeMap;

/// The role's files, one data key each (none when the role has no files).
pub(super) fn role_files(ctx: &Ctx, r: &ResolvedRole, wave: u32, out: &mut Vec<Object>) -> Result<(), RenderError> {
    let cl = &ctx.c.name;
    let name = &r.fullname;
    // ConfigMap with the role's files
    if !r.files.is_empty() {
        let data: BTreeMap<String, String> = r.files.iter().map(|f| (f.name.clone(), f.render())).collect();
        let cm = core::ConfigMap { metadata: ctx.meta(name, Some(&r.name), wave), data: Some(data), ..Default::default() };
        out.push(to_object(cl, wave, &cm)?);
    }
    Ok(())
}

/// `<cluster>-<service>-discovery`: what other Clusters read of the service (none when empty).
pub(super) fn discovery(ctx: &Ctx, wave: u32, out: &mut Vec<Object>) -> Result<(), RenderError> {
    let (c, s) = (ctx.c, ctx.s);
    if !s.discovery.is_empty() {
        let cm = core::ConfigMap {
            metadata: ctx.meta(&names::discovery_config_map(&c.name, &s.name), None, wave),
            data: Some(s.discovery.clone()),
            ..Default::default()
        };
        out.push(to_object(&c.name, wave, &cm)?);
    }
    Ok(())
}
