//! The dataset: the canonical contract ([`schema`]), finding a dataset's tables on disk
//! ([`discover`]), writing one ([`write`]) and replacing several of its files in one step
//! ([`commit`]). Checking a dataset against the contract needs the engine, so it is a
//! module of its own above it ([`crate::validate`]).

pub mod commit;
pub mod discover;
pub mod schema;
pub mod write;

pub use discover::{Dataset, TableSource};
