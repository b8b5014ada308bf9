//! A service's `actions` and `smokeTest`, resolved in the context of the role they name: the
//! container (the role's env and resources, the action's command), the role's init containers
//! the action asks for (with its env overrides), the arguments' declarations.

use super::*;

/// What the stack declares wrongly about an action, independent of a Cluster.
fn declaration_errors(def: &ServiceDef, name: &str, ad: &ActionDef, smoke: bool) -> Vec<(Vec<String>, String)> {
    let base = if smoke { segs(&["smokeTest"]) } else { segs(&["actions", name]) };
    declaration_errors_at(def, &base, ad, smoke)
}

fn declaration_errors_at(def: &ServiceDef, base: &[String], ad: &ActionDef, smoke: bool) -> Vec<(Vec<String>, String)> {
    let base = base.to_vec();
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
        if path[0] != "hooks" && !declaration_errors(&s.sk.def, name, ad, path[0] == "smokeTest").is_empty() {
            return None; // reported once by check_actions
        }
        let mut wp = path.to_vec();
        wp.push("when".into());
        if !self.when(stack, svc, &wp, "", ad.when.as_ref(), rc.ctx) {
            return None;
        }
        let cd = ContainerDef {
            name: crate::names::ACTION_CONTAINER.into(),
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

/// The action a hook's Job is made from (the hook's fields that an action has).
fn hook_action(hd: &HookDef) -> ActionDef {
    ActionDef {
        description: hd.description.clone(),
        role: hd.role.clone(),
        idempotent: hd.idempotent,
        when: None,
        image: hd.image.clone(),
        command: hd.command.clone(),
        env: hd.env.clone(),
        resources: hd.resources.clone(),
        init_containers: hd.init_containers.clone(),
        deadline_seconds: hd.timeout_seconds,
        ..Default::default()
    }
}

/// What the stack declares wrongly about a hook, independent of a Cluster.
fn hook_errors(def: &ServiceDef, name: &str, hd: &HookDef) -> Vec<(Vec<String>, String)> {
    let base = segs(&["hooks", name]);
    let at = |rest: &[&str]| [base.clone(), segs(rest)].concat();
    let mut errs = declaration_errors_at(def, &base, &hook_action(hd), true);
    let role_known = |r: &str, path: Vec<String>, errs: &mut Vec<(Vec<String>, String)>| {
        if !def.roles.contains_key(r) {
            let known: Vec<&str> = def.roles.keys().map(String::as_str).collect();
            errs.push((path, format!("names unknown role `{r}` (roles: {})", known.join(", "))));
        }
    };
    let Some(trigger) = hd.trigger.get() else {
        errs.push((at(&["trigger"]), "give exactly one of rolesReady, fileChanged, podRecreated, replicasChanged".into()));
        return errs;
    };
    match &trigger {
        HookTrigger::RolesReady(rs) if rs.is_empty() => errs.push((at(&["trigger", "rolesReady"]), "name at least one role".into())),
        HookTrigger::RolesReady(rs) => {
            for (i, r) in rs.iter().enumerate() {
                role_known(r, at(&["trigger", "rolesReady", &i.to_string()]), &mut errs);
            }
        }
        HookTrigger::FileChanged(f) => {
            if !def.files.contains_key(f) {
                let known: Vec<&str> = def.files.keys().map(String::as_str).collect();
                errs.push((at(&["trigger", "fileChanged"]), format!("names unknown file `{f}` (files: {})", known.join(", "))));
            }
        }
        HookTrigger::PodRecreated(r) | HookTrigger::ReplicasChanged(r) => role_known(r, at(&["trigger", trigger.kind()]), &mut errs),
    }
    if !hd.idempotent && !matches!(trigger, HookTrigger::RolesReady(_)) {
        errs.push((at(&["idempotent"]), format!("a `{}` hook may run many times: it must be idempotent (`idempotent: true`, and make the command safe to repeat)", trigger.kind())));
    }
    if !hd.idempotent && hd.retries.unwrap_or(0) > 0 {
        errs.push((at(&["retries"]), "a hook that is retried must be idempotent (`idempotent: true`)".into()));
    }
    if let Some(e) = &hd.exec {
        if hd.image.is_some() || !hd.env.is_empty() || hd.resources.is_some() || !hd.init_containers.is_empty() {
            errs.push((at(&["exec"]), "an `exec` hook runs in a running container: `image`, `env`, `resources` and `initContainers` are for a Job".into()));
        }
        if let Some(rd) = def.roles.get(&hd.role)
            && !rd.containers.iter().any(|c| c.name == e.container)
        {
            let known: Vec<&str> = rd.containers.iter().map(|c| c.name.as_str()).collect();
            errs.push((at(&["exec", "container"]), format!("role `{}` has no container `{}` (it has: {})", hd.role, e.container, known.join(", "))));
        }
    }
    errs
}

impl Resolver<'_> {
    /// Stack errors of every hook of a service (once per service).
    pub(crate) fn check_hooks(&mut self, stack: &Stack, svc: &str, def: &ServiceDef) {
        for (name, hd) in &def.hooks {
            for (path, msg) in hook_errors(def, name, hd) {
                self.stack_err(stack, svc, &path, msg);
            }
        }
    }

    /// The hooks of the service that run with role `r` (enabled, their triggers' roles present).
    pub(crate) fn role_hooks(&mut self, s: &service::Scope, r: &str, rc: &service::RoleContainers) -> Vec<ResolvedHook> {
        let def = &s.sk.def;
        let present = |x: &String| s.sk.roles.iter().any(|(p, _)| p == x);
        let mut out = Vec::new();
        for (name, hd) in def.hooks.iter().filter(|(_, h)| h.role == r) {
            if !hook_errors(def, name, hd).is_empty() {
                continue; // reported once by check_hooks
            }
            let path = segs(&["hooks", name]);
            if !self.when(s.stack, s.svc, &[path.clone(), segs(&["when"])].concat(), "", hd.when.as_ref(), rc.ctx) {
                continue;
            }
            let Some(trigger) = hd.trigger.get() else { continue };
            let trigger = match &trigger {
                HookTrigger::RolesReady(rs) => {
                    let rs: Vec<String> = rs.iter().filter(|x| present(x)).cloned().collect();
                    if rs.is_empty() {
                        continue;
                    }
                    HookTrigger::RolesReady(rs)
                }
                HookTrigger::PodRecreated(x) | HookTrigger::ReplicasChanged(x) if !present(x) => continue,
                t => t.clone(),
            };
            let (job, exec) = match &hd.exec {
                None => match self.action(s, name, &hook_action(hd), rc, &path) {
                    Some(a) => (Some(a), None),
                    None => continue,
                },
                Some(e) => {
                    let cd = ContainerDef { name: e.container.clone(), command: hd.command.clone(), ..Default::default() };
                    match self.container(s, &path, &cd, rc, false) {
                        Some(c) => (None, Some(HookExec { container: e.container.clone(), command: c.command })),
                        None => continue,
                    }
                }
            };
            out.push(ResolvedHook {
                name: name.clone(),
                description: hd.description.clone(),
                trigger,
                idempotent: hd.idempotent,
                timeout_seconds: hd.timeout_seconds.unwrap_or(600),
                retries: hd.retries.unwrap_or(0),
                delay_seconds: hd.delay_seconds.unwrap_or(0),
                job,
                exec,
            });
        }
        out
    }
}
