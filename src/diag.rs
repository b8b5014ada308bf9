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


/// A stable code for every kind of problem (`E0xx` errors, `W0xx` warnings), printed with the
/// message (`error[E032]: …`) and listed in ARCHITECTURE.md. Tests match codes, not wording;
/// a code never changes meaning (a new kind of problem gets a new code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    /// an input path does not exist
    NoSuchInput,
    /// a directory holds no YAML file to read
    EmptyDirectory,
    /// an input file is larger than the input limit
    InputTooLarge,
    /// an input could not be read (I/O, standard input, a temporary directory)
    ReadFailed,
    /// an input is not UTF-8 text without control characters
    NotText,
    /// malformed YAML, or YAML beyond bdp's limits (nodes, depth, entries, aliases, merge keys)
    YamlSyntax,
    /// a mapping has the same key twice
    DuplicateKey,
    /// a list or mapping is used as a mapping key
    ComplexKey,
    /// a `REV:PATH` input could not be read from Git
    GitRevision,
    /// a field the schema (or the stack's settings) does not know
    UnknownField,
    /// a required field is missing
    MissingField,
    /// a value of the wrong type or outside its schema
    InvalidValue,
    /// a name does not match its pattern
    InvalidName,
    /// a YAML document is not a mapping
    NotAMapping,
    /// a bdp document with another apiVersion
    UnknownApiVersion,
    /// a bdp document of an unknown kind
    UnknownKind,
    /// no Cluster among the inputs
    NoCluster,
    /// a Cluster names no stack
    NoStack,
    /// a Cluster names a stack that is not known
    UnknownStack,
    /// two Clusters with the same namespace and name
    DuplicateCluster,
    /// a service the stack does not define
    UnknownService,
    /// a defect in a stack definition (a template, a default, a reference, a known-keys list)
    StackDefect,
    /// a setting's value does not fit its declared type
    InvalidSetting,
    /// a role the service does not define, or one not enabled in this configuration
    UnknownRole,
    /// replicas below the role's minimum or above its maximum
    ReplicasOutOfRange,
    /// an even number of replicas for a role that needs a majority quorum
    EvenQuorum,
    /// an image repository, tag or digest that is not an image reference
    InvalidImage,
    /// an image lacks a capability a service requires (e.g. Kerberos encryption types)
    ImageCapability,
    /// a dependency the service does not declare
    UnknownDependency,
    /// a dependency's ConfigMap name or key is not valid
    InvalidConfigMapRef,
    /// a required dependency is not given
    MissingDependency,
    /// a dependency names a Cluster or service that does not provide it, or two sources
    UnresolvedDependency,
    /// the start order (dependencies and `after`) has a cycle
    StartOrderCycle,
    /// an override names a config file the service does not have
    UnknownConfigFile,
    /// an override names a file the role does not mount
    FileNotMounted,
    /// a key override of a text (template) file
    TemplateFileOverride,
    /// an override of a key bdp derives from the layout
    OwnedKey,
    /// a key or value its file format cannot hold as data
    UnwritableValue,
    /// a storage override of a volume the role does not have
    UnknownVolume,
    /// a storage class that is not a Kubernetes name
    InvalidStorageClass,
    /// podOverrides that make the pod template invalid
    InvalidPodOverrides,
    /// a resource request or limit that is not a Kubernetes quantity
    InvalidQuantity,
    /// a resource request above its limit
    RequestAboveLimit,
    /// a generated object name longer than Kubernetes allows
    NameTooLong,
    /// a rule of the stack's `checks` fails for this Cluster
    CheckFailed,
    /// diff --rendered: a document that is not a Kubernetes object
    NotAnObject,
    /// diff --rendered: a bdp input instead of rendered output
    NotRendered,
    /// diff --rendered: the same object twice
    DuplicateObject,
    /// diff --rendered: kustomization.yaml lists a file that is not there
    MissingResource,
    /// a bug in bdp (please report it)
    Internal,
    /// documents of other APIs among the inputs, skipped
    ForeignDocuments,
    /// a Cluster without a namespace (bdp uses `default`)
    NoNamespace,
    /// Cluster documents in a `--stacks` directory, ignored
    ClusterInStacksDir,
    /// an override of a config key neither the stack nor the daemon's key list knows
    UnknownKey,
}

impl Code {
    /// Every code with its text and summary, in order.
    pub const ALL: &'static [(Code, &'static str, &'static str)] = &[
        (Code::NoSuchInput, "E001", "an input path does not exist"),
        (Code::EmptyDirectory, "E002", "a directory holds no YAML file to read"),
        (Code::InputTooLarge, "E003", "an input file is larger than the input limit"),
        (Code::ReadFailed, "E004", "an input could not be read (I/O, standard input, a temporary directory)"),
        (Code::NotText, "E005", "an input is not UTF-8 text without control characters"),
        (Code::YamlSyntax, "E006", "malformed YAML, or YAML beyond bdp's limits (nodes, depth, entries, aliases, merge keys)"),
        (Code::DuplicateKey, "E007", "a mapping has the same key twice"),
        (Code::ComplexKey, "E008", "a list or mapping is used as a mapping key"),
        (Code::GitRevision, "E009", "a `REV:PATH` input could not be read from Git"),
        (Code::UnknownField, "E010", "a field the schema (or the stack's settings) does not know"),
        (Code::MissingField, "E011", "a required field is missing"),
        (Code::InvalidValue, "E012", "a value of the wrong type or outside its schema"),
        (Code::InvalidName, "E013", "a name does not match its pattern"),
        (Code::NotAMapping, "E014", "a YAML document is not a mapping"),
        (Code::UnknownApiVersion, "E015", "a bdp document with another apiVersion"),
        (Code::UnknownKind, "E016", "a bdp document of an unknown kind"),
        (Code::NoCluster, "E020", "no Cluster among the inputs"),
        (Code::NoStack, "E021", "a Cluster names no stack"),
        (Code::UnknownStack, "E022", "a Cluster names a stack that is not known"),
        (Code::DuplicateCluster, "E023", "two Clusters with the same namespace and name"),
        (Code::UnknownService, "E024", "a service the stack does not define"),
        (Code::StackDefect, "E025", "a defect in a stack definition (a template, a default, a reference, a known-keys list)"),
        (Code::InvalidSetting, "E030", "a setting's value does not fit its declared type"),
        (Code::UnknownRole, "E031", "a role the service does not define, or one not enabled in this configuration"),
        (Code::ReplicasOutOfRange, "E032", "replicas below the role's minimum or above its maximum"),
        (Code::EvenQuorum, "E033", "an even number of replicas for a role that needs a majority quorum"),
        (Code::InvalidImage, "E034", "an image repository, tag or digest that is not an image reference"),
        (Code::ImageCapability, "E035", "an image lacks a capability a service requires (e.g. Kerberos encryption types)"),
        (Code::UnknownDependency, "E040", "a dependency the service does not declare"),
        (Code::InvalidConfigMapRef, "E041", "a dependency's ConfigMap name or key is not valid"),
        (Code::MissingDependency, "E042", "a required dependency is not given"),
        (Code::UnresolvedDependency, "E043", "a dependency names a Cluster or service that does not provide it, or two sources"),
        (Code::StartOrderCycle, "E044", "the start order (dependencies and `after`) has a cycle"),
        (Code::UnknownConfigFile, "E050", "an override names a config file the service does not have"),
        (Code::FileNotMounted, "E051", "an override names a file the role does not mount"),
        (Code::TemplateFileOverride, "E052", "a key override of a text (template) file"),
        (Code::OwnedKey, "E053", "an override of a key bdp derives from the layout"),
        (Code::UnwritableValue, "E054", "a key or value its file format cannot hold as data"),
        (Code::UnknownVolume, "E060", "a storage override of a volume the role does not have"),
        (Code::InvalidStorageClass, "E061", "a storage class that is not a Kubernetes name"),
        (Code::InvalidPodOverrides, "E062", "podOverrides that make the pod template invalid"),
        (Code::InvalidQuantity, "E063", "a resource request or limit that is not a Kubernetes quantity"),
        (Code::RequestAboveLimit, "E064", "a resource request above its limit"),
        (Code::NameTooLong, "E065", "a generated object name longer than Kubernetes allows"),
        (Code::CheckFailed, "E070", "a rule of the stack's `checks` fails for this Cluster"),
        (Code::NotAnObject, "E080", "diff --rendered: a document that is not a Kubernetes object"),
        (Code::NotRendered, "E081", "diff --rendered: a bdp input instead of rendered output"),
        (Code::DuplicateObject, "E082", "diff --rendered: the same object twice"),
        (Code::MissingResource, "E083", "diff --rendered: kustomization.yaml lists a file that is not there"),
        (Code::Internal, "E099", "a bug in bdp (please report it)"),
        (Code::ForeignDocuments, "W010", "documents of other APIs among the inputs, skipped"),
        (Code::NoNamespace, "W020", "a Cluster without a namespace (bdp uses `default`)"),
        (Code::ClusterInStacksDir, "W021", "Cluster documents in a `--stacks` directory, ignored"),
        (Code::UnknownKey, "W050", "an override of a config key neither the stack nor the daemon's key list knows"),
    ];

    /// `E032`.
    pub fn as_str(self) -> &'static str {
        Code::ALL.iter().find(|(c, _, _)| *c == self).map_or("E099", |(_, s, _)| s)
    }

    /// What the code means, in one line.
    pub fn summary(self) -> &'static str {
        Code::ALL.iter().find(|(c, _, _)| *c == self).map_or("", |(_, _, s)| s)
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
pub struct Diagnostic {
    pub severity: Severity,
    /// What kind of problem this is (stable across releases).
    pub code: Code,
    pub span: Option<Span>,
    /// Dotted field path inside the document, e.g. `spec.services.hdfs.roles.namenode`.
    pub path: String,
    pub message: String,
    pub expected: Option<String>,
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn error(code: Code, span: Option<Span>, path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            code,
            span,
            path: path.into(),
            message: message.into(),
            expected: None,
            hint: None,
        }
    }
    pub fn warning(code: Code, span: Option<Span>, path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic { severity: Severity::Warning, ..Self::error(code, span, path, message) }
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
            Some(s) => write!(f, "{sev}[{}]: {s}", self.code)?,
            None => write!(f, "{sev}[{}]", self.code)?,
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
        let d = Diagnostic::error(Code::InvalidValue, Some(Span::new("a.yaml", 3, 7)), "spec.x", "bad")
            .expected("an odd number")
            .hint("use 3");
        let s = d.to_string();
        assert_eq!(s, "error[E012]: a.yaml:3:7: spec.x: bad\n  expected: an odd number\n  hint: use 3");
    }

    #[test]
    fn strict_turns_warnings_into_errors() {
        let mut ds = Diagnostics::default();
        ds.push(Diagnostic::warning(Code::UnknownKey, None, "p", "w"));
        assert!(!ds.has_errors());
        ds.make_strict();
        assert!(ds.has_errors());
        assert!(ds.report().starts_with("error[W050]: p: w\n"), "{}", ds.report());
    }

    #[test]
    fn codes_are_unique_and_well_formed() {
        let mut seen = std::collections::BTreeSet::new();
        for (c, s, summary) in Code::ALL {
            assert!(seen.insert(*s), "{s} twice");
            assert_eq!(c.as_str(), *s);
            assert!(!summary.is_empty());
            let (letter, digits) = s.split_at(1);
            assert!((letter == "E" || letter == "W") && digits.len() == 3 && digits.chars().all(|d| d.is_ascii_digit()), "{s}");
        }
    }

    #[test]
    fn duplicates_are_dropped_in_constant_time_per_push() {
        let mut ds = Diagnostics::default();
        for i in 0..20_000 {
            ds.push(Diagnostic::warning(Code::UnknownKey, None, format!("k{}", i % 100), "w"));
        }
        assert_eq!(ds.items.len(), 100);
    }
}
