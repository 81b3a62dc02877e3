//! Environments: a spec with one environment's changes applied is another
//! spec, in which every value keeps the span of the place that wrote it.
//!
//! A value an environment changes points into that environment's section of
//! the file; everything else points where the platform wrote it. So a rule
//! that runs over the applied spec locates a mistake of the environment in
//! the environment, and the other party of a conflict where it stands.
//!
//! Names an environment gets wrong (a service or a port that does not
//! exist) are the business of the `unknown-override` rule, which reads the
//! platform itself; [`apply`] passes over them.

use crate::suggest;

use crate::collections::IndexMap;

use super::{Environment, Service, ServiceOverride, Spanned, Spec};

/// The names of the environments, in file order.
pub fn names(spec: &Spec) -> impl Iterator<Item = &str> {
    spec.environments.keys().map(|k| k.value.as_str())
}

/// An environment a command asked for that the spec does not define.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownEnvironment {
    pub name: String,
    pub known: Vec<String>,
}

impl std::fmt::Display for UnknownEnvironment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.known.is_empty() {
            return write!(
                f,
                "--env {}: the spec defines no environments (add an `environments:` section)",
                self.name
            );
        }
        write!(f, "no environment `{}`", self.name)?;
        if let Some(hint) = suggest::did_you_mean(&self.name, self.known.iter().map(String::as_str))
        {
            write!(f, "; {hint}")?;
        }
        write!(f, " (the environments are {})", self.known.join(", "))
    }
}

impl std::error::Error for UnknownEnvironment {}

/// The environment `name` of `spec`.
pub fn find<'s>(spec: &'s Spec, name: &str) -> Result<&'s Environment, UnknownEnvironment> {
    spec.environments
        .get(name)
        .map(|e| &e.value)
        .ok_or_else(|| UnknownEnvironment {
            name: name.to_owned(),
            known: names(spec).map(str::to_owned).collect(),
        })
}

/// `image` with its tag (and any digest) replaced by `tag`.
pub fn with_tag(image: &str, tag: &str) -> String {
    let name = image.split_once('@').map_or(image, |(name, _)| name);
    // A colon before the last `/` belongs to a registry's port.
    let path_start = name.rfind('/').map_or(0, |i| i + 1);
    let repository = match name[path_start..].rfind(':') {
        Some(i) => &name[..path_start + i],
        None => name,
    };
    format!("{repository}:{tag}")
}

/// An environment applied without copying the services it leaves alone:
/// what checking it needs.
#[derive(Debug)]
pub struct Overlay {
    /// The platform-wide settings as the environment has them, with no
    /// services and no environments of their own.
    pub settings: Spec,
    /// Each service the environment changes, as changed, with its index in
    /// the platform's services; in the platform's order.
    pub services: Vec<(usize, Spanned<Service>)>,
}

/// Everything of `spec` but its services and environments.
fn settings_of(spec: &Spec) -> Spec {
    // Each field by name, so that a new one is a decision made here.
    let Spec {
        name,
        domain,
        ports,
        phases,
        roles,
        services: _,
        monitoring,
        alerting,
        gateway,
        ingress,
        environments: _,
    } = spec;
    Spec {
        name: name.clone(),
        domain: domain.clone(),
        ports: ports.clone(),
        phases: phases.clone(),
        roles: roles.clone(),
        services: IndexMap::default(),
        monitoring: monitoring.clone(),
        alerting: alerting.clone(),
        gateway: gateway.clone(),
        ingress: ingress.clone(),
        environments: IndexMap::default(),
    }
}

/// Environment `name` applied to `spec`: its settings, and only the
/// services it changes.
pub fn overlay(spec: &Spec, name: &str) -> Result<Overlay, UnknownEnvironment> {
    let env = find(spec, name)?;
    let mut settings = settings_of(spec);
    if let Some(domain) = &env.domain {
        settings.domain = Some(domain.clone());
    }
    if let (Some(changes), Some(gateway)) = (&env.gateway, &mut settings.gateway) {
        for (name, consumer) in &changes.value.consumers {
            let Some(own) = gateway.value.consumers.get_mut(name.value.as_str()) else {
                continue;
            };
            let issuer = consumer
                .value
                .jwt
                .as_ref()
                .and_then(|j| j.value.issuer.as_ref());
            if let (Some(issuer), Some(jwt)) = (issuer, &mut own.value.jwt) {
                jwt.value.issuer = Some(issuer.clone());
            }
        }
    }
    let mut services: Vec<(usize, Spanned<Service>)> = env
        .services
        .iter()
        .filter_map(|(name, changes)| {
            let (i, _, service) = spec.services.get_full(name.value.as_str())?;
            let mut service = service.clone();
            apply_to_service(&mut service.value, &changes.value);
            Some((i, service))
        })
        .collect();
    services.sort_unstable_by_key(|(i, _)| *i);
    Ok(Overlay { settings, services })
}

/// The spec as environment `name` changes it, with no environments of its
/// own left.
pub fn apply(spec: &Spec, name: &str) -> Result<Spec, UnknownEnvironment> {
    let Overlay {
        settings: mut out,
        services,
    } = overlay(spec, name)?;
    out.services.clone_from(&spec.services);
    for (i, service) in services {
        if let Some((_, own)) = out.services.get_index_mut(i) {
            *own = service;
        }
    }
    Ok(out)
}

fn apply_to_service(service: &mut Service, changes: &ServiceOverride) {
    if let Some(image) = &changes.image {
        service.image = image.clone();
    }
    if let Some(tag) = &changes.tag {
        service.image = Spanned::new(with_tag(&service.image.value, &tag.value), tag.span);
    }
    // Each of `replicas` and `autoscale` says how the count is decided,
    // so one the environment sets replaces the other the platform set.
    if let Some(replicas) = &changes.replicas {
        service.replicas = Some(replicas.clone());
        service.autoscale = None;
    }
    if let Some(autoscale) = &changes.autoscale {
        if changes.replicas.is_none() {
            service.replicas = None;
        }
        service.autoscale = Some(autoscale.clone());
    }
    if let Some(resources) = &changes.resources {
        service.resources = Some(resources.clone());
    }
    for (key, value) in &changes.env {
        // A variable the platform sets keeps its place in the order
        // and takes the environment's value; a new one comes last.
        service.env.insert(key.clone(), value.clone());
    }
    for (port_name, host) in &changes.ports {
        for port in &mut service.ports {
            if port
                .value
                .name
                .as_ref()
                .is_some_and(|n| n.value == port_name.value)
            {
                port.value.host = Some(host.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_replaces_the_tag_and_any_digest_but_not_a_registry_port() {
        assert_eq!(with_tag("nginx:1.27", "1.28"), "nginx:1.28");
        assert_eq!(with_tag("nginx", "1.28"), "nginx:1.28");
        assert_eq!(
            with_tag("registry.local:5000/team/api", "2.0"),
            "registry.local:5000/team/api:2.0"
        );
        assert_eq!(
            with_tag("registry.local:5000/team/api:1.0@sha256:abc", "2.0"),
            "registry.local:5000/team/api:2.0"
        );
    }

    #[test]
    fn an_environment_changes_what_it_names_and_its_values_point_at_it() {
        let text = "name: demo\ndomain: demo.local\ngateway:\n  consumers:\n    users:\n      jwt: {issuer: http://demo.local/id, public_key: k}\nservices:\n  api:\n    image: ghcr.io/x/api:1.0.0@sha256:abc\n    ports: [{name: http, host: 8000, container: 80}]\n    env: {A: a, B: b}\n    autoscale: {min: 2, max: 4, cpu_percent: 70}\nenvironments:\n  prod:\n    domain: demo.example.com\n    services:\n      api:\n        tag: 2.0.0\n        replicas: 3\n        env: {B: prod, C: c}\n        ports: {http: 8001}\n    gateway:\n      consumers:\n        users:\n          jwt: {issuer: https://demo.example.com/id}\n";
        let source = crate::source::SourceFile::new("t.yaml", text);
        let spec = crate::spec::parse(&source).spec.expect("the spec reads");
        let prod = apply(&spec, "prod").unwrap();
        assert!(prod.environments.is_empty());
        let at = |span: crate::source::Span| source.line_col(span.start).line;
        let domain = prod.domain.as_ref().unwrap();
        assert_eq!(
            (domain.value.as_str(), at(domain.span)),
            ("demo.example.com", 15)
        );
        let api = &prod.services[0].value;
        assert_eq!(api.image.value, "ghcr.io/x/api:2.0.0");
        assert_eq!(at(api.image.span), 18);
        assert_eq!(api.replicas.as_ref().map(|r| r.value), Some(3));
        assert!(api.autoscale.is_none(), "replicas replaces autoscale");
        let env: Vec<(&str, &str)> = api
            .env
            .iter()
            .map(|(k, v)| (k.value.as_str(), v.value.0.as_str()))
            .collect();
        assert_eq!(env, [("A", "a"), ("B", "prod"), ("C", "c")]);
        let host = api.ports[0].value.host.as_ref().unwrap();
        assert_eq!(
            (host.value.clone(), at(host.span)),
            (crate::spec::PortNumber::Single(8001), 21)
        );
        let users = &prod.gateway.as_ref().unwrap().value.consumers[0].value;
        let issuer = users.jwt.as_ref().unwrap().value.issuer.as_ref().unwrap();
        assert_eq!(
            (issuer.value.as_str(), at(issuer.span)),
            ("https://demo.example.com/id", 25)
        );
        // The platform itself is left as it was.
        assert_eq!(
            spec.services[0].value.image.value,
            "ghcr.io/x/api:1.0.0@sha256:abc"
        );
    }

    #[test]
    fn an_unknown_environment_names_the_closest_and_lists_them() {
        let e = UnknownEnvironment {
            name: "prdo".into(),
            known: vec!["dev".into(), "staging".into(), "prod".into()],
        };
        assert_eq!(
            e.to_string(),
            "no environment `prdo`; did you mean `prod`? (the environments are dev, staging, prod)"
        );
        let none = UnknownEnvironment {
            name: "prod".into(),
            known: vec![],
        };
        assert!(none.to_string().contains("defines no environments"));
    }
}
