//! The gateway's Admin API stays inside its container: the gateway role's
//! `KONG_ADMIN_LISTEN` binds only loopback addresses (or is `off`), and the
//! service declares no Admin API port (8001, 8444).
//!
//! Why: Kong's Admin API has no authentication of its own. Whoever reaches
//! it can add routes, remove plugins (authentication, rate limits) and read
//! every credential. platgen binds it to `127.0.0.1:8001` (`gateway.admin`),
//! where `kong` commands inside the container still reach it; a declared
//! port would put it on the published ports and on the Kubernetes Service.
//!
//! Example:
//!
//! ```yaml
//! roles: {gateway: kong}
//! services:
//!   kong:
//!     ports:
//!       - {name: admin, container: 8001}          # error: the Admin API port
//!     env: {KONG_ADMIN_LISTEN: "0.0.0.0:8001"}    # error: on every address
//! ```

use super::Context;
use crate::diag::{Diagnostic, Rule, Severity};

pub const RULE: Rule = Rule {
    code: "PG415",
    name: "exposed-admin",
    severity: Severity::Error,
    source: include_str!("exposed_admin.rs"),
};

/// Kong's default Admin API ports (http, https).
pub const ADMIN_PORTS: [u16; 2] = [8001, 8444];

/// The listen entries of a Kong `*_listen` value that bind a non-loopback
/// address.
pub fn public_listens(value: &str) -> Vec<&str> {
    value
        .split(',')
        .map(str::trim)
        .filter(|entry| {
            let address = entry.split_whitespace().next().unwrap_or("");
            if address == "off" || address.is_empty() {
                return false;
            }
            let host = match address.rsplit_once(':') {
                Some((host, _)) => host,
                None => address,
            };
            !matches!(host, "127.0.0.1" | "[::1]" | "localhost")
        })
        .collect()
}

pub fn check(cx: &Context, out: &mut Vec<Diagnostic>) {
    let Some(role) = cx.spec.roles.as_ref().and_then(|r| r.gateway.as_ref()) else {
        return;
    };
    let Some(s) = cx.service(role) else { return };
    for (key, value) in &s.service().env {
        if key.value != "KONG_ADMIN_LISTEN" {
            continue;
        }
        let public = public_listens(&value.value);
        if !public.is_empty() {
            out.push(
                Diagnostic::new(
                    &RULE,
                    value.span,
                    format!(
                        "the gateway's Admin API listens on `{}`, reachable from outside its container",
                        public.join(", ")
                    ),
                )
                .with_label("not a loopback address")
                .with_secondary(role.span, "the gateway role")
                .with_help("remove `KONG_ADMIN_LISTEN`: platgen binds the Admin API to 127.0.0.1:8001 (or set `gateway: {admin: off}`)"),
            );
        }
    }
    for p in &s.ports {
        let Some(container) = p.container else {
            continue;
        };
        if let Some(port) = ADMIN_PORTS.iter().find(|a| container.contains(**a)) {
            out.push(
                Diagnostic::new(
                    &RULE,
                    p.spec.value.container.span,
                    format!(
                        "`{}` declares port {port}, the Admin API's: it would be published and on the gateway's Service",
                        s.name.value
                    ),
                )
                .with_label("the Admin API port")
                .with_secondary(role.span, "the gateway role")
                .with_help("remove the port: the Admin API listens on 127.0.0.1 inside the container, where `kong` commands reach it"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_listens_are_private() {
        assert!(public_listens("off").is_empty());
        assert!(public_listens("127.0.0.1:8001, [::1]:8001 reuseport").is_empty());
        assert_eq!(public_listens("0.0.0.0:8001"), ["0.0.0.0:8001"]);
        assert_eq!(
            public_listens("127.0.0.1:8001, 0.0.0.0:8444 http2 ssl"),
            ["0.0.0.0:8444 http2 ssl"]
        );
        assert_eq!(public_listens("8001"), ["8001"]);
    }
}
