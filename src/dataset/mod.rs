//! The dataset: the canonical contract ([`schema`]), finding a dataset's tables on disk
//! ([`discover`]) and writing one ([`write`]). Checking a dataset against the contract needs the engine, so it is a
//! module of its own above it ([`crate::validate`]).

pub mod discover;
pub mod schema;
pub mod write;

pub use discover::{Dataset, TableSource};
