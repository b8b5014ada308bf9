//! Stack registry: the stacks shipped inside the binary, stacks from `--stacks DIR`, and
//! StackDefinitions given among the inputs, with `extends` applied.
//!
//! A stack is one or more `StackDefinition` documents with the same `metadata.name`; their
//! services are merged, so a stack folder can keep one file per service. A later source
//! replaces a stack of the same name from an earlier one (embedded < --stacks < inputs).

use crate::diag::{known_hint, Diagnostic, Diagnostics, Code};
use crate::model::{StackDefinition, StackSpec};
use crate::source::Doc;
use crate::validate::{validate, Located};
use include_dir::{include_dir, Dir};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

static EMBEDDED: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/stacks");

/// A service definition with the document it was written in (for error positions).
#[derive(Debug, Clone)]
pub struct Stack {
    pub name: String,
    pub spec: StackSpec,
    /// Document each service came from.
    pub service_docs: BTreeMap<String, std::sync::Arc<Doc>>,
    pub origin: String,
    /// The `knownKeys` lists of each service's files, parsed once when the stack is loaded:
    /// service → file → lists.
    pub known_keys: BTreeMap<String, BTreeMap<String, Vec<Arc<KnownKeys>>>>,
}

impl Stack {
    /// The `knownKeys` lists of a service's file (empty when it names none).
    pub fn known_keys(&self, svc: &str, file: &str) -> &[Arc<KnownKeys>] {
        self.known_keys.get(svc).and_then(|f| f.get(file)).map(Vec::as_slice).unwrap_or(&[])
    }
}

/// Largest known-keys file read (bounds before allocation); the biggest real one is ~20 KB.
pub const MAX_KNOWN_KEYS_BYTES: u64 = 4 * 1024 * 1024;

/// Key names a daemon reads, from one `knownKeys` file of a stack.
#[derive(Debug, Default, PartialEq)]
pub struct KnownKeys {
    /// The file, as shown in messages (`<embedded>/stacks/...` for the built-in stacks).
    pub source: String,
    keys: BTreeSet<String>,
    /// Lines ending in `*`, without it.
    prefixes: Vec<String>,
}

impl KnownKeys {
    /// Parses a list: one key per line, blank lines and `#` lines ignored, a trailing `*` for a
    /// prefix. A line with whitespace inside is an error naming its line number.
    pub fn parse(source: &str, text: &str) -> Result<KnownKeys, String> {
        let mut k = KnownKeys { source: source.to_string(), ..KnownKeys::default() };
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line.chars().any(|c| c.is_whitespace() || c.is_control()) {
                return Err(format!("{source}:{}: `{line}` is not a key name (one key per line, no spaces)", i + 1));
            }
            match line.strip_suffix('*') {
                Some(p) => k.prefixes.push(p.to_string()),
                None => {
                    k.keys.insert(line.to_string());
                }
            }
        }
        Ok(k)
    }

    pub fn contains(&self, key: &str) -> bool {
        self.keys.contains(key) || self.prefixes.iter().any(|p| key.starts_with(p.as_str()))
    }

    /// Is `key` listed by name (not only through a prefix)?
    pub fn lists(&self, key: &str) -> bool {
        self.keys.contains(key)
    }

    /// The exact key names, sorted (prefixes are not listed).
    pub fn keys(&self) -> impl Iterator<Item = &str> + Clone {
        self.keys.iter().map(String::as_str)
    }

    /// Number of exact keys and prefixes.
    pub fn len(&self) -> usize {
        self.keys.len() + self.prefixes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A `knownKeys` path: relative, below the stack document's folder (no `..`, no root).
fn plain_relative(rel: &str) -> Option<&Path> {
    let p = Path::new(rel);
    (!rel.is_empty() && p.components().all(|c| matches!(c, Component::Normal(_)))).then_some(p)
}

/// Reads and parses one known-keys file named by a stack document.
fn read_known_keys(doc_file: &Path, rel: &str) -> Result<KnownKeys, String> {
    let (shown, text) = read_stack_file(doc_file, rel, "knownKeys", MAX_KNOWN_KEYS_BYTES)?;
    KnownKeys::parse(&shown, &text)
}

/// Reads a file next to a stack document (`knownKeys` lists, `script` and `varFiles` files):
/// `rel` is relative to the document's folder (no `..`, not absolute). From the binary for the
/// built-in stacks, else from disk: a regular file (no symbolic link), at most `limit` bytes
/// (checked before reading). Returns the path as shown in messages and the text.
pub fn read_stack_file(doc_file: &Path, rel: &str, what: &str, limit: u64) -> Result<(String, String), String> {
    let Some(relp) = plain_relative(rel) else {
        return Err(format!("{what} `{rel}` must be a relative path below the stack document's folder (no `..`, not absolute)"));
    };
    let dir = doc_file.parent().unwrap_or(Path::new(""));
    if let Ok(inner) = dir.strip_prefix("<embedded>/stacks") {
        let p = inner.join(relp);
        let shown = Path::new("<embedded>/stacks").join(&p);
        let f = EMBEDDED.get_file(&p).ok_or_else(|| format!("{what} file {} does not exist", shown.display()))?;
        if f.contents().len() as u64 > limit {
            return Err(format!("{what} file {} is larger than {limit} bytes", shown.display()));
        }
        let text = f.contents_utf8().ok_or_else(|| format!("{what} file {} is not UTF-8", shown.display()))?;
        return Ok((shown.display().to_string(), text.to_string()));
    }
    if doc_file.as_os_str() == "-" {
        return Err(format!("{what} `{rel}`: a StackDefinition read from stdin has no folder to find it in"));
    }
    let p = dir.join(relp);
    let shown = p.display().to_string();
    let meta = std::fs::symlink_metadata(&p).map_err(|e| format!("{what} file {shown}: {e}"))?;
    if !meta.is_file() {
        return Err(format!("{what} file {shown} is not a regular file (a symbolic link is not followed)"));
    }
    if meta.len() > limit {
        return Err(format!("{what} file {shown} is larger than {limit} bytes"));
    }
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::Read::take(std::fs::File::open(&p).map_err(|e| format!("{what} file {shown}: {e}"))?, limit), &mut text)
        .map_err(|e| format!("{what} file {shown}: {e}"))?;
    Ok((shown, text))
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
            None => diags.push(Diagnostic::error(Code::NotText, None, "", format!("{} is not UTF-8", shown.display()))),
        }
    }
    docs
}

impl Registry {
    /// Adds stack documents from one source; a stack name seen in an earlier source is replaced.
    pub fn add_source(&mut self, stacks: Vec<Located<StackDefinition>>, origin: &str, diags: &mut Diagnostics) {
        let mut fresh: BTreeMap<String, Stack> = BTreeMap::new();
        let mut lists: BTreeMap<(PathBuf, String), Arc<KnownKeys>> = BTreeMap::new();
        for Located { value, doc } in stacks {
            let name = value.metadata.name.clone();
            let entry = fresh.entry(name.clone()).or_insert_with(|| Stack {
                name: name.clone(),
                spec: StackSpec::default(),
                service_docs: BTreeMap::new(),
                origin: origin.to_string(),
                known_keys: BTreeMap::new(),
            });
            if value.spec.extends.is_some() {
                entry.spec.extends = value.spec.extends.clone();
            }
            if !value.spec.description.is_empty() {
                entry.spec.description = value.spec.description.clone();
            }
            for (svc, mut def) in value.spec.services {
                // the stack language's shorthands → the plain model (src/lower.rs)
                let read = |rel: &str, what: &str, limit: u64| read_stack_file(&doc.file, rel, what, limit).map(|(_, text)| text);
                crate::lower::service(&svc, &mut def, &doc, &read, diags);
                if entry.spec.services.contains_key(&svc) {
                    let p: Vec<String> = ["spec", "services", &svc].iter().map(|s| s.to_string()).collect();
                    diags.push(
                        Diagnostic::error(Code::StackDefect, Some(doc.span_of_key(&p[..2], &svc)), p.join("."), format!("service `{svc}` is defined twice in stack `{name}`"))
                            .hint("each service belongs in one StackDefinition document of a stack"),
                    );
                    continue;
                }
                // each known-keys file is read and parsed once, however many files name it
                for (fname, fd) in &def.files {
                    for (i, rel) in fd.known_keys.iter().enumerate() {
                        let key = (doc.file.parent().unwrap_or(Path::new("")).to_path_buf(), rel.clone());
                        let parsed = match lists.get(&key) {
                            Some(k) => Some(Arc::clone(k)),
                            None => match read_known_keys(&doc.file, rel) {
                                Ok(k) => {
                                    let k = Arc::new(k);
                                    lists.insert(key, Arc::clone(&k));
                                    Some(k)
                                }
                                Err(m) => {
                                    let p: Vec<String> = ["spec", "services", &svc, "files", fname, "knownKeys", &i.to_string()].iter().map(|s| s.to_string()).collect();
                                    diags.push(Diagnostic::error(Code::StackDefect, Some(doc.span_at(&p)), p.join("."), m).hint("a known-keys file lists one key per line; `stacks/tools/known-keys.py` generates those of the built-in stack"));
                                    None
                                }
                            },
                        };
                        if let Some(k) = parsed {
                            entry.known_keys.entry(svc.clone()).or_default().entry(fname.clone()).or_default().push(k);
                        }
                    }
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
                diags.push(Diagnostic::warning(Code::ClusterInStacksDir, None, "", format!("{}: Cluster documents in a stacks directory are ignored", dir.display())));
            }
            reg.add_source(inputs.stacks, &dir.display().to_string(), diags);
        }
        reg
    }

    /// Gives `setting` the default `value` in every service of every stack that declares it
    /// (`--monitoring`); a Cluster's own value still wins.
    pub fn set_setting_default(&mut self, setting: &str, value: &serde_json::Value) {
        for st in self.stacks.values_mut() {
            for def in st.spec.services.values_mut() {
                if let Some(sd) = def.settings.get_mut(setting) {
                    sd.default = value.clone();
                }
            }
        }
    }

    pub fn names(&self) -> Vec<&str> {
        self.stacks.keys().map(String::as_str).collect()
    }

    /// The one stack every other known stack extends (directly or through others), e.g.
    /// hadoop-3.3 when hadoop-3.4 extends it; `None` when there are unrelated stacks.
    pub fn sole_base(&self) -> Option<&str> {
        let roots: Vec<&str> = self.stacks.values().filter(|s| s.spec.extends.is_none()).map(|s| s.name.as_str()).collect();
        let [root] = roots.as_slice() else { return None };
        let reaches_root = |name: &str| {
            let mut cur = Some(name.to_string());
            for _ in 0..=self.stacks.len() {
                match cur {
                    Some(n) if n == *root => return true,
                    Some(n) => cur = self.stacks.get(&n).and_then(|s| s.spec.extends.clone()),
                    None => return false,
                }
            }
            false
        };
        self.stacks.keys().all(|n| reaches_root(n)).then_some(*root)
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
            // only what the child wrote overrides the parent: a field it leaves out deserialises
            // as a default (no checks, runAs 10000, restart: true…) that must not replace the
            // parent's value
            let mut over = serde_json::to_value(&child.spec.services).unwrap_or(Value::Null);
            if let Value::Object(m) = &mut over {
                for (svc, v) in m.iter_mut() {
                    let written = child.service_docs.get(svc).map(|d| d.root.to_json()).and_then(|j| j.get("spec")?.get("services")?.get(svc).cloned());
                    match written {
                        // shorthands move what was written elsewhere: keep every non-empty field
                        Some(w) if !uses_shorthands(&w) => keep_written(v, &w),
                        _ => prune_empty(v),
                    }
                }
            }
            crate::merge::deep_merge(&mut services, &over);
            base.spec.services = serde_json::from_value(services).map_err(|e| format!("stack `{}`: {e}", child.name))?;
            base.service_docs.extend(child.service_docs.clone());
            // like the deep merge of the files: a child's file with knownKeys replaces the lists
            for (svc, files) in &child.known_keys {
                base.known_keys.entry(svc.clone()).or_default().extend(files.iter().map(|(f, l)| (f.clone(), l.clone())));
            }
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

/// Keeps, in the object members of `v`, only those `written` has too (recursively, where both
/// are objects): the fields a stack document set, with their lowered values.
fn keep_written(v: &mut Value, written: &Value) {
    if let (Value::Object(m), Value::Object(w)) = (v, written) {
        m.retain(|k, _| w.contains_key(k));
        for (k, x) in m.iter_mut() {
            if let Some(wx) = w.get(k) {
                keep_written(x, wx);
            }
        }
    }
}

/// Does a written service use the stack language's shorthands (which `lower.rs` moves into
/// other fields)?
fn uses_shorthands(svc: &Value) -> bool {
    let has = |v: &Value, k: &str| v.get(k).is_some();
    has(svc, "roleDefaults")
        || has(svc, "conditions")
        || svc.get("files").and_then(Value::as_object).is_some_and(|f| f.values().any(|x| has(x, "blocks")))
        || svc.get("roles").and_then(Value::as_object).is_some_and(|r| {
            r.values().any(|x| has(x, "keys") || ["containers", "initContainers"].iter().any(|c| x.get(c).and_then(Value::as_array).is_some_and(|l| l.iter().any(|y| has(y, "script")))))
        })
}

/// Removes nulls, empty strings, empty lists and empty objects, recursively (object members
/// only): the unset fields of a child stack that uses shorthands (booleans and structs with
/// defaults still override there).
fn prune_empty(v: &mut Value) {
    if let Value::Object(m) = v {
        for x in m.values_mut() {
            prune_empty(x);
        }
        m.retain(|_, x| !matches!(x, Value::Null) && x.as_str() != Some("") && x.as_array().is_none_or(|a| !a.is_empty()) && x.as_object().is_none_or(|o| !o.is_empty()));
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
        // hadoop-3.4 extends hadoop-3.3
        assert_eq!(r.sole_base(), Some("hadoop-3.3"));
        let s = r.resolved("hadoop-3.3").unwrap();
        assert!(s.spec.services.contains_key("zookeeper"));
    }

    #[test]
    fn known_keys_lists_parse_keys_prefixes_and_comments() {
        let k = KnownKeys::parse("k.txt", "# header\n\nb.key\na.key\nserver.*\n").unwrap();
        assert!(k.contains("a.key") && k.contains("b.key") && k.contains("server.12"));
        assert!(!k.contains("c.key") && !k.contains("server") && !k.contains("# header"));
        assert_eq!(k.keys().collect::<Vec<_>>(), ["a.key", "b.key"]);
        assert_eq!(k.len(), 3);
        assert!(k.lists("a.key") && !k.lists("server.12"));
        assert_eq!(KnownKeys::parse("k.txt", "ok\nnot ok\n").unwrap_err(), "k.txt:2: `not ok` is not a key name (one key per line, no spaces)");
        assert!(plain_relative("known-keys/a.txt").is_some());
        for bad in ["", "/etc/passwd", "../a.txt", "a/../../b", "./a.txt"] {
            assert!(plain_relative(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn embedded_known_keys_are_parsed_once_per_file() {
        let mut d = Diagnostics::default();
        let r = Registry::build(None, &mut d);
        assert!(!d.has_errors(), "{:#?}", d.items);
        let s = r.resolved("hadoop-3.3").unwrap();
        let hdfs = s.known_keys("hdfs", "hdfs-site.xml");
        assert_eq!(hdfs.len(), 1);
        assert!(hdfs[0].contains("dfs.namenode.handler.count"));
        assert_eq!(hdfs[0].source, "<embedded>/stacks/hadoop-3.3/known-keys/hdfs-site.xml.txt");
        assert!(s.known_keys("hdfs", "hadoop-env.sh")[0].contains("HADOOP_HEAPSIZE_MAX"));
        assert!(s.known_keys("zookeeper", "zoo.cfg")[0].contains("snapCount"));
        assert!(s.known_keys("hdfs", "log4j.properties").is_empty());
        // hadoop-3.4 names its own lists (Hadoop 3.4.1, ZooKeeper 3.9.3) instead of its parent's
        let s34 = r.resolved("hadoop-3.4").unwrap();
        let new_key = "dfs.balancer.getBlocks.hot-time-interval";
        assert!(s34.known_keys("hdfs", "hdfs-site.xml")[0].contains(new_key) && !hdfs[0].contains(new_key));
        assert_eq!(s34.known_keys("zookeeper", "zoo.cfg")[0].source, "<embedded>/stacks/hadoop-3.4/known-keys/zoo.cfg.txt");
        // resolving the stack again shares the parsed lists instead of copying them
        let again = r.resolved("hadoop-3.3").unwrap();
        assert!(Arc::ptr_eq(&hdfs[0], &again.known_keys("hdfs", "hdfs-site.xml")[0]));
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
        assert!(c.known_keys("zookeeper", "zoo.cfg")[0].contains("snapCount"), "parent known keys kept");
        // the fields the child leaves out keep the parent's values (they were replaced by empty
        // defaults: no checks, no versions, no generated server.N keys)
        let parent = r.resolved("hadoop-3.3").unwrap();
        assert_eq!(zk.checks, parent.spec.services["zookeeper"].checks);
        assert!(!zk.checks.is_empty() && zk.versions.is_some());
        assert_eq!(zk.files["zoo.cfg"].generate, parent.spec.services["zookeeper"].files["zoo.cfg"].generate);
        assert_eq!(zk.operations, parent.spec.services["zookeeper"].operations);
        assert_eq!(zk.run_as, parent.spec.services["zookeeper"].run_as, "runAs is not reset to its default");
        let h34 = r.resolved("hadoop-3.4").unwrap();
        assert_eq!(h34.spec.services["hdfs"].run_as, parent.spec.services["hdfs"].run_as);
        assert_eq!(h34.spec.services["hdfs"].checks, parent.spec.services["hdfs"].checks);
        assert!(r.resolved("a").unwrap_err().contains("cycle"));
        // a and b extend each other, not hadoop-3.3: no sole base any more
        assert_eq!(r.sole_base(), None);
        assert!(r.resolved("hadoop-3.2").unwrap_err().contains("did you mean `hadoop-3.3`"));
    }
}
