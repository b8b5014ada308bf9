//! The command line (clap): `render`, `diff`, `graph`, `validate`, `stacks`, `explain`, `completions`.
//!
//! Exit codes: 0 success; 1 invalid input (diagnostics on stderr, nothing on stdout);
//! 2 usage or internal error.

use crate::diag::Diagnostics;
use crate::{emit, Options};
use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::path::PathBuf;

const TOP_EXAMPLES: &str = "Examples:
  bdp render examples/zookeeper.yaml                 # YAML stream on stdout
  bdp render clusters/ -o deploy/prod                # one file per object + kustomization.yaml
  bdp validate clusters/
  bdp diff main:clusters/ clusters/                  # what a pull request changes
  bdp explain zookeeper                              # what a service, role or key does

Exit codes: 0 success, 1 invalid input (diagnostics on stderr), 2 usage or internal error
(diff: 0 no change, 1 changes, 2 error).";

const RENDER_EXAMPLES: &str = "Examples:
  bdp render prod.yaml > manifests.yaml
  bdp render clusters/ -o deploy/prod --flux --flux-path ./deploy/prod
  bdp render main:clusters/prod.yaml                 # as it is on branch main
  bdp render --stage plan prod.yaml                  # waves and start order
  cat prod.yaml | bdp render -";

const DIFF_EXAMPLES: &str = "Examples:
  bdp diff main:clusters/ clusters/
  bdp diff --format markdown HEAD~1:prod.yaml prod.yaml
  bdp diff --rendered main:deploy/prod deploy/prod   # compare rendered output";

const EXPLAIN_EXAMPLES: &str = "Examples:
  bdp explain hadoop-3.3                             # services of a stack
  bdp explain zookeeper                              # a service: settings, roles, files, operations
  bdp explain hdfs/datanode                          # a role: ports, storage, scale-down advice
  bdp explain hadoop-3.3/hdfs/operations/decommission
  bdp explain zookeeper/zoo.cfg/tickTime             # a config key: default, restart, doc
  bdp explain docs/kerberos                          # a page of the docs";

/// `bdp --version`: the package version and the commit it was built from (see build.rs).
pub const VERSION: &str = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("BDP_COMMIT"), ")");

#[derive(Parser, Debug)]
#[command(
    name = "bdp",
    version = VERSION,
    about = "Compile big-data clusters (ZooKeeper, HDFS, Kerberos, …) into Kubernetes manifests for GitOps",
    after_help = TOP_EXAMPLES
)]
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
    #[command(after_help = RENDER_EXAMPLES)]
    Render {
        /// Cluster files or directories (walked for *.yaml / *.yml, skipping bdp's own output
        /// and documents of other APIs), REV:PATH read from Git, or `-` for standard input.
        #[arg(required = true, value_name = "INPUT")]
        inputs: Vec<PathBuf>,
        /// Write one file per object and a kustomization.yaml into DIR instead of stdout
        /// (`-` is stdout). DIR may hold only what bdp wrote earlier (recorded in
        /// DIR/.bdp-output, whose stale files are removed and listed); no symlinks in it.
        #[arg(short = 'o', long = "output", value_name = "DIR")]
        output: Option<PathBuf>,
        /// Print an intermediate stage to standard output instead of the objects (not with -o).
        #[arg(long, value_enum, conflicts_with = "output")]
        stage: Option<Stage>,
        #[command(flatten)]
        flux: FluxArgs,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Semantic diff for review: what changes, what restarts, what is refused or risky.
    /// Exit 0 no change, 1 changes, 2 invalid input or error.
    #[command(after_help = DIFF_EXAMPLES)]
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
        /// text for a terminal, markdown for a pull-request comment, json for tools.
        #[arg(long, value_enum, default_value = "text")]
        format: crate::diff::DiffFormat,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// The start order as a graph (clusters, services, roles with their waves) for a PR.
    #[command(after_help = "Examples:\n  bdp graph clusters/ | dot -Tsvg > order.svg\n  bdp graph --format mermaid main:clusters/")]
    Graph {
        /// Cluster files or directories (walked for *.yaml / *.yml), or REV:PATH read from Git.
        #[arg(required = true, value_name = "INPUT")]
        inputs: Vec<PathBuf>,
        /// dot (Graphviz) or mermaid (rendered by GitHub in Markdown).
        #[arg(long, value_enum, default_value = "dot")]
        format: crate::graph::GraphFormat,
        /// Draw every start-order edge, also those implied by longer paths.
        #[arg(long)]
        all_edges: bool,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Check Clusters and stacks without rendering; prints every problem.
    #[command(after_help = "Examples:\n  bdp validate clusters/\n  bdp validate --strict prod.yaml      # warnings (e.g. unknown config keys) fail too")]
    Validate {
        /// Cluster (and StackDefinition) files or directories (walked for *.yaml / *.yml),
        /// REV:PATH read from Git, or `-` for standard input.
        #[arg(required = true, value_name = "INPUT")]
        inputs: Vec<PathBuf>,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// List the stacks with their services, roles and versions.
    Stacks {
        /// Extra directory of StackDefinitions (replaces embedded stacks of the same name).
        #[arg(long, value_name = "DIR")]
        stacks: Option<PathBuf>,
    },
    /// Documentation from the stack data (services, roles, operations, config files and
    /// keys) and the docs shipped with bdp.
    #[command(after_help = EXPLAIN_EXAMPLES)]
    Explain {
        /// What to explain: `[STACK/]SERVICE` (the stack may be left out when one stack has
        /// the service), then `/ROLE`, `/operations[/NAME]` or `/FILE[/KEY]`; a STACK alone;
        /// or `docs[/TOPIC]`.
        #[arg(value_name = "ADDRESS")]
        path: String,
        /// Extra directory of StackDefinitions (replaces embedded stacks of the same name).
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

/// What kubectl users type after `-o`; bdp's `-o` names a directory.
const KUBECTL_FORMATS: [&str; 7] = ["yaml", "json", "wide", "name", "jsonpath", "go-template", "custom-columns"];

/// The `-o` directory: `-` means standard output (the stream, as without `-o`); a kubectl
/// output format is refused (exit 2) rather than silently becoming a directory of that name.
fn output_dir(output: Option<PathBuf>, flux: bool) -> Result<Option<PathBuf>, i32> {
    let Some(dir) = output else { return Ok(None) };
    let s = dir.to_string_lossy();
    if s == "-" {
        if flux {
            eprintln!("error: --flux writes files and needs -o DIR; `-o -` is standard output");
            return Err(2);
        }
        return Ok(None);
    }
    let format = s.split_once('=').map_or(s.as_ref(), |(f, _)| f);
    if KUBECTL_FORMATS.contains(&format) {
        eprintln!(
            "error: `-o {s}` looks like kubectl's output format, but bdp's -o names a directory to write files into\n  \
             hint: bdp render prints YAML to standard output without -o (`bdp render INPUT > out.yaml`); \
             for a directory really called `{s}`, write `-o ./{s}`"
        );
        return Err(2);
    }
    Ok(Some(dir))
}

/// `compile` for command-line inputs, `REV:PATH` included.
fn compile_args(inputs: &[PathBuf], opts: &Options) -> Result<crate::Compiled, Diagnostics> {
    let m = crate::gitspec::materialize(inputs)?;
    match crate::compile(&m.paths, opts) {
        Ok(mut c) => {
            m.relabel(&mut c.diags);
            Ok(c)
        }
        Err(mut d) => {
            m.relabel(&mut d);
            Err(d)
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
            let output = match output_dir(output, flux.flux) {
                Ok(o) => o,
                Err(code) => return code,
            };
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
            let m = match crate::gitspec::materialize(&inputs) {
                Ok(m) => m,
                Err(d) => {
                    print_diags(&d);
                    return 1;
                }
            };
            let opts = Options { stacks_dir: common.stacks, strict: common.strict };
            let (plan, mut diags) = match crate::plan_inputs(&m.paths, &opts) {
                Ok(p) => p,
                Err(mut d) => {
                    m.relabel(&mut d);
                    print_diags(&d);
                    return 1;
                }
            };
            m.relabel(&mut diags);
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
                Ok(removed) => {
                    for group in emit::removal_summary(&removed) {
                        eprintln!("bdp: removed {}{group} (an earlier render wrote it; this one does not)", dir.join("").display());
                    }
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
            match compile_args(&inputs, &opts) {
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
            match compile_args(&inputs, &opts) {
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
            match crate::explain::explain(&reg, &path) {
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
