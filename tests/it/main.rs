//! The one integration-test binary: CLI tests run the built `crmlens` in temporary
//! directories; `slt` runs the sqllogictest files of `tests/slt/` against the crmlens session;
//! `distributed` and `distributed_cli` (feature `distributed`) compare a Ballista cluster's
//! results with local ones.

mod answers;
mod architecture;
mod cli_abc_xyz;
mod cli_affinity;
mod cli_arpu;
mod cli_clv;
mod cli_forecast;
mod cli_funnel_events;
mod cli_funnel_pipeline;
mod cli_generate;
mod cli_import;
mod cli_managers;
mod cli_marketing;
mod cli_misc;
mod cli_report;
mod cli_retention;
mod cli_run;
mod cli_sales;
mod cli_schema;
mod cli_segment;
mod cli_service;
mod cli_service_sla;
mod cli_sql;
mod cli_validate;
mod cli_value;
#[cfg(feature = "distributed")]
mod cluster;
mod common;
#[cfg(feature = "distributed")]
mod distributed;
#[cfg(feature = "distributed")]
mod distributed_cli;
#[cfg(feature = "distributed")]
mod distributed_security;
mod docs;
mod fixtures;
mod import_fuzz;
mod import_props;
mod json_functions;
mod lost_data;
mod scope;
mod scope_fuzz;
mod scope_leaks;
mod scope_repro;
mod slt;
mod views_ranking;
