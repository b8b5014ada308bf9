//! Stack registry: the stacks shipped inside the binary, stacks from `--stacks DIR`, and
//! StackDefinitions given among the inputs, with `extends` applied.
//!
//! A stack is one or more `StackDefinition` documents with the same `metadata.name`; their
//! services are merged, so a stack folder can keep one file per service. A later source
//! replaces a stack of the same name from an earlier one (embedded < --stacks < inputs).

use crate::diag::{known_hint, Diagnostic, Diagnostics};
use crate::model::{StackDefinition, StackSpec};
use crate::source::Doc;
use crate::validate::{validate, Located};
use include_dir::{include_dir, Dir};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

static EMBEDDED: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/stacks");

/// A service definition with the document it was written in (for error positions).
#[derive(Debug, Clone)]
pub struct Stack {
    pub name: String,
    pub spec: StackSpec,
    /// Document each service came from.
    pub service_docs: BTreeMap<String, std::sync::Arc<Doc>>,
    pub origin: String,
}

#[derive(Debug, Clone, Default)]
pub struct Registry {
    pub stacks: BTreeMap<String, Stack>,
}

/// Parses the embedded stacks (as if read from `stacks/` next to the binary's source).
pub fn embedded_docs(diags: &mut Diagnostics) -> Vec<Doc> {
    let mut files: Vec<&include_dir::File> = Vec::new();
    fn walk<'a>(d: &'a Dir<'a>, out: &mut Vec<&'a include_dir::File<'a>>) {
        for f in d.files() {
            out.push(f);
        }
        for sub in d.dirs() {
            walk(sub, out);
        }
    }
    walk(&EMBEDDED, &mut files);
    files.sort_by_key(|f| f.path().to_path_buf());
    let mut docs = Vec::new();
    for f in files {
        if !matches!(f.path().extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
            continue;
        }
        let shown = Path::new("<embedded>/stacks").join(f.path());
        match f.contents_utf8() {
            Some(t) => match crate::source::parse_documents(&shown, t) {
                Ok(mut d) => docs.append(&mut d),
                Err(e) => e.into_iter().for_each(|x| diags.push(x)),
            },
            None => diags.push(Diagnostic::error(None, "", format!("{} is not UTF-8", shown.display()))),
        }
    }
    docs
}

impl Registry {
    /// Adds stack documents from one source; a stack name seen in an earlier source is replaced.
    pub fn add_source(&mut self, stacks: Vec<Located<StackDefinition>>, origin: &str, diags: &mut Diagnostics) {
        let mut fresh: BTreeMap<String, Stack> = BTreeMap::new();
        for Located { value, doc } in stacks {
            let name = value.metadata.name.clone();
            let entry = fresh.entry(name.clone()).or_insert_with(|| Stack {
                name: name.clone(),
                spec: StackSpec::default(),
                service_docs: BTreeMap::new(),
                origin: origin.to_string(),
            });
            if value.spec.extends.is_some() {
                entry.spec.extends = value.spec.extends.clone();
            }
            if !value.spec.description.is_empty() {
                entry.spec.description = value.spec.description.clone();
            }
            for (svc, def) in value.spec.services {
                if entry.spec.services.contains_key(&svc) {
                    let p: Vec<String> = ["spec", "services", &svc].iter().map(|s| s.to_string()).collect();
                    diags.push(
                        Diagnostic::error(Some(doc.span_of_key(&p[..2], &svc)), p.join("."), format!("service `{svc}` is defined twice in stack `{name}`"))
                            .hint("each service belongs in one StackDefinition document of a stack"),
                    );
                    continue;
                }
                entry.service_docs.insert(svc.clone(), std::sync::Arc::new(doc.clone()));
                entry.spec.services.insert(svc, def);
            }
        }
        self.stacks.extend(fresh);
    }

    /// Loads the embedded stacks, then those in `dir`.
    pub fn build(stacks_dir: Option<&Path>, diags: &mut Diagnostics) -> Registry {
        let mut reg = Registry::default();
        let docs = embedded_docs(diags);
        let inputs = validate(docs, diags);
        reg.add_source(inputs.stacks, "embedded", diags);
        if let Some(dir) = stacks_dir {
            let docs = crate::load::load(&[PathBuf::from(dir)], diags);
            let inputs = validate(docs, diags);
            if !inputs.clusters.is_empty() {
                diags.push(Diagnostic::warning(None, "", format!("{}: Cluster documents in a stacks directory are ignored", dir.display())));
            }
            reg.add_source(inputs.stacks, &dir.display().to_string(), diags);
        }
        reg
    }

    pub fn names(&self) -> Vec<&str> {
        self.stacks.keys().map(String::as_str).collect()
    }

    /// The stack with `extends` applied (services deep-merged over the parent's).
    pub fn resolved(&self, name: &str) -> Result<Stack, String> {
        let mut chain = vec![];
        let mut cur = name.to_string();
        loop {
            let Some(s) = self.stacks.get(&cur) else {
                return Err(if chain.is_empty() {
                    format!("unknown stack `{name}`; {}", known_hint(name, "stacks", self.names()))
                } else {
                    format!("stack `{}` extends unknown stack `{cur}`", chain.last().map(|s: &Stack| s.name.clone()).unwrap_or_default())
                });
            };
            if chain.iter().any(|c: &Stack| c.name == cur) {
                let names: Vec<String> = chain.iter().map(|c| c.name.clone()).chain([cur.clone()]).collect();
                return Err(format!("stacks extend each other in a cycle: {}", names.join(" -> ")));
            }
            chain.push(s.clone());
            match &s.spec.extends {
                Some(p) => cur = p.clone(),
                None => break,
            }
        }
        let mut base = chain.pop().expect("chain has at least one stack");
        while let Some(child) = chain.pop() {
            let mut services = serde_json::to_value(&base.spec.services).unwrap_or(Value::Null);
            let over = serde_json::to_value(&child.spec.services).unwrap_or(Value::Null);
            crate::model::deep_merge(&mut services, &over);
            base.spec.services = serde_json::from_value(services).map_err(|e| format!("stack `{}`: {e}", child.name))?;
            base.service_docs.extend(child.service_docs.clone());
            base.name = child.name.clone();
            base.origin = child.origin.clone();
            if !child.spec.description.is_empty() {
                base.spec.description = child.spec.description.clone();
            }
        }
        base.spec.extends = None;
        Ok(base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_stacks_are_valid() {
        let mut d = Diagnostics::default();
        let r = Registry::build(None, &mut d);
        assert!(!d.has_errors(), "{:#?}", d.items);
        assert!(r.stacks.contains_key("hadoop-3.3"));
        let s = r.resolved("hadoop-3.3").unwrap();
        assert!(s.spec.services.contains_key("zookeeper"));
    }

    #[test]
    fn extends_merges_services_and_detects_cycles() {
        let text = "apiVersion: manager.kubebdp.github.io/v1\nkind: StackDefinition\nmetadata: {name: child}\nspec:\n  extends: hadoop-3.3\n  services:\n    zookeeper:\n      image: {repository: zookeeper, tag: '3.8.9'}\n---\napiVersion: manager.kubebdp.github.io/v1\nkind: StackDefinition\nmetadata: {name: a}\nspec: {extends: b}\n---\napiVersion: manager.kubebdp.github.io/v1\nkind: StackDefinition\nmetadata: {name: b}\nspec: {extends: a}\n";
        let mut d = Diagnostics::default();
        let mut r = Registry::build(None, &mut d);
        let docs = crate::source::parse_documents(Path::new("s.yaml"), text).unwrap();
        let i = validate(docs, &mut d);
        assert!(!d.has_errors(), "{:#?}", d.items);
        r.add_source(i.stacks, "inputs", &mut d);
        let c = r.resolved("child").unwrap();
        let zk = &c.spec.services["zookeeper"];
        assert_eq!(zk.image.tag, "3.8.9");
        assert!(!zk.roles.is_empty(), "parent roles kept");
        assert!(r.resolved("a").unwrap_err().contains("cycle"));
        assert!(r.resolved("hadoop-3.2").unwrap_err().contains("did you mean `hadoop-3.3`"));
    }
}
