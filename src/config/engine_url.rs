//! `--engine` / `[engine] url`: where queries run, as a typed value parsed once where the
//! configuration and the command line are read. [`crate::engine::remote`] connects to it.

use std::fmt;
use std::str::FromStr;

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

impl EngineUrl {
    /// A scheduler address given as `HOST:PORT` (an executor's `--scheduler`).
    pub fn scheduler_address(text: &str) -> Option<(String, u16)> {
        match format!("df://{text}").parse() {
            Ok(EngineUrl::Cluster { host, port }) => Some((host, port)),
            _ => None,
        }
    }
}

impl serde::Serialize for EngineUrl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
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
