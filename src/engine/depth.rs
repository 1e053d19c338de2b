//! How deep a query's expressions may nest. The SQL parser builds `a OR b OR c …` and
//! `1 + 1 + …` as chains one level deeper per term without limit (parentheses, function calls
//! and subqueries are limited by its recursion limit); planning and running an expression
//! recurse once per level (a 10,000-term chain aborted the process with a stack overflow),
//! and DataFusion's planning takes time quadratic in the depth (2,000 levels: 37 s in a debug
//! build). So:
//!
//! - chains of `AND` or `OR` are rebalanced before planning ([`balance`]): the same terms in
//!   the same order, grouped as a balanced tree, `log2(n)` levels deep (both operators are
//!   associative, also with NULLs), so a 10,000-term filter plans in moments;
//! - any other chain deeper than [`MAX_DEPTH`] operators is refused before it is parsed
//!   ([`check_sql`]) with a message saying why;
//! - queries run on threads with large stacks ([`STACK_SIZE`]) all the same.

use std::ops::ControlFlow;

use datafusion::sql::parser::Statement;
use datafusion::sql::sqlparser::ast::{BinaryOperator, Expr, Value, VisitMut, VisitorMut};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};

use crate::{Error, Result};

/// The stack of every thread that plans or runs queries (the command's own thread and the
/// runtime's workers). Only the pages a deep query touches are ever used.
pub const STACK_SIZE: usize = 256 << 20;

/// Levels of operators other than `AND` and `OR` allowed in one expression.
pub const MAX_DEPTH: usize = 1_000;

/// Terms of `AND` / `OR` chains allowed in one statement (they are rebalanced; this bounds
/// the memory of the text, not the depth).
pub const MAX_TERMS: usize = 1_000_000;

/// Chains of `AND`/`OR` shorter than this keep the parser's shape (plans and EXPLAIN output of
/// ordinary queries stay as they were).
const BALANCE_FROM: usize = 64;

/// Refuses a statement of `sql` whose expressions nest deeper than [`MAX_DEPTH`] (counted
/// from its tokens, an upper bound of the depth the parser builds). Text the tokenizer
/// cannot read is left to the parser to report.
pub fn check_sql(sql: &str) -> Result<()> {
    let Ok(tokens) = Tokenizer::new(&GenericDialect {}, sql).tokenize() else {
        return Ok(());
    };
    // Per parenthesis level: operators of the current chain, the deepest operand in it (a
    // parenthesised group), the deepest chain of the level.
    let mut levels: Vec<(usize, usize, usize)> = vec![(0, 0, 0)];
    let mut terms = 0usize;
    for token in &tokens {
        let top = levels.len() - 1;
        match token {
            Token::SemiColon => {
                levels = vec![(0, 0, 0)];
                terms = 0;
            }
            Token::LParen => levels.push((0, 0, 0)),
            Token::RParen if top > 0 => {
                let (_, _, inner) = levels.pop().unwrap_or_default();
                let level = &mut levels[top - 1];
                level.1 = level.1.max(inner);
                level.2 = level.2.max(level.0 + level.1);
            }
            Token::Comma => levels[top] = (0, 0, levels[top].2),
            Token::Word(w) if matches!(w.keyword, Keyword::AND | Keyword::OR) => {
                terms += 1;
                if terms > MAX_TERMS {
                    return Err(too_deep(format!(
                        "more than {MAX_TERMS} AND/OR terms in one statement"
                    )));
                }
                levels[top] = (0, 0, levels[top].2);
            }
            Token::Word(w) if separates(w.keyword) => levels[top] = (0, 0, levels[top].2),
            t if is_operator(t) => {
                let level = &mut levels[top];
                level.0 += 1;
                level.2 = level.2.max(level.0 + level.1);
                if level.2 > MAX_DEPTH {
                    return Err(too_deep(format!(
                        "an expression nests deeper than {MAX_DEPTH} levels (each term of a \
                         chain such as `1 + 1 + …` is one level)"
                    )));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn too_deep(what: String) -> Error {
    Error::Query(format!(
        "the query is too deep to plan: {what}; shorten it (long lists of values: IN (…))"
    ))
}

/// Keywords that end an expression (a new clause, a CASE branch).
fn separates(keyword: Keyword) -> bool {
    matches!(
        keyword,
        Keyword::SELECT
            | Keyword::FROM
            | Keyword::WHERE
            | Keyword::GROUP
            | Keyword::HAVING
            | Keyword::ORDER
            | Keyword::LIMIT
            | Keyword::OFFSET
            | Keyword::ON
            | Keyword::JOIN
            | Keyword::UNION
            | Keyword::INTERSECT
            | Keyword::EXCEPT
            | Keyword::CASE
            | Keyword::WHEN
            | Keyword::THEN
            | Keyword::ELSE
            | Keyword::END
            | Keyword::AS
            | Keyword::WITH
            | Keyword::VALUES
            | Keyword::WINDOW
            | Keyword::QUALIFY
    )
}

/// Whether a token may add a level to an expression: everything but names, literals,
/// commas, parentheses, periods and white space.
fn is_operator(token: &Token) -> bool {
    match token {
        Token::Word(w) => matches!(
            w.keyword,
            Keyword::XOR
                | Keyword::NOT
                | Keyword::IS
                | Keyword::IN
                | Keyword::LIKE
                | Keyword::ILIKE
                | Keyword::SIMILAR
                | Keyword::BETWEEN
                | Keyword::COLLATE
                | Keyword::AT
                | Keyword::DIV
                | Keyword::REGEXP
                | Keyword::RLIKE
                | Keyword::OVERLAPS
                | Keyword::OPERATOR
        ),
        Token::EOF
        | Token::Number(..)
        | Token::Comma
        | Token::Whitespace(_)
        | Token::LParen
        | Token::RParen
        | Token::Period
        | Token::SemiColon
        | Token::Placeholder(_)
        | Token::SingleQuotedString(_)
        | Token::DoubleQuotedString(_)
        | Token::TripleSingleQuotedString(_)
        | Token::TripleDoubleQuotedString(_)
        | Token::DollarQuotedString(_)
        | Token::SingleQuotedByteStringLiteral(_)
        | Token::DoubleQuotedByteStringLiteral(_)
        | Token::TripleSingleQuotedByteStringLiteral(_)
        | Token::TripleDoubleQuotedByteStringLiteral(_)
        | Token::SingleQuotedRawStringLiteral(_)
        | Token::DoubleQuotedRawStringLiteral(_)
        | Token::TripleSingleQuotedRawStringLiteral(_)
        | Token::TripleDoubleQuotedRawStringLiteral(_)
        | Token::NationalStringLiteral(_)
        | Token::QuoteDelimitedStringLiteral(_)
        | Token::NationalQuoteDelimitedStringLiteral(_)
        | Token::EscapedStringLiteral(_)
        | Token::UnicodeStringLiteral(_)
        | Token::HexStringLiteral(_) => false,
        _ => true,
    }
}

/// Rebalances the long `AND` / `OR` chains of a statement (see the module's documentation).
pub fn balance_statement(statement: &mut Statement) {
    match statement {
        Statement::Statement(s) => balance(s.as_mut()),
        Statement::Explain(e) => balance_statement(&mut e.statement),
        _ => {}
    }
}

/// [`balance_statement`] for any part of a parsed SQL statement.
pub fn balance<V: VisitMut>(node: &mut V) {
    let _ = node.visit(&mut Balancer);
}

struct Balancer;

impl VisitorMut for Balancer {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        if let Expr::BinaryOp { op, .. } = expr
            && matches!(op, BinaryOperator::And | BinaryOperator::Or)
        {
            let op = op.clone();
            let chain = std::mem::replace(expr, Expr::value(Value::Null));
            let terms = terms(chain, &op);
            *expr = if terms.len() >= BALANCE_FROM {
                grouped(terms, &op)
            } else {
                chained(terms, &op)
            };
        }
        ControlFlow::Continue(())
    }
}

/// The terms of a chain of `op`, in order, taken apart without recursion.
fn terms(chain: Expr, op: &BinaryOperator) -> Vec<Expr> {
    let mut out = Vec::new();
    let mut stack = vec![chain];
    while let Some(e) = stack.pop() {
        match e {
            Expr::BinaryOp { left, op: o, right } if o == *op => {
                stack.push(*right);
                stack.push(*left);
            }
            other => out.push(other),
        }
    }
    out
}

fn join(left: Expr, op: &BinaryOperator, right: Expr) -> Expr {
    Expr::BinaryOp {
        left: Box::new(left),
        op: op.clone(),
        right: Box::new(right),
    }
}

/// The parser's shape: `((a op b) op c) op …`.
fn chained(terms: Vec<Expr>, op: &BinaryOperator) -> Expr {
    let mut terms = terms.into_iter();
    let first = terms.next().expect("a chain has terms");
    terms.fold(first, |acc, t| join(acc, op, t))
}

/// A balanced tree of the terms, in order. Inner groups are parenthesised, so that the
/// visitor, going down, sees them as terms and not as chains to take apart again.
fn grouped(terms: Vec<Expr>, op: &BinaryOperator) -> Expr {
    fn group(mut terms: Vec<Expr>, op: &BinaryOperator) -> Expr {
        if terms.len() == 1 {
            return terms.pop().expect("one term");
        }
        let right = terms.split_off(terms.len() / 2);
        Expr::Nested(Box::new(join(group(terms, op), op, group(right, op))))
    }
    match group(terms, op) {
        Expr::Nested(top) => *top,
        one => one,
    }
}

#[cfg(test)]
mod tests {
    use datafusion::sql::parser::DFParser;

    use super::*;

    fn depth(e: &Expr) -> usize {
        match e {
            Expr::BinaryOp { left, right, .. } => 1 + depth(left).max(depth(right)),
            Expr::Nested(e) => depth(e),
            _ => 0,
        }
    }

    #[test]
    fn long_and_or_chains_are_balanced_in_order() {
        let ors = (0..1000)
            .map(|i| format!("x = {i}"))
            .collect::<Vec<_>>()
            .join(" OR ");
        let sql = format!("SELECT 1 WHERE {ors} AND y = 1 AND z = 2");
        let mut statement = DFParser::parse_sql(&sql).unwrap().pop_front().unwrap();
        balance_statement(&mut statement);
        let Statement::Statement(s) = &statement else {
            panic!()
        };
        let text = s.to_string();
        let Some(w) = text.split(" WHERE ").nth(1) else {
            panic!("{text}")
        };
        // Same terms, same order; the short AND chain keeps its shape.
        assert_eq!(
            w.replace(['(', ')'], ""),
            format!("{ors} AND y = 1 AND z = 2")
        );
        let mut statement = DFParser::parse_sql(&format!("SELECT 1 WHERE {ors}"))
            .unwrap()
            .pop_front()
            .unwrap();
        balance_statement(&mut statement);
        let Statement::Statement(s) = &statement else {
            panic!()
        };
        let datafusion::sql::sqlparser::ast::Statement::Query(q) = s.as_ref() else {
            panic!()
        };
        let datafusion::sql::sqlparser::ast::SetExpr::Select(select) = q.body.as_ref() else {
            panic!()
        };
        assert_eq!(
            depth(select.selection.as_ref().unwrap()),
            11,
            "log2(1000) + the `=`"
        );
    }

    #[test]
    fn deep_chains_are_refused_wide_ones_are_not() {
        let chain = |n: usize| vec!["1"; n].join(" + ");
        check_sql(&format!("select {}", chain(MAX_DEPTH + 1))).unwrap();
        let err = check_sql(&format!("select {}", chain(MAX_DEPTH + 2)))
            .unwrap_err()
            .to_string();
        assert!(err.contains("deeper than 1000"), "{err}");
        let nested = format!("select ({}) * 2", chain(MAX_DEPTH + 1));
        assert!(check_sql(&nested).is_err());
        let columns = vec![chain(MAX_DEPTH / 2); 10].join(", ");
        check_sql(&format!("select {columns}")).unwrap();
        let ors = vec!["x = 1 + 1"; 50_000].join(" or ");
        check_sql(&format!("select 1 where {ors}")).unwrap();
        let list = vec!["'a'"; 100_000].join(", ");
        check_sql(&format!("select 1 where x in ({list})")).unwrap();
    }
}
