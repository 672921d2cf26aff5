//! Assertions on text (pages, logs, command output).

/// Asserts that `text` contains every one of `expected`, naming the first one missing.
#[track_caller]
pub fn assert_contains_all(text: &str, expected: &[&str]) {
    for e in expected {
        assert!(text.contains(e), "{e} in {text}");
    }
}
