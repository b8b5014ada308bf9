//! The stack's day-2 rules applied to a change: replica changes against the roles' `scale`
//! policies, version changes against the services' `versions` rules. Each version change is
//! classified (upgrade, downgrade, rollback) with its steps; what a rule forbids is a
//! [`Refusal`], which makes `bdp diff --check` exit 1.

use super::*;
use crate::model::{QuorumKind, ScaleRule, VersionPolicy, VersionStep};

/// At most this many pods are named in a drain refusal (the rest are counted).
const MAX_NAMED: usize = 20;

/// Applies the rules of both sides' plans (rendered output has none: nothing to check).
pub(crate) fn apply(old: &Side, new: &Side, r: &mut Report) {
    let (Some(po), Some(pn)) = (&old.plan, &new.plan) else { return };
    for (key, fo) in &po.roles {
        let Some(fn_) = pn.roles.get(key) else { continue };
        let (so, sn) = (po.services.get(&fo.service_id), pn.services.get(&fn_.service_id));
        scale(&key.1, fo, fn_, so, sn, &mut r.refused);
    }
    for (id, so) in &po.services {
        let Some(sn) = pn.services.get(id) else { continue };
        if let Some(v) = version_change(id, so, sn) {
            if !v.allowed {
                r.refused.push(Refusal { what: id.clone(), reason: format!("{} {} → {}: {}", v.kind, v.old, v.new, v.reason), steps: v.steps.clone() });
            }
            r.versions.push(v);
        }
    }
}

fn majority(n: i64) -> i64 {
    n / 2 + 1
}

/// The role's replica change against its `scale` policy.
fn scale(sts: &str, fo: &RoleFacts, fn_: &RoleFacts, so: Option<&ServiceFacts>, sn: Option<&ServiceFacts>, out: &mut Vec<Refusal>) {
    let (ro, rn) = (i64::from(fo.replicas), i64::from(fn_.replicas));
    let Some(policy) = fn_.scale.as_ref().or(fo.scale.as_ref()) else { return };
    if let Some(d) = policy.dynamic.as_ref().filter(|d| policy.quorum == Some(QuorumKind::Majority) && !d.leave_procedure.trim().is_empty()) {
        let (vo, vn) = (str_setting(so, &d.setting), str_setting(sn, &d.setting));
        if vo == Some(d.value.as_str()) && vn != Some(d.value.as_str()) {
            out.push(Refusal {
                what: fn_.id.clone(),
                reason: format!("setting `{}` {} → {}: the stack does not let role {} leave dynamic membership in place", d.setting, d.value, vn.unwrap_or("(default)"), fn_.role),
                steps: d.leave_procedure.trim().to_string(),
            });
            return;
        }
    }
    if ro == rn {
        return;
    }
    let what = fn_.id.clone();
    let change = format!("replicas {ro} → {rn}");
    let rule: Option<&ScaleRule> = if rn > ro { policy.up.as_ref() } else { policy.down.as_ref() };
    let steps = |rule: Option<&ScaleRule>| {
        let text = rule.map(|r| r.procedure.trim()).filter(|t| !t.is_empty()).or(policy.procedure.as_deref().map(str::trim)).unwrap_or("");
        if text.is_empty() { format!("see `bdp explain {}/{}/{}`", fn_.stack, fn_.service, fn_.role) } else { text.to_string() }
    };
    if let Some(rule) = rule {
        if rule.refused {
            let dir = if rn > ro { "more" } else { "fewer" };
            out.push(Refusal { what: what.clone(), reason: format!("{change}: the stack does not let role {} have {dir} pods in one commit", fn_.role), steps: steps(Some(rule)) });
            return;
        }
        if let (Some(d), true) = (&rule.drain, rn < ro) {
            let (requested, done) = (list_setting(so, &d.requested), list_setting(sn, &d.done));
            let (mut not_requested, mut not_done) = (Vec::new(), Vec::new());
            for i in rn..ro {
                let pod = format!("{sts}-{i}");
                if !names_pod(&requested, &pod) {
                    not_requested.push(pod.clone());
                }
                if !names_pod(&done, &pod) {
                    not_done.push(pod);
                }
            }
            let mut why = Vec::new();
            if !not_requested.is_empty() {
                why.push(format!("{} not in `{}` before this change", named(&not_requested), d.requested));
            }
            if !not_done.is_empty() {
                why.push(format!("{} not recorded in `{}` by this change", named(&not_done), d.done));
            }
            if !why.is_empty() {
                out.push(Refusal { what: what.clone(), reason: format!("{change}: the pods that go must be drained first: {}", why.join("; ")), steps: steps(Some(rule)) });
            }
        }
    }
    if policy.quorum == Some(QuorumKind::Majority) {
        if let Some(d) = &policy.dynamic {
            let is_dynamic = |s| str_setting(s, &d.setting) == Some(d.value.as_str());
            let (dyn_old, dyn_new) = (is_dynamic(so), is_dynamic(sn));
            let dyn_steps = || if d.procedure.trim().is_empty() { steps(None) } else { d.procedure.trim().to_string() };
            if dyn_old != dyn_new {
                out.push(Refusal {
                    what,
                    reason: format!("{change}: setting `{}` changes in the same commit; switch the membership first, in a commit of its own, then resize", d.setting),
                    steps: dyn_steps(),
                });
                return;
            }
            if dyn_new {
                // growth: the new members vote only once added, in sync; shrink: the members
                // that go stop before the reconfiguration removes them
                if rn < ro && rn < majority(ro) {
                    out.push(Refusal {
                        what,
                        reason: format!(
                            "{change}: the {} members that go stop before the reconfiguration removes them, and the {rn} that stay are fewer than a majority ({}) of the {ro} members: the quorum is lost until then",
                            ro - rn,
                            majority(ro)
                        ),
                        steps: dyn_steps(),
                    });
                }
                return;
            }
        }
        let reason = if rn > ro && rn - ro >= majority(rn) {
            Some(format!("{change}: the {} new members are a majority of {rn}: they could elect a leader among themselves, with none of the data, before the old members join", rn - ro))
        } else if rn > ro && majority(ro) + majority(rn) <= rn {
            // the new members start at once; the old ones move to the new membership one at a
            // time. Once majority(new) − added of them have, those and the new members are a
            // majority of the new membership while the old members not yet restarted are still
            // a majority of the old one: two leaders, and the writes of one side are truncated
            // when it joins the other (seen on podrun: tests/e2e/podrun/zookeeper_scale.sh)
            Some(format!(
                "{change}: once {} old member(s) restart onto the new membership, they and the {} new ones are a majority of {rn} while the {} old members not yet restarted are a majority of {ro}: two leaders at once (split brain), and the writes one side accepted are truncated when it joins the other",
                majority(rn) - (rn - ro),
                rn - ro,
                ro - (majority(rn) - (rn - ro)),
            ))
        } else if rn < ro && rn - 1 < majority(ro) {
            Some(format!(
                "{change}: while each of the {rn} remaining members restarts onto the new membership, {} of the old {ro} are up, fewer than its majority of {}: the quorum is lost during the roll",
                (rn - 1).max(0),
                majority(ro)
            ))
        } else {
            None
        };
        if let Some(reason) = reason {
            out.push(Refusal { what, reason, steps: steps(None) });
        }
    }
}

/// A setting of a service as a string (absent or not a string: none).
fn str_setting<'a>(s: Option<&'a ServiceFacts>, name: &str) -> Option<&'a str> {
    s.and_then(|s| s.settings.get(name)).and_then(Value::as_str)
}

/// A setting of a service as a list of strings (absent or not a list: empty).
fn list_setting(s: Option<&ServiceFacts>, name: &str) -> Vec<String> {
    s.and_then(|s| s.settings.get(name)).and_then(Value::as_array).into_iter().flatten().filter_map(|v| v.as_str().map(String::from)).collect()
}

/// Does the list name the pod, by name or by an FQDN that starts with it?
fn names_pod(list: &[String], pod: &str) -> bool {
    list.iter().any(|e| e == pod || e.strip_prefix(pod).is_some_and(|rest| rest.starts_with('.')))
}

fn named(pods: &[String]) -> String {
    if pods.len() > MAX_NAMED {
        format!("{}, … ({} pods)", pods[..3].join(", "), pods.len())
    } else {
        pods.join(", ")
    }
}

/// The version of a service: its image tag's leading numbers when the tag has them (a
/// Cluster may pin another tag), else the stack's `version`.
fn version_of(s: &ServiceFacts) -> (String, Vec<u64>) {
    if let (_, Some(tag)) = split_image(&s.image) {
        let k = version_key(tag);
        if !k.is_empty() {
            return (tag.to_string(), k);
        }
    }
    (s.version.clone(), version_key(&s.version))
}

fn series(k: &[u64]) -> String {
    k.iter().take(2).map(u64::to_string).collect::<Vec<_>>().join(".")
}

/// Does the version start with the series `prefix` (`3.3` matches 3.3.6)?
fn in_series(k: &[u64], prefix: &str) -> bool {
    let p = version_key(prefix);
    !p.is_empty() && k.starts_with(&p)
}

/// A version change of a service, classified by the rules of both sides (the new stack knows
/// the upgrades to it, the old one the rollbacks from it).
fn version_change(id: &str, so: &ServiceFacts, sn: &ServiceFacts) -> Option<VersionChange> {
    let ((old, ko), (new, kn)) = (version_of(so), version_of(sn));
    if ko.is_empty() || kn.is_empty() || ko == kn {
        return None;
    }
    let policies: Vec<&VersionPolicy> = [sn.versions.as_ref(), so.versions.as_ref()].into_iter().flatten().collect();
    if policies.is_empty() {
        return None;
    }
    let find = |steps: &dyn Fn(&VersionPolicy) -> &Vec<VersionStep>| policies.iter().flat_map(|p| steps(p).iter()).find(|s| in_series(&ko, &s.from) && in_series(&kn, &s.to)).cloned();
    let up = kn > ko;
    let mut v = VersionChange { service: id.to_string(), old: old.clone(), new: new.clone(), kind: if up { "upgrade" } else { "downgrade" }.into(), allowed: true, reason: String::new(), steps: String::new() };
    let (so_series, sn_series) = (series(&ko), series(&kn));
    if so_series == sn_series {
        let patch = policies.iter().find_map(|p| p.patch.as_ref());
        v.reason = format!("within series {so_series}");
        v.steps = patch.map(|p| p.steps.trim().to_string()).unwrap_or_default();
        if !up && !patch.is_none_or(|p| p.downgrade) {
            v.allowed = false;
            v.reason = format!("the stack allows no downgrade within series {so_series}");
            v.steps = format!("stay on {old}, or restore the data of {new} from a backup");
        }
    } else if up {
        match find(&|p| &p.upgrades) {
            Some(s) => {
                v.reason = format!("series {} → {}", s.from, s.to);
                v.steps = s.steps.trim().to_string();
            }
            None => {
                let next: Vec<String> = policies.iter().flat_map(|p| p.upgrades.iter()).filter(|s| in_series(&ko, &s.from)).map(|s| s.to.clone()).collect::<BTreeSet<_>>().into_iter().collect();
                v.allowed = false;
                v.reason = format!("the stack has no upgrade from series {so_series} to {sn_series}");
                v.steps = if next.is_empty() {
                    format!("the stack names no upgrade from series {so_series}; stay on {old}")
                } else {
                    format!("upgrade one step at a time: from {so_series} to {} first (its own pull request, with its steps), then on from there", next.join(" or "))
                };
            }
        }
    } else {
        match find(&|p| &p.rollbacks) {
            Some(s) => {
                v.kind = "rollback".into();
                v.reason = format!("series {} → {}", s.from, s.to);
                v.steps = s.steps.trim().to_string();
            }
            None => {
                v.allowed = false;
                v.reason = format!("a downgrade across series ({so_series} → {sn_series}) that the stack does not allow");
                v.steps = format!("stay on {old}; data written by {so_series} may not be readable by {sn_series}");
            }
        }
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DrainRule, DynamicMembership, PatchRule, ScalePolicy};

    fn role(replicas: u32, scale: Option<ScalePolicy>) -> RoleFacts {
        RoleFacts { id: "ns/c/s/r".into(), odd: false, stack: "st".into(), service: "s".into(), role: "r".into(), scale_down: None, service_id: "ns/c/s".into(), replicas, scale }
    }

    fn svc(image: &str, settings: serde_json::Value, versions: Option<VersionPolicy>) -> ServiceFacts {
        let settings = settings.as_object().cloned().unwrap_or_default().into_iter().collect();
        ServiceFacts { stack: "st".into(), version: "0".into(), image: image.into(), settings, versions }
    }

    fn refusals(ro: u32, rn: u32, p: &ScalePolicy, so: &ServiceFacts, sn: &ServiceFacts) -> Vec<Refusal> {
        let mut out = vec![];
        scale("c-s-r", &role(ro, Some(p.clone())), &role(rn, Some(p.clone())), Some(so), Some(sn), &mut out);
        out
    }

    #[test]
    fn majority_quorum_rule() {
        let p = ScalePolicy { quorum: Some(QuorumKind::Majority), procedure: Some("the steps".into()), ..Default::default() };
        let s = svc("x:1", serde_json::json!({}), None);
        let refused = |a, b| !refusals(a, b, &p, &s, &s).is_empty();
        // growth: the new members must not be a majority of the new size, and the majorities of
        // the old and the new membership must overlap within the new size (no split brain)
        assert!(refused(1, 3) && refused(3, 7));
        assert!(refused(3, 5) && refused(5, 7) && refused(5, 9) && refused(7, 9));
        assert!(!refused(1, 2) && !refused(2, 3) && !refused(3, 4) && !refused(4, 5));
        let r = refusals(3, 5, &p, &s, &s);
        assert!(r[0].reason.contains("once 1 old member(s) restart") && r[0].reason.contains("the 2 old members not yet restarted are a majority of 3"), "{}", r[0].reason);
        // shrink: the survivors up during the roll must be a majority of the old size
        assert!(!refused(7, 5) && !refused(9, 7));
        assert!(refused(5, 3) && refused(3, 1) && refused(7, 3));
        assert_eq!(refusals(5, 3, &p, &s, &s)[0].steps, "the steps");
    }

    #[test]
    fn dynamic_membership_rule() {
        let dynamic = DynamicMembership { setting: "membership".into(), value: "dynamic".into(), procedure: "reconfig steps".into(), leave_procedure: String::new() };
        let p = ScalePolicy { quorum: Some(QuorumKind::Majority), procedure: Some("static steps".into()), dynamic: Some(dynamic), ..Default::default() };
        let (st, dy) = (svc("x:1", serde_json::json!({"membership": "static"}), None), svc("x:1", serde_json::json!({"membership": "dynamic"}), None));
        let refused = |a, b| refusals(a, b, &p, &dy, &dy);
        // growth by reconfiguration: any size; shrink: the members that stay are a majority of the old
        for (a, b) in [(1, 3), (3, 5), (3, 7), (5, 7), (7, 5), (5, 3), (9, 5), (3, 2)] {
            assert!(refused(a, b).is_empty(), "{a} → {b}: {:?}", refused(a, b));
        }
        for (a, b) in [(7, 3), (3, 1), (5, 2)] {
            let r = refused(a, b);
            assert_eq!(r.len(), 1, "{a} → {b}");
            assert_eq!(r[0].steps, "reconfig steps");
        }
        assert!(refused(7, 3)[0].reason.contains("the 3 that stay are fewer than a majority (4) of the 7 members"), "{}", refused(7, 3)[0].reason);
        // the static side keeps the static rule; a switch with a resize is refused either way
        assert_eq!(refusals(3, 5, &p, &st, &st)[0].steps, "static steps");
        for (so, sn) in [(&st, &dy), (&dy, &st)] {
            let r = refusals(3, 5, &p, so, sn);
            assert!(r.len() == 1 && r[0].reason.contains("switch the membership first"), "{r:?}");
        }
        // a switch alone (same replicas) is no replica change: nothing to check
        assert!(refusals(3, 3, &p, &st, &dy).is_empty());
        assert!(refusals(3, 3, &p, &dy, &st).is_empty(), "no leaveProcedure: leaving is not checked");
        // with a leaveProcedure, leaving dynamic membership is refused, resize or not
        let mut leave = p.clone();
        leave.dynamic.as_mut().unwrap().leave_procedure = "a new static ensemble".into();
        for (a, b) in [(3, 3), (5, 3), (3, 5)] {
            let r = refusals(a, b, &leave, &dy, &st);
            assert!(r.len() == 1 && r[0].reason.contains("leave dynamic membership") && r[0].steps == "a new static ensemble", "{a} → {b}: {r:?}");
        }
        assert!(refusals(3, 3, &leave, &st, &dy).is_empty(), "entering is allowed");
    }

    #[test]
    fn drain_rule_needs_requested_before_and_done_after() {
        let p = ScalePolicy { down: Some(ScaleRule { drain: Some(DrainRule { requested: "out".into(), done: "gone".into() }), procedure: "drain first".into(), ..Default::default() }), ..Default::default() };
        let none = svc("x:1", serde_json::json!({}), None);
        let asked = svc("x:1", serde_json::json!({"out": ["c-s-r-3", "c-s-r-2.c-s-r.ns.svc.cluster.local"]}), None);
        let done = svc("x:1", serde_json::json!({"gone": ["c-s-r-2", "c-s-r-3"]}), None);
        assert!(refusals(4, 2, &p, &asked, &done).is_empty());
        let r = refusals(4, 2, &p, &none, &done);
        assert_eq!(r.len(), 1);
        assert!(r[0].reason.contains("c-s-r-2, c-s-r-3 not in `out` before this change"), "{}", r[0].reason);
        assert_eq!(r[0].steps, "drain first");
        let r = refusals(4, 2, &p, &asked, &none);
        assert!(r[0].reason.contains("not recorded in `gone`") && !r[0].reason.contains("not in `out`"), "{}", r[0].reason);
        // a prefix of another pod's name is not that pod (c-s-r-1 is not c-s-r-10)
        assert!(!names_pod(&["c-s-r-10".into()], "c-s-r-1"));
        // growth and no change need nothing
        assert!(refusals(2, 4, &p, &none, &none).is_empty() && refusals(4, 4, &p, &none, &none).is_empty());
    }

    #[test]
    fn refused_direction() {
        let p = ScalePolicy { up: Some(ScaleRule { refused: true, procedure: "by hand".into(), ..Default::default() }), ..Default::default() };
        let s = svc("x:1", serde_json::json!({}), None);
        assert_eq!(refusals(2, 3, &p, &s, &s)[0].steps, "by hand");
        assert!(refusals(3, 2, &p, &s, &s).is_empty());
    }

    #[test]
    fn version_classification() {
        let step = |from: &str, to: &str| VersionStep { from: from.into(), to: to.into(), steps: format!("{from} to {to}") };
        let pol = VersionPolicy { patch: Some(PatchRule { steps: "roll".into(), downgrade: false }), upgrades: vec![step("3.3", "3.4")], rollbacks: vec![step("3.4", "3.3")] };
        let v = |a: &str, b: &str| version_change("ns/c/s", &svc(&format!("img:{a}"), serde_json::json!({}), Some(pol.clone())), &svc(&format!("img:{b}"), serde_json::json!({}), None));
        let kind = |a, b| v(a, b).map(|v| (v.kind, v.allowed));
        assert_eq!(kind("3.3.6", "3.4.1"), Some(("upgrade".into(), true)));
        assert_eq!(v("3.3.6", "3.4.1").unwrap().steps, "3.3 to 3.4");
        assert_eq!(kind("3.4.1", "3.3.6"), Some(("rollback".into(), true)));
        assert_eq!(kind("3.3.6", "3.5.0"), Some(("upgrade".into(), false)));
        assert!(v("3.3.6", "3.5.0").unwrap().steps.contains("from 3.3 to 3.4 first"));
        assert_eq!(kind("3.5.0", "3.3.6"), Some(("downgrade".into(), false)));
        assert_eq!(kind("3.3.5", "3.3.6"), Some(("upgrade".into(), true)));
        assert_eq!(kind("3.3.6", "3.3.5"), Some(("downgrade".into(), false)), "patch.downgrade: false");
        assert_eq!(kind("3.3.6-jre-17", "3.3.6"), None, "the same version");
        // without rules on either side, nothing is classified here (the restart reasons say it)
        let plain = |a: &str, b: &str| version_change("x", &svc(a, serde_json::json!({}), None), &svc(b, serde_json::json!({}), None));
        assert!(plain("img:1.0", "img:2.0").is_none());
    }
}
