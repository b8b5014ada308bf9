//! bdp: a compiler from a small `Cluster` description and a data-defined `StackDefinition`
//! to Kubernetes objects and native config files, ordered for GitOps delivery.
//!
//! The pipeline is a chain of pure stages, one module each, data flowing one way:
//!
//! ```text
//! load → validate → resolve → plan → render → emit
//! ```
//!
//! [`compile`] runs the stages up to render; the CLI ([`cli`]) emits the result. Every stage
//! reports problems as [`diag::Diagnostic`]s and keeps going, so a run reports all of them.

pub mod action;
pub mod cli;
pub mod diag;
pub mod diff;
pub mod emit;
pub mod explain;
pub mod flux;
pub mod formats;
pub mod gitspec;
pub mod grammar;
pub mod graph;
pub mod limits;
pub mod load;
pub mod lower;
pub mod merge;
pub mod model;
pub mod names;
pub mod plan;
pub mod quantity;
pub mod render;
pub mod resolve;
pub mod schema;
pub mod source;
pub mod stacks;
pub mod template;
pub mod validate;
pub mod yamlout;

use diag::{Diagnostic, Diagnostics, Code};
use std::path::PathBuf;

/// Options of a compilation.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Extra stack directory (`--stacks DIR`).
    pub stacks_dir: Option<PathBuf>,
    /// Warnings are errors (`--strict`).
    pub strict: bool,
    /// `--monitoring MODE`: the default of the setting [`MONITORING_SETTING`] of every service
    /// whose stack declares it; a Cluster's own value wins.
    pub monitoring: Option<String>,
}

/// The setting whose default `--monitoring` gives.
pub const MONITORING_SETTING: &str = "monitoring";

/// The result of a successful compilation.
#[derive(Debug)]
pub struct Compiled {
    pub plan: plan::Plan,
    /// Rendered objects in canonical order.
    pub objects: Vec<render::Object>,
    /// Warnings (errors make [`compile`] fail).
    pub diags: Diagnostics,
}

/// The stack registry for a set of inputs: embedded stacks, `--stacks DIR`, then stacks
/// among the inputs.
pub fn registry_for(inputs: &validate::Inputs, opts: &Options, diags: &mut Diagnostics) -> stacks::Registry {
    let mut reg = stacks::Registry::build(opts.stacks_dir.as_deref(), diags);
    reg.add_source(inputs.stacks.clone(), "inputs", diags);
    if let Some(m) = &opts.monitoring {
        reg.set_setting_default(MONITORING_SETTING, &serde_json::Value::String(m.clone()));
    }
    reg
}

/// load → validate → resolve → plan → render. Errors (and warnings) come back all at once.
pub fn compile(inputs: &[PathBuf], opts: &Options) -> Result<Compiled, Diagnostics> {
    let (plan, diags) = plan_inputs(inputs, opts)?;
    render_plan(plan, diags)
}

/// Renders every cluster of a plan, in canonical order.
/// A [`render::RenderError`] (a bug, never the input's fault) comes back as an error diagnostic.
pub fn render_plan(plan: plan::Plan, mut diags: Diagnostics) -> Result<Compiled, Diagnostics> {
    let mut objects = Vec::new();
    for cluster in rendered_clusters(&plan) {
        match cluster {
            Ok(o) => objects.extend(o),
            Err(e) => {
                diags.push(Diagnostic::error(Code::Internal, None, "", format!("internal error: {e}")));
                return Err(diags);
            }
        }
    }
    Ok(Compiled { plan, objects, diags })
}

/// The objects of each cluster of a plan, cluster by cluster in canonical order (namespace,
/// name), each cluster's objects sorted by [`emit::sort`]: together the canonical order of the
/// whole stream. The CLI writes one cluster before rendering the next, so memory stays flat
/// for large fleets.
pub fn rendered_clusters(plan: &plan::Plan) -> impl Iterator<Item = Result<Vec<render::Object>, render::RenderError>> + '_ {
    let mut order: Vec<&resolve::ResolvedCluster> = plan.clusters.iter().collect();
    order.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    order.into_iter().map(move |c| {
        let mut objects = render::render_cluster(plan, c)?;
        emit::sort(&mut objects);
        Ok(objects)
    })
}

/// load → validate → resolve → plan, without rendering (the CLI renders one cluster at a
/// time, so memory stays flat for large fleets).
pub fn plan_inputs(inputs: &[PathBuf], opts: &Options) -> Result<(plan::Plan, Diagnostics), Diagnostics> {
    let mut diags = Diagnostics::default();
    let docs = load::load(inputs, &mut diags);
    let typed = validate::validate(docs, &mut diags);
    let reg = registry_for(&typed, opts, &mut diags);
    if typed.clusters.is_empty() && !diags.has_errors() {
        // a file: its start (an empty file, or one of comments, has a line 1); a directory: no line
        let at = inputs.first().map(|p| if p.is_file() { diag::Span::new(p, 1, 1) } else { diag::Span::new(p, 0, 0) });
        let hint = if typed.foreign.is_empty() {
            "bdp renders documents of `kind: Cluster`; see examples/"
        } else {
            "the inputs hold only other Kubernetes objects; if they are rendered output, `bdp diff --rendered OLD NEW` compares them (bdp render, validate and graph read `kind: Cluster` documents, see examples/)"
        };
        diags.push(Diagnostic::error(Code::NoCluster, at, "", "no Cluster among the inputs").hint(hint));
    }
    plan_typed(&typed, &reg, opts, diags)
}

/// resolve → plan for typed inputs.
pub fn plan_typed(
    typed: &validate::Inputs,
    reg: &stacks::Registry,
    opts: &Options,
    mut diags: Diagnostics,
) -> Result<(plan::Plan, Diagnostics), Diagnostics> {
    let resolved = resolve::resolve(&typed.clusters, reg, &mut diags);
    for c in &resolved {
        render::check_cluster(c, &mut diags);
    }
    let plan = plan::plan(resolved, &mut diags);
    if opts.strict {
        diags.make_strict();
    }
    if diags.has_errors() {
        return Err(diags);
    }
    Ok((plan, diags))
}

