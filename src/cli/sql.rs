//! `crmlens sql`: query text, `-f FILE` or stdin; several `;`-separated statements run in
//! order (e.g. `create view …; select …`) and the last one's result is printed.

use std::io::{IsTerminal, Read};
use std::path::PathBuf;

use super::{GlobalArgs, write_to};
use crate::engine::Engine;
use crate::{Error, Result};

/// Run SQL over the dataset's tables and the built-in views.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  crmlens sql \"select status, count(*), sum(amount) from orders group by status\"
  crmlens sql -f queries/top_customers.sql --format csv --output top.csv
  echo \"show tables\" | crmlens sql
  crmlens sql --format json \"select * from customers limit 3\"")]
pub struct Args {
    /// The query; `-` reads it from stdin
    #[arg(value_name = "QUERY", conflicts_with = "file")]
    query: Option<String>,
    /// Read the query from FILE
    #[arg(short, long, value_name = "FILE")]
    file: Option<PathBuf>,
    /// Rows shown by the table format before the rest is only counted
    #[arg(long, default_value_t = 50, value_name = "N")]
    max_rows: usize,
}

fn query_text(args: &Args) -> Result<String> {
    let text = match (&args.query, &args.file) {
        (Some(q), None) if q != "-" => q.clone(),
        (None, Some(f)) => std::fs::read_to_string(f).map_err(|e| Error::io(f, e))?,
        (Some(_), None) | (None, None) => {
            if args.query.is_none() && std::io::stdin().is_terminal() {
                return Err(Error::Usage(
                    "no query: give it as an argument, with -f FILE, or on stdin".into(),
                ));
            }
            let mut s = String::new();
            std::io::stdin()
                .read_to_string(&mut s)
                .map_err(|e| Error::io("<stdin>", e))?;
            s
        }
        (Some(_), Some(_)) => {
            return Err(Error::Usage(
                "give the query either as an argument or with -f, not both".into(),
            ));
        }
    };
    if text.trim().is_empty() {
        return Err(Error::Usage("the query is empty".into()));
    }
    Ok(text)
}

pub async fn run(global: &GlobalArgs, args: Args) -> Result<u8> {
    let text = query_text(&args)?;
    let config = global.config()?;
    let output = global.output(args.max_rows)?;
    let engine = Engine::open(&config).await?;
    let statements = crate::engine::parse_sql(&text)?;
    let count = statements.len();
    if count == 0 {
        return Err(Error::Usage("the query has no statement".into()));
    }
    for (i, statement) in statements.into_iter().enumerate() {
        let df = engine.statement(statement).await?;
        if i + 1 < count {
            df.collect().await?;
        } else {
            write_to(df, &output).await?;
        }
    }
    Ok(0)
}
