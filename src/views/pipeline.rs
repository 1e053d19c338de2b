//! Views: pipeline_funnel and the sales figures built on deal history (PRODUCT.md, "Pipeline funnel", "Per-hundred conversion", "Forecast").
//! Not built yet: the module lists no view.

use super::{View, ViewEnv};
use crate::Result;

/// The names of this module's views.
pub const NAMES: &[&str] = &[];

/// This module's views, in dependency order.
pub fn views(env: &ViewEnv) -> Result<Vec<View>> {
    let _ = env;
    Ok(Vec::new())
}
