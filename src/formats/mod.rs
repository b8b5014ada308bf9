//! Native config formats, one module each with a writer (`write`) and a reader (`parse`):
//! Java properties (zoo.cfg), Hadoop configuration XML, MIT krb5 profiles (krb5.conf, kdc.conf),
//! shell environment files, and plain text (a template rendered as is; no reader).
//!
//! Writers are deterministic: entries arrive sorted ([`natural_cmp`]) and are written as is.
//! Values are data: each writer escapes what its format can escape, and [`check_entry`]
//! refuses what it cannot (resolve runs it on every entry, so the error is at the user's value;
//! the writers leave such an entry out). Readers are what `bdp diff` compares files with, and
//! the tests read every writer's output back with them.
//!
//! A leaf module: it imports only the model's [`FileFormat`].

pub mod env;
pub mod krb5;
pub mod properties;
pub mod xml;

pub use crate::model::FileFormat;
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::BTreeMap;

/// One key of a config file, with whether a change of it needs a restart.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Entry {
    pub key: String,
    pub value: String,
    pub restart: bool,
}

/// A parsed file: key → value (a repeated key's values joined by newlines).
pub type Entries = BTreeMap<String, String>;

/// The first line (a comment) of every file with entries.
pub const HEADER: &str = "Rendered by bdp. Do not edit: change the Cluster and render again.";

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

impl FileFormat {
    /// The format's name as the stack format spells it (`hadoop-xml`).
    pub fn name(self) -> &'static str {
        match self {
            FileFormat::HadoopXml => "hadoop-xml",
            FileFormat::Properties => "properties",
            FileFormat::Krb5 => "krb5",
            FileFormat::Env => "env",
            FileFormat::Text => "text",
        }
    }

    /// What a key and value of the format may hold, in words (for diagnostics).
    pub fn grammar(self) -> &'static str {
        match self {
            FileFormat::Env => "a shell variable name [A-Za-z_][A-Za-z0-9_]* and a value without NUL",
            FileFormat::HadoopXml => "text without the control characters XML 1.0 forbids (U+0000-U+0008, U+000B, U+000C, U+000E-U+001F, U+FFFE, U+FFFF)",
            FileFormat::Krb5 => "a single-line value not starting with `{` or `\"`, without control characters",
            FileFormat::Properties | FileFormat::Text => "any text",
        }
    }
}

/// Can `value` be written for `key` in a file of `format` without becoming syntax? The writers
/// escape what their format can escape; what it cannot (a krb5 profile has no escaping at all,
/// XML forbids some characters, a shell name has a grammar) is refused here, so resolve reports
/// it with the location of the value, and the writers leave such an entry out.
pub fn check_entry(format: FileFormat, key: &str, value: &str) -> Result<(), String> {
    match format {
        FileFormat::Properties | FileFormat::Text => Ok(()),
        FileFormat::HadoopXml => xml::check(key, value),
        FileFormat::Env => env::check(key, value),
        FileFormat::Krb5 => krb5::check(key, value),
    }
}

/// The file's full text: its entries in `format`, or `text` for a text file.
pub fn write(format: FileFormat, entries: &[Entry], text: Option<&str>) -> String {
    match format {
        FileFormat::Properties => properties::write(entries),
        FileFormat::HadoopXml => xml::write(entries),
        FileFormat::Krb5 => krb5::write(entries),
        FileFormat::Env => env::write(entries),
        FileFormat::Text => text.unwrap_or_default().to_string(),
    }
}

/// The part of a file whose change needs a restart: keys marked `restart: false` left out; a
/// text file is all (`restart`) or nothing.
pub fn restart_relevant(format: FileFormat, entries: &[Entry], text: Option<&str>, restart: bool) -> String {
    if format == FileFormat::Text {
        return if restart { write(format, entries, text) } else { String::new() };
    }
    let keep: Vec<Entry> = entries.iter().filter(|e| e.restart).cloned().collect();
    write(format, &keep, None)
}

/// Reads a file of `format` back into its entries; `None` when the text is not such a file
/// (and for text files, which have no keys).
pub fn parse(format: FileFormat, text: &str) -> Option<Entries> {
    match format {
        FileFormat::HadoopXml => xml::parse(text),
        FileFormat::Properties => properties::parse(text),
        FileFormat::Krb5 => krb5::parse(text),
        FileFormat::Env => env::parse(text),
        FileFormat::Text => None,
    }
}

/// The format of a config file from its name and content (used when no plan says it).
pub fn detect(name: &str, text: &str) -> FileFormat {
    let t = text.trim_start();
    if t.starts_with("<?xml") || t.starts_with("<configuration") {
        return if xml::parse(text).is_some() { FileFormat::HadoopXml } else { FileFormat::Text };
    }
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(';') && !l.starts_with('!')).collect();
    if lines.is_empty() {
        return FileFormat::Text;
    }
    if lines.iter().any(|l| l.starts_with('[') && l.ends_with(']')) {
        return if krb5::parse(text).is_some() { FileFormat::Krb5 } else { FileFormat::Text };
    }
    if env::shell_assignments(text).is_some_and(|v| v.iter().all(|(_, _, exported)| *exported)) {
        return FileFormat::Env;
    }
    let lower = name.to_ascii_lowercase();
    if lower.ends_with(".properties") || lower.ends_with(".cfg") || lines.iter().all(|l| l.contains('=')) {
        return FileFormat::Properties;
    }
    FileFormat::Text
}

pub(crate) fn collect(pairs: Vec<(String, String)>) -> Entries {
    let mut m: Entries = BTreeMap::new();
    for (k, v) in pairs {
        m.entry(k).and_modify(|old| {
            old.push('\n');
            old.push_str(&v);
        }).or_insert(v);
    }
    m
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
        let x = xml::write(&[e("a<b", "x & \"y\" <z>")]);
        assert!(x.contains("<name>a&lt;b</name>"));
        assert!(x.contains("<value>x &amp; &quot;y&quot; &lt;z&gt;</value>"));
    }

    #[test]
    fn properties_escape_separators_in_keys() {
        assert_eq!(properties::write(&[e("a b=c", "v\\w")]).lines().nth(1), Some("a\\ b\\=c=v\\\\w"));
        assert_eq!(properties::write(&[e("k", "srvr, mntr")]).lines().nth(1), Some("k=srvr, mntr"));
    }

    #[test]
    fn krb5_sections_and_tags() {
        let t = krb5::write(&[
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
        let entries = [e("a", "1"), Entry { key: "b".into(), value: "2".into(), restart: false }];
        let t = restart_relevant(FileFormat::Properties, &entries, None, true);
        assert!(t.contains("a=1"));
        assert!(!t.contains("b=2"));
        assert_eq!(restart_relevant(FileFormat::Text, &[], Some("x"), false), "");
        assert_eq!(restart_relevant(FileFormat::Text, &[], Some("x"), true), "x");
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
        std::fs::write(&file, env::write(&entries)).unwrap();
        // source it, then print each variable NUL-separated, byte for byte
        let script = format!(". '{}'; for i in $(seq 0 {}); do eval \"printf '%s\\0' \\\"\\$V$i\\\"\"; done", file.display(), values.len() - 1);
        let out = std::process::Command::new("bash").arg("-c").arg(&script).output().expect("bash");
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(!canary.exists(), "sourcing the env file ran a command");
        let got: Vec<&str> = std::str::from_utf8(&out.stdout).unwrap().split('\0').collect();
        assert_eq!(&got[..values.len()], values.iter().map(String::as_str).collect::<Vec<_>>().as_slice());
        // and bdp diff reads the same values back
        let parsed = env::parse(&env::write(&entries)).expect("parse_env reads the writer's quoting");
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
        assert_eq!(env::write(&[e("A=1; touch x; B", "x"), e("OK", "1")]), format!("# {HEADER}\nexport OK='1'\n"));
    }

    #[test]
    fn xml_round_trips_and_refuses_forbidden_characters() {
        let values: Vec<&str> = NASTY.iter().copied().filter(|v| !v.chars().any(xml::xml_forbidden)).collect();
        let entries: Vec<Entry> = values.iter().enumerate().map(|(i, v)| e(&format!("k{i}"), v)).collect();
        let text = xml::write(&entries);
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
        assert_eq!(xml::parse(&text).unwrap()["k13"], "<x>&amp;]]>\"'");
        // forbidden characters are refused, and never written
        for bad in ["a\u{1}b", "\u{0}", "x\u{b}", "\u{fffe}", "\u{ffff}", "\u{1f}"] {
            assert!(check_entry(FileFormat::HadoopXml, "k", bad).is_err(), "{bad:?}");
            assert!(!xml::write(&[e("k", bad)]).contains("<property>"));
        }
        assert!(check_entry(FileFormat::HadoopXml, "k", "tab\tnl\ncr\r\u{85}\u{2028}").is_ok());
    }

    #[test]
    fn properties_values_never_add_keys() {
        let entries: Vec<Entry> = NASTY.iter().enumerate().map(|(i, v)| e(&format!("k{i}"), v)).chain([e("we ird=:#key", "v"), e("#c", "v"), e("smile\u{1F600}", "\u{1F600}\u{c}")]).collect();
        let text = properties::write(&entries);
        assert!(text.is_ascii(), "{text}");
        assert_eq!(text.lines().count(), 1 + entries.len(), "{text}");
        let parsed = properties::parse(&text).unwrap();
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
            let t = krb5::write(&[e(k, v)]);
            assert_eq!(t, format!("# {HEADER}\n"), "{k:?} = {v:?} was written");
        }
        assert!(check_entry(FileFormat::Krb5, "realms/EXAMPLE.COM/kdc", "a:88\nb:88").is_ok());
        // a line of a value is a relation, never a section header
        let t = krb5::write(&[e("libdefaults/x", "EVIL.COM\n[realms]\n  R = {")]);
        assert!(check_entry(FileFormat::Krb5, "libdefaults/x", "EVIL.COM\n[realms]\n  R = {").is_ok());
        let p = krb5::parse(&t).unwrap();
        assert_eq!(p.keys().collect::<Vec<_>>(), ["libdefaults/x"], "{t}");
    }

    /// Every format with keys: what a writer writes, its reader reads back, key for key.
    #[test]
    fn every_format_round_trips() {
        let cases: [(FileFormat, Vec<Entry>); 4] = [
            (FileFormat::Properties, NASTY.iter().enumerate().map(|(i, v)| e(&format!("k.{i}"), v)).collect()),
            (FileFormat::HadoopXml, NASTY.iter().enumerate().filter(|(_, v)| !v.chars().any(xml::xml_forbidden)).map(|(i, v)| e(&format!("k.{i}"), v)).collect()),
            (FileFormat::Env, NASTY.iter().enumerate().map(|(i, v)| e(&format!("K_{i}"), v)).collect()),
            (
                FileFormat::Krb5,
                vec![e("libdefaults/default_realm", "EXAMPLE.COM"), e("realms/EXAMPLE.COM/kdc", "a:88\nb:88"), e("realms/EXAMPLE.COM/admin_server", "a:749"), e("domain_realm/.svc.cluster.local", "EXAMPLE.COM")],
            ),
        ];
        for (format, mut entries) in cases {
            entries.sort_by(|a, b| natural_cmp(&a.key, &b.key));
            for x in &entries {
                assert!(check_entry(format, &x.key, &x.value).is_ok(), "{format:?} {x:?}");
            }
            let text = write(format, &entries, None);
            let back = parse(format, &text).unwrap_or_else(|| panic!("{format:?} reads its own output:\n{text}"));
            let want: Entries = entries.iter().map(|x| (x.key.clone(), x.value.clone())).collect();
            assert_eq!(back, want, "{format:?}:\n{text}");
            assert_eq!(detect("f", &text), format, "{format:?} is detected from its text:\n{text}");
        }
        assert_eq!(parse(FileFormat::Text, "anything"), None);
    }

    #[test]
    fn config_formats_parse_key_by_key() {
        let x = "<?xml version=\"1.0\"?>\n<configuration>\n  <property>\n    <name>a.b</name>\n    <value>x &amp; y</value>\n  </property>\n</configuration>\n";
        assert_eq!(xml::parse(x).unwrap()["a.b"], "x & y");
        assert_eq!(detect("core-site.xml", x), FileFormat::HadoopXml);
        assert_eq!(detect("logback.xml", "<?xml version=\"1.0\"?>\n<configuration><appender name=\"a\"/></configuration>\n"), FileFormat::Text);
        let p = properties::parse("# c\na=1\nb : two\\\n  lines\nkey\\=x=y\nserver.1=h:1:2;3\n").unwrap();
        assert_eq!((p["a"].as_str(), p["b"].as_str(), p["key=x"].as_str(), p["server.1"].as_str()), ("1", "twolines", "y", "h:1:2;3"));
        let k = krb5::parse("[libdefaults]\n  default_realm = R\n[realms]\n  R = {\n    kdc = a:88\n    kdc = b:88\n  }\n").unwrap();
        assert_eq!(k["libdefaults/default_realm"], "R");
        assert_eq!(k["realms/R/kdc"], "a:88\nb:88");
        assert_eq!(detect("krb5.conf", "[libdefaults]\n a = b\n"), FileFormat::Krb5);
        let e = env::parse("# x\nexport A=\"q \\\"x\\\"\"\nB=2\n").unwrap();
        assert_eq!((e["A"].as_str(), e["B"].as_str()), ("q \"x\"", "2"));
        assert_eq!(detect("java.env", "export A=\"1\"\n"), FileFormat::Env);
        assert_eq!(detect("run.sh", "#!/bin/sh\nexec foo\n"), FileFormat::Text);
    }
}
