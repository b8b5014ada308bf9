//! `bdp diff`: the report on stdout; exit 0 no change, 1 changes, 2 invalid input or error.
//! With `--check`: exit 0 when the stack's rules allow every change, 1 when one is refused.

use super::{out, print_diags};
use crate::diff::{DiffFormat, DiffOptions};

/// Runs `bdp diff`; returns the exit code.
pub fn run(old: &str, new: &str, opts: &DiffOptions, format: DiffFormat, check: bool) -> i32 {
    use std::io::IsTerminal;
    match crate::diff::run(old, new, opts) {
        Err(d) => {
            print_diags(&d);
            2
        }
        Ok((report, warnings)) => {
            print_diags(&warnings);
            let color = format == DiffFormat::Text && std::io::stdout().is_terminal();
            match out(&crate::diff::format_report(&report, format, color)) {
                0 if check => i32::from(!report.refused.is_empty()),
                0 => i32::from(report.has_changes()),
                code => code,
            }
        }
    }
}
