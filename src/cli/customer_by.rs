//! `--by DIM` of the customer-base commands (`arpu`, `churn`, `cohorts`): one customer
//! dimension, read into the library's [`CustomerDim`] (definitions in `views::dimensions`).

use clap::builder::{PossibleValuesParser, TypedValueParser};

use crate::metrics::dimensions::{CustomerDim, one};

/// `--by DIM`: split by one customer attribute.
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct CustomerBy {
    /// Split by a customer attribute: region, country, kind, source (acquisition_source),
    /// channel (of the first purchase) or segment (the RFM segment at as_of)
    #[arg(long, value_name = "DIM", value_parser = dimension())]
    pub by: Option<CustomerDim>,
}

fn dimension() -> impl TypedValueParser<Value = CustomerDim> {
    PossibleValuesParser::new(CustomerDim::ALL.iter().map(|d| d.name()))
        .try_map(|name| one::<CustomerDim>(&name))
}
