//! Kubernetes resource quantities (`100m`, `1.5Gi`, `2e3`, `512M`), as numbers for comparison.
//!
//! The grammar is the API server's (`k8s.io/apimachinery/pkg/api/resource`): a signed decimal
//! number, then a binary suffix (`Ki` … `Ei`), a decimal suffix (`n`, `u`, `m`, `k`, `M` … `E`)
//! or a decimal exponent (`e3`, `E-2`). k8s-openapi's `Quantity` is only a string, so bdp
//! parses it here; `f64` is exact enough to order requests and limits and to compare sizes.

/// The value of a quantity in base units (cores, bytes), or None if it is not a quantity.
pub fn parse(q: &str) -> Option<f64> {
    let q = q.trim();
    let body = q.strip_prefix(['+', '-']).unwrap_or(q);
    let digits = body.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(body.len());
    let (num, suffix) = body.split_at(digits);
    // at least one digit, at most one point
    if num.is_empty() || num == "." || num.matches('.').count() > 1 {
        return None;
    }
    let mut n: f64 = num.parse().ok()?;
    if q.starts_with('-') {
        n = -n;
    }
    let mult = match suffix {
        "" => 1.0,
        "Ki" => 1024f64,
        "Mi" => 1024f64.powi(2),
        "Gi" => 1024f64.powi(3),
        "Ti" => 1024f64.powi(4),
        "Pi" => 1024f64.powi(5),
        "Ei" => 1024f64.powi(6),
        "n" => 1e-9,
        "u" => 1e-6,
        "m" => 1e-3,
        "k" => 1e3,
        "M" => 1e6,
        "G" => 1e9,
        "T" => 1e12,
        "P" => 1e15,
        "E" => 1e18,
        e => {
            let exp = e.strip_prefix(['e', 'E'])?;
            let digits = exp.strip_prefix(['+', '-']).unwrap_or(exp);
            if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.len() > 3 {
                return None;
            }
            10f64.powi(exp.parse::<i32>().ok()?)
        }
    };
    Some(n * mult)
}

/// A quantity given as YAML: a string, or a plain number (`cpu: 2`).
pub fn of_json(v: &serde_json::Value) -> Option<f64> {
    match v {
        serde_json::Value::String(s) => parse(s),
        serde_json::Value::Number(n) => n.as_f64(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn suffixes_and_exponents() {
        assert_eq!(parse("100m"), Some(0.1));
        assert_eq!(parse("2"), Some(2.0));
        assert_eq!(parse("1.5Gi"), Some(1.5 * 1024.0 * 1024.0 * 1024.0));
        assert_eq!(parse("512Mi"), Some(512.0 * 1024.0 * 1024.0));
        assert_eq!(parse("1k"), Some(1000.0));
        assert_eq!(parse("1M"), Some(1e6));
        assert_eq!(parse("2e3"), Some(2000.0));
        assert_eq!(parse("5E-1"), Some(0.5));
        assert_eq!(parse("1Ei"), Some(1024f64.powi(6)));
        assert!(parse("1G").unwrap() < parse("1Gi").unwrap());
        for bad in ["", "Gi", "1.2.3", "1gi", "1 Gi", "e3", "1e", "1e9999", "abc", "."] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
