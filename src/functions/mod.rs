//! CRM SQL functions, one file per function, and [`register_all`], the one list of them. The
//! engine and (later) distributed executors call `register_all` so every place that runs our
//! SQL knows the same functions.

use datafusion::execution::FunctionRegistry;

use crate::Result;

/// Registers every CRM SQL function in a session state (or any function registry).
///
/// The foundation needs no function of its own yet; the customer-value and funnel
/// capabilities add theirs here (e.g. `window_funnel`).
pub fn register_all(registry: &mut dyn FunctionRegistry) -> Result<()> {
    let _ = registry;
    Ok(())
}
