//! Unit tests of resolve on small inputs: a stack of its own (so the tests do not depend on
//! the shipped stacks) and Clusters that exercise one decision each.

use super::*;
use crate::diag::Severity;

const STACK: &str = "apiVersion: manager.kubebdp.github.io/v1
kind: StackDefinition
metadata: {name: mini}
spec:
  services:
    app:
      version: '1'
      image: {repository: busybox, tag: '1'}
      runAs: {user: 1000, group: 1000}
      settings:
        level: {type: string, default: info}
      discovery:
        APP: \"{{ roles.main.pods[0].fqdn }}:80\"
      files:
        app.conf:
          format: properties
          dir: /etc/app
          keys:
            log.level: {value: '{{ settings.level }}'}
            role.name: {value: '{{ role.name }}'}
            only.main: {value: x, when: \"role.name == 'main'\"}
            broken: {value: x, when: 'role.nope.deeper'}
      roles:
        main:
          replicas: {default: 1, max: 5}
          files: [app.conf]
          containers: [{name: main, command: [sleep, infinity]}]
        side:
          replicas: {default: 2}
          after: [main]
          files: [app.conf]
          containers: [{name: side, command: [sleep, infinity]}]
";

/// Resolves `text` (StackDefinitions and Clusters, as one file `t.yaml`) against only the
/// stacks it holds; for the unit tests of resolve and plan.
pub(crate) fn resolve_yaml(text: &str) -> (Vec<ResolvedCluster>, Diagnostics) {
    let mut diags = Diagnostics::default();
    let docs = crate::source::parse_documents(std::path::Path::new("t.yaml"), text).expect("YAML");
    let inputs = crate::validate::validate(docs, &mut diags);
    let mut reg = Registry::default();
    reg.add_source(inputs.stacks.clone(), "inputs", &mut diags);
    let out = resolve(&inputs.clusters, &reg, &mut diags);
    (out, diags)
}

fn resolve_text(cluster: &str) -> (Vec<ResolvedCluster>, Diagnostics) {
    resolve_yaml(&format!("{STACK}---\n{cluster}"))
}

const CLUSTER: &str = "apiVersion: manager.kubebdp.github.io/v1
kind: Cluster
metadata: {name: c, namespace: ns}
spec:
  stack: mini
  services:
    app:
      level: debug
      configOverrides:
        app.conf: {extra.key: service}
      roles:
        main:
          replicas: 3
          configOverrides:
            app.conf: {extra.key: role}
";

fn entries(f: &ConfigFile) -> BTreeMap<&str, &str> {
    f.entries.iter().map(|e| (e.key.as_str(), e.value.as_str())).collect()
}

#[test]
fn pods_names_and_discovery_come_from_names_rs() {
    let (out, _) = resolve_text(CLUSTER);
    let s = &out[0].services[0];
    let main = s.roles.iter().find(|r| r.name == "main").unwrap();
    assert_eq!(main.fullname, "c-app-main");
    assert_eq!(main.replicas, 3);
    assert_eq!(main.pods[2].fqdn, "c-app-main-2.c-app-main.ns.svc.cluster.local");
    assert_eq!(s.discovery["APP"], "c-app-main-0.c-app-main.ns.svc.cluster.local:80");
}

#[test]
fn settings_then_service_then_role_overrides() {
    let (out, _) = resolve_text(CLUSTER);
    let roles = &out[0].services[0].roles;
    let main = entries(&roles.iter().find(|r| r.name == "main").unwrap().files[0]);
    let side = entries(&roles.iter().find(|r| r.name == "side").unwrap().files[0]);
    assert_eq!(main["log.level"], "debug", "the Cluster's setting replaces the default");
    assert_eq!(main["extra.key"], "role", "a role override beats the service's");
    assert_eq!(side["extra.key"], "service");
    assert_eq!(main["role.name"], "main");
    assert_eq!(main.get("only.main"), Some(&"x"));
    assert_eq!(side.get("only.main"), None, "`when` leaves the key out of other roles");
}

#[test]
fn a_broken_when_is_one_stack_error_and_leaves_the_key_out() {
    let (out, diags) = resolve_text(CLUSTER);
    let main = entries(&out[0].services[0].roles[0].files[0]);
    assert_eq!(main.get("broken"), None);
    let errs: Vec<&Diagnostic> = diags.items.iter().filter(|d| d.severity == Severity::Error).collect();
    assert!(!errs.is_empty() && errs.iter().all(|d| d.code == Code::StackDefect && d.path.ends_with("keys.broken.when")), "{errs:#?}");
}

#[test]
fn replicas_above_the_maximum_are_refused_at_the_users_field() {
    let cluster = CLUSTER.replace("replicas: 3", "replicas: 6");
    let (_, diags) = resolve_text(&cluster);
    let d = diags.items.iter().find(|d| d.code == Code::ReplicasOutOfRange).expect("an error");
    assert_eq!(d.path, "spec.services.app.roles.main.replicas");
    let line = STACK.lines().count() + 1 + cluster.lines().position(|l| l.contains("replicas: 6")).unwrap() + 1;
    assert_eq!(d.span.as_ref().map(|s| s.line), Some(line));
}

#[test]
fn a_setting_of_the_wrong_type_keeps_the_default() {
    let (out, diags) = resolve_text(&CLUSTER.replace("level: debug", "level: [not, a, string]"));
    assert!(diags.items.iter().any(|d| d.code == Code::InvalidSetting), "{:#?}", diags.items);
    let main = entries(&out[0].services[0].roles[0].files[0]);
    assert_eq!(main["log.level"], "info");
}

#[test]
fn a_drain_rule_must_name_list_settings_of_its_service() {
    let stack = STACK
        .replace("          replicas: {default: 2}\n", "          replicas: {default: 2}\n          scale: {down: {drain: {requested: level, done: gone}}, up: {drain: {requested: level, done: level}}}\n")
        .replace("broken: {value: x, when: 'role.nope.deeper'}", "broken: {value: x}");
    let cluster = "apiVersion: manager.kubebdp.github.io/v1\nkind: Cluster\nmetadata: {name: c, namespace: ns}\nspec:\n  stack: mini\n  services:\n    app:\n";
    let (_, diags) = resolve_yaml(&format!("{stack}---\n{cluster}"));
    let errs: Vec<(&str, &str)> = diags.items.iter().filter(|d| d.severity == Severity::Error).map(|d| (d.path.as_str(), d.message.as_str())).collect();
    assert_eq!(
        errs,
        [
            ("spec.services.app.roles.side.scale.up.drain", "stack `mini`: `drain` applies to `down` only: new pods have nothing to drain"),
            ("spec.services.app.roles.side.scale.down.drain.requested", "stack `mini`: `level` is not a setting of `app` whose value is a list of pods"),
            ("spec.services.app.roles.side.scale.down.drain.done", "stack `mini`: `gone` is not a setting of `app` whose value is a list of pods"),
        ],
        "{diags:#?}"
    );
}
