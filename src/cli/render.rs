//! `bdp render`: the YAML stream on stdout, or files in `-o DIR` (with `--flux`), or an
//! intermediate stage (`--stage`).

use super::{fail, out, FluxArgs, Stage};
use crate::{emit, Options};
use std::path::{Path, PathBuf};

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

/// Runs `bdp render`; returns the exit code.
pub fn run(inputs: &[PathBuf], output: Option<PathBuf>, stage: Option<Stage>, flux: &FluxArgs, opts: &Options) -> i32 {
    let output = match output_dir(output, flux.flux) {
        Ok(o) => o,
        Err(code) => return code,
    };
    let flux_opts = match (&output, flux.flux) {
        (Some(dir), true) => match crate::flux::FluxOptions::new(flux.flux_source.as_deref(), flux.flux_path.as_deref(), dir) {
            Ok(o) => Some(o),
            Err(e) => return fail(e),
        },
        _ => None,
    };
    let plan = match super::plan_args(inputs, opts) {
        Ok(p) => p,
        Err(code) => return code,
    };
    match (stage, output) {
        (Some(st), _) => print_stage(&plan, st),
        (None, None) => {
            // one cluster at a time, in canonical order: memory stays flat for large fleets
            for objects in crate::rendered_clusters(&plan) {
                let objects = match objects {
                    Ok(o) => o,
                    Err(e) => return internal(e),
                };
                let code = out(&emit::stream(&objects));
                if code != 0 {
                    return code;
                }
            }
            0
        }
        (None, Some(dir)) => write_dir(&plan, &dir, flux_opts.as_ref()),
    }
}

/// `--stage resolve|plan`: the stage's output as YAML.
fn print_stage(plan: &crate::plan::Plan, st: Stage) -> i32 {
    let v = match st {
        Stage::Resolve => serde_json::to_value(&plan.clusters),
        Stage::Plan => serde_json::to_value(plan),
    };
    match v {
        Ok(v) => out(&crate::yamlout::to_yaml(&v)),
        Err(e) => internal(e),
    }
}

/// A bug in bdp, not in the input: exit 2.
fn internal(e: impl std::fmt::Display) -> i32 {
    eprintln!("bdp: internal error: {e}");
    2
}

/// `-o DIR`: one file per object, `kustomization.yaml`, the Flux files, and the ownership record
/// (files an earlier render wrote and this one does not are removed and listed).
fn write_dir(plan: &crate::plan::Plan, dir: &Path, flux: Option<&crate::flux::FluxOptions>) -> i32 {
    let mut w = match emit::DirWriter::open(dir) {
        Ok(w) => w,
        Err(e) => return fail(e),
    };
    let mut paths: Vec<(PathBuf, String)> = Vec::new();
    let mut stubs = Vec::new();
    for objects in crate::rendered_clusters(plan) {
        let objects = match objects {
            Ok(o) => o,
            Err(e) => return internal(e),
        };
        for (rel, content) in emit::object_files(&objects) {
            if let Err(e) = w.write(&rel, &content) {
                return fail(e);
            }
            paths.push((rel, String::new()));
        }
        // Flux needs only where each object lives, not its body
        stubs.extend(objects.into_iter().map(|o| crate::render::Object { body: serde_json::Value::Null, ..o }));
    }
    let mut rest = vec![emit::kustomization(&paths)];
    if let Some(f) = flux {
        rest.extend(crate::flux::files(&stubs, f));
    }
    match rest.iter().try_for_each(|(rel, content)| w.write(rel, content)).and_then(|()| w.finish()) {
        Ok(removed) => {
            for group in emit::removal_summary(&removed) {
                eprintln!("bdp: removed {}{group} (an earlier render wrote it; this one does not)", dir.join("").display());
            }
            eprintln!("bdp: wrote {} objects to {}", stubs.len(), dir.display());
            0
        }
        Err(e) => fail(e),
    }
}
