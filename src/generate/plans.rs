//! Monthly plans, set after the simulation from what each manager actually sold, so that
//! plan-vs-actual is meaningful: one row per month × active manager × the one or two product
//! categories they sell most, within ±20% of the actual (or of their usual month when they
//! sold nothing that month).

use datafusion::arrow::record_batch::RecordBatch;

use super::rng::Rng;
use super::tables::{Plans, TableBuf};
use super::world::{CATEGORIES, DEPARTMENTS, World};
use crate::Result;

/// The plans' own random stream, apart from the world's and every customer's.
const PLANS_STREAM: u64 = u64::MAX - 1;

/// Monthly targets for every active manager in the one or two categories they sell most,
/// within ±20% of what they actually sold (or of their usual month when they sold nothing).
pub fn plans_batch(w: &World, actual: &[i64]) -> Result<RecordBatch> {
    let mut rng = Rng::new(w.seed, PLANS_STREAM);
    let mut t = Plans::default();
    let months = w.cal.months();
    let get = |m: u32, month: usize, c: usize| {
        actual
            .get(w.actual_index(m, month, c))
            .copied()
            .unwrap_or(0)
    };
    for (mi, m) in w.managers.iter().enumerate() {
        if !m.active {
            continue;
        }
        let mi = mi as u32;
        let mut totals: Vec<(i64, usize)> = (0..CATEGORIES.len())
            .map(|c| ((0..months).map(|mo| get(mi, mo, c)).sum(), c))
            .collect();
        totals.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut cats = vec![totals[0].1];
        if totals[1].0 > 0 && totals[1].0 * 4 >= totals[0].0 {
            cats.push(totals[1].1);
        }
        for &c in &cats {
            let nonzero: Vec<i64> = (0..months)
                .map(|mo| get(mi, mo, c))
                .filter(|a| *a > 0)
                .collect();
            let usual = if nonzero.is_empty() {
                rng.range(5_000, 20_000) * 100
            } else {
                nonzero.iter().sum::<i64>() / nonzero.len() as i64
            };
            for mo in 0..months {
                let a = get(mi, mo, c);
                let base = if a > 0 { a } else { usual };
                let target = base as f64 * rng.uniform(0.8, 1.2);
                let step = if target >= 500_000.0 {
                    10_000.0
                } else {
                    1_000.0
                };
                t.period.push(w.cal.month_first_day(mo));
                t.manager_id.push(&m.id);
                t.department.push(DEPARTMENTS[m.dept]);
                t.product_category.push(CATEGORIES[c].0);
                t.target_amount
                    .push(((target / step).round() * step).max(step) as i64);
            }
        }
    }
    t.finish()
}
