//! cli_validate
