//! `GET /ui`: what this service is (dry run or live, its store, its document source), links
//! to the console's pages, and in dry run links to the mock consoles.

use super::guard::Visit;
use super::page::UiError;
use crate::config::DocumentSource;
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use minijinja::context;

/// Where the living document comes from, in a few words.
fn source(state: &AppState) -> String {
    match &state.config.document {
        DocumentSource::File(p) => format!("file {}", p.display()),
        DocumentSource::Inline { label, .. } => format!("bundled document ({label})"),
        DocumentSource::Remote(r) => format!("{} {}", r.kind.as_str(), r.label()),
        DocumentSource::None => "none configured".into(),
    }
}

pub async fn page(State(state): State<AppState>, visit: Visit) -> Result<Response, UiError> {
    let s = &state.publishing.settings;
    let ctx = context! {
        service => state.config.service_name.clone(),
        version => state.config.version.clone(),
        environment => state.config.environment.clone(),
        dry_run => s.dry_run,
        store => state.store.backend(),
        document => source(&state),
        approval_required => state.config.approval_required,
        crm_url => s.crm_url.as_str(),
        platform_url => s.platform_url.as_str(),
        uptime => humanize(state.started.elapsed().as_secs()),
    };
    visit.html("overview.html", "overview", "Overview", ctx)
}

/// Seconds as `3 d 4 h`, `2 h 5 min`, `45 s`.
fn humanize(secs: u64) -> String {
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60);
    match (d, h, m) {
        (0, 0, 0) => format!("{secs} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn uptime_reads_well() {
        assert_eq!(super::humanize(45), "45 s");
        assert_eq!(super::humanize(125), "2 min");
        assert_eq!(super::humanize(7500), "2 h 5 min");
        assert_eq!(super::humanize(3 * 86_400 + 4 * 3600), "3 d 4 h");
    }
}
