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

fn escape_properties(s: &str, key: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for (i, ch) in s.chars().enumerate() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ' ' if key || i == 0 => out.push_str("\\ "),
            '=' | ':' if key => {
                out.push('\\');
                out.push(ch);
            }
            '#' | '!' if i == 0 => {
                out.push('\\');
                out.push(ch);
            }
            c => out.push(c),
        }
    }
    out
}

fn escape_xml(s: &str) -> String {
    quick_xml::escape::escape(s).into_owned()
}

const HEADER: &str = "Rendered by bdp. Do not edit: change the Cluster and render again.";

fn properties(entries: &[Entry]) -> String {
    let mut out = format!("# {HEADER}\n");
    for e in entries {
        let _ = writeln!(out, "{}={}", escape_properties(&e.key, true), escape_properties(&e.value, false));
    }
    out
}

fn hadoop_xml(entries: &[Entry]) -> String {
    let mut out = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- {HEADER} -->\n<configuration>\n");
    for e in entries {
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
    for e in entries {
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

fn env(entries: &[Entry]) -> String {
    let mut out = format!("# {HEADER}\n");
    for e in entries {
        let v = e.value.replace('\\', "\\\\").replace('"', "\\\"");
        let _ = writeln!(out, "export {}=\"{v}\"", e.key);
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
}
