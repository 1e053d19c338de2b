//! From definitions to plans: each segment's SQL as a statement (a `filter` becomes `select
//! customer_id from customer_features where <filter>`), `in_segment('x')` rewritten in the
//! syntax tree into `customer_id in (select customer_id from segment.x)`, the dependency
//! graph (declared `depends_on` plus every `in_segment` and `segment.x` reference) in
//! evaluation order, and planning in a session where each segment is the table `segment.<name>`.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::ControlFlow;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::catalog::MemorySchemaProvider;
use datafusion::common::{SchemaError, TableReference};
use datafusion::dataframe::DataFrame;
use datafusion::datasource::MemTable;
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;
use datafusion::sql::parser::Statement as DFStatement;
use datafusion::sql::sqlparser::ast::{
    Expr, FunctionArg, FunctionArgExpr, FunctionArguments, ObjectName, SetExpr, Statement, Value,
    visit_expressions_mut, visit_relations,
};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::parser::Parser;
use datafusion::sql::sqlparser::tokenizer::Token;

use super::definition::{Body, Definition, Problem};
use crate::engine::depth::{balance, check_sql};
use crate::{Error, Result};

/// The SQL schema holding one table per segment (`segment.<name>`, a `customer_id` column).
pub const SEGMENT_SCHEMA: &str = "segment";

/// The view a `filter` is a condition over.
pub const FEATURES: &str = "customer_features";

/// A definition with its statement and every segment it needs.
#[derive(Debug, Clone)]
pub struct Planned {
    pub def: Definition,
    /// Declared and referenced dependencies, sorted.
    pub deps: Vec<String>,
    /// The statement to run, `in_segment` rewritten.
    pub statement: Statement,
}

/// Columns of `customer_features` that only a fitted CLV model fills.
pub const MODEL_COLUMNS: &[&str] = &["p_alive", "expected_purchases", "expected_avg_value", "clv"];

impl Planned {
    /// Whether the segment's SQL or export columns name a column only a CLV model fills.
    pub fn needs_model(&self) -> bool {
        let mut found = self
            .def
            .columns
            .iter()
            .any(|c| MODEL_COLUMNS.contains(&c.as_str()));
        let _ = datafusion::sql::sqlparser::ast::visit_expressions(&self.statement, |e| {
            let name = match e {
                Expr::Identifier(i) => Some(&i.value),
                Expr::CompoundIdentifier(parts) => parts.last().map(|i| &i.value),
                _ => None,
            };
            if name.is_some_and(|n| MODEL_COLUMNS.contains(&n.to_lowercase().as_str())) {
                found = true;
                return ControlFlow::Break(());
            }
            ControlFlow::Continue(())
        });
        found
    }

    /// The SQL the segment runs, as text.
    pub fn sql(&self) -> String {
        self.statement.to_string()
    }
}

/// Parses a definition's SQL and rewrites `in_segment`; the error is the message for the
/// definition's file.
pub fn parse(def: &Definition) -> std::result::Result<Planned, String> {
    let (Body::Filter(text) | Body::Sql(text)) = &def.body;
    check_sql(text).map_err(|e| e.to_string())?;
    let mut statement = match &def.body {
        Body::Filter(filter) => {
            let condition = parse_condition(filter)?;
            let mut statement = parse_query("select customer_id from customer_features")
                .map_err(|e| format!("internal: {e}"))?;
            if let Statement::Query(q) = &mut statement
                && let SetExpr::Select(s) = q.body.as_mut()
            {
                s.selection = Some(condition);
            }
            statement
        }
        Body::Sql(sql) => parse_query(sql)?,
    };
    balance(&mut statement);
    let mut referenced = BTreeSet::new();
    let mut bad = None;
    let _ = visit_expressions_mut(&mut statement, |expr| {
        if let Some(arg) = in_segment_argument(expr) {
            match arg {
                Ok(name) => {
                    *expr = Expr::InSubquery {
                        expr: Box::new(Expr::Identifier("customer_id".into())),
                        subquery: Box::new(members_query(&name)),
                        negated: false,
                    };
                    referenced.insert(name);
                }
                Err(m) => {
                    bad = Some(m);
                    return ControlFlow::Break(());
                }
            }
        }
        ControlFlow::Continue(())
    });
    if let Some(m) = bad {
        return Err(m);
    }
    let _ = visit_relations(&statement, |name: &ObjectName| {
        let parts: Vec<String> = name
            .0
            .iter()
            .map(|p| p.to_string().trim_matches('"').to_lowercase())
            .collect();
        if parts.len() == 2 && parts[0] == SEGMENT_SCHEMA {
            referenced.insert(parts[1].clone());
        }
        ControlFlow::<()>::Continue(())
    });
    let mut deps: BTreeSet<String> = def.depends_on.iter().cloned().collect();
    deps.extend(referenced);
    Ok(Planned {
        def: def.clone(),
        deps: deps.into_iter().collect(),
        statement,
    })
}

/// One SQL expression and nothing after it.
fn parse_condition(text: &str) -> std::result::Result<Expr, String> {
    let mut parser = Parser::new(&GenericDialect {})
        .try_with_sql(text)
        .map_err(|e| format!("filter: {e}"))?;
    let expr = parser.parse_expr().map_err(|e| format!("filter: {e}"))?;
    let next = parser.peek_token();
    if next.token != Token::EOF {
        return Err(format!(
            "filter: expected one condition, found `{}` after `{expr}`",
            next.token
        ));
    }
    Ok(expr)
}

/// One query (SELECT / WITH / VALUES …), nothing that writes or defines
/// ([`crate::engine::statement::one_query`]).
fn parse_query(text: &str) -> std::result::Result<Statement, String> {
    crate::engine::statement::one_query(text)
        .map_err(|e| format!("sql: {e} (a segment is a query returning customer_id)"))
}

fn members_query(name: &str) -> datafusion::sql::sqlparser::ast::Query {
    match parse_query(&format!(
        "select customer_id from {SEGMENT_SCHEMA}.\"{name}\""
    )) {
        Ok(Statement::Query(q)) => *q,
        _ => unreachable!("a constant query over a checked segment name parses"),
    }
}

/// `Some` when `expr` is a call of `in_segment`: the segment name, or what is wrong with the
/// arguments.
fn in_segment_argument(expr: &Expr) -> Option<std::result::Result<String, String>> {
    let Expr::Function(f) = expr else {
        return None;
    };
    if !f.name.to_string().eq_ignore_ascii_case("in_segment") {
        return None;
    }
    let usage = || {
        Err(
            "in_segment expects one segment name in quotes, e.g. in_segment('champions')"
                .to_string(),
        )
    };
    let FunctionArguments::List(list) = &f.args else {
        return Some(usage());
    };
    let [FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(v)))] = list.args.as_slice() else {
        return Some(usage());
    };
    match &v.value {
        Value::SingleQuotedString(s) => {
            let name = s.trim().to_lowercase();
            Some(
                super::definition::check_name(&name)
                    .map(|_| name)
                    .map_err(|m| format!("in_segment: {m}")),
            )
        }
        _ => Some(usage()),
    }
}

/// The evaluation order of `wanted` and everything they need, dependencies first; problems
/// for unknown dependencies and cycles (each cycle once, with its path).
pub fn order(
    planned: &BTreeMap<String, Planned>,
    wanted: &[String],
) -> (Vec<String>, Vec<Problem>) {
    let mut order = Vec::new();
    let mut problems = Vec::new();
    // 1 visiting, 2 done, 3 failed (a cycle or an unknown dependency below it)
    let mut state: BTreeMap<String, u8> = BTreeMap::new();
    let mut reported = BTreeSet::new();
    fn visit(
        name: &str,
        planned: &BTreeMap<String, Planned>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
        order: &mut Vec<String>,
        problems: &mut Vec<Problem>,
        reported: &mut BTreeSet<BTreeSet<String>>,
    ) -> bool {
        match state.get(name) {
            Some(2) => return true,
            Some(3) => return false,
            Some(1) => {
                let start = stack.iter().position(|s| s == name).unwrap_or(0);
                let cycle: Vec<String> = stack[start..].to_vec();
                if reported.insert(cycle.iter().cloned().collect()) {
                    let mut path = cycle.clone();
                    path.push(name.to_string());
                    for member in &cycle {
                        problems.push(Problem {
                            segment: Some(member.clone()),
                            file: planned[member].def.path.clone(),
                            message: format!("depends_on cycle: {}", path.join(" → ")),
                        });
                    }
                }
                return false;
            }
            _ => {}
        }
        let Some(p) = planned.get(name) else {
            return false;
        };
        state.insert(name.to_string(), 1);
        stack.push(name.to_string());
        let mut ok = true;
        for dep in &p.deps {
            if !planned.contains_key(dep) {
                let names = planned.keys().map(String::as_str);
                let hint = crate::hint::closest(dep, names)
                    .map(|c| format!("; did you mean `{c}`?"))
                    .unwrap_or_default();
                problems.push(Problem {
                    segment: Some(name.to_string()),
                    file: p.def.path.clone(),
                    message: format!("depends on unknown segment `{dep}`{hint}"),
                });
                ok = false;
            } else if !visit(dep, planned, state, stack, order, problems, reported) {
                ok = false;
            }
        }
        stack.pop();
        state.insert(name.to_string(), if ok { 2 } else { 3 });
        if ok {
            order.push(name.to_string());
        }
        ok
    }
    for name in wanted {
        let mut stack = Vec::new();
        visit(
            name,
            planned,
            &mut state,
            &mut stack,
            &mut order,
            &mut problems,
            &mut reported,
        );
    }
    (order, problems)
}

/// Makes `segment.<name>` exist for every name (empty, one `customer_id` column) so that
/// any segment plans before its dependencies have members.
pub fn register_placeholders<'a>(
    ctx: &SessionContext,
    names: impl IntoIterator<Item = &'a str>,
) -> Result<()> {
    let catalog = ctx
        .catalog("datafusion")
        .ok_or_else(|| Error::Internal("the session has no default catalog".into()))?;
    if catalog.schema(SEGMENT_SCHEMA).is_none() {
        catalog.register_schema(SEGMENT_SCHEMA, Arc::new(MemorySchemaProvider::new()))?;
    }
    let schema = Arc::new(Schema::new(vec![Field::new(
        "customer_id",
        DataType::Utf8,
        false,
    )]));
    for name in names {
        let table = MemTable::try_new(schema.clone(), vec![vec![]])?;
        register_members(ctx, name, Arc::new(table))?;
    }
    Ok(())
}

/// Puts a segment's member table at `segment.<name>`.
pub fn register_members(
    ctx: &SessionContext,
    name: &str,
    table: Arc<dyn datafusion::catalog::TableProvider>,
) -> Result<()> {
    let reference = TableReference::partial(SEGMENT_SCHEMA, name);
    ctx.deregister_table(reference.clone())?;
    ctx.register_table(reference, table)?;
    Ok(())
}

/// Plans a segment's statement; its result must have a `customer_id` column. The error
/// message names the unknown column and the closest existing ones.
pub async fn plan(
    ctx: &SessionContext,
    planned: &Planned,
) -> std::result::Result<DataFrame, String> {
    let state = ctx.state();
    let plan = state
        .statement_to_plan(DFStatement::Statement(Box::new(planned.statement.clone())))
        .await
        .map_err(|e| explain(&e, &planned.def))?;
    let df = DataFrame::new(state, plan);
    if df
        .schema()
        .field_with_unqualified_name("customer_id")
        .is_err()
    {
        let columns: Vec<String> = df
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        return Err(format!(
            "sql: the query must return a `customer_id` column; it returns {}",
            columns.join(", ")
        ));
    }
    Ok(df)
}

fn explain(e: &DataFusionError, def: &Definition) -> String {
    let what = match def.body {
        Body::Filter(_) => "filter",
        Body::Sql(_) => "sql",
    };
    if let DataFusionError::SchemaError(schema_error, _) = e.find_root()
        && let SchemaError::FieldNotFound {
            field,
            valid_fields,
        } = schema_error.as_ref()
    {
        let names: Vec<&str> = valid_fields.iter().map(|c| c.name.as_str()).collect();
        let close = closest_names(&field.name, &names, 3);
        let hint = if close.is_empty() {
            format!("; the columns are {}", names.join(", "))
        } else {
            format!(
                "; closest: {}",
                close
                    .iter()
                    .map(|c| format!("`{c}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let source = if matches!(def.body, Body::Filter(_)) {
            format!(" of {FEATURES}")
        } else {
            String::new()
        };
        return format!("{what}: unknown column `{}`{source}{hint}", field.name);
    }
    let message = e.find_root().to_string();
    format!("{what}: {}", message.trim())
}

/// Up to `n` names closest to `name`: names containing it (or contained in it) first, then
/// by edit distance.
pub fn closest_names<'a>(name: &str, candidates: &[&'a str], n: usize) -> Vec<&'a str> {
    let lower = name.to_lowercase();
    let mut scored: Vec<(bool, usize, &str)> = candidates
        .iter()
        .map(|c| {
            let c_lower = c.to_lowercase();
            let contained = c_lower.contains(&lower) || lower.contains(&c_lower);
            let d = strsim::damerau_levenshtein(&lower, &c_lower);
            (!contained, d, *c)
        })
        .filter(|(far, d, c)| !*far || *d <= (c.len().max(name.len()) / 2).max(2))
        .collect();
    scored.sort();
    scored.dedup_by(|a, b| a.2 == b.2);
    scored.into_iter().take(n).map(|(_, _, c)| c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::segments::definition::parse as parse_def;
    use std::path::Path;

    fn def(name: &str, text: &str) -> Definition {
        parse_def(Path::new(&format!("{name}.toml")), text).unwrap()
    }

    #[test]
    fn filter_becomes_a_query_and_in_segment_a_subquery() {
        let p = parse(&def(
            "a",
            "filter = \"monetary > 10 and in_segment('vip') and not in_segment('b')\"",
        ))
        .unwrap();
        assert_eq!(p.deps, ["b", "vip"]);
        let sql = p.sql();
        assert!(
            sql.starts_with("SELECT customer_id FROM customer_features WHERE"),
            "{sql}"
        );
        assert!(
            sql.contains("customer_id IN (SELECT customer_id FROM segment.\"vip\")"),
            "{sql}"
        );
    }

    #[test]
    fn model_columns_are_detected_in_sql_and_export_columns() {
        let needs = |t: &str| parse(&def("a", t)).unwrap().needs_model();
        assert!(needs("filter = \"p_alive > 0.8\""));
        assert!(needs(
            "sql = \"select f.customer_id from customer_features f where f.clv > 1\""
        ));
        assert!(needs("filter = \"true\"\ncolumns = [\"email\", \"clv\"]"));
        assert!(!needs("filter = \"monetary > 1\"\ncolumns = [\"email\"]"));
    }

    #[test]
    fn sql_references_to_segment_tables_are_dependencies() {
        let p = parse(&def(
            "a",
            "sql = \"select customer_id from segment.vip union select customer_id from orders\"\ndepends_on = [\"x\"]",
        ))
        .unwrap();
        assert_eq!(p.deps, ["vip", "x"]);
    }

    #[test]
    fn a_filter_is_one_condition_and_sql_one_query() {
        for (text, expected) in [
            ("filter = \"a > 1) or (1 = 1\"", "expected one condition"),
            ("filter = \"a > 1; drop table x\"", "expected one condition"),
            ("sql = \"select 1; select 2\"", "found 2 statements"),
            ("sql = \"create table x as select 1\"", "expected a query"),
            (
                "filter = \"in_segment(name)\"",
                "one segment name in quotes",
            ),
        ] {
            let e = parse(&def("a", text)).unwrap_err();
            assert!(e.contains(expected), "{text}: {e}");
        }
    }

    #[test]
    fn order_puts_dependencies_first_and_reports_cycles_and_unknowns() {
        let defs = [
            ("a", "filter = \"in_segment('b')\""),
            ("b", "filter = \"true\"\ndepends_on = [\"c\"]"),
            ("c", "filter = \"true\""),
            ("x", "filter = \"in_segment('y')\""),
            ("y", "filter = \"in_segment('x')\""),
            ("z", "filter = \"in_segment('champs')\""),
            ("champions", "filter = \"true\""),
        ];
        let planned: BTreeMap<String, Planned> = defs
            .iter()
            .map(|(n, t)| (n.to_string(), parse(&def(n, t)).unwrap()))
            .collect();
        let all: Vec<String> = planned.keys().cloned().collect();
        let (order, problems) = order(&planned, &all);
        assert_eq!(order, ["c", "b", "a", "champions"]);
        let messages: Vec<String> = problems.iter().map(|p| p.message.clone()).collect();
        assert!(
            messages.contains(&"depends_on cycle: x → y → x".to_string()),
            "{messages:?}"
        );
        assert_eq!(messages.iter().filter(|m| m.contains("cycle")).count(), 2);
        assert!(
            messages.contains(
                &"depends on unknown segment `champs`; did you mean `champions`?".to_string()
            ),
            "{messages:?}"
        );
    }

    #[test]
    fn closest_names_prefers_near_and_contained_names() {
        let names = [
            "frequency",
            "f_score",
            "monetary",
            "recency_days",
            "revenue_90d",
        ];
        assert_eq!(closest_names("frequncy", &names, 2)[0], "frequency");
        assert_eq!(closest_names("recency", &names, 1), ["recency_days"]);
    }
}
