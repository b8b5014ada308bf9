//! Grammars of the values a Cluster may give: Kubernetes names, image references, host:port,
//! MIT Kerberos durations, principals and realms. A stack declares each setting's type
//! ([`SettingType`]); resolve checks the user's value against it, so a value reaching a config
//! file, a script or a manifest template is data of the expected shape, never syntax.
//!
//! Hand-written rather than a regex crate: each grammar is a few lines, has no backtracking, and
//! says *why* a value is refused (the first offending character), which a regex cannot.

use crate::model::SettingType;
use serde_json::Value;

/// `Err` carries what is wrong with the value, for the diagnostic's message.
pub type Check = Result<(), String>;

fn show(s: &str) -> String {
    format!("`{}`", s.escape_debug())
}

/// The first character outside `ok`, as a message.
fn bad_char(s: &str, ok: impl Fn(char) -> bool) -> Check {
    match s.chars().find(|c| !ok(*c)) {
        Some(c) if c.is_control() || c.is_whitespace() => Err(format!("{} contains {:?} (U+{:04X})", show(s), c, c as u32)),
        Some(c) => Err(format!("{} contains `{c}`", show(s))),
        None => Ok(()),
    }
}

/// RFC 1123 label, as Kubernetes names Services, pods and namespaces: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, ≤ 63.
pub fn dns_label(s: &str) -> Check {
    if s.is_empty() {
        return Err("a DNS label cannot be empty".into());
    }
    bad_char(s, |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')?;
    if s.len() > 63 {
        return Err(format!("{} is longer than 63 characters", show(s)));
    }
    if s.starts_with('-') || s.ends_with('-') {
        return Err(format!("{} starts or ends with `-`", show(s)));
    }
    yaml_plain_safe(s)
}

/// RFC 1123 subdomain, as Kubernetes names Secrets, ConfigMaps, Issuers, StorageClasses: DNS
/// labels joined by `.`, ≤ 253.
pub fn dns_subdomain(s: &str) -> Check {
    if s.is_empty() {
        return Err("a DNS subdomain cannot be empty".into());
    }
    bad_char(s, |c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')?;
    if s.len() > 253 {
        return Err(format!("{} is longer than 253 characters", show(s)));
    }
    for l in s.split('.') {
        if l.is_empty() {
            return Err(format!("{} has an empty label (`..`, or a leading or trailing `.`)", show(s)));
        }
        if l.len() > 63 || l.starts_with('-') || l.ends_with('-') {
            return Err(format!("{}: label `{l}` is longer than 63 characters or starts or ends with `-`", show(s)));
        }
    }
    yaml_plain_safe(s)
}

/// A name is interpolated into YAML templates (manifests): one that a YAML 1.1 or 1.2 reader
/// takes for another type (`null`, `true`, `yes`, `0x1f`, `1e3`, `123`) would change type there.
fn yaml_plain_safe(s: &str) -> Check {
    let lower = s.to_ascii_lowercase();
    let keyword = matches!(lower.as_str(), "null" | "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | "nan" | "inf");
    let numeric = s.chars().all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | '-' | '_'))
        && s.starts_with(|c: char| c.is_ascii_digit())
        || s.starts_with("0x")
        || s.starts_with("0o");
    if keyword || numeric {
        return Err(format!("{} reads as a {} in YAML, not as a name", show(s), if keyword { "keyword (null or boolean)" } else { "number" }));
    }
    Ok(())
}

/// A host name (DNS name, any case), an IPv4 address, or an IPv6 address in brackets.
fn host(h: &str, whole: &str) -> Check {
    if let Some(v6) = h.strip_prefix('[').and_then(|x| x.strip_suffix(']')) {
        return v6.parse::<std::net::Ipv6Addr>().map(|_| ()).map_err(|_| format!("{}: `{h}` is not an IPv6 address", show(whole)));
    }
    if h.is_empty() {
        return Err(format!("{} has no host", show(whole)));
    }
    bad_char(h, |c| c.is_ascii_alphanumeric() || c == '-' || c == '.')?;
    if h.len() > 253 || h.split('.').any(|l| l.is_empty() || l.len() > 63 || l.starts_with('-') || l.ends_with('-')) {
        return Err(format!("{}: `{h}` is not a DNS name (labels of 1 to 63 letters, digits and `-`, joined by `.`)", show(whole)));
    }
    Ok(())
}

/// A host alone (no port): a DNS name, an IPv4 address or an IPv6 address in brackets.
pub fn host_only(s: &str) -> Check {
    if s.contains(':') && !(s.starts_with('[') && s.ends_with(']')) {
        return Err(format!("{} has a `:`: give the host alone (the port is a setting of its own)", show(s)));
    }
    host(s, s)
}

/// An SQL-style identifier: `[A-Za-z_][A-Za-z0-9_]*`, at most 63 characters (PostgreSQL's and
/// MySQL's common limit), so it needs no quoting in a JDBC URL, SQL or a shell.
pub fn identifier(s: &str) -> Check {
    if s.is_empty() {
        return Err("an identifier cannot be empty".into());
    }
    bad_char(s, |c| c.is_ascii_alphanumeric() || c == '_')?;
    if s.starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!("{} starts with a digit", show(s)));
    }
    if s.len() > 63 {
        return Err(format!("{} is longer than 63 characters", show(s)));
    }
    Ok(())
}

/// `host[:port]`, port 1..65535.
pub fn host_port(s: &str) -> Check {
    let (h, port) = match s.rfind(':') {
        Some(i) if !s[i..].contains(']') => (&s[..i], Some(&s[i + 1..])),
        _ => (s, None),
    };
    host(h, s)?;
    if let Some(p) = port
        && !matches!(p.parse::<u32>(), Ok(1..=65535) if !p.starts_with('+'))
    {
        return Err(format!("{}: port `{}` is not a number from 1 to 65535", show(s), p.escape_debug()));
    }
    Ok(())
}

/// An OCI image reference `[registry[:port]/]path[:tag][@algorithm:hex]`.
pub fn image_ref(s: &str) -> Check {
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (s, None),
    };
    if let Some(d) = digest {
        image_digest(d)?;
    }
    // a tag is after the last `:` that follows the last `/`
    let slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[slash..].rfind(':') {
        Some(i) => (&rest[..slash + i], Some(&rest[slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(t) = tag {
        image_tag(t)?;
    }
    image_repository(name)
}

/// The repository part of an image reference: an optional registry host (with `.` or `:`, or
/// `localhost`) and lower-case path components separated by `/`.
pub fn image_repository(s: &str) -> Check {
    if s.is_empty() || s.len() > 255 {
        return Err(format!("{} is not 1 to 255 characters long", show(s)));
    }
    let mut parts: Vec<&str> = s.split('/').collect();
    if parts.len() > 1 && (parts[0].contains(['.', ':']) || parts[0] == "localhost") {
        host_port(parts[0]).or_else(|_| host(parts[0], s)).map_err(|e| format!("registry of {}: {e}", show(s)))?;
        parts.remove(0);
    }
    for p in parts {
        bad_char(p, |c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '.' | '_' | '-'))?;
        let ends_ok = p.starts_with(|c: char| c.is_ascii_alphanumeric()) && p.ends_with(|c: char| c.is_ascii_alphanumeric());
        if !ends_ok || p.contains("..") || p.contains("___") || p.contains("._") || p.contains("_.") {
            return Err(format!("{}: path component `{p}` must start and end with a letter or digit, with `.`, `_`, `__` or `-` between", show(s)));
        }
    }
    Ok(())
}

/// An image tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub fn image_tag(s: &str) -> Check {
    if s.is_empty() || s.len() > 128 {
        return Err(format!("tag {} is not 1 to 128 characters long", show(s)));
    }
    bad_char(s, |c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))?;
    if s.starts_with(['.', '-']) {
        return Err(format!("tag {} starts with `.` or `-`", show(s)));
    }
    Ok(())
}

/// An image digest `algorithm:hex` (e.g. `sha256:` and 64 hex digits).
pub fn image_digest(s: &str) -> Check {
    let Some((alg, hex)) = s.split_once(':') else {
        return Err(format!("digest {} is not `algorithm:hex`", show(s)));
    };
    if alg.is_empty() || !alg.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '+' | '.' | '_' | '-')) {
        return Err(format!("digest {}: `{}` is not an algorithm name", show(s), alg.escape_debug()));
    }
    if hex.len() < 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(format!("digest {}: the part after `:` must be at least 32 hex digits", show(s)));
    }
    Ok(())
}

/// An MIT krb5 duration (`krb5_string_to_deltat`): seconds (`3600`), units in the order
/// d, h, m, s with optional blanks between (`24h`, `7d`, `1d 2h`, `1h30m`), `[D-]HH:MM[:SS]`.
/// At most 2^31-1 seconds.
pub fn mit_duration(s: &str) -> Check {
    let fail = || Err(format!("{} is not an MIT Kerberos duration (e.g. `24h`, `7d`, `1d 2h`, `3600`, `10:00:00`)", show(s)));
    let num = |t: &str| -> Option<u64> { (!t.is_empty() && t.len() <= 10 && t.bytes().all(|b| b.is_ascii_digit())).then(|| t.parse().ok()).flatten() };
    if s.trim() != s {
        return fail();
    }
    let total: u64 = if let Some(n) = num(s) {
        n
    } else if s.contains(':') {
        let (days, hms) = match s.split_once('-') {
            Some((d, r)) => match num(d) {
                Some(d) => (d, r),
                None => return fail(),
            },
            None => (0, s),
        };
        let f: Vec<&str> = hms.split(':').collect();
        let two = |t: &str, max: u64| num(t).filter(|v| t.len() == 2 && *v <= max);
        let (h, m, sec) = match f.as_slice() {
            [h, m] => (num(h), two(m, 59), Some(0)),
            [h, m, x] => (num(h), two(m, 59), two(x, 59)),
            _ => return fail(),
        };
        match (h, m, sec) {
            (Some(h), Some(m), Some(x)) => days * 86400 + h * 3600 + m * 60 + x,
            _ => return fail(),
        }
    } else {
        let mut rest = s;
        let mut total = 0u64;
        let mut last = 0;
        while !rest.is_empty() {
            let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            let Some(n) = num(&rest[..digits]) else { return fail() };
            let after = rest[digits..].trim_start_matches(' ');
            let Some(unit) = after.chars().next() else { return fail() };
            let (rank, secs) = match unit {
                'd' => (1, 86400),
                'h' => (2, 3600),
                'm' => (3, 60),
                's' => (4, 1),
                _ => return fail(),
            };
            if rank <= last {
                return fail();
            }
            last = rank;
            total += n * secs;
            rest = after[1..].trim_start_matches(' ');
        }
        if last == 0 {
            return fail();
        }
        total
    };
    if total > i32::MAX as u64 {
        return Err(format!("{} is longer than 2^31-1 seconds (about 68 years)", show(s)));
    }
    Ok(())
}

/// A Kerberos realm: printable ASCII without blanks and without the characters krb5 profiles,
/// kadm5.acl and principal names give a meaning (`[ ] { } # ; = " ' / @ \ * ,` and `:`).
pub fn krb_realm(s: &str) -> Check {
    if s.is_empty() {
        return Err("a realm cannot be empty".into());
    }
    bad_char(s, |c| c.is_ascii_graphic() && !"[]{}#;=\"'/@\\*,:`$".contains(c))
}

/// An MIT principal name `component[/component...][@REALM]`: components of letters, digits,
/// `.`, `_` and `-` (no blanks, no control characters, no `*` wildcard, no escapes).
pub fn krb_principal(s: &str) -> Check {
    let (name, realm) = match s.split_once('@') {
        Some((n, r)) => (n, Some(r)),
        None => (s, None),
    };
    if name.is_empty() {
        return Err(format!("{} has no name before `@`", show(s)));
    }
    for c in name.split('/') {
        if c.is_empty() {
            return Err(format!("{} has an empty component (`//`, or a leading or trailing `/`)", show(s)));
        }
        bad_char(c, |c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))?;
    }
    if let Some(r) = realm {
        krb_realm(r).map_err(|e| format!("realm of {}: {e}", show(s)))?;
    }
    Ok(())
}

/// Whitespace-separated Kerberos encryption type names (`aes256-cts-hmac-sha1-96 ...`).
pub fn krb_enctypes(s: &str) -> Check {
    if s.split(' ').all(str::is_empty) {
        return Err("the list of encryption types is empty".into());
    }
    bad_char(s, |c| c.is_ascii_alphanumeric() || c == '-' || c == ' ')?;
    if s.split(' ').filter(|w| !w.is_empty()).any(|w| w.starts_with('-')) {
        return Err(format!("{}: a name starts with `-`", show(s)));
    }
    Ok(())
}

/// A network topology path, as Hadoop's NetworkTopology reads a rack: `/` and one or more names
/// of ASCII letters, digits, `.`, `_` and `-`, separated by single `/` (no trailing `/`), at most
/// 255 characters. Nothing a shell, a whitespace-separated table or XML would read otherwise.
pub fn topology_path(s: &str) -> Check {
    let fail = || Err(format!("{} is not a topology path", show(s)));
    if s.len() > 255 || !s.starts_with('/') {
        return fail();
    }
    let ok = s[1..].split('/').all(|n| {
        !n.is_empty() && n != "." && n != ".." && n.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
    });
    if ok { Ok(()) } else { fail() }
}

/// The name part of a Kubernetes label key, and a non-empty label value:
/// `[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?`, ≤ 63.
fn label_name(s: &str, what: &str) -> Check {
    if s.is_empty() || s.len() > 63 {
        return Err(format!("{what} {} must have 1 to 63 characters", show(s)));
    }
    bad_char(s, |c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.').map_err(|e| format!("{what} {e}"))?;
    if !s.starts_with(|c: char| c.is_ascii_alphanumeric()) || !s.ends_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(format!("{what} {} must start and end with a letter or digit", show(s)));
    }
    Ok(())
}

/// A Kubernetes label key: `[prefix/]name`, the prefix a DNS subdomain.
pub fn label_key(s: &str) -> Check {
    match s.split_once('/') {
        Some((prefix, name)) => {
            dns_subdomain(prefix).map_err(|e| format!("label key {}: prefix {e}", show(s)))?;
            label_name(name, "label key name")
        }
        None => label_name(s, "label key"),
    }
}

/// A Kubernetes label value: empty, or a label name.
pub fn label_value(s: &str) -> Check {
    if s.is_empty() { Ok(()) } else { label_name(s, "label value") }
}

/// Most entries a `labelSelector` setting may have (Kubernetes sets no limit; a selector with
/// more is a mistake, and the bound comes before anything is built from it).
pub const MAX_SELECTOR_LABELS: usize = 32;

/// A label selector's `matchLabels`: a mapping of label keys to label values (strings).
pub fn label_selector(v: &Value) -> Check {
    let Value::Object(m) = v else { return Err(format!("`{v}` is not a mapping")) };
    if m.len() > MAX_SELECTOR_LABELS {
        return Err(format!("{} labels, at most {MAX_SELECTOR_LABELS}", m.len()));
    }
    for (k, val) in m {
        label_key(k)?;
        match val {
            Value::String(s) => label_value(s).map_err(|e| format!("`{k}`: {e}"))?,
            other => return Err(format!("`{k}`: `{other}` is not a string (quote it: \"{other}\")")),
        }
    }
    Ok(())
}

/// Text on one line: no control characters (line breaks, tabs, NUL...) and no U+2028/U+2029.
pub fn line(s: &str) -> Check {
    bad_char(s, |c| !c.is_control() && c != '\u{2028}' && c != '\u{2029}')
}

impl SettingType {
    /// The name a stack writes (`krbRealm`).
    pub fn name(self) -> String {
        serde_json::to_value(self).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
    }

    /// What a value of this type looks like, for `expected:` in diagnostics.
    pub fn describe(self) -> &'static str {
        match self {
            SettingType::String => "a string",
            SettingType::Line => "a string on one line, without control characters",
            SettingType::Integer => "an integer",
            SettingType::Boolean => "true or false",
            SettingType::Object => "a mapping",
            SettingType::Array => "a list",
            SettingType::DnsLabel => "a DNS label: lower-case letters, digits and `-`, at most 63, e.g. `ns1`",
            SettingType::DnsSubdomain => "a Kubernetes object name (DNS subdomain): lower-case letters, digits, `-` and `.`, at most 253, e.g. `ca-issuer`",
            SettingType::StorageClass => "a StorageClass name (DNS subdomain), e.g. `fast-ssd`",
            SettingType::ImageRef => "an image reference `[registry/]path[:tag][@sha256:hex]`",
            SettingType::HostPort => "`host[:port]`, e.g. `kdc1.example.com:88`",
            SettingType::Host => "a host name or IP address without a port, e.g. `db1.example.com`",
            SettingType::Identifier => "an identifier: a letter or `_`, then letters, digits and `_`, at most 63, e.g. `catalog_db`",
            SettingType::MitDuration => "an MIT Kerberos duration, e.g. `24h`, `7d`, `1d 2h`, `3600`, `10:00:00`",
            SettingType::KrbPrincipal => "a Kerberos principal `name[/instance][@REALM]` of letters, digits, `.`, `_`, `-`",
            SettingType::KrbRealm => "a Kerberos realm without blanks, control characters or `[]{}#;=\"'/@\\*,:`, e.g. `EXAMPLE.COM`",
            SettingType::KrbEnctypes => "encryption type names separated by spaces, e.g. `aes256-cts-hmac-sha1-96`",
            SettingType::TopologyPath => "a topology path: `/` then names of letters, digits, `.`, `_`, `-` separated by `/`, e.g. `/zone-a/rack-1`",
            SettingType::LabelSelector => "a mapping of Kubernetes label keys to label values (`matchLabels`), e.g. `{app.kubernetes.io/name: prometheus}`",
        }
    }

    /// Checks `v` against the type; `Err` says what is wrong.
    pub fn check(self, v: &Value) -> Check {
        let text = |f: fn(&str) -> Check| match v {
            Value::String(s) => f(s),
            other => Err(format!("`{other}` is not a string")),
        };
        match self {
            SettingType::String => text(|_| Ok(())),
            SettingType::Line => text(line),
            SettingType::Integer if v.is_i64() || v.is_u64() => Ok(()),
            SettingType::Boolean if v.is_boolean() => Ok(()),
            SettingType::Object if v.is_object() => Ok(()),
            SettingType::Array if v.is_array() => Ok(()),
            SettingType::Integer | SettingType::Boolean | SettingType::Object | SettingType::Array => {
                Err(format!("`{v}` is not {}", self.describe()))
            }
            SettingType::DnsLabel => text(dns_label),
            SettingType::DnsSubdomain | SettingType::StorageClass => text(dns_subdomain),
            SettingType::ImageRef => text(image_ref),
            SettingType::HostPort => text(host_port),
            SettingType::Host => text(host_only),
            SettingType::Identifier => text(identifier),
            SettingType::MitDuration => text(mit_duration),
            SettingType::KrbPrincipal => text(krb_principal),
            SettingType::KrbRealm => text(krb_realm),
            SettingType::KrbEnctypes => text(krb_enctypes),
            SettingType::TopologyPath => text(topology_path),
            SettingType::LabelSelector => label_selector(v),
        }
    }
}

/// An absolute path: `/`, then segments without control characters, no empty, `.` or `..`
/// segment (an HDFS or local path given to a tool as one argv element).
pub fn absolute_path(s: &str) -> Check {
    line(s)?;
    let Some(rest) = s.strip_prefix('/') else { return Err(format!("{} does not start with `/`", show(s))) };
    if rest.is_empty() {
        return Ok(());
    }
    match rest.split('/').find(|seg| seg.is_empty() || *seg == "." || *seg == "..") {
        Some("") => Err(format!("{} has an empty segment (`//` or a trailing `/`)", show(s))),
        Some(seg) => Err(format!("{} has a segment `{seg}`", show(s))),
        None => Ok(()),
    }
}

/// A name of ASCII letters, digits, `.`, `_` and `-`, not starting with `.` or `-`, at most 255.
pub fn plain_name(s: &str) -> Check {
    if s.is_empty() || s.len() > 255 {
        return Err(format!("{} is empty or longer than 255 characters", show(s)));
    }
    if s.starts_with(['.', '-']) {
        return Err(format!("{} starts with `{}`", show(s), &s[..1]));
    }
    bad_char(s, |c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

impl crate::model::ActionArgType {
    /// What a value of this type looks like, for errors.
    pub fn describe(self) -> &'static str {
        use crate::model::ActionArgType as T;
        match self {
            T::Line => "one line of text without control characters",
            T::Integer => "an integer",
            T::AbsolutePath => "an absolute path such as `/data/in` (no empty, `.` or `..` segment)",
            T::DnsLabel => "a DNS label: lower-case letters, digits and `-`, at most 63",
            T::Name => "a name of letters, digits, `.`, `_` and `-`",
        }
    }
}

impl crate::model::ActionArgDef {
    /// Checks a value given for the argument: its enumeration (`values`), its type and, for an
    /// integer, its range. `Err` says what is wrong and what is allowed.
    pub fn check(&self, v: &str) -> Check {
        use crate::model::ActionArgType as T;
        if !self.values.is_empty() {
            return if self.values.iter().any(|x| x == v) {
                Ok(())
            } else {
                Err(format!("{} is not one of the allowed values: {}", show(v), self.values.join(", ")))
            };
        }
        match self.ty {
            T::Line => line(v),
            T::AbsolutePath => absolute_path(v),
            T::DnsLabel => dns_label(v),
            T::Name => plain_name(v),
            T::Integer => {
                let n: i64 = v.parse().map_err(|_| format!("{} is not an integer", show(v)))?;
                match (self.min, self.max) {
                    (Some(lo), _) if n < lo => Err(format!("{n} is below the smallest allowed value {lo}")),
                    (_, Some(hi)) if n > hi => Err(format!("{n} is above the largest allowed value {hi}")),
                    _ => Ok(()),
                }
            }
        }
    }

    /// The allowed values in words: the enumeration, or the type and range.
    pub fn allowed(&self) -> String {
        if !self.values.is_empty() {
            return format!("one of {}", self.values.join(", "));
        }
        match (self.ty, self.min, self.max) {
            (crate::model::ActionArgType::Integer, Some(lo), Some(hi)) => format!("an integer from {lo} to {hi}"),
            (t, _, _) => t.describe().to_string(),
        }
    }
}

/// A setting's value that does not fit its type: the index of the offending list item (if
/// any), what is wrong, and what was expected.
#[derive(Debug, Clone, PartialEq)]
pub struct Mismatch {
    pub item: Option<usize>,
    pub message: String,
    pub expected: String,
}

impl crate::model::SettingDef {
    /// Checks a value (the user's, or the stack's default) against the setting's type.
    pub fn check(&self, v: &Value) -> Result<(), Mismatch> {
        let Some(ty) = self.ty else { return Ok(()) };
        let unset_ok = |t: SettingType, v: &Value| t.is_text() && v.as_str() == Some("") && self.default.as_str() == Some("");
        if unset_ok(ty, v) {
            return Ok(());
        }
        ty.check(v).map_err(|message| Mismatch { item: None, message, expected: ty.describe().to_string() })?;
        if let (SettingType::Array, Some(it), Value::Array(items)) = (ty, self.items, v) {
            for (i, x) in items.iter().enumerate() {
                it.check(x).map_err(|message| Mismatch { item: Some(i), message, expected: format!("a list of {}", it.describe()) })?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn action_argument_grammars() {
        use crate::model::{ActionArgDef, ActionArgType};
        assert!(absolute_path("/").is_ok() && absolute_path("/data/in put;x").is_ok());
        for bad in ["data", "/a//b", "/a/", "/a/../b", "/./a", "/a\nb"] {
            assert!(absolute_path(bad).is_err(), "{bad}");
        }
        assert!(plain_name("before-upgrade.1_x").is_ok());
        for bad in ["", "-x", ".x", "a b", "a/b", "a;b"] {
            assert!(plain_name(bad).is_err(), "{bad}");
        }
        let int = ActionArgDef { ty: ActionArgType::Integer, min: Some(1), max: Some(100), ..Default::default() };
        assert!(int.check("10").is_ok());
        assert!(int.check("0").unwrap_err().contains("below the smallest allowed value 1"));
        assert!(int.check("1e3").unwrap_err().contains("not an integer"));
        let e = ActionArgDef { values: vec!["get".into(), "enter".into()], ..Default::default() };
        assert!(e.check("enter").is_ok());
        assert!(e.check("enter ").unwrap_err().contains("allowed values: get, enter"));
        assert_eq!(e.allowed(), "one of get, enter");
    }

    use super::*;

    #[test]
    fn names() {
        for ok in ["bdp-ca", "a", "ca-01", "x9"] {
            assert!(dns_label(ok).is_ok(), "{ok}");
            assert!(dns_subdomain(ok).is_ok(), "{ok}");
        }
        assert!(dns_subdomain("ca.example-1.io").is_ok());
        for bad in ["{a: b}", "null", "ca-01 # prod", "ns $(reboot)<x>", "Ca", "-a", "a-", "a..b", "fast\nssd", "", "123", "true", "1e3", "0x1f"] {
            assert!(dns_subdomain(bad).is_err(), "{bad:?}");
        }
        assert!(dns_label("a.b").is_err());
        assert!(dns_label(&"a".repeat(64)).is_err());
        assert!(dns_subdomain("a.".repeat(127).trim_end_matches('.')).is_ok());
    }

    #[test]
    fn topology_paths() {
        for ok in ["/default-rack", "/zone-a/rack-1", "/dc1/r_2/x.y", "/A9"] {
            assert!(topology_path(ok).is_ok(), "{ok}");
        }
        for bad in ["", "/", "rack", "/a/", "//a", "/a//b", "/a b", "/a\n/b", "/a;reboot", "/$(x)", "/a/../b", "/.", "/ä", &format!("/{}", "a".repeat(255))] {
            assert!(topology_path(bad).is_err(), "{bad:?}");
        }
        let t = SettingType::TopologyPath;
        assert!(t.check(&serde_json::json!("/r1")).is_ok());
        assert!(t.check(&serde_json::json!(1)).is_err());
        assert_eq!(t.name(), "topologyPath");
    }

    #[test]
    fn host_ports() {
        for ok in ["kdc1.corp.example.com:88", "kdc", "10.0.0.1:749", "[::1]:88", "[fe80::1]", "KDC.EXAMPLE.COM"] {
            assert!(host_port(ok).is_ok(), "{ok}");
        }
        for bad in ["{'a': 'b'}", "a b:88", "h:0", "h:65536", "h:", ":88", "h:8x", "h\n[realms]", "h:+88", "[zz]:1", "a..b"] {
            assert!(host_port(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hosts_and_identifiers() {
        for ok in ["db1.example.com", "postgres", "10.0.0.1", "[::1]", "DB.EXAMPLE.COM"] {
            assert!(host_only(ok).is_ok(), "{ok}");
        }
        for bad in ["db:5432", "", "a b", "a..b", "h\n", "[zz]", "::1"] {
            assert!(host_only(bad).is_err(), "{bad:?}");
        }
        for ok in ["catalog", "app_db", "_x1", "A"] {
            assert!(identifier(ok).is_ok(), "{ok}");
        }
        for bad in ["", "1db", "my-db", "db;drop", "a b", "x\n", &"a".repeat(64)] {
            assert!(identifier(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn images() {
        for ok in [
            "zookeeper:3.9.3",
            "docker.io/library/zookeeper:3.9.3",
            "registry.example.com:5000/team/hadoop:3.3.6-jdk11",
            "localhost/x",
            "ghcr.io/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "a/b:t@sha256:0123456789abcdef0123456789abcdef",
        ] {
            assert!(image_ref(ok).is_ok(), "{ok}");
        }
        for bad in ["Zoo:1", "zoo:1\nx", "zoo:", "zoo:-x", "zoo@md5", "zoo@sha256:xyz", "zoo bar", "a//b", "a/-b", ""] {
            assert!(image_ref(bad).is_err(), "{bad:?}");
        }
        assert!(image_tag("3.9\nevil").is_err());
        assert!(image_tag("latest").is_ok());
    }

    #[test]
    fn mit_durations() {
        for ok in ["24h", "7d", "1d 2h", "3600", "10:00:00", "1h30m", "1d2h3m4s", "2-10:00:00", "10:30", "0", "1d 2h 3m 4s"] {
            assert!(mit_duration(ok).is_ok(), "{ok}");
        }
        for bad in ["#7d", "{", "", "7", "d", "7x", "2h1d", "1h1h", "10:60", "1:2:3:4", "7d\n[realms]", " 7d", "99999999999", "24h ", "-1"] {
            if bad == "7" {
                continue; // plain seconds are valid
            }
            assert!(mit_duration(bad).is_err(), "{bad:?}");
        }
        assert!(mit_duration("100000d").is_err());
    }

    #[test]
    fn principals_and_realms() {
        for ok in ["bdp/provisioner", "bdp/provisioner@CLUSTER.LOCAL", "hdfs/nn-0.ns.svc.cluster.local@R", "admin"] {
            assert!(krb_principal(ok).is_ok(), "{ok}");
        }
        for bad in ["bdp/provisioner@CLUSTER.LOCAL *\n*/*", "a b", "*/*", "a//b", "/a", "a@", "@R", "a@B@C", "a\tb", "a\\/b", "a#b"] {
            assert!(krb_principal(bad).is_err(), "{bad:?}");
        }
        for ok in ["EXAMPLE.COM", "CLUSTER.LOCAL", "my-realm.io"] {
            assert!(krb_realm(ok).is_ok(), "{ok}");
        }
        for bad in ["MY REALM", "EVIL.COM\n[LIBDEFAULTS]", "", "A{", "A]", "A#", "A;B", "A=B", "\"A\"", "A\u{7f}"] {
            assert!(krb_realm(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn typed_values() {
        assert!(SettingType::HostPort.check(&serde_json::json!({"a": "b"})).is_err());
        assert!(SettingType::DnsSubdomain.check(&Value::Null).is_err());
        assert!(SettingType::Integer.check(&serde_json::json!(3)).is_ok());
        assert!(SettingType::Integer.check(&serde_json::json!("3")).is_err());
        assert!(SettingType::Line.check(&serde_json::json!("a\u{2028}b")).is_err());
        assert!(SettingType::KrbEnctypes.check(&serde_json::json!("aes256-cts-hmac-sha384-192 aes128-cts-hmac-sha1-96")).is_ok());
        assert!(SettingType::KrbEnctypes.check(&serde_json::json!("aes:normal\n[x]")).is_err());
    }

    #[test]
    fn label_selectors() {
        use serde_json::json;
        let ok = |v: Value| SettingType::LabelSelector.check(&v);
        for good in [json!({}), json!({"app.kubernetes.io/name": "prometheus"}), json!({"kubernetes.io/metadata.name": "monitoring", "team": ""}), json!({"A_b.c-9": "X_y.z-1"})] {
            assert!(ok(good.clone()).is_ok(), "{good}");
        }
        for bad in [
            json!("app=prometheus"),
            json!(["app"]),
            json!({"app": true}),
            json!({"app": 1}),
            json!({"app": "prom etheus"}),
            json!({"app": "a\nb"}),
            json!({"app": "-x"}),
            json!({"app": "x".repeat(64)}),
            json!({"": "x"}),
            json!({"/name": "x"}),
            json!({"Example.com/name": "x"}),
            json!({"a/b/c": "x"}),
            json!({"app\"}: {": "x"}),
            json!({"name.": "x"}),
        ] {
            assert!(ok(bad.clone()).is_err(), "{bad}");
        }
        let many: serde_json::Map<String, Value> = (0..=MAX_SELECTOR_LABELS).map(|i| (format!("k{i}"), json!("v"))).collect();
        assert!(ok(Value::Object(many)).unwrap_err().contains("at most"));
        assert!(!SettingType::LabelSelector.is_text());
    }
}
