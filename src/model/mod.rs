//! The input kinds, as typed data: `Cluster` (what a user writes) and `StackDefinition`
//! (what a stack author writes under `stacks/<name>/`). Both are checked against the JSON
//! Schemas in `schemas/` before they are deserialised into these types.
//!
//! The schemas are generated from these types (`src/schema.rs`, schemars): the doc comment of
//! every type and field is its description, and the `#[schemars(...)]` attributes carry the
//! constraints (patterns, ranges, closed objects) the validator enforces. After editing these
//! files, run `BDP_UPDATE_SCHEMAS=1 cargo test --test schemas` and commit `schemas/`.
//!
//! A StackDefinition may use the stack language's shorthands (`conditions`, `roleDefaults`,
//! per-role `keys`, key `blocks`, container `script` files, scalar key values); `src/lower.rs`
//! rewrites them into the plain fields when the stack is loaded, so later stages never see them.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

mod action;
mod cluster;
mod lifecycle;
mod role;
mod stack;
pub use action::*;
pub use cluster::*;
pub use lifecycle::*;
pub use role::*;
pub use stack::*;

pub const API_VERSION: &str = "manager.kubebdp.github.io/v1";

/// RFC 1123 label (Kubernetes names of Services, pods, namespaces, containers).
const DNS_LABEL: &str = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
/// An image capability name (`krb5Enctypes`).
const CAPABILITY_NAME: &str = "^[A-Za-z][A-Za-z0-9]{0,62}$";
/// A value in an image capability list.
const CAPABILITY_VALUE: &str = "^[A-Za-z0-9][A-Za-z0-9._:+-]{0,127}$";
/// A Kubernetes quantity (`500m`, `1.5Gi`).
const QUANTITY: &str = "^[0-9]+(\\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$";
/// An absolute path (mount points).
const ABSOLUTE: &str = "^/";

// ---------------------------------------------------------------------------------------------
// Schema helpers: shapes that serde's types cannot say by themselves.

mod shapes {
    use schemars::{json_schema, Schema, SchemaGenerator};

    pub fn api_version(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "const": super::API_VERSION, "description": "Always `manager.kubebdp.github.io/v1`." })
    }
    pub fn kind_cluster(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "const": "Cluster", "description": "Always `Cluster`." })
    }
    pub fn kind_stack(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "const": "StackDefinition", "description": "Always `StackDefinition`." })
    }
    /// Any JSON object (pod template fragments, free-form data).
    pub fn object(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "object" })
    }
    /// A Kubernetes quantity, as a string or a number.
    pub fn quantity(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": ["string", "number"], "pattern": super::QUANTITY })
    }
    /// `requests`/`limits` of cpu, memory and ephemeral-storage.
    pub fn user_resources(_: &mut SchemaGenerator) -> Schema {
        let q = |what: &str| {
            serde_json::json!({ "type": "object", "additionalProperties": false, "description": what, "properties": {
                "cpu": { "type": ["string", "number"], "pattern": super::QUANTITY, "description": "CPU (`500m`, `2`)." },
                "memory": { "type": ["string", "number"], "pattern": super::QUANTITY, "description": "Memory (`1536Mi`, `2Gi`)." },
                "ephemeral-storage": { "type": ["string", "number"], "pattern": super::QUANTITY, "description": "Local ephemeral storage (`1Gi`)." }
            }})
        };
        json_schema!({ "type": "object", "additionalProperties": false, "properties": {
            "requests": q("What the scheduler reserves for each container."),
            "limits": q("What each container may use at most.")
        }})
    }
    /// Config override values: strings, numbers or booleans.
    pub fn config_overrides(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "object", "additionalProperties": {
            "type": "object",
            "additionalProperties": { "type": ["string", "number", "boolean"] }
        }})
    }
    /// Environment variable names: shell names.
    pub fn env_overrides(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "object",
            "propertyNames": { "pattern": "^[A-Za-z_][A-Za-z0-9_]*$" },
            "additionalProperties": { "type": "string" }
        })
    }
    /// Image capabilities: name → values, both with a grammar.
    pub fn capabilities(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "object",
            "propertyNames": { "pattern": super::CAPABILITY_NAME },
            "additionalProperties": {
                "type": "array",
                "maxItems": 64,
                "items": { "type": "string", "pattern": super::CAPABILITY_VALUE }
            }
        })
    }
    /// A key's value: a string template, or a number or boolean written as such.
    pub fn scalar(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": ["string", "number", "boolean"] })
    }
}

/// A key's value as written in a stack: a template string, or a number or boolean (`true`,
/// `3`), which the file gets in its plain text form (`"true"`, `"3"`).
fn scalar_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match Value::deserialize(d)? {
        Value::String(s) => Ok(s),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Number(n) => Ok(n.to_string()),
        other => Err(serde::de::Error::invalid_type(serde::de::Unexpected::Other(&other.to_string()), &"a string, number or boolean")),
    }
}
