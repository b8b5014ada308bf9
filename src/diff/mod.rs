//! `bdp diff OLD NEW`: what a change does to the running clusters, for pull-request review.
//!
//! OLD and NEW are inputs rendered on the fly (files, directories, or `REV:PATH` read from Git),
//! or with `--rendered`, output bdp rendered earlier (a YAML stream or an `-o` directory, also as
//! `REV:PATH`). Objects are matched by API group, kind, namespace and name (not apiVersion, so a
//! version bump is a change, not a delete and a create); list items by their merge key
//! (`name`, `containerPort`, `port`); config files embedded in ConfigMaps key by key in their
//! own format (Hadoop XML properties by `<name>`, Java properties by key, krb5/ini profiles by
//! `section/relation`, env files by variable), other text line by line.
//!
//! The report leads with the impact: pods that restart and why, objects created or deleted,
//! changes to immutable fields that a sync cannot apply (and how to migrate), data risks
//! (replicas of a role with volume claims reduced, a quorum role made even or smaller, claims or
//! data-bearing StatefulSets deleted, retention set to Delete, image downgrades), and changes of
//! sync wave and start order. Secret values are never printed.
//!
//! Exit codes: 0 no change, 1 changes, 2 invalid input or error.

mod compare;
mod impact;
mod input;
mod output;
mod policy;
mod report;
mod structural;
#[cfg(test)]
mod tests;

pub use compare::compare;
pub use impact::{is_downgrade, PodList, MAX_LISTED_PODS};
pub use input::{load_side, ObjKey, PlanFacts, RoleFacts, ServiceFacts, Side};
pub use output::{to_json, to_markdown, to_text};
pub use report::*;
pub use structural::diff_file;
#[allow(unused_imports)] // the submodules share these through `use super::*`
use self::{compare::*, impact::*, input::*, output::*, structural::*};

use crate::diag::{Code, Diagnostic, Diagnostics, Span};
use crate::model::FileFormat;
use crate::formats::{detect, natural_cmp, parse};
use crate::names::{CHECKSUM_ANNOTATION, LABEL_CLUSTER, LABEL_ROLE, LABEL_SERVICE, WAVE_ANNOTATION};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    Text,
    Markdown,
    Json,
}

#[derive(Debug, Clone, Default)]
pub struct DiffOptions {
    /// OLD and NEW are rendered output, not inputs.
    pub rendered: bool,
    /// Options for rendering inputs.
    pub compile: crate::Options,
}

pub fn format_report(r: &Report, format: DiffFormat, color: bool) -> String {
    match format {
        DiffFormat::Text => to_text(r, color),
        DiffFormat::Markdown => to_markdown(r),
        DiffFormat::Json => to_json(r),
    }
}

/// Reads both sides and compares them; diagnostics of both sides on error.
pub fn run(old: &str, new: &str, opts: &DiffOptions) -> Result<(Report, Diagnostics), Diagnostics> {
    let a = load_side(old, opts);
    let b = load_side(new, opts);
    match (a, b) {
        (Ok((a, mut wa)), Ok((b, wb))) => {
            wa.extend(wb);
            Ok((compare(&a, &b), wa))
        }
        (Err(mut e), Err(f)) => {
            e.extend(f);
            Err(e)
        }
        (Err(e), _) | (_, Err(e)) => Err(e),
    }
}
