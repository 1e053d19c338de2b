//! Running crmlens on an Apache DataFusion Ballista cluster (the `distributed` cargo feature).
//!
//! - [`client`]: turns a session into a Ballista client: every plan is sent to the scheduler,
//!   which splits it into stages that the executors run; results come back as Arrow batches.
//! - [`server`]: the scheduler and executor processes (`crmlens scheduler`, `crmlens
//!   executor`) and the in-process pair of [`server::start_standalone`], all with crmlens's
//!   functions ([`crate::functions::register_all`]) and [`codec`]s.
//! - [`auth`]: the cluster's shared secret, demanded by every server of a cluster bound
//!   beyond loopback and presented by every client and executor.
//! - [`guard`]: what a cluster refuses to run: plans that write files, and file scans outside
//!   the executors' `--data-root` folders.
//! - [`codec`]: what Ballista's own codecs cannot send: `as_of()` with its date, the CLV model
//!   functions with their model, and in-memory tables.
//!
//! Executors read the dataset's files themselves, at the paths the client registered, so
//! every executor must see the dataset at the same absolute path (a shared filesystem).

/// Stack size for the threads of a runtime that sends or receives Ballista plans: their
/// protobuf (de)serialisation recurses once per plan level, and crmlens's views nest deeply.
pub const THREAD_STACK_SIZE: usize = 32 << 20;

pub mod auth;
pub mod client;
pub mod codec;
pub mod guard;
pub mod server;
