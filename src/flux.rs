//! Flux delivery for the `-o DIR` layout (`bdp render -o DIR --flux`): one
//! `kustomize.toolkit.fluxcd.io/v1` Kustomization per wave, each depending on the one before
//! with `wait: true`, so a wave is applied only once the previous wave is healthy.
//!
//! Flux orders nothing inside one Kustomization beyond its fixed apply stages, so the plan's
//! start order has to become a chain of Kustomizations. A wave may span several
//! `<namespace>/<cluster>/wave-<N>` directories (one per Cluster), and a Kustomization has one
//! path, so each wave gets a small kustomization.yaml of its own that lists that wave's files:
//!
//! ```text
//! DIR/kustomization.yaml                  every Kubernetes object (unchanged by --flux)
//! DIR/<ns>/<cluster>/wave-<N>/*.yaml      the objects
//! DIR/_flux/kustomization.yaml            builds only kustomizations.yaml (point Flux here)
//! DIR/_flux/kustomizations.yaml           the Flux Kustomizations, one per wave
//! DIR/_flux/wave-<N>/kustomization.yaml   resources: ../../<ns>/<cluster>/wave-<N>/<file>
//! ```
//!
//! `_flux` cannot collide with a namespace directory (namespaces are DNS labels, no `_`). The
//! wave kustomizations reference files outside their own directory; Flux builds with kustomize's
//! load restrictions off inside the source root, so they work there as they do with
//! `kubectl kustomize --load-restrictor LoadRestrictionsNone`. The root kustomization.yaml does
//! not list `_flux/`, so it keeps building exactly the objects of the stream.

use crate::names;
use crate::render::Object;
use crate::yamlout::to_yaml;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Directory (under the output directory) that holds the Flux files.
pub const FLUX_DIR: &str = "_flux";
/// Source kinds a Flux v1 Kustomization may reference (the CRD's enum).
pub const SOURCE_KINDS: [&str; 4] = ["GitRepository", "OCIRepository", "Bucket", "ExternalArtifact"];
/// The source `flux bootstrap` creates.
pub const DEFAULT_SOURCE: &str = "GitRepository/flux-system";
pub const FLUX_NAMESPACE: &str = "flux-system";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FluxOptions {
    pub source_kind: String,
    pub source_name: String,
    /// Path of the output directory inside the source, `./`-prefixed, no trailing slash.
    pub path: String,
}

impl FluxOptions {
    /// Options from the CLI: `--flux-source KIND/NAME` and `--flux-path PATH` (default: the
    /// output directory as given, which must then be relative: bdp is run from the repo root).
    pub fn new(source: Option<&str>, path: Option<&str>, out_dir: &Path) -> Result<Self, String> {
        let (source_kind, source_name) = parse_source(source.unwrap_or(DEFAULT_SOURCE))?;
        let path = match path {
            Some(p) => normalize_path(p)?,
            None => {
                if out_dir.is_absolute() {
                    return Err(format!(
                        "--flux needs the path of {} inside the Git repository; give it with --flux-path (e.g. --flux-path ./deploy/prod)",
                        out_dir.display()
                    ));
                }
                normalize_path(&out_dir.to_string_lossy())?
            }
        };
        Ok(FluxOptions { source_kind, source_name, path })
    }

    /// Prefix of the Kustomization names: `bdp-` and the path as a DNS label.
    pub fn name_prefix(&self) -> String {
        let slug: String = self
            .path
            .trim_start_matches("./")
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' })
            .collect();
        let slug = slug.split('-').filter(|s| !s.is_empty()).collect::<Vec<_>>().join("-");
        let mut name = if slug.is_empty() { "bdp".to_string() } else { format!("bdp-{slug}") };
        // room for "-wave-NNNN" within a 63-character label
        name.truncate(52);
        name.trim_end_matches('-').to_string()
    }
}

/// `KIND/NAME` with KIND one of the Flux source kinds.
pub fn parse_source(s: &str) -> Result<(String, String), String> {
    let (kind, name) = s.split_once('/').ok_or_else(|| format!("--flux-source `{s}`: expected KIND/NAME, e.g. {DEFAULT_SOURCE}"))?;
    if !SOURCE_KINDS.contains(&kind) {
        let hint = crate::diag::known_hint(kind, "source kinds", SOURCE_KINDS);
        return Err(format!("--flux-source `{s}`: unknown source kind `{kind}`; {hint}"));
    }
    if !is_dns_subdomain(name) {
        return Err(format!("--flux-source `{s}`: `{name}` is not a valid object name (lowercase letters, digits, `-` and `.`)"));
    }
    Ok((kind.to_string(), name.to_string()))
}

fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.ends_with(|c: char| c.is_ascii_alphanumeric())
}

/// `deploy/prod/`, `./deploy//prod` → `./deploy/prod`; `.` → `./`. Refuses `..` and absolute paths.
pub fn normalize_path(p: &str) -> Result<String, String> {
    if p.starts_with('/') {
        return Err(format!("--flux-path `{p}`: a path inside the repository is relative to its root (e.g. ./deploy/prod)"));
    }
    let parts: Vec<&str> = p.split('/').filter(|s| !s.is_empty() && *s != ".").collect();
    if parts.contains(&"..") {
        return Err(format!("--flux-path `{p}`: `..` cannot leave the repository root"));
    }
    Ok(if parts.is_empty() { "./".to_string() } else { format!("./{}", parts.join("/")) })
}

fn join(prefix: &str, rest: &str) -> String {
    if prefix.ends_with('/') { format!("{prefix}{rest}") } else { format!("{prefix}/{rest}") }
}

/// The Flux Kustomization objects, one per wave, in wave order.
pub fn kustomizations(objects: &[Object], opts: &FluxOptions) -> Vec<Value> {
    let waves: std::collections::BTreeSet<u32> = objects.iter().map(|o| o.wave).collect();
    let prefix = opts.name_prefix();
    let mut out = Vec::new();
    let mut previous: Option<String> = None;
    for w in waves {
        let name = format!("{prefix}-wave-{w}");
        let mut spec = json!({
            "interval": "10m",
            "retryInterval": "2m",
            // StatefulSet rollouts are slow and never turn "failed"; the timeout bounds a wave
            "timeout": "30m",
            "path": join(&opts.path, &format!("{FLUX_DIR}/wave-{w}")),
            "prune": true,
            "wait": true,
            "sourceRef": {"kind": opts.source_kind, "name": opts.source_name},
        });
        if let Some(p) = &previous {
            spec["dependsOn"] = json!([{"name": p}]);
        }
        out.push(json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": {
                "name": name,
                "namespace": FLUX_NAMESPACE,
                "labels": {names::LABEL_APP_MANAGED_BY: names::MANAGED_BY, names::LABEL_APP_PART_OF: names::PART_OF},
            },
            "spec": spec,
        }));
        previous = Some(name);
    }
    out
}

/// The extra files of `--flux`, relative to the output directory.
pub fn files(objects: &[Object], opts: &FluxOptions) -> Vec<(PathBuf, String)> {
    let mut per_wave: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for o in objects {
        let rel = crate::emit::object_path(o).to_string_lossy().replace('\\', "/");
        per_wave.entry(o.wave).or_default().push(format!("../../{rel}"));
    }
    let mut out = Vec::new();
    for (w, resources) in &per_wave {
        let k = json!({"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": resources});
        out.push((PathBuf::from(FLUX_DIR).join(format!("wave-{w}")).join("kustomization.yaml"), to_yaml(&k)));
    }
    let mut stream = String::from("# Flux Kustomizations written by `bdp render --flux`: one per wave, each waiting for the one before.\n");
    for k in kustomizations(objects, opts) {
        stream.push_str("---\n");
        stream.push_str(&to_yaml(&k));
    }
    out.push((PathBuf::from(FLUX_DIR).join("kustomizations.yaml"), stream));
    let root = json!({"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "resources": ["kustomizations.yaml"]});
    out.push((PathBuf::from(FLUX_DIR).join("kustomization.yaml"), to_yaml(&root)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(ns: &str, cluster: &str, kind: &str, name: &str, wave: u32) -> Object {
        Object {
            api_version: "v1".into(),
            kind: kind.into(),
            namespace: ns.into(),
            name: name.into(),
            cluster: cluster.into(),
            wave,
            body: json!({"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": ns}}),
        }
    }

    #[test]
    fn one_kustomization_per_wave_chained() {
        let objs = [obj("a", "x", "ConfigMap", "c0", 0), obj("b", "y", "ConfigMap", "c1", 1), obj("a", "x", "Service", "s1", 1), obj("a", "x", "ConfigMap", "c2", 2)];
        let o = FluxOptions::new(Some("GitRepository/platform"), Some("deploy/prod/"), Path::new("ignored")).unwrap();
        let ks = kustomizations(&objs, &o);
        let names: Vec<&str> = ks.iter().map(|k| k["metadata"]["name"].as_str().unwrap()).collect();
        assert_eq!(names, ["bdp-deploy-prod-wave-0", "bdp-deploy-prod-wave-1", "bdp-deploy-prod-wave-2"]);
        assert!(ks[0]["spec"].get("dependsOn").is_none());
        assert_eq!(ks[2]["spec"]["dependsOn"], json!([{"name": "bdp-deploy-prod-wave-1"}]));
        assert_eq!(ks[1]["spec"]["path"], "./deploy/prod/_flux/wave-1");
        assert_eq!(ks[1]["spec"]["sourceRef"], json!({"kind": "GitRepository", "name": "platform"}));
        let f = files(&objs, &o);
        let wave1 = &f.iter().find(|(p, _)| p == Path::new("_flux/wave-1/kustomization.yaml")).unwrap().1;
        assert!(wave1.contains("../../a/x/wave-1/service-s1.yaml") && wave1.contains("../../b/y/wave-1/configmap-c1.yaml"), "{wave1}");
    }

    #[test]
    fn options_are_checked() {
        assert!(parse_source("GitRepo/x").unwrap_err().contains("did you mean `GitRepository`"));
        assert!(parse_source("flux-system").is_err());
        assert!(parse_source("Bucket/Bad_Name").is_err());
        assert_eq!(normalize_path(".").unwrap(), "./");
        assert!(normalize_path("../x").is_err());
        assert!(FluxOptions::new(None, None, Path::new("/abs/out")).is_err());
        let o = FluxOptions::new(None, None, Path::new("out")).unwrap();
        assert_eq!((o.source_kind.as_str(), o.source_name.as_str(), o.path.as_str()), ("GitRepository", "flux-system", "./out"));
        assert_eq!(FluxOptions { path: "./".into(), ..o }.name_prefix(), "bdp");
    }
}
