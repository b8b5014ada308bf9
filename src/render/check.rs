//! Render's preflight, run by the driver right after resolve: every role's pod template with
//! `podOverrides` merged must be what the API server accepts. Render itself cannot fail, so what
//! it would write wrongly is reported here, at the user's field.

use super::merged_pod_template;
use crate::diag::{Diagnostic, Diagnostics, Code};
use crate::resolve::{scalar_string, segs, ResolvedCluster, ResolvedRole, ResolvedService};
use serde_json::{json, Value};

/// Checks every role of a resolved cluster (see [`check_pod`]).
pub fn check_cluster(c: &ResolvedCluster, diags: &mut Diagnostics) {
    for s in &c.services {
        for role in &s.roles {
            check_pod(c, s, role, diags);
        }
    }
}

/// Checks a role's pod template after `podOverrides` the way the API server will: it must
/// deserialise into k8s-openapi's `PodTemplateSpec`, and every container's resource requests
/// must be quantities no larger than its limits. Render runs after this and cannot fail, so
/// anything it would write wrongly is an error here, at the user's field.
// Long because: two checks (the Kubernetes types, then requests ≤ limits) that share the closures locating a field in the user's overrides.
pub fn check_pod(c: &ResolvedCluster, s: &ResolvedService, r: &ResolvedRole, diags: &mut Diagnostics) {
    let doc = &c.doc;
    let rp = &r.user_path;
    let svc_path = segs(&["spec", "services", &s.name]);
    let overrides: Vec<Vec<String>> = [rp.clone(), svc_path.clone()]
        .into_iter()
        .map(|mut p| {
            p.push("podOverrides".into());
            p
        })
        .filter(|p| doc.node_at(p).is_some())
        .collect();
    // the user's field at `sub` (a path inside the pod template), or the closest override
    let locate = |sub: &[String]| -> Vec<String> {
        for o in &overrides {
            let mut p = o.clone();
            p.extend(sub.iter().cloned());
            if doc.node_at(&p).is_some() {
                return p;
            }
        }
        overrides.first().cloned().unwrap_or_else(|| rp.clone())
    };
    let tpl = match merged_pod_template(c, s, r) {
        Ok(t) => t,
        Err(e) => {
            diags.push(Diagnostic::error(Code::Internal, Some(doc.span_at(rp)), rp.join("."), format!("internal error: {e}")));
            return;
        }
    };
    if !overrides.is_empty()
        && let Err(e) = serde_path_to_error::deserialize::<_, k8s_openapi::api::core::v1::PodTemplateSpec>(tpl.clone())
    {
        let sub = crate::validate::serde_segments(e.path());
        let p = locate(&sub);
        let inner = e.inner().to_string();
        let got = inner.strip_prefix("invalid type: ").unwrap_or(&inner);
        diags.push(
            Diagnostic::error(Code::InvalidPodOverrides, Some(doc.span_at(&p)), p.join("."), format!("podOverrides make the pod template invalid at `{}`: {got}", sub.join(".")))
                .expected("a Kubernetes v1 PodTemplateSpec (`kubectl explain pod.spec` describes its fields)")
                .hint("podOverrides are merged over the generated pod template: objects key by key, lists of named items (containers, env, volumes) item by item"),
        );
        return;
    }
    for list in ["initContainers", "containers"] {
        let Some(items) = tpl["spec"][list].as_array() else { continue };
        for (i, ct) in items.iter().enumerate() {
            let name = ct["name"].as_str().unwrap_or_default();
            let res = &ct["resources"];
            // the container's place in the user's override lists (matched by name, as merged)
            let user_sub = |which: &str, key: &str| -> Vec<String> {
                let idx = overrides
                    .iter()
                    .find_map(|o| {
                        let mut lp = o.clone();
                        lp.extend(segs(&["spec", list]));
                        match doc.node_at(&lp).map(|n| n.to_json()) {
                            Some(Value::Array(a)) => a.iter().position(|x| x["name"] == json!(name)),
                            _ => None,
                        }
                    })
                    .unwrap_or(i);
                segs(&["spec", list, &idx.to_string(), "resources", which, key])
            };
            let user_field = |which: &str, key: &str| -> Vec<String> {
                let sub = user_sub(which, key);
                let in_override = locate(&sub);
                if in_override.ends_with(&[which.to_string(), key.to_string()]) {
                    return in_override;
                }
                let mut p = rp.clone();
                p.extend(segs(&["resources", which, key]));
                if doc.node_at(&p).is_some() { p } else { in_override }
            };
            for which in ["requests", "limits"] {
                for (k, v) in res[which].as_object().into_iter().flatten() {
                    if crate::quantity::of_json(v).is_none() {
                        let p = user_field(which, k);
                        diags.push(
                            Diagnostic::error(Code::InvalidQuantity, Some(doc.span_at(&p)), p.join("."), format!("container `{name}`: {which}.{k} `{}` is not a Kubernetes quantity", scalar_string(v)))
                                .expected("a number with an optional suffix: 500m, 2, 1.5Gi, 512Mi, 1G, 2e3"),
                        );
                    }
                }
            }
            for (k, req) in res["requests"].as_object().into_iter().flatten() {
                let (Some(rq), Some(lm)) = (crate::quantity::of_json(req), res["limits"].get(k).and_then(crate::quantity::of_json)) else { continue };
                if rq > lm {
                    let p = user_field("requests", k);
                    let lim = scalar_string(&res["limits"][k]);
                    diags.push(
                        Diagnostic::error(Code::RequestAboveLimit, Some(doc.span_at(&p)), p.join("."), format!("container `{name}` of {} {} requests {k} {} but is limited to {lim}", s.name, r.name, scalar_string(req)))
                            .expected(format!("a request of at most the limit ({lim})"))
                            .hint(format!("the API server refuses a request above its limit; lower requests.{k} or raise limits.{k}")),
                    );
                }
            }
        }
    }
}

