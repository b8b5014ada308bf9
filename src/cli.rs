//! The command line (clap): `render`, `diff`, `graph`, `validate`, `stacks`, `explain`, `completions`.
//!
//! Exit codes: 0 success; 1 invalid input (diagnostics on stderr, nothing on stdout);
//! 2 usage or internal error.

use crate::diag::{known_hint, Diagnostics};
use crate::{emit, Options};
use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(name = "bdp", version, about = "Compile big-data clusters (ZooKeeper, HDFS, Kerberos, …) into Kubernetes manifests for GitOps")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Stage {
    /// The resolved clusters: services, roles, pods, config values, dependencies.
    Resolve,
    /// The plan: resolved clusters plus waves and start-order edges.
    Plan,
}

#[derive(clap::Args, Debug, Clone)]
pub struct CommonArgs {
    /// Extra directory of StackDefinitions (replaces embedded stacks of the same name).
    #[arg(long, value_name = "DIR")]
    pub stacks: Option<PathBuf>,
    /// Treat warnings (e.g. unknown config keys) as errors.
    #[arg(long)]
    pub strict: bool,
}

/// Flux delivery options of `render -o DIR` (see src/flux.rs for the layout).
#[derive(clap::Args, Debug, Clone)]
pub struct FluxArgs {
    /// Also write one Flux Kustomization per wave into DIR/_flux (needs -o).
    #[arg(long, requires = "output")]
    pub flux: bool,
    /// The Flux source of the Kustomizations, KIND/NAME [default: GitRepository/flux-system].
    #[arg(long, value_name = "KIND/NAME", requires = "flux")]
    pub flux_source: Option<String>,
    /// Path of DIR inside the repository [default: DIR as given, e.g. ./deploy/prod].
    #[arg(long, value_name = "PATH", requires = "flux")]
    pub flux_path: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Render Clusters into Kubernetes objects (a YAML stream, or files with -o).
    Render {
        /// Cluster files or directories (walked for *.yaml / *.yml); `-` reads standard input.
        #[arg(required = true, value_name = "INPUT")]
        inputs: Vec<PathBuf>,
        /// Write one file per object and a kustomization.yaml into DIR instead of stdout.
        #[arg(short = 'o', long = "output", value_name = "DIR")]
        output: Option<PathBuf>,
        /// Print an intermediate stage instead of the objects.
        #[arg(long, value_enum)]
        stage: Option<Stage>,
        #[command(flatten)]
        flux: FluxArgs,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Semantic diff for review: what changes, what restarts, what is refused or risky.
    /// Exit 0 no change, 1 changes, 2 invalid input or error.
    Diff {
        /// Before: a Cluster file or directory, or REV:PATH read from Git (e.g. main:prod.yaml).
        #[arg(value_name = "OLD")]
        old: String,
        /// After: same forms as OLD.
        #[arg(value_name = "NEW")]
        new: String,
        /// OLD and NEW are rendered output (a YAML stream or an `-o` directory), not inputs.
        #[arg(long)]
        rendered: bool,
        #[arg(long, value_enum, default_value = "text")]
        format: crate::diff::DiffFormat,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// The start order as a graph (clusters, services, roles with their waves) for a PR.
    Graph {
        /// Cluster files or directories (walked for *.yaml / *.yml).
        #[arg(required = true, value_name = "INPUT")]
        inputs: Vec<PathBuf>,
        #[arg(long, value_enum, default_value = "dot")]
        format: crate::graph::GraphFormat,
        /// Draw every start-order edge, also those implied by longer paths.
        #[arg(long)]
        all_edges: bool,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Check Clusters and stacks without rendering; prints every problem.
    Validate {
        #[arg(required = true, value_name = "INPUT")]
        inputs: Vec<PathBuf>,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// List the stacks with their services, roles and versions.
    Stacks {
        #[arg(long, value_name = "DIR")]
        stacks: Option<PathBuf>,
    },
    /// Documentation from the stack data: STACK[/SERVICE[/FILE[/KEY]]].
    Explain {
        #[arg(value_name = "STACK[/SERVICE[/FILE[/KEY]]]")]
        path: String,
        #[arg(long, value_name = "DIR")]
        stacks: Option<PathBuf>,
    },
    /// Print shell completions.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

fn print_diags(d: &Diagnostics) {
    d.print();
}

fn out(s: &str) -> i32 {
    let mut o = std::io::stdout().lock();
    match o.write_all(s.as_bytes()).and_then(|_| o.flush()) {
        Ok(()) => 0,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => 0,
        Err(e) => {
            eprintln!("bdp: cannot write output: {e}");
            2
        }
    }
}

/// Runs the CLI; returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    run(cli)
}

pub fn run(cli: Cli) -> i32 {
    match cli.command {
        Command::Render { inputs, output, stage, flux, common } => {
            let flux_opts = match (&output, flux.flux) {
                (Some(dir), true) => match crate::flux::FluxOptions::new(flux.flux_source.as_deref(), flux.flux_path.as_deref(), dir) {
                    Ok(o) => Some(o),
                    Err(e) => {
                        eprintln!("error: {e}");
                        return 2;
                    }
                },
                _ => None,
            };
            let opts = Options { stacks_dir: common.stacks, strict: common.strict };
            let (plan, diags) = match crate::plan_inputs(&inputs, &opts) {
                Ok(p) => p,
                Err(d) => {
                    print_diags(&d);
                    return 1;
                }
            };
            print_diags(&diags);
            if let Some(st) = stage {
                let v = match st {
                    Stage::Resolve => serde_json::to_value(&plan.clusters),
                    Stage::Plan => serde_json::to_value(&plan),
                };
                return match v {
                    Ok(v) => out(&crate::yamlout::to_yaml(&v)),
                    Err(e) => {
                        eprintln!("bdp: internal error: {e}");
                        2
                    }
                };
            }
            // one cluster at a time, in canonical order: memory stays flat for large fleets
            let mut order: Vec<&crate::resolve::ResolvedCluster> = plan.clusters.iter().collect();
            order.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
            let mut writer = match &output {
                None => None,
                Some(dir) => match emit::DirWriter::open(dir) {
                    Ok(w) => Some(w),
                    Err(e) => {
                        eprintln!("error: {e}");
                        return 2;
                    }
                },
            };
            let mut paths: Vec<(std::path::PathBuf, String)> = Vec::new();
            let mut stubs = Vec::new();
            for c in order {
                let mut objects = crate::render::render_cluster(&plan, c);
                emit::sort(&mut objects);
                let Some(w) = writer.as_mut() else {
                    let code = out(&emit::stream(&objects));
                    if code != 0 {
                        return code;
                    }
                    continue;
                };
                for (rel, content) in emit::object_files(&objects) {
                    if let Err(e) = w.write(&rel, &content) {
                        eprintln!("error: {e}");
                        return 2;
                    }
                    paths.push((rel, String::new()));
                }
                // Flux needs only where each object lives, not its body
                stubs.extend(objects.into_iter().map(|o| crate::render::Object { body: serde_json::Value::Null, ..o }));
            }
            let (Some(mut w), Some(dir)) = (writer, output) else { return 0 };
            let mut rest = vec![emit::kustomization(&paths)];
            if let Some(f) = &flux_opts {
                rest.extend(crate::flux::files(&stubs, f));
            }
            let result = rest.iter().try_for_each(|(rel, content)| w.write(rel, content)).and_then(|()| w.finish());
            match result {
                Ok(()) => {
                    eprintln!("bdp: wrote {} objects to {}", stubs.len(), dir.display());
                    0
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    2
                }
            }
        }
        Command::Diff { old, new, rendered, format, common } => {
            let opts = crate::diff::DiffOptions { rendered, compile: Options { stacks_dir: common.stacks, strict: common.strict } };
            crate::diff::cli(&old, &new, &opts, format)
        }
        Command::Graph { inputs, format, all_edges, common } => {
            let opts = Options { stacks_dir: common.stacks, strict: common.strict };
            match crate::compile(&inputs, &opts) {
                Ok(c) => {
                    print_diags(&c.diags);
                    out(&crate::graph::render(&c.plan, format, all_edges))
                }
                Err(d) => {
                    print_diags(&d);
                    1
                }
            }
        }
        Command::Validate { inputs, common } => {
            let opts = Options { stacks_dir: common.stacks, strict: common.strict };
            match crate::compile(&inputs, &opts) {
                Ok(c) => {
                    print_diags(&c.diags);
                    let n: usize = c.plan.clusters.len();
                    eprintln!("bdp: {n} cluster(s) valid, {} object(s) would be rendered", c.objects.len());
                    0
                }
                Err(d) => {
                    print_diags(&d);
                    1
                }
            }
        }
        Command::Stacks { stacks } => {
            let mut d = Diagnostics::default();
            let reg = crate::stacks::Registry::build(stacks.as_deref(), &mut d);
            if d.has_errors() {
                print_diags(&d);
                return 1;
            }
            out(&describe_stacks(&reg))
        }
        Command::Explain { path, stacks } => {
            let mut d = Diagnostics::default();
            let reg = crate::stacks::Registry::build(stacks.as_deref(), &mut d);
            if d.has_errors() {
                print_diags(&d);
                return 1;
            }
            match explain(&reg, &path) {
                Ok(s) => out(&s),
                Err(e) => {
                    eprintln!("error: {e}");
                    1
                }
            }
        }
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            let mut buf = Vec::new();
            clap_complete::generate(shell, &mut cmd, "bdp", &mut buf);
            out(&String::from_utf8_lossy(&buf))
        }
    }
}

/// `bdp stacks`: stacks, services (version, image), roles (replicas and bounds).
pub fn describe_stacks(reg: &crate::stacks::Registry) -> String {
    let mut s = String::new();
    for name in reg.names() {
        let Ok(st) = reg.resolved(name) else { continue };
        s.push_str(&format!("{name}  ({})\n", st.origin));
        if !st.spec.description.is_empty() {
            s.push_str(&format!("  {}\n", st.spec.description.trim()));
        }
        for (svc, def) in &st.spec.services {
            s.push_str(&format!("  {svc} {}  image {}:{}\n", def.version, def.image.repository, def.image.tag));
            for (r, rd) in &def.roles {
                let c = &rd.replicas;
                let mut bounds = format!("replicas {} ({}..{}", c.default, c.min, c.max);
                if c.odd {
                    bounds.push_str(", odd");
                }
                bounds.push(')');
                if let Some(e) = &rd.enabled {
                    bounds.push_str(&format!(", only when {e}"));
                }
                s.push_str(&format!("    {r}: {bounds}\n"));
            }
        }
    }
    s
}

/// `bdp explain STACK[/SERVICE[/FILE[/KEY]]]`.
pub fn explain(reg: &crate::stacks::Registry, path: &str) -> Result<String, String> {
    let parts: Vec<&str> = path.splitn(4, '/').collect();
    let st = reg.resolved(parts[0])?;
    let mut s = String::new();
    let Some(svc) = parts.get(1) else {
        s.push_str(&format!("stack {}\n\n{}\n\nservices:\n", st.name, st.spec.description.trim()));
        for (n, d) in &st.spec.services {
            s.push_str(&format!("  {n}: {}\n", first_line(&d.description)));
        }
        return Ok(s);
    };
    let def = st
        .spec
        .services
        .get(*svc)
        .ok_or_else(|| format!("unknown service `{svc}` in stack `{}`; {}", st.name, known_hint(svc, "services", st.spec.services.keys().map(String::as_str))))?;
    let Some(file) = parts.get(2) else {
        s.push_str(&format!("{svc} {} (image {}:{})\n\n{}\n", def.version, def.image.repository, def.image.tag, def.description.trim()));
        if !def.settings.is_empty() {
            s.push_str("\nsettings:\n");
            for (k, v) in &def.settings {
                let ty = v.ty.map(|t| match (t, v.items) {
                    (crate::model::SettingType::Array, Some(i)) => format!("list of {}, ", i.name()),
                    (t, _) => format!("{}, ", t.name()),
                });
                s.push_str(&format!("  {k} ({}default {}): {}\n", ty.unwrap_or_default(), v.default, v.description.trim()));
            }
        }
        if !def.dependencies.is_empty() {
            s.push_str("\ndependencies:\n");
            for (k, v) in &def.dependencies {
                let req = if v.required { "required" } else { "optional" };
                s.push_str(&format!("  {k} -> {} ({req}): {}\n", v.service, v.description.trim()));
            }
        }
        s.push_str("\nroles:\n");
        for (r, rd) in &def.roles {
            s.push_str(&format!("  {r}: {}\n", first_line(&rd.description)));
            for p in &rd.ports {
                s.push_str(&format!("    port {} {}: {}\n", p.name, p.port, p.description));
            }
        }
        s.push_str("\nfiles:\n");
        for (f, fd) in &def.files {
            s.push_str(&format!("  {f} ({:?}, in {}): {}\n", fd.format, fd.dir, first_line(&fd.description)));
        }
        for (op, text) in &def.operations {
            s.push_str(&format!("\noperation {op}:\n{}\n", indent(text.trim(), "  ")));
        }
        return Ok(s);
    };
    let fd = def
        .files
        .get(*file)
        .ok_or_else(|| format!("unknown file `{file}` of `{svc}`; {}", known_hint(file, "files", def.files.keys().map(String::as_str))))?;
    let Some(key) = parts.get(3) else {
        let restart = if fd.restart { "a change restarts the pods" } else { "a change does not restart the pods" };
        s.push_str(&format!("{file} ({:?}, mounted in {}; {restart})\n\n{}\n\nkeys:\n", fd.format, fd.dir, fd.description.trim()));
        for (k, kd) in &fd.keys {
            let owned = if kd.owned { " [set by bdp]" } else { "" };
            s.push_str(&format!("  {k} = {}{owned}\n      {}\n", kd.value, first_line(&kd.doc)));
        }
        for g in &fd.generate {
            let key = g.keys.as_ref().map(|k| format!("<each of {k}>")).unwrap_or_else(|| g.key.clone());
            s.push_str(&format!("  {key} = {}  [one per item of {}; set by bdp]\n      {}\n", g.value, g.foreach, first_line(&g.doc)));
        }
        return Ok(s);
    };
    let kd = fd
        .keys
        .get(*key)
        .ok_or_else(|| format!("unknown key `{key}` in `{file}`; {}", known_hint(key, "keys", fd.keys.keys().map(String::as_str))))?;
    let restart = kd.restart.unwrap_or(fd.restart);
    s.push_str(&format!(
        "{key} ({file} of {svc})\n\ndefault: {}\nrestart on change: {restart}\nset by bdp (not overridable): {}\n{}\n\n{}\n",
        kd.value,
        kd.owned,
        kd.when.as_ref().map(|w| format!("only when: {w}")).unwrap_or_default(),
        kd.doc.trim()
    ));
    Ok(s)
}

fn first_line(s: &str) -> &str {
    s.trim().lines().next().unwrap_or("")
}

fn indent(s: &str, pad: &str) -> String {
    s.lines().map(|l| format!("{pad}{l}")).collect::<Vec<_>>().join("\n")
}
