//! A service's `actions` and `smokeTest`, resolved in the context of the role they name: the
//! container (the role's env and resources, the action's command), the role's init containers
//! the action asks for (with its env overrides), the arguments' declarations.

use super::*;

/// What the stack declares wrongly about an action, independent of a Cluster.
fn declaration_errors(def: &ServiceDef, name: &str, ad: &ActionDef, smoke: bool) -> Vec<(Vec<String>, String)> {
    let base = if smoke { segs(&["smokeTest"]) } else { segs(&["actions", name]) };
    let at = |rest: &[&str]| [base.clone(), segs(rest)].concat();
    let mut errs = Vec::new();
    let Some(rd) = def.roles.get(&ad.role) else {
        let known: Vec<&str> = def.roles.keys().map(String::as_str).collect();
        errs.push((at(&["role"]), format!("names unknown role `{}` (roles: {})", ad.role, known.join(", "))));
        return errs;
    };
    if ad.command.is_empty() {
        errs.push((at(&["command"]), "an action needs a command".into()));
    }
    if smoke && !ad.arguments.is_empty() {
        errs.push((at(&["arguments"]), "a smoke test takes no arguments (it runs unattended after every sync)".into()));
    }
    for i in &ad.init_containers {
        if !rd.init_containers.iter().any(|c| c.name == i.from) {
            let known: Vec<&str> = rd.init_containers.iter().map(|c| c.name.as_str()).collect();
            errs.push((at(&["initContainers"]), format!("role `{}` has no init container `{}` (it has: {})", ad.role, i.from, known.join(", "))));
        }
    }
    for (an, a) in &ad.arguments {
        if let Some(d) = &a.default
            && let Err(m) = a.check(d)
        {
            errs.push((at(&["arguments", an, "default"]), format!("the default does not fit the argument: {m}")));
        }
        if a.ty != ActionArgType::Integer && (a.min.is_some() || a.max.is_some()) {
            errs.push((at(&["arguments", an]), "`min` and `max` need `type: integer`".into()));
        }
        for v in &a.values {
            let bare = ActionArgDef { values: vec![], ..a.clone() };
            if let Err(m) = bare.check(v) {
                errs.push((at(&["arguments", an, "values"]), format!("an allowed value does not fit the type: {m}")));
            }
        }
    }
    errs
}

/// `BDP_ARG_<NAME>`: the environment variable that carries an argument's value.
pub fn arg_env(name: &str) -> String {
    format!("BDP_ARG_{}", name.to_ascii_uppercase().replace('-', "_"))
}

impl Resolver<'_> {
    /// Stack errors of every action and the smoke test of a service (once per service).
    pub(crate) fn check_actions(&mut self, stack: &Stack, svc: &str, def: &ServiceDef) {
        let all = def.actions.iter().map(|(n, a)| (n.as_str(), a, false)).chain(def.smoke_test.iter().map(|a| ("smoke-test", a, true)));
        for (name, ad, smoke) in all {
            for (path, msg) in declaration_errors(def, name, ad, smoke) {
                self.stack_err(stack, svc, &path, msg);
            }
        }
    }

    /// The actions (and the smoke test) of the service that run with role `r`, in its context.
    pub(crate) fn role_actions(&mut self, s: &service::Scope, r: &str, rc: &service::RoleContainers) -> (Vec<ResolvedAction>, Option<ResolvedAction>) {
        let def = &s.sk.def;
        let mut actions = Vec::new();
        for (name, ad) in def.actions.iter().filter(|(_, a)| a.role == r) {
            if let Some(a) = self.action(s, name, ad, rc, &segs(&["actions", name])) {
                actions.push(a);
            }
        }
        let smoke = def.smoke_test.as_ref().filter(|a| a.role == r).and_then(|ad| self.action(s, "smoke-test", ad, rc, &segs(&["smokeTest"])));
        (actions, smoke)
    }

    fn action(&mut self, s: &service::Scope, name: &str, ad: &ActionDef, rc: &service::RoleContainers, path: &[String]) -> Option<ResolvedAction> {
        let (stack, svc) = (s.stack, s.svc);
        if !declaration_errors(&s.sk.def, name, ad, path[0] == "smokeTest").is_empty() {
            return None; // reported once by check_actions
        }
        let mut wp = path.to_vec();
        wp.push("when".into());
        if !self.when(stack, svc, &wp, "", ad.when.as_ref(), rc.ctx) {
            return None;
        }
        let cd = ContainerDef {
            name: "action".into(),
            image: ad.image.clone(),
            command: ad.command.clone(),
            args: ad.args.clone(),
            env: ad.env.clone(),
            resources: ad.resources.clone(),
            ..Default::default()
        };
        let mut container = self.container(s, path, &cd, rc, false)?;
        for an in ad.arguments.keys() {
            // a placeholder until `bdp action` knows the value (render::job sets it)
            container.env.insert(arg_env(an), EnvValue::Value(String::new()));
        }
        let mut inits = Vec::new();
        for (i, idef) in ad.init_containers.iter().enumerate() {
            let Some(base) = rc.rd.init_containers.iter().find(|c| c.name == idef.from) else { continue };
            let mut cd = base.clone();
            cd.env.extend(idef.env.clone());
            let ip = [path.to_vec(), segs(&["initContainers", &i.to_string()])].concat();
            if let Some(c) = self.container(s, &ip, &cd, rc, false) {
                inits.push(c);
            }
        }
        Some(ResolvedAction {
            name: name.to_string(),
            description: ad.description.clone(),
            idempotent: ad.idempotent,
            init_containers: inits,
            container,
            arguments: ad.arguments.clone(),
            mount_storage: ad.mount_storage,
            deadline_seconds: ad.deadline_seconds.unwrap_or(600),
        })
    }
}
