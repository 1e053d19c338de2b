//! The ONE place that builds a DataFusion session from the configuration: memory limit with
//! disk spilling, parallelism, raw `datafusion.*` options, and every CRM SQL function. A
//! distributed executor later builds its state through the same [`session_state`].

use datafusion::execution::SessionStateBuilder;
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::session_state::SessionState;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::config::{Config, closest, parse_size};
use crate::{Error, Result, functions};

/// The session configuration derived from crmlens's configuration.
pub fn session_config(config: &Config) -> Result<SessionConfig> {
    // information_schema lets users run `show tables` / `show columns from orders`.
    let mut session = SessionConfig::new().with_information_schema(true);
    if let Some(n) = config.engine.target_partitions {
        session = session.with_target_partitions(n);
    }
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

/// The session state: configuration, runtime (memory pool and spill directory) and functions.
pub fn session_state(config: &Config) -> Result<SessionState> {
    let mut runtime = RuntimeEnvBuilder::new();
    if let Some(limit) = &config.engine.memory_limit {
        let bytes =
            parse_size(limit).map_err(|e| Error::Usage(format!("engine.memory_limit: {e}")))?;
        // The whole limit is for query execution; operators that can spill (sort, hash
        // aggregate, hash join) do so instead of failing when they reach it.
        runtime = runtime.with_memory_limit(bytes, 1.0);
    }
    let disk = match &config.engine.spill_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
            DiskManagerMode::Directories(vec![dir.clone()])
        }
        None => DiskManagerMode::OsTmpDirectory,
    };
    runtime = runtime.with_disk_manager_builder(DiskManagerBuilder::default().with_mode(disk));
    let runtime = runtime.build_arc()?;
    let mut state = SessionStateBuilder::new()
        .with_default_features()
        .with_config(session_config(config)?)
        .with_runtime_env(runtime)
        .build();
    functions::register_all(&mut state)?;
    Ok(state)
}

/// A fresh session context with everything registered except the dataset's tables.
pub fn session_context(config: &Config) -> Result<SessionContext> {
    Ok(SessionContext::new_with_state(session_state(config)?))
}

/// The number of partitions a session plans with (for messages and benchmarks).
pub fn target_partitions(ctx: &SessionContext) -> usize {
    ctx.state().config().target_partitions()
}
