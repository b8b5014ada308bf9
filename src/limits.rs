//! Input limits, in one place.
//!
//! A Cluster file arrives through a pull request, so bdp treats its input as hostile: every
//! size and count is checked against a bound here *before* anything is built from it, and a
//! value over a bound is an error that names the limit and where it was exceeded. The bounds
//! are far above any real cluster (ZooKeeper's `zoo.cfg` has fewer than 100 keys, an ensemble
//! has 3 to 7 servers) and low enough that the worst accepted input renders in about a second.
//! Work is linear (or n·log n) in the input size up to these bounds.
//!
//! | limit | where it is checked |
//! |---|---|
//! | [`MAX_FILE_BYTES`] per file (and standard input) | `load.rs` |
//! | [`MAX_NODES`] YAML nodes per document, aliases expanded | `source.rs` |
//! | [`MAX_DEPTH`] nesting levels | `source.rs` |
//! | [`MAX_ENTRIES`] keys of one mapping, items of one list | `source.rs` |
//! | [`MAX_REPLICAS`] pods of one role (a stack's `max` may only be lower) | `resolve.rs`, before pods are built |
//! | [`MAX_SCRIPT_BYTES`] per `script` file, [`MAX_VAR_FILE_BYTES`] per `varFiles` file of a stack | `stacks.rs`, before reading |
//!
//! `bdp diff --rendered` reads counts it did not write: a rendered `replicas` is only counted,
//! never expanded into pod names (`diff::PodList` summarises `first … last (N pods)`).

/// Largest input file bdp reads.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;
/// Upper bound on nodes one YAML document may have, aliases expanded (an "alias bomb" stops here).
pub const MAX_NODES: usize = 200_000;
/// Upper bound on nesting depth.
pub const MAX_DEPTH: usize = 128;
/// Upper bound on the keys of one mapping and the items of one sequence.
pub const MAX_ENTRIES: usize = 50_000;
/// Upper bound on the replicas of one role, whatever its stack allows.
pub const MAX_REPLICAS: u32 = 10_000;
/// Largest `script` file of a stack read.
pub const MAX_SCRIPT_BYTES: u64 = 4 * 1024 * 1024;
/// Largest `varFiles` file of a stack read (a Grafana dashboard is 10-50 KB).
pub const MAX_VAR_FILE_BYTES: u64 = 1024 * 1024;
