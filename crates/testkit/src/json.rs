//! Reading JSON answers.

use serde_json::Value;

/// The string `field` of every element of the JSON array `array`, in order; panics if `array`
/// is not an array or an element's `field` is not a string.
pub fn strings_at<'a>(array: &'a Value, field: &str) -> Vec<&'a str> {
    array
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {array}"))
        .iter()
        .map(|element| {
            element[field]
                .as_str()
                .unwrap_or_else(|| panic!("no string {field:?} in {element}"))
        })
        .collect()
}
