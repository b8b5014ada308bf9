//! `bdp explain`: documentation from the stack data, and the project's docs embedded in the
//! binary.
//!
//! Addresses: `[STACK/]SERVICE` (the stack may be left out when exactly one stack has a service
//! of that name), then `/ROLE`, `/operations[/NAME]`, or `/FILE[/KEY]`; `docs[/TOPIC]` prints
//! a page of `docs/`. Values the stack computes (templates) are shown evaluated for an example
//! Cluster (every service of the stack on its defaults), next to the template.

use crate::diag::{known_hint, Diagnostics};
use crate::model::{RoleDef, ServiceDef};
use crate::resolve::ResolvedCluster;
use crate::stacks::{Registry, Stack};
use include_dir::{include_dir, Dir};
use std::fmt::Write as _;

/// The project's docs (`docs/*.md`), so pages the stacks refer to ship with the binary.
static DOCS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/docs");

/// Name and namespace of the example Cluster computed values are shown for.
pub const EXAMPLE: (&str, &str) = ("example", "default");

/// The docs topics: (name without `.md`, text), sorted.
pub fn doc_topics() -> Vec<(String, &'static str)> {
    let mut v: Vec<(String, &'static str)> = DOCS
        .files()
        .filter_map(|f| {
            let name = f.path().file_name()?.to_str()?.strip_suffix(".md")?.to_string();
            Some((name, f.contents_utf8()?))
        })
        .collect();
    v.sort();
    v
}

fn docs(topic: Option<&str>) -> Result<String, String> {
    let topics = doc_topics();
    let Some(t) = topic.map(|t| t.trim_end_matches(".md")) else {
        let mut s = String::from("docs (`bdp explain docs/TOPIC`):\n");
        for (name, text) in &topics {
            let title = text.lines().next().unwrap_or("").trim_start_matches('#').trim();
            let _ = writeln!(s, "  {name}: {title}");
        }
        return Ok(s);
    };
    topics
        .iter()
        .find(|(n, _)| n == t)
        .map(|(_, text)| text.to_string())
        .ok_or_else(|| format!("unknown docs topic `{t}`; {}", known_hint(t, "topics", topics.iter().map(|(n, _)| n.as_str()))))
}

/// The first sentence of a text as one line (never cut mid-sentence): up to the first `. `
/// that does not end a list number, or the first line when it introduces a list (`…:`).
pub fn summary(s: &str) -> String {
    let para = s.trim().split("\n\n").next().unwrap_or("");
    if let Some(first) = para.lines().next().map(str::trim)
        && first.ends_with(':')
    {
        return first.to_string();
    }
    let joined = para.split_whitespace().collect::<Vec<_>>().join(" ");
    let bytes = joined.as_bytes();
    for (i, _) in joined.match_indices(". ") {
        if i > 0 && !bytes[i - 1].is_ascii_digit() {
            return joined[..=i].to_string();
        }
    }
    joined
}

/// A text whose continuation lines keep the indent of the first one (`pad`), for a text that
/// starts after a label on an already indented line.
pub fn hang(s: &str, pad: &str) -> String {
    let t = s.trim_end();
    let base = t.lines().skip(1).filter(|l| !l.trim().is_empty()).map(|l| l.len() - l.trim_start().len()).min().unwrap_or(0);
    t.trim_start()
        .lines()
        .enumerate()
        .map(|(i, l)| if i == 0 { l.to_string() } else if l.trim().is_empty() { String::new() } else { format!("{pad}{}", &l[base.min(l.len() - l.trim_start().len())..]) })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A block of text, every line indented by `pad`.
fn block(s: &str, pad: &str) -> String {
    s.trim().lines().map(|l| if l.trim().is_empty() { String::new() } else { format!("{pad}{l}") }).collect::<Vec<_>>().join("\n")
}

fn is_template(s: &str) -> bool {
    s.contains("{{") || s.contains("{%")
}

/// The stack resolved for an example Cluster with every service on its defaults. A service whose
/// defaults do not compile (one that needs a value only the user can give, such as a database
/// host) is left out and the others are tried again; None when nothing compiles.
fn example(reg: &Registry, stack: &str) -> Option<ResolvedCluster> {
    let st = reg.resolved(stack).ok()?;
    let mut services: Vec<&String> = st.spec.services.keys().collect();
    while !services.is_empty() {
        let mut text = format!(
            "apiVersion: {}\nkind: Cluster\nmetadata: {{name: {}, namespace: {}}}\nspec:\n  stack: {stack}\n  services:\n",
            crate::model::API_VERSION,
            EXAMPLE.0,
            EXAMPLE.1
        );
        for svc in &services {
            let _ = writeln!(text, "    {svc}: {{}}");
        }
        let docs = crate::source::parse_documents(std::path::Path::new("<example>"), &text).ok()?;
        let mut d = Diagnostics::default();
        let typed = crate::validate::validate(docs, &mut d);
        let resolved = crate::resolve::resolve(&typed.clusters, reg, &mut d);
        if !d.has_errors() {
            return resolved.into_iter().next();
        }
        // the services an error names (`spec.services.<svc>…`); none: give up
        let failing = |svc: &str| {
            let at = format!("spec.services.{svc}");
            d.items.iter().any(|x| x.severity == crate::diag::Severity::Error && (x.path == at || x.path.starts_with(&format!("{at}."))))
        };
        let before = services.len();
        services.retain(|svc| !failing(svc));
        if services.len() == before {
            return None;
        }
    }
    None
}

/// Entries of FILE in the example (from the first role that mounts it).
fn example_entries<'a>(ex: Option<&'a ResolvedCluster>, svc: &str, file: &str) -> Option<&'a Vec<crate::resolve::Entry>> {
    let s = ex?.services.iter().find(|s| s.name == svc)?;
    s.roles.iter().flat_map(|r| &r.files).find(|f| f.name == file).map(|f| &f.entries)
}

fn example_note() -> String {
    format!("for an example Cluster `{}` in namespace `{}` with every service on its defaults", EXAMPLE.0, EXAMPLE.1)
}

/// Finds the stack and service of an address that may leave out the stack.
fn locate<'a>(reg: &Registry, parts: &[&'a str]) -> Result<(Stack, Option<&'a str>, usize), String> {
    let first = parts[0];
    if let Ok(st) = reg.resolved(first) {
        return Ok((st, parts.get(1).copied(), 2));
    }
    let mut found = Vec::new();
    for name in reg.names() {
        if let Ok(st) = reg.resolved(name)
            && st.spec.services.contains_key(first)
        {
            found.push(st);
        }
    }
    // a stack that extends another one holding the service (hadoop-3.4 → hadoop-3.3) only
    // overrides it: without a stack named, the base one is meant
    if found.len() > 1 {
        let names: Vec<String> = found.iter().map(|s| s.name.clone()).collect();
        let extends_another = |name: &str| {
            let mut cur = reg.stacks.get(name).and_then(|s| s.spec.extends.clone());
            let mut hops = 0;
            while let Some(p) = cur {
                if names.contains(&p) {
                    return true;
                }
                hops += 1;
                cur = if hops > names.len() + reg.stacks.len() { None } else { reg.stacks.get(&p).and_then(|s| s.spec.extends.clone()) };
            }
            false
        };
        let bases: Vec<usize> = (0..found.len()).filter(|&i| !extends_another(&found[i].name)).collect();
        if let [only] = bases.as_slice() {
            return Ok((found.swap_remove(*only), Some(first), 1));
        }
    }
    match found.len() {
        1 => Ok((found.remove(0), Some(first), 1)),
        0 => {
            let services: Vec<String> = reg
                .names()
                .iter()
                .filter_map(|n| reg.resolved(n).ok())
                .flat_map(|st| st.spec.services.keys().cloned().collect::<Vec<_>>())
                .collect();
            let names: Vec<&str> = reg.names().into_iter().chain(services.iter().map(String::as_str)).chain(["docs"]).collect();
            Err(format!("`{first}` is neither a stack nor a service; {}", known_hint(first, "stacks, services and topics", names)))
        }
        _ => Err(format!(
            "service `{first}` is in several stacks ({}); name the stack, e.g. `{}/{first}`",
            found.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(", "),
            found[0].name
        )),
    }
}

/// `bdp explain ADDRESS` (see the module documentation).
pub fn explain(reg: &Registry, path: &str) -> Result<String, String> {
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    if parts[0] == "docs" {
        return docs(parts.get(1).copied());
    }
    let (st, svc, next) = locate(reg, &parts)?;
    let Some(svc) = svc else { return Ok(stack_text(&st)) };
    let def = st
        .spec
        .services
        .get(svc)
        .ok_or_else(|| format!("unknown service `{svc}` in stack `{}`; {}", st.name, known_hint(svc, "services", st.spec.services.keys().map(String::as_str))))?;
    let rest = &parts[next.min(parts.len())..];
    let ex = || example(reg, &st.name);
    match rest {
        [] => {
            let mut s = service_text(&st, svc, def, ex().as_ref());
            if let Some(m) = monitoring_text(reg, &st, svc, def) {
                s.push_str(&m);
            }
            Ok(s)
        }
        ["operations"] => Ok(operations_text(&st, svc, def)),
        ["actions", ..] => actions_text(&st, svc, def, rest.get(1).copied()),
        ["hooks"] => Ok(hooks_text(&st, svc, def)),
        ["operations", op, ..] => def
            .operations
            .get(*op)
            .map(|t| format!("operation {op} of {svc} ({})\n\n{}\n", st.name, t.trim_end()))
            .ok_or_else(|| format!("unknown operation `{op}` of `{svc}`; {}", known_hint(op, "operations", def.operations.keys().map(String::as_str)))),
        [name] if def.roles.contains_key(*name) && !def.files.contains_key(*name) => Ok(role_text(&st, svc, name, &def.roles[*name])),
        [file, key @ ..] => {
            let fd = def.files.get(*file).ok_or_else(|| {
                let names: Vec<&str> = def.files.keys().chain(def.roles.keys()).map(String::as_str).chain(["operations"]).collect();
                format!("`{file}` is neither a file nor a role of `{svc}`; {}", known_hint(file, "files, roles", names))
            })?;
            let ex = ex();
            let entries = example_entries(ex.as_ref(), svc, file);
            if key.is_empty() {
                let mut s = file_text(svc, file, fd, entries);
                for l in st.known_keys(svc, file) {
                    let _ = writeln!(s, "\n{} further keys known from {} (overrides of them are passed through as written)", l.len(), l.source);
                }
                return Ok(s);
            }
            let key = key.join("/");
            if !fd.keys.contains_key(&key)
                && let Some(l) = st.known_keys(svc, file).iter().find(|l| l.lists(&key))
            {
                return Ok(format!(
                    "{key} ({file} of {svc})\n\nnot declared by the stack, so bdp sets no value; it is a key the daemon reads (listed in {}), and an override of it is passed through as written. The service's own documentation describes it.\n{}",
                    l.source,
                    readers_line(fd, &key)
                ));
            }
            let kd = fd
                .keys
                .get(&key)
                .ok_or_else(|| format!("unknown key `{key}` in `{file}`; {}", known_hint(&key, "keys", fd.keys.keys().map(String::as_str))))?;
            let restart = kd.restart.unwrap_or(fd.restart);
            let default = if is_template(&kd.value) {
                let value = entries.and_then(|es| es.iter().find(|e| e.key == key)).map(|e| e.value.as_str());
                match value {
                    Some(v) => format!("computed by bdp: `{v}` {}\n  (from the template `{}`)", example_note(), kd.value),
                    None => format!("computed by bdp from the template `{}`", kd.value),
                }
            } else {
                kd.value.clone()
            };
            let mut s = format!(
                "{key} ({file} of {svc})\n\ndefault: {default}\nrestart on change: {restart}\nset by bdp (not overridable): {}\n",
                kd.owned
            );
            if let Some(cmd) = kd.refresh.as_ref().or(fd.refresh.as_ref()) {
                let _ = writeln!(s, "a change needs no restart; run: {cmd}");
            }
            s.push_str(&readers_line(fd, &key));
            if let Some(w) = &kd.when {
                let _ = writeln!(s, "only when: {w}");
            }
            let _ = writeln!(s, "\n{}", kd.doc.trim());
            Ok(s)
        }
    }
}

fn stack_text(st: &Stack) -> String {
    let mut s = format!("stack {}\n\n{}\n\nservices (`bdp explain {}/SERVICE`):\n", st.name, st.spec.description.trim(), st.name);
    for (n, d) in &st.spec.services {
        let _ = writeln!(s, "  {n}: {}", summary(&d.description));
    }
    s
}

fn operations_text(st: &Stack, svc: &str, def: &ServiceDef) -> String {
    let mut s = format!("operations of {svc} ({}), `bdp explain {}/{svc}/operations/NAME`:\n", st.name, st.name);
    for (op, text) in &def.operations {
        let _ = writeln!(s, "  {op}: {}", summary(text));
    }
    s
}

fn service_text(st: &Stack, svc: &str, def: &ServiceDef, ex: Option<&ResolvedCluster>) -> String {
    let mut s = format!("{svc} {} (image {}:{}, stack {})\n\n{}\n", def.version, def.image.repository, def.image.tag, st.name, def.description.trim());
    if !def.settings.is_empty() {
        s.push_str("\nsettings:\n");
        let computed = ex.and_then(|c| c.services.iter().find(|x| x.name == svc)).map(|x| &x.settings);
        for (k, v) in &def.settings {
            let default = match v.default.as_str().filter(|d| is_template(d)) {
                Some(t) => match computed.and_then(|c| c.get(k)) {
                    Some(val) => format!("computed, e.g. {val} from `{t}`"),
                    None => format!("computed from `{t}`"),
                },
                None => v.default.to_string(),
            };
            let ty = v.ty.map(|t| match (t, v.items) {
                (crate::model::SettingType::Array, Some(i)) => format!("list of {}, ", i.name()),
                (t, _) => format!("{}, ", t.name()),
            });
            let _ = writeln!(s, "  {k} ({}default {default}): {}", ty.unwrap_or_default(), hang(&v.description, "    "));
        }
    }
    if !def.dependencies.is_empty() {
        s.push_str("\ndependencies:\n");
        for (k, v) in &def.dependencies {
            let req = if v.required { "required" } else { "optional" };
            let _ = writeln!(s, "  {k} -> {} ({req}): {}", v.service, hang(&v.description, "    "));
        }
    }
    let _ = writeln!(s, "\nroles (`bdp explain {}/{svc}/ROLE`):", st.name);
    for (r, rd) in &def.roles {
        let _ = writeln!(s, "  {r}: {}", summary(&rd.description));
        for p in &rd.ports {
            let _ = writeln!(s, "    port {} {}: {}", p.name, p.port, hang(&p.description, "      "));
        }
    }
    let _ = writeln!(s, "\nfiles (`bdp explain {}/{svc}/FILE`):", st.name);
    for (f, fd) in &def.files {
        let _ = writeln!(s, "  {f} ({:?}, in {}): {}", fd.format, fd.dir, summary(&fd.description));
    }
    if !def.actions.is_empty() || def.smoke_test.is_some() {
        let _ = writeln!(s, "\nactions: {} (`bdp explain {}/{svc}/actions`)", def.actions.keys().map(String::as_str).collect::<Vec<_>>().join(", "), st.name);
    }
    if !def.hooks.is_empty() {
        let _ = writeln!(s, "\nhooks: {} (`bdp explain {}/{svc}/hooks`)", def.hooks.keys().map(String::as_str).collect::<Vec<_>>().join(", "), st.name);
    }
    if !def.operations.is_empty() {
        let _ = writeln!(s, "\noperations (`bdp explain {}/{svc}/operations/NAME`):", st.name);
        for (op, text) in &def.operations {
            let _ = writeln!(s, "  {op}: {}", summary(text));
        }
    }
    s
}

/// Renders an example Cluster of `stack` with `services` (name → the flow mapping of its spec);
/// None when it does not compile.
fn render_example(reg: &Registry, stack: &str, services: &[(String, String)]) -> Option<Vec<crate::render::Object>> {
    let mut text = format!(
        "apiVersion: {}\nkind: Cluster\nmetadata: {{name: {}, namespace: {}}}\nspec:\n  stack: {stack}\n  services:\n",
        crate::model::API_VERSION,
        EXAMPLE.0,
        EXAMPLE.1
    );
    for (svc, spec) in services {
        let _ = writeln!(text, "    {svc}: {spec}");
    }
    let docs = crate::source::parse_documents(std::path::Path::new("<example>"), &text).ok()?;
    let mut d = Diagnostics::default();
    let typed = crate::validate::validate(docs, &mut d);
    let (plan, _) = crate::plan_typed(&typed, reg, &crate::Options::default(), d).ok()?;
    crate::rendered_clusters(&plan).next()?.ok()
}

/// What the monitoring objects of a service's renders say: metrics endpoints, probes, alerts
/// and dashboards, gathered over example Clusters.
#[derive(Default)]
struct MonitoringInfo {
    /// role, port name, port number, path
    endpoints: std::collections::BTreeSet<(String, String, String, String)>,
    /// probe name, module, targets
    probes: std::collections::BTreeSet<(String, String, String)>,
    /// alert → (severities, for, runbook anchor), in the order of the rules
    alerts: Vec<(String, std::collections::BTreeSet<String>, String, String)>,
    /// dashboard ConfigMap → panels
    dashboards: std::collections::BTreeMap<String, usize>,
}

impl MonitoringInfo {
    /// Gathers what one render holds (the objects of `svc` only).
    fn add(&mut self, objs: &[crate::render::Object], svc: &str) {
        use serde_json::Value;
        let label = |o: &crate::render::Object, k: &str| o.body["metadata"]["labels"][k].as_str().unwrap_or_default().to_string();
        let mine: Vec<&crate::render::Object> = objs.iter().filter(|o| label(o, crate::names::LABEL_SERVICE) == svc).collect();
        // a role's port number by name, from its StatefulSet
        let port_of = |role: &str, name: &str| -> String {
            mine.iter()
                .filter(|o| o.kind == "StatefulSet" && label(o, crate::names::LABEL_ROLE) == role)
                .flat_map(|o| o.body["spec"]["template"]["spec"]["containers"].as_array().cloned().unwrap_or_default())
                .flat_map(|c| c["ports"].as_array().cloned().unwrap_or_default())
                .find(|p| p["name"] == name)
                .map(|p| p["containerPort"].to_string())
                .unwrap_or_else(|| "?".into())
        };
        let text = |v: &Value| v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
        for o in &mine {
            let spec = &o.body["spec"];
            match (o.api_version.as_str(), o.kind.as_str()) {
                ("monitoring.coreos.com/v1", "PodMonitor") => {
                    let role = text(&spec["selector"]["matchLabels"][crate::names::LABEL_ROLE]);
                    for e in spec["podMetricsEndpoints"].as_array().into_iter().flatten() {
                        let port = text(&e["port"]);
                        self.endpoints.insert((role.clone(), port.clone(), port_of(&role, &port), text(&e["path"])));
                    }
                }
                ("monitoring.coreos.com/v1", "Probe") => {
                    let targets: Vec<String> = spec["targets"]["staticConfig"]["static"].as_array().into_iter().flatten().map(text).collect();
                    self.probes.insert((o.name.clone(), text(&spec["module"]), targets.join(" ")));
                }
                ("monitoring.coreos.com/v1", "PrometheusRule") => {
                    for r in spec["groups"].as_array().into_iter().flatten().flat_map(|g| g["rules"].as_array().cloned().unwrap_or_default()) {
                        let Some(name) = r["alert"].as_str() else { continue };
                        let sev = text(&r["labels"]["severity"]);
                        let anchor = r["annotations"]["runbook_url"].as_str().and_then(|u| u.rsplit_once('#')).map(|(_, a)| a.to_string()).unwrap_or_default();
                        match self.alerts.iter_mut().find(|a| a.0 == name) {
                            Some(a) => {
                                a.1.insert(sev);
                            }
                            None => self.alerts.push((name.to_string(), [sev].into(), text(&r["for"]), anchor)),
                        }
                    }
                }
                ("v1", "Service") => {
                    let ann = &o.body["metadata"]["annotations"];
                    if ann["prometheus.io/scrape"] == "true" {
                        let role = text(&spec["selector"][crate::names::LABEL_ROLE]);
                        let port = spec["ports"][0]["targetPort"].as_str().unwrap_or_default().to_string();
                        self.endpoints.insert((role, port, text(&ann["prometheus.io/port"]), text(&ann["prometheus.io/path"])));
                    }
                }
                ("v1", "ConfigMap") if o.body["metadata"]["labels"]["grafana_dashboard"] == "1" => {
                    let panels = o.body["data"].as_object().into_iter().flatten().filter_map(|(_, v)| serde_json::from_str::<Value>(v.as_str()?).ok()).map(|d| d["panels"].as_array().map_or(0, Vec::len)).sum();
                    self.dashboards.insert(o.name.clone(), panels);
                }
                _ => {}
            }
        }
    }
}

/// The monitoring section of a service: what its `monitoring` setting renders (metrics
/// endpoints, probes, alerts, dashboards), from example Clusters with `monitoring:
/// prometheus-operator` (every service of the stack when they compile together, else without
/// one of the others, else the service alone), the service's roles at their defaults and at 3
/// replicas (within their bounds): alerts that only exist for several pods show up too.
fn monitoring_text(reg: &Registry, st: &Stack, svc: &str, def: &ServiceDef) -> Option<String> {
    let setting = crate::MONITORING_SETTING;
    if !def.settings.contains_key(setting) {
        return None;
    }
    let others: Vec<&String> = st.spec.services.keys().filter(|s| *s != svc).collect();
    let mut sets: Vec<Vec<&String>> = vec![others.clone()];
    for skip in &others {
        sets.push(others.iter().filter(|s| s != &skip).copied().collect());
    }
    sets.push(vec![]);
    let scaled: Vec<String> = def
        .roles
        .iter()
        .map(|(r, rd)| {
            let c = &rd.replicas;
            let n = 3u32.clamp(c.min, c.max.max(c.min));
            format!("{r}: {{replicas: {}}}", if c.odd && n % 2 == 0 { n - 1 } else { n })
        })
        .collect();
    let variants = [format!("{{{setting}: prometheus-operator}}"), format!("{{{setting}: prometheus-operator, roles: {{{}}}}}", scaled.join(", "))];
    let mut info = MonitoringInfo::default();
    let mut rendered = 0;
    for v in &variants {
        for set in &sets {
            let mut services: Vec<(String, String)> = set.iter().map(|s| (s.to_string(), "{}".to_string())).collect();
            services.push((svc.to_string(), v.clone()));
            if let Some(objs) = render_example(reg, &st.name, &services) {
                info.add(&objs, svc);
                rendered += 1;
                break;
            }
        }
    }
    let mut s = format!("\nmonitoring (setting `{setting}`; ");
    if rendered == 0 {
        s.push_str("no example Cluster with `prometheus-operator` compiles)\n");
        return Some(s);
    }
    let _ = writeln!(s, "with `prometheus-operator`, for an example Cluster `{}` in namespace `{}` with the roles at their defaults and at 3 pods):", EXAMPLE.0, EXAMPLE.1);
    if info.endpoints.is_empty() && info.probes.is_empty() && info.alerts.is_empty() && info.dashboards.is_empty() {
        s.push_str("  nothing rendered\n");
        return Some(s);
    }
    if !info.endpoints.is_empty() {
        s.push_str("  metrics endpoints:\n");
        for (role, port, num, path) in &info.endpoints {
            let _ = writeln!(s, "    {role}: port {port} ({num}), path {path}");
        }
    }
    if !info.probes.is_empty() {
        s.push_str("  probes (the service has no metrics endpoint of its own):\n");
        for (name, module, targets) in &info.probes {
            let _ = writeln!(s, "    {name}: module {module}, targets {targets}");
        }
    }
    if !info.alerts.is_empty() {
        s.push_str("  alerts (severity, for, runbook section of docs/runbooks.md):\n");
        let w = info.alerts.iter().map(|a| a.0.len()).max().unwrap_or(0);
        for (name, sev, f, anchor) in &info.alerts {
            let sev = sev.iter().cloned().collect::<Vec<_>>().join("|");
            let _ = writeln!(s, "    {name:w$}  {sev}, for {f}, #{anchor}");
        }
    }
    for (cm, panels) in &info.dashboards {
        let _ = writeln!(s, "  dashboard: ConfigMap {cm} ({panels} panels, label grafana_dashboard)");
    }
    Some(s)
}

/// `SERVICE/actions[/NAME]`: the management actions (`bdp action`) with their arguments, and the
/// smoke test.
fn actions_text(st: &Stack, svc: &str, def: &ServiceDef, one: Option<&str>) -> Result<String, String> {
    let mut s = String::new();
    let pick: Vec<(&String, &crate::model::ActionDef)> = match one {
        None => def.actions.iter().collect(),
        Some(n) => vec![def.actions.get_key_value(n).ok_or_else(|| format!("unknown action `{n}` of `{svc}`; {}", known_hint(n, "actions", def.actions.keys().map(String::as_str))))?],
    };
    if one.is_none() {
        let _ = writeln!(s, "actions of {svc} ({}), each rendered as a Job by `bdp action CLUSTER.yaml {svc} ACTION [--arg NAME=VALUE]…`:", st.name);
    }
    for (name, a) in pick {
        let repeat = if a.idempotent { "safe to repeat" } else { "not idempotent: runs once" };
        let when = a.when.as_ref().map(|w| format!(", only when {w}")).unwrap_or_default();
        let _ = writeln!(s, "\n  {name} (role {}, {repeat}{when})\n{}", a.role, block(&a.description, "    "));
        for (an, ad) in &a.arguments {
            let default = ad.default.as_ref().map(|d| format!(", default {d}")).unwrap_or_else(|| ", required".into());
            let _ = writeln!(s, "    --arg {an}=…  {}{default}: {}", ad.allowed(), summary(&ad.description));
        }
    }
    if let (None, Some(t)) = (one, &def.smoke_test) {
        let when = t.when.as_ref().map(|w| format!(", only when {w}")).unwrap_or_default();
        let _ = writeln!(s, "\nsmoke test (a Job after every sync: ArgoCD PostSync hook, Flux's last Kustomization; role {}{when})\n{}", t.role, block(&t.description, "  "));
    }
    Ok(s)
}

/// `SERVICE/hooks`: the post-start hooks, their triggers, and which need the controller.
fn hooks_text(st: &Stack, svc: &str, def: &ServiceDef) -> String {
    use crate::model::HookTrigger;
    let mut s = format!("hooks of {svc} ({}), compiled into the Cluster's <cluster>-bdp-hooks ConfigMap for bdp-controller (docs/controller.md):\n", st.name);
    if def.hooks.is_empty() {
        s.push_str("  (none)\n");
    }
    for (name, h) in &def.hooks {
        let Some(t) = h.trigger.get() else { continue };
        let when_fires = match &t {
            HookTrigger::RolesReady(rs) => format!("the first time every pod of {} is ready", rs.join(", ")),
            HookTrigger::FileChanged(f) => format!("when file {f} changes"),
            HookTrigger::PodRecreated(r) => format!("when a pod of {r} is re-created"),
            HookTrigger::ReplicasChanged(r) => format!("when the replicas of {r} change"),
        };
        let how = match &h.exec {
            Some(e) => format!("exec in container {} of a ready {} pod", e.container, h.role),
            None => format!("a Job with role {}'s configuration", h.role),
        };
        let without = if matches!(t, HookTrigger::RolesReady(_)) && h.exec.is_none() && h.idempotent {
            "without the controller: a post-sync Job after every sync (ArgoCD PostSync hook, Flux's last Kustomization)"
        } else {
            "needs the controller (not run without it)"
        };
        let repeat = if h.idempotent { "safe to repeat" } else { "not idempotent" };
        let when = h.when.as_ref().map(|w| format!(", only when {w}")).unwrap_or_default();
        let _ = writeln!(
            s,
            "\n  {name}: {when_fires}; {how}; {repeat}, {} retries, timeout {} s{}{when}\n    {without}\n{}",
            h.retries.unwrap_or(0),
            h.timeout_seconds.unwrap_or(600),
            h.delay_seconds.filter(|d| *d > 0).map(|d| format!(", {d} s after the trigger")).unwrap_or_default(),
            block(&h.description, "    ")
        );
    }
    s
}

fn role_text(st: &Stack, svc: &str, name: &str, rd: &RoleDef) -> String {
    let c = &rd.replicas;
    let mut s = format!("role {name} of {svc} ({})\n\n{}\n\n", st.name, rd.description.trim());
    let _ = write!(s, "replicas: default {}, {}..{}", c.default, c.min, c.max);
    if c.odd {
        s.push_str(", odd");
    }
    s.push('\n');
    if let Some(e) = &rd.enabled {
        let _ = writeln!(s, "exists only when: {e}");
    }
    if !rd.after.is_empty() {
        let _ = writeln!(s, "starts after: {}", rd.after.join(", "));
    }
    if let Some(p) = &rd.pod_management_policy {
        let _ = writeln!(s, "podManagementPolicy: {p}");
    }
    if !rd.ports.is_empty() {
        s.push_str("\nports:\n");
        for p in &rd.ports {
            let when = p.when.as_ref().map(|w| format!(" (only when {w})")).unwrap_or_default();
            let _ = writeln!(s, "  {} {}{when}: {}", p.name, p.port, hang(&p.description, "    "));
        }
    }
    if !rd.storage.is_empty() {
        s.push_str("\nstorage (PVCs):\n");
        for (v, sd) in &rd.storage {
            let _ = writeln!(s, "  {v}: {} at {}: {}", sd.size, sd.mount_path, hang(&sd.description, "    "));
        }
    }
    if !rd.files.is_empty() {
        let _ = writeln!(s, "\nfiles: {} (`bdp explain {}/{svc}/FILE`)", rd.files.join(", "), st.name);
    }
    if let Some(t) = &rd.scale_down {
        let _ = writeln!(s, "\nbefore lowering the replicas:\n{}", block(t, "  "));
    }
    s
}

/// Which roles a change of the key restarts, when the file's `readBy` narrows it.
fn readers_line(fd: &crate::model::FileDef, key: &str) -> String {
    match fd.readers(key) {
        Some(roles) => format!("read by (a change restarts only): {}\n", roles.join(", ")),
        None => String::new(),
    }
}

fn file_text(svc: &str, file: &str, fd: &crate::model::FileDef, entries: Option<&Vec<crate::resolve::Entry>>) -> String {
    let restart = match &fd.refresh {
        Some(cmd) => format!("a change does not restart the pods; run: {cmd}"),
        None if fd.restart => "a change restarts the pods".to_string(),
        None => "a change does not restart the pods".to_string(),
    };
    let mut s = format!("{file} of {svc} ({:?}, mounted in {}; {restart})\n\n{}\n", fd.format, fd.dir, fd.description.trim());
    if fd.keys.is_empty() && fd.generate.is_empty() {
        return s;
    }
    s.push_str("\nkeys:\n");
    let value_of = |k: &str| entries.and_then(|es| es.iter().find(|e| e.key == k)).map(|e| e.value.as_str());
    let mut computed = false;
    for (k, kd) in &fd.keys {
        let owned = if kd.owned { " [set by bdp]" } else { "" };
        let v = if is_template(&kd.value) {
            computed = true;
            match value_of(k) {
                Some(v) => format!("{v} [computed]"),
                None => "[computed]".to_string(),
            }
        } else {
            kd.value.clone()
        };
        let _ = writeln!(s, "  {k} = {v}{owned}\n      {}", hang(&kd.doc, "      "));
    }
    for g in &fd.generate {
        computed = true;
        let what = match &g.target {
            crate::model::GenerateTarget::Keys { keys } => format!("one key per item of {keys}"),
            crate::model::GenerateTarget::Key { .. } => format!("one key per item of {}", g.foreach),
        };
        let _ = writeln!(s, "  <{what}> [computed, set by bdp]\n      {}", hang(&g.doc, "      "));
    }
    if computed && let Some(es) = entries {
        let generated: Vec<&crate::resolve::Entry> = es.iter().filter(|e| !fd.keys.contains_key(&e.key)).collect();
        if !generated.is_empty() {
            let _ = writeln!(s, "\ncomputed keys {}:", example_note());
            for e in generated.iter().take(12) {
                let _ = writeln!(s, "  {} = {}", e.key, e.value);
            }
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hanging_indent_and_summaries() {
        assert_eq!(hang("first line\n  second\n  third", "    "), "first line\n    second\n    third");
        assert_eq!(summary("The probes use\nsrvr and ruok.\n\nMore."), "The probes use srvr and ruok.");
        assert_eq!(summary("One. Two."), "One.");
        assert_eq!(summary("1. The PVCs are made.\n2. Then"), "1. The PVCs are made.");
        assert_eq!(summary("Removing nodes:\n1. a"), "Removing nodes:");
    }

    #[test]
    fn docs_are_embedded() {
        assert!(!doc_topics().is_empty());
    }
}
