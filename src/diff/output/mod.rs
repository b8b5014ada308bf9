//! The report as text (a terminal), Markdown (a pull-request comment) or JSON (tools).

mod markdown;
mod text;

use super::*;
pub use markdown::to_markdown;
pub use text::to_text;

// =============================================================================================
// Output

pub(crate) fn value_text(v: &Option<Value>, redacted: bool) -> String {
    if redacted {
        return "(redacted)".into();
    }
    match v {
        // digests and checksums: the first 12 characters tell them apart
        Some(Value::String(s)) if s.len() > 40 && s.chars().all(|c| c.is_ascii_hexdigit()) => format!("{}…", &s[..12]),
        Some(v) => short(v, 100),
        None => String::new(),
    }
}

pub(crate) fn summary_line(r: &Report) -> String {
    let s = &r.summary;
    let mut line = format!("{} changed, {} created, {} deleted, {} unchanged", s.changed, s.created, s.deleted, s.unchanged);
    let mut extra = vec![];
    if s.pods_restarting > 0 {
        extra.push(format!("{} pod(s) restart", s.pods_restarting));
    }
    if s.immutable > 0 {
        extra.push(format!("{} change(s) a sync cannot apply", s.immutable));
    }
    if s.risks > 0 {
        extra.push(format!("{} data risk(s)", s.risks));
    }
    if s.refused > 0 {
        extra.push(format!("{} refused", s.refused));
    }
    if !extra.is_empty() {
        line.push_str(" — ");
        line.push_str(&extra.join(", "));
    }
    line
}

pub(crate) fn multiline(v: &Option<Value>) -> Option<&str> {
    v.as_ref().and_then(Value::as_str).filter(|s| s.contains('\n'))
}

pub fn to_json(r: &Report) -> String {
    let mut s = serde_json::to_string_pretty(r).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}
