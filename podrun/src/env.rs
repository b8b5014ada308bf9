//! Container environment as the kubelet builds it: envFrom, then env in order, `$(VAR)` expansion
//! against the variables defined before, fieldRef from the pod, configMapKeyRef and secretKeyRef.

use k8s_openapi::api::core::v1::{ConfigMap, Container, Secret};
use std::collections::BTreeMap;

/// What a fieldRef can name.
#[derive(Debug, Clone, Default)]
pub struct PodFacts {
    pub name: String,
    pub namespace: String,
    pub uid: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub node_name: String,
    pub service_account: String,
    pub pod_ip: String,
    pub host_ip: String,
}

/// Kubernetes' `$(VAR)` expansion (k8s.io/kubernetes third_party/forked/golang/expansion):
/// `$$` is a literal `$`, `$(NAME)` is replaced when NAME is known and kept verbatim otherwise.
pub fn expand(input: &str, lookup: &dyn Fn(&str) -> Option<String>) -> String {
    let b = input.as_bytes();
    let mut out = String::with_capacity(input.len());
    let mut i = 0;
    let mut lit = 0;
    while i < b.len() {
        if b[i] == b'$' && i + 1 < b.len() {
            out.push_str(&input[lit..i]);
            match b[i + 1] {
                b'$' => {
                    out.push('$');
                    i += 2;
                }
                b'(' => match input[i + 2..].find(')') {
                    Some(end) => {
                        let name = &input[i + 2..i + 2 + end];
                        match lookup(name) {
                            Some(v) => out.push_str(&v),
                            None => {
                                out.push_str("$(");
                                out.push_str(name);
                                out.push(')');
                            }
                        }
                        i += 2 + end + 1;
                    }
                    None => {
                        out.push_str(&input[i..]);
                        i = b.len();
                    }
                },
                _ => {
                    out.push('$');
                    i += 1;
                }
            }
            lit = i;
        } else {
            i += 1;
        }
    }
    if lit < b.len() {
        out.push_str(&input[lit..]);
    }
    out
}

/// fieldRef paths the runner supports, with their values; `None` for an unsupported path.
pub fn field_ref(path: &str, pod: &PodFacts) -> Option<String> {
    let sub = |prefix: &str, m: &BTreeMap<String, String>| -> Option<Option<String>> {
        let rest = path.strip_prefix(prefix)?;
        let key = rest.strip_prefix("['")?.strip_suffix("']")?;
        Some(Some(m.get(key).cloned().unwrap_or_default()))
    };
    if let Some(v) = sub("metadata.labels", &pod.labels) {
        return v;
    }
    if let Some(v) = sub("metadata.annotations", &pod.annotations) {
        return v;
    }
    Some(match path {
        "metadata.name" => pod.name.clone(),
        "metadata.namespace" => pod.namespace.clone(),
        "metadata.uid" => pod.uid.clone(),
        "spec.nodeName" => pod.node_name.clone(),
        "spec.serviceAccountName" => pod.service_account.clone(),
        "status.podIP" | "status.podIPs" => pod.pod_ip.clone(),
        "status.hostIP" | "status.hostIPs" => pod.host_ip.clone(),
        _ => return None,
    })
}

pub struct Sources<'a> {
    pub namespace: &'a str,
    pub configmaps: &'a [ConfigMap],
    pub secrets: &'a [Secret],
}

impl Sources<'_> {
    fn cm(&self, name: &str) -> Option<&ConfigMap> {
        self.configmaps.iter().find(|c| {
            c.metadata.name.as_deref() == Some(name)
                && crate::stream::ns_of(&c.metadata) == self.namespace
        })
    }
    fn secret(&self, name: &str) -> Option<&Secret> {
        self.secrets.iter().find(|c| {
            c.metadata.name.as_deref() == Some(name)
                && crate::stream::ns_of(&c.metadata) == self.namespace
        })
    }
    pub fn cm_key(&self, name: &str, key: &str) -> Option<String> {
        self.cm(name)?.data.as_ref()?.get(key).cloned()
    }
    pub fn secret_key(&self, name: &str, key: &str) -> Option<String> {
        let s = self.secret(name)?;
        if let Some(v) = s.string_data.as_ref().and_then(|d| d.get(key)) {
            return Some(v.clone());
        }
        s.data
            .as_ref()?
            .get(key)
            .map(|b| String::from_utf8_lossy(&b.0).into_owned())
    }
    pub fn cm_all(&self, name: &str) -> Option<BTreeMap<String, String>> {
        Some(self.cm(name)?.data.clone().unwrap_or_default())
    }
    /// A Secret's keys as a volume holds them: `data` byte for byte (a JKS keystore is binary),
    /// `stringData` on top (as the API server merges it).
    pub fn secret_files(&self, name: &str) -> Option<BTreeMap<String, Vec<u8>>> {
        let s = self.secret(name)?;
        let mut m: BTreeMap<String, Vec<u8>> = s
            .data
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), v.0.clone()))
            .collect();
        m.extend(
            s.string_data
                .iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.clone().into_bytes())),
        );
        Some(m)
    }
    pub fn secret_all(&self, name: &str) -> Option<BTreeMap<String, String>> {
        let s = self.secret(name)?;
        let mut m: BTreeMap<String, String> = s
            .data
            .iter()
            .flatten()
            .map(|(k, v)| (k.clone(), String::from_utf8_lossy(&v.0).into_owned()))
            .collect();
        m.extend(s.string_data.clone().unwrap_or_default());
        Some(m)
    }
}

/// The container's own variables (envFrom, then env), in definition order; a later definition of
/// the same name replaces the earlier one. Errors name the field.
pub fn resolve(
    c: &Container,
    pod: &PodFacts,
    src: &Sources,
    field: &str,
) -> Result<Vec<(String, String)>, String> {
    let mut vars: Vec<(String, String)> = Vec::new();
    let set = |vars: &mut Vec<(String, String)>, k: String, v: String| {
        if let Some(e) = vars.iter_mut().find(|(n, _)| *n == k) {
            e.1 = v;
        } else {
            vars.push((k, v));
        }
    };
    for (i, ef) in c.env_from.iter().flatten().enumerate() {
        let prefix = ef.prefix.clone().unwrap_or_default();
        let (map, optional, what) = if let Some(r) = &ef.config_map_ref {
            (
                src.cm_all(&r.name),
                r.optional.unwrap_or(false),
                format!("ConfigMap {}", r.name),
            )
        } else if let Some(r) = &ef.secret_ref {
            (
                src.secret_all(&r.name),
                r.optional.unwrap_or(false),
                format!("Secret {}", r.name),
            )
        } else {
            return Err(format!(
                "{field}.envFrom[{i}]: neither configMapRef nor secretRef"
            ));
        };
        match map {
            Some(m) => {
                for (k, v) in m {
                    set(&mut vars, format!("{prefix}{k}"), v);
                }
            }
            None if optional => {}
            None => return Err(format!("{field}.envFrom[{i}]: {what} is not in the stream")),
        }
    }
    for (i, e) in c.env.iter().flatten().enumerate() {
        let f = format!("{field}.env[{i}] ({})", e.name);
        let value = if let Some(vf) = &e.value_from {
            if let Some(fr) = &vf.field_ref {
                Some(field_ref(&fr.field_path, pod).ok_or_else(|| {
                    format!(
                        "{f}.valueFrom.fieldRef.fieldPath: {} is not supported by podrun",
                        fr.field_path
                    )
                })?)
            } else if let Some(r) = &vf.config_map_key_ref {
                match src.cm_key(&r.name, &r.key) {
                    Some(v) => Some(v),
                    None if r.optional.unwrap_or(false) => None,
                    None => {
                        return Err(format!(
                            "{f}.valueFrom.configMapKeyRef: key {} of ConfigMap {} is not in the stream",
                            r.key, r.name
                        ));
                    }
                }
            } else if let Some(r) = &vf.secret_key_ref {
                match src.secret_key(&r.name, &r.key) {
                    Some(v) => Some(v),
                    None if r.optional.unwrap_or(false) => None,
                    None => {
                        return Err(format!(
                            "{f}.valueFrom.secretKeyRef: key {} of Secret {} is not in the stream",
                            r.key, r.name
                        ));
                    }
                }
            } else {
                return Err(format!(
                    "{f}.valueFrom: only fieldRef, configMapKeyRef and secretKeyRef are supported by podrun"
                ));
            }
        } else {
            let raw = e.value.clone().unwrap_or_default();
            let snapshot = vars.clone();
            Some(expand(&raw, &|n| {
                snapshot
                    .iter()
                    .find(|(k, _)| k == n)
                    .map(|(_, v)| v.clone())
            }))
        };
        if let Some(v) = value {
            set(&mut vars, e.name.clone(), v);
        }
    }
    Ok(vars)
}

/// argv from the image's entrypoint/cmd and the container's command/args, as the runtime does:
/// command replaces the entrypoint and drops the image's cmd; args replace the cmd.
pub fn argv(
    c: &Container,
    entrypoint: &[String],
    cmd: &[String],
    vars: &[(String, String)],
) -> Vec<String> {
    let look = |n: &str| vars.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let x = |v: &Vec<String>| v.iter().map(|s| expand(s, &look)).collect::<Vec<_>>();
    let (ep, args) = match (&c.command, &c.args) {
        (Some(co), Some(a)) => (x(co), x(a)),
        (Some(co), None) => (x(co), vec![]),
        (None, Some(a)) => (entrypoint.to_vec(), x(a)),
        (None, None) => (entrypoint.to_vec(), cmd.to_vec()),
    };
    ep.into_iter().chain(args).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{EnvVar, EnvVarSource, ObjectFieldSelector};

    fn look(n: &str) -> Option<String> {
        match n {
            "A" => Some("x".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn expansion_follows_kubernetes() {
        assert_eq!(expand("$(A)-$(A)", &look), "x-x");
        assert_eq!(expand("$$(A)", &look), "$(A)");
        assert_eq!(expand("$(B)", &look), "$(B)");
        assert_eq!(expand("a$(EMPTY)b", &look), "ab");
        assert_eq!(expand("$(A", &look), "$(A");
        assert_eq!(expand("cost $5 $", &look), "cost $5 $");
        assert_eq!(expand("${A} $A", &look), "${A} $A");
        assert_eq!(expand("ünï$(A)cödé", &look), "ünïxcödé");
    }

    fn facts() -> PodFacts {
        PodFacts {
            name: "zk-0".into(),
            namespace: "ns".into(),
            pod_ip: "10.0.0.2".into(),
            ..Default::default()
        }
    }

    #[test]
    fn env_resolves_fieldrefs_and_earlier_variables_only() {
        let fr = |p: &str| EnvVarSource {
            field_ref: Some(ObjectFieldSelector {
                field_path: p.into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let c = Container {
            name: "c".into(),
            env: Some(vec![
                EnvVar {
                    name: "LATER_REF".into(),
                    value: Some("$(POD)".into()),
                    ..Default::default()
                },
                EnvVar {
                    name: "POD".into(),
                    value_from: Some(fr("metadata.name")),
                    ..Default::default()
                },
                EnvVar {
                    name: "IP".into(),
                    value_from: Some(fr("status.podIP")),
                    ..Default::default()
                },
                EnvVar {
                    name: "ADDR".into(),
                    value: Some("$(POD)@$(IP):$$(IP)".into()),
                    ..Default::default()
                },
            ]),
            ..Default::default()
        };
        let src = Sources {
            namespace: "ns",
            configmaps: &[],
            secrets: &[],
        };
        let v = resolve(&c, &facts(), &src, "c").unwrap();
        let get = |n: &str| v.iter().find(|(k, _)| k == n).unwrap().1.clone();
        assert_eq!(get("LATER_REF"), "$(POD)");
        assert_eq!(get("ADDR"), "zk-0@10.0.0.2:$(IP)");
    }

    #[test]
    fn unsupported_fieldref_and_missing_configmap_name_the_field() {
        let c = Container {
            name: "c".into(),
            env: Some(vec![EnvVar {
                name: "X".into(),
                value_from: Some(EnvVarSource {
                    field_ref: Some(ObjectFieldSelector {
                        field_path: "status.phase".into(),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }]),
            ..Default::default()
        };
        let src = Sources {
            namespace: "ns",
            configmaps: &[],
            secrets: &[],
        };
        let e = resolve(&c, &facts(), &src, "spec.containers[0]").unwrap_err();
        assert!(
            e.contains("spec.containers[0].env[0] (X).valueFrom.fieldRef.fieldPath: status.phase"),
            "{e}"
        );
    }

    #[test]
    fn argv_follows_the_entrypoint_rules() {
        let ep = vec!["/docker-entrypoint.sh".to_string()];
        let cmd = vec!["zkServer.sh".to_string(), "start-foreground".to_string()];
        let vars = vec![("N".to_string(), "3".to_string())];
        let c = Container {
            name: "c".into(),
            ..Default::default()
        };
        assert_eq!(
            argv(&c, &ep, &cmd, &vars),
            ["/docker-entrypoint.sh", "zkServer.sh", "start-foreground"]
        );
        let c = Container {
            name: "c".into(),
            args: Some(vec!["n=$(N)".into()]),
            ..Default::default()
        };
        assert_eq!(argv(&c, &ep, &cmd, &vars), ["/docker-entrypoint.sh", "n=3"]);
        let c = Container {
            name: "c".into(),
            command: Some(vec!["run".into(), "$(N)".into()]),
            ..Default::default()
        };
        assert_eq!(argv(&c, &ep, &cmd, &vars), ["run", "3"]);
    }

    #[test]
    fn secret_volume_bytes_are_not_text() {
        use k8s_openapi::ByteString;
        let jks = vec![0xfe, 0xed, 0xfe, 0xed, 0, 0, 0, 2];
        let secret = Secret {
            metadata: k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta {
                name: Some("tls".into()),
                namespace: Some("ns".into()),
                ..Default::default()
            },
            data: Some([("keystore.jks".to_string(), ByteString(jks.clone()))].into()),
            string_data: Some([("password".to_string(), "changeit".to_string())].into()),
            ..Default::default()
        };
        let src = Sources {
            namespace: "ns",
            configmaps: &[],
            secrets: std::slice::from_ref(&secret),
        };
        let f = src.secret_files("tls").unwrap();
        assert_eq!(f["keystore.jks"], jks, "a JKS keystore's magic 0xfeedfeed survives");
        assert_eq!(f["password"], b"changeit");
    }
}
