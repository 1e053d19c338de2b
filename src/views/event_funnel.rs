//! Views: event-funnel views over `events` (PRODUCT.md, "Event funnel").
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
