//! Row-level scope (PRODUCT.md, "Scope"): `--scope manager=M001` limits every table of a
//! session to the rows that manager may see, before any view, query or segment runs.
//!
//! What a scope sees:
//! - `customers` whose `owner_manager_id` is one of the scope's managers (`manager=M001,M002`,
//!   or `department=NAME`: the managers whose `managers.department` is NAME);
//! - the rows that belong to those customers: `contacts`, `orders`, `deals`, `activities`,
//!   `campaign_members`, `events`, `tickets` and `surveys` by `customer_id` (an anonymous
//!   survey, customer_id NULL, belongs to no customer in scope and is not seen);
//!   `order_items` by the order, `deal_stage_history` by the deal;
//! - its own rows of `managers` (manager_id in scope) and `plans` (manager_id in scope, or
//!   under `department=NAME` also the rows planned for department NAME);
//! - `products` and `campaigns` whole: they are reference data that holds no customer's or
//!   manager's rows, and without them order lines and campaign members could not be read;
//! - a dataset table outside the contract by its `customer_id` when it has one; one without
//!   is left out with a warning, since nothing says whose rows it holds.
//!
//! A fact row that merely names another manager (an order credited to M002 for a customer
//! of M001) is seen: rows follow the customer who owns them, not the manager who touched them.
//!
//! How: the tables are registered in a private loader session that no user query can reach
//! (so there is no `raw.orders` to bypass the scope with). The in-scope customer ids are read
//! once, at open, into an in-memory table; each table's in-scope rows are a plan over the
//! loader's provider: a left semi join with those ids (or with the scoped `orders` / `deals`
//! for order lines and stage history), or a filter on manager_id. A semi join rather than
//! `customer_id IN (…literals…)`: a manager of a 1M-customer dataset owns tens of thousands
//! of customers, and a list that long would be copied through every optimizer pass of every
//! query, while a hash join builds its table once per query and pushes the keys into the
//! Parquet scan as a dynamic filter.
//!
//! That plan is registered in the user's session behind a [`barrier`]: a table provider that
//! takes no filter that could fail (only plain comparisons of columns with literals, to skip
//! data by) and whose scan is a leaf of the user's plan, so the scope is applied below every
//! user expression (no cast, function or division of a query, no error message and no
//! EXPLAIN sees a row outside the scope). On a Ballista cluster (`[engine] url`) the plan is
//! registered as a view instead, since the barrier cannot be sent to executors yet; there the
//! optimizer may evaluate a query's conditions below the scope.
//!
//! User SQL under a scope ([`check_statement`]) may only read: DDL other than CREATE VIEW /
//! DROP VIEW (a view over scoped tables sees only scoped rows, so it is safe), DML, COPY and
//! `SET`-style statements are refused, because CREATE EXTERNAL TABLE would read the files
//! directly and COPY would write them. The guard covers SQL text given to
//! [`Engine::sql`](super::Engine::sql) and the CLI; library code that takes the session from
//! [`Engine::context`](super::Engine::context) is trusted code and can read files anyway.
//!
//! as_of: unless configured, it is the date of the latest order of the *whole* dataset, so a
//! manager's figures use the same as_of as the company's; the scope leaks that one date.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::MemTable;
use datafusion::common::Column;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::dataframe::DataFrame;
use datafusion::logical_expr::{DdlStatement, Expr, JoinType, LogicalPlan};
use datafusion::prelude::{SessionContext, col, lit};

use crate::columns::texts;
use crate::config::{Config, Scope};
use crate::dataset::Dataset;
use crate::dataset::schema::table_spec;
use crate::hint::closest;
use crate::{Error, Result};

use super::session_context;
use super::tables;

mod barrier;

/// What registering a scoped dataset found.
pub(crate) struct Registered {
    /// The whole dataset's as_of, when not configured and there are orders to take it from.
    pub as_of: Option<NaiveDate>,
    /// Tables of the dataset left out under the scope, with the reason.
    pub left_out: BTreeMap<String, String>,
}

/// How one table is limited.
enum Rule {
    /// Rows whose column is one of the scope's customer ids.
    Customer(&'static str),
    /// Rows whose key is in the scoped parent table (order lines by order, stage history by deal).
    Via {
        parent: &'static str,
        key: &'static str,
    },
    /// Rows of the scope's managers (`managers`), or their plans (`plans`).
    Manager { department: bool },
    /// Reference data without customer or manager rows.
    Whole,
}

fn rule(table: &str) -> Option<Rule> {
    Some(match table {
        "customers" | "contacts" | "orders" | "deals" | "activities" | "campaign_members"
        | "events" | "tickets" | "surveys" => Rule::Customer("customer_id"),
        "order_items" => Rule::Via {
            parent: "orders",
            key: "order_id",
        },
        "deal_stage_history" => Rule::Via {
            parent: "deals",
            key: "deal_id",
        },
        "managers" => Rule::Manager { department: false },
        "plans" => Rule::Manager { department: true },
        "products" | "campaigns" => Rule::Whole,
        _ if table_spec(table).is_some() => return None,
        _ => Rule::Customer("customer_id"),
    })
}

/// Registers every table of the dataset in `ctx`, limited to what `scope` may see. The
/// unfiltered tables live only in a private loader session.
pub(crate) async fn register(
    ctx: &SessionContext,
    config: &Config,
    dataset: &Dataset,
    scope: &Scope,
) -> Result<Registered> {
    let loader = session_context(config)?;
    for source in dataset.tables.values() {
        tables::register(&loader, source, true, &config.timezone).await?;
    }
    let as_of = match config.as_of {
        Some(_) => None,
        None => tables::latest_date(
            &loader,
            "orders",
            "ordered_at",
            &config.timezone,
            config.today(),
        )
        .await
        .ok(),
    };
    let customers = loader.table("customers").await?;
    if customers
        .schema()
        .field_with_unqualified_name("owner_manager_id")
        .is_err()
    {
        return Err(Error::dataset(
            &dataset.root,
            format!(
                "--scope {scope}: table `customers` has no column `owner_manager_id`, so no customer has an owner to scope by"
            ),
        ));
    }
    let managers = scope_managers(&loader, dataset, scope).await?;
    let ids = customers
        .filter(in_list("owner_manager_id", &managers))?
        .select_columns(&["customer_id"])?;
    let schema = Arc::new(ids.schema().as_arrow().clone());
    let batches = ids.collect().await?;
    log::info!(
        "scope {scope}: {} manager(s), {} customer(s)",
        managers.len(),
        batches.iter().map(RecordBatch::num_rows).sum::<usize>()
    );
    let keys = loader.read_table(Arc::new(MemTable::try_new(schema, vec![batches])?))?;

    let mut scoped: BTreeMap<String, DataFrame> = BTreeMap::new();
    let mut left_out = BTreeMap::new();
    // Parents first: order lines and stage history are limited by the scoped orders / deals.
    let mut names: Vec<&String> = dataset.tables.keys().collect();
    names.sort_by_key(|n| matches!(rule(n), Some(Rule::Via { .. })));
    for name in names {
        let table = loader.table(name.as_str()).await?;
        let has = |c: &str| table.schema().field_with_unqualified_name(c).is_ok();
        let limited = match rule(name) {
            None => Err(format!("the contract has no rule for `{name}`")),
            Some(Rule::Whole) => Ok(table),
            Some(Rule::Customer(column)) if has(column) => {
                semi_join(table, keys.clone(), column, column)
            }
            Some(Rule::Customer(column)) => Err(format!(
                "it has no `{column}` column, so its rows belong to no customer in scope"
            )),
            Some(Rule::Via { parent, key }) => match scoped.get(parent) {
                Some(p) if has(key) => semi_join(table, p.clone(), key, key),
                Some(_) => Err(format!("it has no `{key}` column to link it to `{parent}`")),
                None => Err(format!(
                    "its rows are scoped through `{parent}`, which is absent or left out"
                )),
            },
            Some(Rule::Manager { department }) if has("manager_id") => {
                let mut keep = in_list("manager_id", &managers);
                if let (true, Scope::Department(d)) = (department && has("department"), scope) {
                    keep = keep.or(col(Column::from_name("department")).eq(lit(d.as_str())));
                }
                Ok(table.filter(keep)?)
            }
            Some(Rule::Manager { .. }) => Err("it has no `manager_id` column".to_string()),
        };
        match limited {
            Ok(df) => {
                if config.engine.url.is_some() {
                    ctx.register_table(name.as_str(), df.clone().into_view())?;
                } else {
                    let table = barrier::ScopedTable::new(
                        name,
                        &scope.to_string(),
                        df.logical_plan().clone(),
                    );
                    ctx.register_table(name.as_str(), Arc::new(table))?;
                }
                scoped.insert(name.clone(), df);
            }
            Err(why) => {
                log::warn!("--scope {scope}: table `{name}` is left out: {why}");
                left_out.insert(name.clone(), why);
            }
        }
    }
    Ok(Registered { as_of, left_out })
}

/// `table` limited to the rows whose `column` is among `keys.key_column`.
fn semi_join(
    table: DataFrame,
    keys: DataFrame,
    column: &str,
    key_column: &str,
) -> std::result::Result<DataFrame, String> {
    let join = || -> datafusion::error::Result<DataFrame> {
        let keys = keys.select_columns(&[key_column])?.alias("scope_keys")?;
        table.alias("scoped")?.join_on(
            keys,
            JoinType::LeftSemi,
            [col(Column::new(Some("scoped"), column))
                .eq(col(Column::new(Some("scope_keys"), key_column)))],
        )
    };
    join().map_err(|e| format!("it cannot be joined on `{column}`: {e}"))
}

fn in_list(column: &str, values: &[String]) -> Expr {
    col(Column::from_name(column)).in_list(values.iter().map(|v| lit(v.as_str())).collect(), false)
}

/// The manager ids of the scope, checked against `managers` (or, without that table, the
/// owners of customers): an unknown id or department is an error naming the closest one.
async fn scope_managers(
    loader: &SessionContext,
    dataset: &Dataset,
    scope: &Scope,
) -> Result<Vec<String>> {
    let unknown = |what: &str, value: &str, known: &[String], table: &str| {
        let hint = match closest(value, known.iter().map(String::as_str)) {
            Some(best) => format!(", did you mean `{best}`?"),
            None => format!(" ({} known)", known.len()),
        };
        Error::dataset(
            &dataset.root,
            format!("--scope {scope}: no {what} `{value}` in {table}{hint}"),
        )
    };
    let has_managers = dataset.table("managers").is_some();
    match scope {
        Scope::Managers(ids) => {
            let (sql, table) = if has_managers {
                ("select manager_id from managers", "managers.manager_id")
            } else {
                (
                    "select owner_manager_id from customers",
                    "customers.owner_manager_id (the dataset has no managers table)",
                )
            };
            let known = texts(&loader.sql(sql).await?.collect().await?, 0)?;
            let known: Vec<String> = known.into_iter().flatten().collect();
            for id in ids {
                if !known.contains(id) {
                    return Err(unknown("manager", id, &known, table));
                }
            }
            Ok(ids.clone())
        }
        Scope::Department(name) => {
            if !has_managers {
                return Err(Error::dataset(
                    &dataset.root,
                    format!(
                        "--scope {scope}: the dataset has no managers table to find the department's managers in"
                    ),
                ));
            }
            let batches = loader
                .sql("select manager_id, department from managers")
                .await?
                .collect()
                .await?;
            let ids = texts(&batches, 0)?;
            let departments = texts(&batches, 1)?;
            let members: Vec<String> = ids
                .iter()
                .zip(&departments)
                .filter(|(_, d)| d.as_deref() == Some(name.as_str()))
                .filter_map(|(id, _)| id.clone())
                .collect();
            if members.is_empty() {
                let mut known: Vec<String> = departments.into_iter().flatten().collect();
                known.sort();
                known.dedup();
                return Err(unknown("department", name, &known, "managers.department"));
            }
            Ok(members)
        }
    }
}

/// Refuses, under a scope, every statement but a query, EXPLAIN, CREATE VIEW and DROP VIEW:
/// the rest could read or write files past the scope.
pub(crate) fn check_statement(plan: &LogicalPlan) -> Result<()> {
    let mut refused = None;
    plan.apply_with_subqueries(|node| {
        refused = match node {
            LogicalPlan::Ddl(DdlStatement::CreateView(_) | DdlStatement::DropView(_)) => None,
            LogicalPlan::Ddl(DdlStatement::CreateExternalTable(_)) => {
                Some("CREATE EXTERNAL TABLE".to_string())
            }
            LogicalPlan::Ddl(ddl) => Some(ddl.name().to_string()),
            LogicalPlan::Dml(dml) => Some(dml.op.to_string()),
            LogicalPlan::Copy(_) => Some("COPY".to_string()),
            LogicalPlan::Statement(s) => Some(s.name().to_string()),
            _ => None,
        };
        Ok(if refused.is_some() {
            TreeNodeRecursion::Stop
        } else {
            TreeNodeRecursion::Continue
        })
    })?;
    match refused {
        Some(what) => Err(Error::Query(format!(
            "--scope: {what} is not allowed under a row-level scope (only queries, EXPLAIN, CREATE VIEW and DROP VIEW are)"
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_displays() {
        assert_eq!(
            "manager=M001".parse::<Scope>().unwrap(),
            Scope::Managers(vec!["M001".into()])
        );
        assert_eq!(
            "manager=M001, M002".parse::<Scope>().unwrap(),
            Scope::Managers(vec!["M001".into(), "M002".into()])
        );
        let d: Scope = "department=Inside Sales".parse().unwrap();
        assert_eq!(d, Scope::Department("Inside Sales".into()));
        assert_eq!(d.to_string(), "department=Inside Sales");
        assert_eq!(
            "manager=M001,M002".parse::<Scope>().unwrap().to_string(),
            "manager=M001,M002"
        );
    }

    #[test]
    fn bad_scopes_are_usage_errors_naming_the_keys() {
        for (text, expect) in [
            ("managr=M001", "did you mean `manager`?"),
            ("region=EU", "unknown key `region`"),
            ("M001", "no `=`"),
            ("manager=", "empty manager id"),
            ("manager=M001,,M002", "empty manager id"),
            ("department=", "empty department"),
        ] {
            let err = text.parse::<Scope>().unwrap_err();
            assert_eq!(err.exit_code(), 2, "{text}");
            let msg = err.to_string();
            assert!(msg.contains(expect), "{text}: {msg}");
            assert!(msg.contains("manager, department"), "{text}: {msg}");
        }
    }

    #[test]
    fn statements_that_reach_files_are_refused() {
        let ctx = SessionContext::new();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let plan = |sql: &str| {
            rt.block_on(ctx.state().create_logical_plan(sql))
                .unwrap_or_else(|e| panic!("{sql}: {e}"))
        };
        for (sql, what) in [
            (
                "create external table t stored as parquet location '/tmp/x.parquet'",
                "CREATE EXTERNAL TABLE",
            ),
            ("copy (select 1) to '/tmp/x.csv'", "COPY"),
            ("create table t as select 1", "CreateMemoryTable"),
            ("set datafusion.execution.batch_size = 10", "SetVariable"),
            ("create schema s", "CreateCatalogSchema"),
        ] {
            let err = check_statement(&plan(sql)).unwrap_err().to_string();
            assert!(err.contains(what), "{sql}: {err}");
            assert!(err.contains("not allowed under a row-level scope"), "{err}");
        }
        for sql in [
            "select 1",
            "create view v as select 1 as x",
            "explain select 1",
            "select * from (select 1) where 1 in (select 1)",
        ] {
            check_statement(&plan(sql)).unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    }
}
