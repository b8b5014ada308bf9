//! Pass 2, per service: dependencies, then per role its files, env, containers, storage,
//! volumes and pod overrides; last the service's discovery files, manifests and checks.

use super::context::*;
use super::*;

impl Resolver<'_> {
    /// Pass 2 of one service: its dependencies, the template context, each enabled role
    /// ([`Resolver::role`]), then the service's discovery files, manifests and checks.
    pub(crate) fn service(&mut self, s: &Scope) -> Option<ResolvedService> {
        let (c, doc, stack, svc, spec, sk, all) = (s.c, s.doc, s.stack, s.svc, s.spec, s.sk, s.all);
        let (ns, base) = (&s.ns, &s.base);
        let def = &sk.def;
        let deps = self.dependencies(s);
        let failed = &deps.failed;
        // A required dependency that did not resolve has been reported; the service's templates
        // may read it unguarded (`deps.<name>.value`), so rendering them would only add follow-on
        // errors for one cause: the service is left out.
        if failed.iter().any(|d| def.dependencies.get(d).is_some_and(|dd| dd.required)) {
            return None;
        }

        // the service context every template of this service sees
        let mut ctx = sk.ctx.clone();
        ctx["deps"] = Value::Object(deps.ctx.clone());
        let present = all
            .iter()
            .filter(|((n, cl, _), _)| n == ns && cl == &c.metadata.name)
            .map(|((_, _, s), k)| (s.as_str(), PresentCtx { settings: &k.settings, roles: &k.ctx["roles"], discovery: &k.discovery, vars: &k.def.vars }))
            .collect::<BTreeMap<&str, PresentCtx>>();
        ctx["services"] = self.context_json(&present);

        let (image, image_pinned) = sk.image.clone();

        // user overrides: validate file names
        let mut op = base.clone();
        op.push("configOverrides".into());
        self.check_override_files(doc, &op, &spec.config_overrides, def, None);

        self.check_actions(stack, svc, def);
        self.check_hooks(stack, svc, def);
        self.check_read_by(stack, svc, def);
        let mut roles = Vec::new();
        let mut roles_files_ctx = Map::new();
        for (r, n) in &sk.roles {
            let (role, files_ctx) = self.role(s, &ctx, &deps, r, *n);
            roles_files_ctx.insert(r.clone(), Value::Object(files_ctx));
            roles.push(role);
        }
        for a in def.roles.values().flat_map(|rd| rd.after.iter()) {
            if !def.roles.contains_key(a) {
                self.stack_err(stack, svc, &segs(&["roles"]), format!("`after` names unknown role `{a}`"));
            }
        }
        let mut discovery = sk.discovery.clone();
        for (key, df) in &def.discovery_files {
            let Some(df_role) = &df.role else { continue }; // rendered in the skeleton
            match roles.iter().find(|x| &x.name == df_role).and_then(|x| x.files.iter().find(|f| f.name == df.file)) {
                Some(f) => {
                    discovery.insert(key.clone(), f.render());
                }
                None if sk.roles.iter().any(|(x, _)| x == df_role) || !def.roles.contains_key(df_role) => self.stack_err(
                    stack,
                    svc,
                    &segs(&["discoveryFiles", key]),
                    format!("role `{df_role}` has no file `{}`", df.file),
                ),
                None => {} // the role is not enabled in this configuration
            }
        }
        let smctx = crate::template::value(&ctx);
        let manifests = self.manifests(stack, svc, &segs(&["manifests"]), &def.manifests, &smctx);
        let mut check_ctx = ctx;
        check_ctx["config"] = Value::Object(roles_files_ctx);
        self.checks(doc, stack, svc, &def.checks, &crate::template::value(&check_ctx), failed);
        Some(ResolvedService {
            name: svc.to_string(),
            version: def.version.clone(),
            image,
            image_pinned,
            run_as: def.run_as.clone(),
            settings: sk.settings.clone(),
            deps: deps.list,
            discovery,
            roles,
            manifests,
            versions: def.versions.clone(),
        })
    }

    /// Where each dependency comes from (this cluster, another Cluster among the inputs, or a
    /// ConfigMap read at runtime), with its template context; one error per dependency that
    /// cannot be resolved (checks that read it are then skipped).
    // Long because: one match over the three sources of a dependency (this cluster, another Cluster, a ConfigMap), each arm reporting its own errors.
    fn dependencies(&mut self, s: &Scope) -> Deps {
        let (c, doc, stack, svc, spec, sk, all) = (s.c, s.doc, s.stack, s.svc, s.spec, s.sk, s.all);
        let (ns, base) = (&s.ns, &s.base);
        let def = &sk.def;
        let mut deps = Vec::new();
        let mut deps_ctx = Map::new();
        let mut dep_env: BTreeMap<String, EnvValue> = BTreeMap::new();
        // dependencies that could not be resolved (each already reported once)
        let mut failed: Vec<String> = Vec::new();
        let known: Vec<&str> = def.dependencies.keys().map(String::as_str).collect();
        let unknown = settings::Unknown { code: Code::UnknownDependency, field: "dependencies", what: "dependencies" };
        self.unknown_keys(doc, base, &unknown, spec.dependencies.keys(), &known, |d| format!("service `{svc}` has no dependency `{d}`"));
        for (d, dd) in &def.dependencies {
            let mut p = base.clone();
            p.extend(segs(&["dependencies", d]));
            let user = spec.dependencies.get(d);
            let three_ways = format!(
                "run `{}` in this cluster (add `{}:` under spec.services), name another Cluster among the inputs (`dependencies.{d}.cluster: NAME`), or a ConfigMap in this namespace (`dependencies.{d}.configMap: {{name: NAME, key: KEY}}`)",
                dd.service, dd.service
            );
            let provider: Option<(&Skeleton, DepSource)> = match user {
                Some(DependencySpec { config_map: Some(cm), cluster: None, .. }) => {
                    let Some(env_ref) = &dd.env_ref else {
                        failed.push(d.clone());
                        self.user_err(Code::UnresolvedDependency, doc, &p, format!("dependency `{d}` cannot be read from a ConfigMap"), format!("the config files of `{svc}` cannot expand environment variables; use this cluster's `{}` or another Cluster", dd.service));
                        continue;
                    };
                    let var = names::dependency_env_var(d);
                    let key = cm.key.clone().unwrap_or_else(|| names::dependency_value_key(&dd.service));
                    // a ConfigMap name and key, as the API server accepts them
                    let key_ok = !key.is_empty() && key.len() <= names::MAX_DNS_SUBDOMAIN && key.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
                    for (field, bad, expected) in [
                        ("name", crate::grammar::dns_subdomain(&cm.name).err(), SettingType::DnsSubdomain.describe()),
                        ("key", (!key_ok).then(|| format!("`{}` is not a ConfigMap key", key.escape_debug())), "a ConfigMap key: letters, digits, `-`, `_` and `.`"),
                    ] {
                        if let Some(m) = bad {
                            let at: Vec<String> = p.iter().cloned().chain(segs(&["configMap", field])).collect();
                            self.diags.push(Diagnostic::error(Code::InvalidConfigMapRef, Some(doc.span_at(&at)), at.join("."), format!("configMap {field}: {m}")).expected(expected).hint("name the ConfigMap (and key) that holds the dependency's discovery value, as `kubectl get configmap` shows it"));
                        }
                    }
                    let ctx = crate::template::value(&json!({"var": var}));
                    let value = match self.tpl.render(env_ref, &ctx) {
                        Ok(v) => v,
                        Err(m) => {
                            failed.push(d.clone());
                            self.stack_err(stack, svc, &segs(&["dependencies", d, "envRef"]), m);
                            continue;
                        }
                    };
                    dep_env.insert(var.clone(), EnvValue::ConfigMapKey { name: cm.name.clone(), key: key.clone() });
                    let none = BTreeMap::new();
                    let dc = DepCtx { source: "configMap", value: Some(value), discovery: &none, provider: None };
                    deps_ctx.insert(d.clone(), self.context_json(&dc));
                    deps.push(ResolvedDep { name: d.clone(), service: dd.service.clone(), from: DepSource::ConfigMap { name: cm.name.clone(), key } });
                    continue;
                }
                Some(DependencySpec { config_map: Some(_), cluster: Some(_), .. }) => {
                    failed.push(d.clone());
                    self.user_err(Code::UnresolvedDependency, doc, &p, format!("dependency `{d}` names both a cluster and a configMap"), "choose one of them".into());
                    continue;
                }
                Some(DependencySpec { cluster: Some(other), namespace, .. }) => {
                    let ons = namespace.clone().unwrap_or_else(|| ns.clone());
                    match all.get(&(ons.clone(), other.clone(), dd.service.clone())) {
                        Some(s) => Some((s, DepSource::Cluster { cluster: other.clone(), namespace: ons })),
                        None => {
                            failed.push(d.clone());
                            if self.found.contains_key(&(ons.clone(), other.clone())) {
                                let msg = format!("Cluster `{other}` (namespace `{ons}`) does not run `{}`", dd.service);
                                self.user_err(Code::UnresolvedDependency, doc, &p, msg, format!("add `{}:` to that Cluster's services; or {three_ways}", dd.service));
                                continue;
                            }
                            let msg = format!("dependency `{d}` names Cluster `{other}` (namespace `{ons}`), which is not among the inputs");
                            // a Cluster of that name elsewhere is most likely the one meant
                            let elsewhere: Vec<(&String, &Span)> =
                                self.found.iter().filter(|((_, n), _)| n == other).map(|((n, _), sp)| (n, sp)).collect();
                            let hint = match elsewhere.as_slice() {
                                [] => format!("give that Cluster's file to bdp too; or {three_ways}"),
                                found => {
                                    let at: Vec<String> = found.iter().map(|(n, sp)| format!("namespace `{n}` ({sp})")).collect();
                                    format!(
                                        "a Cluster `{other}` is among the inputs in {}; add `namespace: {}` to dependencies.{d}",
                                        at.join(", "),
                                        found[0].0
                                    )
                                }
                            };
                            self.user_err(Code::UnresolvedDependency, doc, &p, msg, hint);
                            continue;
                        }
                    }
                }
                _ => match all.get(&(ns.clone(), c.metadata.name.clone(), dd.service.clone())) {
                    Some(s) => Some((s, DepSource::Service)),
                    None => None,
                },
            };
            match provider {
                Some((s, from)) => {
                    let (dc, dns) = match &from {
                        DepSource::Cluster { cluster, namespace } => (cluster.clone(), namespace.clone()),
                        _ => (c.metadata.name.clone(), ns.clone()),
                    };
                    let primary = s.discovery.get(&names::dependency_value_key(&dd.service)).cloned().or_else(|| s.discovery.values().next().cloned());
                    let provider = ProviderCtx { cluster: dc.clone(), namespace: dns, settings: &s.settings, roles: &s.ctx["roles"], image: &s.image.0, vars: &s.def.vars };
                    let source = if from == DepSource::Service { "service" } else { "cluster" };
                    let v = self.context_json(&DepCtx { source, value: primary, discovery: &s.discovery, provider: Some(provider) });
                    deps_ctx.insert(d.clone(), v);
                    let pbase = segs(&["spec", "services", &dd.service]);
                    for (cap, (vals, setting)) in &s.requirements {
                        let demand = settings::Demand { provider: &dd.service, provider_cluster: &dc, cap, values: vals, setting: setting.as_deref(), provider_base: &pbase };
                        self.check_image(doc, base, svc, &sk.image.0, &sk.capabilities, &demand);
                    }
                    deps.push(ResolvedDep { name: d.clone(), service: dd.service.clone(), from });
                }
                None if dd.required => {
                    failed.push(d.clone());
                    self.diags.push(
                        Diagnostic::error(Code::MissingDependency, Some(doc.span_at(base)), base.join("."), format!("service `{svc}` needs `{}` (dependency `{d}`), and none is given", dd.service))
                            .hint(three_ways),
                    );
                }
                None => {}
            }
        }

        Deps { list: deps, ctx: deps_ctx, env: dep_env, failed }
    }

    /// One enabled role: files, containers, storage, volumes, pods and overrides. Returns the
    /// role and its files' final values (for the stack's `checks`).
    // Long because: it assembles a ResolvedRole from the calls above; the struct literal alone is 40 lines.
    fn role(&mut self, s: &Scope, ctx: &Value, deps: &Deps, r: &String, n: u32) -> (ResolvedRole, Map<String, Value>) {
        let (c, doc, stack, svc, spec, sk) = (s.c, s.doc, s.stack, s.svc, s.spec, s.sk);
        let (ns, base) = (&s.ns, &s.base);
        let def = &sk.def;
        let rd = &def.roles[r];
        let user: RoleSpec = spec.roles.get(r).and_then(|x| x.clone()).unwrap_or_default();
        let mut rp = base.clone();
        rp.extend(segs(&["roles", r]));
        let mut rctx = ctx.clone();
        rctx["role"] = ctx["roles"][r].clone();
        let mctx = crate::template::value(&rctx);
        let fullname = names::role_fullname(&c.metadata.name, svc, r);

        // files
        let mut rop = rp.clone();
        rop.push("configOverrides".into());
        let mounted: Vec<&str> = rd.files.iter().map(String::as_str).collect();
        self.check_override_files(doc, &rop, &user.config_overrides, def, Some((r, &mounted)));
        let fs = files::FileScope { doc, stack, svc, spec, svc_path: [base.as_slice(), &["configOverrides".to_string()]].concat() };
        let mut files = Vec::new();
        let mut files_ctx = Map::new();
        for fname in &rd.files {
            let Some(fd) = def.files.get(fname) else {
                self.stack_err(stack, svc, &segs(&["roles", r, "files"]), format!("role `{r}` mounts unknown file `{fname}`"));
                continue;
            };
            if !self.when(stack, svc, &segs(&["files", fname, "when"]), "", fd.when.as_ref(), &mctx) {
                continue;
            }
            let f = self.file(&fs, fname, fd, &mctx, &user, &rop, Some(r));
            let kv: Map<String, Value> = f.entries.iter().map(|e| (e.key.clone(), json!(e.value))).collect();
            files_ctx.insert(fname.clone(), Value::Object(kv));
            files.push(f);
        }

        // containers
        let mut env: BTreeMap<String, EnvValue> = BTreeMap::new();
        env.insert("POD_NAME".into(), EnvValue::Field("metadata.name".into()));
        env.insert("POD_NAMESPACE".into(), EnvValue::Field("metadata.namespace".into()));
        for (k, t) in &rd.env {
            match self.tpl.render(t, &mctx) {
                Ok(v) => {
                    env.insert(k.clone(), EnvValue::Value(v));
                }
                Err(m) => self.stack_err(stack, svc, &segs(&["roles", r, "env", k]), m),
            }
        }
        env.extend(deps.env.clone());
        for (k, v) in spec.env_overrides.iter().chain(user.env_overrides.iter()) {
            env.insert(k.clone(), EnvValue::Value(v.clone()));
        }
        let resources = role_resources(rd, user.resources.as_ref());
        let rc = RoleContainers { ctx: &mctx, env: &env, rd, resources: &resources };
        let mut conts = Vec::new();
        let mut inits = Vec::new();
        for (i, cd) in rd.containers.iter().enumerate() {
            let path = segs(&["roles", r, "containers", &i.to_string()]);
            // the role's ports go to the first container rendered (an earlier one's `when` may be false)
            if let Some(c) = self.container(s, &path, cd, &rc, conts.is_empty()) {
                conts.push(c);
            }
        }
        for (i, cd) in rd.init_containers.iter().enumerate() {
            let path = segs(&["roles", r, "initContainers", &i.to_string()]);
            if let Some(c) = self.container(s, &path, cd, &rc, false) {
                inits.push(c);
            }
        }

        let (actions, smoke_test) = self.role_actions(s, r, &rc);
        let hooks = self.role_hooks(s, r, &rc);
        let storage = self.storage(s, r, &user, &rp);
        let volumes = self.volumes(s, r, &mctx);
        let manifests = self.manifests(stack, svc, &segs(&["roles", r, "manifests"]), &rd.manifests, &mctx);
        let pods = (0..n)
            .map(|i| Pod {
                name: names::pod(&fullname, i),
                ordinal: i,
                fqdn: names::pod_fqdn(&fullname, i, ns, &c.spec.cluster_domain),
            })
            .collect();
        let pod_overrides = match (&rd.pod_overrides, &spec.pod_overrides, &user.pod_overrides) {
            (None, None, None) => None,
            (st, a, b) => {
                let mut v = st.clone().unwrap_or(json!({}));
                for o in [a, b].into_iter().flatten() {
                    crate::merge::merge_overrides(&mut v, o);
                }
                Some(v)
            }
        };
        let role = ResolvedRole {
            scale_down: rd.scale_down.clone(),
            scale: rd.scale.clone(),
            name: r.clone(),
            fullname,
            replicas: n,
            cardinality: rd.replicas.clone(),
            pods,
            after: rd.after.iter().filter(|a| sk.roles.iter().any(|(x, _)| x == *a)).cloned().collect(),
            pod_management_policy: rd.pod_management_policy.unwrap_or_default().as_str().into(),
            ports: rd.ports.clone(),
            services: rd.services.clone(),
            storage,
            scratch: rd
                .scratch
                .iter()
                .enumerate()
                .filter_map(|(i, t)| match self.tpl.render(t.path(), &mctx) {
                    Ok(d) => Some(d.trim().to_string()).filter(|d| !d.is_empty()).map(|path| match t {
                        crate::model::ScratchDef::Path(_) => Scratch { path, medium: None, size_limit: None },
                        crate::model::ScratchDef::Dir { medium, size_limit, .. } => {
                            Scratch { path, medium: medium.clone(), size_limit: size_limit.clone() }
                        }
                    }),
                    Err(m) => {
                        self.stack_err(stack, svc, &segs(&["roles", r, "scratch", &i.to_string()]), m);
                        None
                    }
                })
                .collect(),
            files,
            init_containers: inits,
            containers: conts,
            pdb_max_unavailable: rd.pdb.as_ref().and_then(|p| p.max_unavailable),
            spread: user
                .placement
                .as_ref()
                .and_then(|p| p.spread.clone())
                .or_else(|| rd.placement.as_ref().and_then(|p| p.spread.clone()))
                .unwrap_or_else(|| "preferred".into()),
            termination_grace_period_seconds: rd.termination_grace_period_seconds,
            pod_overrides,
            volumes,
            manifests,
            user_path: rp,
            actions,
            smoke_test,
            hooks,
        };
        (role, files_ctx)
    }

    /// A role's volume claims: the stack's, with the Cluster's sizes and storage classes.
    fn storage(&mut self, s: &Scope, r: &str, user: &RoleSpec, rp: &[String]) -> Vec<Storage> {
        let doc = s.doc;
        let rd = &s.sk.def.roles[r];
        // storage
        let known: Vec<&str> = rd.storage.keys().map(String::as_str).collect();
        let unknown = settings::Unknown { code: Code::UnknownVolume, field: "storage", what: "volumes" };
        self.unknown_keys(doc, rp, &unknown, user.storage.keys(), &known, |k| format!("role `{r}` has no volume `{k}`"));
        for (k, st) in &user.storage {
            if let Some(Err(m)) = st.storage_class.as_deref().map(crate::grammar::dns_subdomain) {
                let p: Vec<String> = rp.iter().cloned().chain(segs(&["storage", k, "storageClass"])).collect();
                self.diags.push(
                    Diagnostic::error(Code::InvalidStorageClass, Some(doc.span_at(&p)), p.join("."), format!("storage class: {m}"))
                        .expected(SettingType::StorageClass.describe())
                        .hint("`kubectl get storageclass` lists the names of the cluster's storage classes"),
                );
            }
        }
        rd
            .storage
            .iter()
            .map(|(k, sd)| {
                let u = user.storage.get(k).cloned().unwrap_or_default();
                Storage {
                    name: k.clone(),
                    mount_path: sd.mount_path.clone(),
                    size: u.size.unwrap_or_else(|| sd.size.clone()),
                    storage_class: u.storage_class,
                }
            })
            .collect()
    }

    /// A role's Secret and ConfigMap volumes (`roles.<r>.volumes`), names rendered.
    fn volumes(&mut self, s: &Scope, r: &str, mctx: &minijinja::Value) -> Vec<ExternalVolume> {
        let (stack, svc) = (s.stack, s.svc);
        let rd = &s.sk.def.roles[r];
        let mut volumes = Vec::new();
        for (vn, vd) in &rd.volumes {
            let vp = segs(&["roles", r, "volumes", vn]);
            if !self.when(stack, svc, &vp, "", vd.when.as_ref(), mctx) {
                continue;
            }
            let name_of = |this: &mut Self, t: &Option<String>| -> Option<String> {
                let t = t.as_ref()?;
                match this.tpl.render(t, mctx) {
                    Ok(v) => Some(v),
                    Err(m) => {
                        this.stack_err(stack, svc, &vp, m);
                        None
                    }
                }
            };
            let secret = name_of(self, &vd.secret);
            let config_map = name_of(self, &vd.config_map);
            if secret.is_none() == config_map.is_none() {
                self.stack_err(stack, svc, &vp, "a volume names exactly one of `secret` or `configMap`".into());
                continue;
            }
            if let Some(cs) = &vd.containers {
                // the role's containers, and the one container of its Jobs (actions, hooks, smoke test)
                let mut known: Vec<&str> = rd.init_containers.iter().chain(rd.containers.iter()).map(|c| c.name.as_str()).collect();
                known.push(crate::names::ACTION_CONTAINER);
                for c in cs.iter().filter(|c| !known.contains(&c.as_str())) {
                    self.stack_err(stack, svc, &vp, format!("volume `{vn}` names unknown container `{c}`"));
                }
            }
            volumes.push(ExternalVolume {
                name: vn.clone(),
                secret,
                config_map,
                mount_path: vd.mount_path.clone(),
                optional: vd.optional,
                items: vd.items.clone(),
                containers: vd.containers.clone(),
            });
        }
        volumes
    }
}

/// What every step of pass 2 reads of one service.
pub(crate) struct Scope<'a> {
    pub(crate) c: &'a Cluster,
    pub(crate) doc: &'a Doc,
    pub(crate) stack: &'a Stack,
    pub(crate) svc: &'a str,
    pub(crate) spec: &'a ServiceSpec,
    pub(crate) sk: &'a Skeleton,
    pub(crate) all: &'a BTreeMap<SkeletonKey, Skeleton>,
    /// The Cluster's namespace (`default` when it names none).
    pub(crate) ns: String,
    /// `spec.services.<svc>`: the service's place in the Cluster.
    pub(crate) base: Vec<String>,
}

/// A service's dependencies as resolved.
pub(crate) struct Deps {
    pub(crate) list: Vec<ResolvedDep>,
    /// `deps.<d>` of the template context.
    pub(crate) ctx: Map<String, Value>,
    /// `DEP_<NAME>` variables of dependencies read from a ConfigMap at runtime.
    pub(crate) env: BTreeMap<String, EnvValue>,
    /// Dependencies that could not be resolved (each reported once).
    pub(crate) failed: Vec<String>,
}

/// What every container of a role is built from.
pub(crate) struct RoleContainers<'a> {
    pub(crate) ctx: &'a minijinja::Value,
    pub(crate) env: &'a BTreeMap<String, EnvValue>,
    pub(crate) rd: &'a RoleDef,
    pub(crate) resources: &'a Value,
}
