//! MIT krb5 profiles (krb5.conf, kdc.conf): `[section]`, `relation = value`, `tag = { … }`.
//! A profile has no escaping: what would become syntax is refused by [`check`].

use super::{collect, Entries, Entry, HEADER};
use std::fmt::Write as _;

/// Can `key` and `value` be written without becoming profile syntax? A name part holds no
/// white space, control character, `=`, brackets, braces or quotes; a value no control character
/// and no line that starts with `{` or `"`.
pub fn check(key: &str, value: &str) -> Result<(), String> {
    for part in key.split('/') {
        if part.is_empty() || part.chars().any(|c| c.is_whitespace() || c.is_control() || "=[]{}\"".contains(c)) || part.starts_with(['#', ';']) {
            return Err(format!("the krb5 profile name `{}` would not be one section, tag or relation name (no whitespace, control characters, `=`, `[`, `]`, `{{`, `}}`, quotes, or leading `#`/`;`)", key.escape_debug()));
        }
    }
    if let Some(c) = value.chars().find(|c| c.is_control() && *c != '\n') {
        return Err(format!("contains U+{:04X}, a control character, which a krb5 profile cannot hold", c as u32));
    }
    // a multi-line value is one relation per line (repeated relations, e.g. several kdc)
    for line in value.lines() {
        let t = line.trim();
        if t.starts_with(['{', '"']) {
            return Err(format!("the line `{}` starts with `{}`, which a krb5 profile reads as syntax (it has no escaping)", line.escape_debug(), &t[..1]));
        }
    }
    Ok(())
}

/// krb5 profile: keys are `section/relation` or `section/tag/relation`; a value with several
/// lines becomes one relation per line (krb5 allows repeated relations, e.g. several `kdc`).
pub fn write(entries: &[Entry]) -> String {
    use std::collections::BTreeMap;
    /// A section's plain relations, and its tagged groups (`TAG = { ... }`).
    type Relations<'a> = Vec<(&'a str, &'a str)>;
    let mut sections: BTreeMap<&str, (Relations, BTreeMap<&str, Relations>)> = BTreeMap::new();
    for e in entries.iter().filter(|e| check(&e.key, &e.value).is_ok()) {
        let parts: Vec<&str> = e.key.splitn(3, '/').collect();
        match parts.as_slice() {
            [sec, rel] => sections.entry(sec).or_default().0.push((rel, &e.value)),
            [sec, tag, rel] => sections.entry(sec).or_default().1.entry(tag).or_default().push((rel, &e.value)),
            _ => sections.entry("libdefaults").or_default().0.push((&e.key, &e.value)),
        }
    }
    let mut out = format!("# {HEADER}\n");
    for (sec, (flat, tags)) in sections {
        let _ = writeln!(out, "[{sec}]");
        for (rel, v) in flat {
            for line in v.lines() {
                let _ = writeln!(out, "  {rel} = {line}");
            }
        }
        for (tag, rels) in tags {
            let _ = writeln!(out, "  {tag} = {{");
            for (rel, v) in rels {
                for line in v.lines() {
                    let _ = writeln!(out, "    {rel} = {line}");
                }
            }
            out.push_str("  }\n");
        }
    }
    out
}

/// MIT krb5 profile / ini: `[section]`, `relation = value`, `tag = { … }` → `section/tag/relation`.
pub fn parse(text: &str) -> Option<Entries> {
    let mut section: Option<String> = None;
    let mut stack: Vec<String> = Vec::new();
    let mut pairs = Vec::new();
    for raw in text.lines() {
        let l = raw.trim();
        if l.is_empty() || l.starts_with('#') || l.starts_with(';') {
            continue;
        }
        if l.starts_with('[') {
            let end = l.find(']')?;
            section = Some(l[1..end].trim().to_string());
            stack.clear();
            continue;
        }
        let sec = section.as_ref()?;
        if l.starts_with('}') {
            stack.pop()?;
            continue;
        }
        let (k, v) = l.split_once('=')?;
        let (k, v) = (k.trim(), v.trim());
        if k.is_empty() {
            return None;
        }
        if v == "{" {
            stack.push(k.to_string());
            continue;
        }
        let mut key = vec![sec.clone()];
        key.extend(stack.iter().cloned());
        key.push(k.to_string());
        pairs.push((key.join("/"), v.to_string()));
    }
    (stack.is_empty() && section.is_some()).then(|| collect(pairs))
}

