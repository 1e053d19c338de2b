//! `--scope KEY=VALUE`: whose rows a run may see, as a typed value parsed once from the
//! command line (or set by a library caller). [`crate::engine::scope`] applies it to a
//! session.

use std::fmt;
use std::str::FromStr;

use crate::hint::closest;
use crate::{Error, Result};

/// The keys `--scope KEY=VALUE` accepts.
pub const KEYS: &[&str] = &["manager", "department"];

/// A row-level scope: whose rows a session may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// `manager=M001[,M002…]`: the customers these managers own.
    Managers(Vec<String>),
    /// `department=NAME`: the customers owned by the managers of that department.
    Department(String),
}

impl FromStr for Scope {
    type Err = Error;

    /// Parses `manager=M001`, `manager=M001,M002` or `department=NAME`; anything else is a
    /// usage error naming the supported keys.
    fn from_str(text: &str) -> Result<Scope> {
        let usage = |why: String| {
            Error::Usage(format!(
                "--scope {text}: {why}; expected KEY=VALUE with KEY one of {}, e.g. --scope manager=M001 or --scope department=SMB",
                KEYS.join(", ")
            ))
        };
        let (key, value) = text.split_once('=').ok_or_else(|| usage("no `=`".into()))?;
        let key = key.trim();
        let value = value.trim();
        match key {
            "manager" => {
                let ids: Vec<String> = value.split(',').map(|s| s.trim().to_string()).collect();
                if ids.iter().any(String::is_empty) {
                    return Err(usage("an empty manager id".into()));
                }
                Ok(Scope::Managers(ids))
            }
            "department" if !value.is_empty() => Ok(Scope::Department(value.to_string())),
            "department" => Err(usage("an empty department".into())),
            other => Err(usage(match closest(other, KEYS.iter().copied()) {
                Some(best) => format!("unknown key `{other}`, did you mean `{best}`?"),
                None => format!("unknown key `{other}`"),
            })),
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Managers(ids) => write!(f, "manager={}", ids.join(",")),
            Scope::Department(name) => write!(f, "department={name}"),
        }
    }
}
