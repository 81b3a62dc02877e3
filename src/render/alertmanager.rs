//! Alertmanager: `alertmanager/alertmanager.cfg`, the alerting role's
//! config (YAML), rendered with the prometheus target.
//!
//! The file has no `.yml` extension on purpose: it is YAML, but the
//! validation harness this project's CI runs classifies YAML files by
//! content and has no Alertmanager kind, so `alertmanager.yml` would be
//! skipped, never checked; CI checks this file with `amtool check-config`
//! instead. The service reads it at Alertmanager's default path,
//! `/etc/alertmanager/alertmanager.yml`.
//!
//! Decisions made here, not in the template:
//! - Alerts are grouped by alert and service; the first notification of a
//!   group waits 30s (for its siblings), later ones 5m, and a firing alert
//!   is repeated every 4h.
//! - `Watchdog` goes to `alerting.heartbeat` at once and every minute, so
//!   that the dead man's switch there sees a steady beat; it is matched
//!   before the severities, so it never reaches another receiver.
//! - Each severity goes to its receiver from `alerting.routes`; the rest to
//!   `alerting.default` (or the first receiver).
//! - While `ServiceDown` fires for a service, its `InstanceDown`,
//!   `HighErrorRate` and `HighLatency` are held back: one page, not four.
//! - Credentials are never in the file: it names the secret files
//!   (`*_file` settings), which both targets mount under `/run/secrets`
//!   (see [`wiring::ROLE_SECRETS_DIR`]).
//!   Resolved alerts are sent too.
//! - Without `alerting` receivers, one receiver that sends nowhere
//!   (`check` warns): the web UI still shows the alerts.

use serde::Serialize;

use super::wiring::{self, role};
use super::{Engine, TemplateError};
use crate::model::{Alerting, Platform, Receiver};

/// The file's name in the output.
pub const FILE_NAME: &str = "alertmanager.cfg";

/// The receiver of a platform without `alerting` receivers.
pub const NOWHERE: &str = "platgen-nowhere";

/// What `alertmanager/alertmanager.cfg.j2` receives.
#[derive(Debug, Serialize)]
pub struct Context {
    pub route: Route,
    pub receivers: Vec<ReceiverConfig>,
    pub inhibit_rules: Vec<Inhibit>,
}

#[derive(Debug, Serialize)]
pub struct Route {
    pub receiver: String,
    pub group_by: Vec<&'static str>,
    pub group_wait: &'static str,
    pub group_interval: &'static str,
    pub repeat_interval: &'static str,
    pub routes: Vec<SubRoute>,
}

#[derive(Debug, Serialize)]
pub struct SubRoute {
    pub matchers: Vec<String>,
    pub receiver: String,
    /// Timings that differ from the top route's.
    pub group_wait: Option<&'static str>,
    pub group_interval: Option<&'static str>,
    pub repeat_interval: Option<&'static str>,
}

#[derive(Debug, Serialize)]
pub struct ReceiverConfig {
    pub name: String,
    pub email: Option<EmailConfig>,
    pub slack: Option<SlackConfig>,
    pub pagerduty: Option<PagerdutyConfig>,
    pub webhook: Option<WebhookConfig>,
}

#[derive(Debug, Serialize)]
pub struct EmailConfig {
    pub to: String,
    pub from: String,
    pub smarthost: String,
    pub auth_username: Option<String>,
    pub auth_password_file: Option<String>,
    pub require_tls: bool,
}

#[derive(Debug, Serialize)]
pub struct SlackConfig {
    pub api_url_file: String,
    pub channel: String,
}

#[derive(Debug, Serialize)]
pub struct PagerdutyConfig {
    pub routing_key_file: String,
}

#[derive(Debug, Serialize)]
pub struct WebhookConfig {
    pub url: String,
    /// The bearer token's file.
    pub credentials_file: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct Inhibit {
    pub source_matchers: Vec<String>,
    pub target_matchers: Vec<String>,
    pub equal: Vec<&'static str>,
}

fn receiver(r: &Receiver, dir: &str) -> ReceiverConfig {
    let file = |secret: &str| format!("{dir}/{secret}");
    ReceiverConfig {
        name: r.name.clone(),
        email: r.email.as_ref().map(|e| EmailConfig {
            to: e.to.clone(),
            from: e.from.clone(),
            smarthost: e.smarthost.clone(),
            auth_username: e.username.clone(),
            auth_password_file: e.password.as_deref().map(file),
            require_tls: e.require_tls,
        }),
        slack: r.slack.as_ref().map(|s| SlackConfig {
            api_url_file: file(&s.webhook_url),
            channel: s.channel.clone(),
        }),
        pagerduty: r.pagerduty.as_ref().map(|p| PagerdutyConfig {
            routing_key_file: file(p),
        }),
        webhook: r.webhook.as_ref().map(|w| WebhookConfig {
            url: w.url.clone(),
            credentials_file: w.bearer_token.as_deref().map(file),
        }),
    }
}

fn routes(a: &Alerting) -> Vec<SubRoute> {
    let mut out = Vec::new();
    if let Some(heartbeat) = &a.heartbeat {
        out.push(SubRoute {
            matchers: vec!["alertname=\"Watchdog\"".into()],
            receiver: heartbeat.clone(),
            group_wait: Some("0s"),
            group_interval: Some("1m"),
            repeat_interval: Some("1m"),
        });
    }
    for (severity, receiver) in &a.routes {
        out.push(SubRoute {
            matchers: vec![format!("severity=\"{}\"", severity.name())],
            receiver: receiver.clone(),
            group_wait: None,
            group_interval: None,
            repeat_interval: None,
        });
    }
    out
}

/// Builds the context, or `None` when the platform has no alerting role.
pub fn context(platform: &Platform) -> Option<Context> {
    role(platform, platform.roles.alerting.as_ref())?;
    let dir = wiring::ROLE_SECRETS_DIR;
    let (default, receivers, sub_routes) = match &platform.alerting {
        Some(a) => (
            a.default.clone(),
            a.receivers.iter().map(|r| receiver(r, dir)).collect(),
            routes(a),
        ),
        None => (
            NOWHERE.to_owned(),
            vec![ReceiverConfig {
                name: NOWHERE.to_owned(),
                email: None,
                slack: None,
                pagerduty: None,
                webhook: None,
            }],
            Vec::new(),
        ),
    };
    Some(Context {
        route: Route {
            receiver: default,
            group_by: vec!["alertname", "service"],
            group_wait: "30s",
            group_interval: "5m",
            repeat_interval: "4h",
            routes: sub_routes,
        },
        receivers,
        inhibit_rules: vec![Inhibit {
            source_matchers: vec!["alertname=\"ServiceDown\"".into()],
            target_matchers: vec!["alertname=~\"InstanceDown|HighErrorRate|HighLatency\"".into()],
            equal: vec!["service"],
        }],
    })
}

/// Renders the config, or nothing without an alerting role.
pub fn render_conf(platform: &Platform, engine: &Engine) -> Result<Option<String>, TemplateError> {
    context(platform)
        .map(|cx| engine.render("alertmanager/alertmanager.cfg.j2", &cx))
        .transpose()
}
