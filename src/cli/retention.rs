//! `crmlens churn` and `crmlens cohorts`. Being built: see issue 3.

use super::GlobalArgs;
use crate::{Error, Result};

/// Monthly churn series (view `churn_monthly`)
#[derive(Debug, clap::Args)]
pub struct ChurnArgs {}

pub async fn churn(global: &GlobalArgs, args: ChurnArgs) -> Result<u8> {
    let _ = (global, args);
    Err(Error::NotSupported(
        "`crmlens churn` is not built yet".into(),
    ))
}

/// Monthly first-purchase cohorts (view `cohort_retention`)
#[derive(Debug, clap::Args)]
pub struct CohortsArgs {}

pub async fn cohorts(global: &GlobalArgs, args: CohortsArgs) -> Result<u8> {
    let _ = (global, args);
    Err(Error::NotSupported(
        "`crmlens cohorts` is not built yet".into(),
    ))
}
