//! `stop_signal` names a signal, and `stop_grace_period` is a duration.
//!
//! Why: docker-compose hands `stop_signal` to the engine, which refuses an
//! unknown name only when the container is created, long after `check`
//! passed; and a `stop_grace_period` of `30` (no unit) is refused by
//! compose, or of zero kills the process before it could finish a request.
//!
//! Example:
//!
//! ```yaml
//! worker:
//!   image: example/worker:1.2.0
//!   stop_signal: SIGSTP          # error: did you mean `SIGSTOP`?
//!   stop_grace_period: 30        # error: a unit is missing
//! ```

use super::Selection;
use crate::diag::{Diagnostic, Rule, Severity};
use crate::duration;
use crate::suggest;

pub const RULE: Rule = Rule {
    code: "PG430",
    name: "invalid-stop",
    severity: Severity::Error,
    source: include_str!("invalid_stop.rs"),
};

/// The Linux signals a container engine accepts by name.
pub const SIGNALS: &[&str] = &[
    "SIGABRT",
    "SIGALRM",
    "SIGBUS",
    "SIGCHLD",
    "SIGCONT",
    "SIGFPE",
    "SIGHUP",
    "SIGILL",
    "SIGINT",
    "SIGIO",
    "SIGKILL",
    "SIGPIPE",
    "SIGPROF",
    "SIGPWR",
    "SIGQUIT",
    "SIGSEGV",
    "SIGSTKFLT",
    "SIGSTOP",
    "SIGSYS",
    "SIGTERM",
    "SIGTRAP",
    "SIGTSTP",
    "SIGTTIN",
    "SIGTTOU",
    "SIGURG",
    "SIGUSR1",
    "SIGUSR2",
    "SIGVTALRM",
    "SIGWINCH",
    "SIGXCPU",
    "SIGXFSZ",
];

pub fn check(cx: &Selection, out: &mut Vec<Diagnostic>) {
    for s in cx.checked() {
        let svc = s.service();
        let name = &s.name.value;
        if let Some(signal) = &svc.stop_signal
            && !SIGNALS.contains(&signal.value.as_str())
        {
            out.push(
                Diagnostic::new(
                    &RULE,
                    signal.span,
                    format!(
                        "`stop_signal: {}` of `{name}` is not a signal",
                        signal.value
                    ),
                )
                .with_label("unknown signal")
                .with_help(signal_help(&signal.value)),
            );
        }
        if let Some(grace) = &svc.stop_grace_period {
            let problem = match duration::parse_millis(grace) {
                Ok(0) => Some("it is zero: the process is killed at once".to_owned()),
                Ok(_) => None,
                Err(problem) => Some(problem),
            };
            if let Some(problem) = problem {
                out.push(
                    Diagnostic::new(
                        &RULE,
                        grace.span,
                        format!(
                            "`stop_grace_period: {}` of `{name}` is not a usable duration: {problem}",
                            grace.value
                        ),
                    )
                    .with_label("not a duration")
                    .with_help("write a positive duration such as `30s` or `1m30s`"),
                );
            }
        }
    }
}

/// The signal's name as the engine writes it, or the closest one.
fn signal_help(text: &str) -> String {
    let upper = text.to_ascii_uppercase();
    let prefixed = if upper.starts_with("SIG") {
        upper
    } else {
        format!("SIG{upper}")
    };
    if SIGNALS.contains(&prefixed.as_str()) {
        format!("write `{prefixed}`")
    } else {
        suggest::did_you_mean(&prefixed, SIGNALS.iter().copied())
            .unwrap_or_else(|| "name a signal such as `SIGTERM`, `SIGINT` or `SIGQUIT`".into())
    }
}
