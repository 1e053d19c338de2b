//! `crmlens campaigns` and `crmlens sources`: not built yet.

use super::GlobalArgs;
use crate::{Error, Result};

#[derive(Debug, clap::Args)]
pub struct CampaignsArgs {}

#[derive(Debug, clap::Args)]
pub struct SourcesArgs {}

pub async fn campaigns(global: &GlobalArgs, args: CampaignsArgs) -> Result<u8> {
    let _ = (global, args);
    Err(Error::NotSupported(
        "`crmlens campaigns` is not built yet".into(),
    ))
}

pub async fn sources(global: &GlobalArgs, args: SourcesArgs) -> Result<u8> {
    let _ = (global, args);
    Err(Error::NotSupported(
        "`crmlens sources` is not built yet".into(),
    ))
}
