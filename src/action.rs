//! `bdp action`: one management action of a service of a planned Cluster, its arguments checked
//! against their declarations, rendered as a Kubernetes Job (`render::job`).
//!
//! Errors are input errors (exit 1): an unknown service or action (with the available ones), an
//! unknown, missing or invalid argument (with the allowed values). Malformed `--arg` words are
//! usage errors, found by the CLI.

use crate::plan::Plan;
use crate::render::{self, JobKind, Object};
use crate::resolve::{ResolvedAction, ResolvedCluster, ResolvedRole, ResolvedService};
use std::collections::BTreeMap;
use std::fmt::Write;

/// What `bdp action` asks for.
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The Cluster (by name) when the inputs hold several with the service.
    pub cluster: Option<String>,
    pub service: String,
    pub action: String,
    /// `--arg NAME=VALUE`, in order (a name given twice is an error).
    pub args: Vec<(String, String)>,
}

/// The cluster, service, role and action a request names.
type Target<'a> = (&'a ResolvedCluster, &'a ResolvedService, &'a ResolvedRole, &'a ResolvedAction);

fn find<'a>(plan: &'a Plan, req: &Request) -> Result<Target<'a>, String> {
    let with_service: Vec<&ResolvedCluster> = plan
        .clusters
        .iter()
        .filter(|c| req.cluster.as_ref().is_none_or(|n| *n == c.name) && c.services.iter().any(|s| s.name == req.service))
        .collect();
    let c = match with_service.as_slice() {
        [c] => *c,
        [] => {
            let names: Vec<String> = plan
                .clusters
                .iter()
                .filter(|c| req.cluster.as_ref().is_none_or(|n| *n == c.name))
                .flat_map(|c| c.services.iter().map(move |s| format!("{} (Cluster {})", s.name, c.name)))
                .collect();
            return Err(format!("no service `{}` in the Cluster{}; services: {}", req.service, req.cluster.as_ref().map(|c| format!(" `{c}`")).unwrap_or_default(), names.join(", ")));
        }
        several => {
            let names: Vec<&str> = several.iter().map(|c| c.name.as_str()).collect();
            return Err(format!("several Clusters have a service `{}`: {}; choose one with --cluster NAME", req.service, names.join(", ")));
        }
    };
    let Some(s) = c.services.iter().find(|s| s.name == req.service) else {
        return Err(format!("no service `{}`", req.service));
    };
    let found = s.roles.iter().find_map(|r| r.actions.iter().find(|a| a.name == req.action).map(|a| (r, a)));
    match found {
        Some((r, a)) => Ok((c, s, r, a)),
        None => Err(format!("service `{}` of Cluster `{}` has no action `{}`; its actions:\n{}", s.name, c.name, req.action, list(s))),
    }
}

/// The actions of a resolved service, one per line with their arguments.
pub fn list(s: &ResolvedService) -> String {
    let mut out = String::new();
    let mut all: Vec<&ResolvedAction> = s.roles.iter().flat_map(|r| r.actions.iter()).collect();
    all.sort_by(|a, b| a.name.cmp(&b.name));
    if all.is_empty() {
        out.push_str("  (none in this configuration)\n");
    }
    for a in all {
        let args: Vec<String> = a
            .arguments
            .iter()
            .map(|(n, d)| match &d.default {
                Some(v) => format!("[--arg {n}=…, default {v}]"),
                None => format!("--arg {n}=…"),
            })
            .collect();
        let _ = writeln!(out, "  {} {}  {}", a.name, args.join(" "), crate::explain::summary(&a.description));
    }
    out
}

/// Checks the arguments of a request against the action's declarations; the values to render
/// with (defaults filled in), or every problem, one per line.
pub fn check_args(a: &ResolvedAction, given: &[(String, String)]) -> Result<BTreeMap<String, String>, String> {
    let mut errs = Vec::new();
    let mut values = BTreeMap::new();
    for (k, v) in given {
        let Some(def) = a.arguments.get(k) else {
            let known: Vec<&str> = a.arguments.keys().map(String::as_str).collect();
            errs.push(if known.is_empty() {
                format!("action `{}` takes no arguments, not `{k}`", a.name)
            } else {
                format!("action `{}` has no argument `{k}`; its arguments: {}", a.name, known.join(", "))
            });
            continue;
        };
        if values.insert(k.clone(), v.clone()).is_some() {
            errs.push(format!("argument `{k}` is given twice"));
            continue;
        }
        if let Err(m) = def.check(v) {
            errs.push(format!("argument `{k}` of action `{}`: {m}\n  expected: {}{}", a.name, def.allowed(), hint(&def.description)));
        }
    }
    for (k, def) in &a.arguments {
        if values.contains_key(k) {
            continue;
        }
        match &def.default {
            Some(d) => {
                values.insert(k.clone(), d.clone());
            }
            None => errs.push(format!("action `{}` needs `--arg {k}=VALUE`: {}{}", a.name, def.allowed(), hint(&def.description))),
        }
    }
    if errs.is_empty() { Ok(values) } else { Err(errs.join("\n")) }
}

fn hint(d: &str) -> String {
    if d.is_empty() { String::new() } else { format!("\n  hint: {}", crate::explain::summary(d)) }
}

/// The Job of a request, or what is wrong with it (an input error).
pub fn render(plan: &Plan, req: &Request) -> Result<Object, String> {
    let (c, s, r, a) = find(plan, req)?;
    let args = check_args(a, &req.args)?;
    render::job(c, s, r, a, &args, JobKind::Action, 0).map_err(|e| format!("internal error: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ActionArgDef, ActionArgType};
    use crate::resolve::Container;

    fn action() -> ResolvedAction {
        let mut arguments = BTreeMap::new();
        arguments.insert("mode".into(), ActionArgDef { values: vec!["enter".into(), "leave".into(), "get".into()], ..Default::default() });
        arguments.insert("threshold".into(), ActionArgDef { ty: ActionArgType::Integer, min: Some(1), max: Some(100), default: Some("10".into()), ..Default::default() });
        ResolvedAction {
            name: "safemode".into(),
            description: String::new(),
            idempotent: true,
            init_containers: vec![],
            container: Container {
                name: "action".into(),
                command: vec![],
                args: vec![],
                env: BTreeMap::new(),
                ports: vec![],
                readiness: None,
                liveness: None,
                startup: None,
                resources: serde_json::Value::Null,
                image: None,
            },
            arguments,
            mount_storage: false,
            deadline_seconds: 600,
        }
    }

    #[test]
    fn arguments_are_checked_and_defaults_filled() {
        let a = action();
        let v = check_args(&a, &[("mode".into(), "enter".into())]).unwrap();
        assert_eq!(v["threshold"], "10");
        let e = check_args(&a, &[("mode".into(), "enter; rm -rf /".into())]).unwrap_err();
        assert!(e.contains("not one of the allowed values: enter, leave, get"), "{e}");
        let e = check_args(&a, &[("mode".into(), "get".into()), ("threshold".into(), "1000".into())]).unwrap_err();
        assert!(e.contains("above the largest allowed value 100") && e.contains("an integer from 1 to 100"), "{e}");
        let e = check_args(&a, &[]).unwrap_err();
        assert!(e.contains("needs `--arg mode=VALUE`: one of enter, leave, get"), "{e}");
        let e = check_args(&a, &[("mode".into(), "get".into()), ("path".into(), "/".into())]).unwrap_err();
        assert!(e.contains("no argument `path`; its arguments: mode, threshold"), "{e}");
        let e = check_args(&a, &[("mode".into(), "get".into()), ("mode".into(), "get".into())]).unwrap_err();
        assert!(e.contains("given twice"), "{e}");
    }
}
