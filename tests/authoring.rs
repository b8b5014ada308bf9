//! The stack language (src/lower.rs) and the worked example of docs/stack-authoring.md: the
//! example stack in tests/fixtures/authoring renders, the doc quotes it verbatim (so the doc
//! cannot drift from what is tested), and every shorthand's mistakes are reported at their
//! place in the stack document.

mod common;
use common::*;
use std::path::PathBuf;

fn fixture() -> PathBuf {
    root().join("tests/fixtures/authoring")
}

fn site_env<'a>(objs: &'a [bdp::render::Object], role: &str) -> &'a str {
    data(find(objs, "ConfigMap", &format!("demo-greeter-{role}")), "site.env")
}

#[test]
fn the_worked_example_renders() {
    let objs = compile(&fixture()).unwrap_or_else(|d| panic!("{}", d.iter().map(|x| x.to_string()).collect::<Vec<_>>().join("\n")));
    // per-role keys: each role gets its own PAGE; the block's key exists with 3 web pods
    let web = site_env(&objs, "web");
    assert!(web.contains("export PAGE='index.html'") && web.contains("export POOL_SIZE='3'") && web.contains("export PORT='8080'"), "{web}");
    assert!(web.contains("export VERBOSE='true'"), "a boolean value is written as its text: {web}");
    let status = site_env(&objs, "status");
    assert!(status.contains("export PAGE='status.html'") && status.contains("export PORT='8081'"), "{status}");
    // the script file is the command, without its #! line; role defaults gave files, scratch, resources
    let sts = find(&objs, "StatefulSet", "demo-greeter-web");
    let c = &sts.body["spec"]["template"]["spec"]["containers"][0];
    let script = std::fs::read_to_string(fixture().join("scripts/serve.sh")).unwrap();
    let body = script.split_once('\n').unwrap().1;
    assert_eq!(c["command"], serde_json::json!(["sh", "-ec", body]));
    assert_eq!(c["resources"]["limits"]["memory"], "32Mi");
    let vols = sts.body["spec"]["template"]["spec"]["volumes"].to_string();
    assert!(vols.contains("scratch") || vols.contains("emptyDir"), "{vols}");
}

#[test]
fn a_key_only_one_role_reads_stays_out_of_the_others_checksums() {
    let render = |page: &str, read_by: bool| {
        let dir = std::env::temp_dir().join(format!("bdp-authoring-readby-{page}-{read_by}-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("scripts")).unwrap();
        std::fs::copy(fixture().join("scripts/serve.sh"), dir.join("scripts/serve.sh")).unwrap();
        let mut stack = std::fs::read_to_string(fixture().join("stack.yaml")).unwrap();
        if read_by {
            stack = stack.replace("          description: What the start script reads.\n", "          description: What the start script reads.\n          readBy:\n            VERBOSE: [web]\n");
        }
        std::fs::write(dir.join("stack.yaml"), stack).unwrap();
        let cluster = std::fs::read_to_string(fixture().join("cluster.yaml")).unwrap();
        let cluster = cluster.replace("    greeter:\n", &format!("    greeter:\n      configOverrides:\n        site.env:\n          VERBOSE: \"{page}\"\n"));
        std::fs::write(dir.join("cluster.yaml"), cluster).unwrap();
        let objs = compile(&dir).unwrap_or_else(|d| panic!("{}", d.iter().map(|x| x.to_string()).collect::<Vec<_>>().join("\n")));
        std::fs::remove_dir_all(&dir).unwrap();
        let ck = |role: &str| find(&objs, "StatefulSet", &format!("demo-greeter-{role}")).body["spec"]["template"]["metadata"]["annotations"]["kubebdp.github.io/config-checksum"].clone();
        assert!(site_env(&objs, "status").contains(&format!("VERBOSE='{page}'")), "the file stays the same in every role");
        (ck("web"), ck("status"))
    };
    let (web_a, status_a) = render("true", true);
    let (web_b, status_b) = render("false", true);
    assert_ne!(web_a, web_b, "the reader restarts");
    assert_eq!(status_a, status_b, "the other role does not");
    // without the declaration, both restart (the default)
    let (_, status_a) = render("true", false);
    let (_, status_b) = render("false", false);
    assert_ne!(status_a, status_b);
}

#[test]
fn a_block_key_follows_its_condition() {
    let dir = std::env::temp_dir().join(format!("bdp-authoring-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("scripts")).unwrap();
    for f in ["stack.yaml", "scripts/serve.sh"] {
        std::fs::copy(fixture().join(f), dir.join(f)).unwrap();
    }
    let cluster = std::fs::read_to_string(fixture().join("cluster.yaml")).unwrap().replace("web: {replicas: 3}", "web: {replicas: 1}");
    std::fs::write(dir.join("cluster.yaml"), cluster).unwrap();
    let objs = compile(&dir).unwrap();
    assert!(!site_env(&objs, "web").contains("POOL_SIZE"), "{}", site_env(&objs, "web"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_guide_quotes_the_example_verbatim() {
    let doc = std::fs::read_to_string(root().join("docs/stack-authoring.md")).unwrap();
    for f in ["stack.yaml", "scripts/serve.sh", "cluster.yaml"] {
        let text = std::fs::read_to_string(fixture().join(f)).unwrap();
        assert!(doc.contains(&text), "docs/stack-authoring.md does not quote tests/fixtures/authoring/{f} as it is");
    }
}

/// Compiles the example stack with `edit` applied to its text; returns the error messages.
fn broken(name: &str, edit: impl Fn(&str) -> String) -> Vec<String> {
    let dir = std::env::temp_dir().join(format!("bdp-authoring-{name}-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("scripts")).unwrap();
    std::fs::copy(fixture().join("scripts/serve.sh"), dir.join("scripts/serve.sh")).unwrap();
    std::fs::copy(fixture().join("cluster.yaml"), dir.join("cluster.yaml")).unwrap();
    let stack = std::fs::read_to_string(fixture().join("stack.yaml")).unwrap();
    let edited = edit(&stack);
    assert_ne!(edited, stack, "{name}: the edit changed nothing");
    std::fs::write(dir.join("stack.yaml"), edited).unwrap();
    let out = compile(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    match out {
        Ok(_) => panic!("{name}: expected errors"),
        Err(d) => d.iter().filter(|x| x.severity == bdp::diag::Severity::Error).map(|x| x.to_string()).collect(),
    }
}

fn has(errs: &[String], parts: &[&str]) {
    assert!(errs.iter().any(|e| parts.iter().all(|p| e.contains(p))), "no error with {parts:?} in {errs:#?}");
}

#[test]
fn shorthand_mistakes_are_reported_at_their_place() {
    // a key declared in `keys` and again in a block
    let e = broken("twice", |s| s.replace("                POOL_SIZE:", "                PORT:"));
    has(&e, &["stack.yaml:", "files.site.env.blocks.0.keys.PORT", "key `PORT` of `site.env` is declared twice"]);
    // a condition named like a template variable
    let e = broken("reserved", |s| s.replace("        pool: ", "        role: \"true\"\n        pool: "));
    has(&e, &["conditions.role", "would hide the template variable"]);
    // conditions that refer to each other
    let e = broken("cycle", |s| s.replace("pool: \"roles.web.replicas > 1\"", "pool: \"big\"\n        big: \"pool\""));
    has(&e, &["conditions.big", "cycle"]);
    // a script that is not there, and one next to a command
    let e = broken("noscript", |s| s.replacen("scripts/serve.sh", "scripts/missing.sh", 1));
    let stack = std::fs::read_to_string(fixture().join("stack.yaml")).unwrap();
    let line = stack.lines().position(|l| l.contains("scripts/serve.sh")).unwrap() + 1;
    has(&e, &[&format!("stack.yaml:{line}:"), "roles.web.containers.0.script.file", "scripts/missing.sh: No such file"]);
    let e = broken("escape", |s| s.replacen("scripts/serve.sh", "../serve.sh", 1));
    has(&e, &["script `../serve.sh` must be a relative path"]);
    let e = broken("both", |s| s.replacen("              script:", "              command: [httpd]\n              script:", 1));
    has(&e, &["roles.web.containers.0.script", "both `command` and `script`"]);
    // role keys of a file the service lacks, or the role does not mount
    let e = broken("nofile", |s| s.replacen("            site.env:\n              PAGE:", "            other.env:\n              PAGE:", 1));
    has(&e, &["roles.web.keys.other.env", "not a file of the service"]);
    let e = broken("unmounted", |s| s.replace("        files: [site.env]\n", ""));
    has(&e, &["roles.status.keys.site.env", "role `status` declares keys of `site.env` but does not mount it"]);
    // roles giving one key different docs
    let e = broken("docs", |s| s.replacen("doc: The file the greeting is written to.", "doc: Another text.", 1));
    has(&e, &["key `PAGE` of `site.env` is declared by roles", "different `doc`"]);
    // conditions expanded past the bound (an expression using a 40 KB condition twice)
    let big = format!("roles.web.replicas > 1{}", " or roles.web.replicas > 1".repeat(1600));
    let e = broken("big", |s| s.replace("pool: \"roles.web.replicas > 1\"", &format!("pool: \"{big}\"")).replace("- when: pool", "- when: pool and pool"));
    has(&e, &["spec.services.greeter.conditions", "grows past 65536 bytes"]);
    // a generate entry names exactly one of `key` (not empty) and `keys` (a typed choice)
    let generate = |target: &str| format!("          generate:\n            - {{foreach: \"[1]\", as: i, {target}value: x}}\n      roleDefaults:");
    for (name, target) in [("both", "key: \"K{{ i }}\", keys: \"['a']\", "), ("neither", ""), ("empty", "key: \"\", ")] {
        let e = broken(&format!("generate-{name}"), |s| s.replace("      roleDefaults:", &generate(target)));
        has(&e, &["files.site.env.generate.0"]);
    }
    // `readBy`: roles of the service that mount the file, key patterns with one trailing `*`
    fn read_by(body: &'static str) -> impl Fn(&str) -> String {
        move |s| s.replace("          description: What the start script reads.\n", &format!("          description: What the start script reads.\n          readBy:\n{body}"))
    }
    let e = broken("readby-role", read_by("            PAGE: [web, wbe]\n"));
    has(&e, &["stack.yaml:", "files.site.env.readBy.PAGE", "`readBy` names unknown role `wbe` (roles: status, web)"]);
    let e = broken("readby-pattern", read_by("            \"P*GE\": [web]\n            GREETING: []\n"));
    has(&e, &["files.site.env.readBy.P*GE", "not a key pattern"]);
    has(&e, &["files.site.env.readBy.GREETING", "names no role"]);
    // an expression naming an undefined condition is the template's error, at render time
    let e = broken("unknown", |s| s.replace("- when: pool", "- when: pools"));
    has(&e, &["pools"]);
}

#[test]
fn the_lowered_hdfs_stack_has_no_shorthands_left() {
    let mut d = bdp::diag::Diagnostics::default();
    let reg = bdp::stacks::Registry::build(None, &mut d);
    assert!(!d.has_errors(), "{:#?}", d.items);
    let st = reg.resolved("hadoop-3.3").unwrap();
    let hdfs = &st.spec.services["hdfs"];
    assert!(hdfs.conditions.is_empty() && hdfs.role_defaults.is_none());
    assert!(hdfs.files.values().all(|f| f.blocks.is_empty()));
    assert!(hdfs.roles.values().all(|r| r.keys.is_empty() && r.init_containers.iter().chain(&r.containers).all(|c| c.script.is_none())));
    // a namenode-only key is guarded by the role, a secure one by the condition's expression
    let site = &hdfs.files["hdfs-site.xml"].keys;
    assert_eq!(site["dfs.namenode.name.dir"].when.as_deref(), Some("role.name == 'namenode'"));
    assert_eq!(site["dfs.ha.zkfc.port"].when.as_deref(), Some("role.name == 'namenode' and (roles.namenode.replicas > 1)"));
    assert_eq!(site["dfs.http.policy"].when.as_deref(), Some("(deps.kerberos is defined)"));
    assert_eq!(site["dfs.replication"].value, "3", "a number is written as its text");
}

#[test]
fn the_guide_ships_with_the_binary() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_bdp")).args(["explain", "docs/stack-authoring"]).output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("## The stack language"));
}

/// The example stack with a `varFiles` entry and a manifest writing it into a ConfigMap, plus
/// `files` (path, bytes) next to it; the compile result.
fn with_var_file(name: &str, var_files: &str, files: &[(&str, &[u8])]) -> Result<Vec<bdp::render::Object>, Vec<String>> {
    let dir = std::env::temp_dir().join(format!("bdp-authoring-var-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("scripts")).unwrap();
    for f in ["scripts/serve.sh", "cluster.yaml"] {
        std::fs::copy(fixture().join(f), dir.join(f)).unwrap();
    }
    for (p, bytes) in files {
        std::fs::create_dir_all(dir.join(p).parent().unwrap()).unwrap();
        std::fs::write(dir.join(p), bytes).unwrap();
    }
    let manifest = "      varFiles: VARFILES\n      manifests:\n        - |\n          apiVersion: v1\n          kind: ConfigMap\n          metadata: {name: \"{{ cluster.name }}-page\"}\n          data:\n            page.json: {{ dict(vars.page | fromjson, uid=cluster.name) | tojson(indent=2) | tojson }}\n      roleDefaults:";
    let stack = std::fs::read_to_string(fixture().join("stack.yaml")).unwrap().replace("      roleDefaults:", &manifest.replace("VARFILES", var_files));
    std::fs::write(dir.join("stack.yaml"), stack).unwrap();
    #[cfg(unix)]
    std::os::unix::fs::symlink(dir.join("page.json"), dir.join("link.json")).unwrap();
    let out = compile(&dir);
    std::fs::remove_dir_all(&dir).unwrap();
    out.map_err(|d| d.iter().filter(|x| x.severity == bdp::diag::Severity::Error).map(|x| x.to_string()).collect())
}

#[test]
fn a_json_var_file_reaches_a_configmap() {
    let page = br#"{"title": "Greeter", "panels": [{"expr": "up{job=\"x\"}", "legendFormat": "{{pod}}"}], "uid": ""}"#;
    let objs = with_var_file("ok", "{page: dashboards/page.json}", &[("dashboards/page.json", page)]).unwrap_or_else(|e| panic!("{e:#?}"));
    let text = data(find(&objs, "ConfigMap", "demo-page"), "page.json");
    // the file's JSON value, a key replaced by the template, written indented with sorted keys
    let v: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(v, serde_json::json!({"title": "Greeter", "panels": [{"expr": "up{job=\"x\"}", "legendFormat": "{{pod}}"}], "uid": "demo"}));
    assert!(text.starts_with("{\n  \"panels\": ["), "{text}");
}

#[test]
fn var_file_mistakes_are_reported_at_their_place() {
    let page: &[u8] = b"{\"a\": 1}";
    let e = with_var_file("missing", "{page: page.json}", &[]).unwrap_err();
    has(&e, &["stack.yaml:", "spec.services.greeter.varFiles.page", "page.json: No such file"]);
    let e = with_var_file("escape", "{page: ../page.json}", &[]).unwrap_err();
    has(&e, &["varFiles.page", "varFiles `../page.json` must be a relative path"]);
    let e = with_var_file("absolute", "{page: /etc/hostname}", &[]).unwrap_err();
    has(&e, &["varFiles.page", "must be a relative path"]);
    let e = with_var_file("invalid", "{page: page.json}", &[("page.json", b"{\"a\": 1,}")]).unwrap_err();
    has(&e, &["varFiles.page", "`page.json` is not valid JSON", "line 1"]);
    let e = with_var_file("link", "{page: link.json}", &[("page.json", page)]).unwrap_err();
    has(&e, &["varFiles.page", "not a regular file (a symbolic link is not followed)"]);
    let big = vec![b' '; bdp::limits::MAX_VAR_FILE_BYTES as usize + 1];
    let e = with_var_file("big", "{page: page.json}", &[("page.json", &big)]).unwrap_err();
    has(&e, &["varFiles.page", &format!("larger than {} bytes", bdp::limits::MAX_VAR_FILE_BYTES)]);
    let e = with_var_file("twice", "{page: page.json}\n      vars: {page: {a: 2}}", &[("page.json", page)]).unwrap_err();
    has(&e, &["varFiles.page", "declared in both `vars` and `varFiles`"]);
    // a file that is not .json is its text, unchecked: here `fromjson` refuses it when rendering
    let e = with_var_file("text", "{page: page.txt}", &[("page.txt", b"plain")]).unwrap_err();
    has(&e, &["manifests.0", "fromjson: not JSON"]);
}
