//! The commands that read and print: `graph`, `validate`, `stacks`, `explain`, `completions`.

use super::{compile_args, out, print_diags, Cli};
use crate::diag::Diagnostics;
use crate::Options;
use clap::CommandFactory;
use std::path::{Path, PathBuf};

/// `bdp graph`: the plan as dot or mermaid.
pub fn graph(inputs: &[PathBuf], format: crate::graph::GraphFormat, all_edges: bool, opts: &Options) -> i32 {
    match compile_args(inputs, opts) {
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

/// `bdp validate`: every problem, and a count of what would be rendered.
pub fn validate(inputs: &[PathBuf], opts: &Options) -> i32 {
    match compile_args(inputs, opts) {
        Ok(c) => {
            print_diags(&c.diags);
            eprintln!("bdp: {} cluster(s) valid, {} object(s) would be rendered", c.plan.clusters.len(), c.objects.len());
            0
        }
        Err(d) => {
            print_diags(&d);
            1
        }
    }
}

/// The stack registry for `stacks` and `explain`, or the exit code when it has errors.
fn registry(stacks: Option<&Path>) -> Result<crate::stacks::Registry, i32> {
    let mut d = Diagnostics::default();
    let reg = crate::stacks::Registry::build(stacks, &mut d);
    if d.has_errors() {
        print_diags(&d);
        return Err(1);
    }
    Ok(reg)
}

/// `bdp stacks`.
pub fn stacks(stacks: Option<&Path>) -> i32 {
    match registry(stacks) {
        Ok(reg) => out(&describe_stacks(&reg)),
        Err(code) => code,
    }
}

/// `bdp explain ADDRESS`.
pub fn explain(path: &str, stacks: Option<&Path>) -> i32 {
    let reg = match registry(stacks) {
        Ok(r) => r,
        Err(code) => return code,
    };
    match crate::explain::explain(&reg, path) {
        Ok(s) => out(&s),
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

/// `bdp completions SHELL`.
pub fn completions(shell: clap_complete::Shell) -> i32 {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "bdp", &mut buf);
    out(&String::from_utf8_lossy(&buf))
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
