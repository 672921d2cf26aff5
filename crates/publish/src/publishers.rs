//! The publishers — email to the CRM, web posts and social posts to the Platform — behind
//! one trait, and `Publishing`, which runs the requested ones and reports every target.

use crate::client::{Call, CallError, HttpClient, Upstream};
use crate::deliveries::DeliveryLedger;
use crate::egress::EgressGuard;
use crate::rate_limit::RateLimiter;
use crate::report::{Outcome, PublishReport, TargetResult};
use crate::settings::Settings;
use crate::smtp::{EmailTransport, SmtpSender};
use crate::social::LiveSocial;
use halcytone_content::compose::DocumentSummary;
use halcytone_content::compose::newsletter::Newsletter;
use halcytone_content::{Bundle, Channel, EmailTemplate, Tone};
use serde_json::{Value, json};
use std::future::Future;
use std::pin::Pin;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What a publisher's run yields: one line per target.
pub type TargetsFuture<'a> = BoxFuture<'a, Vec<TargetResult>>;

/// What every publisher gets: the client, the upstreams and the run's identifiers.
#[derive(Debug)]
pub struct PublishContext<'a> {
    pub client: &'a HttpClient,
    pub crm: &'a Upstream,
    pub platform: &'a Upstream,
    pub correlation_id: &'a str,
    /// Content version (the first 16 hex digits of the document hash): part of every
    /// idempotency key, so a retry or re-run of the same content never sends twice.
    pub version: &'a str,
    /// Only subscribers in this segment get the newsletter.
    pub audience: Option<&'a Audience>,
    /// Where each recipient's message is recorded (a job's ledger in the store); `None`: in
    /// this process's memory.
    pub ledger: Option<&'a dyn DeliveryLedger>,
}

/// Who gets a newsletter and how it speaks to them: a segment, the first-name fallback of
/// the merge tags, and an A/B subject test's groups.
#[derive(Debug, Clone, Default)]
pub struct Audience {
    /// Only subscribers in this segment get the newsletter.
    pub segment: Option<SegmentFilter>,
    /// Written for `*|FIRST_NAME|*` where a subscriber has no first name (empty: "there").
    pub first_name_fallback: String,
    /// The groups of an A/B subject test, each with its own subject and campaign.
    pub ab: Option<AbSend>,
    /// The CRM's active, opted-in subscribers when the caller has just fetched them (to split
    /// an A/B test); `None` asks the CRM.
    pub subscribers: Option<Vec<Value>>,
}

/// The fallback first name when none is configured.
pub const DEFAULT_FIRST_NAME_FALLBACK: &str = "there";

/// A segment a send is limited to, with the day its rule is evaluated on.
#[derive(Debug, Clone)]
pub struct SegmentFilter {
    pub segment_id: String,
    pub segment_name: String,
    pub rule: halcytone_audience::Rule,
    pub today: chrono::NaiveDate,
}

impl SegmentFilter {
    /// Whether a CRM subscriber object belongs to the segment.
    pub fn admits(&self, subscriber: &Value) -> bool {
        halcytone_audience::Subscriber::from_json(subscriber)
            .is_some_and(|s| self.rule.matches(&s, self.today))
    }
}

/// The part of an A/B subject test one job sends.
#[derive(Debug, Clone)]
pub struct AbSend {
    /// Part of the idempotency keys and campaign ids.
    pub test_id: String,
    pub groups: Vec<AbGroup>,
}

/// One group of an A/B test: a subject, and who gets it.
#[derive(Debug, Clone)]
pub struct AbGroup {
    /// `v1`, `v2`, … for the variants, `rest` for the remainder.
    pub label: String,
    pub subject: String,
    pub members: Members,
}

/// Which of the (segment's) subscribers a group holds, by subscriber id.
#[derive(Debug, Clone)]
pub enum Members {
    Only(std::collections::HashSet<String>),
    AllBut(std::collections::HashSet<String>),
}

impl Members {
    fn admits(&self, subscriber: &Value) -> bool {
        let id = subscriber.get("id").and_then(Value::as_str).unwrap_or("");
        match self {
            Members::Only(ids) => ids.contains(id),
            Members::AllBut(ids) => !ids.contains(id),
        }
    }
}

/// A subscriber's merge values (`FIRST_NAME`, `LAST_NAME`, `EMAIL`), with the fallback.
pub fn merge_vars(subscriber: &Value, fallback: &str) -> halcytone_audience::merge::MergeVars {
    let fallback = if fallback.trim().is_empty() {
        DEFAULT_FIRST_NAME_FALLBACK
    } else {
        fallback
    };
    let s = halcytone_audience::Subscriber::from_json(subscriber).unwrap_or_else(|| {
        halcytone_audience::Subscriber {
            email: text(subscriber, "email").unwrap_or_default(),
            first_name: text(subscriber, "first_name"),
            last_name: text(subscriber, "last_name"),
            ..Default::default()
        }
    });
    halcytone_audience::merge::vars_for(&s, fallback)
}

/// One send of the newsletter: a subject to a list, under its own campaign.
struct GroupSend<'a> {
    /// `None` for a plain send; `v1`, `rest`, … for an A/B group.
    label: Option<&'a str>,
    subject: &'a str,
    recipients: Vec<&'a Value>,
}

/// Publishes one channel of a bundle.
pub trait Publisher: Send + Sync {
    fn channel(&self) -> Channel;
    fn publish<'a>(&'a self, bundle: &'a Bundle, ctx: &'a PublishContext<'a>) -> TargetsFuture<'a>;
}

fn result(
    channel: &'static str,
    target: String,
    key: String,
    outcome: Result<(Option<String>, Option<String>), CallError>,
    attempts: u32,
) -> TargetResult {
    match outcome {
        Ok((external_id, url)) => TargetResult {
            channel,
            target,
            outcome: Outcome::Succeeded,
            reason: None,
            retryable: false,
            upstream_status: Some(200),
            attempts,
            external_id,
            url,
            idempotency_key: key,
            campaign: None,
            recipients: None,
        },
        Err(e) => TargetResult {
            channel,
            target,
            outcome: Outcome::Failed,
            retryable: e.is_retryable(),
            upstream_status: e.status(),
            reason: Some(e.to_string()),
            attempts,
            external_id: None,
            url: None,
            idempotency_key: key,
            campaign: None,
            recipients: None,
        },
    }
}

fn skipped(channel: &'static str, target: &str, reason: &str) -> TargetResult {
    TargetResult {
        channel,
        target: target.to_string(),
        outcome: Outcome::Skipped,
        reason: Some(reason.to_string()),
        retryable: false,
        upstream_status: None,
        attempts: 0,
        external_id: None,
        url: None,
        idempotency_key: String::new(),
        campaign: None,
        recipients: None,
    }
}

/// A Platform endpoint that creates something, and the field of its answer naming it.
struct PlatformPost {
    path: &'static str,
    id_field: &'static str,
}

impl PlatformPost {
    const WEB: Self = PlatformPost {
        path: "api/v1/content/publish",
        id_field: "content_id",
    };
    const SOCIAL: Self = PlatformPost {
        path: "api/v1/social/post",
        id_field: "post_id",
    };

    /// Posts `body` under `key`: the created id and URL (or the error), and the attempts.
    async fn send(
        &self,
        ctx: &PublishContext<'_>,
        body: &Value,
        key: &str,
        limiter: &RateLimiter,
    ) -> (Result<(Option<String>, Option<String>), CallError>, u32) {
        let call = Call::post(self.path, body, key, ctx.correlation_id, limiter);
        let (answer, attempts) = ctx.client.send(ctx.platform, &call).await;
        let outcome = answer.map(|a| (text(&a.body, self.id_field), text(&a.body, "url")));
        (outcome, attempts)
    }
}

/// The single line of a channel that sends nothing at all.
fn skipped_channel(channel: &'static str, reason: &str) -> Vec<TargetResult> {
    vec![skipped(channel, channel, reason)]
}

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_string)
}

/// Email: the subscriber list from the CRM, then the newsletter in batches — through the
/// CRM's batch endpoint, or (`EMAIL_TRANSPORT=smtp`) one SMTP message per subscriber.
#[derive(Debug)]
pub struct EmailPublisher {
    pub batch_size: usize,
    /// Paces CRM batch requests, or SMTP messages.
    pub limiter: RateLimiter,
    /// `Some` when email goes out over SMTP rather than through the CRM.
    pub smtp: Option<SmtpSender>,
}

impl EmailPublisher {
    async fn subscribers(&self, ctx: &PublishContext<'_>) -> Result<Vec<Value>, (CallError, u32)> {
        let mut all = Vec::new();
        loop {
            let (page, total) = self.subscribers_page(ctx, all.len(), 1000).await?;
            let got = page.len();
            all.extend(page);
            if got == 0 || all.len() >= total {
                return Ok(all);
            }
        }
    }

    /// One page of the CRM's active, opted-in subscribers from `offset`, and the list's total.
    async fn subscribers_page(
        &self,
        ctx: &PublishContext<'_>,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<Value>, usize), (CallError, u32)> {
        let path = format!(
            "api/v1/users/subscribers?status=active&newsletter_opt_in=true&limit={limit}&offset={offset}"
        );
        let call = Call::get(&path, ctx.correlation_id);
        let (answer, attempts) = ctx.client.send(ctx.crm, &call).await;
        let answer = answer.map_err(|e| (e, attempts))?;
        let page = answer
            .body
            .get("subscribers")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let total = answer
            .body
            .get("total")
            .and_then(Value::as_u64)
            .unwrap_or(0) as usize;
        Ok((page, total))
    }
}

impl Publisher for EmailPublisher {
    fn channel(&self) -> Channel {
        Channel::Email
    }

    fn publish<'a>(&'a self, bundle: &'a Bundle, ctx: &'a PublishContext<'a>) -> TargetsFuture<'a> {
        Box::pin(self.publish_newsletter(bundle, ctx))
    }
}

impl EmailPublisher {
    /// The newsletter to the (segment's) subscribers, per A/B group, in batches or over SMTP.
    async fn publish_newsletter(
        &self,
        bundle: &Bundle,
        ctx: &PublishContext<'_>,
    ) -> Vec<TargetResult> {
        let Some(n) = &bundle.newsletter else {
            return skipped_channel("email", "the document has no items for email");
        };
        let prefetched = ctx.audience.and_then(|a| a.subscribers.as_deref());
        let recipients: std::borrow::Cow<'_, [Value]> = match prefetched {
            Some(list) => std::borrow::Cow::Borrowed(list),
            None => match self.subscribers(ctx).await {
                Ok(r) => std::borrow::Cow::Owned(r),
                Err((e, attempts)) => {
                    return vec![result(
                        "email",
                        "email".into(),
                        String::new(),
                        Err(e),
                        attempts,
                    )];
                }
            },
        };
        if recipients.is_empty() {
            let whose = match prefetched {
                Some(_) => "the list given",
                None => "the CRM",
            };
            return skipped_channel(
                "email",
                &format!("{whose} has no active, opted-in subscribers"),
            );
        }
        let segment = ctx.audience.and_then(|a| a.segment.as_ref());
        let (recipients, version): (Vec<&Value>, String) = match segment {
            None => (recipients.iter().collect(), ctx.version.to_string()),
            Some(a) => {
                let total = recipients.len();
                let inside: Vec<&Value> = recipients.iter().filter(|r| a.admits(r)).collect();
                if inside.is_empty() {
                    return skipped_channel(
                        "email",
                        &format!(
                            "segment {} ({}) matches none of the {total} active, opted-in subscribers",
                            a.segment_name, a.segment_id
                        ),
                    );
                }
                // Another segment of the same content is another send: its own keys.
                (inside, format!("{}-{}", ctx.version, a.segment_id))
            }
        };
        let ab = ctx.audience.and_then(|a| a.ab.as_ref());
        let version = match ab {
            Some(ab) => format!("{version}-{}", ab.test_id),
            None => version,
        };
        let fallback = ctx
            .audience
            .map(|a| a.first_name_fallback.as_str())
            .unwrap_or_default();
        let sends: Vec<GroupSend<'_>> = match ab {
            None => vec![GroupSend {
                label: None,
                subject: &n.subject,
                recipients,
            }],
            Some(ab) => ab
                .groups
                .iter()
                .map(|g| GroupSend {
                    label: Some(&g.label),
                    subject: &g.subject,
                    recipients: recipients
                        .iter()
                        .copied()
                        .filter(|r| g.members.admits(r))
                        .collect(),
                })
                .collect(),
        };
        let ctx = &PublishContext {
            version: &version,
            ..*ctx
        };
        let mut results = Vec::new();
        for send in &sends {
            let target = match send.label {
                Some(l) => format!("email:{l}"),
                None => "email".to_string(),
            };
            if send.recipients.is_empty() {
                results.push(skipped("email", &target, "no subscriber is in this group"));
                continue;
            }
            let campaign = match send.label {
                Some(l) => format!("halcytone-{version}-{l}"),
                None => format!("halcytone-{version}"),
            };
            let lines = match &self.smtp {
                Some(smtp) => {
                    let newsletter = Newsletter {
                        subject: send.subject.to_string(),
                        ..n.clone()
                    };
                    let list: Vec<Value> = send.recipients.iter().map(|r| (*r).clone()).collect();
                    smtp.send_all(
                        &newsletter,
                        &list,
                        &crate::smtp::SendNames {
                            batch_size: self.batch_size,
                            version: ctx.version,
                            campaign: &campaign,
                            target: &target,
                            first_name_fallback: fallback,
                        },
                        &self.limiter,
                        &ctx.client.guard,
                        ctx.ledger.unwrap_or(smtp.memory()),
                        ctx.correlation_id,
                    )
                    .await
                }
                None => {
                    self.send_batches(n, send, &campaign, &target, fallback, ctx)
                        .await
                }
            };
            results.extend(lines.into_iter().map(|mut l| {
                l.campaign = Some(campaign.clone());
                l
            }));
        }
        results
    }
}

impl EmailPublisher {
    /// One group through the CRM's batch endpoint, `batch_size` recipients a request. Each
    /// recipient carries its merge values; the CRM fills the content's merge tags with them.
    async fn send_batches(
        &self,
        n: &Newsletter,
        send: &GroupSend<'_>,
        campaign: &str,
        target: &str,
        fallback: &str,
        ctx: &PublishContext<'_>,
    ) -> Vec<TargetResult> {
        let mut results = Vec::new();
        for (i, chunk) in send.recipients.chunks(self.batch_size.max(1)).enumerate() {
            let target = format!("{target}:batch-{}", i + 1);
            let key = format!("{}:{target}", ctx.version);
            let list: Vec<Value> = chunk
                .iter()
                .map(|s| {
                    let mut vars = json!(merge_vars(s, fallback));
                    vars["first_name"] = s.get("first_name").cloned().unwrap_or(Value::Null);
                    vars["subscriber_id"] = s.get("id").cloned().unwrap_or(Value::Null);
                    json!({
                        "email": s.get("email"),
                        "name": s.get("name").or(s.get("first_name")),
                        "merge_vars": vars,
                    })
                })
                .collect();
            let body = json!({
                "subject": send.subject,
                "html_content": n.html,
                "text_content": n.text,
                "recipients": list,
                "campaign_id": campaign,
                "metadata": {
                    "preview_text": n.preview_text, "template": n.template, "tone": n.tone,
                    "batch": i + 1, "variant": send.label,
                },
            });
            let call = Call::post(
                "api/v1/email/batch",
                &body,
                &key,
                ctx.correlation_id,
                &self.limiter,
            );
            let (answer, attempts) = ctx.client.send(ctx.crm, &call).await;
            let outcome = answer.map(|a| (text(&a.body, "batch_id"), None));
            let mut line = result("email", target, key, outcome, attempts);
            line.recipients = Some(chunk.len());
            results.push(line);
        }
        results
    }
}

/// Web: the post to the Platform's content endpoint.
#[derive(Debug)]
pub struct WebPublisher {
    pub limiter: RateLimiter,
}

impl WebPublisher {
    /// The web post to the Platform.
    async fn publish_post(&self, bundle: &Bundle, ctx: &PublishContext<'_>) -> Vec<TargetResult> {
        let Some(w) = &bundle.web else {
            return skipped_channel("web", "the document has no items for the web");
        };
        let key = format!("{}:web:{}", ctx.version, w.slug);
        let body = json!({
            "title": w.title,
            "content": w.markdown,
            "html": w.body_html,
            "excerpt": w.excerpt,
            "slug": w.slug,
            "content_type": "web_update",
            "tags": w.tags,
            "publish_immediately": true,
            "metadata": {
                "meta_description": w.meta_description,
                "json_ld": w.json_ld,
                "seo_score": w.seo.score,
                "reading_time_minutes": w.reading_time_minutes,
                "campaign_id": format!("halcytone-{}", ctx.version),
            },
        });
        let (outcome, attempts) = PlatformPost::WEB
            .send(ctx, &body, &key, &self.limiter)
            .await;
        vec![result("web", "web".into(), key, outcome, attempts)]
    }
}

impl Publisher for WebPublisher {
    fn channel(&self) -> Channel {
        Channel::Web
    }

    fn publish<'a>(&'a self, bundle: &'a Bundle, ctx: &'a PublishContext<'a>) -> TargetsFuture<'a> {
        Box::pin(self.publish_post(bundle, ctx))
    }
}

/// Social: one request per network; a thread's later parts travel with the first. A network
/// with a connected account (X, LinkedIn) is posted to directly instead.
#[derive(Debug)]
pub struct SocialPublisher {
    pub limiter: RateLimiter,
    pub live: std::sync::OnceLock<std::sync::Arc<LiveSocial>>,
}

impl SocialPublisher {
    /// Each composed post, live where a network is connected, else through the Platform.
    async fn publish_posts(&self, bundle: &Bundle, ctx: &PublishContext<'_>) -> Vec<TargetResult> {
        if bundle.social.is_empty() {
            return skipped_channel("social", "no social posts were composed");
        }
        let mut results = Vec::new();
        for post in &bundle.social {
            let target = format!("social:{}", post.platform);
            let key = format!("{}:social:{}", ctx.version, post.platform);
            if let Some(live) = self.live.get()
                && let Some(r) = live
                    .publish(ctx.client, post, &key, ctx.correlation_id)
                    .await
            {
                results.push(r);
                continue;
            }
            let body = json!({
                "platform": post.platform,
                "content": post.posts.first(),
                "thread": post.posts.iter().skip(1).collect::<Vec<_>>(),
                "hashtags": post.hashtags,
                "media_urls": [],
                "metadata": { "tone": post.tone, "link": post.link, "campaign_id": format!("halcytone-{}", ctx.version) },
            });
            let (outcome, attempts) = PlatformPost::SOCIAL
                .send(ctx, &body, &key, &self.limiter)
                .await;
            results.push(result("social", target, key, outcome, attempts));
        }
        results
    }
}

impl Publisher for SocialPublisher {
    fn channel(&self) -> Channel {
        Channel::Social
    }

    fn publish<'a>(&'a self, bundle: &'a Bundle, ctx: &'a PublishContext<'a>) -> TargetsFuture<'a> {
        Box::pin(self.publish_posts(bundle, ctx))
    }
}

/// A campaign's figures as the CRM reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub struct CampaignFigures {
    pub sent: u64,
    pub delivered: u64,
    pub opened: u64,
    pub clicked: u64,
    pub unsubscribed: u64,
    pub bounced: u64,
}

/// A newsletter written by hand rather than composed from a document.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DirectNewsletter {
    pub subject: String,
    pub html: String,
    pub text: String,
    #[serde(default)]
    pub preview_text: Option<String>,
    /// Recipients of a test send; `None` sends to every subscriber.
    #[serde(default)]
    pub to: Option<Vec<String>>,
    /// Hex digest identifying this newsletter (idempotency keys are built from it).
    pub version: String,
}

/// Builds the client and publishers from settings and runs them.
#[derive(Debug)]
pub struct Publishing {
    pub settings: Settings,
    pub client: HttpClient,
    pub crm: Upstream,
    pub platform: Upstream,
    email: EmailPublisher,
    web: WebPublisher,
    social: SocialPublisher,
}

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("cannot build the HTTP client: {0}")]
    Http(#[from] reqwest::Error),
    #[error(transparent)]
    Smtp(#[from] crate::smtp::SmtpSetupError),
}

impl Publishing {
    pub fn new(settings: Settings) -> Result<Self, BuildError> {
        let guard = if settings.dry_run {
            let guard = EgressGuard::only(&settings.mock_urls.iter().collect::<Vec<_>>());
            match &settings.email_transport {
                EmailTransport::Smtp(smtp) => guard.allow_smtp(&smtp.mock.0, smtp.mock.1),
                EmailTransport::Crm => guard,
            }
        } else {
            EgressGuard::open()
        };
        let client = HttpClient::new(guard, settings.retry.clone(), settings.timeout)?;
        Ok(Publishing {
            crm: Upstream::new(
                "crm",
                settings.crm_url.clone(),
                settings.crm_api_key.clone(),
            ),
            platform: Upstream::new(
                "platform",
                settings.platform_url.clone(),
                settings.platform_api_key.clone(),
            ),
            email: EmailPublisher {
                batch_size: settings.email_batch_size,
                limiter: RateLimiter::per_second(settings.email_rate),
                smtp: match &settings.email_transport {
                    EmailTransport::Smtp(smtp) => Some(SmtpSender::new(
                        smtp.as_ref().clone(),
                        settings.retry.clone(),
                    )?),
                    EmailTransport::Crm => None,
                },
            },
            web: WebPublisher {
                limiter: RateLimiter::per_second(settings.web_rate),
            },
            social: SocialPublisher {
                limiter: RateLimiter::per_second(settings.social_rate),
                live: std::sync::OnceLock::new(),
            },
            client,
            settings,
        })
    }

    /// The CRM's active, opted-in subscribers (every page), for segment previews.
    pub async fn subscribers(&self, correlation_id: &str) -> Result<Vec<Value>, CallError> {
        let ctx = self.context(correlation_id, "preview", None, None);
        self.email.subscribers(&ctx).await.map_err(|(e, _)| e)
    }

    /// One page of the CRM's active, opted-in subscribers (up to 1,000 from `offset`) and the
    /// list's total, for a send that lists its recipients without holding them all.
    pub async fn subscribers_page(
        &self,
        correlation_id: &str,
        offset: usize,
    ) -> Result<(Vec<Value>, usize), CallError> {
        let ctx = self.context(correlation_id, "send", None, None);
        self.email
            .subscribers_page(&ctx, offset, 1000)
            .await
            .map_err(|(e, _)| e)
    }

    /// A campaign's figures from the CRM's analytics (`GET /api/v1/campaigns/{id}/analytics`).
    pub async fn campaign_figures(
        &self,
        campaign_id: &str,
        correlation_id: &str,
    ) -> Result<CampaignFigures, CallError> {
        let path = format!("api/v1/campaigns/{campaign_id}/analytics");
        let call = Call::get(&path, correlation_id);
        let (answer, _) = self.client.send(&self.crm, &call).await;
        let body = answer?.body;
        let n = |k: &str| body.get(k).and_then(Value::as_u64).unwrap_or(0);
        Ok(CampaignFigures {
            sent: n("sent"),
            delivered: n("delivered"),
            opened: n("opened"),
            clicked: n("clicked"),
            unsubscribed: n("unsubscribed"),
            bounced: n("bounced"),
        })
    }

    /// Posts to X, LinkedIn and Facebook directly for networks with a connected account (set once, at
    /// start; later calls are ignored).
    pub fn attach_live_social(&self, live: std::sync::Arc<LiveSocial>) {
        let _ = self.social.live.set(live);
    }

    /// Paces email by a bucket shared with every other process on the same database
    /// (`email:smtp` or `email:crm`), so replicas together keep to EMAIL_RATE_PER_SECOND (set
    /// once, at start).
    pub fn share_email_rate(&self, bucket: std::sync::Arc<dyn crate::rate_limit::SharedRate>) {
        let name = match self.settings.email_transport {
            EmailTransport::Smtp(_) => "email:smtp",
            EmailTransport::Crm => "email:crm",
        };
        self.email.limiter.share(bucket, name);
    }

    /// The live social adapters, when attached.
    pub fn live_social(&self) -> Option<&LiveSocial> {
        self.social.live.get().map(|l| l.as_ref())
    }

    /// What the publishers get for one run.
    fn context<'a>(
        &'a self,
        correlation_id: &'a str,
        version: &'a str,
        audience: Option<&'a Audience>,
        ledger: Option<&'a dyn DeliveryLedger>,
    ) -> PublishContext<'a> {
        PublishContext {
            client: &self.client,
            crm: &self.crm,
            platform: &self.platform,
            correlation_id,
            version,
            audience,
            ledger,
        }
    }

    fn publishers(&self) -> [&dyn Publisher; 3] {
        [&self.email, &self.web, &self.social]
    }

    /// Sends a newsletter written by hand: to `newsletter.to` in one call when given (a test
    /// send), otherwise to every active, opted-in subscriber in batches, like a composed one.
    /// `newsletter.version` (hex) makes the idempotency keys; `ledger` records each recipient
    /// (`None`: this process's memory).
    pub async fn send_newsletter(
        &self,
        newsletter: &DirectNewsletter,
        correlation_id: &str,
        ledger: Option<&dyn DeliveryLedger>,
    ) -> PublishReport {
        let version: String = newsletter.version.chars().take(16).collect();
        let ctx = self.context(correlation_id, &version, None, ledger);
        let targets = match &newsletter.to {
            Some(to) => {
                let key = format!("{version}:email:test");
                let body = json!({
                    "subject": newsletter.subject,
                    "html_content": newsletter.html,
                    "text_content": newsletter.text,
                    "recipients": to,
                    "campaign_id": format!("halcytone-{version}-test"),
                    "metadata": { "test_mode": true },
                });
                let call = Call::post(
                    "api/v1/email/send",
                    &body,
                    &key,
                    correlation_id,
                    &self.email.limiter,
                );
                let (answer, attempts) = self.client.send(&self.crm, &call).await;
                let outcome =
                    answer.map(|a| (text(&a.body, "message_id").or(text(&a.body, "id")), None));
                vec![result("email", "email:test".into(), key, outcome, attempts)]
            }
            None => {
                let bundle = Bundle {
                    as_of: String::new(),
                    document: DocumentSummary {
                        title: Some(newsletter.subject.clone()),
                        format: "newsletter",
                        items: 0,
                        sections: 0,
                        content_hash: newsletter.version.clone(),
                    },
                    newsletter: Some(Newsletter {
                        subject: newsletter.subject.clone(),
                        preview_text: newsletter.preview_text.clone().unwrap_or_default(),
                        template: EmailTemplate::Plain,
                        tone: Tone::Professional,
                        html: newsletter.html.clone(),
                        text: newsletter.text.clone(),
                        item_count: 0,
                    }),
                    web: None,
                    social: Vec::new(),
                };
                self.email.publish(&bundle, &ctx).await
            }
        };
        PublishReport::new(self.settings.dry_run, correlation_id.to_string(), targets)
    }

    /// Publishes `channels` of `bundle`; channels not asked for are reported as skipped.
    pub async fn publish(
        &self,
        bundle: &Bundle,
        channels: &[Channel],
        correlation_id: &str,
    ) -> PublishReport {
        self.publish_to(bundle, channels, correlation_id, None, None)
            .await
    }

    /// Like [`Publishing::publish`], with the newsletter limited to a segment and each
    /// recipient recorded in `ledger` (`None`: this process's memory).
    pub async fn publish_to(
        &self,
        bundle: &Bundle,
        channels: &[Channel],
        correlation_id: &str,
        audience: Option<&Audience>,
        ledger: Option<&dyn DeliveryLedger>,
    ) -> PublishReport {
        let version: String = bundle.document.content_hash.chars().take(16).collect();
        let ctx = self.context(correlation_id, &version, audience, ledger);
        let mut targets = Vec::new();
        let mut channel_seconds = Vec::new();
        for p in self.publishers() {
            if channels.contains(&p.channel()) {
                let started = std::time::Instant::now();
                let name = format!("publish {}", p.channel().as_str());
                let attrs = [("correlation_id", correlation_id.into())];
                let work = p.publish(bundle, &ctx);
                let done = halcytone_telemetry::in_span(
                    name,
                    halcytone_telemetry::Kind::Internal,
                    &attrs,
                    work,
                )
                .await;
                targets.extend(done);
                channel_seconds.push((p.channel().as_str(), started.elapsed().as_secs_f64()));
            } else {
                let name = p.channel().as_str();
                targets.push(skipped(
                    match p.channel() {
                        Channel::Email => "email",
                        Channel::Web => "web",
                        Channel::Social => "social",
                    },
                    name,
                    "channel not requested",
                ));
            }
        }
        let mut report =
            PublishReport::new(self.settings.dry_run, correlation_id.to_string(), targets);
        report.channel_seconds = channel_seconds;
        report
    }
}
