//! A small, deterministic YAML writer for JSON values (bdp's output).
//!
//! Why not serde_yaml or a fork: the output is a contract reviewed in Git, so its exact bytes
//! matter. This writer sorts every mapping's keys, writes multi-line strings (the embedded
//! config files) as literal blocks so they diff line by line, indents sequences consistently
//! (yamllint's `indent-sequences: consistent`), and quotes every string a YAML 1.1 reader
//! (kubectl, PyYAML) could mistake for a number, boolean or null — `on`, `yes`, `3.8`, `0755`.

use serde_json::Value;
use std::fmt::Write as _;

fn needs_quotes(s: &str) -> bool {
    if s.is_empty() || s.trim() != s {
        return true;
    }
    let lower = s.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "null" | "~" | "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | ".inf" | "-.inf" | "+.inf" | ".nan" | "<<" | "="
    ) {
        return true;
    }
    let first = s.chars().next().unwrap_or(' ');
    if first.is_ascii_digit() || "-+.?:,[]{}#&*!|>'\"%@`".contains(first) {
        return true;
    }
    if s.contains(": ") || s.contains(" #") || s.ends_with(':') {
        return true;
    }
    s.chars().any(|c| c.is_control())
}

fn quote(s: &str) -> String {
    if s.chars().any(|c| c.is_control()) {
        let mut out = String::from("\"");
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\t' => out.push_str("\\t"),
                '\r' => out.push_str("\\r"),
                c if c.is_control() => {
                    let _ = write!(out, "\\u{:04x}", c as u32);
                }
                c => out.push(c),
            }
        }
        out.push('"');
        out
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}

fn block_ok(s: &str) -> bool {
    s.contains('\n')
        && !s.starts_with(' ')
        && !s.starts_with('\n')
        && s.lines().all(|l| !l.ends_with(' ') && !l.ends_with('\t'))
        && !s.chars().any(|c| c.is_control() && c != '\n')
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => {
            if needs_quotes(s) {
                quote(s)
            } else {
                s.clone()
            }
        }
        Value::Array(_) => "[]".into(),
        Value::Object(_) => "{}".into(),
    }
}

fn is_empty_collection(v: &Value) -> bool {
    match v {
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

fn write_block(out: &mut String, s: &str, indent: usize) {
    let chomp = if s.ends_with("\n\n") {
        "+"
    } else if s.ends_with('\n') {
        ""
    } else {
        "-"
    };
    let _ = writeln!(out, "|{chomp}");
    let pad = " ".repeat(indent);
    for line in s.strip_suffix('\n').unwrap_or(s).split('\n') {
        if line.is_empty() {
            out.push('\n');
        } else {
            let _ = writeln!(out, "{pad}{line}");
        }
    }
}

/// Writes `v` as the value that follows `key:` or `- ` at `indent`.
fn write_value(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            write_map(out, m, indent);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            write_seq(out, a, indent);
        }
        Value::String(s) if block_ok(s) => {
            out.push(' ');
            write_block(out, s, indent);
        }
        other => {
            let _ = writeln!(out, " {}", scalar(other));
        }
    }
}

fn sorted(m: &serde_json::Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut v: Vec<_> = m.iter().collect();
    v.sort_by(|a, b| a.0.cmp(b.0));
    v
}

fn key(k: &str) -> String {
    if needs_quotes(k) || k.contains(' ') { quote(k) } else { k.to_string() }
}

fn write_map(out: &mut String, m: &serde_json::Map<String, Value>, indent: usize) {
    let pad = " ".repeat(indent);
    for (k, v) in sorted(m) {
        let _ = write!(out, "{pad}{}:", key(k));
        write_value(out, v, indent + 2);
    }
}

fn write_seq(out: &mut String, a: &[Value], indent: usize) {
    let pad = " ".repeat(indent);
    for item in a {
        match item {
            Value::Object(m) if !m.is_empty() => {
                // first key on the dash line, the rest aligned under it
                let entries = sorted(m);
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i == 0 {
                        let _ = write!(out, "{pad}- {}:", key(k));
                    } else {
                        let _ = write!(out, "{pad}  {}:", key(k));
                    }
                    write_value(out, v, indent + 4);
                }
            }
            Value::Array(inner) if !inner.is_empty() => {
                let _ = write!(out, "{pad}-");
                write_value(out, item, indent + 2);
            }
            Value::String(s) if block_ok(s) => {
                let _ = write!(out, "{pad}- ");
                write_block(out, s, indent + 2);
            }
            other => {
                let _ = writeln!(out, "{pad}- {}", scalar(other));
            }
        }
    }
}

/// One YAML document (without the `---` separator).
pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Object(m) if !m.is_empty() => write_map(&mut out, m, 0),
        Value::Array(a) if !a.is_empty() => write_seq(&mut out, a, 0),
        other if is_empty_collection(other) => {
            let _ = writeln!(out, "{}", scalar(other));
        }
        other => {
            let _ = writeln!(out, "{}", scalar(other));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn quotes_ambiguous_strings() {
        let y = to_yaml(&json!({"a": "on", "b": "3.8", "c": "plain", "d": "x: y", "e": "", "f": 3, "g": "it's"}));
        assert_eq!(y, "a: 'on'\nb: '3.8'\nc: plain\nd: 'x: y'\ne: ''\nf: 3\ng: it's\n");
    }

    #[test]
    fn literal_blocks_for_multiline() {
        let y = to_yaml(&json!({"data": {"zoo.cfg": "a=1\nb=2\n", "x": "no newline\nat end"}}));
        assert_eq!(y, "data:\n  x: |-\n    no newline\n    at end\n  zoo.cfg: |\n    a=1\n    b=2\n");
    }

    #[test]
    fn sequences_of_maps_and_sorted_keys() {
        let y = to_yaml(&json!({"z": 1, "a": [{"name": "x", "b": [1, 2]}, "s"], "e": {}, "f": []}));
        assert_eq!(y, "a:\n  - b:\n      - 1\n      - 2\n    name: x\n  - s\ne: {}\nf: []\nz: 1\n");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(to_yaml(&json!({"a": "x\ty"})), "a: \"x\\ty\"\n");
    }
}
