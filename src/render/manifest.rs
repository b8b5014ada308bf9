//! Objects from a stack's `manifests` templates, with bdp's namespace, labels and wave.

use super::{Ctx, Object};
use crate::names::WAVE_ANNOTATION;
use serde_json::{json, Value};

/// An object from a stack `manifests` template, with bdp's namespace, labels and wave.
pub(super) fn manifest_object(ctx: &Ctx, role: Option<&str>, wave: u32, mut body: Value) -> Object {
    let meta = &mut body["metadata"];
    if meta.get("namespace").is_none() {
        meta["namespace"] = json!(ctx.c.namespace);
    }
    let mut labels = ctx.labels(role);
    if let Some(Value::Object(m)) = meta.get("labels") {
        for (k, v) in m {
            labels.insert(k.clone(), v.as_str().unwrap_or_default().to_string());
        }
    }
    meta["labels"] = json!(labels);
    let mut ann = serde_json::Map::new();
    if let Some(Value::Object(m)) = meta.get("annotations") {
        ann = m.clone();
    }
    ann.insert(WAVE_ANNOTATION.into(), json!(wave.to_string()));
    meta["annotations"] = Value::Object(ann);
    Object {
        api_version: body["apiVersion"].as_str().unwrap_or_default().to_string(),
        kind: body["kind"].as_str().unwrap_or_default().to_string(),
        namespace: body["metadata"]["namespace"].as_str().unwrap_or_default().to_string(),
        name: body["metadata"]["name"].as_str().unwrap_or_default().to_string(),
        cluster: ctx.c.name.clone(),
        wave,
        body,
    }
}
