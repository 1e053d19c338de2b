//! Churn and retention (PRODUCT.md, "Churn and retention"). Being built: see issue 3.

use super::{View, ViewEnv};
use crate::Result;

pub fn views(env: &ViewEnv) -> Result<Vec<View>> {
    let _ = env;
    Ok(vec![])
}
