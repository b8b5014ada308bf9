//! The command line (clap): `render`, `diff`, `graph`, `validate`, `stacks`, `explain`, `action`, `completions`.
//!
//! Exit codes: 0 success; 1 invalid input (diagnostics on stderr, nothing on stdout);
//! 2 usage or internal error.
//!
//! Architecture invariant: this is the only module that writes to stdout or stderr or chooses
//! an exit code; every other module returns values and [`Diagnostics`].

mod action;
mod diff;
mod inspect;
mod render;

use crate::diag::Diagnostics;
use crate::Options;
use clap::{Parser, Subcommand, ValueEnum};
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
  bdp diff --rendered main:deploy/prod deploy/prod   # compare rendered output
  bdp diff --check main:prod.yaml prod.yaml          # PR gate: exit 1 when the stack refuses a change";

const EXPLAIN_EXAMPLES: &str = "Examples:
  bdp explain hadoop-3.3                             # services of a stack
  bdp explain zookeeper                              # a service: settings, roles, files, operations
  bdp explain hdfs/datanode                          # a role: ports, storage, scale-down advice
  bdp explain hadoop-3.3/hdfs/operations/decommission
  bdp explain zookeeper/zoo.cfg/tickTime             # a config key: default, restart, doc
  bdp explain docs/kerberos                          # a page of the docs";

const ACTION_EXAMPLES: &str = "Examples:
  bdp action prod.yaml hdfs fsck --arg path=/ > fsck-job.yaml && kubectl create -f fsck-job.yaml
  bdp action prod.yaml hdfs safemode --arg mode=get | kubectl create -f -
  bdp action prod.yaml zookeeper health
  bdp explain hdfs/actions                           # every action with its arguments

Exit codes: 0 the Job is on stdout, 1 invalid input, unknown service or action, or a bad
argument (with the allowed values), 2 usage error.";

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
    /// The default of every service's `monitoring` setting (a Cluster's own `monitoring` wins):
    /// prometheus-operator (PodMonitors, PrometheusRules, Grafana dashboards), annotations
    /// (Services annotated prometheus.io/*, dashboards) or none.
    #[arg(long, value_enum, value_name = "MODE")]
    pub monitoring: Option<Monitoring>,
}

/// The values of `--monitoring`.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum Monitoring {
    PrometheusOperator,
    Annotations,
    None,
}

impl Monitoring {
    /// The setting's value, as a Cluster writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Monitoring::PrometheusOperator => "prometheus-operator",
            Monitoring::Annotations => "annotations",
            Monitoring::None => "none",
        }
    }
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
    /// Exit 0 no change, 1 changes, 2 invalid input or error; with --check, 0 allowed, 1 refused.
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
        /// The pull-request gate: exit 0 when the stack's rules allow every change, 1 when one
        /// is refused (scale, version; each with the steps to take instead), 2 on error. Needs
        /// inputs, since the rules come from the stack (not with --rendered).
        #[arg(long, conflicts_with = "rendered")]
        check: bool,
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
    /// A management action of a service (fsck, balancer, srvr…) rendered as a Kubernetes Job
    /// on stdout, to commit or `kubectl create`. `bdp explain SERVICE/actions` lists them.
    #[command(after_help = ACTION_EXAMPLES)]
    Action {
        /// Cluster (and StackDefinition) files or directories, then the service and the
        /// action: `CLUSTER.yaml… SERVICE ACTION`.
        #[arg(required = true, num_args = 3.., value_name = "INPUT… SERVICE ACTION")]
        words: Vec<String>,
        /// An argument of the action, NAME=VALUE (repeatable); checked against the values the
        /// stack allows.
        #[arg(long = "arg", value_name = "NAME=VALUE")]
        args: Vec<String>,
        /// The Cluster, when the inputs hold several with the service.
        #[arg(long, value_name = "NAME")]
        cluster: Option<String>,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Print shell completions.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// Prints diagnostics to stderr, sorted, with a count line when there are errors.
fn print_diags(d: &Diagnostics) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(d.report().as_bytes());
}

/// Prints a one-line error (usage or I/O) to stderr and returns exit code 2.
fn fail(msg: impl std::fmt::Display) -> i32 {
    eprintln!("error: {msg}");
    2
}

/// Writes `s` to stdout; exit code 0, or 2 when stdout fails (a closed pipe is not a failure).
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

/// `plan_inputs` for command-line inputs, `REV:PATH` included: the plan, with its diagnostics
/// (warnings) already printed; Err(exit code 1) after printing the errors.
fn plan_args(inputs: &[PathBuf], opts: &Options) -> Result<crate::plan::Plan, i32> {
    let m = crate::gitspec::materialize(inputs).map_err(|d| {
        print_diags(&d);
        1
    })?;
    let (plan, mut diags) = crate::plan_inputs(&m.paths, opts).map_err(|mut d| {
        m.relabel(&mut d);
        print_diags(&d);
        1
    })?;
    m.relabel(&mut diags);
    print_diags(&diags);
    Ok(plan)
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

/// Dispatches a parsed command line; returns the exit code.
pub fn run(cli: Cli) -> i32 {
    let opts = |c: CommonArgs| Options { stacks_dir: c.stacks, strict: c.strict, monitoring: c.monitoring.map(|m| m.as_str().to_string()) };
    match cli.command {
        Command::Render { inputs, output, stage, flux, common } => render::run(&inputs, output, stage, &flux, &opts(common)),
        Command::Diff { old, new, rendered, check, format, common } => diff::run(&old, &new, &crate::diff::DiffOptions { rendered, compile: opts(common) }, format, check),
        Command::Graph { inputs, format, all_edges, common } => inspect::graph(&inputs, format, all_edges, &opts(common)),
        Command::Validate { inputs, common } => inspect::validate(&inputs, &opts(common)),
        Command::Stacks { stacks } => inspect::stacks(stacks.as_deref()),
        Command::Explain { path, stacks } => inspect::explain(&path, stacks.as_deref()),
        Command::Action { words, args, cluster, common } => action::run(&words, &args, cluster, &opts(common)),
        Command::Completions { shell } => inspect::completions(shell),
    }
}

pub use inspect::describe_stacks;
