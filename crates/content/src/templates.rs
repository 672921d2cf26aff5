//! The template set: defaults embedded in the binary, any of them replaceable at run time.
//!
//! Templates whose names end in `.html` are autoescaped: text from a living document can
//! never reach HTML unescaped. Only values the composer has sanitised itself (the web body
//! and the JSON-LD block) are passed as safe strings.

use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

/// Every template name and its embedded default source.
pub const DEFAULTS: [(&str, &str); 10] = [
    (
        "newsletter/modern.html",
        include_str!("../../../templates/newsletter/modern.html"),
    ),
    (
        "newsletter/minimal.html",
        include_str!("../../../templates/newsletter/minimal.html"),
    ),
    (
        "newsletter/plain.html",
        include_str!("../../../templates/newsletter/plain.html"),
    ),
    (
        "newsletter/breathscape.html",
        include_str!("../../../templates/newsletter/breathscape.html"),
    ),
    (
        "newsletter/modern.txt",
        include_str!("../../../templates/newsletter/modern.txt"),
    ),
    (
        "newsletter/minimal.txt",
        include_str!("../../../templates/newsletter/minimal.txt"),
    ),
    (
        "newsletter/plain.txt",
        include_str!("../../../templates/newsletter/plain.txt"),
    ),
    (
        "newsletter/breathscape.txt",
        include_str!("../../../templates/newsletter/breathscape.txt"),
    ),
    (
        "web/post.md",
        include_str!("../../../templates/web/post.md"),
    ),
    (
        "web/page.html",
        include_str!("../../../templates/web/page.html"),
    ),
];

/// A template problem, with the template's name and, when known, its line.
#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("unknown template '{name}'; templates are: {}", DEFAULTS.map(|(n, _)| n).join(", "))]
    Unknown { name: String },
    #[error("template '{name}'{}: {message}", line.map(|l| format!(" line {l}")).unwrap_or_default())]
    Invalid {
        name: String,
        line: Option<usize>,
        message: String,
    },
}

impl TemplateError {
    fn from_minijinja(name: &str, err: &minijinja::Error) -> Self {
        let mut message = err.kind().to_string();
        if let Some(detail) = err.detail() {
            message = format!("{message}: {detail}");
        }
        TemplateError::Invalid {
            name: err.name().unwrap_or(name).to_string(),
            line: err.line(),
            message,
        }
    }
}

/// A ready-to-render template set.
#[derive(Debug)]
pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// The embedded defaults.
    pub fn defaults() -> Self {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
        env.add_filter("wrap", |text: String, width: Option<usize>| {
            crate::text::wrap(&text, width.unwrap_or(72))
        });
        for (name, source) in DEFAULTS {
            // The defaults are compiled in and covered by tests; a broken one is a build defect
            // that the test suite reports, so it is skipped here rather than aborting.
            let _ = env.add_template(name, source);
        }
        Templates { env }
    }

    /// The defaults with some replaced: `(name, source)` pairs, e.g. read from `--templates DIR`.
    pub fn with_overrides<I>(overrides: I) -> Result<Self, TemplateError>
    where
        I: IntoIterator<Item = (String, String)>,
    {
        let mut templates = Self::defaults();
        for (name, source) in overrides {
            if !DEFAULTS.iter().any(|(n, _)| *n == name) {
                return Err(TemplateError::Unknown { name });
            }
            templates
                .env
                .add_template_owned(name.clone(), source)
                .map_err(|e| TemplateError::from_minijinja(&name, &e))?;
        }
        Ok(templates)
    }

    /// Renders `name` with `ctx`.
    pub fn render<S: Serialize>(&self, name: &str, ctx: S) -> Result<String, TemplateError> {
        let tmpl = self
            .env
            .get_template(name)
            .map_err(|_| TemplateError::Unknown {
                name: name.to_string(),
            })?;
        tmpl.render(minijinja::value::Serde(ctx))
            .map_err(|e| TemplateError::from_minijinja(name, &e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_compiles() {
        let t = Templates::defaults();
        for (name, _) in DEFAULTS {
            assert!(t.env.get_template(name).is_ok(), "{name} failed to compile");
        }
    }

    #[test]
    fn overrides_replace_and_report_errors_with_lines() {
        let t =
            Templates::with_overrides([("web/post.md".to_string(), "# {{ title }}".to_string())])
                .expect("valid override");
        assert_eq!(
            t.render("web/post.md", minijinja::context! { title => "Hi" })
                .ok()
                .as_deref(),
            Some("# Hi")
        );
        let err =
            Templates::with_overrides([("web/post.md".to_string(), "line\n{% if %}".to_string())])
                .expect_err("syntax error");
        assert!(err.to_string().contains("line 2"), "{err}");
        let err = Templates::with_overrides([("nope.html".to_string(), String::new())])
            .expect_err("unknown");
        assert!(err.to_string().contains("newsletter/modern.html"));
    }

    #[test]
    fn html_templates_escape_document_text() {
        let t = Templates::with_overrides([(
            "web/page.html".to_string(),
            "<h1>{{ title }}</h1>".to_string(),
        )])
        .expect("valid");
        let out = t
            .render(
                "web/page.html",
                minijinja::context! { title => "<script>alert(1)</script>" },
            )
            .expect("renders");
        assert_eq!(out, "<h1>&lt;script&gt;alert(1)&lt;&#x2f;script&gt;</h1>");
    }
}
