//! Where queries run: in this process (the default) or on an Apache DataFusion Ballista
//! cluster (`--engine df://HOST:PORT`, `[engine] url`). This module parses the engine URL and
//! turns a local session state into one whose plans go to the cluster; the Ballista side
//! (codecs, scheduler and executor processes) lives in [`crate::distributed`] behind the
//! `distributed` cargo feature. Built without it, asking for a cluster is an error that says
//! how to rebuild, never a silent local run.

use std::fmt;
use std::str::FromStr;

use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::LogicalPlan;

use crate::{Error, Result};

/// The port a Ballista scheduler listens on unless told otherwise.
pub const DEFAULT_SCHEDULER_PORT: u16 = 50050;

/// A parsed engine URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineUrl {
    /// `df://HOST[:PORT]`: the Ballista scheduler at HOST:PORT (PORT defaults to 50050).
    Cluster { host: String, port: u16 },
    /// `standalone`: a scheduler and an executor started inside this process (for trying
    /// that a job runs distributed, and for measuring; it is not faster than local).
    Standalone,
}

impl FromStr for EngineUrl {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<EngineUrl, String> {
        let expected = "expected df://HOST:PORT (e.g. df://localhost:50050) or standalone";
        if text == "standalone" {
            return Ok(EngineUrl::Standalone);
        }
        let rest = text
            .strip_prefix("df://")
            .ok_or_else(|| format!("{text:?}: {expected}"))?;
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        // `[::1]:50050`: the port follows the closing bracket of an IPv6 host.
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(':') && (!h.starts_with('[') || h.ends_with(']')) => {
                let port = p
                    .parse::<u16>()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| format!("{text:?}: port {p:?} is not a port number"))?;
                (h, port)
            }
            _ => (rest, DEFAULT_SCHEDULER_PORT),
        };
        if host.is_empty() || host.contains('/') {
            return Err(format!("{text:?}: no host; {expected}"));
        }
        Ok(EngineUrl::Cluster {
            host: host.to_string(),
            port,
        })
    }
}

impl fmt::Display for EngineUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineUrl::Cluster { host, port } => write!(f, "df://{host}:{port}"),
            EngineUrl::Standalone => f.write_str("standalone"),
        }
    }
}

/// The session state for the configured engine URL: `state` itself with no URL, else `state`
/// turned into a Ballista client of that cluster.
pub fn for_url(state: SessionState, url: Option<&str>) -> Result<SessionState> {
    let Some(text) = url else {
        return Ok(state);
    };
    let url: EngineUrl = text
        .parse()
        .map_err(|e| Error::Usage(format!("--engine: {e}")))?;
    connect(state, &url)
}

#[cfg(feature = "distributed")]
fn connect(state: SessionState, url: &EngineUrl) -> Result<SessionState> {
    match url {
        EngineUrl::Cluster { host, port } => {
            crate::distributed::client::connect(state, host, *port)
        }
        EngineUrl::Standalone => Err(Error::Cluster(
            "--engine standalone is started by the crmlens command line; a library caller \
             starts one with `crmlens::distributed::server::start_standalone` and passes the df:// URL \
             it returns"
                .into(),
        )),
    }
}

#[cfg(not(feature = "distributed"))]
fn connect(_state: SessionState, url: &EngineUrl) -> Result<SessionState> {
    Err(not_built(&url.to_string()))
}

/// The error for a cluster engine in a build without the `distributed` feature.
#[cfg(not(feature = "distributed"))]
pub fn not_built(what: &str) -> Error {
    Error::Cluster(format!(
        "{what}: this crmlens was built without the `distributed` feature, so it cannot run on \
         a Ballista cluster; rebuild with `cargo build --release --features distributed`"
    ))
}

/// Built-in views that do not run on a Ballista cluster yet, with why.
const NOT_ON_A_CLUSTER: &[(&str, &str)] = &[(
    "campaign_effectiveness",
    "on Ballista 55 some of its column combinations (e.g. roi with window_complete) start a \
     job that never finishes",
)];

/// Refuses, before anything runs, a cluster plan that reads a view of [`NOT_ON_A_CLUSTER`]:
/// a clear error rather than a job that never ends, and no silent local run either.
pub fn check_plan(plan: &LogicalPlan) -> Result<()> {
    let mut refused = None;
    plan.apply_with_subqueries(|node| {
        // A view is inlined by the SQL planner under an alias of its name.
        let read = match node {
            LogicalPlan::TableScan(scan) => Some(scan.table_name.table()),
            LogicalPlan::SubqueryAlias(alias) => Some(alias.alias.table()),
            _ => None,
        };
        if let Some(read) = read
            && let Some(entry) = NOT_ON_A_CLUSTER.iter().find(|(name, _)| read == *name)
        {
            refused = Some(*entry);
            return Ok(TreeNodeRecursion::Stop);
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    match refused {
        Some((name, why)) => Err(Error::NotSupported(format!(
            "`{name}` on a cluster: {why}; run it without --engine (and without `[engine] url`)"
        ))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let cluster = |h: &str, p| EngineUrl::Cluster {
            host: h.into(),
            port: p,
        };
        assert_eq!(
            "df://localhost:50051".parse(),
            Ok(cluster("localhost", 50051))
        );
        assert_eq!("df://10.0.0.7".parse(), Ok(cluster("10.0.0.7", 50050)));
        assert_eq!("df://[::1]:7000/".parse(), Ok(cluster("[::1]", 7000)));
        assert_eq!("standalone".parse(), Ok(EngineUrl::Standalone));
        for bad in [
            "http://x:1",
            "df://",
            "df://:50050",
            "df://h:0",
            "df://h:http",
            "x",
        ] {
            assert!(bad.parse::<EngineUrl>().is_err(), "{bad}");
        }
    }
}
