//! The one deep merge of JSON values, used for `podOverrides` and config overrides (resolve,
//! render) and for a stack's `extends` (stacks). A leaf module.
//!
//! Objects merge key by key, recursively; a scalar or a list in `over` replaces the base value.
//! [`Lists::ByName`] additionally merges lists whose items all have a `name` (containers, env,
//! volumes, ports) item by item, as `kubectl patch --type strategic` does for those lists.

use serde_json::Value;

/// How lists merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lists {
    /// A list in `over` replaces the base list.
    Replace,
    /// Lists whose items all have a `name` merge item by item (same name: merged; new name:
    /// appended); other lists are replaced.
    ByName,
}

/// Merges `over` onto `base`.
pub fn merge(base: &mut Value, over: &Value, lists: Lists) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(bv) => merge(bv, v, lists),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (Value::Array(b), Value::Array(o)) if lists == Lists::ByName && named(o) && named(b) => {
            for item in o {
                match b.iter_mut().find(|x| x.get("name") == item.get("name")) {
                    Some(existing) => merge(existing, item, lists),
                    None => b.push(item.clone()),
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

fn named(items: &[Value]) -> bool {
    items.iter().all(|x| x.get("name").is_some())
}

/// User overrides onto generated JSON: [`merge`] with lists of named items merged by name.
pub fn merge_overrides(base: &mut Value, over: &Value) {
    merge(base, over, Lists::ByName);
}

/// Objects key by key, lists replaced (a stack's `extends`).
pub fn deep_merge(base: &mut Value, over: &Value) {
    merge(base, over, Lists::Replace);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn overrides_merge_lists_by_name() {
        let mut base = json!({"spec": {"containers": [{"name": "a", "image": "x", "env": [{"name": "A", "value": "1"}]}], "tolerations": [{"key": "old"}]}});
        merge_overrides(&mut base, &json!({"spec": {"containers": [{"name": "a", "env": [{"name": "B", "value": "2"}]}, {"name": "side", "image": "y"}], "tolerations": [{"key": "k"}]}}));
        assert_eq!(base["spec"]["containers"][0]["image"], "x");
        assert_eq!(base["spec"]["containers"][0]["env"], json!([{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]));
        assert_eq!(base["spec"]["containers"][1]["name"], "side");
        // a list without names is replaced
        assert_eq!(base["spec"]["tolerations"], json!([{"key": "k"}]));
    }

    #[test]
    fn deep_merge_replaces_lists() {
        let mut base = json!({"a": {"b": 1, "c": [{"name": "x", "v": 1}]}, "d": 1});
        deep_merge(&mut base, &json!({"a": {"c": [{"name": "y"}], "e": null}}));
        assert_eq!(base, json!({"a": {"b": 1, "c": [{"name": "y"}], "e": null}, "d": 1}));
    }
}
