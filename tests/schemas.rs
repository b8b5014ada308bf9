//! The committed JSON Schemas are generated from the model types (`src/schema.rs`). This test
//! fails when they differ; `BDP_UPDATE_SCHEMAS=1 cargo test --test schemas` rewrites them.

use std::path::Path;

fn check(file: &str, generated: &serde_json::Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas").join(file);
    let text = bdp::schema::text(generated);
    if std::env::var_os("BDP_UPDATE_SCHEMAS").is_some() {
        std::fs::write(&path, &text).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == text,
        "schemas/{file} differs from the schema generated from src/model.rs; run `BDP_UPDATE_SCHEMAS=1 cargo test --test schemas` and commit it"
    );
}

#[test]
fn cluster_schema_is_generated_from_the_model() {
    check("cluster.schema.json", &bdp::schema::cluster());
}

#[test]
fn stackdefinition_schema_is_generated_from_the_model() {
    check("stackdefinition.schema.json", &bdp::schema::stack_definition());
}

/// Every property of both schemas has a description (the model's doc comments).
#[test]
fn every_property_is_described() {
    fn walk(v: &serde_json::Value, at: &str, missing: &mut Vec<String>) {
        match v {
            serde_json::Value::Object(m) => {
                if let Some(serde_json::Value::Object(props)) = m.get("properties") {
                    for (k, p) in props {
                        if p.get("description").is_none() {
                            missing.push(format!("{at}/properties/{k}"));
                        }
                    }
                }
                for (k, sub) in m {
                    walk(sub, &format!("{at}/{k}"), missing);
                }
            }
            serde_json::Value::Array(a) => a.iter().enumerate().for_each(|(i, s)| walk(s, &format!("{at}/{i}"), missing)),
            _ => {}
        }
    }
    let mut missing = Vec::new();
    walk(&bdp::schema::cluster(), "cluster", &mut missing);
    walk(&bdp::schema::stack_definition(), "stackdefinition", &mut missing);
    assert!(missing.is_empty(), "properties without a description: {missing:#?}");
}

/// The field reference in docs/stack-authoring.md is the one generated from the schema.
#[test]
fn the_authoring_guide_has_the_current_field_reference() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/stack-authoring.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let (begin, end) = ("<!-- reference:begin -->\n", "<!-- reference:end -->");
    let (Some(a), Some(b)) = (doc.find(begin), doc.find(end)) else { panic!("docs/stack-authoring.md lacks the reference markers") };
    let generated = bdp::schema::reference(&bdp::schema::stack_definition());
    let current = &doc[a + begin.len()..b];
    if std::env::var_os("BDP_UPDATE_SCHEMAS").is_some() {
        std::fs::write(&path, format!("{}{generated}{}", &doc[..a + begin.len()], &doc[b..])).unwrap();
        return;
    }
    assert!(current == generated, "the field reference of docs/stack-authoring.md is stale; run `BDP_UPDATE_SCHEMAS=1 cargo test --test schemas`");
}
