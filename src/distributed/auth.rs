//! The cluster's shared secret: who may talk to a scheduler or an executor.
//!
//! A scheduler or executor bound to anything but loopback refuses to start without a secret
//! ([`check_bind`]). With one, every gRPC request it serves must carry the secret's token
//! ([`Secret::check`], a constant-time comparison); clients and executors add it to every
//! channel Ballista opens ([`Secret::endpoint_override`]).
//!
//! The token travels in the `user-agent` header because that is the one header Ballista 55
//! lets a caller set on *every* channel it opens: its executors' channels to the scheduler
//! and to other executors, and its clients' channels to executors, take only an endpoint
//! override (`tonic::transport::Endpoint`), no interceptor. The token is a digest of the
//! secret, not the secret; without TLS it can still be read off the network and replayed,
//! like any bearer token (see docs/cluster.md).

use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use ballista_core::extension::EndpointOverrideFn;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tonic::{Request, Status};

use crate::{Error, Result};

/// The environment variable holding the secret itself (for clients, schedulers, executors).
pub const SECRET_ENV: &str = "CRMLENS_CLUSTER_SECRET";

/// The shortest secret accepted, in bytes: a guessable secret protects nothing.
const MIN_SECRET_LEN: usize = 16;

/// The product of the `user-agent` that carries the token: `crmlens-cluster/<token>`.
const TOKEN_PRODUCT: &str = "crmlens-cluster/";

/// What a refused request is told (and, through the client, the user).
/// (Defined with the error kinds, the lowest layer, which recognises it in a client's errors.)
pub const REFUSED: &str = crate::error::SECRET_REFUSED;

/// A cluster's shared secret, kept as the token derived from it.
#[derive(Clone)]
pub struct Secret {
    token: Arc<str>,
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    /// The secret from its text; surrounding whitespace (a file's final newline) is not part
    /// of it. `origin` names where it came from, for the error.
    pub fn new(text: &str, origin: &str) -> Result<Secret> {
        let text = text.trim();
        if text.len() < MIN_SECRET_LEN {
            return Err(Error::Usage(format!(
                "{origin}: the cluster secret must be at least {MIN_SECRET_LEN} characters \
                 (e.g. `openssl rand -hex 32`), found {}",
                text.len()
            )));
        }
        let digest = Sha256::new()
            .chain_update(b"crmlens cluster secret v1\0")
            .chain_update(text.as_bytes())
            .finalize();
        let token: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        Ok(Secret {
            token: token.into(),
        })
    }

    /// The secret in `path`.
    pub fn from_file(path: &Path) -> Result<Secret> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Secret::new(&text, &format!("cluster secret file {}", path.display()))
    }

    /// The secret of `file`, else of [`SECRET_ENV`], else none: for a scheduler or executor,
    /// whose `--secret-file` is given for this process.
    pub fn resolve(file: Option<&Path>) -> Result<Option<Secret>> {
        match file {
            Some(path) => Secret::from_file(path).map(Some),
            None => Secret::from_env(),
        }
    }

    /// The secret of [`SECRET_ENV`], if set.
    pub fn from_env() -> Result<Option<Secret>> {
        match std::env::var(SECRET_ENV) {
            Ok(text) => Secret::new(&text, SECRET_ENV).map(Some),
            Err(std::env::VarError::NotPresent) => Ok(None),
            Err(e) => Err(Error::Usage(format!("{SECRET_ENV}: {e}"))),
        }
    }

    /// Adds the token to every request of a channel: Ballista applies this to the endpoints
    /// it connects to.
    pub fn endpoint_override(&self) -> EndpointOverrideFn {
        let user_agent = format!("{TOKEN_PRODUCT}{}", self.token);
        Arc::new(move |endpoint| Ok(endpoint.user_agent(user_agent.clone())?))
    }

    /// A server's check of one request: passes it on when it carries this secret's token.
    pub fn check(&self, request: Request<()>) -> Result<Request<()>, Status> {
        let presented = request
            .metadata()
            .get("user-agent")
            .and_then(|v| v.to_str().ok())
            .into_iter()
            .flat_map(|v| v.split(' '))
            .find_map(|product| product.strip_prefix(TOKEN_PRODUCT));
        match presented {
            Some(token) if bool::from(token.as_bytes().ct_eq(self.token.as_bytes())) => Ok(request),
            _ => {
                let from = remote_address(&request)
                    .map_or_else(|| "an unknown address".to_string(), |a| a.to_string());
                log::warn!("refused a request from {from}: missing or wrong cluster secret");
                Err(Status::unauthenticated(REFUSED))
            }
        }
    }
}

/// A server's check of every request: [`Secret::check`] with a secret, else none (a server
/// bound to loopback, [`check_bind`]).
pub fn interceptor(secret: Option<Secret>) -> impl tonic::service::Interceptor + Clone {
    move |request: Request<()>| match &secret {
        Some(secret) => secret.check(request),
        None => Ok(request),
    }
}

/// Where a request came from: tonic's server records it one way, axum's (the scheduler's)
/// another.
fn remote_address<T>(request: &Request<T>) -> Option<std::net::SocketAddr> {
    request.remote_addr().or_else(|| {
        request
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|info| info.0)
    })
}

/// Refuses to open `bind_host` beyond this machine without a secret: on any other address,
/// whoever reaches the port could run queries over the dataset.
pub fn check_bind(what: &str, bind_host: &str, secret: Option<&Secret>) -> Result<()> {
    let address: IpAddr = bind_host.parse().map_err(|e| {
        Error::Usage(format!(
            "--bind-host {bind_host}: {e} (expected an IP address such as 127.0.0.1)"
        ))
    })?;
    if address.is_loopback() || secret.is_some() {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "--bind-host {bind_host}: a {what} reachable from other machines needs the cluster's \
         shared secret, which clients and executors must then present: --secret-file PATH (a \
         file holding it, e.g. from `openssl rand -hex 32`) or the environment variable \
         {SECRET_ENV}; or bind 127.0.0.1 for this machine only"
    )))
}

/// Whether `error` (as text, the way Ballista passes gRPC errors on) is a refusal of the
/// cluster secret.
pub fn is_refusal(error: &str) -> bool {
    crate::error::is_secret_refusal(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(user_agent: Option<&str>) -> Request<()> {
        let mut r = Request::new(());
        if let Some(ua) = user_agent {
            r.metadata_mut().insert("user-agent", ua.parse().unwrap());
        }
        r
    }

    #[test]
    fn only_the_same_secret_passes() {
        let secret = Secret::new("correct horse battery staple\n", "test").unwrap();
        let other = Secret::new("correct horse battery stapler", "test").unwrap();
        let ua = |s: &Secret| format!("{TOKEN_PRODUCT}{} tonic/0.14.9", s.token);
        assert!(secret.check(request(Some(&ua(&secret)))).is_ok());
        let refused = secret.check(request(Some(&ua(&other)))).unwrap_err();
        assert_eq!(refused.code(), tonic::Code::Unauthenticated);
        assert!(refused.message().contains("cluster secret"));
        assert!(secret.check(request(None)).is_err());
        assert!(secret.check(request(Some("tonic/0.14.9"))).is_err());
        assert!(secret.check(request(Some(TOKEN_PRODUCT))).is_err());
    }

    #[test]
    fn short_secrets_and_open_binds_without_one_are_refused() {
        let e = Secret::new("short", "--secret-file s").unwrap_err();
        assert!(e.to_string().contains("at least 16"), "{e}");
        let e = check_bind("scheduler", "0.0.0.0", None).unwrap_err();
        assert!(e.to_string().contains("--secret-file"), "{e}");
        assert!(check_bind("scheduler", "127.0.0.1", None).is_ok());
        assert!(check_bind("scheduler", "::1", None).is_ok());
        let secret = Secret::new("0123456789abcdef", "test").unwrap();
        assert!(check_bind("scheduler", "0.0.0.0", Some(&secret)).is_ok());
    }
}
