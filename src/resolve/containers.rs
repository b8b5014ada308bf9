//! Containers and init containers of a role: command, args, env, ports, probes, resources.

use super::*;

impl Resolver<'_> {
    /// One container (`first`: the role's main container, which gets the role's ports).
    // Long because: command, args, env, ports and the three probes rendered in order, sharing one `ok` flag so a broken template drops the container once.
    pub(crate) fn container(&mut self, s: &service::Scope, path: &[String], cd: &ContainerDef, rc: &service::RoleContainers, first: bool) -> Option<Container> {
        let (stack, svc) = (s.stack, s.svc);
        let (ctx, env, rd, resources) = (rc.ctx, rc.env, rc.rd, rc.resources);
        if !self.when(stack, svc, path, "", cd.when.as_ref(), ctx) {
            return None;
        }
        let mut ok = true;
        let mut render_all = |this: &mut Self, items: &[String], what: &str| -> Vec<String> {
            items
                .iter()
                .filter_map(|t| match this.tpl.render(t, ctx) {
                    Ok(v) => Some(v),
                    Err(m) => {
                        let mut p = path.to_vec();
                        p.push(what.into());
                        this.stack_err(stack, svc, &p, m);
                        ok = false;
                        None
                    }
                })
                .collect()
        };
        let image = cd.image.as_ref().map(|t| render_all(self, std::slice::from_ref(t), "image").pop().unwrap_or_default());
        let command = render_all(self, &cd.command, "command");
        let args = render_all(self, &cd.args, "args");
        let mut cenv = env.clone();
        for (k, t) in &cd.env {
            match self.tpl.render(t, ctx) {
                Ok(v) => {
                    // container-specific values do not override the user's overrides
                    cenv.entry(k.clone()).or_insert(EnvValue::Value(v));
                }
                Err(m) => {
                    let mut p = path.to_vec();
                    p.extend(segs(&["env", k]));
                    self.stack_err(stack, svc, &p, m);
                }
            }
        }
        for (k, sd) in &cd.secret_env {
            match self.tpl.render(&sd.secret, ctx) {
                Ok(name) => {
                    cenv.insert(k.clone(), EnvValue::SecretKey { name, key: sd.key.clone(), optional: sd.optional });
                }
                Err(m) => {
                    let mut p = path.to_vec();
                    p.extend(segs(&["secretEnv", k]));
                    self.stack_err(stack, svc, &p, m);
                }
            }
        }
        let ports: Vec<PortDef> = match &cd.ports {
            Some(names) => rd.ports.iter().filter(|p| names.contains(&p.name)).cloned().collect(),
            None if first => rd.ports.clone(),
            None => vec![],
        };
        let mut probe = |this: &mut Self, p: &Option<ProbeDef>, what: &str| -> Option<Probe> {
            let p = p.as_ref()?;
            let port_of = |name: &str| rd.ports.iter().find(|x| x.name == name).map(|x| x.port);
            let mut pp = path.to_vec();
            pp.push(what.into());
            let tcp = match &p.tcp {
                Some(n) => match port_of(n) {
                    Some(x) => Some(x),
                    None => {
                        this.stack_err(stack, svc, &pp, format!("probe names unknown port `{n}`"));
                        None
                    }
                },
                None => None,
            };
            let http = match &p.http {
                Some(h) => match port_of(&h.port) {
                    Some(x) => Some((h.path.clone(), x)),
                    None => {
                        this.stack_err(stack, svc, &pp, format!("probe names unknown port `{}`", h.port));
                        None
                    }
                },
                None => None,
            };
            let exec = p.exec.as_ref().map(|e| render_all(this, e, what));
            Some(Probe {
                exec,
                tcp,
                http,
                initial_delay_seconds: p.initial_delay_seconds,
                period_seconds: p.period_seconds,
                timeout_seconds: p.timeout_seconds,
                failure_threshold: p.failure_threshold,
            })
        };
        let readiness = probe(self, &cd.readiness, "readiness");
        let liveness = probe(self, &cd.liveness, "liveness");
        let startup = probe(self, &cd.startup, "startup");
        let mut res = resources.clone();
        if let Some(cr) = &cd.resources {
            crate::merge::deep_merge(&mut res, cr);
        }
        if !ok {
            return None;
        }
        Some(Container { name: cd.name.clone(), command, args, env: cenv, ports, readiness, liveness, startup, resources: res, image })
    }
}
