//! The JSON Schemas of the input kinds, generated from `model/` (schemars, draft 2020-12).
//!
//! `schemas/*.schema.json` are these functions' output, committed so that editors and other
//! tools can use them; `tests/schemas.rs` fails when they differ, and
//! `BDP_UPDATE_SCHEMAS=1 cargo test --test schemas` rewrites them. The validator compiles the
//! committed files (`validate.rs`), so what it enforces is what this module generates.
//!
//! Post-processing after schemars, so the schemas say what serde accepts and nothing more:
//! - `Option<T>` is `T` (a field may be left out; `null` is not a value in these documents),
//!   except the Cluster's services and roles, which are `null` for "the stack's defaults";
//! - unit enums with documented variants become one `enum` (one readable error, "is not one
//!   of"), the variants' descriptions listed in the enum's;
//! - `default` and `format` annotations are dropped (serde's defaults are described in words,
//!   and `uint32`-like formats are not JSON Schema formats).

use crate::model::{Cluster, StackDefinition};
use schemars::generate::SchemaSettings;
use schemars::JsonSchema;
use serde_json::{Map, Value};

const CLUSTER_ID: &str = "https://kubebdp.github.io/schemas/cluster.schema.json";
const STACK_ID: &str = "https://kubebdp.github.io/schemas/stackdefinition.schema.json";

/// The schema of `kind: Cluster`.
pub fn cluster() -> Value {
    let mut v = generate::<Cluster>(CLUSTER_ID);
    for def in ["ServiceSpec", "RoleSpec"] {
        if let Some(d) = v.pointer_mut(&format!("/$defs/{def}")).and_then(Value::as_object_mut) {
            d.insert("type".into(), Value::from(vec!["object", "null"]));
        }
    }
    v
}

/// The schema of `kind: StackDefinition`.
pub fn stack_definition() -> Value {
    generate::<StackDefinition>(STACK_ID)
}

/// The committed text of a schema: pretty JSON with a final newline.
pub fn text(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

fn generate<T: JsonSchema>(id: &str) -> Value {
    let generator = SchemaSettings::draft2020_12().into_generator();
    let schema = generator.into_root_schema_for::<T>();
    let mut v = schema.to_value();
    tidy(&mut v);
    if let Value::Object(m) = &mut v {
        // `$schema` first, then `$id`, as the hand-written schemas had them
        let mut out = Map::new();
        if let Some(s) = m.remove("$schema") {
            out.insert("$schema".into(), s);
        }
        out.insert("$id".into(), Value::from(id));
        out.append(m);
        v = Value::Object(out);
    }
    v
}

/// Applies the post-processing above to every subschema.
fn tidy(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove("default");
            m.remove("format");
            drop_null(m);
            enum_of_consts(m);
            if let Some(Value::String(d)) = m.get_mut("description") {
                *d = unwrap_lines(d);
            }
            if m.get("enum").and_then(Value::as_array).is_some_and(|e| e.iter().all(Value::is_string)) {
                m.remove("type");
            }
            for (k, sub) in m.iter_mut() {
                match (k.as_str(), sub) {
                    // names of properties and definitions, not keywords: tidy each schema below
                    ("properties" | "$defs", Value::Object(named)) => named.values_mut().for_each(tidy),
                    (_, sub) => tidy(sub),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(tidy),
        _ => {}
    }
}

/// `type: [T, "null"]` → `type: T`; `anyOf: [S, {type: null}]` → S's content (keeping this
/// schema's description).
fn drop_null(m: &mut Map<String, Value>) {
    if let Some(Value::Array(types)) = m.get_mut("type") {
        types.retain(|t| t != "null");
        if types.len() == 1 {
            let t = types.remove(0);
            m.insert("type".into(), t);
        }
    }
    let is_null = |s: &Value| s.get("type").and_then(Value::as_str) == Some("null") || s.get("const") == Some(&Value::Null);
    if let Some(Value::Array(branches)) = m.get("anyOf")
        && branches.iter().any(is_null)
    {
        let mut rest: Vec<Value> = branches.iter().filter(|b| !is_null(b)).cloned().collect();
        m.remove("anyOf");
        if rest.len() == 1 {
            if let Value::Object(inner) = rest.remove(0) {
                for (k, val) in inner {
                    m.entry(k).or_insert(val);
                }
            }
        } else {
            m.insert("anyOf".into(), Value::Array(rest));
        }
    }
}

/// `oneOf: [{const: a, description: …}, …]` (a unit enum with documented variants) → `enum:
/// [a, …]`, each variant's description appended to the enum's as a list.
fn enum_of_consts(m: &mut Map<String, Value>) {
    let Some(Value::Array(branches)) = m.get("oneOf") else { return };
    if branches.is_empty() || !branches.iter().all(|b| b.get("const").is_some_and(Value::is_string)) {
        return;
    }
    let values: Vec<Value> = branches.iter().filter_map(|b| b.get("const").cloned()).collect();
    let notes: Vec<String> = branches
        .iter()
        .filter_map(|b| Some(format!("`{}`: {}", b.get("const")?.as_str()?, b.get("description")?.as_str()?)))
        .collect();
    m.remove("oneOf");
    m.remove("type");
    m.insert("enum".into(), Value::Array(values));
    if !notes.is_empty() {
        let lead = m.get("description").and_then(Value::as_str).map(|d| format!("{d}\n")).unwrap_or_default();
        m.insert("description".into(), Value::from(format!("{lead}{}", notes.join("\n"))));
    }
}

/// A doc comment's text with its line breaks inside paragraphs removed (list items and blank
/// lines kept), so a description reads as the sentence it is.
fn unwrap_lines(text: &str) -> String {
    let mut out = String::new();
    for line in text.lines() {
        let line = line.trim_end();
        let starts_item = line.trim_start().starts_with("- ");
        if out.is_empty() {
            out.push_str(line);
        } else if line.is_empty() || starts_item || out.ends_with('\n') {
            out.push('\n');
            out.push_str(line);
        } else {
            out.push(' ');
            out.push_str(line.trim_start());
        }
    }
    out
}

/// The field reference of a schema as Markdown: one section per object type, reached from the
/// root in breadth-first order, with each property's type, whether it is required, and its
/// description. `docs/stack-authoring.md` embeds the StackDefinition's between markers, and
/// `tests/schemas.rs` keeps it up to date.
pub fn reference(schema: &Value) -> String {
    let defs = schema.get("$defs").and_then(Value::as_object).cloned().unwrap_or_default();
    let root_name = schema.get("title").and_then(Value::as_str).unwrap_or("root").to_string();
    let mut queue: Vec<(String, Value)> = vec![(root_name, schema.clone())];
    let mut seen: Vec<String> = vec![queue[0].0.clone()];
    let mut out = String::new();
    let mut i = 0;
    while i < queue.len() {
        let (name, s) = queue[i].clone();
        i += 1;
        let Some(props) = s.get("properties").and_then(Value::as_object) else { continue };
        out.push_str(&format!("### `{name}`\n\n"));
        if let Some(d) = s.get("description").and_then(Value::as_str) {
            out.push_str(&format!("{}\n\n", d.replace('\n', " ")));
        }
        out.push_str("| field | type | description |\n|---|---|---|\n");
        let required: Vec<&str> = s.get("required").and_then(Value::as_array).map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        for (k, p) in props {
            let mut refs = Vec::new();
            let ty = type_of(p, &mut refs);
            for r in refs {
                if !seen.contains(&r)
                    && let Some(d) = defs.get(&r)
                {
                    seen.push(r.clone());
                    queue.push((r, d.clone()));
                }
            }
            let req = if required.contains(&k.as_str()) { " **(required)**" } else { "" };
            let desc = p.get("description").and_then(Value::as_str).unwrap_or("").replace('\n', " ").replace('|', "\\|");
            out.push_str(&format!("| `{k}`{req} | {} | {desc} |\n", ty.replace('|', "\\|")));
        }
        out.push('\n');
    }
    out
}

/// A short type for the reference table; named types (`$ref`) are collected into `refs`.
fn type_of(p: &Value, refs: &mut Vec<String>) -> String {
    if let Some(r) = p.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or(r).to_string();
        refs.push(name.clone());
        return format!("[`{name}`](#{})", name.to_lowercase());
    }
    if let Some(Value::Array(e)) = p.get("enum") {
        return e.iter().map(|v| format!("`{}`", v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))).collect::<Vec<_>>().join(" | ");
    }
    if let Some(c) = p.get("const") {
        return format!("`{}`", c.as_str().unwrap_or_default());
    }
    if let Some(Value::Array(alts)) = p.get("oneOf").or_else(|| p.get("anyOf")) {
        return alts.iter().map(|a| type_of(a, refs)).collect::<Vec<_>>().join(" or ");
    }
    let t = match p.get("type") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" or "),
        _ => "any".into(),
    };
    match t.as_str() {
        "array" => format!("list of {}", p.get("items").map(|i| type_of(i, refs)).unwrap_or_else(|| "any".into())),
        "object" => match p.get("additionalProperties") {
            Some(a @ Value::Object(_)) => format!("map of {}", type_of(a, refs)),
            _ if p.get("properties").is_some() => "object".into(),
            _ => "object".into(),
        },
        "string" if p.get("pattern").is_some() => format!("string `{}`", p["pattern"].as_str().unwrap_or_default()),
        _ => t,
    }
}
