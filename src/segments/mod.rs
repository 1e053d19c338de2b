//! Segments: customer lists defined by marketing analysts in `queries/segments/*.toml`,
//! re-evaluated on every run, kept as dated snapshots with the diff against the previous one,
//! and exported for campaign tools.
//!
//! - [`definition`]: the file format and its checks;
//! - [`plan`]: each definition as a SQL statement, `in_segment('x')` rewritten, the
//!   dependency order, planning in a session;
//! - [`run`]: evaluating many segments in one session with the shared work done once, the
//!   holdout group, writing snapshots;
//! - [`snapshot`]: the snapshot folder layout, the lock, atomic replacement;
//! - [`scoped`]: snapshots under a row-level scope (the scope's own store, member lists
//!   limited to the scope's customers);
//! - [`export`]: member lists for campaign tools, with personal data masked on request.

pub mod definition;
pub mod export;
pub mod plan;
pub mod run;
pub mod scoped;
pub mod snapshot;
