//! Invalidation: what a request asks to drop (keys, `*` patterns, tags) and where (the
//! targets), carried out against the response cache and, when configured, the CDN's purge
//! endpoint — called through the publish HTTP client, so in dry run the egress guard
//! decides whether it may leave the machine. Every invalidation is recorded in the store.

use super::LocalCache;
use crate::settings::cache::CdnConfig;
use halcytone_publish::Publishing;
use halcytone_publish::client::{Call, Upstream};
use halcytone_store::Store;
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

/// The places an invalidation can reach.
pub const TARGETS: [&str; 6] = ["local", "memory", "api", "cdn", "redis", "database"];

/// A validated invalidation request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Request {
    pub targets: Vec<String>,
    pub keys: Vec<String>,
    pub patterns: Vec<String>,
    pub tags: Vec<String>,
    /// Drop everything in each target, whatever the keys.
    pub force: bool,
    pub reason: Option<String>,
    /// Not announced to the other replicas: each of them runs the same invalidation by itself
    /// (after a publish, every replica hears that the job ended).
    pub here_only: bool,
}

/// The JSON body of `/api/v1/cache/invalidate` and the webhook (`event` only there).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = CacheInvalidation)]
pub struct Body {
    #[serde(default)]
    #[schema(schema_with = crate::schema::cache_targets)]
    pub targets: Option<Vec<String>>,
    #[serde(default)]
    #[schema(schema_with = crate::schema::cache_entries)]
    pub keys: Option<Vec<String>>,
    #[serde(default)]
    #[schema(schema_with = crate::schema::cache_entries)]
    pub patterns: Option<Vec<String>>,
    #[serde(default)]
    #[schema(schema_with = crate::schema::cache_entries)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub force: bool,
    #[serde(default)]
    #[schema(schema_with = crate::schema::optional_text_500)]
    pub reason: Option<String>,
    #[serde(default)]
    pub event: Option<String>,
}

/// A field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub field: String,
    pub message: String,
}

fn strings(field: &str, list: Option<Vec<String>>) -> Result<Vec<String>, Invalid> {
    let list = list.unwrap_or_default();
    if list.len() > 1000 {
        return Err(Invalid {
            field: field.into(),
            message: format!("{field}: at most 1000 entries"),
        });
    }
    for (i, s) in list.iter().enumerate() {
        if s.trim().is_empty() || s.chars().count() > 512 {
            return Err(Invalid {
                field: format!("{field}[{i}]"),
                message: format!("{field}[{i}]: must be 1 to 512 characters"),
            });
        }
    }
    Ok(list)
}

impl Body {
    pub fn validate(self) -> Result<Request, Invalid> {
        let targets = match self.targets {
            None => vec!["local".to_string()],
            Some(t) if t.is_empty() => {
                return Err(Invalid {
                    field: "targets".into(),
                    message: "targets: name at least one target".into(),
                });
            }
            Some(t) => t,
        };
        let mut seen = Vec::new();
        for (i, t) in targets.iter().enumerate() {
            let t = t.trim().to_ascii_lowercase();
            if !TARGETS.contains(&t.as_str()) {
                return Err(Invalid {
                    field: format!("targets[{i}]"),
                    message: format!(
                        "targets[{i}]: '{t}' is not a cache target; use one of {}",
                        TARGETS.join(", ")
                    ),
                });
            }
            if !seen.contains(&t) {
                seen.push(t);
            }
        }
        let keys = strings("keys", self.keys)?;
        let patterns = strings("patterns", self.patterns)?;
        let tags = strings("tags", self.tags)?;
        if let Some(r) = &self.reason
            && r.chars().count() > 500
        {
            return Err(Invalid {
                field: "reason".into(),
                message: "reason: at most 500 characters".into(),
            });
        }
        if keys.is_empty() && patterns.is_empty() && tags.is_empty() && !self.force {
            return Err(Invalid {
                field: "keys".into(),
                message:
                    "name keys, patterns or tags to invalidate, or set force to drop everything"
                        .into(),
            });
        }
        Ok(Request {
            targets: seen,
            keys,
            patterns,
            tags,
            force: self.force,
            reason: self.reason,
            here_only: false,
        })
    }
}

/// Carries out invalidations.
#[derive(Debug)]
pub struct Invalidator {
    /// The edge's in-process answers.
    pub cache: Arc<dyn LocalCache>,
    pub cdn: Option<(CdnConfig, Upstream)>,
    pub publishing: Arc<Publishing>,
    pub store: Arc<dyn Store>,
    /// This server's name in the invalidations it announces to the other replicas
    /// ([`super::peers`]).
    pub origin: String,
}

impl Invalidator {
    pub fn new(
        cache: Arc<dyn LocalCache>,
        cdn: Option<CdnConfig>,
        publishing: Arc<Publishing>,
        store: Arc<dyn Store>,
    ) -> Self {
        let cdn = cdn.map(|c| {
            let up = Upstream::new("cdn", c.base_url.clone(), None);
            (c, up)
        });
        Invalidator {
            cache,
            cdn,
            publishing,
            store,
            origin: format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()),
        }
    }

    /// Whether a target can be reached by this server.
    pub fn configured(&self, target: &str) -> bool {
        match target {
            "local" | "memory" | "api" => true,
            "cdn" => self.cdn.is_some(),
            _ => false,
        }
    }

    /// The configured targets.
    pub fn configured_targets(&self) -> Vec<&'static str> {
        TARGETS
            .iter()
            .copied()
            .filter(|t| self.configured(t))
            .collect()
    }

    async fn purge_cdn(&self, req: &Request, correlation_id: &str) -> Result<usize, String> {
        let Some((cfg, upstream)) = &self.cdn else {
            return Err("Cache target 'cdn' not configured".into());
        };
        // The CDN caches pages by URL: only URLs are purged file by file, and the whole zone
        // only when the request says force. Keys, patterns and tags name our own entries.
        let files: Vec<&String> = req
            .keys
            .iter()
            .filter(|k| k.starts_with("https://") || k.starts_with("http://"))
            .collect();
        let body = if req.force {
            json!({ "purge_everything": true })
        } else if files.is_empty() {
            return Ok(0);
        } else {
            json!({ "files": files })
        };
        let path = format!("zones/{}/purge_cache", cfg.zone_id);
        let call = Call {
            method: halcytone_publish::client::Method::POST,
            path: &path,
            body: Some(&body),
            idempotency_key: None,
            correlation_id,
            limiter: None,
            bearer: cfg.api_key.as_deref(),
        };
        let (result, _) = self.publishing.client.send(upstream, &call).await;
        result
            .map(|_| files.len())
            .map_err(|e| format!("CDN purge failed: {e}"))
    }

    /// Runs one invalidation and records it; returns the result as the API answers it.
    pub async fn run(&self, req: &Request, actor: &str, correlation_id: &str) -> Value {
        let started = Instant::now();
        let now = chrono::Utc::now();
        let request_id = format!(
            "inv_{}",
            &halcytone_store::sha256_hex(&format!(
                "{}:{}:{}:{}:{}",
                req.targets.join(","),
                req.keys.join(","),
                req.patterns.join(","),
                now.timestamp_nanos_opt().unwrap_or_default(),
                correlation_id
            ))[..12]
        );
        let mut processed = BTreeMap::new();
        let mut errors = Vec::new();
        let mut invalidated = 0usize;
        let mut local_done = false;
        for t in &req.targets {
            let ok = match t.as_str() {
                "local" | "memory" | "api" => {
                    if !local_done {
                        local_done = true;
                        let dropped = super::peers::Dropped {
                            origin: self.origin.clone(),
                            keys: req.keys.clone(),
                            patterns: req.patterns.clone(),
                            tags: req.tags.clone(),
                            all: req.force,
                        };
                        invalidated += dropped.apply(self.cache.as_ref());
                        if !req.here_only {
                            super::peers::announce(self.store.as_ref(), &dropped).await;
                        }
                    }
                    true
                }
                "cdn" => match self.purge_cdn(req, correlation_id).await {
                    Ok(_) => true,
                    Err(e) => {
                        errors.push(e);
                        false
                    }
                },
                other => {
                    errors.push(format!("Cache target '{other}' not configured"));
                    false
                }
            };
            processed.insert(t.clone(), ok);
        }
        let ok_count = processed.values().filter(|v| **v).count();
        let status = if ok_count == processed.len() {
            "success"
        } else if ok_count > 0 {
            "partial"
        } else {
            "failed"
        };
        let result = json!({
            "success": status != "failed",
            "request_id": request_id,
            "status": status,
            "targets_processed": processed,
            "keys_invalidated": invalidated,
            "duration_ms": started.elapsed().as_secs_f64() * 1000.0,
            "errors": errors,
            "timestamp": now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        });
        let request = json!({
            "targets": req.targets,
            "keys": req.keys,
            "patterns": req.patterns,
            "tags": req.tags,
            "force": req.force,
            "reason": req.reason,
        });
        if let Err(e) = self
            .store
            .record_invalidation(
                now.timestamp_millis(),
                &request_id,
                actor,
                &request,
                &result,
            )
            .await
        {
            tracing::warn!(error = %e, request_id, "could not record the cache invalidation");
        }
        tracing::info!(
            request_id,
            status,
            keys_invalidated = invalidated,
            "cache invalidation"
        );
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: Value) -> Result<Request, Invalid> {
        serde_json::from_value::<Body>(v)
            .map_err(|e| Invalid {
                field: String::new(),
                message: e.to_string(),
            })?
            .validate()
    }

    #[test]
    fn targets_default_to_local_and_must_be_known() {
        let r = body(json!({"keys": ["templates"]}));
        assert_eq!(r.map(|r| r.targets), Ok(vec!["local".to_string()]));
        let e = body(json!({"keys": ["a"], "targets": ["local", "varnish"]}));
        assert_eq!(e.map_err(|e| e.field), Err("targets[1]".to_string()));
        let e = body(json!({"keys": ["a"], "targets": []}));
        assert_eq!(e.map_err(|e| e.field), Err("targets".to_string()));
    }

    #[test]
    fn something_to_drop_is_required() {
        assert_eq!(
            body(json!({})).map_err(|e| e.field),
            Err("keys".to_string())
        );
        assert!(body(json!({"force": true})).is_ok());
        let e = body(json!({"patterns": [""]}));
        assert_eq!(e.map_err(|e| e.field), Err("patterns[0]".to_string()));
    }

    #[test]
    fn duplicate_targets_collapse() {
        let r = body(json!({"tags": ["preview"], "targets": ["local", "LOCAL", "cdn"]}));
        assert_eq!(
            r.map(|r| r.targets),
            Ok(vec!["local".to_string(), "cdn".to_string()])
        );
    }
}
