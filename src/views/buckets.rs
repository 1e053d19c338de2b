//! Ranks and running sums over all customers without a window over all customers (issue 16):
//! the value histogram that the RFM scores ([`super::rfm`]) and the ABC running share
//! ([`super::abc_xyz`]) are computed from.
//!
//! A window function without PARTITION BY (`rank() over (order by v)`, `count(*) over ()`,
//! `sum(…) over (order by v)`) runs in one task over its whole input: one core, one Ballista
//! executor, and `count(*) over ()` buffers every row without spilling. What such a window
//! computes for a row, the number (or the sum) of rows ranked before it, is here split in two
//! by a *bucket*, a function of the value that never decreases as the value grows:
//!
//! - rows in lower buckets: a `group by bucket` histogram (a parallel, spillable aggregate)
//!   summed over the buckets below, a window over the histogram's rows only (a few thousand,
//!   however many customers there are);
//! - rows in the same bucket: a window *partitioned by the bucket* (parallel over buckets,
//!   its sort spills), or nothing at all when the bucket is the value itself.
//!
//! Because the bucket is monotone, every row ranked before a row is either in a lower bucket
//! or in its own one, so the two parts add up to the exact count or sum, ties included.
//!
//! The bucket of a magnitude x ≥ 0 is ⌊64 · √√x⌋: a 1.1 % wide bucket at 1,000 and 0.2 % at
//! 1,000,000, 3,600 buckets up to 10⁷, so that skewed money values spread over many buckets.
//! `sqrt` and a multiplication by a positive constant are correctly rounded in IEEE 754 and
//! therefore monotone, as is `floor`, so the SQL below is monotone bit for bit, not just in
//! exact arithmetic.
//!
//! The histogram and the rows are two evaluations of the per-customer sums (DataFusion does
//! not share a subquery between two uses), each adding a customer's amounts in its own
//! order, so one customer's two float sums may differ, by up to about n × 10⁻¹⁶ of the sum
//! for n amounts. [`signed`] takes the bucket of the value rounded to 6 decimals, sign
//! included, so that a purchase and a credit that cancel out (±10⁻¹⁷) fall in 0's bucket
//! in both; a customer falls in two buckets only when its sum lies within that error of a
//! bucket edge (edges are 4 % to 0.2 % of the value apart from 10 to 10⁶: for 10,000
//! orders, a chance of about 10⁻⁹ per customer), and then the scores of the customers next
//! to that edge can be off by one. The ABC share, whose running
//! revenue must be exact, sums decimals instead ([`super::abc_xyz`]).

/// SQL: the bucket of a magnitude, `x` ≥ 0 and not −0 (a double).
pub fn magnitude(x: &str) -> String {
    format!("floor(64 * sqrt(sqrt({x})))")
}

/// SQL: the bucket of a double `x` of any sign, ascending with it: values that round to a
/// negative number of millionths below every other (−1 and lower), NULL above all (last,
/// as `order by x` puts it). `+ 0.0` turns a rounded −0 into 0.
pub fn signed(x: &str) -> String {
    let rounded = format!("round({x}, 6)");
    format!(
        "case when {x} is null then cast('inf' as double) \
         when {rounded} >= 0 then {} else -{} - 1 end",
        magnitude(&format!("({rounded} + 0.0)")),
        magnitude(&format!("-{rounded}"))
    )
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::{Array, Float64Array};
    use datafusion::prelude::SessionContext;

    use super::*;

    /// Values around bucket edges ((j / 64)⁴, where the bucket changes), zero, tiny and huge
    /// values, both signs: sorted by value, their buckets never decrease.
    #[tokio::test]
    async fn buckets_never_decrease_as_the_value_grows() {
        let mut values = vec![0.0, 1e-17, 1e-9, 4e-7, 5e-7, 6e-7, 1e-6, 0.01, 1e12, 1e30];
        for j in [1.0f64, 2.0, 63.0, 64.0, 65.0, 333.0, 1000.0, 4097.0] {
            let edge = (j / 64.0).powi(4);
            for d in [-2e-6, -1e-9, 0.0, 1e-9, 2e-6] {
                values.push(edge + d);
            }
            values.push(f64::from_bits(edge.to_bits() - 1));
            values.push(f64::from_bits(edge.to_bits() + 1));
        }
        let negatives: Vec<f64> = values.iter().map(|v| -v).collect();
        values.extend(negatives);
        values.retain(|v| *v != 0.0 || v.is_sign_positive());
        values.sort_by(f64::total_cmp);
        let list = values
            .iter()
            .map(|v| format!("({v:e})"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "select {} as b from (values {list}) t(x) order by x",
            signed("x")
        );
        let ctx = SessionContext::new();
        let batches = ctx.sql(&sql).await.unwrap().collect().await.unwrap();
        let mut buckets = Vec::new();
        for batch in &batches {
            let b = batch
                .column(0)
                .as_any()
                .downcast_ref::<Float64Array>()
                .unwrap();
            buckets.extend((0..b.len()).map(|i| b.value(i)));
        }
        assert_eq!(buckets.len(), values.len());
        for (i, pair) in buckets.windows(2).enumerate() {
            assert!(
                pair[0] <= pair[1],
                "{} → {}, {} → {}",
                values[i],
                pair[0],
                values[i + 1],
                pair[1]
            );
        }
        let at = |x: f64| buckets[values.iter().position(|v| *v == x).unwrap()];
        // Sums that cancel out to ±10⁻¹⁷ share 0's bucket, 0 and not −0 (another group).
        for x in [-1e-17, 0.0, 1e-17, -4e-7, 4e-7] {
            assert!(at(x) == 0.0 && at(x).is_sign_positive(), "{x} → {}", at(x));
        }
        // Values that round to a negative number of millionths are below; √√10¹² = 1000.
        for (x, b) in values.iter().zip(&buckets) {
            assert!(
                (*x <= -6e-7 && *b < 0.0) || (*x >= -4e-7 && *b >= 0.0) || x.abs() == 5e-7,
                "{x} → {b}"
            );
        }
        assert_eq!(at(1e12), (64.0 * 1000.0f64).floor());
    }
}
