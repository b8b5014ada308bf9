//! Diagnostics: every problem bdp finds in its input, with where it is and how to fix it.
//!
//! Stages never stop at the first problem: they push [`Diagnostic`]s into a [`Diagnostics`]
//! collection and the CLI prints them all at once. A diagnostic names the file, line and column,
//! the field path (`spec.services.zookeeper.roles.server.replicas`), what was expected, and a hint.

use std::collections::HashMap;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::path::PathBuf;

/// Where in the input a value came from (1-based line and column).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, serde::Serialize)]
pub struct Span {
    pub file: PathBuf,
    pub line: usize,
    pub col: usize,
}

impl Span {
    pub fn new(file: impl Into<PathBuf>, line: usize, col: usize) -> Self {
        Span { file: file.into(), line, col }
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.col)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    pub span: Option<Span>,
    /// Dotted field path inside the document, e.g. `spec.services.hdfs.roles.namenode`.
    pub path: String,
    pub message: String,
    pub expected: Option<String>,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn error(span: Option<Span>, path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            span,
            path: path.into(),
            message: message.into(),
            expected: None,
            hint: None,
        }
    }
    pub fn warning(span: Option<Span>, path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Warning, ..Self::error(span, path, message) }
    }
    pub fn expected(mut self, e: impl Into<String>) -> Self {
        self.expected = Some(e.into());
        self
    }
    pub fn hint(mut self, h: impl Into<String>) -> Self {
        self.hint = Some(h.into());
        self
    }
    pub fn hint_opt(mut self, h: Option<String>) -> Self {
        if h.is_some() {
            self.hint = h;
        }
        self
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        match &self.span {
            Some(s) => write!(f, "{sev}: {s}")?,
            None => write!(f, "{sev}")?,
        }
        if !self.path.is_empty() {
            write!(f, ": {}", self.path)?;
        }
        write!(f, ": {}", self.message)?;
        if let Some(e) = &self.expected {
            write!(f, "\n  expected: {e}")?;
        }
        if let Some(h) = &self.hint {
            write!(f, "\n  hint: {h}")?;
        }
        Ok(())
    }
}

/// An ordered collection of diagnostics; errors make a stage fail, warnings do not.
#[derive(Debug, Default, Clone)]
pub struct Diagnostics {
    pub items: Vec<Diagnostic>,
    /// Hash of each item → its indexes, so `push` drops a repeated diagnostic in constant time
    /// (a linear scan made 20,000 override keys quadratic).
    seen: HashMap<u64, Vec<usize>>,
}

fn hash_of(d: &Diagnostic) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    d.hash(&mut h);
    h.finish()
}

impl Diagnostics {
    pub fn push(&mut self, d: Diagnostic) {
        let h = hash_of(&d);
        let same = self.seen.entry(h).or_default();
        if same.iter().any(|&i| self.items[i] == d) {
            return;
        }
        same.push(self.items.len());
        self.items.push(d);
    }
    pub fn extend(&mut self, other: Diagnostics) {
        for d in other.items {
            self.push(d);
        }
    }
    pub fn has_errors(&self) -> bool {
        self.items.iter().any(|d| d.severity == Severity::Error)
    }
    pub fn errors(&self) -> usize {
        self.items.iter().filter(|d| d.severity == Severity::Error).count()
    }
    /// Turns warnings into errors (`--strict`).
    pub fn make_strict(&mut self) {
        for d in &mut self.items {
            d.severity = Severity::Error;
        }
        self.seen.clear();
        for (i, d) in self.items.iter().enumerate() {
            self.seen.entry(hash_of(d)).or_default().push(i);
        }
    }
    /// Every diagnostic, sorted, one per line (with its expectation and hint), then a count
    /// line when there are errors: what the CLI prints to stderr.
    pub fn report(&self) -> String {
        use std::fmt::Write as _;
        let mut s = String::new();
        for x in self.sorted() {
            let _ = writeln!(s, "{x}");
        }
        let n = self.errors();
        let w = self.items.iter().filter(|x| x.severity == Severity::Warning).count();
        if n > 0 {
            let _ = writeln!(s, "bdp: {n} error(s), {w} warning(s)");
        }
        s
    }

    /// Sorted by file, line, column, so output does not depend on stage order.
    pub fn sorted(&self) -> Vec<&Diagnostic> {
        let mut v: Vec<&Diagnostic> = self.items.iter().collect();
        v.sort_by(|a, b| {
            let ka = a.span.as_ref().map(|s| (&s.file, s.line, s.col));
            let kb = b.span.as_ref().map(|s| (&s.file, s.line, s.col));
            ka.cmp(&kb).then(a.path.cmp(&b.path)).then(a.message.cmp(&b.message))
        });
        v
    }
}

/// "did you mean …" for a misspelt name, using Jaro-Winkler similarity (strsim).
pub fn did_you_mean<'a, I: IntoIterator<Item = &'a str>>(wrong: &str, candidates: I) -> Option<String> {
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let s = strsim::jaro_winkler(&wrong.to_lowercase(), &c.to_lowercase());
        if s > 0.8 && best.is_none_or(|(b, _)| s > b) {
            best = Some((s, c));
        }
    }
    best.map(|(_, c)| format!("did you mean `{c}`?"))
}

/// "did you mean …" for a misspelt config key: the candidate with the highest normalized
/// Damerau-Levenshtein similarity (strsim), compared without case, if it is at least 0.8 (the
/// first of equals wins). Config keys share long prefixes (`dfs.namenode.`), which make
/// Jaro-Winkler call unrelated keys close (`dfs.namenode.handler.count` is not a misspelt
/// `dfs.namenode.name.dir`); an edit distance of at most a fifth of the length is a typo.
pub fn did_you_mean_key<'a, I: IntoIterator<Item = &'a str>>(wrong: &str, candidates: I) -> Option<String> {
    const MIN: f64 = 0.8;
    let w = wrong.to_lowercase();
    let wl = w.chars().count();
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        // similarity ≤ 1 - |length difference| / longer length: skip what cannot reach MIN
        let cl = c.chars().count();
        let longer = wl.max(cl).max(1) as f64;
        if 1.0 - (wl.abs_diff(cl) as f64) / longer < MIN {
            continue;
        }
        let s = strsim::normalized_damerau_levenshtein(&w, &c.to_lowercase());
        if s >= MIN && best.is_none_or(|(b, _)| s > b) {
            best = Some((s, c));
        }
    }
    best.map(|(_, c)| format!("did you mean `{c}`?"))
}

/// A hint listing what exists, with a did-you-mean when one name is close.
pub fn known_hint<'a, I: IntoIterator<Item = &'a str> + Clone>(wrong: &str, what: &str, known: I) -> String {
    let list: Vec<&str> = known.clone().into_iter().collect();
    let known_s = if list.is_empty() { "none".to_string() } else { list.join(", ") };
    match did_you_mean(wrong, known) {
        Some(m) => format!("{m} (known {what}: {known_s})"),
        None => format!("known {what}: {known_s}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names() {
        assert_eq!(did_you_mean("zookeper", ["hdfs", "zookeeper"]).as_deref(), Some("did you mean `zookeeper`?"));
        assert_eq!(did_you_mean("kafka", ["hdfs", "zookeeper"]), None);
    }

    #[test]
    fn suggests_config_keys_only_within_a_few_edits() {
        let known = ["dfs.namenode.name.dir", "dfs.namenode.handler.count", "dfs.replication"];
        assert_eq!(did_you_mean_key("dfs.namenode.handlr.count", known).as_deref(), Some("did you mean `dfs.namenode.handler.count`?"));
        assert_eq!(did_you_mean_key("DFS.Replication", known).as_deref(), Some("did you mean `dfs.replication`?"));
        // Jaro-Winkler finds these close (a shared prefix); they are different keys
        assert!(strsim::jaro_winkler("dfs.namenode.service.handler.count", "dfs.namenode.name.dir") > 0.8);
        assert_eq!(did_you_mean_key("dfs.namenode.service.handler.count", ["dfs.namenode.name.dir"]), None);
        assert_eq!(did_you_mean_key("tickTim", ["tickTime", "initLimit"]).as_deref(), Some("did you mean `tickTime`?"));
        assert_eq!(did_you_mean_key("x", ["tickTime"]), None);
    }

    #[test]
    fn display_carries_location_path_and_hint() {
        let d = Diagnostic::error(Some(Span::new("a.yaml", 3, 7)), "spec.x", "bad")
            .expected("an odd number")
            .hint("use 3");
        let s = d.to_string();
        assert_eq!(s, "error: a.yaml:3:7: spec.x: bad\n  expected: an odd number\n  hint: use 3");
    }

    #[test]
    fn strict_turns_warnings_into_errors() {
        let mut ds = Diagnostics::default();
        ds.push(Diagnostic::warning(None, "p", "w"));
        assert!(!ds.has_errors());
        ds.make_strict();
        assert!(ds.has_errors());
    }
}
