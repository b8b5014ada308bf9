//! Label selectors (matchLabels and matchExpressions).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use std::collections::BTreeMap;

pub fn matches(sel: &LabelSelector, labels: &BTreeMap<String, String>) -> bool {
    let ml = sel
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    let me = sel.match_expressions.iter().flatten().all(|r| {
        let vals = r.values.clone().unwrap_or_default();
        match r.operator.as_str() {
            "In" => labels.get(&r.key).is_some_and(|v| vals.contains(v)),
            "NotIn" => labels.get(&r.key).is_none_or(|v| !vals.contains(v)),
            "Exists" => labels.contains_key(&r.key),
            "DoesNotExist" => !labels.contains_key(&r.key),
            _ => false,
        }
    });
    ml && me
}

/// A Service's plain selector map.
pub fn map_matches(sel: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> bool {
    !sel.is_empty() && sel.iter().all(|(k, v)| labels.get(k) == Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelectorRequirement;

    #[test]
    fn selectors() {
        let l: BTreeMap<String, String> =
            [("a".into(), "1".into()), ("b".into(), "2".into())].into();
        let s = LabelSelector {
            match_labels: Some([("a".into(), "1".into())].into()),
            ..Default::default()
        };
        assert!(matches(&s, &l));
        let s = LabelSelector {
            match_expressions: Some(vec![LabelSelectorRequirement {
                key: "b".into(),
                operator: "NotIn".into(),
                values: Some(vec!["2".into()]),
            }]),
            ..Default::default()
        };
        assert!(!matches(&s, &l));
        assert!(
            matches(&LabelSelector::default(), &l),
            "an empty selector selects everything"
        );
        assert!(
            !map_matches(&BTreeMap::new(), &l),
            "a Service without selector selects nothing"
        );
    }
}
