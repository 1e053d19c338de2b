//! `crmlens managers` and `crmlens plan`: not built yet.

use super::GlobalArgs;
use crate::{Error, Result};

#[derive(Debug, clap::Args)]
pub struct ManagersArgs {}

#[derive(Debug, clap::Args)]
pub struct PlanArgs {}

pub async fn managers(global: &GlobalArgs, args: ManagersArgs) -> Result<u8> {
    let _ = (global, args);
    Err(Error::NotSupported(
        "`crmlens managers` is not built yet".into(),
    ))
}

pub async fn plan(global: &GlobalArgs, args: PlanArgs) -> Result<u8> {
    let _ = (global, args);
    Err(Error::NotSupported(
        "`crmlens plan` is not built yet".into(),
    ))
}
