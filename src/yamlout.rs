//! A small, deterministic YAML writer for JSON values (bdp's output).
//!
//! Why not serde_yaml or a fork: the output is a contract reviewed in Git, so its exact bytes
//! matter. This writer sorts every mapping's keys, writes multi-line strings (the embedded
//! config files) as literal blocks so they diff line by line, indents sequences consistently
//! (yamllint's `indent-sequences: consistent`), and quotes every string a YAML 1.1 reader
//! (kubectl, PyYAML) could mistake for a number, boolean or null — `on`, `yes`, `3.8`, `0755`.

use serde_json::Value;
use std::fmt::Write as _;

/// A character YAML cannot hold as is in a plain, single-quoted or literal scalar: control
/// characters (C0, DEL, C1; NEL U+0085 is a line break in YAML 1.1), the Unicode line and
/// paragraph separators (line breaks in YAML 1.1), the byte order mark, and the non-characters
/// U+FFFE/U+FFFF (outside YAML's printable set). Written escaped in double quotes.
fn must_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}')
}

/// Would a YAML 1.1 or 1.2 reader take the plain scalar `s` for anything but this string?
fn needs_quotes(s: &str) -> bool {
    if s.is_empty() || s.trim() != s {
        return true;
    }
    let lower = s.to_ascii_lowercase();
    // YAML 1.1 and 1.2 null and booleans (any case), merge and value keys
    if matches!(
        lower.as_str(),
        "null" | "~" | "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "<<" | "="
    ) {
        return true;
    }
    // indicators; every number of YAML 1.1 or 1.2 (`0x1f`, `0o17`, `0777`, `1_000`, `1:20`,
    // `.inf`, `-.nan`, `+1`) starts with a digit, a sign or a dot
    let first = s.chars().next().unwrap_or(' ');
    if first.is_ascii_digit() || "-+.?:,[]{}#&*!|>'\"%@`".contains(first) {
        return true;
    }
    if s.contains(": ") || s.contains(" #") || s.ends_with(':') {
        return true;
    }
    s.chars().any(must_escape)
}

/// A quoted scalar: single quotes when every character may stand as is, else double quotes
/// with YAML's escapes (`\n`, `\t`, `\N`, `\L`, `\P`, `\xXX`, `\uXXXX`).
fn quote(s: &str) -> String {
    if !s.chars().any(must_escape) {
        return format!("'{}'", s.replace('\'', "''"));
    }
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\0' => out.push_str("\\0"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{85}' => out.push_str("\\N"),
            '\u{2028}' => out.push_str("\\L"),
            '\u{2029}' => out.push_str("\\P"),
            c if must_escape(c) && (c as u32) < 0x100 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c if must_escape(c) => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Can `s` be a literal block (`|`)? Only text whose every line survives as is: more than one
/// line, no character that needs an escape, no trailing blanks (editors and linters strip
/// them), a first line that does not start with a blank (it would set the indentation).
fn block_ok(s: &str) -> bool {
    s.contains('\n')
        && !s.starts_with([' ', '\t', '\n'])
        && s.lines().all(|l| !l.ends_with(' ') && !l.ends_with('\t'))
        && !s.chars().any(|c| must_escape(c) && c != '\n')
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

    /// Strings a YAML 1.1 or 1.2 reader could misread, or that could break the stream.
    pub(crate) const NASTY: &[&str] = &[
        "x\u{2028}y", "x\u{2029}y", "x\u{85}y", "\u{feff}bom", "a\u{feff}b", "\u{1}\u{2}\u{7f}\u{9f}\u{80}", "nul\0x",
        " lead", "trail ", "\ttab", "~", "null", "Null", "NULL", "y", "Y", "n", "yes", "No", "ON", "off",
        "true", "False", "0x1F", "0o17", "0777", "0b101", "1:20", "190:20:30", ".inf", "-.Inf", "+.INF", ".NaN", "1_000",
        "1e3", "+1", "-1", "3.8", "2001-12-14", "<<", "=", "- a", "-", "? a", "?", ": a", ":", ",a", "[a]", "]", "{a}", "}",
        "#c", "&a", "*a", "!t", "|", ">", "'q", "\"q", "%d", "@a", "`b", "a #b", "a: b", "a:", "a\u{fffe}b", "\u{ffff}",
        "multi\nline\n", "multi\nline", "trailing \nspace\n", " indented\nblock\n", "\n\nleading newlines\n",
        "ends\n\n", "crlf\r\nline\n", "x\u{2028}\ny\n", "tab\tin\nblock\n", "it's", "a\\b", "--- doc", "...", "a\u{a0}b",
        "\u{1F600}", "é", "plain words", "a,b", "a: b\nc: d\n",
    ];

    fn parse_back(y: &str) -> serde_json::Value {
        let docs = yaml_rust2::YamlLoader::load_from_str(y).unwrap_or_else(|e| panic!("{e}: {y}"));
        fn conv(v: &yaml_rust2::Yaml) -> serde_json::Value {
            match v {
                yaml_rust2::Yaml::String(s) => json!(s),
                yaml_rust2::Yaml::Hash(h) => {
                    serde_json::Value::Object(h.iter().map(|(k, v)| (k.as_str().unwrap_or("<non-string key>").to_string(), conv(v))).collect())
                }
                yaml_rust2::Yaml::Array(a) => serde_json::Value::Array(a.iter().map(conv).collect()),
                other => json!(format!("<not a string: {other:?}>")),
            }
        }
        conv(&docs[0])
    }

    #[test]
    fn nasty_strings_round_trip_as_values_keys_and_items() {
        for s in NASTY {
            let v = json!({"v": s, "seq": [s], "map": {*s: "k"}, "deep": [{"x": s}]});
            let y = to_yaml(&v);
            assert_eq!(parse_back(&y), v, "{s:?} written as:\n{y}");
        }
    }

    #[test]
    fn separators_and_bom_are_escaped() {
        assert_eq!(to_yaml(&json!({"a": "x\u{2028}y"})), "a: \"x\\Ly\"\n");
        assert_eq!(to_yaml(&json!({"a": "\u{feff}x"})), "a: \"\\ufeffx\"\n");
        assert_eq!(to_yaml(&json!({"a": "x\u{85}"})), "a: \"x\\N\"\n");
        assert_eq!(to_yaml(&json!({"a": "\u{1}"})), "a: \"\\x01\"\n");
        // a multi-line value with a separator is not a literal block
        assert_eq!(to_yaml(&json!({"a": "x\u{2029}\ny\n"})), "a: \"x\\P\\ny\\n\"\n");
    }

    #[test]
    fn pyyaml_reads_every_nasty_string_back() {
        let py = ["/opt/bdp-e2e/venv/bin/python3", "python3"]
            .into_iter()
            .find(|p| std::process::Command::new(p).args(["-c", "import yaml"]).output().is_ok_and(|o| o.status.success()));
        let Some(py) = py else {
            eprintln!("PyYAML not installed: skipped (tests/e2e/install.sh installs it)");
            return;
        };
        let v = json!({"items": NASTY, "keys": NASTY.iter().map(|s| (s.to_string(), json!(s))).collect::<serde_json::Map<_, _>>()});
        let y = to_yaml(&v);
        let script = "import sys, json, yaml\nd = yaml.safe_load(sys.stdin.buffer.read().decode('utf-8'))\nsys.stdout.write(json.dumps(d))";
        let mut child = std::process::Command::new(py)
            .args(["-c", script])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write as _;
        child.stdin.take().unwrap().write_all(y.as_bytes()).unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "PyYAML refused the stream: {}\n{y}", String::from_utf8_lossy(&out.stderr));
        let back: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(back, v);
    }
}
