//! The barrier between a user's query and a scoped table's rows: the scope is applied *below*
//! every user expression, so no operator, error message or EXPLAIN of a user's query ever sees
//! a row outside the scope.
//!
//! A scoped table is registered as a [`ScopedTable`], not as a view: a view is a logical plan
//! that the optimizer merges with the query around it, pushing the user's filters below the
//! scope's semi join (a `cast(name as int)` in a WHERE clause then failed on another manager's
//! customer, quoting the name; a division by zero or the row counts of `EXPLAIN ANALYZE`
//! answered yes/no questions about other rows; `EXPLAIN VERBOSE` printed the Parquet
//! statistics of the whole table). Instead:
//!
//! - the provider refuses every filter that could fail or compute anything
//!   ([`TableProviderFilterPushDown::Unsupported`]), so the logical optimizer keeps the user's
//!   casts, functions and arithmetic above the scan; only plain comparisons of columns with
//!   literals ([`cannot_fail`]) are also applied inside, for the Parquet scan to skip data by;
//! - its scan plans the scope's rows (the loader's plan, with the requested columns and limit
//!   only) as a physical plan of its own and returns it inside a [`ScopedScanExec`], which the
//!   user's plan sees as a leaf: it has no children, so no physical optimizer rule (filter
//!   pushdown, the dynamic filters of joins and TopK, projection or sort pushdown) can reach
//!   the plan inside, and no EXPLAIN prints it. Its statistics are unknown and it has no
//!   metrics of its own, so nothing is learned about the rows it reads past;
//! - the inner plan runs with the caller's task context: the same memory pool, spill
//!   directory and settings as the rest of the query.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode, TreeNodeRecursion};
use datafusion::common::{Column, internal_err};
use datafusion::config::ConfigOptions;
use datafusion::error::Result;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::utils::conjunction;
use datafusion::logical_expr::{
    Expr, LogicalPlan, LogicalPlanBuilder, Operator, TableProviderFilterPushDown, TableType,
};
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::reset_plan_states;
use datafusion::physical_plan::filter_pushdown::{
    ChildPushdownResult, FilterPushdownPhase, FilterPushdownPropagation,
};
use datafusion::physical_plan::{
    ChildrenPropertiesMode, DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning,
    PlanProperties, ReplaceChildrenOptions, SendableRecordBatchStream,
};

use datafusion::arrow::datatypes::SchemaRef;

/// A table limited to a scope: the plan of its in-scope rows, built in the private loader
/// session, planned anew for each scan behind a [`ScopedScanExec`].
#[derive(Debug)]
pub(super) struct ScopedTable {
    name: String,
    scope: String,
    /// The in-scope rows (a semi join with the scope's keys, or a filter on manager_id).
    plan: LogicalPlan,
    schema: SchemaRef,
}

impl ScopedTable {
    pub(super) fn new(name: &str, scope: &str, plan: LogicalPlan) -> ScopedTable {
        let schema = Arc::new(plan.schema().as_arrow().clone());
        ScopedTable {
            name: name.to_string(),
            scope: scope.to_string(),
            plan,
            schema,
        }
    }
}

#[async_trait]
impl TableProvider for ScopedTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// A view, as before the barrier (information_schema shows the same).
    fn table_type(&self) -> TableType {
        TableType::View
    }

    /// Only conditions that [`cannot_fail`] are also evaluated below the scope (so that the
    /// Parquet scan can skip row groups by them); every other condition is evaluated only on
    /// the scope's rows. Inexact: each one is evaluated again above the scan, on scoped rows.
    fn supports_filters_pushdown(
        &self,
        filters: &[&Expr],
    ) -> Result<Vec<TableProviderFilterPushDown>> {
        Ok(filters
            .iter()
            .map(|f| {
                if cannot_fail(f) {
                    TableProviderFilterPushDown::Inexact
                } else {
                    TableProviderFilterPushDown::Unsupported
                }
            })
            .collect())
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let mut plan = LogicalPlanBuilder::from(self.plan.clone());
        if let Some(condition) = conjunction(filters.iter().cloned()) {
            if !cannot_fail(&condition) {
                return internal_err!(
                    "scoped table `{}` was given a condition it does not accept: {condition}",
                    self.name
                );
            }
            // The user's columns are named after the user's table reference; the scope's plan
            // has its own qualifiers, and the names of its columns are unique.
            let condition = condition
                .transform(|e| {
                    Ok(match e {
                        Expr::Column(c) => {
                            Transformed::yes(Expr::Column(Column::new_unqualified(c.name)))
                        }
                        e => Transformed::no(e),
                    })
                })
                .data()?;
            plan = plan.filter(condition)?;
        }
        if let Some(projection) = projection {
            let columns: Vec<Expr> = projection
                .iter()
                .map(|i| Expr::Column(Column::from(self.plan.schema().qualified_field(*i))))
                .collect();
            plan = plan.project(columns)?;
        }
        if let Some(limit) = limit {
            plan = plan.limit(0, Some(limit))?;
        }
        let inner = state.create_physical_plan(&plan.build()?).await?;
        Ok(Arc::new(ScopedScanExec::new(
            &self.name,
            &self.scope,
            inner,
        )))
    }
}

/// Whether evaluating `expr` on any row, in scope or not, can neither fail nor tell anything
/// but whether the row matches: columns and literals compared, joined by AND, OR and NOT, IS
/// [NOT] NULL, IN lists and BETWEEN. No cast, function or arithmetic: those can fail on a
/// value (quoting it) or divide by zero. The result of such a condition below the scope is
/// invisible (the scope's join drops the rows it keeps that are not the scope's, and EXPLAIN
/// does not show the inner plan), so it only lets the scan skip data.
fn cannot_fail(expr: &Expr) -> bool {
    match expr {
        Expr::Column(_) | Expr::Literal(..) => true,
        Expr::BinaryExpr(b) => {
            matches!(
                b.op,
                Operator::Eq
                    | Operator::NotEq
                    | Operator::Lt
                    | Operator::LtEq
                    | Operator::Gt
                    | Operator::GtEq
                    | Operator::And
                    | Operator::Or
                    | Operator::IsDistinctFrom
                    | Operator::IsNotDistinctFrom
            ) && cannot_fail(&b.left)
                && cannot_fail(&b.right)
        }
        Expr::Not(e) | Expr::IsNull(e) | Expr::IsNotNull(e) => cannot_fail(e),
        Expr::InList(l) => cannot_fail(&l.expr) && l.list.iter().all(cannot_fail),
        Expr::Between(b) => cannot_fail(&b.expr) && cannot_fail(&b.low) && cannot_fail(&b.high),
        _ => false,
    }
}

/// The scoped rows of one table, as a leaf of the user's plan (see the module doc).
#[derive(Debug)]
struct ScopedScanExec {
    table: String,
    scope: String,
    inner: Arc<dyn ExecutionPlan>,
    properties: Arc<PlanProperties>,
}

impl ScopedScanExec {
    fn new(table: &str, scope: &str, inner: Arc<dyn ExecutionPlan>) -> ScopedScanExec {
        let own = inner.properties();
        // Only the partition count is passed on: orderings, constants and hash partitioning
        // of the inner plan are facts about it the user's plan does not need.
        let properties = PlanProperties::new(
            EquivalenceProperties::new(inner.schema()),
            Partitioning::UnknownPartitioning(own.partitioning.partition_count()),
            own.emission_type,
            own.boundedness,
        );
        ScopedScanExec {
            table: table.to_string(),
            scope: scope.to_string(),
            inner,
            properties: Arc::new(properties),
        }
    }
}

impl DisplayAs for ScopedScanExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        match t {
            DisplayFormatType::TreeRender => {
                writeln!(f, "table={}", self.table)?;
                write!(f, "scope={}", self.scope)
            }
            _ => write!(f, "ScopedScan: table={}, scope={}", self.table, self.scope),
        }
    }
}

impl ExecutionPlan for ScopedScanExec {
    fn name(&self) -> &str {
        "ScopedScan"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    /// None: the inner plan is out of every optimizer rule's reach.
    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        Vec::new()
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn replace_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
        _options: ReplaceChildrenOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        if children.is_empty() {
            Ok(self)
        } else {
            internal_err!("ScopedScan has no children to replace")
        }
    }

    fn with_new_children(
        self: Arc<Self>,
        children: Vec<Arc<dyn ExecutionPlan>>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.replace_children(
            children,
            ReplaceChildrenOptions::new(ChildrenPropertiesMode::Recompute),
        )
    }

    /// A re-executed plan (a recursive query) runs the inner plan afresh.
    fn reset_state(self: Arc<Self>) -> Result<Arc<dyn ExecutionPlan>> {
        Ok(Arc::new(ScopedScanExec {
            table: self.table.clone(),
            scope: self.scope.clone(),
            inner: reset_plan_states(self.inner.clone())?,
            properties: self.properties.clone(),
        }))
    }

    /// No filter of the user's plan is taken, whatever the phase.
    fn handle_child_pushdown_result(
        &self,
        _phase: FilterPushdownPhase,
        child_pushdown_result: ChildPushdownResult,
        _config: &ConfigOptions,
    ) -> Result<FilterPushdownPropagation<Arc<dyn ExecutionPlan>>> {
        Ok(FilterPushdownPropagation::all_unsupported(
            child_pushdown_result,
        ))
    }

    fn execute(
        &self,
        partition: usize,
        context: Arc<TaskContext>,
    ) -> Result<SendableRecordBatchStream> {
        self.inner.execute(partition, context)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{RecordBatch, StringArray};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::arrow::util::pretty::pretty_format_batches;
    use datafusion::catalog::MemTable;
    use datafusion::prelude::{SessionContext, col, lit};

    /// A loader with rows of two owners, and a user session that sees those of `mine` through
    /// the barrier.
    async fn scoped() -> SessionContext {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Utf8, false),
            Field::new("name", DataType::Utf8, false),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(vec!["mine", "theirs"])),
                Arc::new(StringArray::from(vec!["a-in", "SECRET-out"])),
            ],
        )
        .unwrap();
        let loader = SessionContext::new();
        let table = MemTable::try_new(schema, vec![vec![batch]]).unwrap();
        let rows = loader
            .read_table(Arc::new(table))
            .unwrap()
            .filter(col("id").eq(lit("mine")))
            .unwrap();
        let user = SessionContext::new();
        let provider = ScopedTable::new("t", "manager=M1", rows.logical_plan().clone());
        user.register_table("t", Arc::new(provider)).unwrap();
        user
    }

    async fn shown(ctx: &SessionContext, sql: &str) -> String {
        match ctx.sql(sql).await {
            Ok(df) => match df.collect().await {
                Ok(b) => pretty_format_batches(&b).unwrap().to_string(),
                Err(e) => format!("error: {e}"),
            },
            Err(e) => format!("error: {e}"),
        }
    }

    #[test]
    fn only_comparisons_of_columns_and_literals_go_below_the_scope() {
        use datafusion::logical_expr::{cast, col as c};
        use datafusion::prelude::lit as l;
        for safe in [
            c("id").eq(l("x")),
            c("id")
                .in_list(vec![l("a"), l("b")], true)
                .or(c("name").is_null()),
            c("n").between(l(1), l(5)).and(c("m").not_eq(c("n"))),
        ] {
            assert!(cannot_fail(&safe), "{safe}");
        }
        for failing in [
            cast(c("name"), DataType::Int32).gt(l(0)),
            (l(1) / c("n")).gt(l(0)),
            c("name").like(l("a%")),
            datafusion::functions::expr_fn::length(c("name")).gt(l(1)),
        ] {
            assert!(!cannot_fail(&failing), "{failing}");
        }
    }

    #[tokio::test]
    async fn conditions_are_evaluated_above_the_scope() {
        let ctx = scoped().await;
        let aimed = shown(
            &ctx,
            "select count(*) as n from t where case when id = 'theirs' then cast(name as int) > 0 else true end",
        )
        .await;
        assert!(aimed.contains("| 1 |"), "{aimed}");
        // A comparison, also applied below the scope, still sees only the scope's rows.
        let compared = shown(&ctx, "select count(*) as n from t where id = 'theirs'").await;
        assert!(compared.contains("| 0 |"), "{compared}");
        let compared = shown(&ctx, "select name from t where id in ('mine', 'theirs')").await;
        assert!(
            compared.contains("a-in") && !compared.contains("SECRET"),
            "{compared}"
        );
        let failing = shown(&ctx, "select * from t where cast(name as int) > 0").await;
        assert!(
            failing.contains("a-in") && !failing.contains("SECRET"),
            "{failing}"
        );
        for explain in [
            "explain verbose select * from t where name <> 'x'",
            "explain analyze select * from t where name <> 'x'",
        ] {
            let text = shown(&ctx, explain).await;
            assert!(
                text.contains("ScopedScan: table=t, scope=manager=M1"),
                "{text}"
            );
            // Neither the inner filter nor the rows or statistics below it.
            for hidden in ["theirs", "SECRET", "DataSourceExec", "Rows=Exact"] {
                assert!(!text.contains(hidden), "{explain}: {hidden} in\n{text}");
            }
        }
    }
}
