//! The dataset: the canonical contract ([`schema`]), finding a dataset's tables on disk
//! ([`discover`]) and checking a dataset against the contract ([`validate`]).

pub mod discover;
pub mod schema;
pub mod validate;

pub use discover::{Dataset, TableSource};
