//! `.env` in the working directory: variables not already set in the environment. A line
//! that cannot be read is reported with its number (and the rest of the file still loads),
//! instead of silently ending the load at that line.

use std::path::Path;
use std::sync::OnceLock;

/// What was wrong with `.env`, one sentence per bad line (for `config check`).
static PROBLEMS: OnceLock<Vec<String>> = OnceLock::new();

/// The problems found when `.env` was loaded.
pub fn problems() -> &'static [String] {
    PROBLEMS.get().map_or(&[], Vec::as_slice)
}

/// The `.env` of the working directory or, as dotenvy looks, of the nearest folder above it.
pub fn find() -> Option<std::path::PathBuf> {
    let here = std::env::current_dir().ok()?;
    here.ancestors()
        .map(|d| d.join(".env"))
        .find(|p| p.is_file())
}

/// Loads `path` when it exists; reports each bad line on stderr.
pub fn load(path: &Path) {
    let Ok(text) = std::fs::read_to_string(path) else {
        return;
    };
    // `.env` when it is the working directory's own, its full path when found above.
    let here = std::env::current_dir().ok();
    let name = if path.parent() == here.as_deref() {
        ".env".to_string()
    } else {
        path.display().to_string()
    };
    let (clean, problems) = check(&text, &name);
    for p in &problems {
        eprintln!("warning: {p}");
    }
    // Loads what can be read; a value already in the environment wins.
    let _ = dotenvy::from_read(clean.as_bytes());
    let _ = PROBLEMS.set(problems);
}

/// The text without its unreadable lines, and a sentence per such line.
fn check(text: &str, name: &str) -> (String, Vec<String>) {
    let mut bad: Vec<String> = Vec::new();
    for item in dotenvy::from_read_iter(text.as_bytes()) {
        if let Err(dotenvy::Error::LineParse(line, _)) = item {
            bad.push(line);
        }
    }
    if bad.is_empty() {
        return (text.to_string(), Vec::new());
    }
    let lines: Vec<&str> = text.lines().collect();
    let mut skip = vec![false; lines.len()];
    let mut problems = Vec::new();
    let mut from = 0;
    for b in &bad {
        let first = b.lines().next().unwrap_or_default().trim_end();
        let Some(i) = (from..lines.len()).find(|&i| lines[i].trim_end() == first) else {
            continue;
        };
        let span = b.lines().count().max(1);
        for s in skip.iter_mut().skip(i).take(span) {
            *s = true;
        }
        from = i + span;
        // The text may hold a secret: name the variable, never show the value.
        let what = match first.split_once('=') {
            Some((k, _)) if !k.trim().is_empty() => format!(" (setting {})", k.trim()),
            _ => String::new(),
        };
        problems.push(format!(
            "{name}:{}: cannot read this line{what}: write NAME=value, quote values with spaces or #; the line is ignored",
            i + 1
        ));
    }
    let clean = lines
        .iter()
        .zip(&skip)
        .filter(|(_, s)| !**s)
        .map(|(l, _)| *l)
        .collect::<Vec<_>>()
        .join("\n");
    (clean, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bad_line_is_named_by_number_and_the_lines_after_it_still_load() {
        let text = "A=1\nthis is not a setting\nB = \"two words\"\nC='unclosed\nD=4\n";
        let (clean, problems) = check(text, ".env");
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].starts_with(".env:2: cannot read this line"),
            "{problems:?}"
        );
        assert!(problems[1].starts_with(".env:4:"), "{problems:?}");
        assert!(problems[1].contains("(setting C)"), "{problems:?}");
        assert!(!problems[1].contains("unclosed"), "values are never shown");
        let read: Vec<(String, String)> = dotenvy::from_read_iter(clean.as_bytes())
            .collect::<Result<_, _>>()
            .unwrap();
        let names: Vec<&str> = read.iter().map(|(k, _)| k.as_str()).collect();
        assert!(names.contains(&"A") && names.contains(&"B"), "{names:?}");
    }

    #[test]
    fn a_good_file_is_left_as_it_is() {
        let text = "# comment\nA=1\nMULTI=\"line one\nline two\"\n";
        let (clean, problems) = check(text, ".env");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(clean, text);
    }
}
