//! The report as a Markdown pull-request comment.

use super::super::*;
use super::*;

pub(crate) fn md_code(s: &str) -> String {
    let s = s.replace('|', "\\|");
    if s.is_empty() {
        String::new()
    } else if s.contains('`') {
        format!("<code>{}</code>", s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;"))
    } else {
        format!("`{s}`")
    }
}

pub(crate) fn md_text(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', "<br>")
}

/// Markdown for a pull-request comment: a heading, the impact as tables, the changes folded.
// Long because: the report's sections in order, one short block each; split up, each would only take the writer and the report.
pub fn to_markdown(r: &Report) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "## bdp diff: {} → {}\n", md_code(&r.old), md_code(&r.new));
    let _ = writeln!(s, "**{}**\n", summary_line(r));
    if !r.has_changes() {
        let _ = writeln!(s, "No changes.");
        return s;
    }
    let _ = writeln!(s, "### Impact\n");
    if !r.refused.is_empty() {
        let _ = writeln!(s, "#### Refused by the stack's rules (`bdp diff --check` fails)\n\n| What | Why | Instead |\n|---|---|---|");
        for x in &r.refused {
            let _ = writeln!(s, "| {} | {} | {} |", md_code(&x.what), md_text(&x.reason), md_text(x.steps.trim()));
        }
        s.push('\n');
    }
    if !r.versions.is_empty() {
        let _ = writeln!(s, "#### Version changes\n\n| Service | Change | Kind | Steps |\n|---|---|---|---|");
        for v in &r.versions {
            let kind = if v.allowed { format!("{} ({})", v.kind, v.reason) } else { format!("{} ({}), refused", v.kind, v.reason) };
            let steps = if v.allowed { v.steps.trim() } else { "" };
            let _ = writeln!(s, "| {} | {} → {} | {} | {} |", md_code(&v.service), md_code(&v.old), md_code(&v.new), md_text(&kind), md_text(steps));
        }
        s.push('\n');
    }
    if !r.immutable.is_empty() {
        let _ = writeln!(s, "#### Changes a sync cannot apply (immutable fields)\n\n| Object | Field | Change | How to migrate |\n|---|---|---|---|");
        for i in &r.immutable {
            let _ = writeln!(s, "| {} | {} | {} | {} |", md_code(&i.object.to_string()), md_code(&i.field), md_text(&i.change), md_text(&i.migration));
        }
        s.push('\n');
    }
    if !r.risks.is_empty() {
        let _ = writeln!(s, "#### Data risks\n\n| Object | Risk | What to do |\n|---|---|---|");
        for x in &r.risks {
            let _ = writeln!(s, "| {} | {} | {} |", md_code(&x.object.to_string()), md_text(&x.risk), md_text(&x.advice));
        }
        s.push('\n');
    }
    if !r.restarts.is_empty() {
        let _ = writeln!(s, "#### Pods that restart\n\n| Workload | Pods | How | Why |\n|---|---|---|---|");
        for x in &r.restarts {
            let _ = writeln!(s, "| {} | {} | {} | {} |", md_code(&x.workload.to_string()), md_text(&list_pods(&x.pods)), md_text(&x.rollout), md_text(&x.reasons.join("\n")));
        }
        s.push('\n');
    }
    if !r.refreshes.is_empty() {
        let _ = writeln!(s, "#### Config that refreshes without a restart\n\n| File | Keys | Run |\n|---|---|---|");
        for x in &r.refreshes {
            let _ = writeln!(s, "| {} | {} | {} |", md_code(&x.file), md_text(&x.keys.join(", ")), md_code(&x.command));
        }
        s.push('\n');
    }
    if !r.created.is_empty() || !r.deleted.is_empty() {
        let _ = writeln!(s, "#### Created and deleted objects\n\n| | Object | Wave |\n|---|---|---|");
        for (sign, list) in [("created", &r.created), ("deleted", &r.deleted)] {
            for o in list {
                let _ = writeln!(s, "| {sign} | {} | {} |", md_code(&o.key.to_string()), o.wave.map(|w| w.to_string()).unwrap_or_default());
            }
        }
        s.push('\n');
    }
    if !r.waves.is_empty() {
        let _ = writeln!(s, "#### Sync waves\n\n| Role or object | Objects | Wave before | Wave after |\n|---|---|---|---|");
        for w in &r.waves {
            let _ = writeln!(s, "| {} | {} | {} | {} |", md_code(&w.what), w.objects, w.old, w.new);
        }
        s.push('\n');
    }
    if !r.order_added.is_empty() || !r.order_removed.is_empty() {
        let _ = writeln!(s, "#### Start order\n\n| | Before | After |\n|---|---|---|");
        for (sign, list) in [("added", &r.order_added), ("removed", &r.order_removed)] {
            for (a, b) in list {
                let _ = writeln!(s, "| {sign} | {} | {} |", md_code(a), md_code(b));
            }
        }
        s.push('\n');
    }
    if !r.notes.is_empty() {
        for n in &r.notes {
            let _ = writeln!(s, "> {}", md_text(n));
        }
        s.push('\n');
    }
    if !r.changes.is_empty() {
        let _ = writeln!(s, "### Changes\n");
    }
    for c in &r.changes {
        let n = c.fields.len() + c.files.iter().map(|f| f.entries.len().max(1)).sum::<usize>();
        let _ = writeln!(s, "<details><summary><code>{}</code>: {n} change(s)</summary>\n", c.key.to_string().replace('<', "&lt;"));
        if c.fields.is_empty() && c.files.is_empty() {
            let _ = writeln!(s, "Sync wave only.\n");
        }
        let mut texts: Vec<(String, String)> = Vec::new();
        if !c.fields.is_empty() {
            let _ = writeln!(s, "| | Field | Before | After |\n|---|---|---|---|");
            for f in &c.fields {
                if let (Op::Changed, Some(a), Some(b), false) = (f.op, multiline(&f.old), multiline(&f.new), f.redacted) {
                    let _ = writeln!(s, "| {} | {} | (text, below) | |", f.op.sign(), md_code(&f.path));
                    texts.push((f.path.clone(), text_diff(&f.path, a, b)));
                    continue;
                }
                let _ = writeln!(s, "| {} | {} | {} | {} |", f.op.sign(), md_code(&f.path), md_code(&value_text(&f.old, f.redacted)), md_code(&value_text(&f.new, f.redacted)));
            }
            s.push('\n');
        }
        for fc in &c.files {
            let what = match (fc.op, fc.lines) {
                (Op::Added, Some(n)) => format!(", added ({n} lines)"),
                (Op::Removed, Some(n)) => format!(", removed ({n} lines)"),
                _ => String::new(),
            };
            let _ = writeln!(s, "**{}** ({}{what})\n", md_text(&fc.file), fc.format.name());
            if !fc.entries.is_empty() {
                let _ = writeln!(s, "| | Key | Before | After |\n|---|---|---|---|");
                for e in &fc.entries {
                    let v = |x: &Option<String>| x.as_deref().map(|t| md_code(&short(&Value::String(t.to_string()), 100))).unwrap_or_default();
                    let _ = writeln!(s, "| {} | {} | {} | {} |", e.op.sign(), md_code(&e.key), v(&e.old), v(&e.new));
                }
                s.push('\n');
            }
            if let Some(td) = &fc.text_diff {
                texts.push((fc.file.clone(), td.clone()));
            }
        }
        for (_, td) in texts {
            let _ = writeln!(s, "```diff\n{}```\n", td.replace("```", "` ` `"));
        }
        let _ = writeln!(s, "</details>\n");
    }
    s
}
