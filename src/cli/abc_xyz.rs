//! `crmlens abc-xyz`. Being built: see issue 3.

use super::GlobalArgs;
use crate::{Error, Result};

/// ABC / XYZ classes of customers or products
#[derive(Debug, clap::Args)]
pub struct Args {}

pub async fn run(global: &GlobalArgs, args: Args) -> Result<u8> {
    let _ = (global, args);
    Err(Error::NotSupported(
        "`crmlens abc-xyz` is not built yet".into(),
    ))
}
