//! Structural diff of two objects (list items matched by merge key) and of config files
//! (key by key in their own format, text line by line).

use super::*;

// =============================================================================================
// Structural diff

pub(crate) fn merge_key(v: &Value) -> Option<String> {
    let proto = || v.get("protocol").and_then(Value::as_str).unwrap_or("TCP").to_string();
    if let Some(n) = v.get("name").and_then(Value::as_str) {
        return Some(format!("name={n}"));
    }
    if let Some(n) = v.get("metadata").and_then(|m| m.get("name")).and_then(Value::as_str) {
        return Some(format!("name={n}"));
    }
    if let Some(p) = v.get("containerPort") {
        return Some(format!("containerPort={p}/{}", proto()));
    }
    if let Some(p) = v.get("port").filter(|p| p.is_number() || p.is_string()) {
        let p = p.as_str().map(String::from).unwrap_or_else(|| p.to_string());
        return Some(format!("port={p}/{}", proto()));
    }
    None
}

pub(crate) fn keyed(items: &[Value]) -> Option<Vec<String>> {
    let keys: Option<Vec<String>> = items.iter().map(|i| if i.is_object() { merge_key(i) } else { None }).collect();
    let keys = keys?;
    let unique: BTreeSet<&String> = keys.iter().collect();
    (unique.len() == keys.len()).then_some(keys)
}

pub(crate) fn diff_value(a: &Value, b: &Value, segs: &mut Vec<Seg>, out: &mut Vec<FieldChange>) {
    let push = |out: &mut Vec<FieldChange>, segs: &[Seg], op, old: Option<&Value>, new: Option<&Value>| {
        out.push(FieldChange { path: path_string(segs), op, old: old.cloned(), new: new.cloned(), redacted: false, segs: segs.to_vec() })
    };
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                segs.push(Seg::Key(k.clone()));
                match (x.get(k), y.get(k)) {
                    (Some(u), Some(v)) => diff_value(u, v, segs, out),
                    (None, Some(v)) => push(out, segs, Op::Added, None, Some(v)),
                    (Some(u), None) => push(out, segs, Op::Removed, Some(u), None),
                    (None, None) => {}
                }
                segs.pop();
            }
        }
        (Value::Array(x), Value::Array(y)) if a != b => match (keyed(x), keyed(y)) {
            (Some(kx), Some(ky)) if !x.is_empty() && !y.is_empty() => {
                for (i, k) in kx.iter().enumerate() {
                    segs.push(Seg::Item(k.clone()));
                    match ky.iter().position(|q| q == k) {
                        Some(j) => diff_value(&x[i], &y[j], segs, out),
                        None => push(out, segs, Op::Removed, Some(&x[i]), None),
                    }
                    segs.pop();
                }
                for (j, k) in ky.iter().enumerate() {
                    if !kx.contains(k) {
                        segs.push(Seg::Item(k.clone()));
                        push(out, segs, Op::Added, None, Some(&y[j]));
                        segs.pop();
                    }
                }
                let common_x: Vec<&String> = kx.iter().filter(|k| ky.contains(k)).collect();
                let common_y: Vec<&String> = ky.iter().filter(|k| kx.contains(k)).collect();
                if common_x != common_y {
                    let names = |v: &[&String]| Value::Array(v.iter().map(|s| Value::String(s.to_string())).collect());
                    push(out, segs, Op::Reordered, Some(&names(&common_x)), Some(&names(&common_y)));
                }
            }
            _ if x.iter().chain(y.iter()).all(|v| v.is_object()) && x.len() == y.len() => {
                for (i, (u, v)) in x.iter().zip(y).enumerate() {
                    segs.push(Seg::Index(i));
                    diff_value(u, v, segs, out);
                    segs.pop();
                }
            }
            _ => push(out, segs, Op::Changed, Some(a), Some(b)),
        },
        _ if a != b => push(out, segs, Op::Changed, Some(a), Some(b)),
        _ => {}
    }
}

/// Field changes of a whole object (the wave annotation is reported with waves, not here;
/// ConfigMap data is compared file by file elsewhere).
pub(crate) fn diff_object(key: &ObjKey, a: &Value, b: &Value) -> Vec<FieldChange> {
    let strip = |v: &Value| -> Value {
        let mut v = v.clone();
        if let Some(m) = v.pointer_mut("/metadata/annotations").and_then(Value::as_object_mut) {
            m.remove(WAVE_ANNOTATION);
            if m.is_empty()
                && let Some(md) = v.get_mut("metadata").and_then(Value::as_object_mut)
            {
                md.remove("annotations");
            }
        }
        if key.kind == "ConfigMap"
            && key.group.is_empty()
            && let Some(o) = v.as_object_mut()
        {
            o.remove("data");
            o.remove("binaryData");
        }
        v
    };
    let mut out = Vec::new();
    diff_value(&strip(a), &strip(b), &mut Vec::new(), &mut out);
    if key.kind == "Secret" && key.group.is_empty() {
        for c in &mut out {
            if c.starts_with(&["data"]) || c.starts_with(&["stringData"]) || c.segs.is_empty() {
                c.old = None;
                c.new = None;
                c.redacted = true;
            }
        }
    }
    out
}

// =============================================================================================
// Config files

pub(crate) fn text_diff(name: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new).unified_diff().context_radius(3).header(&format!("a/{name}"), &format!("b/{name}")).to_string()
}

/// Compares one config file of a ConfigMap.
pub fn diff_file(name: &str, old: Option<&str>, new: Option<&str>, hint: Option<FileFormat>) -> Option<FileChange> {
    let guess = |t: &str| hint.unwrap_or_else(|| detect(name, t));
    match (old, new) {
        (None, None) => None,
        (Some(a), Some(b)) if a == b => None,
        (None, Some(b)) => Some(FileChange { file: name.into(), format: guess(b), op: Op::Added, entries: vec![], text_diff: None, lines: Some(b.lines().count()) }),
        (Some(a), None) => Some(FileChange { file: name.into(), format: guess(a), op: Op::Removed, entries: vec![], text_diff: None, lines: Some(a.lines().count()) }),
        (Some(a), Some(b)) => {
            let format = guess(b);
            let parsed = match (parse(format, a), parse(format, b)) {
                (Some(x), Some(y)) => Some((x, y)),
                _ => None,
            };
            let Some((x, y)) = parsed else {
                return Some(FileChange { file: name.into(), format: FileFormat::Text, op: Op::Changed, entries: vec![], text_diff: Some(text_diff(name, a, b)), lines: None });
            };
            let mut keys: Vec<&String> = x.keys().chain(y.keys()).collect::<BTreeSet<_>>().into_iter().collect();
            keys.sort_by(|p, q| natural_cmp(p, q));
            let mut entries = Vec::new();
            for k in keys {
                let (u, v) = (x.get(k), y.get(k));
                let op = match (u, v) {
                    (Some(u), Some(v)) if u == v => continue,
                    (Some(_), Some(_)) => Op::Changed,
                    (None, Some(_)) => Op::Added,
                    (Some(_), None) => Op::Removed,
                    (None, None) => continue,
                };
                entries.push(EntryChange { key: k.clone(), op, old: u.cloned(), new: v.cloned() });
            }
            // nothing changed key by key: comments, order or formatting; show the text
            let td = entries.is_empty().then(|| text_diff(name, a, b));
            Some(FileChange { file: name.into(), format, op: Op::Changed, entries, text_diff: td, lines: None })
        }
    }
}
