//! What a change does: restarts, immutable fields, data risks, pod ranges, image versions.

use super::*;

// =============================================================================================
// Impact

pub(crate) fn template_path(kind: &str) -> Option<&'static [&'static str]> {
    match kind {
        "StatefulSet" | "Deployment" | "DaemonSet" | "ReplicaSet" | "Job" => Some(&["spec", "template"]),
        "CronJob" => Some(&["spec", "jobTemplate", "spec", "template"]),
        _ => None,
    }
}

pub(crate) fn at<'a>(v: &'a Value, path: &[&str]) -> Option<&'a Value> {
    let mut cur = v;
    for p in path {
        cur = cur.get(*p)?;
    }
    Some(cur)
}

/// `spec.replicas` of a rendered workload; a negative count (which the API server refuses)
/// counts as 0. Whatever its size, it is only ever counted, never expanded.
pub(crate) fn replicas(v: &Value) -> i64 {
    at(v, &["spec", "replicas"]).and_then(Value::as_i64).unwrap_or(1).max(0)
}

pub(crate) fn wave_of(v: &Value) -> Option<i64> {
    at(v, &["metadata", "annotations", WAVE_ANNOTATION]).and_then(|w| w.as_str().and_then(|s| s.trim().parse().ok()).or_else(|| w.as_i64()))
}

pub(crate) fn containers(template: &Value) -> Vec<(String, &Value)> {
    let mut out = Vec::new();
    for list in ["initContainers", "containers"] {
        for c in at(template, &["spec", list]).and_then(Value::as_array).into_iter().flatten() {
            out.push((c.get("name").and_then(Value::as_str).unwrap_or("?").to_string(), c));
        }
    }
    out
}

/// ConfigMaps a pod template reads (volumes, projected volumes, env, envFrom).
pub(crate) fn config_maps_of(template: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for v in at(template, &["spec", "volumes"]).and_then(Value::as_array).into_iter().flatten() {
        if let Some(n) = at(v, &["configMap", "name"]).and_then(Value::as_str) {
            out.insert(n.to_string());
        }
        for s in at(v, &["projected", "sources"]).and_then(Value::as_array).into_iter().flatten() {
            if let Some(n) = at(s, &["configMap", "name"]).and_then(Value::as_str) {
                out.insert(n.to_string());
            }
        }
    }
    for (_, c) in containers(template) {
        for e in c.get("env").and_then(Value::as_array).into_iter().flatten() {
            if let Some(n) = at(e, &["valueFrom", "configMapKeyRef", "name"]).and_then(Value::as_str) {
                out.insert(n.to_string());
            }
        }
        for e in c.get("envFrom").and_then(Value::as_array).into_iter().flatten() {
            if let Some(n) = at(e, &["configMapRef", "name"]).and_then(Value::as_str) {
                out.insert(n.to_string());
            }
        }
    }
    out
}

/// Image `repo:tag@digest` → (repository, tag).
pub(crate) fn split_image(image: &str) -> (&str, Option<&str>) {
    let no_digest = image.split('@').next().unwrap_or(image);
    match no_digest.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo, Some(tag)),
        _ => (no_digest, None),
    }
}

/// Leading numeric components of a version tag: `v3.8.4-jre` → [3, 8, 4].
pub(crate) fn version_key(tag: &str) -> Vec<u64> {
    let t = tag.strip_prefix('v').unwrap_or(tag);
    let mut out = Vec::new();
    for part in t.split('.') {
        let digits: String = part.chars().take_while(|c| c.is_ascii_digit()).collect();
        match digits.parse::<u64>() {
            Ok(n) => out.push(n),
            Err(_) => break,
        }
        if digits.len() != part.len() {
            break;
        }
    }
    out
}

/// `Some(true)` for a downgrade, `Some(false)` for an upgrade, `None` when not comparable.
pub fn is_downgrade(old: &str, new: &str) -> Option<bool> {
    let ((ro, to), (rn, tn)) = (split_image(old), split_image(new));
    let (to, tn) = (to?, tn?);
    if ro != rn {
        return None;
    }
    let (a, b) = (version_key(to), version_key(tn));
    if a.is_empty() || b.is_empty() || a == b {
        return None;
    }
    Some(b < a)
}

pub(crate) fn short(v: &Value, max: usize) -> String {
    let s = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let s = s.replace('\n', "⏎");
    if s.chars().count() > max {
        let head: String = s.chars().take(max.saturating_sub(1)).collect();
        format!("{head}…")
    } else {
        s
    }
}

/// Pod (or PVC) names without materialising them: runs of `<prefix>-<ordinal>` and single
/// names, in order. A rendered StatefulSet may say `replicas: 1000000000000`; its pods are
/// counted and summarised (first … last (N pods)), never listed one by one.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PodList {
    pub(crate) runs: Vec<PodRun>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PodRun {
    Ordinals { prefix: String, from: i64, to: i64 },
    Name(String),
}

/// Above this many names, JSON output gives `{"first", "last", "count"}` instead of the list.
pub const MAX_LISTED_PODS: u64 = 1000;

impl PodList {
    /// `<name>-<from>` up to `<name>-<to - 1>`; empty when `to <= from`.
    pub fn range(name: &str, from: i64, to: i64) -> Self {
        let mut l = PodList::default();
        l.push_range(name, from, to);
        l
    }
    pub(crate) fn push_range(&mut self, name: &str, from: i64, to: i64) {
        if to > from {
            self.runs.push(PodRun::Ordinals { prefix: name.to_string(), from, to });
        }
    }
    pub fn named(name: String) -> Self {
        PodList { runs: vec![PodRun::Name(name)] }
    }
    pub fn len(&self) -> u64 {
        self.runs
            .iter()
            .map(|r| match r {
                PodRun::Ordinals { from, to, .. } => to.saturating_sub(*from).max(0) as u64,
                PodRun::Name(_) => 1,
            })
            .fold(0u64, u64::saturating_add)
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// The first `skip` names dropped (a rolling update's partition).
    pub fn skip(&self, mut skip: u64) -> Self {
        let mut out = PodList::default();
        for r in &self.runs {
            match r {
                PodRun::Ordinals { prefix, from, to } => {
                    let n = to.saturating_sub(*from).max(0) as u64;
                    let s = skip.min(n);
                    skip -= s;
                    out.push_range(prefix, from.saturating_add(s as i64), *to);
                }
                PodRun::Name(n) if skip == 0 => out.runs.push(PodRun::Name(n.clone())),
                PodRun::Name(_) => skip -= 1,
            }
        }
        out
    }
    pub(crate) fn first(&self) -> Option<String> {
        self.runs.first().map(|r| match r {
            PodRun::Ordinals { prefix, from, .. } => format!("{prefix}-{from}"),
            PodRun::Name(n) => n.clone(),
        })
    }
    pub(crate) fn last(&self) -> Option<String> {
        self.runs.last().map(|r| match r {
            PodRun::Ordinals { prefix, to, .. } => format!("{prefix}-{}", to - 1),
            PodRun::Name(n) => n.clone(),
        })
    }
    /// Every name, when there are at most `max` of them.
    pub fn names(&self, max: u64) -> Option<Vec<String>> {
        if self.len() > max {
            return None;
        }
        Some(
            self.runs
                .iter()
                .flat_map(|r| match r {
                    PodRun::Ordinals { prefix, from, to } => (*from..*to).map(|i| format!("{prefix}-{i}")).collect::<Vec<_>>(),
                    PodRun::Name(n) => vec![n.clone()],
                })
                .collect(),
        )
    }
}

impl Serialize for PodList {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.names(MAX_LISTED_PODS) {
            Some(n) => n.serialize(s),
            None => serde_json::json!({"first": self.first(), "last": self.last(), "count": self.len()}).serialize(s),
        }
    }
}

pub(crate) fn list_pods(p: &PodList) -> String {
    list_of(p, "pods")
}

/// Up to two names, else `first … last (N <plural>)`.
pub(crate) fn list_of(p: &PodList, plural: &str) -> String {
    match (p.len(), p.names(2)) {
        (0, _) => format!("no {plural}"),
        (_, Some(n)) => n.join(", "),
        (n, None) => format!("{} … {} ({n} {plural})", p.first().unwrap_or_default(), p.last().unwrap_or_default()),
    }
}

pub(crate) const STS_MUTABLE: [&str; 7] = ["replicas", "ordinals", "template", "updateStrategy", "revisionHistoryLimit", "persistentVolumeClaimRetentionPolicy", "minReadySeconds"];

/// Does every sync re-create the object: an ArgoCD hook deleted before its next creation
/// (`hook-delete-policy` BeforeHookCreation) that Flux also replaces (`kustomize.toolkit.fluxcd.io/force:
/// enabled`)? Then a change to an immutable field of it needs no manual step.
pub(crate) fn recreated_by_sync(v: &Value) -> bool {
    let ann = |k: &str| at(v, &["metadata", "annotations", k]).and_then(Value::as_str).unwrap_or_default();
    ann("argocd.argoproj.io/hook-delete-policy").split(',').any(|p| p.trim() == "BeforeHookCreation") && ann("kustomize.toolkit.fluxcd.io/force") == "enabled"
}

pub(crate) fn immutable_fields(key: &ObjKey, old: &Value, fields: &[FieldChange]) -> Vec<Immutable> {
    let ns = &key.namespace;
    let n = &key.name;
    let mut by_field: BTreeMap<String, Vec<&FieldChange>> = BTreeMap::new();
    for f in fields {
        let top = match (key.group.as_str(), key.kind.as_str()) {
            ("apps", "StatefulSet") => match f.segs.as_slice() {
                [Seg::Key(s), Seg::Key(field), ..] if s == "spec" && !STS_MUTABLE.contains(&field.as_str()) => Some(format!("spec.{field}")),
                _ => None,
            },
            ("apps", "Deployment" | "ReplicaSet" | "DaemonSet") if f.starts_with(&["spec", "selector"]) => Some("spec.selector".into()),
            // a Job both tools re-create on every sync (ArgoCD hook `BeforeHookCreation`, Flux
            // `force`: bdp's smoke tests) takes a new template without anyone deleting it
            ("batch", "Job") if recreated_by_sync(old) => None,
            ("batch", "Job") if f.starts_with(&["spec", "selector"]) || f.starts_with(&["spec", "template"]) => {
                Some(if f.starts_with(&["spec", "selector"]) { "spec.selector".into() } else { "spec.template".into() })
            }
            // set (even to None) or cleared: the live Service holds the IP it was given, which "may not
            // change once set", and a headless one stays headless (checked against a real API server,
            // tests/e2e/apiserver.sh)
            ("", "Service") if f.starts_with(&["spec", "clusterIP"]) || f.starts_with(&["spec", "clusterIPs"]) => Some("spec.clusterIP".into()),
            ("", "PersistentVolumeClaim") if f.starts_with(&["spec"]) => {
                let grow = f.starts_with(&["spec", "resources", "requests", "storage"]) && f.op == Op::Changed;
                (!grow || f.new.as_ref().map(|v| short(v, 40)) < f.old.as_ref().map(|v| short(v, 40))).then(|| "spec".into())
            }
            ("", "ConfigMap" | "Secret") if old.get("immutable") == Some(&Value::Bool(true)) && (f.starts_with(&["data"]) || f.starts_with(&["binaryData"]) || f.starts_with(&["stringData"])) => {
                Some("data".into())
            }
            _ => None,
        };
        if let Some(t) = top {
            by_field.entry(t).or_default().push(f);
        }
    }
    by_field
        .into_iter()
        .map(|(field, fs)| {
            let change = fs
                .iter()
                .take(3)
                .map(|f| {
                    if f.redacted {
                        format!("{} {}", f.path, op_word(f.op))
                    } else {
                        match (&f.old, &f.new) {
                            (Some(a), Some(b)) => format!("{}: {} → {}", f.path, short(a, 40), short(b, 40)),
                            _ => format!("{} {}", f.path, op_word(f.op)),
                        }
                    }
                })
                .collect::<Vec<_>>()
                .join("; ")
                + &if fs.len() > 3 { format!("; and {} more", fs.len() - 3) } else { String::new() };
            let orphan = format!("`kubectl -n {ns} delete statefulset {n} --cascade=orphan`, then sync: the new StatefulSet adopts the running pods and their PVCs and rolls them");
            let migration = match (key.kind.as_str(), field.as_str()) {
                ("StatefulSet", "spec.volumeClaimTemplates") => format!(
                    "{orphan}. Existing PVCs keep their old spec: to grow them, patch each claim (`kubectl -n {ns} patch pvc <claim>-{n}-<i> -p '{{\"spec\":{{\"resources\":{{\"requests\":{{\"storage\":\"<size>\"}}}}}}}}'`, the StorageClass must allow expansion); a new storage class or a smaller size needs the data copied to new volumes"
                ),
                ("StatefulSet", "spec.selector") => format!(
                    "`kubectl -n {ns} delete statefulset {n} --cascade=orphan`, then sync. The orphaned pods do not match the new selector: delete them one at a time (`kubectl -n {ns} delete pod {n}-<i>`), each after the previous is Ready again, so the new StatefulSet re-creates them on their PVCs"
                ),
                ("StatefulSet", _) => orphan,
                ("Deployment" | "ReplicaSet" | "DaemonSet", _) => format!("delete it (`kubectl -n {ns} delete {} {n}`) and sync; its pods are replaced", key.kind.to_lowercase()),
                ("Job", _) => format!("delete the Job (`kubectl -n {ns} delete job {n}`) and sync; with ArgoCD, a hook Job with `hook-delete-policy: BeforeHookCreation` is re-created by every sync"),
                ("Service", _) => format!("delete the Service (`kubectl -n {ns} delete service {n}`) and sync; clients cannot resolve it until it is re-created"),
                ("PersistentVolumeClaim", _) => "only a larger storage request can change on a PVC: create a new claim and copy the data".into(),
                _ => format!("the object is immutable: delete it (`kubectl -n {ns} delete {} {n}`) and sync", key.kind.to_lowercase()),
            };
            Immutable { object: key.clone(), field, change, migration }
        })
        .collect()
}

pub(crate) fn op_word(op: Op) -> &'static str {
    match op {
        Op::Added => "added",
        Op::Removed => "removed",
        Op::Changed => "changed",
        Op::Reordered => "reordered",
    }
}

pub(crate) fn claims(v: &Value) -> Vec<String> {
    at(v, &["spec", "volumeClaimTemplates"])
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|c| at(c, &["metadata", "name"]).and_then(Value::as_str).map(String::from))
        .collect()
}

pub(crate) fn retention(v: &Value, which: &str) -> String {
    at(v, &["spec", "persistentVolumeClaimRetentionPolicy", which]).and_then(Value::as_str).unwrap_or("Retain").to_string()
}

/// The advice for fewer replicas of a role with volume claims: the stack's own `scaleDown`
/// text for the role when it has one, generic advice otherwise.
pub(crate) fn scale_down_advice(facts: Option<&RoleFacts>) -> String {
    let generic = "make sure the service no longer needs the data on the removed pods (or has moved it off them) before merging; the stack gives no scale-down procedure for this role";
    match facts {
        Some(f) => {
            let text = f.scale_down.as_deref().map(|t| t.split_whitespace().collect::<Vec<_>>().join(" "));
            format!(
                "{} (`bdp explain {}/{}/{}` describes the role)",
                text.as_deref().filter(|t| !t.is_empty()).unwrap_or(generic),
                f.stack,
                f.service,
                f.role
            )
        }
        None => generic.to_string(),
    }
}

/// Risks of a StatefulSet present on both sides.
pub(crate) fn sts_risks(key: &ObjKey, old: &Value, new: &Value, facts_old: Option<&RoleFacts>, facts_new: Option<&RoleFacts>, out: &mut Vec<Risk>) {
    let (ro, rn) = (replicas(old), replicas(new));
    let cl = claims(old).into_iter().chain(claims(new)).collect::<BTreeSet<_>>();
    if rn < ro && !cl.is_empty() {
        let gone = PodList::range(&key.name, rn, ro);
        let mut pvcs = PodList::default();
        for c in &cl {
            pvcs.push_range(&format!("{c}-{}", key.name), rn, ro);
        }
        let (their, are) = if pvcs.len() == 1 { ("its PVC", "is") } else { ("their PVCs", "are") };
        let kept = if retention(new, "whenScaled") == "Delete" {
            format!("{their} ({}) {are} DELETED (persistentVolumeClaimRetentionPolicy.whenScaled: Delete)", list_pods(&pvcs))
        } else {
            format!("{their} ({}) {are} kept but no longer served", list_pods(&pvcs))
        };
        out.push(Risk {
            object: key.clone(),
            risk: format!("replicas {ro} → {rn}: {} removed; {kept}", list_pods(&gone)),
            advice: scale_down_advice(facts_new.or(facts_old)),
        });
    }
    if let Some(f) = facts_new.filter(|f| f.odd) {
        let tol = |n: i64| (n - 1).max(0) / 2;
        if rn % 2 == 0 && rn != ro {
            out.push(Risk {
                object: key.clone(),
                risk: format!("quorum role {}: {rn} replicas is even; it tolerates {} failure(s), no more than {}", f.id, tol(rn), rn - 1),
                advice: format!("use {} or {} replicas", rn - 1, rn.saturating_add(1)),
            });
        } else if rn != ro && tol(rn) < tol(ro) {
            out.push(Risk {
                object: key.clone(),
                risk: format!("quorum role {}: {ro} → {rn} replicas; it tolerates {} failure(s) instead of {}", f.id, tol(rn), tol(ro)),
                advice: "shrink a quorum only while every member is healthy, so a majority of the old membership stays up during the roll".into(),
            });
        }
    }
    for which in ["whenDeleted", "whenScaled"] {
        if retention(old, which) != "Delete" && retention(new, which) == "Delete" && !cl.is_empty() {
            out.push(Risk {
                object: key.clone(),
                risk: format!("persistentVolumeClaimRetentionPolicy.{which} becomes Delete: PVCs are deleted with their pods"),
                advice: "keep Retain for data-bearing roles".into(),
            });
        }
    }
    // smaller volume claims
    for (ca, cb) in at(old, &["spec", "volumeClaimTemplates"]).and_then(Value::as_array).into_iter().flatten().filter_map(|a| {
        let n = at(a, &["metadata", "name"])?;
        let b = at(new, &["spec", "volumeClaimTemplates"])?.as_array()?.iter().find(|b| at(b, &["metadata", "name"]) == Some(n))?;
        Some((a, b))
    }) {
        let size = |v: &Value| at(v, &["spec", "resources", "requests", "storage"]).and_then(Value::as_str).map(parse_quantity);
        if let (Some(Some(x)), Some(Some(y))) = (size(ca), size(cb))
            && y < x
        {
            out.push(Risk {
                object: key.clone(),
                risk: format!("volume claim `{}` shrinks", at(ca, &["metadata", "name"]).and_then(Value::as_str).unwrap_or("?")),
                advice: "volumes cannot shrink: a smaller claim needs new volumes and a data copy".into(),
            });
        }
    }
}

/// A Kubernetes quantity in bytes (or units), for comparison only.
pub(crate) fn parse_quantity(q: &str) -> Option<f64> {
    crate::quantity::parse(q)
}

pub(crate) fn role_label(v: &Value) -> Option<String> {
    let l = at(v, &["metadata", "labels"])?;
    let g = |k: &str| l.get(k).and_then(Value::as_str);
    let ns = at(v, &["metadata", "namespace"]).and_then(Value::as_str).unwrap_or("");
    match (g(LABEL_CLUSTER), g(LABEL_SERVICE), g(LABEL_ROLE)) {
        (Some(c), Some(s), Some(r)) => Some(format!("{ns}/{c}/{s}/{r}")),
        (Some(c), Some(s), None) => Some(format!("{ns}/{c}/{s}")),
        _ => None,
    }
}
