//! `crmlens forecast`: not built yet.

use super::GlobalArgs;
use crate::{Error, Result};

#[derive(Debug, clap::Args)]
pub struct Args {}

pub async fn run(global: &GlobalArgs, args: Args) -> Result<u8> {
    let _ = (global, args);
    Err(Error::NotSupported("`crmlens run` is not built yet".into()))
}
