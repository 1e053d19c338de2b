//! Analyses over the dataset. Each is a small module; models are pure Rust math.

pub mod clv;
