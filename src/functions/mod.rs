//! CRM SQL functions, one file per function, and [`register_all`], the one list of them. The
//! engine and (later) distributed executors call `register_all` so every place that runs our
//! SQL knows the same functions.

pub mod json;

use std::sync::Arc;

use datafusion::execution::FunctionRegistry;

use crate::Result;

/// Registers every CRM SQL function in a session state (or any function registry).
pub fn register_all(registry: &mut dyn FunctionRegistry) -> Result<()> {
    registry.register_udf(Arc::new(json::udf()))?;
    Ok(())
}
