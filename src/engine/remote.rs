//! Where queries run: in this process (the default) or on an Apache DataFusion Ballista
//! cluster (`--engine df://HOST:PORT`, `[engine] url`, parsed into
//! [`EngineUrl`](crate::config::EngineUrl) with the configuration). This module turns a local
//! session state into one whose plans go to the cluster; the Ballista side
//! (codecs, scheduler and executor processes) lives in [`crate::distributed`] behind the
//! `distributed` cargo feature. Built without it, asking for a cluster is an error that says
//! how to rebuild, never a silent local run.

use datafusion::execution::session_state::SessionState;

use crate::config::{EngineConfig, EngineUrl};
use crate::{Error, Result};

/// The session state for the configured engine: `state` itself with no URL, else `state`
/// turned into a Ballista client of that cluster.
pub fn for_engine(state: SessionState, engine: &EngineConfig) -> Result<SessionState> {
    match &engine.url {
        None => Ok(state),
        Some(url) => connect(state, url, engine),
    }
}

/// A client of the cluster at `url`, presenting the secret of `CRMLENS_CLUSTER_SECRET` or
/// `[engine] cluster_secret_file`, if any.
#[cfg(feature = "distributed")]
fn connect(state: SessionState, url: &EngineUrl, engine: &EngineConfig) -> Result<SessionState> {
    match url {
        EngineUrl::Cluster { host, port } => {
            use crate::distributed::auth::Secret;
            // The environment first: it is set for one run, the file for every run.
            let secret = match Secret::from_env()? {
                Some(secret) => Some(secret),
                None => engine
                    .cluster_secret_file
                    .as_deref()
                    .map(Secret::from_file)
                    .transpose()?,
            };
            crate::distributed::client::connect(state, host, *port, secret.as_ref())
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
fn connect(_state: SessionState, url: &EngineUrl, _engine: &EngineConfig) -> Result<SessionState> {
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
