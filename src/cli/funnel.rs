//! `crmlens funnel pipeline|events`: the two funnels, one module each.

use super::{GlobalArgs, funnel_events, funnel_pipeline};
use crate::Result;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// The deal funnel from deal_stage_history (view pipeline_funnel), with per-hundred
    /// conversion
    Pipeline(funnel_pipeline::Args),
    /// An event funnel over `events` with window_funnel semantics
    Events(funnel_events::Args),
}

pub async fn run(global: &GlobalArgs, command: Command) -> Result<u8> {
    match command {
        Command::Pipeline(args) => funnel_pipeline::run(global, args).await,
        Command::Events(args) => funnel_events::run(global, args).await,
    }
}
