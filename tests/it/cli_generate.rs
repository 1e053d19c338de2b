//! cli_generate
