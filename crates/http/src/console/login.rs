//! Sign-in and sign-out. The key is checked exactly as the API checks a presented key
//! ([`crate::auth::authenticate`]: the `API_KEY` admin key in constant time, or a stored,
//! unrevoked key by its hash). It arrives in a POST body only, and is never logged, stored
//! in the session, echoed in a page or put in a URL.

use super::guard::{Form, Visit, viewer};
use super::page::{self, UiError};
use super::params::{Flash, Params, encode, safe_next};
use super::session::{clear_cookie, cookie_id, set_cookie};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use minijinja::context;

/// `GET /ui/login?next=/ui/…`: the sign-in form.
pub async fn form(visit: Visit) -> Result<Response, UiError> {
    let next = safe_next(visit.params.get("next"));
    visit.html("login.html", "login", "Sign in", context! { next })
}

/// The key as typed (surrounding spaces and quotes removed, as the API accepts it).
fn typed_key(fields: &Params) -> Option<&str> {
    fields
        .get("api_key")
        .map(|k| k.trim_matches('"').trim_matches('\'').trim())
        .filter(|k| !k.is_empty())
}

/// The form again with `message`, answered 401.
fn refused(next: String, message: &str) -> Result<Response, UiError> {
    let flash = Flash {
        ok: None,
        error: Some(message.to_string()),
    };
    let html = page::render(
        "login.html",
        "login",
        "Sign in",
        None,
        &flash,
        context! { next },
    )?;
    Ok((StatusCode::UNAUTHORIZED, axum::response::Html(html)).into_response())
}

/// `POST /ui/login` (`api_key`, `next`): starts a session and goes to `next`.
pub async fn submit(State(state): State<AppState>, form: Form) -> Result<Response, UiError> {
    form.same_site()?;
    let headers = form.headers();
    let next = safe_next(form.fields.get("next"));
    let Some(key) = typed_key(&form.fields) else {
        return refused(next, "Enter an API key.");
    };
    let caller = match crate::auth::authenticate(&state, key).await {
        Ok(c) => c,
        Err(ApiError::BadKey) => {
            tracing::warn!("console: sign-in refused (unknown or revoked key)");
            return refused(next, "That API key is not valid or has been revoked.");
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(old) = cookie_id(headers) {
        state.ui_sessions.end(old);
    }
    let (id, _) = state
        .ui_sessions
        .start(&caller)
        .map_err(|e| UiError::Internal(format!("no randomness for a session id: {e}")))?;
    tracing::info!(key_id = %caller.key_id, "console: signed in");
    let mut resp = Redirect::to(&next).into_response();
    if let Some(cookie) = set_cookie(&id, headers) {
        resp.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(resp)
}

/// `POST /ui/logout` (`csrf`): ends the session and returns to the sign-in form.
pub async fn logout(State(state): State<AppState>, form: Form) -> Result<Response, UiError> {
    form.same_site()?;
    let headers = form.headers();
    if let Some(s) = viewer(&state, headers).await {
        if !s.csrf_matches(form.fields.get("csrf")) {
            return Err(UiError::forbidden(
                "This form's security token is missing or out of date. Reload the page and sign out again.",
            ));
        }
        if let Some(id) = cookie_id(headers) {
            state.ui_sessions.end(id);
        }
        tracing::info!(key_id = %s.key_id, "console: signed out");
    }
    let mut resp =
        Redirect::to(&format!("/ui/login?ok={}", encode("You have signed out."))).into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, clear_cookie());
    Ok(resp)
}
