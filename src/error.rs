//! The library's one error type. Every variant says what was at fault and what was expected,
//! and maps to one of the exit codes of the CLI contract (`exit_code`).

use std::path::PathBuf;

use datafusion::error::DataFusionError;

/// Result with the crmlens [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in crmlens.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The configuration file or a command-line option is wrong (exit code 2).
    #[error("{0}")]
    Usage(String),

    /// The configuration file could not be read or parsed (exit code 2).
    #[error("configuration {path}: {message}")]
    Config { path: PathBuf, message: String },

    /// The dataset does not meet the contract (missing table, wrong column type, …) (exit code 1).
    #[error("dataset {path}: {message}")]
    Dataset { path: PathBuf, message: String },

    /// A query or a definition is wrong: SQL syntax, unknown column or table (exit code 1).
    #[error("{0}")]
    Query(String),

    /// An error from the DataFusion engine while running a query.
    #[error(transparent)]
    DataFusion(DataFusionError),

    /// An error from Arrow (exit code 3 unless it is about the data).
    #[error(transparent)]
    Arrow(#[from] datafusion::arrow::error::ArrowError),

    /// An error from the Parquet reader or writer.
    #[error(transparent)]
    Parquet(#[from] datafusion::parquet::errors::ParquetError),

    /// Reading or writing a file failed (exit code 3).
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A chart or report could not be drawn or written (exit code 3).
    #[error("report: {0}")]
    Report(String),

    /// The Ballista cluster cannot run this: crmlens was built without the `distributed`
    /// feature, the scheduler cannot be reached, or a plan holds something that cannot be
    /// sent to the executors (exit code 2).
    #[error("{0}")]
    Cluster(String),

    /// A feature that is planned but not built yet (exit code 2).
    #[error("not yet supported: {0}")]
    NotSupported(String),

    /// crmlens itself failed: a state that should not happen, a value it wrote and cannot
    /// serialise (exit code 3: not the user's query, not the data).
    #[error("internal error: {0}")]
    Internal(String),

    /// Another error, with what was being done when it happened (a query file, a segment);
    /// the exit code is the inner error's.
    #[error("{context}: {source}")]
    In {
        context: String,
        #[source]
        source: Box<Error>,
    },
}

impl Error {
    /// Shorthand for an I/O error that names its file.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// Shorthand for a dataset error.
    pub fn dataset(path: impl Into<PathBuf>, message: impl Into<String>) -> Self {
        Error::Dataset {
            path: path.into(),
            message: message.into(),
        }
    }

    /// This error with what was being done when it happened, keeping its kind and exit code.
    pub fn context(self, context: impl Into<String>) -> Self {
        Error::In {
            context: context.into(),
            source: Box::new(self),
        }
    }

    /// The exit code of the CLI contract: 1 data or definition wrong, 2 usage, 3 internal or I/O.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(_) | Error::Config { .. } | Error::NotSupported(_) | Error::Cluster(_) => {
                2
            }
            Error::Dataset { .. } | Error::Query(_) => 1,
            Error::Parquet(_) => 1,
            Error::Io { .. } | Error::Report(_) | Error::Internal(_) => 3,
            Error::In { source, .. } => source.exit_code(),
            Error::Arrow(e) => arrow_exit_code(e),
            Error::DataFusion(e) => datafusion_exit_code(e),
        }
    }
}

fn datafusion_exit_code(e: &DataFusionError) -> u8 {
    match e.find_root() {
        DataFusionError::SQL(..)
        | DataFusionError::Plan(_)
        | DataFusionError::SchemaError(..)
        | DataFusionError::NotImplemented(_)
        | DataFusionError::Execution(_)
        | DataFusionError::ParquetError(_) => 1,
        DataFusionError::Context(_, inner) => datafusion_exit_code(inner),
        DataFusionError::ArrowError(e, _) => arrow_exit_code(e),
        _ => 3,
    }
}

/// Errors about values (a cast that fails, a division by zero) are the data's or the query's
/// fault; the rest of Arrow's errors are internal.
fn arrow_exit_code(e: &datafusion::arrow::error::ArrowError) -> u8 {
    use datafusion::arrow::error::ArrowError::*;
    match e {
        CastError(_)
        | ParseError(_)
        | ComputeError(_)
        | DivideByZero
        | ArithmeticOverflow(_)
        | InvalidArgumentError(_)
        | SchemaError(_) => 1,
        _ => 3,
    }
}

impl From<DataFusionError> for Error {
    /// A DataFusion error, or the cluster's refusal of a table that cannot be sent in a plan:
    /// Ballista reports that as an internal error with the codec's message inside. A planning
    /// error raised inside an optimizer rule (a SQL function refusing a constant argument
    /// while DataFusion simplifies the call, such as an unknown `window_funnel` mode) is the
    /// query's fault and keeps only its own message: the rule's name would lead it.
    fn from(e: DataFusionError) -> Self {
        #[cfg(feature = "distributed")]
        {
            let text = e.to_string();
            if let Some(message) = unsendable_table(&text) {
                return Error::Cluster(message);
            }
            if is_secret_refusal(&text) {
                return Error::Cluster(format!("the cluster {SECRET_REFUSED}"));
            }
            if text.contains(EXECUTORS_LOST) {
                return Error::Cluster(format!(
                    "the cluster lost the executors running the query (none asked the scheduler \
                     for work within its --executor-timeout): start an executor and run the \
                     command again ({text})"
                ));
            }
        }
        if let DataFusionError::Context(what, inner) = &e
            && what.starts_with("Optimizer rule ")
            && let DataFusionError::Plan(message) = inner.find_root()
        {
            return Error::Query(message.clone());
        }
        if matches!(e.find_root(), DataFusionError::ResourcesExhausted(_)) {
            return Error::DataFusion(e).context(MEMORY_HINT);
        }
        if let DataFusionError::Execution(message) = e.find_root()
            && message.contains("converted value exceeds the representable i64 range")
        {
            return Error::DataFusion(e).context(DATE_RANGE_HINT);
        }
        Error::DataFusion(e)
    }
}

/// What a query that ran out of its memory pool is told (the operators that can spill did;
/// one that cannot needs more memory).
pub const MEMORY_HINT: &str = "the query needs more memory than the engine may use: raise \
     `[engine] memory_limit` in crmlens.toml (`[engine] spill_dir` on a disk with room lets \
     sorts and aggregations spill)";

/// What a query that met a date its nanosecond timestamps cannot hold is told (a year 1 in
/// the data: DataFusion turns dates into nanosecond timestamps, which span 1677 to 2262).
pub const DATE_RANGE_HINT: &str = "a date in the data is outside the dates crmlens computes \
     with (1900-01-01 to 2199-12-31): `crmlens validate` names the table and column \
     (timestamp_out_of_range)";

impl From<Error> for DataFusionError {
    fn from(e: Error) -> Self {
        match e {
            Error::DataFusion(e) => e,
            other => DataFusionError::External(Box::new(other)),
        }
    }
}

/// What a scheduler or executor with a cluster secret tells a request without it
/// (`distributed::auth`).
#[cfg(feature = "distributed")]
pub const SECRET_REFUSED: &str = "refused by the crmlens cluster: missing or wrong cluster secret \
     (clients: CRMLENS_CLUSTER_SECRET or `[engine] cluster_secret_file`; executors: \
     --secret-file or CRMLENS_CLUSTER_SECRET; the same secret as the scheduler's)";

/// Whether an error is a cluster's refusal for want of the secret.
#[cfg(feature = "distributed")]
pub fn is_secret_refusal(error: &str) -> bool {
    error.contains("missing or wrong cluster secret")
}

/// What Ballista's scheduler says of a job whose executors all died.
#[cfg(feature = "distributed")]
const EXECUTORS_LOST: &str = "all executors were lost";

/// What the logical codec says of a table it cannot send, after the table's name.
#[cfg(feature = "distributed")]
pub const UNSENDABLE: &str = "cannot be sent to a Ballista cluster: only the dataset's Parquet \
     tables, files registered with CREATE EXTERNAL TABLE, views and in-memory tables can";

/// The codec's message about a table it could not send, found in the text of an error
/// (Ballista wraps it, as text, in an internal error about serialising the plan: there is no
/// typed error to match).
#[cfg(feature = "distributed")]
pub fn unsendable_table(error: &str) -> Option<String> {
    let end = error.find(UNSENDABLE)? + UNSENDABLE.len();
    let start = error[..end].rfind("table `")?;
    Some(error[start..end].to_string())
}
