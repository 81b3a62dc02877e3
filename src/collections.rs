//! The crate's hash maps and sets: std's and indexmap's, hashed with
//! foldhash instead of SipHash. SipHash was 4% of `check` of the root
//! platform and of 1,000 services (callgrind), mostly looking services up
//! by name; foldhash (already built for the render cache) is seeded per
//! process as std's hasher is, so no order depends on a fixed seed.

pub type Hasher = foldhash::fast::RandomState;
pub type HashMap<K, V> = std::collections::HashMap<K, V, Hasher>;
pub type HashSet<T> = std::collections::HashSet<T, Hasher>;
pub type IndexMap<K, V> = indexmap::IndexMap<K, V, Hasher>;
