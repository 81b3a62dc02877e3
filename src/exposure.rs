//! Which ports are internal by default: every port of a data store, and
//! ports named like an admin interface. Shared by the rules (a route to an
//! internal port is an error) and the model (compose publishes internal
//! ports on loopback only).

use crate::spec::Exposure;

/// Images whose every port stays inside the platform unless the spec says
/// `expose: public`: databases, caches, brokers, search engines and the
/// stores of secrets and configuration. Matched against the image's last
/// path component without its tag (`docker.elastic.co/elasticsearch/elasticsearch:8.15.5`
/// is `elasticsearch`).
pub const DATA_STORES: &[&str] = &[
    "cassandra",
    "clickhouse-server",
    "consul",
    "couchdb",
    "elasticsearch",
    "etcd",
    "influxdb",
    "kafka",
    "mariadb",
    "memcached",
    "minio",
    "mongo",
    "mongodb",
    "mysql",
    "nats",
    "neo4j",
    "opensearch",
    "postgis",
    "postgres",
    "postgresql",
    "rabbitmq",
    "redis",
    "redis-cluster",
    "redis-stack",
    "redis-stack-server",
    "scylla",
    "valkey",
    "vault",
    "zookeeper",
];

/// Port names that mean an administration interface.
pub const ADMIN_PORT_NAMES: &[&str] = &["admin", "management", "mgmt"];

/// Why a port is internal when the spec does not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DefaultReason {
    DataStore,
    AdminPort,
}

/// The repository name of an image: its last path component, without tag
/// or digest.
pub fn image_name(image: &str) -> &str {
    let without_digest = image.split('@').next().unwrap_or(image);
    let last = without_digest.rsplit('/').next().unwrap_or(without_digest);
    last.split(':').next().unwrap_or(last)
}

/// Why the port would be internal by default, if it would.
pub fn internal_by_default(image: &str, port_name: Option<&str>) -> Option<DefaultReason> {
    if DATA_STORES.contains(&image_name(image)) {
        Some(DefaultReason::DataStore)
    } else if port_name.is_some_and(|n| ADMIN_PORT_NAMES.contains(&n)) {
        Some(DefaultReason::AdminPort)
    } else {
        None
    }
}

/// A port's exposure: the spec's, else the default.
pub fn exposure(image: &str, port_name: Option<&str>, written: Option<Exposure>) -> Exposure {
    written.unwrap_or_else(|| {
        if internal_by_default(image, port_name).is_some() {
            Exposure::Internal
        } else {
            Exposure::Public
        }
    })
}

/// Whether an address is a loopback address (`127.0.0.0/8`, `::1`).
pub fn is_loopback(address: &str) -> bool {
    let a = address.trim_start_matches('[').trim_end_matches(']');
    a.parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_stores_are_found_by_their_repository_name() {
        assert_eq!(
            image_name("docker.elastic.co/elasticsearch/elasticsearch:8.15.5"),
            "elasticsearch"
        );
        assert_eq!(image_name("redis@sha256:abc"), "redis");
        assert_eq!(image_name("localhost:5000/postgres:16"), "postgres");
        assert_eq!(
            internal_by_default("grokzen/redis-cluster:7.0.10", Some("nodes")),
            Some(DefaultReason::DataStore)
        );
        assert_eq!(
            internal_by_default("ghcr.io/nags-platform/redis-optimizer:1.0.0", Some("http")),
            None,
            "a name that starts like a store is not one"
        );
        assert_eq!(
            internal_by_default("traefik:v3.2.3", Some("admin")),
            Some(DefaultReason::AdminPort)
        );
    }

    #[test]
    fn the_spec_overrides_the_default() {
        assert_eq!(exposure("postgres:16", None, None), Exposure::Internal);
        assert_eq!(
            exposure("postgres:16", None, Some(Exposure::Public)),
            Exposure::Public
        );
        assert_eq!(exposure("nginx:1.27", Some("http"), None), Exposure::Public);
        assert_eq!(
            exposure("nginx:1.27", Some("http"), Some(Exposure::Internal)),
            Exposure::Internal
        );
    }

    #[test]
    fn loopback_addresses() {
        assert!(is_loopback("127.0.0.1"));
        assert!(is_loopback("127.1.2.3"));
        assert!(is_loopback("[::1]"));
        assert!(!is_loopback("0.0.0.0"));
        assert!(!is_loopback("10.0.0.1"));
        assert!(!is_loopback("not an address"));
    }
}
