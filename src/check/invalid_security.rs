//! A `security` section must say something the container can run with: ids
//! in range, a root user only with `root: true`, writable paths that are
//! absolute and not already a volume, real Linux capabilities, and egress
//! address blocks that parse.
//!
//! Why: Kubernetes runs every platgen container with `runAsNonRoot`, so
//! `run_as_user: 0` would start nothing; `root: true` next to a non-root
//! `run_as_user` contradicts itself. A relative writable path, or one with
//! `:` in it, breaks the docker-compose tmpfs syntax; a writable path that
//! is also a volume would hide the volume. A misspelt capability is refused
//! by the container runtime when the pod starts, and `ALL` undoes dropping
//! all of them. An address block with host bits set usually means another
//! block than the one written.
//!
//! Example:
//!
//! ```yaml
//! security:
//!   run_as_user: 0                 # error: root without `root: true`
//!   writable: [var/cache]          # error: not an absolute path
//!   capabilities: [NET_BIND_SERVCE]  # error: did you mean NET_BIND_SERVICE?
//!   egress: [{cidr: 10.0.0.1/8}]   # error: host bits set; 10.0.0.0/8
//! ```

use std::net::IpAddr;

use super::Selection;
use crate::diag::{Diagnostic, Rule, Severity};
use crate::source::Span;
use crate::spec::{Security, Spanned};
use crate::suggest;

pub const RULE: Rule = Rule {
    code: "PG601",
    name: "invalid-security",
    severity: Severity::Error,
    source: include_str!("invalid_security.rs"),
};

/// The Linux capabilities, as container runtimes name them (without `CAP_`).
pub const CAPABILITIES: &[&str] = &[
    "AUDIT_CONTROL",
    "AUDIT_READ",
    "AUDIT_WRITE",
    "BLOCK_SUSPEND",
    "BPF",
    "CHECKPOINT_RESTORE",
    "CHOWN",
    "DAC_OVERRIDE",
    "DAC_READ_SEARCH",
    "FOWNER",
    "FSETID",
    "IPC_LOCK",
    "IPC_OWNER",
    "KILL",
    "LEASE",
    "LINUX_IMMUTABLE",
    "MAC_ADMIN",
    "MAC_OVERRIDE",
    "MKNOD",
    "NET_ADMIN",
    "NET_BIND_SERVICE",
    "NET_BROADCAST",
    "NET_RAW",
    "PERFMON",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYSLOG",
    "SYS_ADMIN",
    "SYS_BOOT",
    "SYS_CHROOT",
    "SYS_MODULE",
    "SYS_NICE",
    "SYS_PACCT",
    "SYS_PTRACE",
    "SYS_RAWIO",
    "SYS_RESOURCE",
    "SYS_TIME",
    "SYS_TTY_CONFIG",
    "WAKE_ALARM",
];

/// The largest id Kubernetes accepts (`runAsUser` is an int64, but ids
/// above 2^31-1 are refused by the API server's validation).
const MAX_ID: i64 = 2_147_483_647;

/// Why a writable path cannot be used, if it cannot.
pub fn path_problem(path: &str) -> Option<&'static str> {
    if !path.starts_with('/') {
        return Some("is not an absolute path");
    }
    if path == "/" {
        return Some("is the whole filesystem: set `read_only_root: false` instead");
    }
    if path
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == ':' || c == ',')
    {
        return Some("contains a space, `:` or `,`, which mount syntax cannot carry");
    }
    if path
        .split('/')
        .skip(1)
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Some("has an empty, `.` or `..` component");
    }
    None
}

/// Why an address block cannot be used, if it cannot; with the block meant
/// when only the host bits are wrong.
pub fn cidr_problem(cidr: &str) -> Option<(String, Option<String>)> {
    let Some((addr, bits)) = cidr.split_once('/') else {
        return Some((
            "is not an address block: write address/prefix, e.g. 10.0.0.0/8".into(),
            None,
        ));
    };
    let Ok(ip) = addr.parse::<IpAddr>() else {
        return Some((
            format!("has `{addr}`, which is not an IPv4 or IPv6 address"),
            None,
        ));
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let Some(prefix) = bits.parse::<u32>().ok().filter(|p| *p <= max) else {
        return Some((format!("the prefix `/{bits}` must be 0 to {max}"), None));
    };
    let network = match ip {
        IpAddr::V4(v4) => {
            let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
            IpAddr::from((u32::from(v4) & mask).to_be_bytes())
        }
        IpAddr::V6(v6) => {
            let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
            IpAddr::from((u128::from(v6) & mask).to_be_bytes())
        }
    };
    (network != ip).then(|| {
        (
            "has host bits set".to_owned(),
            Some(format!("the block is {network}/{prefix}")),
        )
    })
}

fn ids(name: &str, sec: &Security, out: &mut Vec<Diagnostic>) {
    for (key, value) in [
        ("run_as_user", &sec.run_as_user),
        ("run_as_group", &sec.run_as_group),
        ("fs_group", &sec.fs_group),
    ] {
        if let Some(v) = value
            && !(0..=MAX_ID).contains(&v.value)
        {
            out.push(
                Diagnostic::new(
                    &RULE,
                    v.span,
                    format!("`{key}` of `{name}` is {}, outside 0 to {MAX_ID}", v.value),
                )
                .with_label("out of range"),
            );
        }
    }
    let root = sec.root.as_ref().filter(|r| r.value);
    match (&sec.run_as_user, root) {
        (Some(u), None) if u.value == 0 => out.push(
            Diagnostic::new(
                &RULE,
                u.span,
                format!("`{name}` runs as user 0, root, but platgen runs containers as non-root"),
            )
            .with_label("root")
            .with_help("use the image's non-root user id, or set `root: true` with a `reason`"),
        ),
        (Some(u), Some(r)) if u.value != 0 => out.push(
            Diagnostic::new(
                &RULE,
                r.span,
                format!(
                    "`{name}` says it starts as root, but `run_as_user` is {}",
                    u.value
                ),
            )
            .with_label("starts as root")
            .with_secondary(u.span, "runs as this user")
            .with_help("keep one: `root: true` or the non-root `run_as_user`"),
        ),
        _ => {}
    }
}

fn writable(name: &str, sec: &Security, volumes: &[(&str, Span)], out: &mut Vec<Diagnostic>) {
    for (i, path) in sec.writable.iter().enumerate() {
        if let Some(problem) = path_problem(&path.value) {
            out.push(
                Diagnostic::new(
                    &RULE,
                    path.span,
                    format!("writable path `{}` of `{name}` {problem}", path.value),
                )
                .with_label("not a usable path"),
            );
        } else if let Some(first) = sec.writable[..i].iter().find(|p| p.value == path.value) {
            out.push(
                Diagnostic::new(
                    &RULE,
                    path.span,
                    format!("`{name}` lists writable path `{}` twice", path.value),
                )
                .with_label("listed again here")
                .with_secondary(first.span, "first listed here"),
            );
        } else if let Some((_, span)) = volumes.iter().find(|(p, _)| *p == path.value) {
            out.push(
                Diagnostic::new(
                    &RULE,
                    path.span,
                    format!(
                        "writable path `{}` of `{name}` is also a volume, which it would hide",
                        path.value
                    ),
                )
                .with_label("also a volume")
                .with_secondary(*span, "the volume is mounted here")
                .with_help("a volume is writable already; remove the path from `writable`"),
            );
        }
    }
}

fn capabilities(name: &str, caps: &[Spanned<String>], out: &mut Vec<Diagnostic>) {
    for (i, cap) in caps.iter().enumerate() {
        let value = cap.value.as_str();
        let bare = value.strip_prefix("CAP_").unwrap_or(value);
        let mut d = if value == "ALL" {
            Diagnostic::new(
                &RULE,
                cap.span,
                format!("`{name}` adds back ALL capabilities"),
            )
            .with_label("undoes dropping all")
            .with_help("name the capabilities the image needs")
        } else if bare != value && CAPABILITIES.contains(&bare) {
            Diagnostic::new(
                &RULE,
                cap.span,
                format!("capability `{value}` of `{name}` is written with `CAP_`"),
            )
            .with_label("prefixed")
            .with_help(format!(
                "write `{bare}`: Kubernetes and docker-compose name capabilities without the prefix"
            ))
        } else if !CAPABILITIES.contains(&value) {
            let mut d = Diagnostic::new(
                &RULE,
                cap.span,
                format!("`{value}` of `{name}` is not a Linux capability"),
            )
            .with_label("unknown capability");
            if let Some(help) =
                suggest::did_you_mean(&value.to_uppercase(), CAPABILITIES.iter().copied())
            {
                d = d.with_help(help);
            }
            d
        } else if let Some(first) = caps[..i].iter().find(|c| c.value == cap.value) {
            Diagnostic::new(
                &RULE,
                cap.span,
                format!("`{name}` adds capability `{value}` twice"),
            )
            .with_label("listed again here")
            .with_secondary(first.span, "first listed here")
        } else {
            continue;
        };
        if value == "ALL" {
            d = d.with_note("platgen drops every capability and adds back only these");
        }
        out.push(d);
    }
}

fn egress(name: &str, sec: &Security, out: &mut Vec<Diagnostic>) {
    for e in &sec.egress {
        if let Some((problem, help)) = cidr_problem(&e.value.cidr.value) {
            let mut d = Diagnostic::new(
                &RULE,
                e.value.cidr.span,
                format!("egress `{}` of `{name}` {problem}", e.value.cidr.value),
            )
            .with_label("not a usable address block");
            if let Some(help) = help {
                d = d.with_help(help);
            }
            out.push(d);
        }
        for p in &e.value.ports {
            if !(1..=65535).contains(&p.value) {
                out.push(
                    Diagnostic::new(
                        &RULE,
                        p.span,
                        format!(
                            "egress port {} of `{name}` is out of range: ports are 1 to 65535",
                            p.value
                        ),
                    )
                    .with_label("out of range"),
                );
            }
        }
    }
}

pub fn check(cx: &Selection, out: &mut Vec<Diagnostic>) {
    for s in cx.checked() {
        let svc = s.service();
        let Some(sec) = &svc.security else { continue };
        let name = s.name.value.as_str();
        let volumes: Vec<(&str, Span)> =
            svc.volumes.values().map(|v| v.value.path(v.span)).collect();
        ids(name, &sec.value, out);
        writable(name, &sec.value, &volumes, out);
        capabilities(name, &sec.value.capabilities, out);
        egress(name, &sec.value, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writable_paths() {
        assert_eq!(path_problem("/var/cache/nginx"), None);
        assert!(path_problem("var/cache").is_some());
        assert!(path_problem("/").is_some());
        assert!(path_problem("/a:rw").is_some());
        assert!(path_problem("/a/../etc").is_some());
        assert!(path_problem("/a//b").is_some());
        assert!(path_problem("/a/").is_some());
    }

    #[test]
    fn address_blocks() {
        assert_eq!(cidr_problem("0.0.0.0/0"), None);
        assert_eq!(cidr_problem("10.20.0.0/16"), None);
        assert_eq!(cidr_problem("::/0"), None);
        assert_eq!(cidr_problem("2001:db8::/32"), None);
        assert_eq!(
            cidr_problem("10.0.0.1/8").and_then(|(_, h)| h).as_deref(),
            Some("the block is 10.0.0.0/8")
        );
        assert!(cidr_problem("10.0.0.0").is_some());
        assert!(cidr_problem("10.0.0.0/33").is_some());
        assert!(cidr_problem("example.com/8").is_some());
    }
}
