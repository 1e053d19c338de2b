//! CRM SQL functions, one file (or folder) per function, and [`register_all`], the one list of
//! them. The engine and (later) distributed executors call `register_all` so every place that
//! runs our SQL knows the same functions.

pub mod as_of;
pub mod clv;
pub mod json;
pub mod money;
pub mod window_funnel;

use std::sync::Arc;

use datafusion::execution::FunctionRegistry;

use crate::Result;

/// Registers every CRM SQL function in a session state (or any function registry):
/// `window_funnel` and `window_funnel_steps` (see [`window_funnel`]), the JSON functions
/// (see [`json`]) and `money` (see [`money`]).
pub fn register_all(registry: &mut dyn FunctionRegistry) -> Result<()> {
    registry.register_udaf(Arc::new(window_funnel::window_funnel()))?;
    registry.register_udaf(Arc::new(window_funnel::window_funnel_steps()))?;
    json::register(registry)?;
    registry.register_udf(Arc::new(money::udf()))?;
    Ok(())
}
