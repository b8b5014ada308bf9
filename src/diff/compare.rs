//! Comparing two sides object by object into a [`Report`].

use super::*;

/// Compares two sides.
// Long because: one pass in the report's order (created, deleted, changed, restarts, notes); each step is a call, what remains is the report's bookkeeping.
pub fn compare(old: &Side, new: &Side) -> Report {
    let mut r = Report { old: old.label.clone(), new: new.label.clone(), ..Default::default() };
    let role_facts = |side: &Side, k: &ObjKey| side.plan.as_ref().and_then(|p| p.roles.get(&(k.namespace.clone(), k.name.clone()))).cloned();
    let format_hint = |k: &ObjKey, file: &str| {
        new.plan
            .as_ref()
            .and_then(|p| p.formats.get(&(k.namespace.clone(), k.name.clone(), file.to_string())))
            .or_else(|| old.plan.as_ref().and_then(|p| p.formats.get(&(k.namespace.clone(), k.name.clone(), file.to_string()))))
            .copied()
    };

    // created / deleted
    for (k, v) in &new.objects {
        if !old.objects.contains_key(k) {
            r.created.push(ObjRef { key: k.clone(), wave: wave_of(v) });
        }
    }
    for (k, v) in &old.objects {
        if new.objects.contains_key(k) {
            continue;
        }
        r.deleted.push(ObjRef { key: k.clone(), wave: wave_of(v) });
        deletion_risk(k, v, &mut r.risks);
    }

    // changed
    let mut changed_files: ChangedFiles = BTreeMap::new();
    let mut changes = Vec::new();
    for (k, a) in &old.objects {
        let Some(b) = new.objects.get(k) else { continue };
        let fields = diff_object(k, a, b);
        let files = config_map_files(k, a, b, &format_hint);
        // wave changes
        if let (Some(wa), Some(wb)) = (wave_of(a), wave_of(b))
            && wa != wb
        {
            let what = role_label(b).unwrap_or_else(|| k.to_string());
            match r.waves.iter_mut().find(|w| w.what == what && w.old == wa && w.new == wb) {
                Some(w) => w.objects += 1,
                None => r.waves.push(WaveChange { what, objects: 1, old: wa, new: wb }),
            }
        }
        if fields.is_empty() && files.is_empty() {
            if wave_of(a) == wave_of(b) {
                r.summary.unchanged += 1;
            } else {
                // only the wave changed: reported with the waves, but still a change
                changes.push(ObjChange { key: k.clone(), fields, files });
            }
            continue;
        }
        r.immutable.extend(immutable_fields(k, a, &fields));
        if k.group == "apps" && k.kind == "StatefulSet" {
            sts_risks(k, a, b, role_facts(old, k).as_ref(), role_facts(new, k).as_ref(), &mut r.risks);
        }
        changes.push(ObjChange { key: k.clone(), fields, files });
    }
    for c in &changes {
        if !c.files.is_empty() {
            changed_files.insert((c.key.namespace.clone(), c.key.name.clone()), c.files.iter().collect());
        }
    }

    // restarts
    let mut referenced_by_restart: BTreeSet<(String, String)> = BTreeSet::new();
    let mut referenced: BTreeSet<(String, String)> = BTreeSet::new();
    for (k, v) in &new.objects {
        if let Some(t) = template_path(&k.kind).and_then(|tp| at(v, tp)) {
            for cm in config_maps_of(t) {
                referenced.insert((k.namespace.clone(), cm));
            }
        }
    }
    for c in &changes {
        if let Some((restart, count)) = restart_of(&c.key, old, new, &changed_files, &mut referenced_by_restart, &mut r.risks) {
            r.summary.pods_restarting = r.summary.pods_restarting.saturating_add(usize::try_from(count).unwrap_or(usize::MAX));
            r.restarts.push(restart);
        }
    }
    r.refreshes = refreshes(new, &changed_files);
    for ((ns, cm), files) in &changed_files {
        if referenced.contains(&(ns.clone(), cm.clone())) && !referenced_by_restart.contains(&(ns.clone(), cm.clone())) {
            let (unread, other, refreshed) = classify(new, ns, cm, files);
            if !other && !unread.is_empty() {
                r.notes.push(format!("ConfigMap {ns}/{cm} changed in keys its role does not read ({}): no pod restarts", unread.join(", ")));
            }
            if !other && (refreshed || !unread.is_empty()) {
                // the note above and the refresh lines say it
                continue;
            }
            r.notes.push(format!(
                "ConfigMap {ns}/{cm} changed but no pod template did: no pod restarts; the kubelet updates the mounted files in place (within about a minute) and a process sees the change only if it re-reads them"
            ));
        }
    }

    policy::apply(old, new, &mut r);
    finish(&mut r, old, new, changes);
    r
}

/// The risk of deleting `v`, if it holds data (a StatefulSet with claims, a PVC, a Namespace).
fn deletion_risk(k: &ObjKey, v: &Value, risks: &mut Vec<Risk>) {
    let r = risks;
    match (k.group.as_str(), k.kind.as_str()) {
        ("apps", "StatefulSet") if !claims(v).is_empty() => {
            let protected = at(v, &["metadata", "annotations", "argocd.argoproj.io/sync-options"]).and_then(Value::as_str).is_some_and(|s| s.contains("Prune=false"));
            let (pvcs, command) = orphaned_claims(k, v);
            let what = if protected {
                "it carries Prune=false,Delete=false and `kustomize.toolkit.fluxcd.io/prune: disabled`: ArgoCD and Flux leave it running; move its data, then delete it (`kubectl -n NS delete statefulset NAME`) and its PVCs by hand".replace("NS", &k.namespace).replace("NAME", &k.name)
            } else {
                "a GitOps prune deletes it; its PVCs stay (whenDeleted: Retain) unless the policy says Delete. Move the data first".into()
            };
            r.push(Risk {
                object: k.clone(),
                risk: format!(
                    "StatefulSet with volume claims ({}) is removed from the output: its data is no longer served, and its {} PVC(s) ({}) are orphaned",
                    claims(v).join(", "),
                    pvcs.len(),
                    list_of(&pvcs, "PVCs")
                ),
                advice: format!("{what}. Once the data is safe, remove the PVCs deliberately: {command}"),
            });
        }
        ("", "PersistentVolumeClaim") => r.push(Risk {
            object: k.clone(),
            risk: "PersistentVolumeClaim is removed from the output".into(),
            advice: "a prune deletes the claim and, with reclaimPolicy Delete, its volume and data; annotate it to keep it or copy the data first".into(),
        }),
        ("", "Namespace") => r.push(Risk {
            object: k.clone(),
            risk: "Namespace is removed from the output: deleting it deletes everything in it, PVCs included".into(),
            advice: "keep the Namespace, or move what must survive first".into(),
        }),
        _ => {}
    }
}

/// The PVCs a deleted StatefulSet leaves behind (`<claim>-<sts>-<ordinal>` for every claim
/// template and replica) and the command that deletes them: by the claim templates' labels
/// when they have some (one command, whatever the replicas), else by name.
pub(crate) fn orphaned_claims(k: &ObjKey, v: &Value) -> (PodList, String) {
    let n = replicas(v);
    let mut pvcs = PodList::default();
    let mut selectors = BTreeSet::new();
    for c in at(v, &["spec", "volumeClaimTemplates"]).and_then(Value::as_array).into_iter().flatten() {
        let Some(name) = at(c, &["metadata", "name"]).and_then(Value::as_str) else { continue };
        pvcs.push_range(&format!("{name}-{}", k.name), 0, n);
        let labels = at(c, &["metadata", "labels"]).and_then(Value::as_object);
        let sel: Vec<String> = labels.into_iter().flatten().filter_map(|(l, x)| x.as_str().map(|x| format!("{l}={x}"))).collect();
        selectors.insert(sel.join(","));
    }
    let ns = &k.namespace;
    let command = match pvcs.names(20) {
        Some(names) if !names.is_empty() => format!("`kubectl -n {ns} delete pvc {}`", names.join(" ")),
        _ if selectors.len() == 1 && selectors.iter().all(|s| !s.is_empty()) => {
            format!("`kubectl -n {ns} get pvc -l {0}` lists them; `kubectl -n {ns} delete pvc -l {0}` deletes them (the claim templates' labels)", selectors.iter().next().cloned().unwrap_or_default())
        }
        _ => format!("`kubectl -n {ns} delete pvc` each of {} … {}", pvcs.first().unwrap_or_default(), pvcs.last().unwrap_or_default()),
    };
    (pvcs, command)
}

/// The files of a ConfigMap (`data` and `binaryData`) that differ, key by key in their format.
fn config_map_files(k: &ObjKey, a: &Value, b: &Value, format_hint: &dyn Fn(&ObjKey, &str) -> Option<FileFormat>) -> Vec<FileChange> {
    let mut files = Vec::new();
    if k.kind == "ConfigMap" && k.group.is_empty() {
        for section in ["data", "binaryData"] {
            let da = a.get(section).and_then(Value::as_object);
            let db = b.get(section).and_then(Value::as_object);
            let names: BTreeSet<&String> = da.into_iter().flat_map(|m| m.keys()).chain(db.into_iter().flat_map(|m| m.keys())).collect();
            for n in names {
                let get = |m: Option<&serde_json::Map<String, Value>>| m.and_then(|m| m.get(n)).map(|v| v.as_str().map(String::from).unwrap_or_else(|| v.to_string()));
                let (x, y) = (get(da), get(db));
                let hint = if section == "binaryData" { Some(FileFormat::Text) } else { format_hint(k, n) };
                if section == "binaryData" && x != y {
                    files.push(FileChange { file: n.clone(), format: FileFormat::Text, op: if x.is_none() { Op::Added } else if y.is_none() { Op::Removed } else { Op::Changed }, entries: vec![], text_diff: None, lines: None });
                    continue;
                }
                if let Some(fc) = diff_file(n, x.as_deref(), y.as_deref(), hint) {
                    files.push(fc);
                }
            }
        }
    }
    files
}

/// Why a workload whose pod template changed restarts, and which pods roll in what order;
/// `None` when its pod template did not change (or it is a Job).
fn restart_of(k: &ObjKey, old: &Side, new: &Side, changed_files: &ChangedFiles, seen: &mut Seen, risks: &mut Vec<Risk>) -> Option<(Restart, u64)> {
    let tp = template_path(&k.kind)?;
    let (a, b) = (old.objects.get(k)?, new.objects.get(k)?);
    let (ta, tb) = (at(a, tp)?, at(b, tp)?);
    if ta == tb || k.kind == "Job" {
        return None;
    }
    let mut reasons = Vec::new();
    config_reasons(k, ta, tb, new, changed_files, seen, &mut reasons);
    image_reasons(k, ta, tb, &mut reasons, risks);
    other_reasons(ta, tb, &mut reasons);
    let (pods, rollout, count) = rollout_of(k, a, b);
    Some((Restart { workload: k.clone(), pods, rollout, reasons }, count))
}

/// Files changed per ConfigMap (namespace, name).
type ChangedFiles<'a> = BTreeMap<(String, String), Vec<&'a FileChange>>;
/// ConfigMaps a restarting workload mounts (namespace, name).
type Seen = BTreeSet<(String, String)>;

/// The config files behind a changed config checksum (keys marked hot are named apart).
fn config_reasons(k: &ObjKey, ta: &Value, tb: &Value, new: &Side, changed_files: &ChangedFiles, referenced_by_restart: &mut Seen, reasons: &mut Vec<String>) {
    let ck = |t: &Value| at(t, &["metadata", "annotations", CHECKSUM_ANNOTATION]).cloned();
    let cms = config_maps_of(tb);
    if ck(ta) != ck(tb) {
        let mut files: Vec<String> = Vec::new();
        for cm in &cms {
            referenced_by_restart.insert((k.namespace.clone(), cm.clone()));
            for f in changed_files.get(&(k.namespace.clone(), cm.clone())).into_iter().flatten() {
                let hot = new.plan.as_ref().and_then(|p| p.hot.get(&(k.namespace.clone(), cm.clone(), f.file.clone())));
                let is_hot = |key: &str| hot.is_some_and(|h| h.contains("*") || h.contains(key));
                if is_hot("*") {
                    continue;
                }
                let keys: Vec<&str> = f.entries.iter().map(|e| e.key.as_str()).filter(|k| !is_hot(k)).collect();
                let hot_keys: Vec<&str> = f.entries.iter().map(|e| e.key.as_str()).filter(|k| is_hot(k)).collect();
                if keys.is_empty() && !hot_keys.is_empty() {
                    continue;
                }
                let mut what = if keys.is_empty() {
                    op_word(f.op).to_string()
                } else if keys.len() > 4 {
                    format!("{}, … ({} keys)", keys[..3].join(", "), keys.len())
                } else {
                    keys.join(", ")
                };
                if !hot_keys.is_empty() {
                    what.push_str(&format!("; without restart: {}", hot_keys.join(", ")));
                }
                files.push(format!("{cm}/{} ({what})", f.file));
            }
        }
        reasons.push(if files.is_empty() { "config checksum changed".to_string() } else { format!("config: {}", files.join("; ")) });
    } else {
        for cm in &cms {
            referenced_by_restart.insert((k.namespace.clone(), cm.clone()));
        }
    }
}

/// The changed files (or keys) the stack marks refreshable: what to run instead of a restart.
fn refreshes(new: &Side, changed_files: &ChangedFiles) -> Vec<Refresh> {
    let Some(plan) = &new.plan else { return Vec::new() };
    let mut out = Vec::new();
    for ((ns, cm), files) in changed_files {
        for f in files {
            let Some(cmds) = plan.refresh.get(&(ns.clone(), cm.clone(), f.file.clone())) else { continue };
            let file = format!("{ns}/{cm}/{}", f.file);
            if let Some(cmd) = cmds.get("*") {
                out.push(Refresh { file, keys: Vec::new(), command: cmd.clone() });
                continue;
            }
            // keys grouped by command
            let mut by_cmd: BTreeMap<&str, Vec<String>> = BTreeMap::new();
            for e in &f.entries {
                if let Some(cmd) = cmds.get(&e.key) {
                    by_cmd.entry(cmd).or_default().push(e.key.clone());
                }
            }
            for (cmd, keys) in by_cmd {
                out.push(Refresh { file: file.clone(), keys, command: cmd.to_string() });
            }
        }
    }
    out
}

/// A ConfigMap's changed keys its role does not read (`file: key`); whether some other
/// changed content is neither unread nor refreshable; whether some is refreshable.
fn classify(new: &Side, ns: &str, cm: &str, files: &[&FileChange]) -> (Vec<String>, bool, bool) {
    let Some(plan) = &new.plan else { return (Vec::new(), true, false) };
    let mut unread_keys = Vec::new();
    let (mut other, mut refreshed) = (false, false);
    for f in files {
        let id = (ns.to_string(), cm.to_string(), f.file.clone());
        let refresh = plan.refresh.get(&id);
        if refresh.is_some_and(|m| m.contains_key("*")) {
            refreshed = true;
            continue;
        }
        if f.entries.is_empty() {
            other = true;
            continue;
        }
        let unread = plan.unread.get(&id);
        for e in &f.entries {
            if unread.is_some_and(|u| u.contains(&e.key)) {
                unread_keys.push(format!("{}: {}", f.file, e.key));
            } else if refresh.is_some_and(|m| m.contains_key(&e.key)) {
                refreshed = true;
            } else {
                other = true;
            }
        }
    }
    (unread_keys, other, refreshed)
}

/// Images changed, containers added or removed; a downgrade is also a risk.
fn image_reasons(k: &ObjKey, ta: &Value, tb: &Value, reasons: &mut Vec<String>, risks: &mut Vec<Risk>) {
    let (ca, cb) = (containers(ta), containers(tb));
    for (name, c) in &cb {
        let img_b = c.get("image").and_then(Value::as_str).unwrap_or("");
        match ca.iter().find(|(n, _)| n == name) {
            Some((_, o)) => {
                let img_a = o.get("image").and_then(Value::as_str).unwrap_or("");
                if img_a != img_b {
                    let dir = match is_downgrade(img_a, img_b) {
                        Some(true) => " (downgrade)",
                        Some(false) => " (upgrade)",
                        None => "",
                    };
                    reasons.push(format!("image of `{name}`: {img_a} → {img_b}{dir}"));
                    if is_downgrade(img_a, img_b) == Some(true) {
                        risks.push(Risk {
                            object: k.clone(),
                            risk: format!("image downgrade of `{name}`: {img_a} → {img_b}"),
                            advice: "data written by the newer version may not be readable by the older one; check the release notes before rolling back".into(),
                        });
                    }
                }
            }
            None => reasons.push(format!("container `{name}` added")),
        }
    }
    for (name, _) in &ca {
        if !cb.iter().any(|(n, _)| n == name) {
            reasons.push(format!("container `{name}` removed"));
        }
    }
}

/// Other changes of the pod template, the first three named.
fn other_reasons(ta: &Value, tb: &Value, reasons: &mut Vec<String>) {
    let mut tf = Vec::new();
    diff_value(ta, tb, &mut Vec::new(), &mut tf);
    let others: Vec<String> = tf
        .iter()
        .filter(|f| {
            let p = &f.path;
            !(p.contains(CHECKSUM_ANNOTATION) || (p.ends_with(".image") && p.contains("ontainers[")) || (matches!(f.op, Op::Added | Op::Removed) && p.matches("ontainers[").count() == 1 && !p.contains("].")))
        })
        .map(|f| format!("spec.template.{} {}", f.path, op_word(f.op)))
        .collect();
    if !others.is_empty() {
        let n = others.len();
        let mut shown: Vec<String> = others.into_iter().take(3).collect();
        if n > 3 {
            shown.push(format!("and {} more", n - 3));
        }
        reasons.push(shown.join("; "));
    }
}

/// The pods that roll, in what order, and how many.
fn rollout_of(k: &ObjKey, a: &Value, b: &Value) -> (PodList, String, u64) {
    let n_new = replicas(b);
    let n_old = replicas(a);
    let (pods, rollout) = match k.kind.as_str() {
        "StatefulSet" => {
            let pods = PodList::range(&k.name, 0, n_new.min(n_old));
            let strat = at(b, &["spec", "updateStrategy", "type"]).and_then(Value::as_str).unwrap_or("RollingUpdate");
            let partition = at(b, &["spec", "updateStrategy", "rollingUpdate", "partition"]).and_then(Value::as_i64).unwrap_or(0);
            if strat == "OnDelete" {
                (pods, "updateStrategy OnDelete: pods change only when deleted by hand".to_string())
            } else if partition > 0 {
                (pods.skip(partition as u64), format!("one at a time from the highest ordinal, down to the partition {partition}"))
            } else {
                (pods, "one at a time from the highest ordinal, each after the previous is Ready".to_string())
            }
        }
        "Deployment" | "ReplicaSet" => (PodList::named(format!("{} pod(s) of {}", n_new, k.name)), "rolling update".to_string()),
        "DaemonSet" => (PodList::named(format!("every pod of {}", k.name)), "rolling update, node by node".to_string()),
        _ => (PodList::default(), String::new()),
    };
    let count = if k.kind == "StatefulSet" { pods.len() } else { n_new as u64 };
    (pods, rollout, count)
}

/// Start-order changes, notes, sorting and the summary counts.
fn finish(r: &mut Report, old: &Side, new: &Side, changes: Vec<ObjChange>) {
    // start order from the plans
    if let (Some(po), Some(pn)) = (&old.plan, &new.plan) {
        r.order_added = pn.edges.difference(&po.edges).cloned().collect();
        r.order_removed = po.edges.difference(&pn.edges).cloned().collect();
    }
    if !r.waves.is_empty() {
        r.notes.push(
            "objects that change wave move to another Flux Kustomization (render --flux): the old wave's Kustomization prunes them and the next re-creates them, except objects with pruning disabled; ArgoCD only re-orders them".into(),
        );
    }
    let quorum_unknown = old.plan.is_none() || new.plan.is_none();
    if quorum_unknown && changes.iter().any(|c| c.key.kind == "StatefulSet" && c.fields.iter().any(|f| f.path == "spec.replicas")) {
        r.notes.push("replicas changed in rendered output: quorum rules (odd sizes) come from the stack's plan, so diff the inputs (without --rendered) to check them".into());
    }
    r.immutable.sort_by(|a, b| (&a.object, &a.field).cmp(&(&b.object, &b.field)));
    r.risks.sort_by(|a, b| (&a.object, &a.risk).cmp(&(&b.object, &b.risk)));
    r.risks.dedup_by(|a, b| a.object == b.object && a.risk == b.risk);
    r.waves.sort_by(|a, b| (&a.what, a.old, a.new).cmp(&(&b.what, b.old, b.new)));
    r.summary.created = r.created.len();
    r.summary.deleted = r.deleted.len();
    r.summary.changed = changes.len();
    r.summary.immutable = r.immutable.len();
    r.summary.risks = r.risks.len();
    r.refused.sort_by(|a, b| (&a.what, &a.reason).cmp(&(&b.what, &b.reason)));
    r.refused.dedup_by(|a, b| a.what == b.what && a.reason == b.reason);
    r.summary.refused = r.refused.len();
    r.changes = changes;
}
