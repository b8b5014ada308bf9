//! Pass 1, per service: settings (typed against the stack's declarations), image, enabled
//! roles, replicas, pods and the discovery values other services see (the [`Skeleton`]).

use super::context::*;
use super::*;

/// What a service (`provider`, in `provider_cluster`) demands of an image: the values of
/// capability `cap` (its `imageRequirements`), derived from its `setting` when it names one.
pub(crate) struct Demand<'a> {
    pub(crate) provider: &'a str,
    pub(crate) provider_cluster: &'a str,
    pub(crate) cap: &'a str,
    pub(crate) values: &'a [String],
    pub(crate) setting: Option<&'a str>,
    /// `spec.services.<provider>`, where the setting is.
    pub(crate) provider_base: &'a [String],
}

/// Which user keys [`Resolver::unknown_keys`] checks, and how it names them.
pub(crate) struct Unknown {
    pub(crate) code: Code,
    /// The field holding the keys (`roles`).
    pub(crate) field: &'static str,
    /// What the keys are, for the hint (`known roles: …`).
    pub(crate) what: &'static str,
}

impl Resolver<'_> {
    pub(crate) fn stack_err(&mut self, stack: &Stack, svc: &str, path: &[String], msg: String) {
        let doc = stack.service_docs.get(svc);
        let mut full = segs(&["spec", "services", svc]);
        full.extend(path.iter().cloned());
        let span = doc.map(|d| d.span_at(&full));
        self.diags.push(
            Diagnostic::error(Code::StackDefect, span, full.join("."), format!("stack `{}`: {msg}", stack.name))
                .hint("this is a defect in the stack definition"),
        );
    }

    /// A stack's setting defaults must fit their own types.
    pub(crate) fn check_setting_defaults(&mut self, stack: &Stack) {
        for (svc, def) in &stack.spec.services {
            for (k, sd) in &def.settings {
                if let Err(m) = sd.check(&sd.default) {
                    self.stack_err(stack, svc, &segs(&["settings", k, "default"]), format!("the default of setting `{k}` is not {}: {}", m.expected, m.message));
                }
            }
            // a role's scale rule drains pods through two list settings of its service
            for (r, rd) in &def.roles {
                let Some(scale) = &rd.scale else { continue };
                for (dir, rule) in [("up", &scale.up), ("down", &scale.down)] {
                    let Some(d) = rule.as_ref().and_then(|x| x.drain.as_ref()) else { continue };
                    if dir == "up" {
                        self.stack_err(stack, svc, &segs(&["roles", r, "scale", "up", "drain"]), "`drain` applies to `down` only: new pods have nothing to drain".into());
                        continue;
                    }
                    for (field, name) in [("requested", &d.requested), ("done", &d.done)] {
                        if !def.settings.get(name).is_some_and(|sd| sd.default.is_array()) {
                            self.stack_err(stack, svc, &segs(&["roles", r, "scale", "down", "drain", field]), format!("`{name}` is not a setting of `{svc}` whose value is a list of pods"));
                        }
                    }
                }
            }
        }
    }

    /// A stack's `when` condition (or `enabled`): true without one. A broken expression is a
    /// defect in the stack, reported at `path` (after `what`), and counts as false.
    pub(crate) fn when(&mut self, stack: &Stack, svc: &str, path: &[String], what: &str, cond: Option<&String>, ctx: &minijinja::Value) -> bool {
        let Some(w) = cond else { return true };
        match self.tpl.truthy(w, ctx) {
            Ok(b) => b,
            Err(m) => {
                self.stack_err(stack, svc, path, format!("{what}{m}"));
                false
            }
        }
    }

    /// Every key the user gives under `<parent>.<field>` that the stack does not define: an
    /// error at the key, listing the known ones (with a did-you-mean).
    pub(crate) fn unknown_keys<'k>(&mut self, doc: &Doc, parent: &[String], u: &Unknown, given: impl Iterator<Item = &'k String>, known: &[&str], message: impl Fn(&str) -> String) {
        let p: Vec<String> = parent.iter().cloned().chain([u.field.to_string()]).collect();
        for k in given.filter(|k| !known.contains(&k.as_str())) {
            let pk = format!("{}.{k}", p.join("."));
            self.diags.push(Diagnostic::error(u.code, Some(doc.span_of_key(&p, k)), pk, message(k)).hint(known_hint(k, u.what, known.iter().copied())));
        }
    }

    /// A template context as JSON (see `context.rs`). The context types always serialise; a
    /// failure would be a bug, reported as such (never a silent `null`).
    pub(crate) fn context_json<T: Serialize>(&mut self, t: &T) -> Value {
        serde_json::to_value(t).unwrap_or_else(|e| {
            self.diags.push(Diagnostic::error(Code::Internal, None, "", format!("internal error: a template context does not serialise: {e}")));
            Value::Null
        })
    }

    pub(crate) fn user_err(&mut self, code: Code, doc: &Doc, path: &[String], msg: String, hint: String) {
        self.diags.push(Diagnostic::error(code, Some(doc.span_at(path)), path.join("."), msg).hint(hint));
    }

    /// An image that declares capability `cap` must handle every value the service `provider`
    /// demands (its `imageRequirements`); an image that does not declare `cap` is not checked.
    pub(crate) fn check_image(&mut self, doc: &Doc, path: &[String], svc: &str, image: &str, caps: &BTreeMap<String, Vec<String>>, d: &Demand) {
        let (provider, provider_cluster, cap, demanded, setting, provider_base) = (d.provider, d.provider_cluster, d.cap, d.values, d.setting, d.provider_base);
        let Some(have) = caps.get(cap) else { return };
        let missing: Vec<&str> = demanded.iter().filter(|v| !have.contains(v)).map(String::as_str).collect();
        if missing.is_empty() {
            return;
        }
        let from = match setting {
            Some(s) => format!("setting `{s}` of `{provider}` (Cluster `{provider_cluster}`)"),
            None => format!("`{provider}` (Cluster `{provider_cluster}`)"),
        };
        let usable: Vec<&str> = demanded.iter().filter(|v| have.contains(v)).map(String::as_str).collect();
        let fix = match setting {
            Some(s) if !usable.is_empty() => format!(
                "set `{}.{s}` to values the image handles, e.g. `{}`; or use an image that handles {} and declare it in `image.capabilities.{cap}`",
                provider_base.join("."),
                usable.join(" "),
                missing.join(", ")
            ),
            _ => format!("use an image that handles {} and declare it in `image.capabilities.{cap}`", missing.join(", ")),
        };
        self.diags.push(
            Diagnostic::error(Code::ImageCapability, Some(match path.split_last() {
                Some((last, parent)) => doc.span_of_key(parent, last),
                None => doc.span_at(path),
            }), path.join("."), format!(
                "the image of `{svc}` ({image}) cannot handle {cap} {}, which {from} requires",
                missing.join(", ")
            ))
            .expected(format!("{cap} within what the image declares: {}", have.join(" ")))
            .hint(fix),
        );
    }

    // Long because: pass 1 of a service in dependency order (settings, replicas, `enabled`, role contexts, image, discovery, image requirements): each step reads the ones before.
    pub(crate) fn skeleton(&mut self, c: &Cluster, doc: &Doc, stack: &Stack, svc: &str, spec: &ServiceSpec) -> Option<Skeleton> {
        let mut def = stack.spec.services.get(svc)?.clone();
        let ns = c.metadata.namespace.clone().unwrap_or_else(|| "default".into());
        let base = segs(&["spec", "services", svc]);
        let settings = self.settings(doc, stack, svc, spec, &def, &base);
        // roles: replicas first (an `enabled` expression may look at them). A count is checked
        // against its bound here, before anything (pods, names, template lists) is built from it.
        let mut replicas: BTreeMap<String, u32> = BTreeMap::new();
        for (r, rd) in &def.roles {
            let user = spec.roles.get(r).and_then(|x| x.as_ref()).and_then(|x| x.replicas);
            let n = user.unwrap_or(rd.replicas.default);
            let max = rd.replicas.max.min(crate::limits::MAX_REPLICAS);
            if n > max {
                let mut p = base.clone();
                p.extend(segs(&["roles", r, "replicas"]));
                let d = Diagnostic::error(Code::ReplicasOutOfRange, Some(doc.span_at(&p)), p.join("."), format!("{svc} {r} has {n} replicas, more than {max}"))
                    .expected(format!("{} to {max}", rd.replicas.min))
                    .hint(format!("set replicas to at most {max}"));
                if user.is_some() {
                    self.diags.push(d);
                } else {
                    self.stack_err(stack, svc, &segs(&["roles", r, "replicas", "default"]), format!("default replicas {n} is more than {max}"));
                }
            }
            // over the bound: the error above stops the run; later stages see the bound
            replicas.insert(r.clone(), n.min(max));
        }
        let known: Vec<&str> = def.roles.keys().map(String::as_str).collect();
        let unknown = Unknown { code: Code::UnknownRole, field: "roles", what: "roles" };
        self.unknown_keys(doc, &base, &unknown, spec.roles.keys(), &known, |r| format!("unknown role `{r}` of service `{svc}`"));
        let pre = crate::template::value(&PreCtx {
            settings: &settings,
            replicas: &replicas,
            cluster: ClusterCtx { name: &c.metadata.name, namespace: &ns, domain: &c.spec.cluster_domain },
        });
        // ports that exist only in some configurations
        let mut port_errors = Vec::new();
        for (r, rd) in def.roles.iter_mut() {
            rd.ports.retain(|p| match &p.when {
                None => true,
                Some(w) => self.tpl.truthy(w, &pre).unwrap_or_else(|m| {
                    port_errors.push((r.clone(), p.name.clone(), m));
                    false
                }),
            });
        }
        for (r, port, m) in port_errors {
            self.stack_err(stack, svc, &segs(&["roles", &r, "ports"]), format!("port `{port}`: {m}"));
        }
        let mut roles = Vec::new();
        for (r, rd) in &def.roles {
            let enabled = self.when(stack, svc, &segs(&["roles", r, "enabled"]), "", rd.enabled.as_ref(), &pre);
            let user_role = spec.roles.get(r).and_then(|x| x.as_ref());
            if !enabled {
                if user_role.is_some() {
                    let mut p = base.clone();
                    p.extend(segs(&["roles", r]));
                    let cond = rd.enabled.clone().unwrap_or_default();
                    self.user_err(
                        Code::UnknownRole,
                        doc,
                        &p,
                        format!("role `{r}` is not used in this configuration"),
                        format!("the stack enables `{r}` only when `{cond}`; remove it or change the settings"),
                    );
                }
                continue;
            }
            let n = replicas[r];
            if n < rd.replicas.min {
                // reported here, and the stack's templates go on with the minimum (a template
                // that reads `roles.<r>.pods[0]` would otherwise fail inside the stack): one
                // cause, one error
                let mut p = base.clone();
                p.extend(segs(&["roles", r, "replicas"]));
                let min = rd.replicas.min;
                self.diags.push(
                    Diagnostic::error(Code::ReplicasOutOfRange, Some(doc.span_at(&p)), p.join("."), format!("{svc} {r} has {n} replicas, fewer than {min}"))
                        .expected(format!("{min} to {}", rd.replicas.max.min(crate::limits::MAX_REPLICAS)))
                        .hint(format!("set replicas to at least {min}")),
                );
            }
            roles.push((r.clone(), n.max(rd.replicas.min)));
        }
        // role contexts
        let cluster = &c.metadata.name;
        let domain = &c.spec.cluster_domain;
        let mut roles_ctx = BTreeMap::new();
        for (r, n) in &roles {
            let rd = &def.roles[r];
            let full = names::role_fullname(cluster, svc, r);
            let role = RoleCtx {
                name: r,
                replicas: *n,
                pods: (0..*n).map(|i| PodCtx { name: names::pod(&full, i), ordinal: i, fqdn: names::pod_fqdn(&full, i, &ns, domain) }).collect(),
                headless: names::service_fqdn(&full, &ns, domain),
                ports: rd.ports.iter().map(|p| (p.name.as_str(), p.port)).collect(),
                storage: rd.storage.iter().map(|(k, s)| (k.as_str(), StorageCtx { mount_path: &s.mount_path })).collect(),
                services: rd.services.keys().map(|s| (s.as_str(), names::service_fqdn(&names::role_service(&full, s), &ns, domain))).collect(),
                resources: role_resources(rd, spec.roles.get(r).and_then(|x| x.as_ref()).and_then(|x| x.resources.as_ref())),
                fullname: full,
            };
            roles_ctx.insert(r.as_str(), role);
        }
        let (image, capabilities) = self.image(doc, spec, &def, &base);
        let ctx = self.context_json(&ServiceTemplateCtx {
            cluster: ClusterCtx { name: cluster, namespace: &ns, domain },
            service: ServiceCtx { name: svc, version: &def.version, image: &image.0 },
            settings: &settings,
            roles: roles_ctx,
            vars: &def.vars,
        });
        let mctx = crate::template::value(&ctx);
        let mut discovery = BTreeMap::new();
        for (k, t) in &def.discovery {
            match self.tpl.render(t, &mctx) {
                Ok(v) => {
                    discovery.insert(k.clone(), v);
                }
                Err(m) => self.stack_err(stack, svc, &segs(&["discovery", k]), m),
            }
        }
        // discovery files without a role: rendered in the service context, so that dependents
        // (resolved in pass 2) can read them
        let base_ov = segs(&["spec", "services", svc, "configOverrides"]);
        for (key, df) in &def.discovery_files {
            if df.role.is_some() {
                continue;
            }
            let Some(fd) = def.files.get(&df.file) else {
                self.stack_err(stack, svc, &segs(&["discoveryFiles", key]), format!("no file `{}`", df.file));
                continue;
            };
            let fs = files::FileScope { doc, stack, svc, spec, svc_path: base_ov.clone() };
            let f = self.file(&fs, &df.file, fd, &mctx, &RoleSpec::default(), &base_ov, None);
            discovery.insert(key.clone(), f.render());
        }
        // what this service demands of the images that use it, starting with its own
        let mut requirements = BTreeMap::new();
        for (cap, rq) in &def.image_requirements {
            match self.tpl.render(&rq.values, &mctx) {
                Ok(v) => {
                    let vals: Vec<String> = v.split_whitespace().map(str::to_string).collect();
                    requirements.insert(cap.clone(), (vals, rq.setting.clone()));
                }
                Err(m) => self.stack_err(stack, svc, &segs(&["imageRequirements", cap, "values"]), m),
            }
        }
        for (cap, (vals, setting)) in &requirements {
            let demand = Demand { provider: svc, provider_cluster: &c.metadata.name, cap, values: vals, setting: setting.as_deref(), provider_base: &base };
            self.check_image(doc, &base, svc, &image.0, &capabilities, &demand);
        }
        Some(Skeleton { def, image, settings, roles, ctx, discovery, capabilities, requirements })
    }

    /// The service's settings: the stack's defaults, then the Cluster's values, each checked
    /// against its declared type (a value of the wrong type keeps the default: one error).
    fn settings(&mut self, doc: &Doc, stack: &Stack, svc: &str, spec: &ServiceSpec, def: &ServiceDef, base: &[String]) -> BTreeMap<String, Value> {
        let mut settings = BTreeMap::new();
        for (k, sd) in &def.settings {
            settings.insert(k.clone(), sd.default.clone());
        }
        for (k, v) in &spec.settings {
            let mut p = base.to_vec();
            p.push(k.clone());
            match def.settings.get(k) {
                None => {
                    let known: Vec<&str> = ["roles", "dependencies", "configOverrides", "envOverrides", "podOverrides", "image"]
                        .into_iter()
                        .chain(def.settings.keys().map(String::as_str))
                        .collect();
                    self.diags.push(
                        Diagnostic::error(Code::UnknownField, Some(doc.span_of_key(base, k)), p.join("."), format!("unknown field `{k}` for service `{svc}`"))
                            .hint(known_hint(k, "fields", known)),
                    );
                }
                Some(sd) => {
                    if let Err(m) = sd.check(v) {
                        let mut at = p.clone();
                        at.extend(m.item.map(|i| i.to_string()));
                        let hint = match sd.description.trim() {
                            "" => format!("`{k}` is a setting of `{svc}`; `bdp explain {}/{svc}` describes it", stack.name),
                            d => d.split_whitespace().collect::<Vec<_>>().join(" "),
                        };
                        self.diags.push(
                            Diagnostic::error(Code::InvalidSetting, Some(doc.span_at(&at)), at.join("."), format!("setting `{k}`: {}", m.message))
                                .expected(m.expected)
                                .hint(hint),
                        );
                        // the stack's templates go on with its default: one error, no cascade
                        continue;
                    }
                    settings.insert(k.clone(), v.clone());
                }
            }
        }
        settings
    }

    /// The image reference (the Cluster's override checked part by part) and whether it is
    /// pinned by digest, and the image's capabilities (the stack's, then the Cluster's).
    fn image(&mut self, doc: &Doc, spec: &ServiceSpec, def: &ServiceDef, base: &[String]) -> ((String, bool), BTreeMap<String, Vec<String>>) {
        // an image override is an image reference, part by part
        if let Some(img) = &spec.image {
            let parts: [(&str, &Option<String>, GrammarFn, &str); 3] = [
                ("repository", &img.repository, crate::grammar::image_repository, "a repository `[registry[:port]/]path`, lower case, e.g. `docker.io/library/zookeeper`"),
                ("tag", &img.tag, crate::grammar::image_tag, "a tag of letters, digits, `_`, `.` and `-` (at most 128), e.g. `3.9.3`"),
                ("digest", &img.digest, crate::grammar::image_digest, "a digest `sha256:` followed by 64 hex digits"),
            ];
            for (field, value, check, expected) in parts {
                if let Some(Err(m)) = value.as_deref().map(check) {
                    let mut p = base.to_vec();
                    p.extend(segs(&["image", field]));
                    self.diags.push(
                        Diagnostic::error(Code::InvalidImage, Some(doc.span_at(&p)), p.join("."), format!("image {field}: {m}"))
                            .expected(expected)
                            .hint("the image reference is written into every pod as is; give the exact reference of a pushed image"),
                    );
                }
            }
        }
        let img = spec.image.clone().unwrap_or_default();
        let mut capabilities = def.image.capabilities.clone();
        capabilities.extend(img.capabilities.clone());
        let repo = img.repository.unwrap_or_else(|| def.image.repository.clone());
        let tag = img.tag.unwrap_or_else(|| def.image.tag.clone());
        let digest = img.digest.or_else(|| def.image.digest.clone());
        let image = match &digest {
            Some(d) => (format!("{repo}:{tag}@{d}"), true),
            None => (format!("{repo}:{tag}"), false),
        };
        (image, capabilities)
    }
}
