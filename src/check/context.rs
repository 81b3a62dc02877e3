//! What several rules need to know about a spec, worked out once: phase
//! order, each service's ports with their numbers parsed, and lookups.

use crate::collections::HashMap;
use std::cell::RefCell;

use crate::collections::IndexMap;

use crate::source::Span;
use crate::spec::environment::Overlay;
use crate::spec::{Port, PortNumber, PortRef, Protocol, Service, Spanned, Spec};
use crate::suggest;

/// An inclusive range of port numbers; a single port is `low == high`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortRange {
    pub low: u16,
    pub high: u16,
}

impl PortRange {
    pub const fn single(port: u16) -> Self {
        Self {
            low: port,
            high: port,
        }
    }
    pub fn count(self) -> u32 {
        u32::from(self.high) - u32::from(self.low) + 1
    }
    pub fn is_single(self) -> bool {
        self.low == self.high
    }
    pub fn overlaps(self, other: Self) -> bool {
        self.low <= other.high && other.low <= self.high
    }
    pub fn contains(self, port: u16) -> bool {
        (self.low..=self.high).contains(&port)
    }
}

impl std::fmt::Display for PortRange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_single() {
            write!(f, "{}", self.low)
        } else {
            write!(f, "{}-{}", self.low, self.high)
        }
    }
}

fn port_number(n: i64) -> Result<u16, String> {
    match u16::try_from(n) {
        Ok(0) | Err(_) => Err(format!("port {n} is out of range: ports are 1 to 65535")),
        Ok(p) => Ok(p),
    }
}

/// Parses a port or a `"low-high"` range, saying plainly what is wrong.
pub fn parse_port_number(value: &PortNumber) -> Result<PortRange, String> {
    match value {
        PortNumber::Single(n) => port_number(*n).map(PortRange::single),
        PortNumber::Range(text) => {
            let t = text.trim();
            let parse = |part: &str| -> Result<u16, String> {
                let part = part.trim();
                if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(format!(
                        "{text:?} is not a port or a range: write a number like 8080 or a range like \"7000-7005\""
                    ));
                }
                part.parse::<i64>()
                    .map_err(|_| format!("port {part} is out of range: ports are 1 to 65535"))
                    .and_then(port_number)
            };
            let range = match t.split_once('-') {
                Some((low, high)) => PortRange {
                    low: parse(low)?,
                    high: parse(high)?,
                },
                None => PortRange::single(parse(t)?),
            };
            if range.low > range.high {
                return Err(format!(
                    "the range {text:?} is backwards: write it low-high, \"{}-{}\"",
                    range.high, range.low
                ));
            }
            Ok(range)
        }
    }
}

/// One port of a service with its numbers parsed (`None` where they did not parse).
#[derive(Debug)]
pub struct PortFacts<'s> {
    pub spec: &'s Spanned<Port>,
    pub host: Option<PortRange>,
    pub container: Option<PortRange>,
    pub protocol: Protocol,
}

impl PortFacts<'_> {
    pub fn name(&self) -> Option<&str> {
        self.spec.name.as_ref().map(|n| n.value.as_str())
    }
}

/// One service and what the rules need of it.
#[derive(Debug)]
pub struct ServiceFacts<'s> {
    pub name: &'s Spanned<String>,
    pub spec: &'s Spanned<Service>,
    pub ports: Vec<PortFacts<'s>>,
    /// Index into [`Context::phases`]; `None` for an unknown phase.
    pub phase: Option<usize>,
}

/// How a port reference resolved.
#[derive(Debug, Clone, Copy)]
pub enum Resolved<'f, 's> {
    /// The port it names.
    Port(&'f PortFacts<'s>),
    /// No port has that name or container number.
    Unknown,
    /// No reference given, and the service does not have exactly one port.
    Ambiguous,
}

impl<'s> ServiceFacts<'s> {
    pub fn service(&self) -> &'s Service {
        &self.spec.value
    }

    /// Resolves a `port:` reference of `health`, `metrics` or `route`: a port
    /// name, a container port number (a single port or inside a range), or
    /// nothing when the service has exactly one port.
    pub fn resolve<'f>(&'f self, reference: Option<&Spanned<PortRef>>) -> Resolved<'f, 's> {
        let found = match reference.map(|r| &r.value) {
            None => {
                return match self.ports.as_slice() {
                    [only] => Resolved::Port(only),
                    _ => Resolved::Ambiguous,
                };
            }
            Some(PortRef::Name(name)) => {
                self.ports.iter().find(|p| p.name() == Some(name.as_str()))
            }
            Some(PortRef::Number(n)) => u16::try_from(*n).ok().and_then(|n| {
                self.ports
                    .iter()
                    .find(|p| p.container.is_some_and(|c| c.contains(n)))
            }),
        };
        found.map_or(Resolved::Unknown, Resolved::Port)
    }
}

/// Everything the rules share.
#[derive(Debug)]
pub struct Context<'s> {
    pub spec: &'s Spec,
    /// Phase id -> (position in rollout order, span of the id). The first
    /// declaration of a duplicated id wins.
    pub phases: IndexMap<&'s str, (usize, Span)>,
    pub services: Vec<ServiceFacts<'s>>,
    /// Service name -> index into `services`, so that looking a service up
    /// does not make a rule quadratic in the number of services.
    index: HashMap<&'s str, usize>,
    /// The "did you mean" of each name that is no service, once found.
    suggestions: RefCell<HashMap<String, Option<String>>>,
}

impl<'s> Context<'s> {
    pub fn new(spec: &'s Spec) -> Self {
        Self::of(spec, spec.services.iter())
    }

    /// The context of `base` with an environment applied. Its `spec` is the
    /// environment's [`Overlay::settings`], which holds no services: the
    /// services are [`Context::services`], each the environment's where it
    /// changes one and the platform's elsewhere.
    pub fn applied(base: &'s Spec, overlay: &'s Overlay) -> Self {
        let mut changed = overlay.services.iter().peekable();
        let services = base
            .services
            .iter()
            .enumerate()
            .map(
                move |(i, (name, own))| match changed.next_if(|(at, _)| *at == i) {
                    Some((_, service)) => (name, service),
                    None => (name, own),
                },
            );
        Self::of(&overlay.settings, services)
    }

    fn of(
        spec: &'s Spec,
        services: impl Iterator<Item = (&'s Spanned<String>, &'s Spanned<Service>)>,
    ) -> Self {
        let mut phases = IndexMap::default();
        for phase in &spec.phases {
            let next = phases.len();
            phases
                .entry(phase.value.id.value.0.as_str())
                .or_insert((next, phase.value.id.span));
        }
        let services: Vec<ServiceFacts<'s>> = services
            .map(|(name, svc)| ServiceFacts {
                name,
                spec: svc,
                ports: svc
                    .value
                    .ports
                    .iter()
                    .map(|p| PortFacts {
                        spec: p,
                        host: p
                            .value
                            .host
                            .as_ref()
                            .and_then(|h| parse_port_number(&h.value).ok()),
                        container: parse_port_number(&p.value.container.value).ok(),
                        protocol: p.value.protocol.as_ref().map_or(Protocol::Tcp, |p| p.value),
                    })
                    .collect(),
                phase: svc
                    .value
                    .phase
                    .as_ref()
                    .and_then(|p| phases.get(p.value.0.as_str()).map(|(i, _)| *i)),
            })
            .collect();
        let mut index = HashMap::with_capacity_and_hasher(
            services.len(),
            crate::collections::Hasher::default(),
        );
        for (i, s) in services.iter().enumerate() {
            index.entry(s.name.value.as_str()).or_insert(i);
        }
        Self {
            spec,
            phases,
            services,
            index,
            suggestions: RefCell::new(HashMap::default()),
        }
    }

    pub fn service(&self, name: &str) -> Option<&ServiceFacts<'s>> {
        self.index_of(name).map(|i| &self.services[i])
    }

    /// The index of the service named `name` in [`Context::services`].
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    pub fn service_names(&self) -> impl Iterator<Item = &'s str> + '_ {
        self.services.iter().map(|s| s.name.value.as_str())
    }

    /// `did you mean` for a name that is no service, worked out once per
    /// name: a spec that names one missing service in thousands of places
    /// compared it with every service at each of them.
    pub fn did_you_mean_service(&self, name: &str) -> Option<String> {
        if let Some(hint) = self.suggestions.borrow().get(name) {
            return hint.clone();
        }
        let hint = suggest::did_you_mean(name, self.service_names());
        self.suggestions
            .borrow_mut()
            .insert(name.to_owned(), hint.clone());
        hint
    }
}

/// The services a per-service rule looks at: every one when the platform
/// itself is checked; in an environment, only those the environment changes.
///
/// A per-service rule visits services through [`Selection::checked`] alone,
/// and what it finds in one service depends on that service and on nothing
/// an environment can change elsewhere: not the `domain`, not the gateway's
/// consumers, not another service's image, count, resources, `env` or host
/// ports (names, phases, container ports, routes and roles are the same in
/// every environment). A service an environment leaves alone then has the
/// same problems in the environment as in the platform, which reports them
/// already. Whatever else such a rule does, outside that loop, it does in
/// full every time.
#[derive(Debug, Clone, Copy)]
pub struct Selection<'c, 's> {
    cx: &'c Context<'s>,
    /// Indices into [`Context::services`], in order; `None` for every one.
    only: Option<&'c [usize]>,
}

impl<'c, 's> Selection<'c, 's> {
    /// Every service of `cx`.
    pub fn all(cx: &'c Context<'s>) -> Self {
        Self { cx, only: None }
    }

    /// The services of `cx` at `only` (indices in ascending order).
    pub fn only(cx: &'c Context<'s>, only: &'c [usize]) -> Self {
        debug_assert!(only.windows(2).all(|w| w[0] < w[1]));
        Self {
            cx,
            only: Some(only),
        }
    }

    /// The services to check, in the platform's order.
    pub fn checked(&self) -> impl Iterator<Item = &'c ServiceFacts<'s>> + use<'c, 's> {
        let cx = self.cx;
        let (all, only) = match self.only {
            None => (cx.services.as_slice(), &[][..]),
            Some(only) => (&[][..], only),
        };
        all.iter().chain(only.iter().map(move |&i| &cx.services[i]))
    }
}

impl<'s> std::ops::Deref for Selection<'_, 's> {
    type Target = Context<'s>;
    fn deref(&self) -> &Context<'s> {
        self.cx
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ports_and_ranges() {
        let r = |s: &str| parse_port_number(&PortNumber::Range(s.into()));
        assert_eq!(
            r("1200-1205"),
            Ok(PortRange {
                low: 1200,
                high: 1205
            })
        );
        assert_eq!(r("8080"), Ok(PortRange::single(8080)));
        assert!(r("1205-1200").unwrap_err().contains("backwards"));
        assert!(r("70000").unwrap_err().contains("out of range"));
        assert!(r("12a").unwrap_err().contains("not a port"));
        assert!(r("1-2-3").is_err());
        assert!(parse_port_number(&PortNumber::Single(0)).is_err());
        assert!(parse_port_number(&PortNumber::Single(65536)).is_err());
        assert_eq!(
            parse_port_number(&PortNumber::Single(65535)),
            Ok(PortRange::single(65535))
        );
    }

    #[test]
    fn ranges_overlap_inclusively() {
        let a = PortRange {
            low: 1200,
            high: 1205,
        };
        assert!(a.overlaps(PortRange::single(1205)));
        assert!(!a.overlaps(PortRange::single(1206)));
        assert_eq!(a.count(), 6);
    }
}
