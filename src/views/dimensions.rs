//! Customer dimensions: the attributes a customer-base figure is split by (`crmlens arpu`,
//! `churn` and `cohorts` with `--by`, and the `*_by` views), one definition for all of them.
//!
//! Every customer gets exactly one value per dimension, so a split adds up to the whole:
//! - `region`, `country`, `kind`: the customers columns of those names;
//! - `source`: customers.acquisition_source;
//! - `channel`, the acquisition channel: orders.channel of the customer's first purchase
//!   (earliest ordered_at, ties to the smaller order_id); `(no purchase)` for a customer
//!   without one;
//! - `segment`: the RFM segment at as_of (view `rfm`), `(no segment)` without a purchase in
//!   the RFM lookback: today's segment applied to the whole history.
//!
//! A missing or blank value is `(none)`; a purchaser missing from `customers` is kept with
//! every customers attribute `(none)`; a customer listed twice in `customers` takes the
//! smallest of its values.

use super::ViewEnv;

/// A customer attribute a figure is split by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CustomerDim {
    Region,
    Country,
    Kind,
    Source,
    Channel,
    Segment,
}

impl CustomerDim {
    /// Every dimension, in the order they are listed in messages.
    pub const ALL: &'static [CustomerDim] = &[
        CustomerDim::Region,
        CustomerDim::Country,
        CustomerDim::Kind,
        CustomerDim::Source,
        CustomerDim::Channel,
        CustomerDim::Segment,
    ];

    /// Its name in `--by` and in the `dimension` column of the `*_by` views.
    pub fn name(self) -> &'static str {
        match self {
            CustomerDim::Region => "region",
            CustomerDim::Country => "country",
            CustomerDim::Kind => "kind",
            CustomerDim::Source => "source",
            CustomerDim::Channel => "channel",
            CustomerDim::Segment => "segment",
        }
    }

    /// SQL of a relation `(customer_id, value)`: one row per customer of `customers` or
    /// `purchases`, with this dimension's value.
    pub fn values_sql(self, env: &ViewEnv) -> String {
        let column = |name: &str| {
            if env.has_column("customers", name) {
                format!("nullif(trim(cast(c.{name} as varchar)), '')")
            } else {
                "cast(null as varchar)".into()
            }
        };
        let (attribute, join) = match self {
            CustomerDim::Region => (column("region"), String::new()),
            CustomerDim::Country => (column("country"), String::new()),
            CustomerDim::Kind => (column("kind"), String::new()),
            CustomerDim::Source => (column("acquisition_source"), String::new()),
            CustomerDim::Channel => {
                let channel = if env.has_column("orders", "channel") {
                    "o.channel"
                } else {
                    "cast(null as varchar)"
                };
                (
                    "case when acq.customer_id is null then '(no purchase)' \
                     else nullif(trim(acq.channel), '') end"
                        .into(),
                    format!(
                        "left join (select p.customer_id, \
                           first_value({channel} order by p.ordered_at, p.order_id) as channel \
                         from purchases p join orders o on o.order_id = p.order_id \
                         group by p.customer_id) acq on acq.customer_id = k.customer_id"
                    ),
                )
            }
            CustomerDim::Segment => (
                "coalesce(r.rfm_segment, '(no segment)')".into(),
                "left join rfm r on r.customer_id = k.customer_id".into(),
            ),
        };
        format!(
            "select k.customer_id, coalesce(min({attribute}), '(none)') as value \
             from (select customer_id from customers where customer_id is not null \
               union select customer_id from purchases) k \
             left join customers c on c.customer_id = k.customer_id {join} \
             group by k.customer_id"
        )
    }
}

/// How a query over customers is split: the `value` expression and the join that brings it,
/// the key to group and partition by, or nothing for the whole.
pub struct Split {
    dim: Option<CustomerDim>,
    values: String,
}

impl Split {
    /// The split by `dim`, or the whole (`None`).
    pub fn new(env: &ViewEnv, dim: Option<CustomerDim>) -> Split {
        Split {
            dim,
            values: dim.map(|d| d.values_sql(env)).unwrap_or_default(),
        }
    }

    /// `value, ` with a prefix (`v.`, `b.`, …) when split, else empty: a select or group-by
    /// item placed before others.
    pub fn key(&self, prefix: &str) -> String {
        match self.dim {
            Some(_) => format!("{prefix}value, "),
            None => String::new(),
        }
    }

    /// `partition by value, COLUMNS ` (without `value` when whole, empty when there is no
    /// column left): the start of a window's `over (…)`.
    pub fn partition(&self, columns: &str) -> String {
        let keys: Vec<&str> = self
            .dim
            .map(|_| "value")
            .into_iter()
            .chain(Some(columns).filter(|c| !c.is_empty()))
            .collect();
        if keys.is_empty() {
            String::new()
        } else {
            format!("partition by {} ", keys.join(", "))
        }
    }

    /// ` and a.value = b.value` when split, else empty: a join condition's tail.
    pub fn same(&self, a: &str, b: &str) -> String {
        match self.dim {
            Some(_) => format!(" and {a}.value = {b}.value"),
            None => String::new(),
        }
    }

    /// `join (values) v on v.customer_id = {alias}.customer_id` when split, else empty: it
    /// brings the column `v.value`.
    pub fn join(&self, alias: &str) -> String {
        match self.dim {
            Some(_) => format!(
                "join ({}) v on v.customer_id = {alias}.customer_id",
                self.values
            ),
            None => String::new(),
        }
    }
}

/// SQL of a `*_by` view: the split query of every dimension, each row led by its
/// `dimension` name. A filter on `dimension` prunes the other dimensions' branches before
/// anything runs, so `where dimension = 'region'` costs one split.
pub fn every_dimension(split: impl Fn(Option<CustomerDim>) -> String) -> String {
    CustomerDim::ALL
        .iter()
        .map(|d| {
            format!(
                "select '{}' as dimension, * from ({})",
                d.name(),
                split(Some(*d))
            )
        })
        .collect::<Vec<_>>()
        .join(" union all ")
}
