//! JSON numbers as JSON Schema reads them: `187.0` is an integer there, while serde refuses
//! it for an integer field. Requests are read again with such numbers made integers.

use serde_json::{Number, Value};

/// The largest integer an `f64` holds exactly (2^53).
const EXACT: f64 = 9_007_199_254_740_992.0;

/// Turns every float with no fraction (within ±2^53) into an integer, in place.
pub fn whole_numbers(v: &mut Value) {
    match v {
        Value::Number(n) => {
            if let Some(f) = n.as_f64()
                && n.is_f64()
                && f.fract() == 0.0
                && f.abs() <= EXACT
            {
                *n = Number::from(f as i64);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(whole_numbers),
        Value::Object(map) => map.values_mut().for_each(whole_numbers),
        _ => {}
    }
}

/// Whether a serde_json error is the refusal of a float where an integer was wanted.
pub fn is_float_for_integer(e: &serde_json::Error) -> bool {
    e.to_string().contains("invalid type: floating point")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_whole_floats_become_integers() {
        let mut v = json!({"a": 187.0, "b": [1.5, -2.0], "c": 1e300, "d": "3.0"});
        whole_numbers(&mut v);
        assert_eq!(v, json!({"a": 187, "b": [1.5, -2], "c": 1e300, "d": "3.0"}));
        assert!(v["a"].is_i64());
    }
}
