//! YAML text → a tree of [`Node`]s that remember their line and column.
//!
//! bdp reads YAML with yaml-rust2's event parser rather than serde_yaml: serde_yaml
//! (and its forks) cannot tell where a value came from, and every diagnostic must point at a
//! file, line and column. Building the tree ourselves also lets us
//! * refuse duplicate keys (YAML says they are an error; most loaders keep the last one),
//! * bound alias expansion, so an "alias bomb" fails in bounded time and memory,
//! * resolve scalars by the YAML 1.2 core schema (`yes`/`on` stay strings).

use crate::diag::{Diagnostic, Span, Code};
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

pub use crate::limits::{MAX_DEPTH, MAX_ENTRIES, MAX_NODES};

/// Input bytes → text. A leading UTF-8 byte order mark is dropped. Anything that is not YAML
/// text is refused with its line, column and byte offset: invalid UTF-8, NUL and the other
/// control characters except tab, line feed and carriage return (YAML 1.2's printable set), so
/// a stray byte can never silently end a file early.
pub fn decode(file: &Path, bytes: &[u8]) -> Result<String, Box<Diagnostic>> {
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    let skip = if bytes.starts_with(BOM) { BOM.len() } else { 0 };
    let body = &bytes[skip..];
    let position = |valid: &str, offset: usize| {
        let line = 1 + valid.bytes().filter(|&b| b == b'\n').count();
        let col = 1 + valid.rsplit('\n').next().map_or(0, |l| l.chars().count());
        (line, col, offset + skip)
    };
    let refuse = |(line, col, offset): (usize, usize, usize), what: String| {
        Box::new(Diagnostic::error(Code::NotText, Some(Span::new(file, line, col)), "", format!("{what} at byte offset {offset}: the file is not YAML text"))
            .expected("UTF-8 text without control characters other than tab, line feed and carriage return")
            .hint("remove the byte or save the file as UTF-8 text; bdp refuses it instead of reading only part of the file"))
    };
    let text = match std::str::from_utf8(body) {
        Ok(t) => t,
        Err(e) => {
            let at = e.valid_up_to();
            let valid = std::str::from_utf8(&body[..at]).unwrap_or_default();
            return Err(refuse(position(valid, at), format!("invalid UTF-8 byte 0x{:02X}", body[at])));
        }
    };
    let printable = |c: char| {
        matches!(c, '\t' | '\n' | '\r' | ' '..='~' | '\u{85}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
            || c >= '\u{10000}'
    };
    if let Some((at, c)) = text.char_indices().find(|&(_, c)| !printable(c)) {
        let name = if c == '\0' { "NUL byte".to_string() } else { format!("control character U+{:04X}", c as u32) };
        return Err(refuse(position(&text[..at], at), name));
    }
    Ok(text.to_string())
}

#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Keys keep their own positions; order is the source order.
    Map(Vec<(Node, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub value: NodeValue,
    pub line: usize,
    pub col: usize,
}

impl Node {
    fn size(&self) -> usize {
        1 + match &self.value {
            NodeValue::Seq(v) => v.iter().map(Node::size).sum(),
            NodeValue::Map(m) => m.iter().map(|(k, v)| k.size() + v.size()).sum(),
            _ => 0,
        }
    }

    /// The scalar as a map key (YAML allows any scalar as a key; Kubernetes-style input uses strings).
    pub fn key_string(&self) -> String {
        match &self.value {
            NodeValue::Null => "null".into(),
            NodeValue::Bool(b) => b.to_string(),
            NodeValue::Int(i) => i.to_string(),
            NodeValue::Float(f) => f.to_string(),
            NodeValue::Str(s) => s.clone(),
            NodeValue::Seq(_) | NodeValue::Map(_) => "<complex key>".into(),
        }
    }

    /// Whether this key node is the key `s` (as `key_string` would give it), without allocating
    /// for the common case of a string key: path lookups run once per diagnostic.
    pub fn key_is(&self, s: &str) -> bool {
        match &self.value {
            NodeValue::Str(k) => k == s,
            _ => self.key_string() == s,
        }
    }

    pub fn to_json(&self) -> Value {
        match &self.value {
            NodeValue::Null => Value::Null,
            NodeValue::Bool(b) => Value::Bool(*b),
            NodeValue::Int(i) => Value::from(*i),
            NodeValue::Float(f) => serde_json::Number::from_f64(*f).map(Value::Number).unwrap_or(Value::Null),
            NodeValue::Str(s) => Value::String(s.clone()),
            NodeValue::Seq(v) => Value::Array(v.iter().map(Node::to_json).collect()),
            NodeValue::Map(m) => Value::Object(m.iter().map(|(k, v)| (k.key_string(), v.to_json())).collect()),
        }
    }

    /// The node at a path of map keys / sequence indexes; the deepest existing node if the
    /// path leaves the tree (errors about a missing field point at its parent).
    pub fn locate(&self, path: &[String]) -> &Node {
        let mut cur = self;
        for seg in path {
            let next = match &cur.value {
                NodeValue::Map(m) => m.iter().find(|(k, _)| k.key_is(seg)).map(|(_, v)| v),
                NodeValue::Seq(v) => seg.parse::<usize>().ok().and_then(|i| v.get(i)),
                _ => None,
            };
            match next {
                Some(n) => cur = n,
                None => break,
            }
        }
        cur
    }

    /// The key node of the last path segment (for "unknown field" errors), if any.
    pub fn locate_key(&self, path: &[String], key: &str) -> Option<&Node> {
        match &self.locate(path).value {
            NodeValue::Map(m) => m.iter().find(|(k, _)| k.key_is(key)).map(|(k, _)| k),
            _ => None,
        }
    }
}

/// One YAML document of a file.
#[derive(Debug, Clone)]
pub struct Doc {
    pub file: std::path::PathBuf,
    /// 0-based index of the document in its file.
    pub index: usize,
    pub root: Node,
}

impl Doc {
    /// The node at exactly `path` (map keys, list indexes), if there is one.
    pub fn node_at(&self, path: &[String]) -> Option<&Node> {
        let mut cur = &self.root;
        for seg in path {
            cur = match &cur.value {
                NodeValue::Map(m) => m.iter().find(|(k, _)| k.key_is(seg)).map(|(_, v)| v)?,
                NodeValue::Seq(v) => v.get(seg.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(cur)
    }
    pub fn span_at(&self, path: &[String]) -> Span {
        let n = self.root.locate(path);
        Span::new(&self.file, n.line, n.col)
    }
    pub fn span_of_key(&self, path: &[String], key: &str) -> Span {
        match self.root.locate_key(path, key) {
            Some(n) => Span::new(&self.file, n.line, n.col),
            None => self.span_at(path),
        }
    }
}

#[derive(Default)]
struct Collector {
    events: Vec<(Event, Marker)>,
}

impl MarkedEventReceiver for Collector {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        self.events.push((ev, mark));
    }
}

struct Builder<'a> {
    events: &'a [(Event, Marker)],
    pos: usize,
    anchors: HashMap<usize, Node>,
    nodes: usize,
    file: &'a Path,
    errors: Vec<Diagnostic>,
    /// the text's end as (line, column), for [`clamp`]
    end: (usize, usize),
}

/// The end of `text` as a 1-based (line, column): where a position past the last character
/// is reported.
fn text_end(text: &str) -> (usize, usize) {
    let body = text.strip_suffix('\n').unwrap_or(text);
    let line = 1 + body.bytes().filter(|&b| b == b'\n').count();
    (line, 1 + body.rsplit('\n').next().map_or(0, |l| l.chars().count()))
}

/// A parser mark as a 1-based (line, column) inside the text: the parser puts events at the
/// end of input (a value missing from a truncated last line) on the line after the last one.
fn clamp(m: &Marker, end: (usize, usize)) -> (usize, usize) {
    let (line, col) = (m.line().max(1), m.col() + 1);
    if line > end.0 || (line == end.0 && col > end.1) { end } else { (line, col) }
}

fn resolve_plain(s: &str) -> NodeValue {
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return NodeValue::Null,
        "true" | "True" | "TRUE" => return NodeValue::Bool(true),
        "false" | "False" | "FALSE" => return NodeValue::Bool(false),
        _ => {}
    }
    let digits = s.strip_prefix(['-', '+']).unwrap_or(s);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
        && let Ok(i) = s.parse::<i64>() {
            return NodeValue::Int(i);
        }
    if let Some(h) = s.strip_prefix("0x")
        && let Ok(i) = i64::from_str_radix(h, 16) {
            return NodeValue::Int(i);
        }
    if let Some(o) = s.strip_prefix("0o")
        && let Ok(i) = i64::from_str_radix(o, 8) {
            return NodeValue::Int(i);
        }
    let looks_float = s.bytes().any(|b| b.is_ascii_digit())
        && s.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'));
    if looks_float
        && let Ok(f) = s.parse::<f64>() {
            return NodeValue::Float(f);
        }
    match s {
        ".inf" | ".Inf" | ".INF" | "+.inf" => NodeValue::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => NodeValue::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => NodeValue::Float(f64::NAN),
        _ => NodeValue::Str(s.to_string()),
    }
}

impl<'a> Builder<'a> {
    fn err(&mut self, m: &Marker, msg: String, hint: &str) {
        self.errors.push(
            Diagnostic::error(Code::YamlSyntax, Some({ let (l, c) = clamp(m, self.end); Span::new(self.file, l, c) }), "", msg).hint(hint.to_string()),
        );
    }

    fn count(&mut self, n: usize, m: &Marker) -> bool {
        self.nodes += n;
        if self.nodes > MAX_NODES {
            self.err(
                m,
                format!("document has more than {MAX_NODES} nodes (aliases expanded)"),
                "bdp's input limit (see `src/limits.rs`); with aliases this looks like an alias bomb: write the values out or use fewer nested aliases",
            );
            return false;
        }
        true
    }

    /// Builds the node starting at `self.pos`; None after an error (errors are recorded).
    // Long because: one match over YAML events (scalar, alias, sequence, mapping), each arm with its own bound check.
    fn node(&mut self, depth: usize) -> Option<Node> {
        let (ev, mark) = self.events.get(self.pos)?.clone();
        self.pos += 1;
        let (line, col) = clamp(&mark, self.end);
        if depth > MAX_DEPTH {
            self.err(&mark, format!("nesting deeper than {MAX_DEPTH} levels"), "flatten the document");
            return None;
        }
        if !self.count(1, &mark) {
            return None;
        }
        let (value, anchor) = match ev {
            Event::Scalar(s, style, anchor, tag) => {
                let v = if style != TScalarStyle::Plain
                    || tag.as_ref().is_some_and(|t| t.suffix == "str")
                {
                    NodeValue::Str(s)
                } else {
                    resolve_plain(&s)
                };
                (v, anchor)
            }
            Event::Alias(id) => {
                let Some(target) = self.anchors.get(&id).cloned() else {
                    self.err(&mark, "alias to an unknown anchor".into(), "define the anchor (&name) before using *name");
                    return None;
                };
                if !self.count(target.size(), &mark) {
                    return None;
                }
                return Some(Node { line, col, ..target });
            }
            Event::SequenceStart(anchor, _) => {
                let mut items = Vec::new();
                loop {
                    match self.events.get(self.pos) {
                        Some((Event::SequenceEnd, _)) => {
                            self.pos += 1;
                            break;
                        }
                        None => return None,
                        _ if items.len() == MAX_ENTRIES => {
                            self.err(
                                &mark,
                                format!("list has more than {MAX_ENTRIES} items"),
                                "bdp's input limit (see `src/limits.rs`); no real configuration needs a list this long",
                            );
                            return None;
                        }
                        _ => items.push(self.node(depth + 1)?),
                    }
                }
                (NodeValue::Seq(items), anchor)
            }
            Event::MappingStart(anchor, _) => {
                let mut entries: Vec<(Node, Node)> = Vec::new();
                // key → its line, so duplicates are found in linear time
                let mut keys: HashMap<String, usize> = HashMap::new();
                loop {
                    match self.events.get(self.pos) {
                        Some((Event::MappingEnd, _)) => {
                            self.pos += 1;
                            break;
                        }
                        None => return None,
                        _ => {
                            let k = self.node(depth + 1)?;
                            let v = self.node(depth + 1)?;
                            if matches!(k.value, NodeValue::Seq(_) | NodeValue::Map(_)) {
                                self.errors.push(
                                    Diagnostic::error(Code::ComplexKey, Some(Span::new(self.file, k.line, k.col)), "", "a complex key (a list or mapping used as a key) is not allowed")
                                        .expected("a string key")
                                        .hint("write the key as a plain string; bdp's inputs only have string keys"),
                                );
                                continue;
                            }
                            if k.key_string() == "<<" {
                                self.err(
                                    &mark,
                                    "merge keys (`<<`) are not supported".into(),
                                    "write the keys out; YAML 1.2 has no merge keys",
                                );
                                continue;
                            }
                            let ks = k.key_string();
                            if let Some(&first_line) = keys.get(&ks) {
                                self.errors.push(
                                    Diagnostic::error(Code::DuplicateKey, 
                                        Some(Span::new(self.file, k.line, k.col)),
                                        "",
                                        format!("duplicate key `{ks}` (first at line {first_line})"),
                                    )
                                    .hint("YAML keys must be unique; most tools silently keep the last one, bdp refuses"),
                                );
                                continue;
                            }
                            if entries.len() == MAX_ENTRIES {
                                self.err(
                                    &mark,
                                    format!("mapping has more than {MAX_ENTRIES} keys"),
                                    "bdp's input limit (see `src/limits.rs`); no real configuration needs this many keys in one place",
                                );
                                return None;
                            }
                            keys.insert(ks, k.line);
                            entries.push((k, v));
                        }
                    }
                }
                (NodeValue::Map(entries), anchor)
            }
            other => {
                self.err(&mark, format!("unexpected YAML event {other:?}"), "check the document structure");
                return None;
            }
        };
        let node = Node { value, line, col };
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        Some(node)
    }
}

/// Parses every document of `text`. Empty documents are skipped. All problems are returned.
pub fn parse_documents(file: &Path, text: &str) -> Result<Vec<Doc>, Vec<Diagnostic>> {
    let mut c = Collector::default();
    let mut parser = Parser::new_from_str(text);
    if let Err(e) = parser.load(&mut c, true) {
        let m = e.marker();
        return Err(vec![
            Diagnostic::error(Code::YamlSyntax, 
                Some({ let (l, c) = clamp(m, text_end(text)); Span::new(file, l, c) }),
                "",
                format!("malformed YAML: {}", e.info()),
            )
            .hint("check indentation and quoting near this position"),
        ]);
    }
    let mut docs = Vec::new();
    let mut errors = Vec::new();
    let mut i = 0;
    let mut index = 0;
    while i < c.events.len() {
        if matches!(c.events[i].0, Event::DocumentStart) {
            let start = i + 1;
            let mut b = Builder { events: &c.events, pos: start, anchors: HashMap::new(), nodes: 0, file, errors: vec![], end: text_end(text) };
            let root = if matches!(c.events.get(start), Some((Event::DocumentEnd, _))) {
                None
            } else {
                b.node(0)
            };
            // skip to the end of this document
            let mut j = b.pos;
            while j < c.events.len() && !matches!(c.events[j].0, Event::DocumentEnd) {
                j += 1;
            }
            errors.extend(b.errors);
            if let Some(root) = root
                && root.value != NodeValue::Null {
                    docs.push(Doc { file: file.to_path_buf(), index, root });
                }
            index += 1;
            i = j + 1;
        } else {
            i += 1;
        }
    }
    if errors.is_empty() { Ok(docs) } else { Err(errors) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(t: &str) -> Result<Vec<Doc>, Vec<Diagnostic>> {
        parse_documents(Path::new("t.yaml"), t)
    }

    #[test]
    fn core_schema_scalars() {
        let d = parse("a: yes\nb: true\nc: 3\nd: '3'\ne: 1.5\nf: ~\ng: on\nh: 0x10\n").unwrap();
        assert_eq!(
            d[0].root.to_json(),
            json!({"a": "yes", "b": true, "c": 3, "d": "3", "e": 1.5, "f": null, "g": "on", "h": 16})
        );
    }

    #[test]
    fn positions_are_one_based() {
        let d = parse("a:\n  b: 1\n").unwrap();
        let n = d[0].root.locate(&["a".into(), "b".into()]);
        assert_eq!((n.line, n.col), (2, 6));
        let k = d[0].root.locate_key(&["a".into()], "b").unwrap();
        assert_eq!((k.line, k.col), (2, 3));
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let e = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(e.len(), 1);
        assert!(e[0].message.contains("duplicate key `a` (first at line 1)"), "{}", e[0].message);
        assert_eq!(e[0].span.as_ref().unwrap().line, 3);
    }

    #[test]
    fn complex_keys_are_errors() {
        let e = parse("a:\n  ? [x, y]\n  : c\n  ok: 1\n").unwrap_err();
        assert_eq!(e.len(), 1, "{e:?}");
        assert!(e[0].message.contains("complex key"), "{e:?}");
        assert_eq!(e[0].span.as_ref().map(|s| (s.line, s.col)), Some((2, 5)));
        let e = parse("{? {a: b} : c}\n").unwrap_err();
        assert!(e[0].message.contains("complex key"), "{e:?}");
    }

    #[test]
    fn multiple_documents_and_empty_ones() {
        let d = parse("---\na: 1\n---\n---\nb: 2\n").unwrap();
        assert_eq!(d.len(), 2);
        assert_eq!(d[1].index, 2);
    }

    #[test]
    fn alias_bomb_is_bounded() {
        let mut t = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let p = i - 1;
            t.push_str(&format!("a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"));
        }
        let start = std::time::Instant::now();
        let e = parse(&t).unwrap_err();
        assert!(e[0].message.contains("alias"), "{}", e[0].message);
        assert!(start.elapsed().as_secs() < 5);
    }

    #[test]
    fn aliases_expand_normally() {
        let d = parse("a: &x {k: v}\nb: *x\n").unwrap();
        assert_eq!(d[0].root.to_json(), json!({"a": {"k": "v"}, "b": {"k": "v"}}));
    }

    #[test]
    fn malformed_yaml_reports_position() {
        let e = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(e[0].message.starts_with("malformed YAML"));
        assert!(e[0].span.is_some());
    }
}
