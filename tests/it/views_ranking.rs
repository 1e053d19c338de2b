//! The RFM scores and the ABC running share, computed from bucket histograms without a window
//! over all customers (src/views/buckets.rs), against the definitions they replace: the
//! window functions over all customers, kept here as the reference.
//!
//! Each view is compared row for row with the reference computed over the view's own
//! measures (materialised, so that both sides rank the same floats: a parallel plan sums a
//! customer's amounts in no fixed order), on the demo dataset, a generated one and hand-made
//! tie-heavy cases; in one partition, where the sums are reproducible, also with the whole
//! reference view over the purchases. The plans are walked for windows without PARTITION BY.

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::datasource::MemTable;
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::prelude::{SessionConfig, SessionContext};

use crmlens::config::Config;
use crmlens::engine::Engine;

use crate::common::{demo, tempdir};

/// Today's percentile score of one measure (src/views/rfm.rs before issue 16), verbatim.
fn reference_score(column: &str, better_is_lower: bool) -> String {
    let order = if better_is_lower { "desc" } else { "asc" };
    format!(
        "least(5, 1 + (5 * (cast(rank() over (order by {column} {order}) as bigint) - 1)) \
         / greatest(count(*) over () - 1, 1))"
    )
}

/// Today's scores over a relation with the RFM measures, one line per customer.
fn reference_rfm(measures: &str) -> String {
    let r = reference_score("recency_days", true);
    let f = reference_score("frequency", false);
    let m = reference_score("monetary", false);
    format!(
        "select customer_id, recency_days, frequency, monetary, \
           cast({r} as int) as r_score, cast({f} as int) as f_score, \
           cast({m} as int) as m_score \
         from ({measures})"
    )
}

/// Today's `measures` of the `rfm` view (all history), for the whole reference view.
const REFERENCE_MEASURES: &str = "select customer_id, as_of() - max(purchase_date) as recency_days, \
       count(*) as frequency, sum(amount) as monetary from purchases group by customer_id";

const RFM_COLUMNS: &str =
    "customer_id, recency_days, frequency, monetary, r_score, f_score, m_score";

/// Today's ABC columns (src/views/abc_xyz.rs before issue 16) over a relation with the
/// item key and its revenue: the windows over all items with float sums, verbatim; or, with
/// `exact`, the same windows ranking and summing the relation's `exact` revenue (the
/// amounts rounded to 6 decimals, summed in `decimal(38, 6)`), as the views now do.
fn reference_abc(items: &str, key: &str, exact: bool) -> String {
    let (order, positive, total, cumulative) = if exact {
        (
            "exact",
            "case when exact > 0 then exact else 0 end",
            "cast(positive_total as double)",
            "cast(cumulative as double)",
        )
    } else {
        (
            "revenue",
            "case when revenue > 0 then revenue else 0 end",
            "positive_total",
            "cumulative",
        )
    };
    format!(
        "with ranked as ( \
           select *, \
             sum({positive}) over () as positive_total, \
             sum({positive}) over (order by {order} desc \
               range between unbounded preceding and current row) as cumulative \
           from ({items})), \
         shares as ( \
           select {key}, revenue, \
             case when positive_total > 0 then revenue / {total} end as revenue_share, \
             case when positive_total > 0 then round({cumulative} / {total}, 12) end \
               as cumulative_share \
           from ranked) \
         select {key}, revenue, revenue_share, cumulative_share, \
           case when revenue > 0 and cumulative_share <= 0.8 then 'A' \
             when revenue > 0 and cumulative_share <= 0.95 then 'B' else 'C' end as abc_class \
         from shares"
    )
}

/// The exact revenue of each customer or product (`key`, `exact`), from the purchases.
fn exact_revenue(key: &str) -> &'static str {
    if key == "customer_id" {
        "select customer_id, sum(cast(amount as decimal(38, 6))) as exact \
         from purchases group by customer_id"
    } else {
        "select i.product_id, \
           sum(cast(cast(i.quantity as double) * cast(i.unit_price as double) \
             as decimal(38, 6))) as exact \
         from order_items i join purchases p on p.order_id = i.order_id \
         where i.product_id is not null group by i.product_id"
    }
}

/// Rows as text lines in `key` order (floats in full: `{:?}` of the f64).
async fn lines(ctx: &SessionContext, sql: &str, key: &str) -> Vec<String> {
    let batches = ctx
        .sql(&format!("select * from ({sql}) order by {key}"))
        .await
        .unwrap_or_else(|e| panic!("{e}\n{sql}"))
        .collect()
        .await
        .unwrap();
    text(&batches)
}

fn text(batches: &[RecordBatch]) -> Vec<String> {
    let options = FormatOptions::default().with_null("NULL");
    let mut out = Vec::new();
    for batch in batches {
        let formatters: Vec<ArrayFormatter> = batch
            .columns()
            .iter()
            .map(|c| ArrayFormatter::try_new(c.as_ref(), &options).unwrap())
            .collect();
        for row in 0..batch.num_rows() {
            let cells: Vec<String> = formatters
                .iter()
                .map(|f| f.value(row).to_string())
                .collect();
            out.push(cells.join(" "));
        }
    }
    out
}

/// Asserts equal row lists, naming the first differing row.
fn assert_rows(what: &str, got: &[String], want: &[String]) {
    assert_eq!(got.len(), want.len(), "{what}: row count");
    if let Some(i) = (0..got.len()).find(|&i| got[i] != want[i]) {
        panic!(
            "{what}: row {i} differs\n   got: {}\nwanted: {}",
            got[i], want[i]
        );
    }
}

/// Asserts that the ABC columns materialised as `table` (key, revenue, revenue_share,
/// cumulative_share, abc_class) equal the reference over the same revenues: exactly the
/// reference with exact sums (from the purchases); today's float one in the classes and
/// within 10⁻¹² relative in `revenue_share` (a float total of n revenues errs by up to
/// about n × 10⁻¹⁶). Its `cumulative_share` differs where float sums split revenues that are
/// equal in cents (no longer peers, so no longer one share) and in the 12th decimal where
/// the float running sum's error moves the rounding.
async fn assert_abc(ctx: &SessionContext, what: &str, table: &str, key: &str) {
    let got = lines(ctx, &format!("select * from {table}"), key).await;
    let columns = "revenue, revenue_share, cumulative_share, abc_class";
    let items = format!(
        "select g.{key}, g.revenue, e.exact from {table} g \
         left join ({}) e on e.{key} = g.{key}",
        exact_revenue(key)
    );
    let exact = reference_abc(&items, key, true);
    let want = lines(ctx, &format!("select {key}, {columns} from ({exact})"), key).await;
    assert_rows(what, &got, &want);
    // The float reference over the revenues as doubles (the view's are exact decimals).
    let float = reference_abc(
        &format!("select {key}, cast(revenue as double) as revenue from {table}"),
        key,
        false,
    );
    let far = lines(
        ctx,
        &format!(
            "select g.{key}, g.revenue_share, w.revenue_share, g.cumulative_share, \
               w.cumulative_share, g.abc_class, w.abc_class \
             from {table} g join ({float}) w on w.{key} = g.{key} \
             where g.abc_class <> w.abc_class \
               or (g.revenue_share is null) <> (w.revenue_share is null) \
               or abs(g.revenue_share - w.revenue_share) > 1e-12 * abs(w.revenue_share)"
        ),
        key,
    )
    .await;
    assert!(
        far.is_empty(),
        "{what}: differs from the float reference: {far:?}"
    );
    let rows = lines(ctx, &format!("select count(*) from ({float})"), "1").await;
    assert_eq!(rows, [got.len().to_string()], "{what}");
}

/// Materialises a query as table `name` of `ctx`.
async fn materialise(ctx: &SessionContext, name: &str, sql: &str) {
    let df = ctx.sql(sql).await.unwrap();
    let schema = Arc::new(df.schema().as_arrow().clone());
    let batches = df.collect().await.unwrap();
    let table = MemTable::try_new(schema, vec![batches]).unwrap();
    ctx.register_table(name, Arc::new(table)).unwrap();
}

async fn engine(dataset: &Path, partitions: usize) -> Engine {
    let mut config = Config {
        dataset: Some(dataset.to_path_buf()),
        ..Config::default()
    };
    config.engine.target_partitions = Some(partitions);
    Engine::open(&config).await.unwrap()
}

/// Every check on one dataset, in `partitions` partitions: the views against the reference
/// over their own measures, and in one partition also against the whole reference views.
/// Returns the number of customers ranked, so callers can see the data was not empty.
async fn check_dataset(dataset: &Path, partitions: usize) -> usize {
    let engine = engine(dataset, partitions).await;
    let ctx = engine.context();
    materialise(ctx, "got_rfm", &format!("select {RFM_COLUMNS} from rfm")).await;
    let got = lines(ctx, "select * from got_rfm", "customer_id").await;
    let want = lines(ctx, &reference_rfm("select * from got_rfm"), "customer_id").await;
    assert_rows("rfm", &got, &want);
    assert_windows_partitioned(ctx, "select * from rfm").await;

    for (view, key) in [
        ("customer_abc_xyz", "customer_id"),
        ("product_abc_xyz", "product_id"),
    ] {
        let table = format!("got_{view}");
        materialise(
            ctx,
            &table,
            &format!(
                "select {key}, revenue, revenue_share, cumulative_share, abc_class from {view}"
            ),
        )
        .await;
        assert_abc(ctx, view, &table, key).await;
        assert_windows_partitioned(ctx, &format!("select * from {view}")).await;
    }

    if partitions == 1 {
        let want = lines(ctx, &reference_rfm(REFERENCE_MEASURES), "customer_id").await;
        assert_rows("rfm, whole reference view", &got, &want);
    }
    got.len()
}

#[tokio::test]
async fn views_equal_the_window_definitions_on_the_demo() {
    assert!(check_dataset(&demo(), 1).await > 1000);
    assert!(check_dataset(&demo(), 4).await > 1000);
}

#[tokio::test]
async fn views_equal_the_window_definitions_on_generated_data() {
    let dir = tempdir();
    let out = dir.path().join("gen");
    crmlens::generate::generate(&crmlens::generate::GenerateOptions {
        out: out.clone(),
        customers: 20_000,
        seed: 7,
        ..Default::default()
    })
    .unwrap();
    assert!(check_dataset(&out, 1).await > 10_000);
    assert!(check_dataset(&out, 3).await > 10_000);
}

/// The views' SQL over hand-made purchases (customer_id, purchase_date, amount) in a plain
/// session of four partitions, with the demo's configuration and an as_of of 2024-04-30.
async fn hand_made(purchases: &str) -> (SessionContext, String, String) {
    let engine = engine(&demo(), 1).await;
    let as_of = chrono::NaiveDate::from_ymd_opt(2024, 4, 30).unwrap();
    let env = engine.view_env(as_of).await.unwrap();
    let rfm = crmlens::views::rfm::views(&env).unwrap().remove(0).sql;
    let abc = crmlens::views::abc_xyz::views(&env).unwrap().remove(0).sql;
    let ctx = SessionContext::new_with_config(SessionConfig::new().with_target_partitions(4));
    ctx.sql(&format!(
        "create view purchases(customer_id, purchase_date, amount) as values {purchases}"
    ))
    .await
    .unwrap();
    (ctx, rfm, abc)
}

/// The scores "customer r f m" of hand-made purchases; both views checked against the
/// reference over their own measures.
async fn scores(purchases: &str) -> Vec<String> {
    let (ctx, rfm, abc) = hand_made(purchases).await;
    materialise(
        &ctx,
        "got_rfm",
        &format!("select {RFM_COLUMNS} from ({rfm})"),
    )
    .await;
    let got = lines(&ctx, "select * from got_rfm", "customer_id").await;
    let want = lines(&ctx, &reference_rfm("select * from got_rfm"), "customer_id").await;
    assert_rows("rfm", &got, &want);
    assert_windows_partitioned(&ctx, &rfm).await;
    materialise(
        &ctx,
        "got_abc",
        &format!(
            "select customer_id, revenue, revenue_share, cumulative_share, abc_class from ({abc})"
        ),
    )
    .await;
    assert_abc(&ctx, "customer_abc_xyz", "got_abc", "customer_id").await;
    assert_windows_partitioned(&ctx, &abc).await;
    lines(
        &ctx,
        "select concat_ws(' ', customer_id, r_score, f_score, m_score) from got_rfm",
        "1",
    )
    .await
}

#[tokio::test]
async fn one_customer_scores_1() {
    // percent_rank() of a lone customer is 0: every score 1.
    assert_eq!(scores("('A', DATE '2024-04-01', 10.0)").await, ["A 1 1 1"]);
}

#[tokio::test]
async fn two_customers_score_1_and_5_or_both_1_when_equal() {
    // rank 2 of 2: 1 + 5 × 1 / 1 = 6, capped at 5. B bought later, more often, more.
    let rows = "('A', DATE '2024-04-01', 10.0), ('B', DATE '2024-04-20', 10.0), \
                ('B', DATE '2024-04-21', 5.0)";
    assert_eq!(scores(rows).await, ["A 1 1 1", "B 5 5 5"]);
    // Equal values are peers: both rank 1.
    let rows = "('A', DATE '2024-04-01', 10.0), ('B', DATE '2024-04-01', 10.0)";
    assert_eq!(scores(rows).await, ["A 1 1 1", "B 1 1 1"]);
}

#[tokio::test]
async fn all_equal_customers_score_1() {
    let rows: Vec<String> = (0..50)
        .map(|i| format!("('C{i:02}', DATE '2024-03-03', 7.25)"))
        .collect();
    let got = scores(&rows.join(", ")).await;
    assert_eq!(got.len(), 50);
    assert!(got.iter().all(|l| l.ends_with(" 1 1 1")), "{got:?}");
}

#[tokio::test]
async fn two_values_split_at_the_first_of_the_larger() {
    // 30 customers spent 5.0 (ranks 1), 20 spent 9.0 (rank 31): 1 + 5 × 30 div 49 = 4.
    // Frequency and recency are all equal: 1.
    let rows: Vec<String> = (0..50)
        .map(|i| {
            let amount = if i < 30 { "5.0" } else { "9.0" };
            format!("('C{i:02}', DATE '2024-03-03', {amount})")
        })
        .collect();
    let got = scores(&rows.join(", ")).await;
    assert!(got[..30].iter().all(|l| l.ends_with(" 1 1 1")), "{got:?}");
    assert!(got[30..].iter().all(|l| l.ends_with(" 1 1 4")), "{got:?}");
}

#[tokio::test]
async fn ties_on_every_edge_and_negative_and_null_amounts() {
    // 101 customers: n − 1 = 100, edges at ranks 21, 41, 61, 81 (L = 20, 40, 60, 80). Many
    // values repeat across the edges; amounts below zero (credits) and a NULL amount (ranked
    // last by `order by monetary`, NULLs last) are in the same ranking.
    let mut rows = Vec::new();
    for i in 0..101 {
        let amount = match i {
            0 => "cast(null as double)".to_string(),
            1..=5 => format!("{}", -(i as f64) * 1.5),
            _ => format!("{}", (i / 10) as f64 * 12.5),
        };
        let day = 1 + (i % 7);
        rows.push(format!("('C{i:03}', DATE '2024-04-0{day}', {amount})"));
        if i % 3 == 0 && i > 0 {
            rows.push(format!("('C{i:03}', DATE '2024-03-0{day}', 0.0)"));
        }
    }
    let got = scores(&rows.join(", ")).await;
    assert_eq!(got.len(), 101);
    assert!(
        got[0].ends_with(" 5"),
        "the NULL monetary ranks last: {}",
        got[0]
    );
}

#[tokio::test]
async fn abc_shares_are_exact_on_the_boundary() {
    // The purchases of tests/slt/abc_xyz.slt in amounts whose float sums are not exact: 500
    // (100.1 + 399.9) and 300 (300.3 − 0.3) make 800 of 1000, 0.8 exactly, A (PRODUCT.md:
    // up to 80 %); the peers at 50 share (800 + 100) / 1000 = 0.9, B; a credit is C at 1.0.
    let rows = "('A', DATE '2024-04-01', 100.1), ('A', DATE '2024-04-02', 399.9), \
                ('B', DATE '2024-04-01', 300.3), ('B', DATE '2024-04-02', -0.3), \
                ('C', DATE '2024-04-01', 50.0), ('D', DATE '2024-04-01', 50.0), \
                ('E', DATE '2024-04-01', 45.0), ('F', DATE '2024-04-01', 30.0), \
                ('G', DATE '2024-04-01', 25.0), ('H', DATE '2024-04-01', -20.0)";
    let (ctx, _, abc) = hand_made(rows).await;
    let got = lines(
        &ctx,
        &format!("select concat_ws(' ', customer_id, cumulative_share, abc_class) from ({abc})"),
        "1",
    )
    .await;
    assert_eq!(
        got,
        [
            "A 0.5 A",
            "B 0.8 A",
            "C 0.9 B",
            "D 0.9 B",
            "E 0.945 B",
            "F 0.975 C",
            "G 1.0 C",
            "H 1.0 C"
        ]
    );
    scores(rows).await;
}

/// Fails when a window without PARTITION BY runs over rows of customers or products: such
/// a window must read an aggregate grouped by `bucket` (the histogram of a few thousand
/// rows at most, src/views/buckets.rs).
async fn assert_windows_partitioned(ctx: &SessionContext, sql: &str) {
    let plan = ctx.sql(sql).await.unwrap().into_optimized_plan().unwrap();
    if let Some(problem) = unpartitioned_window(&plan) {
        panic!("{sql}: {problem}\n{}", plan.display_indent());
    }
}

fn unpartitioned_window(plan: &LogicalPlan) -> Option<String> {
    if let LogicalPlan::Window(w) = plan {
        let global = w.window_expr.iter().any(|e| match e.clone().unalias() {
            Expr::WindowFunction(f) => f.params.partition_by.is_empty(),
            _ => false,
        });
        if global && !reads_histogram(&w.input) {
            return Some(format!(
                "window without PARTITION BY over all rows: {:?}",
                w.window_expr
            ));
        }
    }
    plan.inputs().into_iter().find_map(unpartitioned_window)
}

/// The plan below a window, through row-preserving nodes, is an aggregate by `bucket`.
fn reads_histogram(plan: &LogicalPlan) -> bool {
    match plan {
        LogicalPlan::Aggregate(a) => {
            a.group_expr.len() == 1
                && matches!(&a.group_expr[0], Expr::Column(c) if c.name == "bucket")
        }
        LogicalPlan::Projection(_)
        | LogicalPlan::Filter(_)
        | LogicalPlan::Sort(_)
        | LogicalPlan::SubqueryAlias(_)
        | LogicalPlan::Window(_)
        | LogicalPlan::Repartition(_) => plan.inputs().into_iter().all(reads_histogram),
        _ => false,
    }
}

/// The plan walk finds the windows of the definitions it replaces.
#[tokio::test]
async fn plan_walk_finds_windows_over_all_customers() {
    let engine = engine(&demo(), 2).await;
    let ctx = engine.context();
    for sql in [
        reference_rfm("select * from rfm"),
        reference_abc(
            "select customer_id, revenue from customer_abc_xyz",
            "customer_id",
            false,
        ),
    ] {
        let plan = ctx.sql(&sql).await.unwrap().into_optimized_plan().unwrap();
        assert!(unpartitioned_window(&plan).is_some(), "{sql}");
    }
}
