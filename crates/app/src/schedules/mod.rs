//! Schedules: a one-off run at `scheduled_for`, or runs on a cron expression in a time zone
//! (the weekly update: `0 10 * * TUE` in America/New_York). Each run fetches the document,
//! makes a draft version, submits it for review and — when the rules approve it — hands it
//! to the publisher; otherwise it waits for reviewers. Runs missed while the service was
//! down run once, not once per missed occurrence. The calendar (`calendar`) shows what will go
//! out when.

pub mod calendar;
pub mod manage;
pub mod runner;
pub mod timing;
