//! A session whose plans run on a Ballista cluster.

use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use ballista::extension::{SessionConfigExt, SessionStateExt};
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::session_state::SessionState;

use super::auth::Secret;
use super::codec::codecs;
use crate::{Error, Result, functions};

/// How long to wait for the scheduler's port to accept a connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// `state` as a client of the scheduler at `host:port`: the same configuration and functions,
/// with plans sent to the cluster through crmlens's codecs, and `secret` presented to the
/// scheduler and the executors. Fails when nothing listens there, so that a wrong address is
/// reported before any work starts.
pub fn connect(
    state: SessionState,
    host: &str,
    port: u16,
    secret: Option<&Secret>,
) -> Result<SessionState> {
    check_reachable(host, port)?;
    let (logical, physical) = codecs();
    let mut config = state
        .config()
        .clone()
        .with_ballista_logical_extension_codec(logical)
        .with_ballista_physical_extension_codec(physical);
    if let Some(secret) = secret {
        config =
            config.with_ballista_override_create_grpc_client_endpoint(secret.endpoint_override());
    }
    let state = SessionStateBuilder::new_from_existing(state)
        .with_config(config)
        .build();
    let mut state = state.upgrade_for_ballista(format!("http://{host}:{port}"))?;
    // The upgrade replaces the session's function lists with DataFusion's defaults.
    functions::register_all(&mut state)?;
    Ok(state)
}

fn check_reachable(host: &str, port: u16) -> Result<()> {
    let url = format!("df://{host}:{port}");
    let unreachable = |why: String| {
        Error::Cluster(format!(
            "cannot reach the Ballista scheduler at {url}: {why}; start one with `crmlens \
             scheduler --port {port}` (see `crmlens scheduler --help`), or leave out --engine and \
             `[engine] url` to run on this machine"
        ))
    };
    let addrs: Vec<_> = (host.trim_start_matches('[').trim_end_matches(']'), port)
        .to_socket_addrs()
        .map_err(|e| unreachable(format!("cannot resolve {host}: {e}")))?
        .collect();
    let mut last = String::from("no address");
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
            Ok(_) => return Ok(()),
            Err(e) => last = e.to_string(),
        }
    }
    Err(unreachable(last))
}
