//! Who may see a page and who may post a form: the session a request's cookie names, the
//! scope a page needs (read to look, write to act), and for every form post the same-site
//! check and the session's CSRF token. A page's handler takes a [`Visit`], a form's a
//! [`Form`].

use super::page::{self, UiError};
use super::params::{Params, flash};
use super::session::{Session, cookie_id};
use crate::auth::ENV_KEY_ID;
use crate::state::AppState;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Uri};
use axum::response::{Html, IntoResponse, Response};
use bytes::Bytes;
use halcytone_store::Scope;

/// The signed-in session, if any. The key it was opened with is looked up on every request,
/// so a key revoked with `halcytone keys revoke` (by any process sharing the database) ends
/// its sessions at their next request.
pub async fn viewer(state: &AppState, headers: &HeaderMap) -> Option<Session> {
    let id = cookie_id(headers)?;
    let s = state.ui_sessions.get(id)?;
    match key_is_live(state, &s.key_id).await {
        Ok(true) => Some(s),
        Ok(false) => {
            state.ui_sessions.end(id);
            tracing::info!(key_id = %s.key_id, "console: session ended, its key was revoked");
            None
        }
        Err(e) => {
            // Fail closed, but keep the session: the store may answer on the next request.
            tracing::warn!(error = %e, "console: cannot check the session's key");
            None
        }
    }
}

/// Whether the key `key_id` names still opens the API: the configured `API_KEY` lives as
/// long as the process, a stored key until it is revoked.
async fn key_is_live(state: &AppState, key_id: &str) -> Result<bool, halcytone_store::StoreError> {
    if key_id == ENV_KEY_ID {
        return Ok(state.config.api_key.is_some());
    }
    Ok(state
        .store
        .api_key_by_id(key_id)
        .await?
        .is_some_and(|k| k.revoked_ms.is_none()))
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

/// A console page request: who is signed in (if anyone), the page's address and its query.
pub struct Visit {
    me: Option<Session>,
    uri: Uri,
    pub params: Params,
}

impl FromRequestParts<AppState> for Visit {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        Ok(Visit {
            me: viewer(state, &parts.headers).await,
            params: Params::parse(parts.uri.query().unwrap_or_default().as_bytes()),
            uri: parts.uri.clone(),
        })
    }
}

impl Visit {
    /// The session of a page that needs `needed`, or a redirect to the sign-in form that comes
    /// back to this page, or a 403 page.
    pub fn needs(&self, needed: Scope) -> Result<&Session, UiError> {
        let Some(s) = &self.me else {
            let back = self.uri.path_and_query().map_or("/ui", |p| p.as_str());
            return Err(UiError::SignIn(back.to_string()));
        };
        if !s.allows(needed) {
            return Err(lacks(s, needed));
        }
        Ok(s)
    }

    /// `template` inside the layout (see [`page::render`]) as an HTML answer, showing who is
    /// signed in and the flash message the query carries.
    pub fn html(
        &self,
        template: &str,
        section: &str,
        title: &str,
        ctx: minijinja::Value,
    ) -> Result<Response, UiError> {
        let flash = flash(&self.params);
        let html = page::render(template, section, title, self.me.as_ref(), &flash, ctx)?;
        Ok(Html(html).into_response())
    }
}

/// A console form post: its headers and its fields. A body that cannot be read is answered
/// as axum answers it.
pub struct Form {
    headers: HeaderMap,
    pub fields: Params,
}

impl<S: Send + Sync> FromRequest<S> for Form {
    type Rejection = Response;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let headers = req.headers().clone();
        let body = Bytes::from_request(req, state)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Form {
            headers,
            fields: Params::parse(&body),
        })
    }
}

impl Form {
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Refuses a form posted from another site (see [`same_site`]).
    pub fn same_site(&self) -> Result<(), UiError> {
        same_site(&self.headers)
    }

    /// The session of a form post that needs `needed`: posted from this site, by a
    /// signed-in session (else off to the sign-in form, back to `back`), with the session's
    /// CSRF token.
    pub async fn signed(
        &self,
        state: &AppState,
        needed: Scope,
        back: &str,
    ) -> Result<Session, UiError> {
        self.same_site()?;
        let Some(s) = viewer(state, &self.headers).await else {
            return Err(UiError::SignIn(back.to_string()));
        };
        if !s.csrf_matches(self.fields.get("csrf")) {
            return Err(UiError::forbidden(
                "This form's security token is missing or out of date. Reload the page and submit the form again.",
            ));
        }
        if !s.allows(needed) {
            return Err(lacks(&s, needed));
        }
        Ok(s)
    }
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
