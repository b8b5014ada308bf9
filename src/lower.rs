//! The stack language's shorthands, lowered into the plain stack model when a stack is loaded
//! (`stacks.rs` calls [`service`] for every service of every StackDefinition document, before
//! `extends` is applied). Later stages never see the shorthands:
//!
//! | written | lowered to |
//! |---|---|
//! | `roleDefaults: {...}` | the fields in every role that does not set them (`env`, `volumes`, `resources` merged key by key; default `initContainers` first) |
//! | `roles.R.keys.F.K: {...}` | `files.F.keys.K` with `when: role.name == 'R'` (and the key's own `when`); a key several roles declare gets `role.name in [...]`, and, when their values differ, a value `{% if role.name == 'R' %}…{% elif … %}…{% endif %}` |
//! | `files.F.blocks: [{when, keys}]` | each key in `files.F.keys`, its `when` and-ed with the block's |
//! | `conditions: {secure: EXPR}` + `when: secure` | the name replaced by `(EXPR)` in every expression field |
//! | `script: {file, shell}` | `command: [shell..., <the file's text>]` (without a first `#!` line) |
//! | `varFiles: {NAME: PATH}` | `vars.NAME`: the file's text (a `.json` file checked to be JSON; templates parse it with `fromjson`) |
//!
//! Errors (a key declared twice, an unknown condition cycle, a missing script) carry the
//! stack document's position and field path.

use crate::diag::{Code, Diagnostic, Diagnostics};
use crate::model::{ContainerDef, KeyDef, RoleDef, RoleDefaults, ServiceDef};
use crate::source::Doc;
use std::collections::{BTreeMap, BTreeSet};

/// Names a condition may not take: the template context's variables and the expression
/// language's words (a condition named `role` would change what `role.name` means).
const RESERVED: &[&str] = &[
    "cluster", "service", "settings", "roles", "role", "deps", "services", "config", "replicas", "vars", "loop", "true", "false",
    "none", "True", "False", "None", "and", "or", "not", "in", "is", "if", "else", "defined", "undefined",
];

/// Reads a file next to the stack document: `(path relative to its folder, what it is for the
/// messages, most bytes)` → its text, or why it cannot.
pub type ReadFile<'a> = &'a dyn Fn(&str, &str, u64) -> Result<String, String>;

/// Lowers one service definition in place; `read` reads the files it names.
pub fn service(svc: &str, def: &mut ServiceDef, doc: &Doc, read: ReadFile, diags: &mut Diagnostics) {
    let at = |rest: &[&str]| -> Vec<String> { ["spec", "services", svc].iter().chain(rest).map(|s| s.to_string()).collect() };
    let mut err = |path: Vec<String>, msg: String, hint: &str| {
        diags.push(Diagnostic::error(Code::StackDefect, Some(doc.span_at(&path)), path.join("."), msg).hint(hint.to_string()));
    };

    // scripts first, so that defaults carry the lowered commands
    if let Some(d) = &mut def.role_defaults {
        for (i, c) in d.init_containers.iter_mut().enumerate() {
            script(c, read, &at(&["roleDefaults", "initContainers", &i.to_string()]), &mut err);
        }
    }
    for (r, rd) in &mut def.roles {
        for (i, c) in rd.init_containers.iter_mut().enumerate() {
            script(c, read, &at(&["roles", r, "initContainers", &i.to_string()]), &mut err);
        }
        for (i, c) in rd.containers.iter_mut().enumerate() {
            script(c, read, &at(&["roles", r, "containers", &i.to_string()]), &mut err);
        }
    }

    var_files(def, read, &at(&["varFiles"]), &mut err);

    if let Some(d) = def.role_defaults.take() {
        for rd in def.roles.values_mut() {
            apply_defaults(rd, &d);
        }
    }

    // key blocks
    for (fname, fd) in &mut def.files {
        for (bi, block) in std::mem::take(&mut fd.blocks).into_iter().enumerate() {
            for (k, mut kd) in block.keys {
                if fd.keys.contains_key(&k) {
                    err(at(&["files", fname, "blocks", &bi.to_string(), "keys", &k]), format!("key `{k}` of `{fname}` is declared twice"), "declare each key once: in `keys`, in one block, or under one role");
                    continue;
                }
                kd.when = Some(and(&block.when, kd.when.as_deref()));
                fd.keys.insert(k, kd);
            }
        }
    }

    // per-role keys: (file, key) → the roles declaring it, with their definitions
    let mut by_key: BTreeMap<(String, String), Vec<(String, KeyDef)>> = BTreeMap::new();
    for (r, rd) in &mut def.roles {
        for (fname, keys) in std::mem::take(&mut rd.keys) {
            if !def.files.contains_key(&fname) {
                err(at(&["roles", r, "keys", &fname]), format!("role `{r}` declares keys of `{fname}`, which is not a file of the service"), "declare the file under `files` first");
                continue;
            }
            if !rd.files.contains(&fname) {
                err(at(&["roles", r, "keys", &fname]), format!("role `{r}` declares keys of `{fname}` but does not mount it"), "add the file to the role's `files`");
            }
            for (k, kd) in keys {
                by_key.entry((fname.clone(), k)).or_default().push((r.clone(), kd));
            }
        }
    }
    for ((fname, k), decls) in by_key {
        let (first_role, first) = &decls[0];
        // the roles may give different values; everything else about the key is one definition
        let same_but_value = |kd: &KeyDef| KeyDef { value: first.value.clone(), ..kd.clone() } == *first;
        if let Some((other, _)) = decls.iter().find(|(_, kd)| !same_but_value(kd)) {
            err(at(&["roles", other, "keys", &fname, &k]), format!("key `{k}` of `{fname}` is declared by roles `{first_role}` and `{other}` with different `doc`, `owned`, `restart` or `when`"), "roles may give a key different values; the rest of its definition is shared");
            continue;
        }
        let Some(fd) = def.files.get_mut(&fname) else { continue };
        if fd.keys.contains_key(&k) {
            err(at(&["roles", first_role, "keys", &fname, &k]), format!("key `{k}` of `{fname}` is declared twice"), "declare each key once: in `keys`, in one block, or under one role");
            continue;
        }
        let roles: Vec<&str> = decls.iter().map(|(r, _)| r.as_str()).collect();
        let guard = match roles.as_slice() {
            [one] => format!("role.name == '{one}'"),
            many => format!("role.name in [{}]", many.iter().map(|r| format!("'{r}'")).collect::<Vec<_>>().join(", ")),
        };
        let mut kd = first.clone();
        kd.when = Some(and(&guard, kd.when.as_deref()));
        if decls.iter().any(|(_, d)| d.value != first.value) {
            // one value template that picks the role's
            let mut v = String::new();
            for (i, (r, d)) in decls.iter().enumerate() {
                v.push_str(&format!("{{% {} role.name == '{r}' %}}{}", if i == 0 { "if" } else { "elif" }, d.value));
            }
            v.push_str("{% endif %}");
            kd.value = v;
        }
        fd.keys.insert(k, kd);
    }

    conditions(svc, def, doc, diags);
}

/// `a and b`; a `b` that is more than one word gets parentheses.
fn and(a: &str, b: Option<&str>) -> String {
    match b {
        None => a.to_string(),
        Some(b) if is_ident(b.trim()) => format!("{a} and {}", b.trim()),
        Some(b) => format!("{a} and ({b})"),
    }
}

fn is_ident(s: &str) -> bool {
    let mut cs = s.chars();
    cs.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `varFiles: {NAME: PATH}` → `vars.NAME`: the file's text; a `.json` file must parse as JSON
/// (templates read it with the `fromjson` filter). Kept as text, so that the contexts that
/// carry `vars` (every role's, every dependent's) copy one string, not a tree of values.
fn var_files(def: &mut ServiceDef, read: ReadFile, path: &[String], err: &mut impl FnMut(Vec<String>, String, &str)) {
    for (name, rel) in std::mem::take(&mut def.var_files) {
        let mut p = path.to_vec();
        p.push(name.clone());
        if def.vars.contains_key(&name) {
            err(p, format!("var `{name}` is declared in both `vars` and `varFiles`"), "give it one source: a value under `vars` or a file under `varFiles`");
            continue;
        }
        let text = match read(&rel, "varFiles", crate::limits::MAX_VAR_FILE_BYTES) {
            Ok(t) => t,
            Err(m) => {
                err(p, m, "a var file is next to the stack document, named relative to its folder");
                continue;
            }
        };
        // serde_json stops at 128 levels of nesting: no stack overflow on hostile input
        if rel.ends_with(".json")
            && let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(&text)
        {
            err(p, format!("var file `{rel}` is not valid JSON: {e}"), "a `.json` var file must be one JSON value (check it with `python3 -m json.tool FILE`)");
            continue;
        }
        def.vars.insert(name, serde_json::Value::String(text));
    }
}

/// `script: {file, shell}` → `command: [shell..., text]`.
fn script(c: &mut ContainerDef, read: ReadFile, path: &[String], err: &mut impl FnMut(Vec<String>, String, &str)) {
    let Some(s) = c.script.take() else { return };
    let mut p = path.to_vec();
    p.push("script".into());
    if !c.command.is_empty() {
        err(p, format!("container `{}` has both `command` and `script`", c.name), "keep one: `script` becomes the command");
        return;
    }
    match read(&s.file, "script", crate::limits::MAX_SCRIPT_BYTES) {
        Ok(text) => {
            // a `#!` line (for editors and shellcheck) is not part of the command: `shell` runs it
            let body = match text.strip_prefix("#!") {
                Some(rest) => rest.split_once('\n').map(|(_, b)| b).unwrap_or("").to_string(),
                None => text,
            };
            c.command = s.shell;
            c.command.push(body);
        }
        Err(m) => {
            p.push("file".into());
            err(p, m, "a script is a file next to the stack document, named relative to its folder");
        }
    }
}

/// Fields the role does not set come from the defaults.
fn apply_defaults(rd: &mut RoleDef, d: &RoleDefaults) {
    if rd.pod_management_policy.is_none() {
        rd.pod_management_policy = d.pod_management_policy;
    }
    if rd.scratch.is_empty()
        && let Some(s) = &d.scratch
    {
        rd.scratch = s.clone();
    }
    if rd.files.is_empty()
        && let Some(f) = &d.files
    {
        rd.files = f.clone();
    }
    if let Some(dr) = &d.resources {
        let mut merged = dr.clone();
        if let Some(r) = &rd.resources {
            crate::merge::deep_merge(&mut merged, r);
        }
        rd.resources = Some(merged);
    }
    if rd.pdb.is_none() {
        rd.pdb = d.pdb.clone();
    }
    if rd.placement.is_none() {
        rd.placement = d.placement.clone();
    }
    if rd.termination_grace_period_seconds.is_none() {
        rd.termination_grace_period_seconds = d.termination_grace_period_seconds;
    }
    for (k, v) in &d.env {
        rd.env.entry(k.clone()).or_insert_with(|| v.clone());
    }
    for (k, v) in &d.volumes {
        rd.volumes.entry(k.clone()).or_insert_with(|| v.clone());
    }
    if !d.init_containers.is_empty() {
        let own = std::mem::take(&mut rd.init_containers);
        let mut list: Vec<ContainerDef> = d.init_containers.iter().map(|c| own.iter().find(|o| o.name == c.name).unwrap_or(c).clone()).collect();
        list.extend(own.into_iter().filter(|o| !d.init_containers.iter().any(|c| c.name == o.name)));
        rd.init_containers = list;
    }
    if rd.manifests.is_empty()
        && let Some(m) = &d.manifests
    {
        rd.manifests = m.clone();
    }
    if rd.pod_overrides.is_none() {
        rd.pod_overrides = d.pod_overrides.clone();
    }
}

/// Replaces condition names by their expressions in every expression field of the service.
fn conditions(svc: &str, def: &mut ServiceDef, doc: &Doc, diags: &mut Diagnostics) {
    if def.conditions.is_empty() {
        return;
    }
    let path = |name: &str| -> Vec<String> { ["spec", "services", svc, "conditions", name].iter().map(|s| s.to_string()).collect() };
    let mut bad = false;
    for name in def.conditions.keys() {
        if RESERVED.contains(&name.as_str()) {
            bad = true;
            let p = path(name);
            diags.push(
                Diagnostic::error(Code::StackDefect, Some(doc.span_of_key(&p[..4], name)), p.join("."), format!("condition `{name}` would hide the template variable or word `{name}`"))
                    .hint("name conditions after what they mean, e.g. `secure`, `ha`"),
            );
        }
    }
    // each condition with the conditions it names expanded (they may build on each other)
    let mut expanded: BTreeMap<String, String> = BTreeMap::new();
    for name in def.conditions.keys() {
        match expand_condition(name, &def.conditions, &mut BTreeSet::new()) {
            Ok(e) => {
                expanded.insert(name.clone(), e);
            }
            Err(why) => {
                bad = true;
                let p = path(name);
                diags.push(Diagnostic::error(Code::StackDefect, Some(doc.span_at(&p)), p.join("."), why).hint("a condition may use other conditions, without cycles"));
            }
        }
    }
    if bad {
        return;
    }
    // an expression that would grow past the bound keeps its text (and fails as undefined names
    // when rendered); the error says why
    let too_long = std::cell::Cell::new(false);
    let x = |e: &mut String| match expanded_len(e, &expanded) <= MAX_EXPANDED {
        true => *e = substitute(e, &expanded),
        false => too_long.set(true),
    };
    let xo = |e: &mut Option<String>| {
        if let Some(e) = e {
            x(e);
        }
    };
    for fd in def.files.values_mut() {
        xo(&mut fd.when);
        fd.keys.values_mut().for_each(|k| xo(&mut k.when));
        fd.generate.iter_mut().for_each(|g| xo(&mut g.when));
    }
    for rd in def.roles.values_mut() {
        xo(&mut rd.enabled);
        rd.ports.iter_mut().for_each(|p| xo(&mut p.when));
        rd.init_containers.iter_mut().chain(rd.containers.iter_mut()).for_each(|c| xo(&mut c.when));
        rd.volumes.values_mut().for_each(|v| xo(&mut v.when));
    }
    for c in &mut def.checks {
        x(&mut c.assert);
        xo(&mut c.when);
    }
    if too_long.get() {
        let p: Vec<String> = ["spec", "services", svc, "conditions"].iter().map(|s| s.to_string()).collect();
        diags.push(
            Diagnostic::error(Code::StackDefect, Some(doc.span_at(&p)), p.join("."), format!("an expression of `{svc}` grows past {MAX_EXPANDED} bytes with its conditions expanded"))
                .hint("use a condition fewer times in one expression, or name the combination as a condition"),
        );
    }
    def.conditions.clear();
}

/// Longest expression a condition may expand to: conditions that use each other twice over
/// would otherwise double at every level (bounds before allocation).
pub const MAX_EXPANDED: usize = 64 * 1024;

fn expand_condition(name: &str, conds: &BTreeMap<String, String>, seen: &mut BTreeSet<String>) -> Result<String, String> {
    if !seen.insert(name.to_string()) {
        return Err(format!("conditions refer to each other in a cycle: {}", seen.iter().cloned().collect::<Vec<_>>().join(", ")));
    }
    let Some(body) = conds.get(name) else { return Ok(name.to_string()) };
    let mut inner = BTreeMap::new();
    for other in words(body).into_iter().filter(|w| conds.contains_key(*w)) {
        if !inner.contains_key(other) {
            inner.insert(other.to_string(), expand_condition(other, conds, seen)?);
        }
    }
    seen.remove(name);
    if expanded_len(body, &inner) > MAX_EXPANDED {
        return Err(format!("condition `{name}` expands to more than {MAX_EXPANDED} bytes"));
    }
    Ok(substitute(body, &inner))
}

/// The identifiers of an expression that stand alone (not an attribute after `.`, not inside
/// a string literal).
fn words(expr: &str) -> Vec<&str> {
    scan(expr).into_iter().filter_map(|t| if let Token::Word(w) = t { Some(w) } else { None }).collect()
}

/// The length of `substitute(expr, names)`, computed without building it.
fn expanded_len(expr: &str, names: &BTreeMap<String, String>) -> usize {
    scan(expr)
        .into_iter()
        .map(|t| match t {
            Token::Word(w) => names.get(w).map_or(w.len(), |e| e.len().saturating_add(2)),
            Token::Other(o) => o.len(),
        })
        .fold(0usize, usize::saturating_add)
}

/// `expr` with each standalone identifier found in `names` replaced by `(its expression)`.
pub fn substitute(expr: &str, names: &BTreeMap<String, String>) -> String {
    scan(expr)
        .into_iter()
        .map(|t| match t {
            Token::Word(w) => names.get(w).map(|e| format!("({e})")).unwrap_or_else(|| w.to_string()),
            Token::Other(o) => o.to_string(),
        })
        .collect()
}

enum Token<'a> {
    /// An identifier that is not an attribute (`secure`, not `deps.secure`).
    Word(&'a str),
    /// Anything else, kept as written.
    Other(&'a str),
}

/// Splits an expression into standalone identifiers and the rest (string literals, attribute
/// names, operators), so that substitution never touches a string or an attribute.
fn scan(expr: &str) -> Vec<Token<'_>> {
    let b = expr.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut start = 0;
    let mut prev_dot = false;
    while i < b.len() {
        let c = b[i];
        if c == b'\'' || c == b'"' {
            // a string literal up to its closing quote (backslash escapes)
            let mut j = i + 1;
            while j < b.len() && b[j] != c {
                j += if b[j] == b'\\' { 2 } else { 1 };
            }
            i = (j + 1).min(b.len());
            prev_dot = false;
        } else if c.is_ascii_alphabetic() || c == b'_' {
            let mut j = i + 1;
            while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                j += 1;
            }
            if !prev_dot {
                if start < i {
                    out.push(Token::Other(&expr[start..i]));
                }
                out.push(Token::Word(&expr[i..j]));
                start = j;
            }
            i = j;
            prev_dot = false;
        } else {
            if !c.is_ascii_whitespace() {
                prev_dot = c == b'.';
            }
            i += 1;
        }
    }
    if start < b.len() {
        out.push(Token::Other(&expr[start..]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substitution_replaces_standalone_names_only() {
        let names = BTreeMap::from([("secure".to_string(), "deps.kerberos is defined".to_string()), ("ha".to_string(), "roles.nn.replicas > 1".to_string())]);
        assert_eq!(substitute("secure", &names), "(deps.kerberos is defined)");
        assert_eq!(substitute("ha and not secure", &names), "(roles.nn.replicas > 1) and not (deps.kerberos is defined)");
        // attributes, string literals and longer words are not conditions
        assert_eq!(substitute("deps.secure or role.name == 'ha' or hash", &names), "deps.secure or role.name == 'ha' or hash");
        assert_eq!(substitute("x. secure", &names), "x. secure");
        assert_eq!(substitute("'it\\'s secure' == secure", &names), "'it\\'s secure' == (deps.kerberos is defined)");
    }

    #[test]
    fn conditions_build_on_each_other_within_bounds() {
        let conds = |pairs: &[(&str, &str)]| pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>();
        let c = conds(&[("a", "x > 1"), ("b", "a and y")]);
        assert_eq!(expand_condition("b", &c, &mut BTreeSet::new()).unwrap(), "(x > 1) and y");
        let c = conds(&[("a", "b"), ("b", "a")]);
        assert!(expand_condition("a", &c, &mut BTreeSet::new()).unwrap_err().contains("cycle"));
        // each level doubles: refused before it is built
        let names: Vec<String> = (0..40).map(|i| format!("c{i}")).collect();
        let mut c: BTreeMap<String, String> = names.windows(2).map(|w| (w[0].clone(), format!("{} and {}", w[1], w[1]))).collect();
        c.insert("c39".into(), "x".into());
        assert!(expand_condition("c0", &c, &mut BTreeSet::new()).unwrap_err().contains("more than"));
    }

    #[test]
    fn and_parenthesises_expressions_but_not_names() {
        assert_eq!(and("role.name == 'nn'", None), "role.name == 'nn'");
        assert_eq!(and("role.name == 'nn'", Some("ha")), "role.name == 'nn' and ha");
        assert_eq!(and("role.name == 'nn'", Some("a or b")), "role.name == 'nn' and (a or b)");
    }
}

#[cfg(test)]
mod template_notes {
    /// What docs/stack-authoring.md says about `{#` in scripts holds.
    #[test]
    fn a_hash_brace_is_written_as_a_string_literal() {
        let t = crate::template::Templates::new();
        let ctx = minijinja::Value::from(());
        assert_eq!(t.render("n={{ '${#var}' }}", &ctx).unwrap(), "n=${#var}");
        // a text without `{{` or `{%` is used as is
        assert_eq!(t.render("a=${#x}; b=${#y}; c=${z#}", &ctx).unwrap(), "a=${#x}; b=${#y}; c=${z#}");
        // in a template, `{#` opens a comment that a later `#}` closes
        assert_eq!(t.render("{{ 1 }} a=${#x}; b=${#y}; c=${z#}", &ctx).unwrap(), "1 a=$");
    }
}
