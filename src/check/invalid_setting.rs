//! The platform-wide settings are well formed: the monitoring intervals and
//! retention, the runbook base URL, the alert receivers' addresses and
//! URLs, and the gateway's trusted addresses.
//!
//! Why: each of them is written into a config that the server itself reads
//! only when it starts. Prometheus exits on a scrape interval of `15 s` or a
//! retention size of `18Gi`, Alertmanager on a webhook URL without a scheme,
//! Kong on a `trusted_ips` entry that is not an address; and a `{{` in a
//! runbook URL would be run as a template in every alert. An interval of
//! zero, a receiver that sends nowhere and a retention that limits nothing
//! are mistakes too.
//!
//! Example:
//!
//! ```yaml
//! monitoring:
//!   scrape_interval: 15         # error: a unit is missing
//!   retention: {size: 18Gi}     # error: Prometheus writes GB
//! gateway:
//!   trusted_ips: [10.0.0.0/33]  # error: the prefix is longer than 32
//! ```

use std::net::IpAddr;

use super::Context;
use crate::diag::{Diagnostic, Rule, Severity};
use crate::duration;
use crate::quantity;
use crate::source::Span;
use crate::spec::Spanned;

pub const RULE: Rule = Rule {
    code: "PG411",
    name: "invalid-setting",
    severity: Severity::Error,
    source: include_str!("invalid_setting.rs"),
};

fn push(out: &mut Vec<Diagnostic>, span: Span, message: String, label: &str, help: &str) {
    out.push(
        Diagnostic::new(&RULE, span, message)
            .with_label(label)
            .with_help(help),
    );
}

/// What is wrong with an address or CIDR range, if anything.
pub fn cidr_problem(text: &str) -> Option<String> {
    let (address, prefix) = match text.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (text, None),
    };
    let Ok(ip) = address.parse::<IpAddr>() else {
        return Some(format!("`{address}` is not an IP address"));
    };
    let bits = if ip.is_ipv4() { 32 } else { 128 };
    match prefix.map(str::parse::<u8>) {
        None => None,
        Some(Ok(p)) if p <= bits => None,
        Some(_) => Some(format!("the prefix must be a number from 0 to {bits}")),
    }
}

/// What is wrong with an absolute `http(s)` URL that is written into a
/// config and into alert annotations, if anything.
pub fn url_problem(text: &str) -> Option<String> {
    let rest = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"));
    let Some(rest) = rest else {
        return Some("it does not start with `http://` or `https://`".into());
    };
    if rest.is_empty() || rest.starts_with('/') {
        return Some("it has no host".into());
    }
    if let Some(c) = text
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || "\"{}<>\\`".contains(*c))
    {
        return Some(format!("it contains {c:?}"));
    }
    None
}

fn email_problem(text: &str) -> Option<&'static str> {
    let Some((local, domain)) = text.split_once('@') else {
        return Some("it has no `@`");
    };
    if local.is_empty() || domain.is_empty() || domain.contains('@') {
        return Some("it is not `name@domain`");
    }
    if text
        .chars()
        .any(|c| c.is_whitespace() || "<>\"".contains(c))
    {
        return Some("it contains a space, a quote or `<>`");
    }
    None
}

fn host_port_problem(text: &str) -> Option<&'static str> {
    let Some((host, port)) = text.rsplit_once(':') else {
        return Some("it has no port");
    };
    if host.is_empty() || host.chars().any(char::is_whitespace) {
        return Some("it has no host");
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => None,
        _ => Some("the port is not a number from 1 to 65535"),
    }
}

fn prometheus_duration(
    out: &mut Vec<Diagnostic>,
    what: &str,
    value: Option<&Spanned<crate::spec::Text>>,
) {
    let Some(value) = value else { return };
    match duration::parse_prometheus_millis(&value.value) {
        Ok(0) => push(
            out,
            value.span,
            format!("{what} `{}` is zero", value.value),
            "zero",
            "write a duration longer than zero, e.g. `15s`",
        ),
        Ok(_) => {}
        Err(problem) => push(
            out,
            value.span,
            format!(
                "{what} `{}` is not a Prometheus duration: {problem}",
                value.value
            ),
            "invalid duration",
            "write a number and a unit (ms, s, m, h, d, w, y), e.g. `15s`, `1m30s`, `15d`",
        ),
    }
}

fn monitoring(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(m) = &cx.spec.monitoring else { return };
    let m = &m.value;
    prometheus_duration(out, "the scrape interval", m.scrape_interval.as_ref());
    prometheus_duration(
        out,
        "the evaluation interval",
        m.evaluation_interval.as_ref(),
    );
    if let Some(r) = &m.retention {
        prometheus_duration(out, "the retention time", r.value.time.as_ref());
        if let Some(size) = &r.value.size {
            match quantity::prometheus_bytes(&size.value) {
                Ok(0) => push(
                    out,
                    size.span,
                    format!("the retention size `{}` is zero", size.value),
                    "zero",
                    "leave `size` out for no size limit",
                ),
                Ok(_) => {}
                Err(problem) => push(
                    out,
                    size.span,
                    problem,
                    "invalid size",
                    "Prometheus's units are B, KB, MB, GB, TB and PB (powers of 1024), e.g. `18GB`",
                ),
            }
        }
        if r.value.time.is_none() && r.value.size.is_none() {
            push(
                out,
                r.span,
                "`retention` sets neither `time` nor `size`".into(),
                "limits nothing",
                "add `time: 15d`, `size: 18GB` or both, or remove `retention`",
            );
        }
    }
    if let Some(url) = &m.runbook_url
        && let Some(problem) = url_problem(&url.value)
    {
        push(
            out,
            url.span,
            format!(
                "the runbook base URL `{}` is not usable: {problem}",
                url.value
            ),
            "invalid URL",
            "write an absolute URL such as `https://runbooks.example.com/alerts`",
        );
    }
}

fn alerting(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(a) = &cx.spec.alerting else { return };
    if a.value.receivers.is_empty() {
        push(
            out,
            a.span,
            "`alerting` defines no receivers".into(),
            "no receivers",
            "define at least one under `alerting.receivers`",
        );
    }
    for (name, r) in &a.value.receivers {
        let r = &r.value;
        if r.email.is_none() && r.slack.is_none() && r.pagerduty.is_none() && r.webhook.is_none() {
            push(
                out,
                name.span,
                format!("the receiver `{}` sends nowhere", name.value),
                "no email, slack, pagerduty or webhook",
                "give it at least one of `email`, `slack`, `pagerduty`, `webhook`",
            );
        }
        if let Some(e) = &r.email {
            for (what, address) in [("recipient", &e.value.to), ("sender", &e.value.from)] {
                if let Some(problem) = email_problem(&address.value) {
                    push(
                        out,
                        address.span,
                        format!(
                            "the {what} `{}` of receiver `{}` is not an e-mail address: {problem}",
                            address.value, name.value
                        ),
                        "invalid address",
                        "write one address, `name@example.com`",
                    );
                }
            }
            if let Some(problem) = host_port_problem(&e.value.smarthost.value) {
                push(
                    out,
                    e.value.smarthost.span,
                    format!(
                        "the SMTP server `{}` of receiver `{}` is not `host:port`: {problem}",
                        e.value.smarthost.value, name.value
                    ),
                    "invalid smarthost",
                    "write the host and the port, e.g. `smtp.example.com:587`",
                );
            }
        }
        if let Some(w) = &r.webhook
            && let Some(problem) = url_problem(&w.value.url.value)
        {
            push(
                out,
                w.value.url.span,
                format!(
                    "the webhook URL `{}` of receiver `{}` is not usable: {problem}",
                    w.value.url.value, name.value
                ),
                "invalid URL",
                "write an absolute `https://` URL; a token goes in `bearer_token`",
            );
        }
        if let Some(s) = &r.slack
            && s.value.channel.value.trim().is_empty()
        {
            push(
                out,
                s.value.channel.span,
                format!("the Slack channel of receiver `{}` is empty", name.value),
                "empty channel",
                "name the channel, e.g. `#alerts`",
            );
        }
    }
}

fn gateway(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(g) = &cx.spec.gateway else { return };
    let Some(ips) = &g.value.trusted_ips else {
        return;
    };
    if ips.value.is_empty() {
        push(
            out,
            ips.span,
            "`trusted_ips` is empty".into(),
            "trusts no one",
            "leave it out for the default (the private ranges), or list the proxy's network",
        );
    }
    for ip in &ips.value {
        if let Some(problem) = cidr_problem(&ip.value) {
            push(
                out,
                ip.span,
                format!("`{}` is not an address or CIDR range: {problem}", ip.value),
                "invalid address",
                "write an address (`10.0.0.5`) or a range (`10.0.0.0/8`, `fc00::/7`)",
            );
        }
    }
}

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    monitoring(cx, out);
    alerting(cx, out);
    gateway(cx, out);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs() {
        assert_eq!(cidr_problem("10.0.0.0/8"), None);
        assert_eq!(cidr_problem("fc00::/7"), None);
        assert_eq!(cidr_problem("192.168.1.10"), None);
        assert!(cidr_problem("10.0.0.0/33").unwrap().contains("32"));
        assert!(cidr_problem("10.0.0/8").is_some());
        assert!(cidr_problem("::/129").is_some());
    }

    #[test]
    fn urls() {
        assert_eq!(url_problem("https://runbooks.example.com/a"), None);
        assert!(url_problem("runbooks.example.com").is_some());
        assert!(url_problem("https://").is_some());
        assert!(url_problem("https://x/{{ $labels.job }}").is_some());
        assert!(url_problem("https://x/a b").is_some());
    }

    #[test]
    fn addresses() {
        assert_eq!(email_problem("ops@example.com"), None);
        assert!(email_problem("ops").is_some());
        assert!(email_problem("a@b@c").is_some());
        assert_eq!(host_port_problem("smtp.example.com:587"), None);
        assert!(host_port_problem("smtp.example.com").is_some());
        assert!(host_port_problem("smtp:0").is_some());
    }
}
