//! The ONE place that builds a DataFusion session from the configuration: memory limit with
//! disk spilling, parallelism, raw `datafusion.*` options, every CRM SQL function, and, with
//! `[engine] url` / `--engine`, plans sent to a Ballista cluster ([`super::remote`]). The
//! cluster's scheduler and executors build their states through the same [`session_state`].

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::execution::SessionStateBuilder;
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::{FairSpillPool, TrackConsumersPool};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::session_state::SessionState;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::config::Config;
use crate::hint::closest;
use crate::{Error, Result, functions};

/// The least number of partitions a plan is split into unless `[engine] target_partitions`
/// says otherwise.
pub const DEFAULT_MIN_PARTITIONS: usize = 16;

/// The share of the machine's memory (physical memory, or the cgroup's limit when lower) that
/// query execution may use when `[engine] memory_limit` is not set. About a third, not all:
/// the pool accounts for the operators' buffers, not for everything the process holds
/// (Parquet decoding, batches between operators, plans, the allocator's slack), which was
/// measured at up to 1.38 times the pool (the 10M-customer nightly's customer_features phase
/// with a pool of half of 23 GiB: 16.3 GB). A third of the memory keeps the whole process
/// under about half of it, leaving the rest to the page cache and other programs.
pub const DEFAULT_MEMORY_SHARE: f64 = 0.35;

/// The memory limit of query execution in bytes: `[engine] memory_limit`, else
/// [`DEFAULT_MEMORY_SHARE`] of the machine's memory (None only when that cannot be read).
pub fn memory_limit(config: &Config) -> Option<usize> {
    match config.engine.memory_limit {
        Some(limit) => Some(limit.bytes()),
        None => machine_memory().map(|b| (b as f64 * DEFAULT_MEMORY_SHARE) as usize),
    }
}

/// Physical memory, or the cgroup's memory limit when that is lower (a container).
pub fn machine_memory() -> Option<u64> {
    let physical = std::fs::read_to_string("/proc/meminfo").ok().and_then(|t| {
        t.lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .map(|kb| kb * 1024)
    });
    let cgroup = [
        "/sys/fs/cgroup/memory.max",
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
    ]
    .iter()
    .filter_map(|p| std::fs::read_to_string(p).ok())
    .filter_map(|t| t.trim().parse::<u64>().ok())
    .min();
    match (physical, cgroup) {
        (Some(p), Some(c)) => Some(p.min(c)),
        (p, c) => p.or(c),
    }
}

/// The session configuration derived from crmlens's configuration.
pub fn session_config(config: &Config) -> Result<SessionConfig> {
    // information_schema lets users run `show tables` / `show columns from orders`.
    let mut session = SessionConfig::new().with_information_schema(true);
    // Default: at least DEFAULT_MIN_PARTITIONS, not one per core. customer_features joins
    // six aggregations over the orders; with DataFusion's one-partition-per-core default on a
    // 2-core machine the branches starve each other in the repartition channels and the
    // query over 1M customers ran for more than 10 minutes; with 16 partitions it takes 18 s
    // (measured in the issue-3 note).
    // Under a memory limit each partition's sorts and merges need their own share, so the
    // default stays at one partition per 8 MB of the limit (still at least one per core).
    let partitions = config.engine.target_partitions.unwrap_or_else(|| {
        let cores = std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(1);
        let by_memory = memory_limit(config).map_or(DEFAULT_MIN_PARTITIONS, |b| b / (8 << 20));
        cores.max(DEFAULT_MIN_PARTITIONS.min(by_memory))
    });
    session = session.with_target_partitions(partitions);
    if let Some(n) = config.engine.batch_size {
        session = session.with_batch_size(n);
    }
    // Naive timestamps in the data are in the dataset's time zone; DataFusion uses this zone
    // for `now()` and for casts between naive and zoned timestamps.
    session
        .options_mut()
        .set("datafusion.execution.time_zone", &config.timezone)
        .map_err(|e| Error::Usage(format!("timezone {:?}: {e}", config.timezone)))?;
    for (key, value) in config.datafusion_options() {
        if let Err(e) = session.options_mut().set(&key, &value) {
            return Err(Error::Config {
                path: config
                    .source
                    .clone()
                    .unwrap_or_else(|| "crmlens.toml".into()),
                message: datafusion_option_error(&session, &key, &value, &e.to_string()),
            });
        }
    }
    Ok(session)
}

fn datafusion_option_error(session: &SessionConfig, key: &str, value: &str, error: &str) -> String {
    let keys: Vec<String> = session
        .options()
        .entries()
        .into_iter()
        .map(|e| e.key)
        .collect();
    if keys.iter().any(|k| k == key) {
        return format!("[datafusion] {key} = {value:?}: {error}");
    }
    let short: Vec<&str> = keys
        .iter()
        .filter_map(|k| k.strip_prefix("datafusion."))
        .collect();
    let wanted = key.strip_prefix("datafusion.").unwrap_or(key);
    match closest(wanted, short.iter().copied()) {
        Some(best) => format!("[datafusion] unknown option `{wanted}`, did you mean `{best}`?"),
        None => format!(
            "[datafusion] unknown option `{wanted}` (see `crmlens sql \"select name from information_schema.df_settings\"` for the valid ones)"
        ),
    }
}

/// The session state: configuration, runtime (memory pool and spill directory) and functions;
/// a client of the Ballista cluster when the configuration names one.
pub fn session_state(config: &Config) -> Result<SessionState> {
    let mut runtime = RuntimeEnvBuilder::new();
    let mut session = session_config(config)?;
    if let Some(bytes) = memory_limit(config) {
        // The whole limit is for query execution (the default limit too: see
        // DEFAULT_MEMORY_SHARE). A fair pool splits it among the operators
        // that can spill (sort, hash aggregate, hash join), so that one partition cannot take
        // everything and leave another's merge phase without room; over their share they
        // spill to disk instead of failing. Error messages name the top consumers.
        let pool = FairSpillPool::new(bytes);
        let tracked =
            TrackConsumersPool::new(pool, NonZeroUsize::new(5).unwrap_or(NonZeroUsize::MIN));
        runtime = runtime.with_memory_pool(Arc::new(tracked));
        // Each sorting partition reserves memory up front to merge its spill files (10 MB by
        // default); under a small limit those reservations alone exhaust the pool and the sort
        // fails instead of spilling. Keep them to a share of the limit unless set explicitly.
        let key = "datafusion.execution.sort_spill_reservation_bytes";
        if !config.datafusion_options().iter().any(|(k, _)| k == key) {
            let partitions = session.target_partitions().max(1);
            let share = bytes / (4 * partitions);
            let current = session.options().execution.sort_spill_reservation_bytes;
            session.options_mut().execution.sort_spill_reservation_bytes = current.min(share);
        }
    }
    let base = config
        .engine
        .spill_dir
        .clone()
        .unwrap_or_else(std::env::temp_dir);
    let disk = DiskManagerMode::Directories(vec![spill_folder(&base)?]);
    runtime = runtime.with_disk_manager_builder(DiskManagerBuilder::default().with_mode(disk));
    let runtime = runtime.build_arc()?;
    let mut state = SessionStateBuilder::new()
        .with_default_features()
        .with_config(session)
        .with_runtime_env(runtime)
        .build();
    functions::register_all(&mut state)?;
    super::remote::for_engine(state, &config.engine)
}

/// This process's spill folders, by base folder.
static SPILL_FOLDERS: std::sync::Mutex<Vec<(PathBuf, PathBuf)>> = std::sync::Mutex::new(Vec::new());

/// The folder this process spills into under `base`: `crmlens-spill-PID-…`, made once per
/// process, so that the spill files of a killed run are removed by the next one
/// ([`crate::output::process_folder`]); DataFusion's own temporary folders inside it carry no
/// pid.
fn spill_folder(base: &Path) -> Result<PathBuf> {
    let mut folders = SPILL_FOLDERS
        .lock()
        .map_err(|e| Error::Internal(format!("spill folders: {e}")))?;
    if let Some((_, folder)) = folders.iter().find(|(b, _)| b == base) {
        return Ok(folder.clone());
    }
    let folder = crate::output::process_folder(base, "crmlens-spill")?.keep();
    folders.push((base.to_path_buf(), folder.clone()));
    Ok(folder)
}

/// Removes this process's spill folders (at the end of a command; sessions still open then
/// would lose their spill files).
pub fn remove_spill_folders() {
    if let Ok(mut folders) = SPILL_FOLDERS.lock() {
        for (_, folder) in folders.drain(..) {
            let _ = std::fs::remove_dir_all(folder);
        }
    }
}

/// A fresh session context with everything registered except the dataset's tables.
pub fn session_context(config: &Config) -> Result<SessionContext> {
    Ok(SessionContext::new_with_state(session_state(config)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::execution::memory_pool::MemoryLimit;

    #[test]
    fn memory_limit_and_spill_directory_are_applied() {
        let spill = tempfile::tempdir().unwrap();
        let mut config = Config::default();
        config.engine.memory_limit = Some("64MB".parse().unwrap());
        config.engine.spill_dir = Some(spill.path().join("spill"));
        config.engine.target_partitions = Some(3);
        let state = session_state(&config).unwrap();
        let runtime = state.runtime_env();
        assert!(
            matches!(runtime.memory_pool.memory_limit(), MemoryLimit::Finite(n) if n == 64 << 20)
        );
        assert!(runtime.disk_manager.tmp_files_enabled());
        let file = runtime.disk_manager.create_tmp_file("test").unwrap();
        let path = file.path().expect("a file-backed spill file").to_path_buf();
        assert!(path.starts_with(spill.path().join("spill")), "{path:?}");
        assert_eq!(state.config().target_partitions(), 3);
    }

    #[test]
    fn without_a_limit_half_the_machine_is_the_budget() {
        let state = session_state(&Config::default()).unwrap();
        let physical: u64 = std::fs::read_to_string("/proc/meminfo")
            .unwrap()
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .unwrap()
            * 1024;
        match state.runtime_env().memory_pool.memory_limit() {
            MemoryLimit::Finite(n) => {
                assert!(
                    n as u64 <= physical / 2 && n as u64 > 0,
                    "{n} of {physical}"
                );
            }
            _ => panic!("expected a finite pool by default"),
        }
    }

    #[test]
    fn a_sort_over_the_limit_spills_instead_of_failing() {
        let spill = tempfile::tempdir().unwrap();
        let mut config = Config::default();
        config.engine.memory_limit = Some("20MB".parse().unwrap());
        config.engine.spill_dir = Some(spill.path().to_path_buf());
        let ctx = session_context(&config).unwrap();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .unwrap();
        // 3M sorted rows (24 MB of values, more with row overhead) through a 20 MB pool.
        let sql = "select value * 7919 % 1000003 as x from generate_series(1, 3000000) order by x";
        let batches = rt
            .block_on(async { ctx.sql(sql).await?.collect().await })
            .unwrap();
        let mut values = Vec::with_capacity(3_000_000);
        for b in &batches {
            let col = b
                .column(0)
                .as_any()
                .downcast_ref::<datafusion::arrow::array::Int64Array>()
                .unwrap();
            values.extend(col.values().iter().copied());
        }
        let mut expected: Vec<i64> = (1..=3_000_000_i64).map(|v| v * 7919 % 1_000_003).collect();
        expected.sort_unstable();
        assert_eq!(values, expected);
    }

    #[test]
    fn unknown_datafusion_option_suggests_the_closest() {
        let mut config = Config::default();
        config
            .datafusion
            .insert("execution.batch_sise".into(), toml::Value::Integer(100));
        let err = session_config(&config).unwrap_err().to_string();
        assert!(
            err.contains("did you mean `execution.batch_size`?"),
            "{err}"
        );
    }
}
