//! Writers for native config formats: Java properties (zoo.cfg), Hadoop configuration XML,
//! MIT krb5 profiles (krb5.conf, kdc.conf), shell environment files, and plain templates.
//! Each writer is deterministic: entries arrive sorted (natural order) and are written as is.

use crate::model::FileFormat;
use crate::resolve::{ConfigFile, Entry};
use std::cmp::Ordering;
use std::fmt::Write as _;

/// Natural order: `server.2` before `server.10`.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut x, mut y) = (a.as_bytes(), b.as_bytes());
    loop {
        match (x.first(), y.first()) {
            (None, None) => return Ordering::Equal,
            (None, _) => return Ordering::Less,
            (_, None) => return Ordering::Greater,
            (Some(c), Some(d)) if c.is_ascii_digit() && d.is_ascii_digit() => {
                let n1 = x.iter().take_while(|c| c.is_ascii_digit()).count();
                let n2 = y.iter().take_while(|c| c.is_ascii_digit()).count();
                let (s1, s2) = (&x[..n1], &y[..n2]);
                let t1 = s1.iter().skip_while(|c| **c == b'0').count();
                let t2 = s2.iter().skip_while(|c| **c == b'0').count();
                let o = t1.cmp(&t2).then_with(|| s1[n1 - t1..].cmp(&s2[n2 - t2..])).then(n1.cmp(&n2));
                if o != Ordering::Equal {
                    return o;
                }
                x = &x[n1..];
                y = &y[n2..];
            }
            (Some(c), Some(d)) => {
                if c != d {
                    return c.cmp(d);
                }
                x = &x[1..];
                y = &y[1..];
            }
        }
    }
}

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

/// Can `value` be written for `key` in a file of `format` without becoming syntax? The writers
/// escape what their format can escape; what it cannot (a krb5 profile has no escaping at all,
/// XML forbids some characters, a shell name has a grammar) is refused here, so resolve reports
/// it with the location of the value, and the writers leave such an entry out.
pub fn check_entry(format: FileFormat, key: &str, value: &str) -> Result<(), String> {
    let ctl = |s: &str| s.chars().find(|c| c.is_control() && *c != '\n').map(|c| format!("U+{:04X}", c as u32));
    match format {
        FileFormat::Properties | FileFormat::Text => Ok(()),
        FileFormat::HadoopXml => match key.chars().chain(value.chars()).find(|c| xml_forbidden(*c)) {
            Some(c) => Err(format!("contains U+{:04X}, a character XML 1.0 does not allow (not even escaped)", c as u32)),
            None => Ok(()),
        },
        FileFormat::Env => {
            if !is_env_name(key) {
                Err(format!("`{key}` is not a shell variable name"))
            } else if value.contains('\0') {
                Err("contains a NUL character, which a shell variable cannot hold".into())
            } else {
                Ok(())
            }
        }
        FileFormat::Krb5 => {
            for part in key.split('/') {
                if part.is_empty() || part.chars().any(|c| c.is_whitespace() || c.is_control() || "=[]{}\"".contains(c)) || part.starts_with(['#', ';']) {
                    return Err(format!("the krb5 profile name `{}` would not be one section, tag or relation name (no whitespace, control characters, `=`, `[`, `]`, `{{`, `}}`, quotes, or leading `#`/`;`)", key.escape_debug()));
                }
            }
            if let Some(c) = ctl(value) {
                return Err(format!("contains {c}, a control character, which a krb5 profile cannot hold"));
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
    }
}

fn writable(format: FileFormat, e: &Entry) -> bool {
    check_entry(format, &e.key, &e.value).is_ok()
}

const HEADER: &str = "Rendered by bdp. Do not edit: change the Cluster and render again.";

fn properties(entries: &[Entry]) -> String {
    let mut out = format!("# {HEADER}\n");
    for e in entries {
        let _ = writeln!(out, "{}={}", escape_properties(&e.key, true), escape_properties(&e.value, false));
    }
    out
}

/// Hadoop configuration XML. An entry with a character XML forbids is left out (resolve has
/// reported it); everything else is escaped.
fn hadoop_xml(entries: &[Entry]) -> String {
    let mut out = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- {HEADER} -->\n<configuration>\n");
    for e in entries.iter().filter(|e| writable(FileFormat::HadoopXml, e)) {
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

/// krb5 profile: keys are `section/relation` or `section/tag/relation`; a value with several
/// lines becomes one relation per line (krb5 allows repeated relations, e.g. several `kdc`).
fn krb5(entries: &[Entry]) -> String {
    use std::collections::BTreeMap;
    /// A section's plain relations, and its tagged groups (`TAG = { ... }`).
    type Relations<'a> = Vec<(&'a str, &'a str)>;
    let mut sections: BTreeMap<&str, (Relations, BTreeMap<&str, Relations>)> = BTreeMap::new();
    for e in entries.iter().filter(|e| writable(FileFormat::Krb5, e)) {
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

/// Is `k` a shell variable name (`[A-Za-z_][A-Za-z0-9_]*`)?
pub fn is_env_name(k: &str) -> bool {
    let mut it = k.chars();
    it.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && it.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A POSIX shell single-quoted word: everything between single quotes is data (no `$`, no
/// backticks, no backslashes are interpreted); an embedded `'` becomes `'\''`.
pub fn shell_quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', "'\\''"))
}

/// `export KEY='value'` lines. A key that is not a shell name cannot be written safely: it is
/// left out (resolve reports it as an error at the user's location before anything is rendered).
fn env(entries: &[Entry]) -> String {
    let mut out = format!("# {HEADER}\n");
    for e in entries {
        if !writable(FileFormat::Env, e) {
            continue;
        }
        let _ = writeln!(out, "export {}={}", e.key, shell_quote(&e.value));
    }
    out
}

/// The file's full text.
pub fn write(f: &ConfigFile) -> String {
    write_entries(f.format, &f.entries, f.text.as_deref())
}

pub fn write_entries(format: FileFormat, entries: &[Entry], text: Option<&str>) -> String {
    match format {
        FileFormat::Properties => properties(entries),
        FileFormat::HadoopXml => hadoop_xml(entries),
        FileFormat::Krb5 => krb5(entries),
        FileFormat::Env => env(entries),
        FileFormat::Text => text.unwrap_or_default().to_string(),
    }
}

/// The part of the file whose change needs a restart (keys marked `restart: false` left out).
pub fn restart_relevant(f: &ConfigFile) -> String {
    if f.format == FileFormat::Text {
        return if f.restart { write(f) } else { String::new() };
    }
    let keep: Vec<Entry> = f.entries.iter().filter(|e| e.restart).cloned().collect();
    write_entries(f.format, &keep, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(k: &str, v: &str) -> Entry {
        Entry { key: k.into(), value: v.into(), restart: true }
    }

    #[test]
    fn natural_order() {
        let mut v = vec!["server.10", "server.2", "server.1", "a", "server.02"];
        v.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(v, ["a", "server.1", "server.2", "server.02", "server.10"]);
    }

    #[test]
    fn xml_escapes() {
        let x = hadoop_xml(&[e("a<b", "x & \"y\" <z>")]);
        assert!(x.contains("<name>a&lt;b</name>"));
        assert!(x.contains("<value>x &amp; &quot;y&quot; &lt;z&gt;</value>"));
    }

    #[test]
    fn properties_escape_separators_in_keys() {
        assert_eq!(properties(&[e("a b=c", "v\\w")]).lines().nth(1), Some("a\\ b\\=c=v\\\\w"));
        assert_eq!(properties(&[e("k", "srvr, mntr")]).lines().nth(1), Some("k=srvr, mntr"));
    }

    #[test]
    fn krb5_sections_and_tags() {
        let t = krb5(&[
            e("libdefaults/default_realm", "EXAMPLE.COM"),
            e("realms/EXAMPLE.COM/kdc", "a:88\nb:88"),
            e("domain_realm/.svc.cluster.local", "EXAMPLE.COM"),
        ]);
        assert!(t.contains("[libdefaults]\n  default_realm = EXAMPLE.COM\n"), "{t}");
        assert!(t.contains("[realms]\n  EXAMPLE.COM = {\n    kdc = a:88\n    kdc = b:88\n  }\n"), "{t}");
        assert!(t.contains("[domain_realm]\n  .svc.cluster.local = EXAMPLE.COM\n"), "{t}");
    }

    #[test]
    fn restart_relevant_leaves_out_hot_keys() {
        let f = ConfigFile {
            name: "x".into(),
            format: FileFormat::Properties,
            dir: "/c".into(),
            entries: vec![e("a", "1"), Entry { key: "b".into(), value: "2".into(), restart: false }],
            text: None,
            restart: true,
        };
        assert!(restart_relevant(&f).contains("a=1"));
        assert!(!restart_relevant(&f).contains("b=2"));
    }

    /// Values a hostile or careless Cluster might carry.
    const NASTY: &[&str] = &[
        "512$(touch {canary})",
        "`touch {canary}`",
        "a'b",
        "'; touch {canary}; '",
        "x\"y\\z",
        "line1\nline2\n",
        "\\'\\\"",
        "tab\there",
        "  lead and trail  ",
        "$HOME ${PATH} $((1+1)) !! *",
        "x\u{2028}y\u{85}z\u{feff}",
        "",
        "a\rb",
        "<x>&amp;]]>\"'",
        "#!x",
        "key=value\nother=1",
    ];

    #[test]
    fn env_values_are_data_when_sourced() {
        let Ok(dir) = std::env::temp_dir().join(format!("bdp-env-{}", std::process::id())).canonicalize().or_else(|_| {
            let d = std::env::temp_dir().join(format!("bdp-env-{}", std::process::id()));
            std::fs::create_dir_all(&d).map(|_| d)
        }) else {
            panic!("no temp dir")
        };
        let canary = dir.join("pwned");
        let values: Vec<String> = NASTY.iter().map(|v| v.replace("{canary}", &canary.display().to_string())).collect();
        let entries: Vec<Entry> = values.iter().enumerate().map(|(i, v)| e(&format!("V{i}"), v)).collect();
        let file = dir.join("java.env");
        std::fs::write(&file, env(&entries)).unwrap();
        // source it, then print each variable NUL-separated, byte for byte
        let script = format!(". '{}'; for i in $(seq 0 {}); do eval \"printf '%s\\0' \\\"\\$V$i\\\"\"; done", file.display(), values.len() - 1);
        let out = std::process::Command::new("bash").arg("-c").arg(&script).output().expect("bash");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(!canary.exists(), "sourcing the env file ran a command");
        let got: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().split('\0').collect();
        assert_eq!(&got[..values.len()], values.iter().map(String::as_str).collect::<Vec<_>>().as_slice());
        // and bdp diff reads the same values back
        let parsed = crate::diff::parse_env(&env(&entries)).expect("parse_env reads the writer's quoting");
        for (i, v) in values.iter().enumerate() {
            assert_eq!(&parsed[&format!("V{i}")], v);
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn env_refuses_what_a_shell_cannot_hold() {
        assert!(check_entry(FileFormat::Env, "A=1; touch x; B", "x").is_err());
        assert!(check_entry(FileFormat::Env, "custom.key", "x").is_err());
        assert!(check_entry(FileFormat::Env, "1A", "x").is_err());
        assert!(check_entry(FileFormat::Env, "_A1", "x").is_ok());
        assert!(check_entry(FileFormat::Env, "A", "x\0y").is_err());
        // the writer never writes such a key, even when called directly
        assert_eq!(env(&[e("A=1; touch x; B", "x"), e("OK", "1")]), format!("# {HEADER}\nexport OK='1'\n"));
    }

    #[test]
    fn xml_round_trips_and_refuses_forbidden_characters() {
        let values: Vec<&str> = NASTY.iter().copied().filter(|v| !v.chars().any(xml_forbidden)).collect();
        let entries: Vec<Entry> = values.iter().enumerate().map(|(i, v)| e(&format!("k{i}"), v)).collect();
        let text = hadoop_xml(&entries);
        // a real XML parser gives every value back
        let mut r = quick_xml::Reader::from_str(&text);
        let mut got = Vec::new();
        let mut in_value = false;
        let mut cur = String::new();
        loop {
            match r.read_event().expect("well-formed XML") {
                quick_xml::events::Event::Start(s) if s.name().as_ref() == "value" => {
                    in_value = true;
                    cur.clear();
                }
                quick_xml::events::Event::End(s) if s.name().as_ref() == "value" => {
                    in_value = false;
                    got.push(cur.clone());
                }
                quick_xml::events::Event::Text(t) if in_value => cur.push_str(&t.xml10_content()),
                quick_xml::events::Event::GeneralRef(g) if in_value => match g.resolve_char_ref().unwrap() {
                    Some(c) => cur.push(c),
                    None => cur.push_str(quick_xml::escape::resolve_predefined_entity(&g).unwrap()),
                },
                quick_xml::events::Event::Eof => break,
                _ => {}
            }
        }
        assert_eq!(got, values);
        assert_eq!(crate::diff::parse_hadoop_xml(&text).unwrap()["k13"], "<x>&amp;]]>\"'");
        // forbidden characters are refused, and never written
        for bad in ["a\u{1}b", "\u{0}", "x\u{b}", "\u{fffe}", "\u{ffff}", "\u{1f}"] {
            assert!(check_entry(FileFormat::HadoopXml, "k", bad).is_err(), "{bad:?}");
            assert!(!hadoop_xml(&[e("k", bad)]).contains("<property>"));
        }
        assert!(check_entry(FileFormat::HadoopXml, "k", "tab\tnl\ncr\r\u{85}\u{2028}").is_ok());
    }

    #[test]
    fn properties_values_never_add_keys() {
        let entries: Vec<Entry> = NASTY.iter().enumerate().map(|(i, v)| e(&format!("k{i}"), v)).chain([e("we ird=:#key", "v"), e("#c", "v"), e("smile\u{1F600}", "\u{1F600}\u{c}")]).collect();
        let text = properties(&entries);
        assert!(text.is_ascii(), "{text}");
        assert_eq!(text.lines().count(), 1 + entries.len(), "{text}");
        let parsed = crate::diff::parse_properties(&text).unwrap();
        assert_eq!(parsed.len(), entries.len());
        for x in &entries {
            assert_eq!(parsed.get(&x.key), Some(&x.value), "{:?}", x.key);
        }
    }

    #[test]
    fn krb5_values_cannot_add_sections() {
        for (k, v) in [
            ("realms/EVIL.COM\n[LIBDEFAULTS]/kdc", "a:88"),
            ("realms/MY REALM/kdc", "a:88"),
            ("libdefaults/ticket_lifetime", "{"),
            ("libdefaults/ticket_lifetime", "\"quoted"),
            ("libdefaults/x", "a\rb"),
            ("realms/R}/kdc", "a"),
        ] {
            assert!(check_entry(FileFormat::Krb5, k, v).is_err(), "{k:?} = {v:?}");
            let t = krb5(&[e(k, v)]);
            assert_eq!(t, format!("# {HEADER}\n"), "{k:?} = {v:?} was written");
        }
        assert!(check_entry(FileFormat::Krb5, "realms/EXAMPLE.COM/kdc", "a:88\nb:88").is_ok());
        // a line of a value is a relation, never a section header
        let t = krb5(&[e("libdefaults/x", "EVIL.COM\n[realms]\n  R = {")]);
        assert!(check_entry(FileFormat::Krb5, "libdefaults/x", "EVIL.COM\n[realms]\n  R = {").is_ok());
        let p = crate::diff::parse_profile(&t).unwrap();
        assert_eq!(p.keys().collect::<Vec<_>>(), ["libdefaults/x"], "{t}");
    }
}
