//! What the SQL of a definition file (a segment's `sql` or `filter`, a report template's key
//! figures and sections) may be: one query that only reads. `COPY … TO`, `CREATE EXTERNAL
//! TABLE`, `SELECT … INTO` and every other statement are refused when the file is read, with
//! or without a scope: a file that is run on a schedule must not write or read files past the
//! dataset, and under a scope those would read around it.

use datafusion::sql::parser::{DFParser, Statement as DFStatement};
use datafusion::sql::sqlparser::ast::{SetExpr, Statement};
use datafusion::sql::sqlparser::dialect::GenericDialect;

/// Parses `text` as one query (SELECT / WITH / VALUES …). The error says what was found
/// instead, for the caller to prefix with the file and key.
pub fn one_query(text: &str) -> std::result::Result<Statement, String> {
    let mut statements =
        DFParser::parse_sql_with_dialect(text, &GenericDialect {}).map_err(|e| e.to_string())?;
    if statements.len() != 1 {
        return Err(format!(
            "expected one query, found {} statements",
            statements.len()
        ));
    }
    let found = match statements.pop_front() {
        Some(DFStatement::Statement(s)) => match *s {
            Statement::Query(q) => {
                if !matches!(q.body.as_ref(), SetExpr::Select(s) if s.into.is_some()) {
                    return Ok(Statement::Query(q));
                }
                "SELECT … INTO".to_string()
            }
            other => leading_words(&other.to_string()),
        },
        Some(DFStatement::CopyTo(_)) => "COPY".into(),
        Some(DFStatement::CreateExternalTable(_)) => "CREATE EXTERNAL TABLE".into(),
        Some(DFStatement::Explain(_)) => "EXPLAIN".into(),
        Some(DFStatement::Reset(_)) => "RESET".into(),
        None => "nothing".into(),
    };
    Err(format!(
        "expected a query (SELECT, WITH or VALUES), found {found}, which is not allowed here"
    ))
}

/// The first two words of a statement (`CREATE TABLE`, `INSERT INTO`), upper case.
fn leading_words(text: &str) -> String {
    text.split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_one_reading_query_passes() {
        for ok in [
            "select 1",
            "with a as (select 1 as x) select x from a",
            "values (1), (2)",
            "select 1 union all select 2",
        ] {
            one_query(ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for (sql, found) in [
            ("copy (select 1) to '/tmp/x.csv'", "found COPY"),
            (
                "create external table t stored as parquet location '/etc'",
                "found CREATE EXTERNAL TABLE",
            ),
            ("select 1 into t", "found SELECT … INTO"),
            ("create table t as select 1", "found CREATE TABLE"),
            ("insert into t values (1)", "found INSERT INTO"),
            ("explain select 1", "found EXPLAIN"),
            ("set datafusion.execution.batch_size = 1", "found SET"),
            ("select 1; select 2", "found 2 statements"),
        ] {
            let e = one_query(sql).unwrap_err();
            assert!(e.contains(found), "{sql}: {e}");
        }
    }
}
