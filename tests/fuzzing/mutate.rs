//! Structure-aware mutations of YAML documents, plus byte-level ones.
//!
//! A seed (an example Cluster or a golden rendered stream) is parsed once into a [`Node`] tree,
//! which, unlike `yaml_rust2::Yaml`, can hold duplicate keys and keeps every string quoted
//! exactly as the mutator chose. Mutations are recorded as replayable [`Op`]s so a failing case
//! can be minimised by dropping ops, and every decision is drawn from an
//! [`arbitrary::Unstructured`]: the stable driver fills it from a seeded PRNG, `cargo fuzz`
//! from libFuzzer's input, so both share this code.

use arbitrary::{Result, Unstructured};
use yaml_rust2::{Yaml, YamlLoader};

/// Marks a key or section that a hostile *value* tries to inject (`x\nFZKEY=1`). A parsed
/// rendered file with a key or section starting with one of these means a value became syntax.
pub const KEY_MARK: &str = "FZKEY";
pub const SECT_MARK: &str = "FZSECT";

#[derive(Clone, Debug, PartialEq)]
pub enum Node {
    Map(Vec<(Node, Node)>),
    Seq(Vec<Node>),
    /// A string, always written double-quoted with escapes: the value reaches bdp unchanged.
    Str(String),
    /// Written verbatim as a plain scalar or flow text: `3`, `1e3`, `null`, `{a: b}`, `[[[…]]]`.
    Raw(String),
}

impl Node {
    pub fn from_yaml(y: &Yaml) -> Node {
        match y {
            Yaml::Hash(h) => Node::Map(h.iter().map(|(k, v)| (Node::from_yaml(k), Node::from_yaml(v))).collect()),
            Yaml::Array(a) => Node::Seq(a.iter().map(Node::from_yaml).collect()),
            Yaml::String(s) => Node::Str(s.clone()),
            Yaml::Integer(i) => Node::Raw(i.to_string()),
            Yaml::Real(r) => Node::Raw(r.clone()),
            Yaml::Boolean(b) => Node::Raw(b.to_string()),
            _ => Node::Raw("null".into()),
        }
    }
    fn key_str(&self) -> Option<&str> {
        match self {
            Node::Str(s) | Node::Raw(s) => Some(s),
            _ => None,
        }
    }
}

/// One step of a path: the first map entry with this key, or a sequence index.
#[derive(Clone, Debug, PartialEq)]
pub enum Seg {
    Key(Node),
    Idx(usize),
}

#[derive(Clone, Debug, PartialEq)]
pub enum ByteOp {
    /// Positions are fractions of the current length (`at / 2^32`), so they replay on any text.
    Insert { at: u32, bytes: Vec<u8> },
    Delete { at: u32, len: u16 },
    Flip { at: u32, bit: u8 },
    Truncate { at: u32 },
    Duplicate { at: u32, len: u16 },
    Bom,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    Set(Vec<Seg>, Node),
    Delete(Vec<Seg>),
    Insert(Vec<Seg>, Node, Node),
    /// Writes the entry at the path twice (the second time with the given value).
    DupKey(Vec<Seg>, Node),
    Bytes(ByteOp),
}

pub fn path_text(p: &[Seg]) -> String {
    let mut s = String::new();
    for seg in p {
        match seg {
            Seg::Key(k) => {
                if !s.is_empty() {
                    s.push('.');
                }
                s.push_str(&short(&flow(k), 60));
            }
            Seg::Idx(i) => s.push_str(&format!("[{i}]")),
        }
    }
    s
}

fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let head: String = s.chars().take(n).collect();
        format!("{head}…({} chars)", s.chars().count())
    }
}

impl std::fmt::Display for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Op::Set(p, v) => write!(f, "set {} = {}", path_text(p), short(&flow(v), 120)),
            Op::Delete(p) => write!(f, "delete {}", path_text(p)),
            Op::Insert(p, k, v) => write!(f, "insert into {} key {} = {}", path_text(p), short(&flow(k), 80), short(&flow(v), 120)),
            Op::DupKey(p, v) => write!(f, "duplicate key {} with value {}", path_text(p), short(&flow(v), 120)),
            Op::Bytes(b) => write!(f, "bytes {}", short(&format!("{b:?}"), 160)),
        }
    }
}

/// A parsed seed: its name (file name) and documents.
#[derive(Clone, Debug)]
pub struct Seed {
    pub name: String,
    pub docs: Vec<Node>,
}

impl Seed {
    pub fn parse(name: &str, text: &str) -> Option<Seed> {
        let docs = YamlLoader::load_from_str(text).ok()?;
        Some(Seed { name: name.to_string(), docs: docs.iter().map(Node::from_yaml).collect() })
    }
}

/// Words for inserted keys: every key of the seeds, the stack's files and settings, and
/// the Cluster fields (given by the caller, read from the repository's data).
#[derive(Clone, Debug, Default)]
pub struct Dict {
    pub keys: Vec<String>,
}

impl Dict {
    pub fn add_tree(&mut self, n: &Node) {
        match n {
            Node::Map(es) => {
                for (k, v) in es {
                    if let Some(s) = k.key_str() {
                        self.add(s);
                    }
                    self.add_tree(v);
                }
            }
            Node::Seq(items) => items.iter().for_each(|i| self.add_tree(i)),
            _ => {}
        }
    }
    pub fn add(&mut self, s: &str) {
        if !s.is_empty() && s.len() < 80 && !self.keys.iter().any(|k| k == s) {
            self.keys.push(s.to_string());
        }
    }
}

// ---------------------------------------------------------------- emitting

/// YAML double-quoted scalar; every character a reader could misread is escaped.
pub fn quote(s: &str) -> String {
    let mut o = String::with_capacity(s.len() + 2);
    o.push('"');
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            '\n' => o.push_str("\\n"),
            '\t' => o.push_str("\\t"),
            '\r' => o.push_str("\\r"),
            c if (c as u32) < 0x20 || (0x7f..=0x9f).contains(&(c as u32)) => o.push_str(&format!("\\u{:04X}", c as u32)),
            '\u{2028}' | '\u{2029}' | '\u{FEFF}' => o.push_str(&format!("\\u{:04X}", c as u32)),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

pub fn flow(n: &Node) -> String {
    match n {
        Node::Str(s) => quote(s),
        Node::Raw(s) => s.clone(),
        Node::Map(es) => {
            let inner: Vec<String> = es.iter().map(|(k, v)| format!("{}: {}", flow(k), flow(v))).collect();
            format!("{{{}}}", inner.join(", "))
        }
        Node::Seq(items) => format!("[{}]", items.iter().map(flow).collect::<Vec<_>>().join(", ")),
    }
}

fn pad(o: &mut String, n: usize) {
    o.extend(std::iter::repeat_n(' ', n));
}

fn is_block(n: &Node) -> bool {
    matches!(n, Node::Map(es) if !es.is_empty()) || matches!(n, Node::Seq(i) if !i.is_empty())
}

fn emit_after(v: &Node, indent: usize, o: &mut String) {
    if is_block(v) {
        o.push('\n');
        emit_block(v, indent + 2, o);
    } else {
        o.push(' ');
        o.push_str(&flow(v));
        o.push('\n');
    }
}

fn emit_block(n: &Node, indent: usize, o: &mut String) {
    match n {
        Node::Map(es) if !es.is_empty() => {
            for (k, v) in es {
                pad(o, indent);
                if matches!(k, Node::Map(_) | Node::Seq(_)) {
                    o.push_str("? ");
                    o.push_str(&flow(k));
                    o.push('\n');
                    pad(o, indent);
                } else {
                    o.push_str(&flow(k));
                }
                o.push(':');
                emit_after(v, indent, o);
            }
        }
        Node::Seq(items) if !items.is_empty() => {
            for it in items {
                pad(o, indent);
                o.push('-');
                emit_after(it, indent, o);
            }
        }
        other => {
            pad(o, indent);
            o.push_str(&flow(other));
            o.push('\n');
        }
    }
}

pub fn emit_docs(docs: &[Node]) -> String {
    let mut o = String::new();
    for d in docs {
        o.push_str("---\n");
        emit_block(d, 0, &mut o);
    }
    o
}

// ---------------------------------------------------------------- applying ops

fn child_mut<'a>(n: &'a mut Node, seg: &Seg) -> Option<&'a mut Node> {
    match (n, seg) {
        (Node::Map(es), Seg::Key(k)) => es.iter_mut().find(|(ek, _)| ek == k).map(|(_, v)| v),
        (Node::Seq(items), Seg::Idx(i)) => items.get_mut(*i),
        _ => None,
    }
}

fn at_mut<'a>(docs: &'a mut [Node], p: &[Seg]) -> Option<&'a mut Node> {
    let (first, rest) = p.split_first()?;
    let Seg::Idx(d) = first else { return None };
    let mut n = docs.get_mut(*d)?;
    for seg in rest {
        n = child_mut(n, seg)?;
    }
    Some(n)
}

/// Applies one tree op; an op whose path no longer exists (minimisation dropped what it
/// needed) does nothing.
pub fn apply_tree(docs: &mut [Node], op: &Op) {
    match op {
        Op::Set(p, v) => {
            if let Some(n) = at_mut(docs, p) {
                *n = v.clone();
            }
        }
        Op::Insert(p, k, v) => {
            if let Some(Node::Map(es)) = at_mut(docs, p) {
                es.push((k.clone(), v.clone()));
            }
        }
        Op::Delete(p) | Op::DupKey(p, _) => {
            let Some((last, parent)) = p.split_last() else { return };
            if parent.is_empty() {
                return;
            }
            let Some(par) = at_mut(docs, parent) else { return };
            match (par, last, op) {
                (Node::Map(es), Seg::Key(k), Op::Delete(_)) => {
                    if let Some(i) = es.iter().position(|(ek, _)| ek == k) {
                        es.remove(i);
                    }
                }
                (Node::Map(es), Seg::Key(k), Op::DupKey(_, v)) => {
                    if let Some(i) = es.iter().position(|(ek, _)| ek == k) {
                        es.insert(i + 1, (k.clone(), v.clone()));
                    }
                }
                (Node::Seq(items), Seg::Idx(i), Op::Delete(_)) if *i < items.len() => {
                    items.remove(*i);
                }
                (Node::Seq(items), Seg::Idx(i), Op::DupKey(_, _)) if *i < items.len() => {
                    let c = items[*i].clone();
                    items.insert(*i, c);
                }
                _ => {}
            }
        }
        Op::Bytes(_) => {}
    }
}

fn frac(at: u32, len: usize) -> usize {
    ((at as u64 * len as u64) >> 32) as usize
}

pub fn apply_bytes(b: &mut Vec<u8>, op: &ByteOp) {
    let len = b.len();
    match op {
        ByteOp::Insert { at, bytes } => {
            let i = frac(*at, len + 1).min(len);
            b.splice(i..i, bytes.iter().copied());
        }
        ByteOp::Delete { at, len: n } => {
            let i = frac(*at, len).min(len);
            let j = (i + *n as usize).min(len);
            b.drain(i..j);
        }
        ByteOp::Flip { at, bit } => {
            if len > 0 {
                let i = frac(*at, len).min(len - 1);
                b[i] ^= 1 << (bit % 8);
            }
        }
        ByteOp::Truncate { at } => b.truncate(frac(*at, len)),
        ByteOp::Duplicate { at, len: n } => {
            let i = frac(*at, len).min(len);
            let j = (i + *n as usize).min(len);
            let c: Vec<u8> = b[i..j].to_vec();
            b.splice(j..j, c);
        }
        ByteOp::Bom => b.splice(0..0, [0xEF, 0xBB, 0xBF]).for_each(drop),
    }
}

/// The bytes of a case: the seed's documents with `ops` applied, emitted, then byte ops.
pub fn build(seed: &Seed, ops: &[Op]) -> Vec<u8> {
    let mut docs = seed.docs.clone();
    for op in ops {
        apply_tree(&mut docs, op);
    }
    let mut bytes = emit_docs(&docs).into_bytes();
    for op in ops {
        if let Op::Bytes(b) = op {
            apply_bytes(&mut bytes, b);
        }
    }
    bytes
}

// ---------------------------------------------------------------- generating ops

/// Values that have broken a writer or a parser somewhere: shell, INI/krb5, properties, XML,
/// YAML, templates. `CANARY` is replaced by a path that must never be created.
const HOSTILE: &[&str] = &[
    "$(touch CANARY)",
    "`touch CANARY`",
    "512$(touch CANARY)",
    "-Xmx1g $(touch CANARY)",
    "'; touch CANARY; '",
    "\"; touch CANARY; \"",
    "x\ntouch CANARY",
    "X\n[FZSECT]\nFZKEY = 1",
    "EVIL.COM\n[FZSECT]\nFZKEY = X",
    "x\nFZKEY=1",
    "x\rFZKEY=1",
    "x\r\nFZKEY=1",
    "x\n  FZKEY = 1",
    "x\\\nFZKEY=1",
    "a *\nFZKEY *",
    "x\u{2028}FZKEY=1",
    "x\u{2028}y",
    "\u{2029}",
    "x\u{85}y",
    "a\u{1}b",
    "a\u{0}b",
    "a\u{7f}b",
    "a\u{1b}[31mred",
    "\u{feff}bom",
    "\u{202e}rtl",
    "</value></property><property><name>FZKEY</name><value>1",
    "]]><FZKEY/>",
    "&#1;",
    "&amp;&lt;&bogus;",
    "<!DOCTYPE x [<!ENTITY e \"e\">]>",
    "{a: b}",
    "[a, b]",
    "null",
    "~",
    "true",
    "ca-01 # prod",
    "ns $(reboot)<x>",
    "MY REALM",
    "#7d",
    "{",
    "}",
    " leading and trailing ",
    "\"",
    "'",
    "\\",
    "x\\",
    "=",
    "a=b",
    "a: b",
    "- a",
    "*alias",
    "&anchor x",
    "!!binary x",
    "%TAG",
    "---",
    "...",
    "{{ 7 * 7 }}",
    "{% for i in range(1000000000) %}x{% endfor %}",
    "{{ range(1000000000) | list }}",
    "${HOME}",
    "%(x)s",
    "",
    " ",
    "\t",
    "\n",
    "host:99999",
    "host:",
    ":",
    "0",
    "-1",
    "1e3",
    "3.0",
    "Ω≈ç√∫😀",
    "A=1; touch CANARY; B",
    "custom.key",
];

/// Plain scalars: numbers at and past every bound, floats, YAML 1.1 booleans, flow text.
const RAW: &[&str] = &[
    "0", "1", "2", "3", "4", "5", "-1", "255", "256", "65535", "65536", "2147483647", "2147483648",
    "4294967295", "4294967296", "9223372036854775807", "-9223372036854775808", "18446744073709551616",
    "99999999999999999999999999999", "1000000", "1000000000000", "3.0", "1e3", "-0", "0x10", "0o17",
    "1_000", ".inf", "-.inf", ".nan", "true", "false", "yes", "no", "on", "off", "null", "~", "{}",
    "[]", "{a: b}", "[a, b]", "[null]", "{spec: {containers: not-a-list}}", "!!str 3", "!!int x",
    "&a x", "*a", "|", ">", "\"unterminated", "'unterminated", "@", "`",
];

const HOSTILE_KEYS: &[&str] = &[
    "A=1; touch CANARY; B", "custom.key", "a b", "x\nFZKEY", "[FZSECT]", "</name>", "", "-", "$(touch CANARY)",
    "key=value", "k:v", "#comment", "\u{2028}", "a\u{0}b", "0", "Ω",
];

fn hostile(u: &mut Unstructured, canary: &str) -> Result<String> {
    // half of the time one of the payloads that turn a value into syntax
    let h = if u.arbitrary()? { u.choose(&HOSTILE[..20])? } else { u.choose(HOSTILE)? };
    Ok(h.replace("CANARY", canary))
}

fn long_string(u: &mut Unstructured) -> Result<String> {
    let n = *u.choose(&[100usize, 1000, 10_000, 100_000, 1_000_000])?;
    let unit = *u.choose(&["a", "a\n", "$", "\u{2028}", "<&>", "ab "])?;
    Ok(unit.repeat(n / unit.len().max(1)))
}

fn nested(u: &mut Unstructured) -> Result<Node> {
    let d = *u.choose(&[5usize, 20, 100, 1000, 10_000, 100_000])?;
    Ok(match u.int_in_range(0..=2u8)? {
        0 => Node::Raw(format!("{}{}", "[".repeat(d), "]".repeat(d))),
        1 => Node::Raw(format!("{}{}", "{a: ".repeat(d), "}".repeat(d))),
        _ => {
            let mut n = Node::Str("leaf".into());
            for i in 0..d.min(200) {
                n = Node::Map(vec![(Node::Str(format!("k{i}")), n)]);
            }
            n
        }
    })
}

fn many_keys(u: &mut Unstructured, canary: &str) -> Result<Node> {
    let n = *u.choose(&[50usize, 500, 5000, 20_000])?;
    let v = hostile(u, canary)?;
    Ok(Node::Map((0..n).map(|i| (Node::Str(format!("k{i}")), Node::Str(format!("{v}{i}")))).collect()))
}

pub fn gen_value(u: &mut Unstructured, dict: &Dict, canary: &str) -> Result<Node> {
    Ok(match u.int_in_range(0..=99u8)? {
        0..=39 => Node::Str(hostile(u, canary)?),
        40..=59 => Node::Raw(u.choose(RAW)?.to_string()),
        60..=64 => Node::Str(long_string(u)?),
        65..=68 => nested(u)?,
        69..=71 => many_keys(u, canary)?,
        72..=79 => {
            let s: String = u.arbitrary()?;
            Node::Str(s.chars().take(64).collect())
        }
        80..=87 => Node::Str(u.choose(&dict.keys)?.clone()),
        88..=93 => {
            let a = Node::Str(u.choose(&dict.keys)?.clone());
            let b = gen_value_flat(u, canary)?;
            if u.arbitrary()? { Node::Seq(vec![b]) } else { Node::Map(vec![(a, b)]) }
        }
        _ => Node::Str(format!("{}{}", u.choose(&dict.keys)?, hostile(u, canary)?)),
    })
}

fn gen_value_flat(u: &mut Unstructured, canary: &str) -> Result<Node> {
    Ok(if u.arbitrary()? { Node::Str(hostile(u, canary)?) } else { Node::Raw(u.choose(RAW)?.to_string()) })
}

pub fn gen_key(u: &mut Unstructured, dict: &Dict, canary: &str) -> Result<Node> {
    Ok(match u.int_in_range(0..=9u8)? {
        0..=5 => Node::Str(u.choose(&dict.keys)?.clone()),
        6 | 7 => Node::Str(u.choose(HOSTILE_KEYS)?.replace("CANARY", canary)),
        8 => Node::Raw(u.choose(&["1", "null", "true", "3.0", "~"])?.to_string()),
        _ => {
            if u.arbitrary()? {
                Node::Seq(vec![Node::Str("a".into()), Node::Str("b".into())])
            } else {
                Node::Map(vec![(Node::Str("a".into()), Node::Str("b".into()))])
            }
        }
    })
}

/// Every path in the documents; `maps_only` keeps the maps (where keys can be inserted).
fn paths(docs: &[Node], maps_only: bool) -> Vec<Vec<Seg>> {
    fn walk(n: &Node, p: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>, maps_only: bool) {
        if !maps_only || matches!(n, Node::Map(_)) {
            out.push(p.clone());
        }
        match n {
            Node::Map(es) => {
                let mut seen: Vec<&Node> = Vec::new();
                for (k, v) in es {
                    if seen.contains(&k) {
                        continue; // a path addresses the first of duplicate keys
                    }
                    seen.push(k);
                    p.push(Seg::Key(k.clone()));
                    walk(v, p, out, maps_only);
                    p.pop();
                }
            }
            Node::Seq(items) => {
                for (i, it) in items.iter().enumerate() {
                    p.push(Seg::Idx(i));
                    walk(it, p, out, maps_only);
                    p.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for (i, d) in docs.iter().enumerate() {
        let mut p = vec![Seg::Idx(i)];
        walk(d, &mut p, &mut out, maps_only);
    }
    out
}

fn under(p: &[Seg], names: &[&str]) -> bool {
    p.iter().any(|s| matches!(s, Seg::Key(k) if k.key_str().is_some_and(|k| names.contains(&k))))
}

/// Fields that put a value into a rendered file: a targeted insertion puts a hostile value
/// where a writer has to deal with it.
fn targeted(u: &mut Unstructured, dict: &Dict, files: &[String], settings: &[String], canary: &str) -> Result<(Node, Node)> {
    let v = if u.ratio(3, 4)? { Node::Str(hostile(u, canary)?) } else { gen_value(u, dict, canary)? };
    Ok(match u.int_in_range(0..=7u8)? {
        0..=2 => {
            let file = Node::Str(u.choose(files)?.clone());
            let k = match u.int_in_range(0..=4u8)? {
                0 => gen_key(u, dict, canary)?,
                1 => Node::Str(u.choose(&dict.keys)?.clone()),
                2 => Node::Str(u.choose(ENV_KEYS)?.to_string()),
                _ => Node::Str(u.choose(CONFIG_KEYS)?.to_string()),
            };
            (Node::Str("configOverrides".into()), Node::Map(vec![(file, Node::Map(vec![(k, v)]))]))
        }
        3 => {
            let k = if u.ratio(1, 3)? { gen_key(u, dict, canary)? } else { Node::Str(u.choose(ENV_KEYS)?.to_string()) };
            (Node::Str("envOverrides".into()), Node::Map(vec![(k, v)]))
        }
        4 | 5 => (Node::Str(u.choose(settings)?.clone()), v),
        6 => (Node::Str("replicas".into()), Node::Raw(u.choose(RAW)?.to_string())),
        _ => (Node::Str(u.choose(&["podOverrides", "resources", "image", "storage", "dependencies"])?.to_string()), gen_value(u, dict, canary)?),
    })
}

/// Real keys of the rendered files, so an override is not merely "unknown key".
const CONFIG_KEYS: &[&str] = &[
    "dfs.replication", "dfs.namenode.handler.count", "fs.defaultFS", "tickTime", "initLimit", "syncLimit",
    "maxClientCnxns", "autopurge.snapRetainCount", "log4j.rootLogger", "ticket_lifetime", "renew_lifetime",
    "default_realm", "kdc_ports", "max_life", "hadoop.security.authentication", "ssl.server.keystore.password",
];

const ENV_KEYS: &[&str] = &["ZK_SERVER_HEAP", "SERVER_JVMFLAGS", "HADOOP_HEAPSIZE_MAX", "HDFS_NAMENODE_OPTS", "JAVA_HOME"];

/// An insertion that merges into an existing map of the same key instead of duplicating it.
fn insert_merge(docs: &mut [Node], mut p: Vec<Seg>, k: Node, v: Node) -> Op {
    let mut k = k;
    let mut v = v;
    loop {
        let existing = match at_mut(docs, &p) {
            Some(Node::Map(es)) => es.iter().find(|(ek, _)| *ek == k).map(|(_, ev)| matches!(ev, Node::Map(_))),
            _ => None,
        };
        match (existing, v) {
            (Some(true), Node::Map(mut inner)) if inner.len() == 1 => {
                p.push(Seg::Key(k));
                let (ik, iv) = inner.remove(0);
                k = ik;
                v = iv;
            }
            (Some(_), other) => return Op::Set({
                p.push(Seg::Key(k));
                p
            }, other),
            (None, other) => return Op::Insert(p, k, other),
        }
    }
}

fn gen_bytes(u: &mut Unstructured) -> Result<ByteOp> {
    Ok(match u.int_in_range(0..=6u8)? {
        0 => {
            let bytes = match u.int_in_range(0..=5u8)? {
                0 => vec![0],
                1 => vec![b'\r'],
                2 => vec![b'\t'],
                3 => u.choose(&[&b"\xff\xfe"[..], b"\xc3", b"\xe2\x80\xa8", b"\x85", b"\x00\x00", b": ", b"- ", b"\n  ", b"&a ", b"*a", b"!!", b"? "])?.to_vec(),
                _ => {
                    let n = u.int_in_range(1..=8usize)?;
                    u.bytes(n)?.to_vec()
                }
            };
            ByteOp::Insert { at: u.arbitrary()?, bytes }
        }
        1 => ByteOp::Delete { at: u.arbitrary()?, len: u.int_in_range(1..=64)? },
        2 => ByteOp::Flip { at: u.arbitrary()?, bit: u.arbitrary()? },
        3 => ByteOp::Truncate { at: u.arbitrary()? },
        4 => ByteOp::Duplicate { at: u.arbitrary()?, len: u.int_in_range(1..=200)? },
        _ => ByteOp::Bom,
    })
}

/// The files and settings of one service of the stacks.
#[derive(Clone, Debug, Default)]
pub struct ServiceWords {
    pub name: String,
    pub files: Vec<String>,
    pub settings: Vec<String>,
}

/// What a mutator needs besides the seed.
pub struct Ctx<'a> {
    pub dict: &'a Dict,
    /// File names of the stacks (`zoo.cfg`, `hdfs-site.xml`, …): config override targets.
    pub files: &'a [String],
    /// Service settings of the stacks (`realm`, `tlsIssuer`, …).
    pub settings: &'a [String],
    pub services: &'a [ServiceWords],
    pub canary: &'a str,
    /// The seed is a rendered stream (`diff --rendered`), not a Cluster.
    pub rendered: bool,
}

/// For a rendered stream (diff --rendered): the fields the diff reads closely: embedded files
/// (edited line by line), `replicas`, images, ports.
fn targeted_rendered(u: &mut Unstructured, docs: &mut [Node], cx: &Ctx) -> Result<Option<Op>> {
    let ps: Vec<Vec<Seg>> = paths(docs, false)
        .into_iter()
        .filter(|p| {
            let last = p.last().and_then(|s| if let Seg::Key(k) = s { k.key_str() } else { None });
            let parent = p.len() >= 2 && under(&p[p.len() - 2..p.len() - 1], &["data"]);
            parent || matches!(last, Some("replicas" | "image" | "containerPort" | "port" | "storage" | "podManagementPolicy"))
        })
        .collect();
    if ps.is_empty() {
        return Ok(None);
    }
    let p = u.choose(&ps)?.clone();
    let cur = at_mut(docs, &p).map(|n| n.clone());
    let v = match cur {
        Some(Node::Str(text)) if text.contains('\n') => {
            let lines: Vec<&str> = text.split('\n').collect();
            let i = u.choose_index(lines.len())?;
            let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
            let h = hostile(u, cx.canary)?;
            match u.int_in_range(0..=2u8)? {
                0 => out.insert(i, h),
                1 => out[i].push_str(&h),
                _ => {
                    out.remove(i);
                }
            }
            Node::Str(out.join("\n"))
        }
        _ => {
            if u.arbitrary()? {
                Node::Raw(u.choose(RAW)?.to_string())
            } else {
                Node::Str(hostile(u, cx.canary)?)
            }
        }
    };
    Ok(Some(Op::Set(p, v)))
}

/// 1–4 mutations of a seed, each applied to a working copy so the next one sees it.
pub fn gen_ops(u: &mut Unstructured, seed: &Seed, cx: &Ctx) -> Result<Vec<Op>> {
    let mut docs = seed.docs.clone();
    let mut ops = Vec::new();
    let n = match u.int_in_range(0..=19u8)? {
        0..=10 => 1,
        11..=16 => 2,
        17 | 18 => 3,
        _ => 4,
    };
    for _ in 0..n {
        let op = match u.int_in_range(0..=99u8)? {
            0..=59 if cx.rendered => match targeted_rendered(u, &mut docs, cx)? {
                Some(op) => op,
                None => continue,
            },
            0..=59 => {
                let ps = paths(&docs, true);
                // a service or a role: where configOverrides, envOverrides and settings live
                let svc: Vec<Vec<Seg>> = ps
                    .iter()
                    .filter(|p| p.len() >= 2 && under(&p[p.len() - 2..p.len() - 1], &["services", "roles"]))
                    .cloned()
                    .collect();
                let p = if !svc.is_empty() && u.ratio(6, 7)? { u.choose(&svc)?.clone() } else { u.choose(&ps)?.clone() };
                // the service the path is in: its own files and settings, none for a role
                let svc_name = p.windows(2).find_map(|w| match (&w[0], &w[1]) {
                    (Seg::Key(Node::Str(a)), Seg::Key(Node::Str(b))) if a == "services" => Some(b.as_str()),
                    _ => None,
                });
                let words = cx.services.iter().find(|w| Some(w.name.as_str()) == svc_name && !w.files.is_empty());
                let in_role = under(&p, &["roles"]);
                let (files, settings) = match words {
                    Some(w) if u.ratio(7, 8)? => (&w.files[..], if in_role || w.settings.is_empty() { &["replicas".to_string()][..] } else { &w.settings[..] }),
                    _ => (cx.files, cx.settings),
                };
                let settings = settings.to_vec();
                let (k, v) = targeted(u, cx.dict, files, &settings, cx.canary)?;
                insert_merge(&mut docs, p, k, v)
            }
            60..=72 => {
                let ps: Vec<Vec<Seg>> = paths(&docs, false).into_iter().filter(|p| p.len() > 1).collect();
                let p = u.choose(&ps)?.clone();
                Op::Set(p, gen_value(u, cx.dict, cx.canary)?)
            }
            73..=77 => {
                let ps = paths(&docs, true);
                let p = u.choose(&ps)?.clone();
                Op::Insert(p, gen_key(u, cx.dict, cx.canary)?, gen_value(u, cx.dict, cx.canary)?)
            }
            78..=81 => {
                let ps: Vec<Vec<Seg>> = paths(&docs, false).into_iter().filter(|p| p.len() > 1).collect();
                Op::Delete(u.choose(&ps)?.clone())
            }
            82..=83 => {
                let ps: Vec<Vec<Seg>> = paths(&docs, false).into_iter().filter(|p| p.len() > 1).collect();
                Op::DupKey(u.choose(&ps)?.clone(), gen_value(u, cx.dict, cx.canary)?)
            }
            84..=90 => {
                // swap types: scalar → list or map of it, container → scalar, string ↔ plain
                let ps: Vec<Vec<Seg>> = paths(&docs, false).into_iter().filter(|p| p.len() > 1).collect();
                let p = u.choose(&ps)?.clone();
                let cur = at_mut(&mut docs, &p).map(|n| n.clone()).unwrap_or(Node::Raw("null".into()));
                let v = match (&cur, u.int_in_range(0..=2u8)?) {
                    (Node::Str(s), 0) if !s.contains(['\n', '\r']) => Node::Raw(s.clone()),
                    (Node::Raw(s), 0) => Node::Str(s.clone()),
                    (Node::Map(es), 0) => Node::Seq(es.iter().map(|(_, v)| v.clone()).collect()),
                    (Node::Seq(items), 0) => items.first().cloned().unwrap_or(Node::Raw("null".into())),
                    (_, 1) => Node::Seq(vec![cur.clone()]),
                    _ => Node::Map(vec![(Node::Str(u.choose(&cx.dict.keys)?.clone()), cur.clone())]),
                };
                Op::Set(p, v)
            }
            _ => Op::Bytes(gen_bytes(u)?),
        };
        apply_tree(&mut docs, &op);
        ops.push(op);
    }
    Ok(ops)
}
