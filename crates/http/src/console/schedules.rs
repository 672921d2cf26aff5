//! `/ui/schedules`: a calendar of what will go out — a month grid or a week of every
//! schedule's times (cron expanded in its own time zone, shown in a display zone), paused
//! schedules' would-be times, past runs and jobs queued for later, each linking to its
//! schedule or job — and below it the schedules with Pause and Resume. One schedule's page
//! shows its next times and latest runs. Looking needs `read`; the buttons need `write` and
//! call the API's own pause and resume ([`crate::routes::schedules`]).

use super::guard::{Form, Visit};
use super::page::{UiError, display_ms};
use super::params::{Id, Params, answer, encode, href, safe_next};
use crate::error::ApiError;
use crate::schedules::calendar::{self, Calendar, Day, Note, Occurrence, Span, What};
use crate::schedules::manage;
use crate::schedules::timing::zone;
use crate::state::AppState;
use axum::extract::State;
use axum::response::Response;
use chrono::{DateTime, Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use halcytone_store::{Schedule, ScheduleRun, Scope};
use minijinja::context;
use minijinja::value::Serde;
use serde::Serialize;

const LIST: &str = "/ui/schedules";
const VIEWS: [&str; 2] = ["month", "week"];
/// Entries a day of the month grid lists; the rest are behind a link to its week.
const SHOWN_IN_A_MONTH_DAY: usize = 4;
/// The days a calendar can be asked for.
const FIRST_YEAR: i32 = 1970;
const LAST_YEAR: i32 = 2999;

/// The console page of the schedule `id`.
fn schedule_path(id: &str) -> String {
    format!("{LIST}/{}", encode(id))
}

fn job_path(id: &str) -> String {
    format!("/ui/jobs/{}", encode(id))
}

/// What a calendar page was asked for.
struct Ask {
    span: Span,
    /// The day given, if one was.
    date: Option<NaiveDate>,
    tz: Tz,
}

impl Ask {
    fn read(params: &Params, today: impl Fn(Tz) -> NaiveDate) -> Result<(Ask, NaiveDate), UiError> {
        let span = match params.choice("view", &VIEWS)?.as_deref() {
            Some("week") => Span::Week,
            _ => Span::Month,
        };
        let tz = match params.get("tz") {
            None => Tz::UTC,
            Some(name) => {
                zone(name).map_err(|e| UiError::bad_request(format!("tz: {}", e.message)))?
            }
        };
        let date = params.get("date").map(parse_date).transpose()?;
        let shown = date.unwrap_or_else(|| today(tz));
        Ok((Ask { span, date, tz }, shown))
    }

    /// This page's address with `date` (none: today) and `span`.
    fn link(&self, span: Span, date: Option<NaiveDate>) -> String {
        let date = date.map(|d| d.format("%Y-%m-%d").to_string());
        href(
            LIST,
            &[
                ("view", Some(span.as_str())),
                ("date", date.as_deref()),
                ("tz", Some(self.tz.name())),
            ],
        )
    }
}

fn parse_date(raw: &str) -> Result<NaiveDate, UiError> {
    let shown: String = raw.chars().take(40).collect();
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .filter(|d| (FIRST_YEAR..=LAST_YEAR).contains(&d.year()))
        .ok_or_else(|| {
            UiError::bad_request(format!(
                "date: '{shown}' is not a day from {FIRST_YEAR}-01-01 to {LAST_YEAR}-12-31 written YYYY-MM-DD"
            ))
        })
}

#[derive(Debug, Serialize)]
struct EventView {
    time: String,
    datetime: String,
    name: String,
    channels: String,
    href: String,
    /// The entry's class: planned, paused, run, job.
    kind: &'static str,
    /// What it is, when not a planned time: "paused", "run: queued", "scheduled job", "retry".
    label: Option<String>,
}

fn event(o: &Occurrence, tz: Tz) -> EventView {
    let local = o.at.with_timezone(&tz);
    let schedule = o.schedule_id.as_deref().map(schedule_path);
    let job = o.job_id.as_deref().map(job_path);
    let (kind, label, href) = match &o.what {
        What::Planned => ("planned", None, schedule),
        What::Paused => ("paused", Some("paused".to_string()), schedule),
        What::Run { status } => ("run", Some(format!("run: {status}")), job.or(schedule)),
        What::Job { retry } => (
            "job",
            Some(if *retry { "retry" } else { "scheduled job" }.to_string()),
            job,
        ),
    };
    EventView {
        time: local.format("%H:%M").to_string(),
        datetime: o.at.to_rfc3339(),
        name: o.name.clone(),
        channels: o.channels.join(", "),
        href: href.unwrap_or_else(|| LIST.to_string()),
        kind,
        label,
    }
}

#[derive(Debug, Serialize)]
struct DayView {
    date: String,
    number: u32,
    weekday: String,
    month: String,
    in_period: bool,
    today: bool,
    events: Vec<EventView>,
    /// Entries not listed in a month grid's day, and its week's page that lists them.
    more: usize,
    more_href: Option<String>,
}

fn day(d: &Day, cal: &Calendar, ask: &Ask) -> DayView {
    let shown = match cal.span {
        Span::Month => SHOWN_IN_A_MONTH_DAY,
        Span::Week => usize::MAX,
    };
    let more = d.occurrences.len().saturating_sub(shown);
    DayView {
        date: d.date.format("%Y-%m-%d").to_string(),
        number: d.date.day(),
        weekday: d.date.format("%a").to_string(),
        month: d.date.format("%b").to_string(),
        in_period: d.in_period,
        today: d.date == cal.today,
        events: d
            .occurrences
            .iter()
            .take(shown)
            .map(|o| event(o, cal.tz))
            .collect(),
        more,
        more_href: (more > 0).then(|| ask.link(Span::Week, Some(d.date))),
    }
}

#[derive(Debug, Serialize)]
struct NoteView {
    text: String,
    href: Option<String>,
}

fn note(n: &Note, tz: Tz) -> NoteView {
    let (text, id) = match n {
        Note::ScheduleCut {
            schedule_id,
            name,
            shown,
        } => (
            format!(
                "{name}: only its first {shown} times in this period are shown; it runs more often than that."
            ),
            Some(schedule_id),
        ),
        Note::SpanCut { shown } => (
            format!(
                "This period holds more than {shown} entries; only the first {shown} are shown."
            ),
            None,
        ),
        Note::RunsCut {
            schedule_id,
            name,
            since,
        } => (
            format!(
                "{name}: only its latest {} runs are looked at, so runs before {} are not shown.",
                calendar::RUNS_SCANNED,
                since.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z")
            ),
            Some(schedule_id),
        ),
        Note::JobsCut { scanned } => (
            format!(
                "More than {scanned} jobs are pending; only the newest {scanned} are looked at."
            ),
            None,
        ),
        Note::BadTiming {
            schedule_id,
            name,
            reason,
        } => (
            format!("{name}: its timing cannot be read ({reason}), so it shows no times."),
            Some(schedule_id),
        ),
    };
    NoteView {
        text,
        href: id.map(|id| schedule_path(id)),
    }
}

#[derive(Debug, Serialize)]
struct ScheduleRow {
    id: String,
    href: String,
    name: String,
    /// The cron expression, or the one-off time in the schedule's zone.
    when: String,
    recurring: bool,
    zone: String,
    status: String,
    channels: String,
    next: Option<String>,
    last: Option<String>,
    can_pause: bool,
    can_resume: bool,
}

/// A time in `zone` (UTC when the zone cannot be read), with the zone's abbreviation.
fn in_zone(ms: i64, zone_name: &str) -> String {
    let Some(t) = DateTime::<Utc>::from_timestamp_millis(ms) else {
        return "—".into();
    };
    let tz = zone(zone_name).unwrap_or(Tz::UTC);
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string()
}

fn schedule_row(s: &Schedule) -> ScheduleRow {
    let recurring = s.cron.is_some();
    ScheduleRow {
        id: s.id.clone(),
        href: schedule_path(&s.id),
        name: s.name.clone(),
        when: match (&s.cron, s.scheduled_for_ms) {
            (Some(c), _) => c.clone(),
            (None, Some(ms)) => format!("once, {}", in_zone(ms, &s.timezone)),
            (None, None) => "—".into(),
        },
        recurring,
        zone: s.timezone.clone(),
        status: s.status.clone(),
        channels: s.channels.join(", "),
        next: (s.status == "active")
            .then_some(s.next_run_ms)
            .flatten()
            .map(|ms| in_zone(ms, &s.timezone)),
        last: s.last_run_ms.map(|ms| in_zone(ms, &s.timezone)),
        can_pause: s.status == "active",
        can_resume: s.status == "paused",
    }
}

/// The heading of a calendar: "March 2026", or "Week of Monday 23 March 2026".
fn heading(cal: &Calendar) -> String {
    match cal.span {
        Span::Month => cal.date.format("%B %Y").to_string(),
        Span::Week => cal
            .days
            .first()
            .map(|d| format!("Week of {}", d.date.format("%A %-d %B %Y")))
            .unwrap_or_default(),
    }
}

/// `GET /ui/schedules?view=month|week&date=YYYY-MM-DD&tz=Zone`.
pub async fn list(State(state): State<AppState>, visit: Visit) -> Result<Response, UiError> {
    let me = visit.needs(Scope::Read)?;
    let now = Utc::now();
    let (ask, date) = Ask::read(&visit.params, |tz| now.with_timezone(&tz).date_naive())?;
    let cal = calendar::calendar(&state, ask.span, date, ask.tz, now).await?;
    let days: Vec<DayView> = cal.days.iter().map(|d| day(d, &cal, &ask)).collect();
    let notes: Vec<NoteView> = cal.notes.iter().map(|n| note(n, cal.tz)).collect();
    let rows: Vec<ScheduleRow> = cal.schedules.iter().map(schedule_row).collect();
    let mut zones: Vec<String> = cal
        .schedules
        .iter()
        .map(|s| s.timezone.clone())
        .chain(["UTC".to_string(), ask.tz.name().to_string()])
        .collect();
    zones.sort_unstable();
    zones.dedup();
    let this = ask.link(ask.span, ask.date);
    let ctx = context! {
        view => ask.span.as_str(),
        date => ask.date.map(|d| d.format("%Y-%m-%d").to_string()),
        shown_date => date.format("%Y-%m-%d").to_string(),
        tz => ask.tz.name(),
        zones,
        heading => heading(&cal),
        prev => ask.link(ask.span, ask.span.step(date, false)),
        next => ask.link(ask.span, ask.span.step(date, true)),
        today => ask.link(ask.span, None),
        month => ask.link(Span::Month, ask.date),
        week => ask.link(Span::Week, ask.date),
        days => Serde(&days),
        entries => cal.len(),
        notes => Serde(&notes),
        schedules => Serde(&rows),
        back => this,
        can_write => me.allows(Scope::Write),
        max_per_schedule => calendar::MAX_PER_SCHEDULE,
    };
    visit.html("schedules.html", "schedules", "Schedules", ctx)
}

#[derive(Debug, Serialize)]
struct UpcomingView {
    local: String,
    utc: String,
    datetime: String,
}

#[derive(Debug, Serialize)]
struct RunView {
    due: String,
    started: String,
    finished: Option<String>,
    status: String,
    version: Option<String>,
    version_href: Option<String>,
    job: Option<String>,
    job_href: Option<String>,
    detail: String,
}

fn run_view(r: &ScheduleRun, zone_name: &str) -> RunView {
    RunView {
        due: in_zone(r.due_ms, zone_name),
        started: display_ms(r.started_ms),
        finished: r.finished_ms.map(display_ms),
        status: r.status.clone(),
        version: r.version_id.clone(),
        version_href: r
            .version_id
            .as_deref()
            .map(|v| format!("/ui/reviews/{}", encode(v))),
        job: r.job_id.clone(),
        job_href: r.job_id.as_deref().map(job_path),
        detail: r.detail.clone(),
    }
}

/// `GET /ui/schedules/{id}`.
pub async fn detail(
    State(state): State<AppState>,
    visit: Visit,
    Id(id): Id,
) -> Result<Response, UiError> {
    let me = visit.needs(Scope::Read)?;
    let d = calendar::detail(&state, &id, Utc::now()).await?;
    let s = &d.schedule;
    let tz = zone(&s.timezone).unwrap_or(Tz::UTC);
    let (upcoming, timing_error) = match &d.upcoming {
        Ok(times) => (
            times
                .iter()
                .map(|t| UpcomingView {
                    local: t
                        .with_timezone(&tz)
                        .format("%a %Y-%m-%d %H:%M %Z")
                        .to_string(),
                    utc: t.format("%Y-%m-%d %H:%M UTC").to_string(),
                    datetime: t.to_rfc3339(),
                })
                .collect(),
            None,
        ),
        Err(e) => (Vec::new(), Some(e.clone())),
    };
    let runs: Vec<RunView> = d.runs.iter().map(|r| run_view(r, &s.timezone)).collect();
    let path = schedule_path(&s.id);
    let ctx = context! {
        schedule => Serde(schedule_row(s)),
        path => path.clone(),
        back => path,
        calendar_href => href(LIST, &[("view", Some("month")), ("tz", Some(tz.name()))]),
        document => s.document_id.clone().unwrap_or_else(|| "the configured living document".into()),
        tone => s.options["tone"].as_str().map(str::to_string),
        template => s.options["template"].as_str().map(str::to_string),
        created => display_ms(s.created_ms),
        created_by => s.created_by.clone(),
        upcoming => Serde(&upcoming),
        upcoming_count => calendar::UPCOMING,
        timing_error,
        runs => Serde(&runs),
        json_href => format!("/api/v2/schedules/{}", encode(&s.id)),
        can_write => me.allows(Scope::Write),
    };
    visit.html(
        "schedule.html",
        "schedules",
        &format!("Schedule {}", s.name),
        ctx,
    )
}

/// Where a pause or resume form returns: the calendar page (with its query) or the
/// schedule's page it came from, else the calendar.
fn back(fields: &Params) -> String {
    let next = safe_next(fields.get("back"));
    if next == LIST || next.starts_with("/ui/schedules?") || next.starts_with("/ui/schedules/") {
        next
    } else {
        LIST.into()
    }
}

/// `POST /ui/schedules/{id}/pause` (`csrf`, `back`?).
pub async fn pause(state: State<AppState>, id: Id, form: Form) -> Result<Response, UiError> {
    act(state, id, form, false).await
}

/// `POST /ui/schedules/{id}/resume` (`csrf`, `back`?).
pub async fn resume(state: State<AppState>, id: Id, form: Form) -> Result<Response, UiError> {
    act(state, id, form, true).await
}

/// Pauses or resumes a schedule as the API does, then back where the form came from.
async fn act(
    State(state): State<AppState>,
    Id(id): Id,
    form: Form,
    resume: bool,
) -> Result<Response, UiError> {
    let back = back(&form.fields);
    let me = form.signed(&state, Scope::Write, &back).await?;
    let done = if resume {
        manage::resume(&state, &id).await
    } else {
        manage::pause(&state, &id).await
    };
    let r = done.map(|s| {
        let name = s["name"].as_str().unwrap_or(&id);
        if resume {
            tracing::info!(schedule = %id, key_id = %me.key_id, "console: schedule resumed");
            let next = s["next_run_at"]
                .as_str()
                .map(super::page::display_rfc3339)
                .unwrap_or_else(|| "—".into());
            format!("Schedule {name} is active again; its next run is {next}.")
        } else {
            tracing::info!(schedule = %id, key_id = %me.key_id, "console: schedule paused");
            format!("Schedule {name} is paused: it runs no more until it is resumed.")
        }
    });
    answer(&back, r.map_err(ApiError::from))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_and_zones_are_checked() {
        let today = |_: Tz| NaiveDate::from_ymd_opt(2026, 3, 27).unwrap_or_default();
        let read = |q: &str| Ask::read(&Params::parse(q.as_bytes()), today);
        let (ask, date) = read("")
            .map_err(|e| e.to_string())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (ask.span, ask.tz, date.to_string()),
            (Span::Month, Tz::UTC, "2026-03-27".into())
        );
        let (ask, _) = read("view=week&date=2026-01-05&tz=Europe%2FBerlin")
            .map_err(|e| e.to_string())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            ask.link(Span::Month, ask.date),
            "/ui/schedules?view=month&date=2026-01-05&tz=Europe%2FBerlin"
        );
        for bad in [
            "tz=Mars%2FOlympus",
            "date=2026-13-01",
            "date=yesterday",
            "date=0001-01-01",
            "view=year",
        ] {
            let e = read(bad).err().map(|e| e.to_string()).unwrap_or_default();
            let name = bad.split('=').next().unwrap_or_default();
            assert!(e.starts_with(&format!("{name}:")), "{bad}: {e}");
        }
    }

    #[test]
    fn forms_return_to_schedule_pages_only() {
        let back_of = |b: &str| back(&Params::new(vec![("back".into(), b.into())]));
        assert_eq!(back_of("/ui/schedules/sch_1"), "/ui/schedules/sch_1");
        assert_eq!(
            back_of("/ui/schedules?view=week&tz=UTC"),
            "/ui/schedules?view=week&tz=UTC"
        );
        for elsewhere in ["/ui/jobs", "https://evil.example/", "/ui/schedulesx", "//x"] {
            assert_eq!(back_of(elsewhere), LIST, "{elsewhere}");
        }
    }
}
