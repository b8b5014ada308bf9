//! What a stack template sees, as types: ARCHITECTURE.md's table "What a stack template sees"
//! is these structs. They serialise into the JSON a template context is built from.

use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// `cluster`.
#[derive(Debug, Serialize)]
pub(crate) struct ClusterCtx<'a> {
    pub(crate) name: &'a str,
    pub(crate) namespace: &'a str,
    pub(crate) domain: &'a str,
}

/// `service`.
#[derive(Debug, Serialize)]
pub(crate) struct ServiceCtx<'a> {
    pub(crate) name: &'a str,
    pub(crate) version: &'a str,
    pub(crate) image: &'a str,
}

/// `roles.<r>.pods[i]`.
#[derive(Debug, Serialize)]
pub(crate) struct PodCtx {
    pub(crate) name: String,
    pub(crate) ordinal: u32,
    pub(crate) fqdn: String,
}

/// `roles.<r>.storage.<volume>`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct StorageCtx<'a> {
    pub(crate) mount_path: &'a str,
}

/// `roles.<r>` (and `role`, the role being rendered).
#[derive(Debug, Serialize)]
pub(crate) struct RoleCtx<'a> {
    pub(crate) name: &'a str,
    /// `<cluster>-<service>-<role>`.
    pub(crate) fullname: String,
    pub(crate) replicas: u32,
    pub(crate) pods: Vec<PodCtx>,
    /// The headless Service's DNS name.
    pub(crate) headless: String,
    /// Port name → number.
    pub(crate) ports: BTreeMap<&'a str, i32>,
    pub(crate) storage: BTreeMap<&'a str, StorageCtx<'a>>,
    /// Extra Service suffix → its DNS name.
    pub(crate) services: BTreeMap<&'a str, String>,
    /// The role's container resources (`requests`/`limits`: bdp's defaults < the stack's role <
    /// the Cluster's role), quantities as written; the `quantity` filter makes numbers of them.
    pub(crate) resources: Value,
}

/// `enabled` and port `when` expressions, evaluated before roles exist.
#[derive(Debug, Serialize)]
pub(crate) struct PreCtx<'a> {
    pub(crate) settings: &'a BTreeMap<String, Value>,
    pub(crate) replicas: &'a BTreeMap<String, u32>,
    pub(crate) cluster: ClusterCtx<'a>,
}

/// A service's context after pass 1 (`deps`, `services`, `role` and `config` are added in
/// pass 2, as they come to exist).
#[derive(Debug, Serialize)]
pub(crate) struct ServiceTemplateCtx<'a> {
    pub(crate) cluster: ClusterCtx<'a>,
    pub(crate) service: ServiceCtx<'a>,
    pub(crate) settings: &'a BTreeMap<String, Value>,
    pub(crate) roles: BTreeMap<&'a str, RoleCtx<'a>>,
    pub(crate) vars: &'a BTreeMap<String, Value>,
}

/// `deps.<d>`: a dependency of the service being rendered.
#[derive(Debug, Serialize)]
pub(crate) struct DepCtx<'a> {
    /// `service` (this cluster), `cluster` (another Cluster) or `configMap` (read at runtime).
    pub(crate) source: &'static str,
    /// The main discovery value, or a runtime reference such as `${env.DEP_ZOOKEEPER}`.
    pub(crate) value: Option<String>,
    pub(crate) discovery: &'a BTreeMap<String, String>,
    #[serde(flatten)]
    pub(crate) provider: Option<ProviderCtx<'a>>,
}

/// What a dependency in this or another Cluster shows of its provider.
#[derive(Debug, Serialize)]
pub(crate) struct ProviderCtx<'a> {
    pub(crate) cluster: String,
    pub(crate) namespace: String,
    pub(crate) settings: &'a BTreeMap<String, Value>,
    pub(crate) roles: &'a Value,
    pub(crate) image: &'a str,
    pub(crate) vars: &'a BTreeMap<String, Value>,
}

/// `services.<s>`: the services of this cluster.
#[derive(Debug, Serialize)]
pub(crate) struct PresentCtx<'a> {
    pub(crate) settings: &'a BTreeMap<String, Value>,
    pub(crate) roles: &'a Value,
    pub(crate) discovery: &'a BTreeMap<String, String>,
    pub(crate) vars: &'a BTreeMap<String, Value>,
}
