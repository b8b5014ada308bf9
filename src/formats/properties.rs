//! Java properties (zoo.cfg, log4j.properties): `key=value` lines with Java escapes.

use super::{collect, Entries, Entry, HEADER};
use std::fmt::Write as _;

/// Java properties escaping (`java.util.Properties.store`): backslash, line breaks, tab and form
/// feed as `\\`, `\n`, `\r`, `\t`, `\f`; every other character outside printable ASCII as
/// `\uXXXX` (UTF-16 units), since `Properties.load(InputStream)` reads ISO 8859-1; a leading
/// space, `#` or `!`, and in keys every space, `=` and `:`, behind a backslash. No value can
/// start a new line, so no value can add a key.
fn escape_properties(s: &str, key: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, ch) in s.chars().enumerate() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{c}' => out.push_str("\\f"),
            ' ' if key || i == 0 => out.push_str("\\ "),
            '=' | ':' if key => {
                out.push('\\');
                out.push(ch);
            }
            '#' | '!' if i == 0 => {
                out.push('\\');
                out.push(ch);
            }
            c if !(' '..='~').contains(&c) => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{u:04X}");
                }
            }
            c => out.push(c),
        }
    }
    out
}

pub fn write(entries: &[Entry]) -> String {
    let mut out = format!("# {HEADER}\n");
    for e in entries {
        let _ = writeln!(out, "{}={}", escape_properties(&e.key, true), escape_properties(&e.value, false));
    }
    out
}

fn unescape_properties(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match it.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex: String = it.by_ref().take(4).collect();
                match u16::from_str_radix(&hex, 16) {
                    // a UTF-16 surrogate pair is two escapes (`\uD83D\uDE00`)
                    Ok(hi @ 0xD800..=0xDBFF) if it.as_str().starts_with("\\u") => {
                        let lo: String = it.as_str().chars().skip(2).take(4).collect();
                        match u16::from_str_radix(&lo, 16).ok().and_then(|lo| char::decode_utf16([hi, lo]).next()?.ok()) {
                            Some(ch) => {
                                out.push(ch);
                                it.by_ref().take(6).for_each(drop);
                            }
                            None => out.push(char::REPLACEMENT_CHARACTER),
                        }
                    }
                    Ok(u) => out.push(char::from_u32(u32::from(u)).unwrap_or(char::REPLACEMENT_CHARACTER)),
                    Err(_) => out.push_str(&hex),
                }
            }
            Some(x) => out.push(x),
            None => {}
        }
    }
    out
}

/// Java properties (`key=value`, `key: value`, `key value`; `#`/`!` comments; `\` continuations).
pub fn parse(text: &str) -> Option<Entries> {
    let mut pairs = Vec::new();
    let mut logical = String::new();
    for raw in text.lines() {
        let line = raw.trim_start();
        if logical.is_empty() && (line.is_empty() || line.starts_with('#') || line.starts_with('!')) {
            continue;
        }
        let trailing = line.chars().rev().take_while(|c| *c == '\\').count();
        if trailing % 2 == 1 {
            logical.push_str(&line[..line.len() - 1]);
            continue;
        }
        logical.push_str(line);
        let l = std::mem::take(&mut logical);
        let mut key_end = l.len();
        let mut escaped = false;
        for (i, c) in l.char_indices() {
            if escaped {
                escaped = false;
                continue;
            }
            if c == '\\' {
                escaped = true;
            } else if c == '=' || c == ':' || c.is_whitespace() {
                key_end = i;
                break;
            }
        }
        let key = &l[..key_end];
        let mut rest = l[key_end..].trim_start_matches([' ', '\t', '\u{c}']);
        if rest.starts_with('=') || rest.starts_with(':') {
            rest = rest[1..].trim_start_matches([' ', '\t', '\u{c}']);
        }
        pairs.push((unescape_properties(key), unescape_properties(rest)));
    }
    Some(collect(pairs))
}

