//! The report for a terminal (optionally coloured).

use super::super::*;
use super::*;

pub(crate) struct Style(bool);

impl Style {
    pub(crate) fn paint(&self, code: &str, s: &str) -> String {
        if self.0 { format!("\x1b[{code}m{s}\x1b[0m") } else { s.to_string() }
    }
    pub(crate) fn bold(&self, s: &str) -> String {
        self.paint("1", s)
    }
    pub(crate) fn red(&self, s: &str) -> String {
        self.paint("31", s)
    }
    pub(crate) fn green(&self, s: &str) -> String {
        self.paint("32", s)
    }
    pub(crate) fn yellow(&self, s: &str) -> String {
        self.paint("33", s)
    }
    pub(crate) fn op(&self, op: Op, s: &str) -> String {
        match op {
            Op::Added => self.green(s),
            Op::Removed => self.red(s),
            Op::Changed | Op::Reordered => self.yellow(s),
        }
    }
}

/// Plain text (with colour when `color`).
// Long because: the report's sections in order, one short block each; split up, each would only take the writer, the style and the report.
pub fn to_text(r: &Report, color: bool) -> String {
    let st = Style(color);
    let mut s = String::new();
    let _ = writeln!(s, "{} {} → {}", st.bold("bdp diff"), r.old, r.new);
    let _ = writeln!(s, "{}", summary_line(r));
    if !r.has_changes() {
        let _ = writeln!(s, "No changes.");
        return s;
    }
    let _ = writeln!(s, "\n{}", st.bold("IMPACT"));
    if !r.refused.is_empty() {
        let _ = writeln!(s, "  {}", st.red("Refused by the stack's rules (bdp diff --check fails):"));
        for x in &r.refused {
            let _ = writeln!(s, "    {}: {}\n      instead:", x.what, x.reason);
            for line in x.steps.lines() {
                let _ = writeln!(s, "        {line}");
            }
        }
    }
    if !r.versions.is_empty() {
        let _ = writeln!(s, "  Version changes:");
        for v in &r.versions {
            let verdict = if v.allowed { "" } else { ", refused" };
            let _ = writeln!(s, "    {}: {} → {}: {} ({}{verdict})", v.service, v.old, v.new, v.kind, v.reason);
            if v.allowed {
                for line in v.steps.lines() {
                    let _ = writeln!(s, "        {line}");
                }
            }
        }
    }
    if !r.immutable.is_empty() {
        let _ = writeln!(s, "  {}", st.red("Changes a sync cannot apply (immutable fields):"));
        for i in &r.immutable {
            let _ = writeln!(s, "    {} {}: {}\n      migrate: {}", i.object, i.field, i.change, i.migration);
        }
    }
    if !r.risks.is_empty() {
        let _ = writeln!(s, "  {}", st.red("Data risks:"));
        for x in &r.risks {
            let _ = writeln!(s, "    {}: {}\n      what to do: {}", x.object, x.risk, x.advice);
        }
    }
    if !r.restarts.is_empty() {
        let _ = writeln!(s, "  {}", st.yellow("Pods that restart:"));
        for x in &r.restarts {
            let _ = writeln!(s, "    {}: {}; {}", x.workload, list_pods(&x.pods), x.rollout);
            for why in &x.reasons {
                let _ = writeln!(s, "      - {why}");
            }
        }
    }
    if !r.refreshes.is_empty() {
        let _ = writeln!(s, "  Config that refreshes without a restart:");
        for x in &r.refreshes {
            let keys = if x.keys.is_empty() { String::new() } else { format!(" ({})", x.keys.join(", ")) };
            let _ = writeln!(s, "    {}{keys} refreshes (run: {})", x.file, x.command);
        }
    }
    if !r.created.is_empty() || !r.deleted.is_empty() {
        let _ = writeln!(s, "  Created and deleted:");
        for o in &r.created {
            let _ = writeln!(s, "    {} {}{}", st.green("+"), o.key, o.wave.map(|w| format!(" (wave {w})")).unwrap_or_default());
        }
        for o in &r.deleted {
            let _ = writeln!(s, "    {} {}{}", st.red("-"), o.key, o.wave.map(|w| format!(" (wave {w})")).unwrap_or_default());
        }
    }
    if !r.waves.is_empty() {
        let _ = writeln!(s, "  Wave changes:");
        for w in &r.waves {
            let _ = writeln!(s, "    {}: wave {} → {} ({} object(s))", w.what, w.old, w.new, w.objects);
        }
    }
    if !r.order_added.is_empty() || !r.order_removed.is_empty() {
        let _ = writeln!(s, "  Start order (a → b: a is up before b starts):");
        for (a, b) in &r.order_added {
            let _ = writeln!(s, "    {} {a} → {b}", st.green("+"));
        }
        for (a, b) in &r.order_removed {
            let _ = writeln!(s, "    {} {a} → {b}", st.red("-"));
        }
    }
    if !r.notes.is_empty() {
        let _ = writeln!(s, "  Notes:");
        for n in &r.notes {
            let _ = writeln!(s, "    - {n}");
        }
    }
    if !r.changes.is_empty() {
        let _ = writeln!(s, "\n{}", st.bold("CHANGES"));
    }
    for c in &r.changes {
        let _ = writeln!(s, "  {} {}", st.yellow("~"), c.key);
        if c.fields.is_empty() && c.files.is_empty() {
            let _ = writeln!(s, "      (sync wave only)");
        }
        for f in &c.fields {
            let sign = st.op(f.op, f.op.sign());
            match (f.op, multiline(&f.old), multiline(&f.new)) {
                (Op::Changed, Some(a), Some(b)) if !f.redacted => {
                    let _ = writeln!(s, "      {sign} {}:", f.path);
                    for l in text_diff(&f.path, a, b).lines().skip(2) {
                        let _ = writeln!(s, "          {}", diff_line(&st, l));
                    }
                }
                (Op::Changed | Op::Reordered, _, _) => {
                    let _ = writeln!(s, "      {sign} {}: {} → {}", f.path, value_text(&f.old, f.redacted), value_text(&f.new, f.redacted));
                }
                (Op::Added, _, _) => {
                    let _ = writeln!(s, "      {sign} {}: {}", f.path, value_text(&f.new, f.redacted));
                }
                (Op::Removed, _, _) => {
                    let _ = writeln!(s, "      {sign} {}: {}", f.path, value_text(&f.old, f.redacted));
                }
            }
        }
        for fc in &c.files {
            let what = match (fc.op, fc.lines) {
                (Op::Added, Some(n)) => format!(" added ({n} lines)"),
                (Op::Removed, Some(n)) => format!(" removed ({n} lines)"),
                _ => String::new(),
            };
            let _ = writeln!(s, "      {} {} ({}){what}", st.op(fc.op, fc.op.sign()), fc.file, fc.format.name());
            for e in &fc.entries {
                let sign = st.op(e.op, e.op.sign());
                let v = |x: &Option<String>| x.as_deref().map(|t| short(&Value::String(t.to_string()), 100)).unwrap_or_default();
                match e.op {
                    Op::Added => {
                        let _ = writeln!(s, "          {sign} {} = {}", e.key, v(&e.new));
                    }
                    Op::Removed => {
                        let _ = writeln!(s, "          {sign} {} = {}", e.key, v(&e.old));
                    }
                    _ => {
                        let _ = writeln!(s, "          {sign} {}: {} → {}", e.key, v(&e.old), v(&e.new));
                    }
                }
            }
            if let Some(td) = &fc.text_diff {
                for l in td.lines().skip(2) {
                    let _ = writeln!(s, "          {}", diff_line(&st, l));
                }
            }
        }
    }
    s
}

pub(crate) fn diff_line(st: &Style, l: &str) -> String {
    if l.starts_with('+') {
        st.green(l)
    } else if l.starts_with('-') {
        st.red(l)
    } else {
        l.to_string()
    }
}
