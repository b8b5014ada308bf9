//! The invariants of a fuzz case, shared by the stable driver (tests/fuzz.rs) and the
//! `cargo fuzz` targets (fuzz/): what a rendered stream must satisfy, and where errors must point.

use super::mutate::{KEY_MARK, SECT_MARK};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use yaml_rust2::{Yaml, YamlLoader};

/// A broken invariant: its name and what was seen. `detail` is normalised enough that the same
/// bug found twice gives the same signature (see [`Finding::signature`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Finding {
    pub invariant: &'static str,
    pub detail: String,
}

impl Finding {
    pub fn new(invariant: &'static str, detail: impl Into<String>) -> Self {
        Finding { invariant, detail: detail.into() }
    }
    /// The invariant and the detail with numbers and quoted text blurred.
    pub fn signature(&self) -> String {
        let mut s = String::new();
        let mut quoted = false;
        for c in self.detail.chars() {
            match c {
                '`' => {
                    quoted = !quoted;
                    s.push('`');
                }
                _ if quoted => {}
                c if c.is_ascii_digit() => {
                    if !s.ends_with('N') {
                        s.push('N');
                    }
                }
                c => s.push(c),
            }
        }
        let s: String = s.chars().take(120).collect();
        format!("{}: {}", self.invariant, s)
    }
}

/// How many of each check ran: the driver prints them, so nothing is skipped silently.
#[derive(Debug, Default, Clone)]
pub struct Stats {
    pub counts: BTreeMap<&'static str, u64>,
}

impl Stats {
    pub fn bump(&mut self, what: &'static str) {
        *self.counts.entry(what).or_default() += 1;
    }
}

/// Where a check may write files and which path hostile values try to create.
pub struct Env<'a> {
    pub work: &'a Path,
    pub canary: &'a Path,
}

/// A finished run: exit status, stdout, stderr, wall time.
pub type Ran = (std::process::ExitStatus, Vec<u8>, Vec<u8>, Duration);

/// Runs a command with a wall-clock limit; `None` if it had to be killed.
pub fn run_limited(cmd: &mut Command, limit: Duration) -> std::io::Result<Option<Ran>> {
    use std::io::Read;
    let t = Instant::now();
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn()?;
    // read both pipes on threads so a chatty child cannot block on a full pipe
    let mut so = child.stdout.take().expect("piped");
    let mut se = child.stderr.take().expect("piped");
    let ho = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = so.read_to_end(&mut v);
        v
    });
    let he = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = se.read_to_end(&mut v);
        v
    });
    loop {
        if let Some(st) = child.try_wait()? {
            let el = t.elapsed();
            return Ok(Some((st, ho.join().unwrap_or_default(), he.join().unwrap_or_default(), el)));
        }
        if t.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            let _ = ho.join();
            let _ = he.join();
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

// ---------------------------------------------------------------- the YAML stream

/// Characters a YAML 1.1 or 1.2 reader may misread when written raw: the writer must escape
/// them in a double-quoted scalar. (YAML 1.2 c-printable, minus what 1.1 reads as line breaks.)
fn yaml_unportable(c: char) -> bool {
    let u = c as u32;
    !(c == '\t' || c == '\n' || (0x20..=0x7e).contains(&u) || (0xa0..=0xd7ff).contains(&u) || (0xe000..=0xfffd).contains(&u) || u >= 0x10000)
        || matches!(u, 0x2028 | 0x2029 | 0xfeff)
}

fn yaml_to_json(y: &Yaml) -> serde_json::Value {
    use serde_json::Value as J;
    match y {
        Yaml::Hash(h) => J::Object(
            h.iter()
                .map(|(k, v)| {
                    let ks = match k {
                        Yaml::String(s) => s.clone(),
                        Yaml::Integer(i) => i.to_string(),
                        Yaml::Real(r) => r.clone(),
                        Yaml::Boolean(b) => b.to_string(),
                        other => format!("{other:?}"),
                    };
                    (ks, yaml_to_json(v))
                })
                .collect(),
        ),
        Yaml::Array(a) => J::Array(a.iter().map(yaml_to_json).collect()),
        Yaml::String(s) => J::String(s.clone()),
        Yaml::Integer(i) => J::from(*i),
        Yaml::Real(r) => r.parse::<f64>().ok().and_then(serde_json::Number::from_f64).map(J::Number).unwrap_or(J::Null),
        Yaml::Boolean(b) => J::Bool(*b),
        _ => J::Null,
    }
}

/// Kubernetes names: DNS-1123 subdomain (`metadata.name` of most kinds).
fn dns_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty() && l.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') && !l.starts_with('-') && !l.ends_with('-')
        })
}

fn label_value(s: &str) -> bool {
    s.len() <= 63
        && (s.is_empty()
            || (s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
                && s.as_bytes()[0].is_ascii_alphanumeric()
                && s.as_bytes()[s.len() - 1].is_ascii_alphanumeric()))
}

/// Every invariant of a rendered YAML stream (exit 0): it parses, is portable, and every
/// embedded file parses in its own format with no key or section a value injected.
pub fn check_stream(text: &str, env: &Env, stats: &mut Stats) -> Vec<Finding> {
    let mut out = Vec::new();
    stats.bump("streams");
    if let Some((i, c)) = text.char_indices().find(|(_, c)| yaml_unportable(*c)) {
        let line = text[..i].matches('\n').count() + 1;
        out.push(Finding::new("yaml-portable", format!("raw U+{:04X} in the rendered stream (line `{line}`)", c as u32)));
    }
    let docs = match YamlLoader::load_from_str(text) {
        Ok(d) => d,
        Err(e) => {
            out.push(Finding::new("yaml-parses", format!("the rendered stream does not parse: {e}")));
            return out;
        }
    };
    for d in &docs {
        let j = yaml_to_json(d);
        let kind = j["kind"].as_str().unwrap_or("").to_string();
        stats.bump("objects");
        check_object(&kind, &j, &mut out);
        let data = j.get("data").or_else(|| j.get("stringData"));
        if let Some(serde_json::Value::Object(m)) = data {
            for (name, v) in m {
                let Some(content) = v.as_str() else {
                    out.push(Finding::new("k8s-types", format!("{kind}.data[{name}] is not a string")));
                    continue;
                };
                if kind == "Secret" && j.get("data").is_some() {
                    continue; // base64
                }
                out.extend(check_file(name, content, env, stats).into_iter().map(|mut f| {
                    f.detail = format!("{name}: {}", f.detail);
                    f
                }));
            }
        }
        for script in scripts(&j) {
            out.extend(check_script(&script, env, stats));
        }
    }
    out
}

/// API-server rules the objects must meet: names are DNS subdomains, label values valid,
/// every `name` field a string, ConfigMap keys valid.
fn check_object(kind: &str, j: &serde_json::Value, out: &mut Vec<Finding>) {
    match j["metadata"]["name"].as_str() {
        Some(n) if dns_subdomain(n) => {}
        other => out.push(Finding::new("k8s-names", format!("{kind} metadata.name {other:?} is not a DNS subdomain"))),
    }
    if let Some(serde_json::Value::Object(l)) = j["metadata"].get("labels") {
        for (k, v) in l {
            if !v.as_str().is_some_and(label_value) {
                out.push(Finding::new("k8s-names", format!("{kind} label {k} has an invalid value")));
            }
        }
    }
    if kind == "ConfigMap"
        && let Some(serde_json::Value::Object(m)) = j.get("data")
    {
        for k in m.keys() {
            if k.is_empty() || k.len() > 253 || !k.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._".contains(&b)) {
                out.push(Finding::new("k8s-names", "ConfigMap data key is not [-._a-zA-Z0-9]+".to_string()));
            }
        }
    }
    fn names(v: &serde_json::Value, path: &mut Vec<String>, kind: &str, out: &mut Vec<Finding>) {
        match v {
            serde_json::Value::Object(m) => {
                for (k, x) in m {
                    // `name` is a string everywhere in Kubernetes objects (references, ports, volumes…)
                    if k == "name" && !x.is_string() && path.last().is_none_or(|p| p != "data" && p != "labels" && p != "annotations") {
                        out.push(Finding::new("k8s-types", format!("{kind} {}.name is {}, not a string", path.join("."), kind_of(x))));
                    }
                    path.push(k.clone());
                    names(x, path, kind, out);
                    path.pop();
                }
            }
            serde_json::Value::Array(a) => {
                for x in a {
                    path.push("[]".into());
                    names(x, path, kind, out);
                    path.pop();
                }
            }
            _ => {}
        }
    }
    names(j, &mut Vec::new(), kind, out);
}

fn kind_of(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "a map",
    }
}

/// Shell scripts of containers (`[bash|sh, -c…, SCRIPT]`).
fn scripts(j: &serde_json::Value) -> Vec<String> {
    let mut found = Vec::new();
    fn walk(v: &serde_json::Value, found: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                if let Some(serde_json::Value::Array(cmd)) = m.get("command") {
                    let mut all: Vec<&serde_json::Value> = cmd.iter().collect();
                    if let Some(serde_json::Value::Array(a)) = m.get("args") {
                        all.extend(a.iter());
                    }
                    let s: Vec<&str> = all.iter().filter_map(|x| x.as_str()).collect();
                    if s.len() >= 3 && matches!(s[0], "bash" | "sh" | "/bin/bash" | "/bin/sh") && s[1].starts_with('-') && s[1].contains('c') {
                        found.push(s[2].to_string());
                    }
                }
                m.values().for_each(|x| walk(x, found));
            }
            serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, found)),
            _ => {}
        }
    }
    walk(j, &mut found);
    found
}

fn check_script(script: &str, env: &Env, stats: &mut Stats) -> Vec<Finding> {
    stats.bump("scripts checked with bash -n");
    let mut cmd = Command::new("bash");
    cmd.args(["-n", "-c", script]).current_dir(env.work);
    match run_limited(&mut cmd, Duration::from_secs(10)) {
        Ok(Some((st, _, err, _))) if !st.success() => {
            vec![Finding::new("script-syntax", format!("a container script does not parse: {}", String::from_utf8_lossy(&err).lines().next().unwrap_or("")))]
        }
        Ok(Some(_)) => Vec::new(),
        Ok(None) => vec![Finding::new("script-syntax", "bash -n took over 10 s")],
        Err(e) => vec![Finding::new("harness", format!("cannot run bash: {e}"))],
    }
}

// ---------------------------------------------------------------- embedded files

/// Checks one embedded file by its name: XML, Java properties, krb5 profile, env file.
pub fn check_file(name: &str, content: &str, env: &Env, stats: &mut Stats) -> Vec<Finding> {
    let mut out = Vec::new();
    if name.ends_with(".xml") {
        stats.bump("xml files parsed");
        out.extend(check_xml(content));
        return out;
    }
    if name.ends_with(".env") || name.ends_with(".sh") {
        // a quoted value may span lines in shell: bash decides what the file defines
        stats.bump("env files sourced by bash");
        out.extend(check_env(content, env));
        return out;
    }
    if name.ends_with(".properties") || name.ends_with(".cfg") {
        // continuation lines are the format's own: its parser decides what the keys are
        stats.bump("properties files parsed");
        out.extend(check_properties(content));
        return out;
    }
    if name.ends_with(".yaml") || name.ends_with(".yml") {
        // a multi-line value is a block scalar whose lines are data: the parser decides
        stats.bump("yaml files parsed");
        out.extend(check_yaml_file(content));
        return out;
    }
    out.extend(check_lines(content));
    if name.ends_with("jaas.conf") {
        stats.bump("JAAS configurations parsed");
        out.extend(check_jaas(content));
    } else if name == "krb5.conf" || name == "kdc.conf" || name.ends_with(".conf") {
        stats.bump("krb5 profiles parsed");
        out.extend(check_profile(content));
    } else {
        stats.bump("other files line-checked");
    }
    out
}

/// An embedded YAML file must parse, and no mapping key may be an injected one (a value that
/// became a key of its own).
fn check_yaml_file(content: &str) -> Vec<Finding> {
    fn injected(y: &Yaml) -> bool {
        match y {
            Yaml::Hash(h) => h.iter().any(|(k, v)| k.as_str().is_some_and(|k| k.contains(KEY_MARK) || k.contains(SECT_MARK)) || injected(v)),
            Yaml::Array(a) => a.iter().any(injected),
            _ => false,
        }
    }
    match YamlLoader::load_from_str(content) {
        Err(e) => vec![Finding::new("yaml-syntax", format!("an embedded YAML file does not parse: {e}"))],
        Ok(docs) if docs.iter().any(injected) => vec![Finding::new("no-injected-lines", "a value's line break started a new key in a YAML file")],
        Ok(_) => Vec::new(),
    }
}

/// No line of a line-based file may start with an injected key or section (a value with a
/// line break that became a line of its own). Java properties also end lines at a lone CR.
fn check_lines(content: &str) -> Vec<Finding> {
    for line in content.split(['\n', '\r']) {
        let t = line.trim_start();
        let t = t.strip_prefix("export ").unwrap_or(t).trim_start();
        if t.starts_with(KEY_MARK) || t.trim_start_matches('[').starts_with(SECT_MARK) {
            return vec![Finding::new("no-injected-lines", "a value's line break started a new key or section line")];
        }
    }
    Vec::new()
}

fn xml_char(c: char) -> bool {
    let u = c as u32;
    matches!(u, 0x9 | 0xa | 0xd) || (0x20..=0xd7ff).contains(&u) || (0xe000..=0xfffd).contains(&u) || u >= 0x10000
}

/// Well-formed XML 1.0 (quick-xml, plus the Char production it does not enforce), with no
/// injected element and, for Hadoop configuration files, no injected property name.
pub fn check_xml(content: &str) -> Vec<Finding> {
    use quick_xml::events::Event;
    let mut out = Vec::new();
    if let Some(c) = content.chars().find(|c| !xml_char(*c)) {
        out.push(Finding::new("xml-parses", format!("character U+{:04X} that XML 1.0 forbids", c as u32)));
    }
    let mut r = quick_xml::Reader::from_str(content);
    r.config_mut().check_end_names = true;
    let mut stack: Vec<String> = Vec::new();
    let mut roots = 0;
    loop {
        match r.read_event() {
            Err(e) => {
                out.push(Finding::new("xml-parses", format!("quick-xml: {e}")));
                break;
            }
            Ok(Event::Eof) => {
                if !stack.is_empty() {
                    out.push(Finding::new("xml-parses", "unclosed elements at the end"));
                }
                break;
            }
            Ok(Event::Start(e)) => {
                roots += usize::from(stack.is_empty());
                stack.push(xml_element(&e, &mut out));
            }
            Ok(Event::Empty(e)) => {
                roots += usize::from(stack.is_empty());
                xml_element(&e, &mut out);
            }
            Ok(Event::End(_)) => {
                stack.pop();
            }
            Ok(Event::Text(t)) => {
                let s: String = t.as_ref().to_string();
                if stack.is_empty() && !s.trim().is_empty() {
                    out.push(Finding::new("xml-parses", "text outside the root element"));
                }
                if stack.last().is_some_and(|n| n == "name") && stack.len() >= 2 && stack[stack.len() - 2] == "property" && s.trim_start().starts_with(KEY_MARK) {
                    out.push(Finding::new("xml-no-injection", "a value injected a property"));
                }
            }
            Ok(Event::GeneralRef(g)) => match g.resolve_char_ref() {
                Ok(Some(c)) if !xml_char(c) => out.push(Finding::new("xml-parses", format!("character reference to U+{:04X}, which XML 1.0 forbids", c as u32))),
                Ok(Some(_)) => {}
                Ok(None) => {
                    if !matches!(&*g, "lt" | "gt" | "amp" | "apos" | "quot") {
                        out.push(Finding::new("xml-parses", "undeclared entity reference"));
                    }
                }
                Err(e) => out.push(Finding::new("xml-parses", format!("character reference: {e}"))),
            },
            Ok(Event::DocType(_)) => out.push(Finding::new("xml-no-injection", "a DOCTYPE in a rendered file")),
            Ok(_) => {}
        }
    }
    if roots != 1 && out.is_empty() {
        out.push(Finding::new("xml-parses", format!("`{roots}` root elements")));
    }
    out
}

fn xml_element(e: &quick_xml::events::BytesStart, out: &mut Vec<Finding>) -> String {
    let n: String = e.name().as_ref().to_string();
    if n.starts_with(KEY_MARK) {
        out.push(Finding::new("xml-no-injection", "a value injected an element"));
    }
    for a in e.attributes() {
        if let Err(err) = a.map_err(quick_xml::Error::from).and_then(|a| a.normalized_value(quick_xml::XmlVersion::Implicit1_0).map(|_| ())) {
            out.push(Finding::new("xml-parses", format!("attribute: {err}")));
        }
    }
    n
}

/// Java properties (java.util.Properties.load): logical lines end at LF, CR or CRLF, a line
/// ending in an odd number of backslashes continues. Returns the keys.
pub fn properties_keys(content: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let norm = content.replace("\r\n", "\n").replace('\r', "\n");
    let mut logical = String::new();
    for line in norm.split('\n') {
        let l = line.trim_start_matches([' ', '\t', '\x0c']);
        if logical.is_empty() && (l.starts_with('#') || l.starts_with('!') || l.is_empty()) {
            continue;
        }
        let trailing = l.chars().rev().take_while(|c| *c == '\\').count();
        if trailing % 2 == 1 {
            logical.push_str(&l[..l.len() - 1]);
            continue;
        }
        logical.push_str(l);
        let mut key = String::new();
        let mut chars = logical.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    if let Some(n) = chars.next() {
                        key.push(n);
                    }
                }
                '=' | ':' | ' ' | '\t' | '\x0c' => break,
                c => key.push(c),
            }
        }
        keys.push(key);
        logical.clear();
    }
    keys
}

fn check_properties(content: &str) -> Vec<Finding> {
    if properties_keys(content).iter().any(|k| k.starts_with(KEY_MARK)) {
        return vec![Finding::new("properties-no-injection", "a value injected a key")];
    }
    Vec::new()
}

/// A JAAS login configuration (Java's ConfigFile syntax): `Name {` then entries `module flag
/// option=value… ;` and `};`. Option values are bare words or double-quoted strings without a
/// quote or line break inside; every entry ends with `;`; no entry or section is injected.
pub fn check_jaas(content: &str) -> Vec<Finding> {
    let bad = |d: String| vec![Finding::new("jaas-config", d)];
    let mut in_section = false;
    let mut in_entry = false;
    for (n, raw) in content.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        if !in_section {
            let Some(name) = line.strip_suffix('{').map(str::trim) else { return bad(format!("line {}: `{line}` outside a section", n + 1)) };
            if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-') || name.contains(KEY_MARK) {
                return bad(format!("line {}: section name `{name}`", n + 1));
            }
            in_section = true;
            continue;
        }
        if line == "};" && !in_entry {
            in_section = false;
            continue;
        }
        let body = line.strip_suffix(';').unwrap_or(line);
        let mut words = body.split_whitespace();
        if !in_entry {
            // `module flag`
            let (Some(module), Some(flag)) = (words.next(), words.next()) else { return bad(format!("line {}: an entry needs a module and a flag", n + 1)) };
            if !module.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '$') || !["required", "requisite", "sufficient", "optional"].contains(&flag) {
                return bad(format!("line {}: `{module} {flag}` is not a login module and flag", n + 1));
            }
            in_entry = true;
        }
        for opt in words {
            let Some((k, v)) = opt.split_once('=') else { return bad(format!("line {}: option `{opt}` has no value", n + 1)) };
            let quoted = v.len() >= 2 && v.starts_with('"') && v.ends_with('"') && !v[1..v.len() - 1].contains('"');
            if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_') || k.contains(KEY_MARK) || !(quoted || !v.is_empty() && !v.contains('"')) {
                return bad(format!("line {}: option `{opt}`", n + 1));
            }
        }
        if line.ends_with(';') {
            in_entry = false;
        }
    }
    if in_section || in_entry { bad("a section or entry is not closed".into()) } else { Vec::new() }
}

/// An MIT krb5 profile (krb5.conf, kdc.conf): `[section]`, `key = value`, `key = {` … `}`;
/// every section once, keys without blanks, braces balanced, nothing injected.
pub fn check_profile(content: &str) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    let mut depth = 0i32;
    let mut in_section = false;
    let mut bad = |what: String| out.push(Finding::new("krb5-profile", what));
    for line in content.split('\n') {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
            continue;
        }
        if let Some(rest) = t.strip_prefix('[') {
            let Some(end) = rest.find(']') else {
                bad("a section header without `]`".into());
                continue;
            };
            let name = &rest[..end];
            if name.starts_with(SECT_MARK) {
                bad("a value injected a section".into());
            } else if seen.iter().any(|s| s == name) {
                bad(format!("section `{name}` twice (a value injected it)"));
            }
            if depth != 0 {
                bad("a section inside braces".into());
                depth = 0;
            }
            seen.push(name.to_string());
            in_section = true;
            continue;
        }
        if t == "}" {
            depth -= 1;
            if depth < 0 {
                bad("`}` without `{`".into());
                depth = 0;
            }
            continue;
        }
        if !in_section {
            bad("a relation before any section".into());
            continue;
        }
        let Some((k, v)) = t.split_once('=') else {
            bad("a line that is neither section, relation nor `}`".into());
            continue;
        };
        let k = k.trim();
        let v = v.trim();
        if k.is_empty() || k.contains(char::is_whitespace) {
            bad("a relation name with blanks or empty".into());
        }
        if k.starts_with(KEY_MARK) {
            bad("a value injected a relation".into());
        }
        if let Some(rest) = v.strip_prefix('{') {
            if rest.trim().is_empty() {
                depth += 1;
            } else {
                bad("a value starting with `{` (MIT reads a subsection)".into());
            }
        }
    }
    if depth != 0 {
        out.push(Finding::new("krb5-profile", "unbalanced braces"));
    }
    out
}

/// Sources an env file with bash in a clean environment: it must succeed, must not create the
/// canary, and must not define the injected variable.
pub fn check_env(content: &str, env: &Env) -> Vec<Finding> {
    let f = env.work.join("sourced.env");
    if let Err(e) = std::fs::write(&f, content) {
        return vec![Finding::new("harness", format!("cannot write {}: {e}", f.display()))];
    }
    let mut cmd = Command::new("bash");
    cmd.args(["--noprofile", "--norc", "-c", "source \"$1\" >/dev/null || exit 3; [ -z \"${FZKEY+x}\" ] || exit 4; exit 0", "_"])
        .arg(&f)
        .current_dir(env.work)
        .env_clear()
        .env("PATH", "/usr/bin:/bin");
    let r = run_limited(&mut cmd, Duration::from_secs(10));
    let mut out = Vec::new();
    if env.canary.exists() {
        let _ = std::fs::remove_file(env.canary);
        out.push(Finding::new("env-canary", "sourcing the env file ran a command from a value"));
    }
    match r {
        Ok(Some((st, _, err, _))) => match st.code() {
            Some(0) => {}
            Some(3) => {
                let err = String::from_utf8_lossy(&err);
                let first = err.lines().next().unwrap_or("").replace(&f.display().to_string(), "FILE");
                out.push(Finding::new("env-sources", format!("sourcing the env file fails: {}", first.chars().take(120).collect::<String>())));
            }
            Some(4) => out.push(Finding::new("env-no-injection", "a value defined another variable")),
            c => out.push(Finding::new("env-sources", format!("bash exited with {c:?}"))),
        },
        Ok(None) => out.push(Finding::new("env-sources", "sourcing took over 10 s")),
        Err(e) => out.push(Finding::new("harness", format!("cannot run bash: {e}"))),
    }
    out
}

// ---------------------------------------------------------------- errors

/// Exit 1: every `error[CODE]:` line names one of the user's files with line ≥ 1 and column ≥ 1
/// (within the file), not `:0:0`, not a built-in stack.
pub fn check_error_locations(stderr: &str, inputs: &[(PathBuf, &[u8])]) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut errors = 0;
    for line in stderr.lines() {
        // `error[E012]: FILE:LINE:COL: …`
        let Some(rest) = line.strip_prefix("error[").and_then(|r| r.split_once("]: ")).map(|(_, r)| r) else { continue };
        errors += 1;
        // the input's path as the user wrote it is replaced by its file name, so signatures
        // do not depend on where the case ran
        let msg = |r: &str| {
            let mut r = r.to_string();
            for (p, _) in inputs {
                r = r.replace(&p.display().to_string(), "INPUT");
            }
            r.chars().take(100).collect::<String>()
        };
        let Some((path, bytes, after)) = inputs.iter().find_map(|(p, b)| rest.strip_prefix(&format!("{}:", p.display())).map(|a| (p, b, a))) else {
            // the field path (no blanks) is left out, so one cause in several roles is one finding
            let parts: Vec<&str> = rest.splitn(3, ": ").collect();
            let shown = match parts[..] {
                [at, path, m] if !path.contains(' ') => format!("{at}: {m}"),
                _ => rest.to_string(),
            };
            out.push(Finding::new("error-location", format!("error not located in the input file: {}", msg(&shown))));
            continue;
        };
        let mut it = after.splitn(3, ':');
        let l = it.next().and_then(|x| x.parse::<usize>().ok());
        let c = it.next().and_then(|x| x.parse::<usize>().ok());
        let text = it.next().unwrap_or("");
        let nlines = bytes.split(|b| *b == b'\n').count();
        match (l, c) {
            (Some(l), Some(c)) if l >= 1 && c >= 1 && l <= nlines => {}
            (Some(l), Some(c)) => out.push(Finding::new("error-location", format!("error at {l}:{c} of a {}-line file: {}", nlines, msg(text.trim())))),
            _ => out.push(Finding::new("error-location", format!("error without line:column in {}: {}", path.file_name().unwrap_or_default().to_string_lossy(), msg(after)))),
        }
    }
    if errors == 0 {
        out.push(Finding::new("error-location", "failure without any `error:` line"));
    }
    out
}
