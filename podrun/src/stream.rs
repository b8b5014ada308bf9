//! The rendered stream: multi-document YAML → serde_json::Value (yaml-rust2, the YAML parser the
//! project already uses) → k8s-openapi types, so every object must deserialize as the real type.

use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Secret, Service, ServiceAccount};
use k8s_openapi::api::networking::v1::NetworkPolicy;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use serde_json::{Map, Number, Value};
use yaml_rust2::{Yaml, YamlLoader};

/// Everything of a render that podrun acts on.
#[derive(Debug, Default, Clone)]
pub struct Stream {
    pub statefulsets: Vec<StatefulSet>,
    pub configmaps: Vec<ConfigMap>,
    pub secrets: Vec<Secret>,
    pub services: Vec<Service>,
    pub policies: Vec<NetworkPolicy>,
    pub pdbs: Vec<PodDisruptionBudget>,
    /// Run only by `podrun run` (see jobs.rs); `up` and `apply` leave them alone.
    pub jobs: Vec<Job>,
}

/// Kinds that deserialize and are checked but need no runtime.
const PASSIVE: &[&str] = &[
    "ServiceAccount",
    "Role",
    "RoleBinding",
    "ClusterRole",
    "ClusterRoleBinding",
];

pub fn yaml_to_json(y: &Yaml) -> Result<Value, String> {
    Ok(match y {
        Yaml::Null => Value::Null,
        Yaml::Boolean(b) => Value::Bool(*b),
        Yaml::Integer(i) => Value::Number((*i).into()),
        Yaml::Real(r) => {
            let f: f64 = r.parse().map_err(|_| format!("not a number: {r}"))?;
            Value::Number(Number::from_f64(f).ok_or_else(|| format!("not a finite number: {r}"))?)
        }
        Yaml::String(s) => Value::String(s.clone()),
        Yaml::Array(a) => Value::Array(a.iter().map(yaml_to_json).collect::<Result<_, _>>()?),
        Yaml::Hash(h) => {
            let mut m = Map::new();
            for (k, v) in h {
                let key = match k {
                    Yaml::String(s) => s.clone(),
                    Yaml::Integer(i) => i.to_string(),
                    Yaml::Boolean(b) => b.to_string(),
                    other => return Err(format!("unsupported mapping key {other:?}")),
                };
                m.insert(key, yaml_to_json(v)?);
            }
            Value::Object(m)
        }
        Yaml::Alias(_) => return Err("YAML aliases are not supported".into()),
        Yaml::BadValue => return Err("invalid YAML value".into()),
    })
}

fn typed<T: serde::de::DeserializeOwned>(v: Value, what: &str) -> Result<T, String> {
    serde_json::from_value(v)
        .map_err(|e| format!("{what}: does not deserialize as the Kubernetes type: {e}"))
}

/// Parses a stream; every problem is reported, one per line, with the document's index and name.
pub fn parse(text: &str) -> Result<Stream, Vec<String>> {
    let docs = YamlLoader::load_from_str(text).map_err(|e| vec![format!("stream: {e}")])?;
    let mut s = Stream::default();
    let mut errs = Vec::new();
    for (i, d) in docs.iter().enumerate() {
        if matches!(d, Yaml::Null) {
            continue;
        }
        let v = match yaml_to_json(d) {
            Ok(v) => v,
            Err(e) => {
                errs.push(format!("document {}: {e}", i + 1));
                continue;
            }
        };
        let kind = v
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let name = v
            .pointer("/metadata/name")
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string();
        let what = format!("document {} ({kind} {name})", i + 1);
        let r = match kind.as_str() {
            "StatefulSet" => typed(v, &what).map(|o| s.statefulsets.push(o)),
            "ConfigMap" => typed(v, &what).map(|o| s.configmaps.push(o)),
            "Secret" => typed(v, &what).map(|o| s.secrets.push(o)),
            "Service" => typed(v, &what).map(|o| s.services.push(o)),
            "NetworkPolicy" => typed(v, &what).map(|o| s.policies.push(o)),
            "PodDisruptionBudget" => typed(v, &what).map(|o| s.pdbs.push(o)),
            "ServiceAccount" => typed::<ServiceAccount>(v, &what).map(|_| ()),
            "Job" => typed(v, &what).map(|o| s.jobs.push(o)),
            k if PASSIVE.contains(&k) => Ok(()),
            "Deployment" | "DaemonSet" | "CronJob" | "ReplicaSet" | "Pod" => Err(format!(
                "{what}: kind {kind} is not run by podrun (it runs the pods of StatefulSets, and Jobs with `podrun run`)"
            )),
            "" => Err(format!("document {}: no kind", i + 1)),
            _ => Err(format!("{what}: kind {kind} is unknown to podrun")),
        };
        if let Err(e) = r {
            errs.push(e);
        }
    }
    if errs.is_empty() { Ok(s) } else { Err(errs) }
}

pub fn ns_of(m: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> String {
    m.namespace.clone().unwrap_or_else(|| "default".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_objects_as_kubernetes_types() {
        let s = parse(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: n}\ndata: {k: '1'}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {clusterIP: None, ports: [{port: 2181}]}\n",
        )
        .unwrap();
        assert_eq!(s.configmaps.len(), 1);
        assert_eq!(
            s.services[0].spec.as_ref().unwrap().ports.as_ref().unwrap()[0].port,
            2181
        );
    }

    #[test]
    fn a_wrongly_typed_field_is_refused_with_the_object() {
        let e =
            parse("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: [1]\n").unwrap_err();
        assert!(
            e[0].contains("ConfigMap a") && e[0].contains("does not deserialize"),
            "{e:?}"
        );
    }

    #[test]
    fn deployments_are_refused() {
        let e = parse("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {selector: {}, template: {}}\n")
            .unwrap_err();
        assert!(
            e[0].contains("kind Deployment is not run by podrun"),
            "{e:?}"
        );
    }
}
