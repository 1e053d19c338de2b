//! The one integration-test binary: CLI tests run the built `crmlens` in temporary
//! directories; `slt` runs the sqllogictest files of `tests/slt/` against the crmlens session.

mod cli_generate;
mod cli_misc;
mod cli_run;
mod cli_schema;
mod cli_sql;
mod cli_validate;
mod common;
mod fixtures;
mod slt;
