//! Hadoop configuration XML (`<configuration><property><name/><value/></property>…`).

use super::{collect, Entries, Entry, HEADER};
use std::fmt::Write as _;

/// Characters XML 1.0 does not allow in a document, even escaped (§2.2 `Char`): C0 controls
/// other than tab, LF and CR, and U+FFFE/U+FFFF (surrogates cannot occur in a Rust string).
pub fn xml_forbidden(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}')
}

/// XML text escaping: markup characters as entities (quick-xml), and CR as `&#13;` so that an
/// XML reader's line-end normalisation does not change the value.
fn escape_xml(s: &str) -> String {
    quick_xml::escape::escape(s).replace('\r', "&#13;")
}

/// Can `key` and `value` be written as a property? XML 1.0 forbids some characters, even escaped.
pub fn check(key: &str, value: &str) -> Result<(), String> {
    match key.chars().chain(value.chars()).find(|c| xml_forbidden(*c)) {
        Some(c) => Err(format!("contains U+{:04X}, a character XML 1.0 does not allow (not even escaped)", c as u32)),
        None => Ok(()),
    }
}

/// Hadoop configuration XML. An entry with a character XML forbids is left out (resolve has
/// reported it); everything else is escaped.
pub fn write(entries: &[Entry]) -> String {
    let mut out = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- {HEADER} -->\n<configuration>\n");
    for e in entries.iter().filter(|e| check(&e.key, &e.value).is_ok()) {
        let _ = write!(
            out,
            "  <property>\n    <name>{}</name>\n    <value>{}</value>\n  </property>\n",
            escape_xml(&e.key),
            escape_xml(&e.value)
        );
    }
    out.push_str("</configuration>\n");
    out
}

/// Hadoop `<configuration><property><name/><value/></property>…` → name → value. `None` when the
/// text is not such a file (other XML is compared as text).
pub fn parse(text: &str) -> Option<Entries> {
    use quick_xml::events::Event;
    let mut r = quick_xml::Reader::from_str(text);
    let mut stack: Vec<String> = Vec::new();
    let (mut name, mut value) = (String::new(), String::new());
    let mut pairs = Vec::new();
    let mut root_seen = false;
    loop {
        let ev = r.read_event().ok()?;
        match ev {
            Event::Start(e) => {
                let n = e.name().as_ref().to_string();
                match (stack.len(), n.as_str()) {
                    (0, "configuration") if !root_seen => root_seen = true,
                    (1, "property") => {
                        name.clear();
                        value.clear();
                    }
                    (2, "name" | "value" | "final" | "description" | "source" | "tag") => {}
                    _ => return None,
                }
                stack.push(n);
            }
            Event::Empty(e) => {
                let n = e.name().as_ref().to_string();
                match (stack.len(), n.as_str()) {
                    (0, "configuration") if !root_seen => root_seen = true,
                    (2, "name" | "value" | "final" | "description" | "source" | "tag") => {}
                    _ => return None,
                }
            }
            Event::End(_) => {
                let n = stack.pop()?;
                if n == "property" && stack.len() == 1 {
                    if name.trim().is_empty() {
                        return None;
                    }
                    pairs.push((name.trim().to_string(), value.clone()));
                }
            }
            Event::Text(t) => {
                let s = t.xml10_content();
                match stack.last().map(String::as_str) {
                    Some("name") => name.push_str(&s),
                    Some("value") => value.push_str(&s),
                    _ if s.trim().is_empty() => {}
                    Some("final" | "description" | "source" | "tag") => {}
                    _ => return None,
                }
            }
            Event::CData(t) => {
                let s = t.to_string();
                match stack.last().map(String::as_str) {
                    Some("name") => name.push_str(&s),
                    Some("value") => value.push_str(&s),
                    _ => {}
                }
            }
            Event::GeneralRef(e) => {
                let resolved = match e.resolve_char_ref() {
                    Ok(Some(c)) => c.to_string(),
                    Ok(None) => quick_xml::escape::resolve_predefined_entity(&e).map(String::from)?,
                    Err(_) => return None,
                };
                match stack.last().map(String::as_str) {
                    Some("name") => name.push_str(&resolved),
                    Some("value") => value.push_str(&resolved),
                    _ => {}
                }
            }
            Event::Eof => break,
            Event::Decl(_) | Event::Comment(_) | Event::PI(_) | Event::DocType(_) => {}
        }
    }
    (root_seen && stack.is_empty()).then(|| collect(pairs))
}

