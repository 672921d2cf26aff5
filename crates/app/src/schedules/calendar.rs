//! The calendar of what will go out: every schedule expanded into the times it runs within a
//! span of days (a month grid or a week), read in a display time zone — recurring ones at
//! every cron occurrence in their own zone, one-off ones at their time, paused ones at the
//! times they would run if resumed — with the runs schedules made in that span and the
//! pending jobs queued for a later time. Expansion is bounded (a `* * * * *` cron lists its
//! first [`MAX_PER_SCHEDULE`] times and says so), and [`expand`] is pure: the caller passes
//! "now".

use super::manage::find;
use super::timing::Timing;
use crate::core::Core;
use crate::error::{AppError, AppResult};
use crate::queue::spec_label;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use halcytone_store::{Job, JobFilter, JobStatus, Schedule, ScheduleRun};

/// Times of one schedule listed at most in one span.
pub const MAX_PER_SCHEDULE: usize = 500;
/// Entries listed at most in one span, all schedules, runs and jobs together.
pub const MAX_PER_SPAN: usize = 2000;
/// Latest runs of each schedule looked at.
pub const RUNS_SCANNED: i64 = 500;
/// Pending jobs looked at for a later run time.
pub const JOBS_SCANNED: i64 = 1000;
/// Upcoming times a schedule's own page lists.
pub const UPCOMING: usize = 10;
/// Runs a schedule's own page lists.
pub const RECENT_RUNS: i64 = 20;

/// How many days a calendar shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Span {
    /// The weeks (Monday to Sunday) that hold a month's days.
    Month,
    /// The week (Monday to Sunday) that holds a day.
    Week,
}

impl Span {
    pub fn as_str(self) -> &'static str {
        match self {
            Span::Month => "month",
            Span::Week => "week",
        }
    }

    /// The days shown for `date`, in order, and whether each is in the period itself (a
    /// month grid also shows the days of its first and last weeks in the months around it).
    pub fn days(self, date: NaiveDate) -> Vec<(NaiveDate, bool)> {
        let monday =
            |d: NaiveDate| d - Duration::days(i64::from(d.weekday().num_days_from_monday()));
        match self {
            Span::Week => (0..7)
                .map(|i| (monday(date) + Duration::days(i), true))
                .collect(),
            Span::Month => {
                let first = date.with_day(1).unwrap_or(date);
                let last = first
                    .checked_add_months(chrono::Months::new(1))
                    .and_then(|d| d.pred_opt())
                    .unwrap_or(first);
                let sunday =
                    last + Duration::days(6 - i64::from(last.weekday().num_days_from_monday()));
                monday(first)
                    .iter_days()
                    .take_while(|d| *d <= sunday)
                    .map(|d| (d, d.month() == first.month() && d.year() == first.year()))
                    .collect()
            }
        }
    }

    /// The day the previous (`forward == false`) or next period is shown for: the first of
    /// the month before or after, or the same weekday a week before or after.
    pub fn step(self, date: NaiveDate, forward: bool) -> Option<NaiveDate> {
        match (self, forward) {
            (Span::Week, true) => date.checked_add_signed(Duration::days(7)),
            (Span::Week, false) => date.checked_sub_signed(Duration::days(7)),
            (Span::Month, true) => date.with_day(1)?.checked_add_months(chrono::Months::new(1)),
            (Span::Month, false) => date.with_day(1)?.checked_sub_months(chrono::Months::new(1)),
        }
    }
}

/// What an entry of the calendar is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum What {
    /// A time an active schedule will run.
    Planned,
    /// A time a paused schedule would run, were it resumed.
    Paused,
    /// A run a schedule made, with its status (running, awaiting_approval, queued,
    /// unchanged, failed).
    Run { status: String },
    /// A pending job queued for a later time: a scheduled publish, or a retry waiting for
    /// its next attempt.
    Job { retry: bool },
}

/// One entry: something that goes (or went) out at `at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Occurrence {
    pub at: DateTime<Utc>,
    pub what: What,
    /// The schedule it belongs to (none for a job queued by hand).
    pub schedule_id: Option<String>,
    /// The job it is or made, if any.
    pub job_id: Option<String>,
    /// The schedule's name, or the job's document label.
    pub name: String,
    pub channels: Vec<String>,
}

/// Something the calendar left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// Only the first `shown` times of this schedule in the span are listed.
    ScheduleCut {
        schedule_id: String,
        name: String,
        shown: usize,
    },
    /// The span held more than [`MAX_PER_SPAN`] entries; those after the first are left out.
    SpanCut { shown: usize },
    /// Only this schedule's latest [`RUNS_SCANNED`] runs were looked at; runs before `since`
    /// may be missing.
    RunsCut {
        schedule_id: String,
        name: String,
        since: DateTime<Utc>,
    },
    /// More pending jobs than [`JOBS_SCANNED`]; only the newest were looked at.
    JobsCut { scanned: i64 },
    /// A stored schedule whose timing cannot be read: it shows no times.
    BadTiming {
        schedule_id: String,
        name: String,
        reason: String,
    },
}

/// Entries within a window, in time order, and what was left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expansion {
    pub occurrences: Vec<Occurrence>,
    pub notes: Vec<Note>,
}

/// The first instant of `date` in `tz`: local midnight, or — where a daylight-saving change
/// skips midnight — the first local time of that day that exists.
pub fn day_start(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_time(NaiveTime::MIN);
    (0..8)
        .find_map(|half_hours| {
            tz.from_local_datetime(&(midnight + Duration::minutes(30 * half_hours)))
                .earliest()
        })
        .map_or_else(
            || Utc.from_utc_datetime(&midnight),
            |t| t.with_timezone(&Utc),
        )
}

/// The timing of a stored schedule.
fn timing_of(s: &Schedule) -> Result<Timing, String> {
    let once = s
        .scheduled_for_ms
        .and_then(|ms| Utc.timestamp_millis_opt(ms).single());
    Timing::new(s.cron.as_deref(), &s.timezone, once).map_err(|e| e.message)
}

/// The times `timing` runs at or after `from`, strictly after `now`, and before `to`; at
/// most `max`, and whether more were left out.
fn times(
    timing: &Timing,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
    max: usize,
) -> (Vec<DateTime<Utc>>, bool) {
    // Occurrences are whole minutes, and `next_after` is strict: a second before `from`
    // makes `from` itself count.
    let mut after = (from - Duration::seconds(1)).max(now);
    let mut out = Vec::new();
    while let Some(t) = timing.next_after(after) {
        if t >= to {
            return (out, false);
        }
        if out.len() == max {
            return (out, true);
        }
        out.push(t);
        after = t;
    }
    (out, false)
}

/// Whether a stored time (Unix ms) is in `[from, to)`.
fn within(ms: i64, from: DateTime<Utc>, to: DateTime<Utc>) -> bool {
    (from.timestamp_millis()..to.timestamp_millis()).contains(&ms)
}

fn instant(ms: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_millis_opt(ms).single()
}

/// Everything in `[from, to)`: the times active and paused schedules run after `now` (a
/// completed schedule has none left), the `runs` schedules made, and the pending `jobs`
/// queued for a time after `now`. At most [`MAX_PER_SCHEDULE`] times a schedule and
/// [`MAX_PER_SPAN`] entries in all; each cut is noted.
pub fn expand(
    schedules: &[Schedule],
    runs: &[ScheduleRun],
    jobs: &[Job],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Expansion {
    let mut out = Expansion::default();
    for s in schedules {
        let what = match s.status.as_str() {
            "active" => What::Planned,
            "paused" => What::Paused,
            _ => continue,
        };
        let timing = match timing_of(s) {
            Ok(t) => t,
            Err(reason) => {
                out.notes.push(Note::BadTiming {
                    schedule_id: s.id.clone(),
                    name: s.name.clone(),
                    reason,
                });
                continue;
            }
        };
        let (at, cut) = times(&timing, from, to, now, MAX_PER_SCHEDULE);
        if cut {
            out.notes.push(Note::ScheduleCut {
                schedule_id: s.id.clone(),
                name: s.name.clone(),
                shown: at.len(),
            });
        }
        out.occurrences.extend(at.into_iter().map(|at| Occurrence {
            at,
            what: what.clone(),
            schedule_id: Some(s.id.clone()),
            job_id: None,
            name: s.name.clone(),
            channels: s.channels.clone(),
        }));
    }
    for r in runs.iter().filter(|r| within(r.due_ms, from, to)) {
        let Some(s) = schedules.iter().find(|s| s.id == r.schedule_id) else {
            continue;
        };
        let Some(at) = instant(r.due_ms) else {
            continue;
        };
        out.occurrences.push(Occurrence {
            at,
            what: What::Run {
                status: r.status.clone(),
            },
            schedule_id: Some(s.id.clone()),
            job_id: r.job_id.clone(),
            name: s.name.clone(),
            channels: s.channels.clone(),
        });
    }
    let later = |j: &&Job| {
        j.status == JobStatus::Pending
            && j.run_at_ms > now.timestamp_millis()
            && within(j.run_at_ms, from, to)
    };
    for j in jobs.iter().filter(later) {
        let Some(at) = instant(j.run_at_ms) else {
            continue;
        };
        out.occurrences.push(Occurrence {
            at,
            what: What::Job {
                retry: j.attempts > 0,
            },
            schedule_id: None,
            job_id: Some(j.id.clone()),
            name: spec_label(j),
            channels: j.channels.clone(),
        });
    }
    out.occurrences.sort_by(|a, b| {
        (a.at, &a.name, &a.schedule_id, &a.job_id).cmp(&(b.at, &b.name, &b.schedule_id, &b.job_id))
    });
    if out.occurrences.len() > MAX_PER_SPAN {
        out.occurrences.truncate(MAX_PER_SPAN);
        out.notes.push(Note::SpanCut {
            shown: MAX_PER_SPAN,
        });
    }
    out
}

/// One day of a calendar, in the display time zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Day {
    pub date: NaiveDate,
    /// In the month (or week) shown, rather than a day of the grid around it.
    pub in_period: bool,
    pub occurrences: Vec<Occurrence>,
}

/// A calendar of a span of days, read in one time zone.
#[derive(Debug, Clone)]
pub struct Calendar {
    pub span: Span,
    /// The day the calendar was asked for.
    pub date: NaiveDate,
    /// The display time zone: days are its days, times its times.
    pub tz: Tz,
    /// Today in the display time zone.
    pub today: NaiveDate,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub days: Vec<Day>,
    pub notes: Vec<Note>,
    /// Every schedule, in the order they were made.
    pub schedules: Vec<Schedule>,
}

impl Calendar {
    /// How many entries the calendar holds.
    pub fn len(&self) -> usize {
        self.days.iter().map(|d| d.occurrences.len()).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Puts each entry of `expansion` in the day of `days` that holds it in `tz`.
pub fn by_day(days: &[(NaiveDate, bool)], tz: Tz, expansion: Expansion) -> (Vec<Day>, Vec<Note>) {
    let mut out: Vec<Day> = days
        .iter()
        .map(|(date, in_period)| Day {
            date: *date,
            in_period: *in_period,
            occurrences: Vec::new(),
        })
        .collect();
    let Some(first) = days.first().map(|d| d.0) else {
        return (out, expansion.notes);
    };
    for o in expansion.occurrences {
        let local = o.at.with_timezone(&tz).date_naive();
        let index = usize::try_from((local - first).num_days()).ok();
        if let Some(day) = index.and_then(|i| out.get_mut(i)) {
            day.occurrences.push(o);
        }
    }
    (out, expansion.notes)
}

/// The calendar of `span` around `date`, read in `tz`, as of `now`.
pub async fn calendar(
    state: &Core,
    span: Span,
    date: NaiveDate,
    tz: Tz,
    now: DateTime<Utc>,
) -> AppResult<Calendar> {
    let days = span.days(date);
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        return Err(AppError::invalid("date", "date: no days to show"));
    };
    let from = day_start(tz, first.0);
    let to = last
        .0
        .succ_opt()
        .map_or(DateTime::<Utc>::MAX_UTC, |d| day_start(tz, d));
    let schedules = state.store.schedules().await?;
    let mut runs = Vec::new();
    let mut notes = Vec::new();
    for s in &schedules {
        let mine = state.store.schedule_runs(&s.id, RUNS_SCANNED).await?;
        if mine.len() as i64 >= RUNS_SCANNED
            && let Some(oldest) = mine.last()
            && oldest.due_ms > from.timestamp_millis()
            && let Some(since) = instant(oldest.due_ms)
        {
            notes.push(Note::RunsCut {
                schedule_id: s.id.clone(),
                name: s.name.clone(),
                since,
            });
        }
        runs.extend(mine);
    }
    let (jobs, pending) = state
        .store
        .jobs(&JobFilter {
            status: Some(JobStatus::Pending),
            limit: JOBS_SCANNED,
            ..JobFilter::default()
        })
        .await?;
    if pending > JOBS_SCANNED {
        notes.push(Note::JobsCut {
            scanned: JOBS_SCANNED,
        });
    }
    let (days, cut) = by_day(&days, tz, expand(&schedules, &runs, &jobs, from, to, now));
    notes.extend(cut);
    Ok(Calendar {
        span,
        date,
        tz,
        today: now.with_timezone(&tz).date_naive(),
        from,
        to,
        days,
        notes,
        schedules,
    })
}

/// The next `n` times `s` runs after `now` (a paused schedule: would run, were it resumed; a
/// completed one: none).
pub fn upcoming(s: &Schedule, now: DateTime<Utc>, n: usize) -> Result<Vec<DateTime<Utc>>, String> {
    if !matches!(s.status.as_str(), "active" | "paused") {
        return Ok(Vec::new());
    }
    let timing = timing_of(s)?;
    let mut out = Vec::with_capacity(n);
    let mut after = now;
    while out.len() < n
        && let Some(t) = timing.next_after(after)
    {
        out.push(t);
        after = t;
    }
    Ok(out)
}

/// One schedule as its page shows it: its next times and its latest runs.
#[derive(Debug, Clone)]
pub struct Detail {
    pub schedule: Schedule,
    /// The next [`UPCOMING`] times, or why its timing cannot be read.
    pub upcoming: Result<Vec<DateTime<Utc>>, String>,
    /// The latest [`RECENT_RUNS`] runs, newest first.
    pub runs: Vec<ScheduleRun>,
}

/// The schedule `id` with its next times and latest runs; an unknown id is not found.
pub async fn detail(state: &Core, id: &str, now: DateTime<Utc>) -> AppResult<Detail> {
    let schedule = find(state, id).await?;
    let runs = state.store.schedule_runs(id, RECENT_RUNS).await?;
    Ok(Detail {
        upcoming: upcoming(&schedule, now, UPCOMING),
        schedule,
        runs,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn zone(name: &str) -> Tz {
        name.parse().unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    fn schedule(
        id: &str,
        cron: Option<&str>,
        tz: &str,
        once: Option<&str>,
        status: &str,
    ) -> Schedule {
        Schedule {
            id: id.into(),
            name: format!("{id} name"),
            cron: cron.map(str::to_string),
            timezone: tz.into(),
            scheduled_for_ms: once.map(|t| utc(t).timestamp_millis()),
            document_id: None,
            channels: vec!["email".into()],
            options: json!({}),
            status: status.into(),
            next_run_ms: None,
            last_run_ms: None,
            last_result: None,
            created_by: "test".into(),
            created_ms: 0,
            updated_ms: 0,
        }
    }

    fn local_times(e: &Expansion, tz: Tz) -> Vec<String> {
        e.occurrences
            .iter()
            .map(|o| o.at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
            .collect()
    }

    #[test]
    fn a_daily_send_in_berlin_stays_at_nine_across_the_spring_change() {
        let berlin = zone("Europe/Berlin");
        let s = schedule(
            "sch_daily",
            Some("0 9 * * *"),
            "Europe/Berlin",
            None,
            "active",
        );
        // The clocks go forward on Sunday 29 March 2026.
        let days = Span::Week.days(day("2026-03-27"));
        assert_eq!(days[0].0, day("2026-03-23"), "weeks start on Monday");
        let from = day_start(berlin, days[0].0);
        let to = day_start(berlin, day("2026-03-30"));
        let e = expand(&[s], &[], &[], from, to, utc("2026-01-01T00:00:00Z"));
        assert_eq!(
            local_times(&e, berlin),
            [
                "2026-03-23 09:00",
                "2026-03-24 09:00",
                "2026-03-25 09:00",
                "2026-03-26 09:00",
                "2026-03-27 09:00",
                "2026-03-28 09:00",
                "2026-03-29 09:00",
            ]
        );
        let at: Vec<DateTime<Utc>> = e.occurrences.iter().map(|o| o.at).collect();
        assert_eq!(at[5], utc("2026-03-28T08:00:00Z"), "09:00 CET");
        assert_eq!(at[6], utc("2026-03-29T07:00:00Z"), "09:00 CEST");
        // Each lands on its own day in Berlin; read in UTC they are still on those days.
        let (grid, _) = by_day(&days, berlin, e.clone());
        assert!(grid.iter().all(|d| d.occurrences.len() == 1), "{grid:?}");
        let (grid, _) = by_day(&days, Tz::UTC, e);
        assert_eq!(grid[6].occurrences[0].at, utc("2026-03-29T07:00:00Z"));
        // The day of the change is 23 hours long.
        assert_eq!(
            day_start(berlin, day("2026-03-30")) - day_start(berlin, day("2026-03-29")),
            Duration::hours(23)
        );
    }

    #[test]
    fn a_cron_every_minute_is_cut_at_the_bound_and_says_so() {
        let s = schedule("sch_busy", Some("* * * * *"), "UTC", None, "active");
        let days = Span::Month.days(day("2026-06-15"));
        let from = day_start(Tz::UTC, days[0].0);
        let to = day_start(Tz::UTC, day("2026-07-06"));
        let e = expand(&[s], &[], &[], from, to, utc("2026-01-01T00:00:00Z"));
        assert_eq!(e.occurrences.len(), MAX_PER_SCHEDULE);
        assert_eq!(
            e.notes,
            [Note::ScheduleCut {
                schedule_id: "sch_busy".into(),
                name: "sch_busy name".into(),
                shown: MAX_PER_SCHEDULE
            }]
        );
        assert_eq!(
            e.occurrences[0].at, from,
            "the window's first minute counts"
        );
        // Many busy schedules together stop at the span's bound.
        let many: Vec<Schedule> = (0..5)
            .map(|i| {
                schedule(
                    &format!("sch_{i}"),
                    Some("* * * * *"),
                    "UTC",
                    None,
                    "active",
                )
            })
            .collect();
        let e = expand(&many, &[], &[], from, to, utc("2026-01-01T00:00:00Z"));
        assert_eq!(e.occurrences.len(), MAX_PER_SPAN);
        assert!(e.notes.contains(&Note::SpanCut {
            shown: MAX_PER_SPAN
        }));
    }

    #[test]
    fn one_off_paused_completed_runs_and_jobs() {
        let now = utc("2026-05-10T12:00:00Z");
        let (from, to) = (utc("2026-05-01T00:00:00Z"), utc("2026-06-01T00:00:00Z"));
        let schedules = [
            schedule(
                "sch_once",
                None,
                "UTC",
                Some("2026-05-20T08:30:00Z"),
                "active",
            ),
            schedule(
                "sch_gone",
                None,
                "UTC",
                Some("2026-05-05T08:30:00Z"),
                "active",
            ),
            schedule("sch_paused", Some("0 10 * * MON"), "UTC", None, "paused"),
            schedule("sch_done", Some("0 10 * * TUE"), "UTC", None, "completed"),
            schedule(
                "sch_bad",
                Some("0 10 * * TUE"),
                "Mars/Olympus",
                None,
                "active",
            ),
        ];
        let run = ScheduleRun {
            id: "run_1".into(),
            schedule_id: "sch_done".into(),
            due_ms: utc("2026-05-05T10:00:00Z").timestamp_millis(),
            started_ms: 0,
            finished_ms: None,
            status: "queued".into(),
            version_id: None,
            job_id: Some("job_1".into()),
            detail: String::new(),
        };
        let elsewhere = ScheduleRun {
            id: "run_2".into(),
            due_ms: utc("2026-04-05T10:00:00Z").timestamp_millis(),
            ..run.clone()
        };
        let job = |id: &str, at: &str, status: JobStatus, attempts: i64| Job {
            id: id.into(),
            document_id: "doc".into(),
            channels: vec!["website".into()],
            status,
            attempts,
            max_attempts: 3,
            run_at_ms: utc(at).timestamp_millis(),
            lease_until_ms: None,
            worker: None,
            created_ms: 0,
            started_ms: None,
            completed_ms: None,
            scheduled_ms: None,
            payload: json!({}),
            results: json!({}),
            errors: vec![],
            last_error: None,
            correlation_id: String::new(),
            retry_of: None,
            batch_id: None,
        };
        let jobs = [
            job("job_later", "2026-05-25T06:00:00Z", JobStatus::Pending, 0),
            job("job_retry", "2026-05-10T12:05:00Z", JobStatus::Pending, 1),
            job("job_due", "2026-05-10T11:00:00Z", JobStatus::Pending, 0),
            job("job_done", "2026-05-26T06:00:00Z", JobStatus::Completed, 0),
            job(
                "job_next_month",
                "2026-06-02T06:00:00Z",
                JobStatus::Pending,
                0,
            ),
        ];
        let e = expand(&schedules, &[run, elsewhere], &jobs, from, to, now);
        let seen: Vec<(String, &What, Option<&str>)> = e
            .occurrences
            .iter()
            .map(|o| {
                (
                    o.at.format("%d %H:%M").to_string(),
                    &o.what,
                    o.job_id.as_deref().or(o.schedule_id.as_deref()),
                )
            })
            .collect();
        let run = What::Run {
            status: "queued".into(),
        };
        assert_eq!(
            seen,
            [
                ("05 10:00".to_string(), &run, Some("job_1")),
                (
                    "10 12:05".into(),
                    &What::Job { retry: true },
                    Some("job_retry")
                ),
                ("11 10:00".into(), &What::Paused, Some("sch_paused")),
                ("18 10:00".into(), &What::Paused, Some("sch_paused")),
                ("20 08:30".into(), &What::Planned, Some("sch_once")),
                (
                    "25 06:00".into(),
                    &What::Job { retry: false },
                    Some("job_later")
                ),
                ("25 10:00".into(), &What::Paused, Some("sch_paused")),
            ]
        );
        assert!(
            matches!(&e.notes[..], [Note::BadTiming { schedule_id, .. }] if schedule_id == "sch_bad")
        );
    }

    #[test]
    fn month_grids_are_whole_weeks() {
        // June 2026 starts on a Monday and ends on a Tuesday.
        let june = Span::Month.days(day("2026-06-17"));
        assert_eq!(june.len(), 35);
        assert_eq!(june[0], (day("2026-06-01"), true));
        assert_eq!(june[29], (day("2026-06-30"), true));
        assert_eq!(june[34], (day("2026-07-05"), false));
        // February 2027 starts on a Monday and ends on a Sunday: four weeks exactly.
        assert_eq!(Span::Month.days(day("2027-02-10")).len(), 28);
        // March 2026 starts on a Sunday: six rows.
        let march = Span::Month.days(day("2026-03-01"));
        assert_eq!(march.len(), 42);
        assert_eq!(march[0], (day("2026-02-23"), false));
        assert_eq!(
            Span::Month.step(day("2026-01-31"), true),
            Some(day("2026-02-01"))
        );
        assert_eq!(
            Span::Month.step(day("2026-01-31"), false),
            Some(day("2025-12-01"))
        );
        assert_eq!(
            Span::Week.step(day("2026-01-31"), true),
            Some(day("2026-02-07"))
        );
    }

    #[test]
    fn upcoming_times_of_paused_and_completed_schedules() {
        let now = utc("2026-05-10T12:00:00Z");
        let paused = schedule(
            "sch_p",
            Some("0 10 * * *"),
            "America/New_York",
            None,
            "paused",
        );
        let next = upcoming(&paused, now, 3).unwrap_or_default();
        assert_eq!(
            next,
            [
                utc("2026-05-10T14:00:00Z"),
                utc("2026-05-11T14:00:00Z"),
                utc("2026-05-12T14:00:00Z")
            ]
        );
        let done = schedule("sch_d", Some("0 10 * * *"), "UTC", None, "completed");
        assert_eq!(upcoming(&done, now, 3), Ok(vec![]));
        let once = schedule("sch_o", None, "UTC", Some("2026-05-20T08:30:00Z"), "active");
        assert_eq!(
            upcoming(&once, now, 3),
            Ok(vec![utc("2026-05-20T08:30:00Z")])
        );
        let bad = schedule("sch_b", Some("nope"), "UTC", None, "active");
        assert!(upcoming(&bad, now, 3).is_err());
    }

    #[test]
    fn a_day_whose_midnight_is_skipped_starts_when_it_can() {
        // Santiago moved its clocks from 00:00 to 01:00 on 7 September 2025.
        let santiago = zone("America/Santiago");
        let start = day_start(santiago, day("2025-09-07"));
        assert_eq!(
            start.with_timezone(&santiago).format("%H:%M").to_string(),
            "01:00"
        );
    }
}
