//! Customer value: the per-customer feature view (`customer_features`) and RFM (views `rfm`
//! and `rfm_grid`; definitions in `views::features` and `views::rfm`).

use datafusion::dataframe::DataFrame;

use crate::Result;
use crate::engine::Engine;

/// `customer_features` by customer: the rows matching `filter` (an SQL condition over the
/// view's columns), the given columns (all when empty).
pub async fn features(
    engine: &Engine,
    filter: Option<&str>,
    columns: &[String],
) -> Result<DataFrame> {
    let columns = if columns.is_empty() {
        "*".to_string()
    } else {
        columns
            .iter()
            .map(|c| format!("\"{}\"", c.trim().replace('"', "")))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let filter = filter.map(|f| format!(" where {f}")).unwrap_or_default();
    engine
        .sql(&format!(
            "select {columns} from customer_features{filter} order by customer_id"
        ))
        .await
}

/// What RFM table to show.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RfmTable {
    /// Per segment: customers, revenue, their shares and the mean R, F and M.
    #[default]
    Segments,
    /// One row per customer: recency, frequency, monetary, scores, segment.
    Customers,
    /// The 5×5 R×F grid: customers and revenue per (r_score, f_score) cell.
    Grid,
}

/// RFM as `table`.
pub async fn rfm(engine: &Engine, table: RfmTable) -> Result<DataFrame> {
    let sql = match table {
        RfmTable::Customers => "select * from rfm order by customer_id",
        RfmTable::Grid => "select * from rfm_grid order by r_score desc, f_score",
        RfmTable::Segments => {
            "select rfm_segment, count(*) as customers, \
               cast(count(*) as double) / sum(count(*)) over () as customer_share, \
               sum(monetary) as revenue, sum(monetary) / sum(sum(monetary)) over () as revenue_share, \
               avg(recency_days) as avg_recency_days, avg(frequency) as avg_frequency, \
               avg(monetary) as avg_monetary \
             from rfm group by rfm_segment order by revenue desc"
        }
    };
    engine.sql(sql).await
}
