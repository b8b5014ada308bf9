//! Config files: stack keys < service overrides < role overrides; owned keys refused,
//! unknown keys warned (with a did-you-mean), every entry checked against its format.

use super::*;
use std::collections::BTreeSet;

/// The service a config file belongs to, and where its overrides are in the Cluster.
pub(crate) struct FileScope<'a> {
    pub(crate) doc: &'a Doc,
    pub(crate) stack: &'a Stack,
    pub(crate) svc: &'a str,
    pub(crate) spec: &'a ServiceSpec,
    /// `spec.services.<svc>.configOverrides`.
    pub(crate) svc_path: Vec<String>,
}

impl Resolver<'_> {
    /// Stack errors of the files' `readBy` (once per service): a pattern is a key name or a
    /// prefix ending in `*`, and names roles of the service (or `*`). A misspelt role would
    /// silently keep a key out of the real role's checksum.
    pub(crate) fn check_read_by(&mut self, stack: &Stack, svc: &str, def: &ServiceDef) {
        for (fname, fd) in &def.files {
            for (pat, roles) in &fd.read_by {
                let p = segs(&["files", fname, "readBy", pat]);
                if pat.is_empty() || pat == "*" || pat.trim_end_matches('*').contains('*') {
                    self.stack_err(stack, svc, &p, format!("`{pat}` is not a key pattern: write a key name, or a prefix ending in one `*`"));
                }
                if roles.is_empty() {
                    self.stack_err(stack, svc, &p, format!("`{pat}` names no role: list the roles that read it, or `*` for every role"));
                }
                for r in roles {
                    if r != "*" && !def.roles.contains_key(r) {
                        let known: Vec<&str> = def.roles.keys().map(String::as_str).collect();
                        self.stack_err(stack, svc, &p, format!("`readBy` names unknown role `{r}` (roles: {})", known.join(", ")));
                    } else if r != "*" && !def.roles[r].files.contains(fname) {
                        self.stack_err(stack, svc, &p, format!("`readBy` names role `{r}`, which does not mount `{fname}`"));
                    }
                }
            }
        }
    }


    /// File names in overrides must exist (and be mounted by the role, for role overrides).
    pub(crate) fn check_override_files(
        &mut self,
        doc: &Doc,
        path: &[String],
        ov: &ConfigOverrides,
        def: &ServiceDef,
        role: Option<(&str, &Vec<&str>)>,
    ) {
        for f in ov.keys() {
            let mut pf = path.to_vec();
            pf.push(f.clone());
            if !def.files.contains_key(f) {
                self.diags.push(
                    Diagnostic::error(Code::UnknownConfigFile, Some(doc.span_of_key(path, f)), pf.join("."), format!("unknown config file `{f}`"))
                        .hint(known_hint(f, "files", def.files.keys().map(String::as_str))),
                );
            } else if let Some((r, mounted)) = role
                && !mounted.contains(&f.as_str()) {
                    self.diags.push(
                        Diagnostic::error(Code::FileNotMounted, Some(doc.span_of_key(path, f)), pf.join("."), format!("role `{r}` does not use `{f}`"))
                            .hint(format!("role `{r}` uses: {}", mounted.join(", "))),
                    );
                }
        }
    }

    /// One config file of a role: the stack's keys, the generated keys ([`Resolver::generate`]),
    /// then the service's and the role's overrides ([`Resolver::overrides`]; `role_path` is the
    /// role's `configOverrides`); last every entry checked against the file's format.
    /// `role` is the role whose pods mount the file (`None`: no pod, e.g. a discovery file):
    /// keys it does not read (the file's `readBy`) and refreshable keys (`refresh`) do not
    /// restart it.
    // Long because: keys, generated keys, overrides, checks and restart marks are one build.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn file(&mut self, s: &FileScope, fname: &str, fd: &FileDef, ctx: &minijinja::Value, user: &RoleSpec, role_path: &[String], role: Option<&str>) -> ConfigFile {
        let (stack, svc, spec, svc_path) = (s.stack, s.svc, s.spec, s.svc_path.as_slice());
        let mut entries: BTreeMap<String, Entry> = BTreeMap::new();
        let mut owned: BTreeMap<String, String> = BTreeMap::new();
        let mut text = None;
        if fd.format == FileFormat::Text {
            match fd.template.as_deref().map(|t| self.tpl.render(t, ctx)) {
                Some(Ok(t)) => text = Some(t),
                Some(Err(m)) => self.stack_err(stack, svc, &segs(&["files", fname, "template"]), m),
                None => self.stack_err(stack, svc, &segs(&["files", fname]), "a `text` file needs a `template`".into()),
            }
        }
        // rendered key name → its definition (for overrides of templated key names)
        let mut key_defs: BTreeMap<String, &KeyDef> = BTreeMap::new();
        for (k, kd) in &fd.keys {
            if !self.when(stack, svc, &segs(&["files", fname, "keys", k, "when"]), "", kd.when.as_ref(), ctx) {
                continue;
            }
            // a key name may itself be a template (e.g. a krb5 `realms/<realm>/kdc`)
            let name = match self.tpl.render(k, ctx) {
                Ok(n) => n,
                Err(m) => {
                    self.stack_err(stack, svc, &segs(&["files", fname, "keys", k]), m);
                    continue;
                }
            };
            match self.tpl.render(&kd.value, ctx) {
                Ok(v) => {
                    entries.insert(name.clone(), Entry { key: name.clone(), value: v, restart: kd.restart.unwrap_or(fd.restart) });
                    if kd.owned {
                        owned.insert(name.clone(), kd.doc.clone());
                    }
                    key_defs.insert(name, kd);
                }
                Err(m) => self.stack_err(stack, svc, &segs(&["files", fname, "keys", k, "value"]), m),
            }
        }
        let mut b = FileBuild { entries, owned, key_defs, overridden: BTreeSet::new() };
        self.generate(s, fname, fd, ctx, &mut b);
        self.overrides(s, fname, fd, [(&spec.config_overrides, svc_path), (&user.config_overrides, role_path)], &mut b);
        let FileBuild { mut entries, overridden, key_defs, .. } = b;
        let mut refresh = BTreeMap::new();
        let mut unread = BTreeSet::new();
        for e in entries.values_mut() {
            let kd = key_defs.get(&e.key).copied().or_else(|| fd.keys.get(&e.key));
            if let Some(cmd) = kd.and_then(|kd| kd.refresh.as_ref()).or(fd.refresh.as_ref()) {
                e.restart = false;
                refresh.insert(e.key.clone(), cmd.clone());
            }
            if let Some(r) = role
                && fd.readers(&e.key).is_some_and(|readers| !readers.iter().any(|x| x == r))
            {
                e.restart = false;
                unread.insert(e.key.clone());
            }
        }
        if let Some(cmd) = &fd.refresh {
            refresh.insert("*".into(), cmd.clone());
        }
        // values from the stack's templates: a setting without a precise enough `type` could
        // still carry syntax; the writer leaves such an entry out, and this is the error
        for e in entries.values().filter(|e| !overridden.contains(&e.key)) {
            if let Err(why) = crate::formats::check_entry(fd.format, &e.key, &e.value) {
                self.stack_err(stack, svc, &segs(&["files", fname, "keys"]), format!("key `{}` of `{fname}` cannot be written: {why}; give the settings it uses a `type`", e.key.escape_debug()));
            }
        }
        let mut entries: Vec<Entry> = entries.into_values().collect();
        entries.sort_by(|a, b| crate::formats::natural_cmp(&a.key, &b.key));
        ConfigFile { name: fname.to_string(), format: fd.format, dir: fd.dir.clone(), entries, text, restart: fd.restart && fd.refresh.is_none(), refresh, unread }
    }

    /// The keys of the file's `generate` blocks (one key per item of a list, e.g. `server.N`).
    fn generate(&mut self, s: &FileScope, fname: &str, fd: &FileDef, ctx: &minijinja::Value, b: &mut FileBuild) {
        let (stack, svc) = (s.stack, s.svc);
        let (entries, owned) = (&mut b.entries, &mut b.owned);
        for (gi, g) in fd.generate.iter().enumerate() {
            let gp = segs(&["files", fname, "generate", &gi.to_string()]);
            if !self.when(stack, svc, &gp, "", g.when.as_ref(), ctx) {
                continue;
            }
            let items = match self.tpl.eval(&g.foreach, ctx) {
                Ok(v) => v,
                Err(m) => {
                    self.stack_err(stack, svc, &gp, m);
                    continue;
                }
            };
            let Ok(iter) = items.try_iter() else {
                self.stack_err(stack, svc, &gp, format!("`foreach: {}` is not a list", g.foreach));
                continue;
            };
            for item in iter {
                let local = minijinja::value::merge_maps([minijinja::Value::from(BTreeMap::from([(g.var.clone(), item)])), ctx.clone()]);
                let value = match self.tpl.render(&g.value, &local) {
                    Ok(v) => v,
                    Err(m) => {
                        self.stack_err(stack, svc, &gp, m);
                        continue;
                    }
                };
                // one key (`key`), or every key of the list `keys` yields
                let keys: Result<Vec<String>, String> = match &g.target {
                    crate::model::GenerateTarget::Key { key } => self.tpl.render(key, &local).map(|k| vec![k]),
                    crate::model::GenerateTarget::Keys { keys: e } => self.tpl.eval(e, &local).and_then(|v| match v.try_iter() {
                        Ok(it) => Ok(it.map(|k| k.as_str().map(str::to_string).unwrap_or_else(|| k.to_string())).collect()),
                        Err(_) => Err(format!("`keys: {e}` is not a list")),
                    }),
                };
                let keys = match keys {
                    Ok(k) => k,
                    Err(m) => {
                        self.stack_err(stack, svc, &gp, m);
                        continue;
                    }
                };
                for key in keys {
                    if g.owned {
                        owned.insert(key.clone(), g.doc.clone());
                    }
                    entries.insert(key.clone(), Entry { key, value: value.clone(), restart: fd.restart });
                }
            }
        }
    }

    /// The Cluster's overrides of the file, service level then role level: owned keys refused,
    /// unknown keys warned (with a did-you-mean for the first 32), values checked against the
    /// file's format.
    fn overrides(&mut self, s: &FileScope, fname: &str, fd: &FileDef, layers: [(&ConfigOverrides, &[String]); 2], b: &mut FileBuild) {
        let (doc, stack, svc) = (s.doc, s.stack, s.svc);
        let FileBuild { entries, owned, key_defs, overridden } = b;
        const MAX_SUGGESTIONS: usize = 32;
        let mut suggested = 0;
        for (ov, path) in layers {
            let Some(keys) = ov.get(fname) else { continue };
            let mut fp = path.to_vec();
            fp.push(fname.to_string());
            // positions of the keys, looked up once (a search per key made wide overrides quadratic)
            let key_spans = KeySpans::new(doc, &fp);
            for (k, v) in keys {
                let mut kp = fp.clone();
                kp.push(k.clone());
                if fd.format == FileFormat::Text {
                    self.diags.push(
                        Diagnostic::error(Code::TemplateFileOverride, Some(key_spans.get(k)), kp.join("."), format!("`{fname}` is a template file without keys"))
                            .hint("it cannot be overridden key by key"),
                    );
                    continue;
                }
                if let Some(why) = owned.get(k) {
                    let why = if why.is_empty() { String::new() } else { format!(" ({why})") };
                    self.diags.push(
                        Diagnostic::error(Code::OwnedKey, Some(key_spans.get(k)), kp.join("."), format!("`{k}` in `{fname}` is set by bdp and cannot be overridden{why}"))
                            .hint("bdp derives this key from the cluster layout; change the roles, replicas or dependencies instead"),
                    );
                    continue;
                }
                // unknown: neither declared by the stack nor in the daemon's key lists (knownKeys)
                let lists = stack.known_keys(svc, fname);
                if !entries.contains_key(k) && !fd.keys.contains_key(k) && !lists.iter().any(|l| l.contains(k)) {
                    let mut d = Diagnostic::warning(Code::UnknownKey, Some(key_spans.get(k)), kp.join("."), format!("`{k}` is not a key bdp knows in `{fname}`"));
                    // bounded work: a did-you-mean for the first MAX_SUGGESTIONS unknown keys of a file
                    let close = (suggested < MAX_SUGGESTIONS).then(|| {
                        suggested += 1;
                        let declared = entries.keys().chain(fd.keys.keys()).map(String::as_str);
                        crate::diag::did_you_mean_key(k, declared.chain(lists.iter().flat_map(|l| l.keys())))
                    });
                    let checked = if lists.is_empty() { "" } else { " nor in the daemon's key list" };
                    d = d.hint_opt(close.flatten().or_else(|| Some(format!("it is not declared by the stack{checked}; it is passed through as written, so check its spelling against the service's documentation"))));
                    self.diags.push(d);
                }
                let restart = key_defs.get(k).copied().or_else(|| fd.keys.get(k)).and_then(|kd| kd.restart).unwrap_or(fd.restart);
                let value = scalar_string(v);
                // a value the file's format cannot hold is an error here, at the user's value
                if let Err(why) = crate::formats::check_entry(fd.format, k, &value) {
                    let key_is_bad = crate::formats::check_entry(fd.format, k, "").is_err();
                    let span = if key_is_bad { doc.span_of_key(&fp, k) } else { doc.span_at(&kp) };
                    self.diags.push(
                        Diagnostic::error(Code::UnwritableValue, Some(span), kp.join("."), format!("`{k}` in `{fname}` cannot be written: {why}"))
                            .expected(fd.format.grammar())
                            .hint("bdp writes values as data, never as syntax; remove the character or write the value another way"),
                    );
                    overridden.insert(k.clone());
                    continue;
                }
                overridden.insert(k.clone());
                entries.insert(k.clone(), Entry { key: k.clone(), value, restart });
            }
        }
    }
}

/// A config file as it is built: its entries, the keys bdp owns (with why), the definitions of
/// rendered key names, and the keys the Cluster overrode.
struct FileBuild<'d> {
    entries: BTreeMap<String, Entry>,
    owned: BTreeMap<String, String>,
    key_defs: BTreeMap<String, &'d KeyDef>,
    overridden: BTreeSet<String>,
}
