//! A role's PodDisruptionBudget (`roles.<r>.pdb.maxUnavailable`).

use super::{to_object, Ctx, Object, RenderError};
use crate::resolve::ResolvedRole;
use k8s_openapi::api::policy::v1::{PodDisruptionBudget, PodDisruptionBudgetSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

pub(super) fn pdb(ctx: &Ctx, r: &ResolvedRole, wave: u32, out: &mut Vec<Object>) -> Result<(), RenderError> {
    let cl = &ctx.c.name;
    let name = &r.fullname;
    if let Some(mu) = r.pdb_max_unavailable {
        let pdb = PodDisruptionBudget {
            metadata: ctx.meta(name, Some(&r.name), wave),
            spec: Some(PodDisruptionBudgetSpec {
                max_unavailable: Some(IntOrString::Int(mu)),
                selector: Some(LabelSelector { match_labels: Some(ctx.selector(&r.name)), match_expressions: None }),
                ..Default::default()
            }),
            ..Default::default()
        };
        out.push(to_object(cl, wave, &pdb)?);
    }

    Ok(())
}
