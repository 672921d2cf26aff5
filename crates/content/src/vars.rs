//! Reading configuration variables through a `get` function (the environment, a `.env`
//! file, a test map) that the caller passes: the text handling every settings reader shares,
//! with no access to the environment here. Each crate wraps a refused value in its own
//! setting error.

/// A variable's trimmed value, `None` when unset or blank.
pub fn text(get: &dyn Fn(&str) -> Option<String>, name: &str) -> Option<String> {
    get(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// A variable's value made a setting by `parse` (which gets it trimmed): `Ok(None)` when
/// unset or blank, `Err` with the value as `get` gave it when `parse` refuses it.
pub fn parsed<T>(
    get: &dyn Fn(&str) -> Option<String>,
    name: &str,
    parse: impl FnOnce(&str) -> Option<T>,
) -> Result<Option<T>, String> {
    match get(name).filter(|v| !v.trim().is_empty()) {
        None => Ok(None),
        Some(v) => parse(v.trim()).map(Some).ok_or(v),
    }
}

/// `true`/`false` and their usual spellings (`1`/`0`, `yes`/`no`, `on`/`off`), in any
/// letter case.
pub fn truth(v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// A variable reader over fixed `(name, value)` pairs, in the form the `from_vars` readers
/// take (for tests and tools that do not read the environment).
pub fn fixed_vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: std::collections::HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
        .collect();
    move |k: &str| map.get(k).cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_blank_is_unset() {
        let get = fixed_vars(&[("A", "  x "), ("B", "   ")]);
        assert_eq!(text(&get, "A").as_deref(), Some("x"));
        assert_eq!(text(&get, "B"), None);
        assert_eq!(text(&get, "C"), None);
    }

    #[test]
    fn parsed_hands_back_the_refused_value_as_given() {
        let get = fixed_vars(&[("N", " 12 "), ("BAD", " twelve "), ("BLANK", " ")]);
        let number = |v: &str| v.parse::<u32>().ok();
        assert_eq!(parsed(&get, "N", number), Ok(Some(12)));
        assert_eq!(parsed(&get, "BAD", number), Err(" twelve ".to_string()));
        assert_eq!(parsed(&get, "BLANK", number), Ok(None));
        assert_eq!(parsed(&get, "UNSET", number), Ok(None));
    }

    #[test]
    fn truth_takes_the_usual_spellings_in_any_case() {
        for (v, want) in [("TRUE", Some(true)), ("off", Some(false)), ("maybe", None)] {
            assert_eq!(truth(v), want, "{v}");
        }
        assert_eq!(truth(""), None);
    }
}
