//! A cronjob's `schedule` is a cron expression the Kubernetes CronJob
//! controller accepts: five fields (minute, hour, day of month, month, day
//! of week) or a macro such as `@daily`.
//!
//! Why: the API server stores a CronJob with a schedule it cannot parse
//! only to reject it, so the mistake would surface at `kubectl apply`, or,
//! for a value that parses but means something else (six fields, a
//! seconds field), as a job that never runs at the expected time.
//!
//! Example:
//!
//! ```yaml
//! backup:
//!   kind: cronjob
//!   schedule: "0 25 * * *"     # error: hour 25
//! ```

use super::Selection;
use crate::cron;
use crate::diag::{Diagnostic, Rule, Severity};

pub const RULE: Rule = Rule {
    code: "PG506",
    name: "invalid-schedule",
    severity: Severity::Error,
    source: include_str!("invalid_schedule.rs"),
};

pub fn check(cx: &Selection, out: &mut Vec<Diagnostic>) {
    for s in cx.checked() {
        let Some(schedule) = &s.service().schedule else {
            continue;
        };
        if let Err(why) = cron::check(&schedule.value) {
            out.push(
                Diagnostic::new(
                    &RULE,
                    schedule.span,
                    format!(
                        "the schedule `{}` of `{}` is not a cron expression",
                        schedule.value, s.name.value
                    ),
                )
                .with_label(why)
                .with_help("write five fields: minute hour day-of-month month day-of-week, e.g. \"0 3 * * *\""),
            );
        }
    }
}
