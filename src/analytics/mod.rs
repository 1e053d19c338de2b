//! Analyses over the dataset. Each is a small module; models are pure Rust math, and so are
//! the seeded random numbers the generator's data and the CLV intervals are drawn with.

pub mod clv;
pub mod rng;
