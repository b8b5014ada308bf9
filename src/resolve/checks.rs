//! The stack's `checks` rules and its manifest templates.

use super::*;

impl Resolver<'_> {

    /// The stack's `checks`: rules over the resolved service (e.g. enough datanodes for
    /// `dfs.replication`). A failed rule points at the Cluster; a broken rule at the stack.
    /// A check that reads a dependency in `failed` is skipped: that dependency's error is
    /// already reported, and one cause gets one error (no cascade).
    pub(crate) fn checks(&mut self, doc: &Doc, stack: &Stack, svc: &str, checks: &[CheckDef], ctx: &minijinja::Value, failed: &[String]) {
        for (i, chk) in checks.iter().enumerate() {
            let here = segs(&["checks", &i.to_string()]);
            let exprs = [Some(&chk.assert), chk.when.as_ref(), Some(&chk.message)];
            if failed.iter().any(|d| exprs.iter().flatten().any(|e| mentions_dep(e, d))) {
                continue;
            }
            if !self.when(stack, svc, &here, "check `when`: ", chk.when.as_ref(), ctx) {
                continue;
            }
            match self.tpl.truthy(&chk.assert, ctx) {
                Ok(true) => {}
                Ok(false) => {
                    let mut p = segs(&["spec", "services", svc]);
                    if let Some(extra) = &chk.path {
                        p.extend(extra.split('.').map(String::from));
                    }
                    let msg = self.tpl.render(&chk.message, ctx).unwrap_or_else(|_| chk.message.clone());
                    let hint = chk.hint.as_ref().map(|h| self.tpl.render(h, ctx).unwrap_or_else(|_| h.clone()));
                    self.diags.push(Diagnostic::error(Code::CheckFailed, Some(doc.span_at(&p)), p.join("."), msg).hint_opt(hint));
                }
                Err(m) => self.stack_err(stack, svc, &here, format!("check `assert`: {m}")),
            }
        }
    }

    /// Renders manifest templates into objects (apiVersion, kind and metadata.name required).
    pub(crate) fn manifests(&mut self, stack: &Stack, svc: &str, path: &[String], templates: &[String], ctx: &minijinja::Value) -> Vec<Value> {
        let mut out = Vec::new();
        for (i, t) in templates.iter().enumerate() {
            let mut p = path.to_vec();
            p.push(i.to_string());
            let text = match self.tpl.render(t, ctx) {
                Ok(x) => x,
                Err(m) => {
                    self.stack_err(stack, svc, &p, m);
                    continue;
                }
            };
            if text.trim().is_empty() {
                continue;
            }
            match crate::source::parse_documents(std::path::Path::new("<manifest>"), &text) {
                Ok(docs) => {
                    for d in docs {
                        let v = d.root.to_json();
                        let ok = v["apiVersion"].is_string() && v["kind"].is_string() && v["metadata"]["name"].is_string();
                        if ok {
                            out.push(v);
                        } else {
                            self.stack_err(stack, svc, &p, "a manifest needs apiVersion, kind and metadata.name".into());
                        }
                    }
                }
                Err(e) => {
                    let m = e.into_iter().map(|d| d.message).collect::<Vec<_>>().join("; ");
                    self.stack_err(stack, svc, &p, format!("manifest is not valid YAML: {m}"));
                }
            }
        }
        out
    }

}
