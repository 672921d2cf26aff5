//! Social accounts for the live X, LinkedIn and Facebook adapters: their tokens sealed in the
//! credentials table (`social:x`, `social:linkedin`, `social:facebook`) with the vault, their details and health
//! beside them, and the wiring that hands them to the publishers.

pub mod accounts;
pub mod tokens;

use crate::settings::ServerConfig;
use halcytone_publish::Publishing;
use halcytone_publish::social::LiveSocial;
use halcytone_store::Store;
use std::sync::Arc;

/// Attaches the live adapters to `publishing`. In dry run they talk to the mock Platform,
/// which plays X, LinkedIn and the Graph API (`/2/tweets`, `/rest/posts`, `/{v}/{page}/feed`), so a
/// rehearsal runs the same code with the egress guard on, and its posts count against a
/// quota of their own.
pub fn attach(config: &ServerConfig, store: Arc<dyn Store>, publishing: &Publishing) {
    let settings = if publishing.settings.dry_run {
        config.social.routed_to(&publishing.settings.platform_url)
    } else {
        config.social.clone()
    };
    let vault = Arc::new(
        tokens::StoreTokens::new(store, config.keyring.clone())
            .rehearsal(publishing.settings.dry_run),
    );
    publishing.attach_live_social(Arc::new(LiveSocial::new(settings, vault)));
}
