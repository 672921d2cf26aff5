//! Who may see a page and who may post a form: the session a request's cookie names, the
//! scope a page needs (read to look, write to act), and for every form post the same-site
//! check and the session's CSRF token.

use super::page::UiError;
use super::params::Params;
use super::session::{Session, cookie_id};
use crate::state::AppState;
use axum::http::{HeaderMap, Uri};
use halcytone_store::Scope;

/// The signed-in session, if any.
pub fn viewer(state: &AppState, headers: &HeaderMap) -> Option<Session> {
    cookie_id(headers).and_then(|id| state.ui_sessions.get(id))
}

/// What a missing scope is called on a page.
fn lacks(s: &Session, needed: Scope) -> UiError {
    UiError::forbidden(format!(
        "You are signed in with the key {} (scopes: {}); this needs the '{}' scope. Sign out and sign in with another key.",
        s.key_id,
        s.scope_names(),
        needed.as_str()
    ))
}

/// A page that needs `needed`: the session, or a redirect to the sign-in form that comes
/// back to this page, or a 403 page.
pub fn page(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    needed: Scope,
) -> Result<Session, UiError> {
    let Some(s) = viewer(state, headers) else {
        let back = uri.path_and_query().map_or("/ui", |p| p.as_str());
        return Err(UiError::SignIn(back.to_string()));
    };
    if !s.allows(needed) {
        return Err(lacks(&s, needed));
    }
    Ok(s)
}

/// A form post that needs `needed`: posted from this site, by a signed-in session (else off
/// to the sign-in form, back to `back`), with the session's CSRF token.
pub fn form(
    state: &AppState,
    headers: &HeaderMap,
    fields: &Params,
    needed: Scope,
    back: &str,
) -> Result<Session, UiError> {
    same_site(headers)?;
    let Some(s) = viewer(state, headers) else {
        return Err(UiError::SignIn(back.to_string()));
    };
    if !s.csrf_matches(fields.get("csrf")) {
        return Err(UiError::forbidden(
            "This form's security token is missing or out of date. Reload the page and submit the form again.",
        ));
    }
    if !s.allows(needed) {
        return Err(lacks(&s, needed));
    }
    Ok(s)
}

/// Refuses a form posted from another site (see `halcytone_webpage::same_origin`). Tools that
/// send no fetch metadata still need the session cookie and CSRF token.
pub fn same_site(headers: &HeaderMap) -> Result<(), UiError> {
    halcytone_webpage::same_origin(headers).map_err(|_| {
        UiError::forbidden(
            "This form was posted from another site. Use the console's own pages to make changes.",
        )
    })
}
