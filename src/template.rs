//! The template engine the stacks are written in: minijinja with strict undefined values, so a
//! typo in a stack template is an error and never an empty string in a config file.

use minijinja::{Environment, UndefinedBehavior, Value};

/// Templates are compiled once per distinct text and cached (a fleet renders the same stack
/// templates for every cluster).
pub struct Templates {
    env: std::cell::RefCell<Environment<'static>>,
}

impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}

/// `{{ x | upper_snake }}`: `zoo-keeper.x` → `ZOO_KEEPER_X` (environment variable names).
fn upper_snake(s: String) -> String {
    s.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect()
}

/// `{{ x | sha256 }}`: the SHA-256 of the text, 64 lower-case hex digits (a stable identifier
/// derived from names, e.g. a Grafana dashboard uid: `('a/b/c' | sha256)[:16]`).
fn sha256(s: String) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(s.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// `{{ hex | hex_b64url }}`: the bytes a hex string spells (two digits a byte, either case), in
/// base64url without padding (RFC 4648 §5): a compact identifier from a hash, e.g. a 16-byte id
/// of 22 characters from the first 32 hex digits of a `sha256`.
fn hex_b64url(s: String) -> Result<String, minijinja::Error> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let err = |m: String| minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, format!("hex_b64url: {m}"));
    if !s.len().is_multiple_of(2) {
        return Err(err(format!("an odd number of hex digits ({})", s.len())));
    }
    let digit = |c: u8| (c as char).to_digit(16).ok_or_else(|| err(format!("`{}` is not a hex digit", c as char)));
    let mut bytes = Vec::with_capacity(s.len() / 2);
    for pair in s.as_bytes().chunks(2) {
        bytes.push((digit(pair[0])? * 16 + digit(pair[1])?) as u8);
    }
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    Ok(out)
}

/// `{{ q | quantity }}` / `{{ q | quantity('Mi') }}`: a Kubernetes quantity (`1536Mi`, `2`,
/// `500m`, or a plain number) as a number of base units (bytes, cores), or of the unit given (a
/// quantity suffix: `Mi`, `Gi`, `m`…), e.g. a daemon's memory from its pod's limit:
/// `(role.resources.limits.memory | quantity('Mi')) | int`. Not a quantity: an error.
fn quantity(v: Value, unit: Option<String>) -> Result<f64, minijinja::Error> {
    let bad = |what: String| minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, what);
    let n = match v.as_str() {
        Some(s) => crate::quantity::parse(s).ok_or_else(|| bad(format!("quantity: `{s}` is not a Kubernetes quantity (e.g. 512Mi, 2, 500m)")))?,
        None => f64::try_from(v.clone()).map_err(|_| bad(format!("quantity: `{v}` is not a Kubernetes quantity (e.g. 512Mi, 2, 500m)")))?,
    };
    match unit {
        None => Ok(n),
        Some(u) => match crate::quantity::parse(&format!("1{u}")) {
            Some(m) if m > 0.0 => Ok(n / m),
            _ => Err(bad(format!("quantity: unit `{u}` is not a quantity suffix (Ki, Mi, Gi, m, k, M, G…)"))),
        },
    }
}

/// `{{ text | fromjson }}`: the JSON value of a text (a `varFiles` JSON file), to be changed
/// with `dict(...)` and written with `tojson`. serde_json bounds the nesting (128 levels).
fn fromjson(s: String) -> Result<Value, minijinja::Error> {
    serde_json::from_str::<serde_json::Value>(&s)
        .map(|v| value(&v))
        .map_err(|e| minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, format!("fromjson: not JSON: {e}")))
}

/// A serde value as a template value.
pub fn value<T: serde::Serialize>(v: &T) -> Value {
    Value::from(minijinja::value::Serde(v))
}

impl Templates {
    pub fn new() -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // minijinja's debug mode (on by default only in debug builds) names the undefined value
        // in its errors: always on, so a stack author gets the same message from every build
        env.set_debug(true);
        if let Ok(syntax) = minijinja::syntax::SyntaxConfig::builder().keep_trailing_newline(true).build() {
            env.set_syntax(syntax);
        }
        env.add_filter("upper_snake", upper_snake);
        env.add_filter("sha256", sha256);
        env.add_filter("fromjson", fromjson);
        env.add_filter("quantity", quantity);
        env.add_filter("hex_b64url", hex_b64url);
        Templates { env: std::cell::RefCell::new(env) }
    }

    /// Renders a template string. Errors carry minijinja's explanation (with line when useful).
    pub fn render(&self, template: &str, ctx: &Value) -> Result<String, String> {
        if !template.contains("{{") && !template.contains("{%") {
            return Ok(template.to_string());
        }
        self.cached(template)?.render(ctx)
    }

    /// A compiled template for `source`, compiled on first use.
    fn cached<'a>(&'a self, source: &'a str) -> Result<Cached<'a>, String> {
        if self.env.borrow().get_template(source).is_err() {
            self.env.borrow_mut().add_template_owned(source.to_string(), source.to_string()).map_err(|e| describe(&e))?;
        }
        Ok(Cached { env: self.env.borrow(), name: source })
    }

    /// Evaluates an expression (e.g. `roles.namenode.replicas > 1`).
    pub fn eval(&self, expr: &str, ctx: &Value) -> Result<Value, String> {
        let env = self.env.borrow();
        let e = env.compile_expression(expr).map_err(|e| describe(&e))?;
        e.eval(ctx).map_err(|e| describe(&e))
    }

    /// Whether an expression is true; compiled once, as a cached template.
    pub fn truthy(&self, expr: &str, ctx: &Value) -> Result<bool, String> {
        // a syntax check first, so errors read as expression errors
        let source = format!("{{% if {expr} %}}1{{% endif %}}");
        if self.env.borrow().get_template(&source).is_err() {
            self.env.borrow().compile_expression(expr).map_err(|e| describe(&e))?;
        }
        self.cached(&source)?.render(ctx).map(|s| s == "1")
    }
}

struct Cached<'a> {
    env: std::cell::Ref<'a, Environment<'static>>,
    name: &'a str,
}

impl Cached<'_> {
    fn render(&self, ctx: &Value) -> Result<String, String> {
        let t = self.env.get_template(self.name).map_err(|e| describe(&e))?;
        t.render(ctx).map_err(|e| describe(&e))
    }
}

fn describe(e: &minijinja::Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        s.push_str(&format!(": {inner}"));
        src = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_undefined_is_an_error() {
        let t = Templates::new();
        let ctx = value(&serde_json::json!({"a": {"b": 1}}));
        assert_eq!(t.render("{{ a.b }}", &ctx).unwrap(), "1");
        assert!(t.render("{{ a.c }}", &ctx).is_err());
        assert!(t.truthy("a.b == 1", &ctx).unwrap());
        assert!(t.truthy("a.c is defined", &ctx).is_ok());
    }

    #[test]
    fn upper_snake_filter() {
        let t = Templates::new();
        assert_eq!(t.render("{{ 'zoo-keeper.x' | upper_snake }}", &Value::UNDEFINED).unwrap(), "ZOO_KEEPER_X");
    }

    #[test]
    fn sha256_filter() {
        let t = Templates::new();
        // the SHA-256 test vector of "abc" (FIPS 180-2)
        assert_eq!(t.render("{{ 'abc' | sha256 }}", &Value::UNDEFINED).unwrap(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(t.render("{{ ('abc' | sha256)[:8] }}", &Value::UNDEFINED).unwrap(), "ba7816bf");
    }

    #[test]
    fn hex_b64url_filter() {
        let t = Templates::new();
        let r = |s: &str| t.render(s, &Value::UNDEFINED);
        // RFC 4648 §10 vectors ("f", "fo", "foo", "foob", "fooba", "foobar" in hex), without padding
        for (hex, b64) in [("", ""), ("66", "Zg"), ("666f", "Zm8"), ("666f6f", "Zm9v"), ("666f6f62", "Zm9vYg"), ("666f6f6261", "Zm9vYmE"), ("666f6f626172", "Zm9vYmFy")] {
            assert_eq!(r(&format!("{{{{ '{hex}' | hex_b64url }}}}")).unwrap(), b64, "{hex}");
        }
        // the URL-safe alphabet: 0xfb 0xff 0xbf is "-_-_"; upper-case digits too
        assert_eq!(r("{{ 'FBFFBF' | hex_b64url }}").unwrap(), "-_-_");
        // 16 bytes of a hash: 22 characters
        assert_eq!(r("{{ (('abc' | sha256)[:32]) | hex_b64url }}").unwrap().len(), 22);
        assert!(r("{{ 'abc' | hex_b64url }}").unwrap_err().contains("odd number"));
        assert!(r("{{ 'zz' | hex_b64url }}").unwrap_err().contains("not a hex digit"));
    }

    #[test]
    fn quantity_filter() {
        let t = Templates::new();
        let ctx = value(&serde_json::json!({"r": {"limits": {"memory": "1536Mi", "cpu": 2}, "requests": {"cpu": "500m"}}}));
        assert_eq!(t.render("{{ r.limits.memory | quantity('Mi') | int }}", &ctx).unwrap(), "1536");
        assert_eq!(t.render("{{ r.limits.memory | quantity('Gi') }}", &ctx).unwrap(), "1.5");
        assert_eq!(t.render("{{ r.limits.cpu | quantity | int }}", &ctx).unwrap(), "2");
        assert_eq!(t.render("{{ r.requests.cpu | quantity }}", &ctx).unwrap(), "0.5");
        assert_eq!(t.render("{{ r.requests.cpu | quantity('m') | int }}", &ctx).unwrap(), "500");
        assert!(t.render("{{ '1.5 Gi' | quantity }}", &ctx).unwrap_err().contains("not a Kubernetes quantity"));
        assert!(t.render("{{ '1Gi' | quantity('GB') }}", &ctx).unwrap_err().contains("not a quantity suffix"));
    }

    #[test]
    fn a_json_var_is_written_with_keys_replaced_and_lists_joined() {
        // what a stack manifest does with a `varFiles` JSON value (docs/stack-authoring.md)
        let t = Templates::new();
        let ctx = value(&serde_json::json!({"d": r#"{"b": [1], "uid": "x", "a": "<'>"}"#}));
        let out = t.render("{% set j = d | fromjson %}{{ dict(j, uid='y', b=j.b + [2]) | tojson(indent=2) | tojson }}", &ctx).unwrap();
        let once: String = serde_json::from_str(&out).unwrap();
        let v: serde_json::Value = serde_json::from_str(&once).unwrap();
        assert_eq!(v, serde_json::json!({"a": "<'>", "b": [1, 2], "uid": "y"}));
        assert!(once.starts_with("{\n  \"a\""), "sorted keys, indented: {once}");
        assert!(t.render("{{ '{\"a\": ' | fromjson }}", &ctx).unwrap_err().contains("fromjson: not JSON"));
    }
}
