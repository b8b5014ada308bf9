//! A role's StatefulSet: its pod template (see `pod.rs`), volume claims retained on scale-down
//! and delete, GitOps annotations that keep data-bearing sets from being pruned, and the
//! user's `podOverrides` merged last.

use super::{pod::pod_template, to_object, Ctx, Object, RenderError};
use crate::merge::merge_overrides;
use crate::resolve::ResolvedRole;
use k8s_openapi::api::apps::v1::{StatefulSet, StatefulSetPersistentVolumeClaimRetentionPolicy, StatefulSetSpec, StatefulSetUpdateStrategy};
use k8s_openapi::api::core::v1 as core;
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};
use std::collections::BTreeMap;

pub(super) fn statefulset(ctx: &Ctx, r: &ResolvedRole, wave: u32, out: &mut Vec<Object>) -> Result<(), RenderError> {
    let cl = &ctx.c.name;
    let name = &r.fullname;
    let run_as = ctx.s.run_as.user;
    let pod = pod_template(ctx, r);
    let claims: Vec<core::PersistentVolumeClaim> = r
        .storage
        .iter()
        .map(|s| core::PersistentVolumeClaim {
            metadata: ObjectMeta { name: Some(s.name.clone()), labels: Some(ctx.selector(&r.name)), ..Default::default() },
            spec: Some(core::PersistentVolumeClaimSpec {
                access_modes: Some(vec!["ReadWriteOnce".into()]),
                storage_class_name: s.storage_class.clone(),
                resources: Some(core::VolumeResourceRequirements {
                    requests: Some(btree_q([("storage".into(), s.size.clone())])),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        })
        .collect();
    let mut meta = ctx.meta(name, Some(&r.name), wave);
    let ann = meta.annotations.get_or_insert_with(BTreeMap::new);
    if !claims.is_empty() {
        // data lives on the PVCs: never prune or delete the StatefulSet from a GitOps tool
        ann.insert("argocd.argoproj.io/sync-options".into(), "Prune=false,Delete=false".into());
        ann.insert("kustomize.toolkit.fluxcd.io/prune".into(), "disabled".into());
    }
    if !ctx.s.image_pinned {
        ann.insert(
            "checkov.io/skip1".into(),
            format!("CKV_K8S_43=image {} is pinned by tag from stack {}; set the service's image.digest in the Cluster to pin by digest", ctx.s.image, ctx.c.stack),
        );
    }
    if let (true, Some(why)) = (run_as < 10000, &ctx.s.run_as.reason) {
        ann.insert("checkov.io/skip2".into(), format!("CKV_K8S_40=runs as uid {run_as}: {why}"));
    }
    let sts = StatefulSet {
        metadata: meta,
        spec: Some(StatefulSetSpec {
            replicas: Some(r.replicas as i32),
            service_name: Some(name.clone()),
            pod_management_policy: Some(r.pod_management_policy.clone()),
            selector: LabelSelector { match_labels: Some(ctx.selector(&r.name)), match_expressions: None },
            update_strategy: Some(StatefulSetUpdateStrategy { type_: Some("RollingUpdate".into()), rolling_update: None }),
            persistent_volume_claim_retention_policy: Some(StatefulSetPersistentVolumeClaimRetentionPolicy {
                when_deleted: Some("Retain".into()),
                when_scaled: Some("Retain".into()),
            }),
            template: pod,
            volume_claim_templates: (!claims.is_empty()).then_some(claims),
            ..Default::default()
        }),
        ..Default::default()
    };
    let mut sts_obj = to_object(cl, wave, &sts)?;
    if let Some(o) = &r.pod_overrides {
        merge_overrides(&mut sts_obj.body["spec"]["template"], o);
    }
    out.push(sts_obj);

    Ok(())
}

fn btree_q<I: IntoIterator<Item = (String, String)>>(i: I) -> BTreeMap<String, Quantity> {
    i.into_iter().map(|(k, v)| (k, Quantity(v))).collect()
}
