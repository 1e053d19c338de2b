//! What a cluster refuses to run, whoever sends it: a cluster answers queries, it does not
//! write files, and its executors read files only under their data roots.
//!
//! - The scheduler plans every job with [`RefuseWrites`], so a plan that writes (`COPY … TO`,
//!   `INSERT`: a `DataSinkExec`) fails before any task starts.
//! - Every executor checks each task's plan before running it ([`GuardedEngine`]): no sink,
//!   and every file it scans lies under one of its `--data-root` folders (after resolving
//!   symbolic links). Without a data root an executor reads no file at all: what it may read
//!   is said, not guessed. A table the client created with `CREATE EXTERNAL TABLE … LOCATION
//!   '/etc/…'` is refused there, whoever sent the plan.
//!
//! In-memory tables travel inside the plan and shuffle data is read from the executors' work
//! folders over Flight, so neither is a file scan.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ballista_core::JobId;
use ballista_executor::execution_engine::{
    DefaultExecutionEngine, ExecutionEngine, QueryStageExecutor,
};
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::config::ConfigOptions;
use datafusion::datasource::physical_plan::FileScanConfig;
use datafusion::datasource::sink::DataSinkExec;
use datafusion::datasource::source::DataSourceExec;
use datafusion::error::{DataFusionError, Result};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::prelude::SessionConfig;

use crate::Error;

/// What a refusal starts with: the client finds it in the job's error.
pub const REFUSED: &str = "refused by the crmlens cluster";

/// The folders an executor may read files under, resolved (symbolic links followed).
#[derive(Debug, Clone, Default)]
pub struct DataRoots {
    roots: Vec<PathBuf>,
}

impl DataRoots {
    /// The given folders, which must exist.
    pub fn new(folders: &[PathBuf]) -> crate::Result<DataRoots> {
        let roots = folders
            .iter()
            .map(|folder| {
                std::fs::canonicalize(folder)
                    .map_err(|e| Error::Usage(format!("--data-root {}: {e}", folder.display())))
            })
            .collect::<crate::Result<_>>()?;
        Ok(DataRoots { roots })
    }

    /// Whether the file at `path` (absolute) lies under a root. A path that cannot be
    /// resolved is refused: it does not exist here, or it is not ours to look at.
    fn admits(&self, path: &Path) -> bool {
        match std::fs::canonicalize(path) {
            Ok(real) => self.roots.iter().any(|root| real.starts_with(root)),
            Err(_) => false,
        }
    }

    fn describe(&self) -> String {
        match self.roots.as_slice() {
            [] => "this executor has no --data-root, so it reads no file".into(),
            roots => format!(
                "this executor reads files under {} only (--data-root)",
                roots
                    .iter()
                    .map(|r| r.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

fn refuse_sink(plan: &dyn ExecutionPlan) -> Result<()> {
    if plan.is::<DataSinkExec>() {
        return Err(DataFusionError::Plan(format!(
            "{REFUSED}: the query writes ({}); a cluster only answers queries (run COPY, INSERT \
             and CREATE TABLE … AS without --engine)",
            plan.name()
        )));
    }
    Ok(())
}

/// Fails on a plan that writes, or that reads a file outside `roots`.
pub fn check_task(plan: &Arc<dyn ExecutionPlan>, roots: &DataRoots) -> Result<()> {
    plan.apply(|node| {
        refuse_sink(node.as_ref())?;
        if let Some(source) = node.downcast_ref::<DataSourceExec>()
            && let Some(scan) = source.data_source().downcast_ref::<FileScanConfig>()
        {
            let store = scan.object_store_url.as_str();
            for file in scan.file_groups.iter().flat_map(|g| g.iter()) {
                let location = file.object_meta.location.as_ref();
                let admitted = store == "file:///" && roots.admits(&Path::new("/").join(location));
                if !admitted {
                    return Err(DataFusionError::Plan(format!(
                        "{REFUSED}: the query reads {store}{location}, and {}",
                        roots.describe()
                    )));
                }
            }
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    Ok(())
}

/// The scheduler's check of every job's physical plan: [`refuse_sink`] anywhere in it.
#[derive(Debug, Default)]
pub struct RefuseWrites;

impl PhysicalOptimizerRule for RefuseWrites {
    fn optimize(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        _config: &ConfigOptions,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        plan.apply(|node| {
            refuse_sink(node.as_ref())?;
            Ok(TreeNodeRecursion::Continue)
        })?;
        Ok(plan)
    }

    fn name(&self) -> &str {
        "crmlens_refuse_writes"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// Ballista's execution engine behind [`check_task`].
pub struct GuardedEngine {
    inner: DefaultExecutionEngine,
    roots: DataRoots,
}

impl GuardedEngine {
    pub fn new(roots: DataRoots) -> GuardedEngine {
        GuardedEngine {
            inner: DefaultExecutionEngine::new(),
            roots,
        }
    }
}

impl ExecutionEngine for GuardedEngine {
    fn create_query_stage_exec(
        &self,
        job_id: JobId,
        stage_id: usize,
        task_id: usize,
        global_output_partition_ids: Vec<usize>,
        plan: Arc<dyn ExecutionPlan>,
        work_dir: &str,
        config: &SessionConfig,
    ) -> Result<Arc<dyn QueryStageExecutor>> {
        check_task(&plan, &self.roots).inspect_err(|e| {
            log::warn!("job {job_id} stage {stage_id}: {e}");
        })?;
        self.inner.create_query_stage_exec(
            job_id,
            stage_id,
            task_id,
            global_output_partition_ids,
            plan,
            work_dir,
            config,
        )
    }
}
