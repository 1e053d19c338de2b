//! Evaluating segments in one engine session: `customer_features` and the export columns
//! are computed once and shared by every segment; segments run in dependency order, each
//! one's members becoming `segment.<name>` for those that build on it; each result is
//! written as a dated snapshot with its diff against the previous one. One segment failing
//! does not stop the others; those that need it fail with the reason.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use datafusion::arrow::array::{ArrayRef, AsArray, BooleanArray, RecordBatch};
use datafusion::arrow::compute::{
    cast, concat_batches, filter_record_batch, sort_to_indices, take,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::datasource::MemTable;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::definition::{Definition, Problem, hex, load_dir};
use super::plan::{self, FEATURES, Planned};
use super::snapshot::{MEMBERS, Manifest, Store};
use crate::engine::Engine;
use crate::{Error, Result};

/// The definitions of a folder, parsed, with the problems found so far.
pub struct Catalog {
    pub dir: PathBuf,
    pub planned: BTreeMap<String, Planned>,
    pub problems: Vec<Problem>,
}

impl Catalog {
    /// Reads and parses every definition of a folder (no session needed).
    pub fn load(dir: &std::path::Path) -> Result<Catalog> {
        let (defs, mut problems) = load_dir(dir)?;
        let mut planned = BTreeMap::new();
        for def in defs {
            match plan::parse(&def) {
                Ok(p) => {
                    planned.insert(def.name.clone(), p);
                }
                Err(message) => problems.push(Problem {
                    segment: Some(def.name.clone()),
                    file: def.path.clone(),
                    message,
                }),
            }
        }
        Ok(Catalog {
            dir: dir.to_path_buf(),
            planned,
            problems,
        })
    }

    /// Every segment name of the folder, those with a broken definition included (a run
    /// reports them as failures).
    pub fn all_names(&self) -> Vec<String> {
        let mut all: Vec<String> = self.planned.keys().cloned().collect();
        all.extend(self.problems.iter().filter_map(|p| p.segment.clone()));
        all.sort();
        all.dedup();
        all
    }

    pub fn get(&self, name: &str) -> Result<&Planned> {
        self.planned.get(name).ok_or_else(|| {
            let names = self.planned.keys().map(String::as_str);
            let hint = crate::hint::closest(name, names)
                .map(|c| format!("; did you mean `{c}`?"))
                .unwrap_or_default();
            let broken = self
                .problems
                .iter()
                .find(|p| p.segment.as_deref() == Some(name))
                .map(|p| format!(" (its definition is wrong: {p})"))
                .unwrap_or_default();
            Error::Query(format!(
                "unknown segment `{name}` in {}{broken}{hint}",
                self.dir.display()
            ))
        })
    }

    /// SHA-256 over the definition file and, recursively, the definitions it depends on.
    pub fn definition_hash(&self, name: &str) -> String {
        let mut hasher = Sha256::new();
        let mut seen = HashSet::new();
        self.hash_into(name, &mut hasher, &mut seen);
        hex(&hasher.finalize())
    }

    fn hash_into(&self, name: &str, hasher: &mut Sha256, seen: &mut HashSet<String>) {
        if !seen.insert(name.to_string()) {
            return;
        }
        if let Some(p) = self.planned.get(name) {
            hasher.update(name.as_bytes());
            hasher.update(p.def.text_hash.as_bytes());
            for d in &p.deps {
                self.hash_into(d, hasher, seen);
            }
        }
    }
}

/// Columns a segment can export: those of `customer_features`, then those of `customers`.
pub struct ExportColumns {
    pub features: Vec<String>,
    pub customers: Vec<String>,
}

impl ExportColumns {
    pub async fn of(engine: &Engine) -> Result<ExportColumns> {
        let names = |s: &datafusion::common::DFSchema| {
            s.fields()
                .iter()
                .map(|f| f.name().clone())
                .collect::<Vec<_>>()
        };
        let features = names(
            engine
                .sql(&format!("select * from {FEATURES}"))
                .await?
                .schema(),
        );
        let customers = names(engine.sql("select * from customers").await?.schema());
        Ok(ExportColumns {
            features,
            customers,
        })
    }

    fn check(&self, def: &Definition) -> Vec<Problem> {
        let all: Vec<&str> = self
            .features
            .iter()
            .chain(&self.customers)
            .map(String::as_str)
            .collect();
        if def.default_columns {
            return Vec::new();
        }
        def.columns
            .iter()
            .filter(|c| !all.contains(&c.as_str()) && c.as_str() != "is_control")
            .map(|c| {
                let close = plan::closest_names(c, &all, 3);
                Problem {
                    segment: Some(def.name.clone()),
                    file: def.path.clone(),
                    message: format!(
                        "columns: unknown column `{c}`; export columns come from {FEATURES} \
                         or customers{}",
                        if close.is_empty() {
                            String::new()
                        } else {
                            format!("; closest: {}", quoted(&close))
                        }
                    ),
                }
            })
            .collect()
    }
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|c| format!("`{c}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Checks every definition against the engine's session: SQL plans, dependencies exist and
/// have no cycle, export columns exist. Returns every problem (parse problems included).
pub async fn validate(engine: &Engine, catalog: &Catalog) -> Result<Vec<Problem>> {
    let mut problems = catalog.problems.clone();
    let all: Vec<String> = catalog.planned.keys().cloned().collect();
    let (_, order_problems) = plan::order(&catalog.planned, &all);
    problems.extend(order_problems);
    plan::register_placeholders(engine.context(), all.iter().map(String::as_str))?;
    let columns = ExportColumns::of(engine).await?;
    for p in catalog.planned.values() {
        if let Err(message) = plan::plan(engine.context(), p).await {
            problems.push(Problem {
                segment: Some(p.def.name.clone()),
                file: p.def.path.clone(),
                message,
            });
        }
        problems.extend(columns.check(&p.def));
    }
    problems.sort_by(|a, b| (&a.segment, &a.message).cmp(&(&b.segment, &b.message)));
    problems.dedup();
    Ok(problems)
}

/// Opens the engine for a run. When a segment to evaluate names a column only a CLV model
/// fills (p_alive, clv, …) and `[clv] model_file` is not set, a BG/NBD + Gamma-Gamma model
/// (days) is fitted on the dataset first, so those columns are never silently NULL. Returns
/// the engine and a note on the model for the manifests.
pub async fn open_engine(
    config: &crate::config::Config,
    catalog: &Catalog,
    names: &[String],
) -> Result<(Engine, Option<String>)> {
    let wanted: Vec<String> = names
        .iter()
        .filter(|n| catalog.planned.contains_key(*n))
        .cloned()
        .collect();
    let (order, _) = plan::order(&catalog.planned, &wanted);
    let needs = order.iter().any(|n| catalog.planned[n].needs_model());
    Engine::open_with_model(config, needs).await
}

/// One segment's outcome in a run.
#[derive(Debug, Serialize)]
pub struct Outcome {
    pub name: String,
    pub count: u64,
    pub control: u64,
    pub entered: u64,
    pub exited: u64,
    pub previous_as_of: Option<NaiveDate>,
    pub path: PathBuf,
    pub duration_ms: u64,
}

/// A segment that failed, and why.
#[derive(Debug, Serialize)]
pub struct Failure {
    pub name: String,
    pub file: Option<PathBuf>,
    pub error: String,
}

/// What `segment run` prints.
#[derive(Debug, Serialize)]
pub struct Summary {
    pub as_of: NaiveDate,
    pub out: PathBuf,
    pub ok: usize,
    pub failed: usize,
    pub shared_ms: u64,
    pub duration_ms: u64,
    pub segments: Vec<Outcome>,
    pub failures: Vec<Failure>,
}

/// How a run is done.
pub struct RunOptions {
    /// Segments to snapshot (their dependencies are evaluated too, not written).
    pub names: Vec<String>,
    pub store: Store,
    /// How long to wait for another run's lock.
    pub wait: Duration,
    /// The scope, recorded in the manifests.
    pub scope: Option<String>,
    /// Where the CLV model came from, recorded in the manifests.
    pub clv_model: Option<String>,
}

/// Runs segments; failures are in the summary, errors are for what stops the whole run
/// (the lock, the shared views).
pub async fn run(engine: &Engine, catalog: &Catalog, options: RunOptions) -> Result<Summary> {
    let started = Instant::now();
    let store = &options.store;
    let _lock = store.lock(options.wait)?;
    store.recover()?;
    let as_of = engine.as_of().await?;
    let mut failures: Vec<Failure> = Vec::new();
    for name in &options.names {
        if !catalog.planned.contains_key(name) {
            let file = catalog
                .problems
                .iter()
                .find(|p| p.segment.as_deref() == Some(name.as_str()));
            failures.push(Failure {
                name: name.clone(),
                file: file.map(|p| p.file.clone()),
                error: match file {
                    Some(p) => p.message.clone(),
                    None => catalog
                        .get(name)
                        .err()
                        .map(|e| e.to_string())
                        .unwrap_or_default(),
                },
            });
        }
    }
    let wanted: Vec<String> = options
        .names
        .iter()
        .filter(|n| catalog.planned.contains_key(*n))
        .cloned()
        .collect();
    let (order, problems) = plan::order(&catalog.planned, &wanted);
    let mut broken: HashMap<String, String> = HashMap::new();
    for p in problems {
        if let Some(s) = &p.segment {
            broken.entry(s.clone()).or_insert(p.message.clone());
        }
    }
    let ctx = engine.context();
    plan::register_placeholders(ctx, catalog.planned.keys().map(String::as_str))?;

    // Shared work: customer_features once, and the union of the export columns.
    let shared_start = Instant::now();
    let columns = ExportColumns::of(engine).await?;
    cache_features(engine).await?;
    let base = ExportBase::build(engine, &columns, catalog, &order).await?;
    let shared_ms = shared_start.elapsed().as_millis() as u64;
    log::info!(
        "{FEATURES} and export columns for {} customers in {shared_ms} ms",
        base.batch.num_rows()
    );

    let fingerprint = dataset_fingerprint(engine)?;
    let mut failed: HashMap<String, String> = HashMap::new();
    let mut outcomes = Vec::new();
    let mut queue: Vec<String> = order.clone();
    for name in &wanted {
        if !queue.contains(name) {
            queue.push(name.clone());
        }
    }
    for name in queue {
        let p = &catalog.planned[&name];
        let start = Instant::now();
        let result = match broken.get(&name) {
            Some(why) => Err(Error::Query(why.clone())),
            None => match p.deps.iter().find(|d| failed.contains_key(*d)) {
                Some(d) => Err(Error::Query(format!(
                    "it needs segment `{d}`, which failed"
                ))),
                None => match engine.model_error().filter(|_| p.needs_model()) {
                    Some(why) => Err(Error::Query(format!(
                        "it uses the CLV model's columns (p_alive, clv, …), and {why}"
                    ))),
                    None => evaluate(engine, p, &base).await,
                },
            },
        };
        let members = match result {
            Ok(m) => m,
            Err(e) => {
                log::error!("segment {name}: {e}");
                failed.insert(name.clone(), e.to_string());
                if wanted.contains(&name) {
                    failures.push(Failure {
                        name: name.clone(),
                        file: Some(p.def.path.clone()),
                        error: e.to_string(),
                    });
                }
                continue;
            }
        };
        let ids = members.batch.project(&[0])?;
        plan::register_members(
            ctx,
            &name,
            Arc::new(MemTable::try_new(ids.schema(), vec![vec![ids]])?),
        )?;
        if !wanted.contains(&name) {
            continue;
        }
        match write_snapshot(
            store,
            catalog,
            p,
            members,
            as_of,
            &fingerprint,
            engine,
            &options,
            start,
        ) {
            Ok(o) => {
                log::info!(
                    "segment {name}: {} members (+{} −{}) → {}",
                    o.count,
                    o.entered,
                    o.exited,
                    o.path.display()
                );
                outcomes.push(o);
            }
            Err(e) => {
                log::error!("segment {name}: {e}");
                failures.push(Failure {
                    name: name.clone(),
                    file: Some(p.def.path.clone()),
                    error: e.to_string(),
                });
            }
        }
    }
    failures.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Summary {
        as_of,
        out: store.dir.clone(),
        ok: outcomes.len(),
        failed: failures.len(),
        shared_ms,
        duration_ms: started.elapsed().as_millis() as u64,
        segments: outcomes,
        failures,
    })
}

/// Computes `customer_features` once into a file and reads it from there, so every segment
/// after reads the stored rows ([`Engine::materialize`]).
async fn cache_features(engine: &Engine) -> Result<()> {
    engine.materialize(FEATURES).await
}

/// The number of members of every segment of a catalog, evaluated in one session as a run
/// does but without writing anything (for reports). A segment that cannot be evaluated has
/// its error instead.
pub async fn sizes(
    engine: &Engine,
    catalog: &Catalog,
) -> Result<Vec<(String, std::result::Result<u64, String>)>> {
    let all = catalog.all_names();
    let (order, problems) = plan::order(&catalog.planned, &all);
    let ctx = engine.context();
    plan::register_placeholders(ctx, catalog.planned.keys().map(String::as_str))?;
    cache_features(engine).await?;
    let customers = engine
        .sql(&format!("select customer_id from {FEATURES}"))
        .await?;
    let mut out: BTreeMap<String, std::result::Result<u64, String>> = BTreeMap::new();
    for p in catalog.problems.iter().chain(&problems) {
        if let Some(s) = &p.segment {
            out.entry(s.clone())
                .or_insert_with(|| Err(p.message.clone()));
        }
    }
    for name in order {
        let p = &catalog.planned[&name];
        if let Some(d) = p.deps.iter().find(|d| matches!(out.get(*d), Some(Err(_)))) {
            out.insert(name, Err(format!("it needs segment `{d}`, which failed")));
            continue;
        }
        if let Some(why) = engine.model_error().filter(|_| p.needs_model()) {
            out.insert(
                name,
                Err(format!(
                    "it uses the CLV model's columns (p_alive, clv, …), and {why}"
                )),
            );
            continue;
        }
        let members = async {
            let df = plan::plan(ctx, p).await.map_err(Error::Query)?;
            let ids = df
                .select_columns(&["customer_id"])?
                .distinct()?
                .join(
                    customers.clone(),
                    datafusion::common::JoinType::LeftSemi,
                    &["customer_id"],
                    &["customer_id"],
                    None,
                )?
                .collect()
                .await?;
            Ok::<_, Error>(ids)
        }
        .await;
        match members {
            Ok(batches) => {
                let count = batches.iter().map(|b| b.num_rows() as u64).sum();
                let schema = batches.first().map(|b| b.schema()).unwrap_or_else(|| {
                    Arc::new(Schema::new(vec![Field::new(
                        "customer_id",
                        DataType::Utf8,
                        true,
                    )]))
                });
                plan::register_members(
                    ctx,
                    &name,
                    Arc::new(MemTable::try_new(schema, vec![batches])?),
                )?;
                out.insert(name, Ok(count));
            }
            Err(e) => {
                out.insert(name, Err(e.to_string()));
            }
        }
    }
    Ok(out.into_iter().collect())
}

/// One row per customer of `customer_features`, sorted by customer_id, with every export
/// column any evaluated segment asks for.
struct ExportBase {
    batch: RecordBatch,
    /// customer_id → row.
    index: HashMap<String, usize>,
}

impl ExportBase {
    async fn build(
        engine: &Engine,
        columns: &ExportColumns,
        catalog: &Catalog,
        order: &[String],
    ) -> Result<ExportBase> {
        let names = order;
        let mut wanted: Vec<String> = vec!["customer_id".into()];
        for name in order {
            for c in &catalog.planned[name].def.columns {
                if !wanted.contains(c) && c != "is_control" {
                    wanted.push(c.clone());
                }
            }
        }
        let mut select = Vec::new();
        for c in &wanted {
            let ident = quote_ident(c);
            if columns.features.contains(c) {
                select.push(format!("f.{ident}"));
            } else if columns.customers.contains(c) {
                select.push(format!("c.{ident}"));
            }
            // Unknown columns fail in `evaluate` for the segment that names them.
        }
        let sql = format!(
            "select {} from {FEATURES} f left join customers c on c.customer_id = f.customer_id",
            select.join(", ")
        );
        let df = engine.sql(&sql).await?;
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        let batches = df.collect().await?;
        let batch = concat_batches(&schema, &batches)?;
        let ids = cast(batch.column(0), &DataType::Utf8)?;
        let order = sort_to_indices(&ids, None, None)?;
        let sorted: Vec<ArrayRef> = batch
            .columns()
            .iter()
            .map(|c| take(c, &order, None))
            .collect::<std::result::Result<_, _>>()?;
        let mut batch = RecordBatch::try_new(schema.clone(), sorted)?;
        // Ids as plain Utf8 in every output file, whatever the dataset stores.
        let ids = cast(batch.column(0), &DataType::Utf8)?;
        if ids.null_count() > 0 {
            return Err(Error::dataset(
                &engine.dataset().root,
                format!(
                    "customers.customer_id has {} NULL value(s): a customer without an id cannot be a segment member (segments of this run: {}); `crmlens validate` lists the rows",
                    ids.null_count(),
                    names.join(", ")
                ),
            ));
        }
        let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
        fields[0] = Field::new("customer_id", DataType::Utf8, false);
        let mut cols = batch.columns().to_vec();
        cols[0] = ids;
        batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)?;
        let strings = batch.column(0).as_string::<i32>();
        let mut index = HashMap::with_capacity(batch.num_rows());
        for (row, id) in strings.iter().enumerate() {
            if let Some(id) = id {
                index.insert(id.to_string(), row);
            }
        }
        Ok(ExportBase { batch, index })
    }
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A segment's members with their export columns and `is_control`, sorted by customer_id.
struct Members {
    batch: RecordBatch,
    null_ids: u64,
    unknown_ids: u64,
    duplicate_ids: u64,
}

async fn evaluate(engine: &Engine, p: &Planned, base: &ExportBase) -> Result<Members> {
    let df = plan::plan(engine.context(), p)
        .await
        .map_err(Error::Query)?;
    let df = df.select_columns(&["customer_id"])?;
    let batches = df
        .collect()
        .await
        .map_err(|e| engine.explain_sql_error(e))?;
    let mut mask = vec![false; base.batch.num_rows()];
    let (mut null_ids, mut unknown_ids, mut duplicate_ids) = (0u64, 0u64, 0u64);
    let mut unknown_examples = Vec::new();
    for b in &batches {
        let ids = cast(b.column(0), &DataType::Utf8)?;
        for id in ids.as_string::<i32>().iter() {
            match id {
                None => null_ids += 1,
                Some(id) => match base.index.get(id) {
                    Some(&row) if mask[row] => duplicate_ids += 1,
                    Some(&row) => mask[row] = true,
                    None => {
                        unknown_ids += 1;
                        if unknown_examples.len() < 5 {
                            unknown_examples.push(id.to_string());
                        }
                    }
                },
            }
        }
    }
    if null_ids > 0 {
        log::warn!(
            "segment {}: {null_ids} row(s) of its query have a NULL customer_id; they are not members",
            p.def.name
        );
    }
    if unknown_ids > 0 {
        log::warn!(
            "segment {}: {unknown_ids} customer_id value(s) are not customers and are not \
             members (e.g. {})",
            p.def.name,
            unknown_examples.join(", ")
        );
    }
    let selected = filter_record_batch(&base.batch, &BooleanArray::from(mask))?;
    let mut fields = Vec::new();
    let mut cols: Vec<ArrayRef> = Vec::new();
    for c in &p.def.columns {
        if c == "is_control"
            || (p.def.default_columns && selected.schema().column_with_name(c).is_none())
        {
            continue;
        }
        let (i, field) = selected.schema().column_with_name(c).map(|(i, f)| (i, f.clone())).ok_or_else(|| {
            Error::Query(format!(
                "columns: unknown column `{c}`; export columns come from {FEATURES} or customers"
            ))
        })?;
        fields.push(field);
        cols.push(selected.column(i).clone());
    }
    let ids = selected.column(0).as_string::<i32>();
    let control: BooleanArray = ids
        .iter()
        .map(|id| Some(id.is_some_and(|id| is_control(&p.def.name, id, p.def.holdout))))
        .collect();
    fields.push(Field::new("is_control", DataType::Boolean, false));
    cols.push(Arc::new(control));
    Ok(Members {
        batch: RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)?,
        null_ids,
        unknown_ids,
        duplicate_ids,
    })
}

#[allow(clippy::too_many_arguments)]
fn write_snapshot(
    store: &Store,
    catalog: &Catalog,
    p: &Planned,
    members: Members,
    as_of: NaiveDate,
    fingerprint: &str,
    engine: &Engine,
    options: &RunOptions,
    start: Instant,
) -> Result<Outcome> {
    let scope = &options.scope;
    let name = &p.def.name;
    let previous = store.snapshots(name)?.into_iter().rfind(|d| *d < as_of);
    let batch = members.batch;
    let schema = batch.schema();
    let current_ids: HashSet<String> = ids_of(&batch).into_iter().collect();
    let (entered, exited, exited_schema) = match previous {
        Some(prev) => {
            let manifest = store.manifest(name, prev)?;
            if &manifest.scope != scope {
                return Err(Error::Query(format!(
                    "the snapshot of {prev} in {} was made with scope {}, this run has scope \
                     {}; write each scope's snapshots to its own --out folder",
                    store.dir.display(),
                    manifest.scope.as_deref().unwrap_or("(none)"),
                    scope.as_deref().unwrap_or("(none)")
                )));
            }
            let (old_schema, old) = store.read(name, prev, MEMBERS)?;
            let old_ids: HashSet<String> = old.iter().flat_map(ids_of).collect();
            let entered = keep(&batch, |id| !old_ids.contains(id))?;
            let exited: Vec<RecordBatch> = old
                .iter()
                .map(|b| keep(b, |id| !current_ids.contains(id)))
                .collect::<Result<_>>()?;
            (entered, exited, old_schema)
        }
        None => (batch.clone(), Vec::new(), schema.clone()),
    };
    let control = batch
        .column(batch.num_columns() - 1)
        .as_boolean()
        .true_count() as u64;
    let manifest = Manifest {
        segment: name.clone(),
        as_of,
        count: batch.num_rows() as u64,
        control,
        holdout: p.def.holdout,
        previous_as_of: previous,
        entered: entered.num_rows() as u64,
        exited: exited.iter().map(|b| b.num_rows() as u64).sum(),
        definition_hash: catalog.definition_hash(name),
        dataset_fingerprint: fingerprint.to_string(),
        dataset: engine.dataset().root.clone(),
        scope: scope.clone(),
        clv_model: options.clv_model.clone().filter(|_| p.needs_model()),
        columns: schema.fields().iter().map(|f| f.name().clone()).collect(),
        null_ids: members.null_ids,
        unknown_ids: members.unknown_ids,
        duplicate_ids: members.duplicate_ids,
        duration_ms: start.elapsed().as_millis() as u64,
        crmlens_version: env!("CARGO_PKG_VERSION").to_string(),
        created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    };
    let path = store.write(
        &manifest,
        schema,
        std::slice::from_ref(&batch),
        std::slice::from_ref(&entered),
        (exited_schema, &exited),
    )?;
    Ok(Outcome {
        name: name.clone(),
        count: manifest.count,
        control: manifest.control,
        entered: manifest.entered,
        exited: manifest.exited,
        previous_as_of: previous,
        path,
        duration_ms: manifest.duration_ms,
    })
}

/// The customer_id values (first column) of a batch.
pub fn ids_of(batch: &RecordBatch) -> Vec<String> {
    let Ok(ids) = cast(batch.column(0), &DataType::Utf8) else {
        return Vec::new();
    };
    ids.as_string::<i32>()
        .iter()
        .flatten()
        .map(str::to_string)
        .collect()
}

/// The rows of a batch whose customer_id (first column) passes `pred`.
pub fn keep(batch: &RecordBatch, pred: impl Fn(&str) -> bool) -> Result<RecordBatch> {
    let ids = cast(batch.column(0), &DataType::Utf8)?;
    let mask: BooleanArray = ids
        .as_string::<i32>()
        .iter()
        .map(|id| Some(id.is_some_and(&pred)))
        .collect();
    Ok(filter_record_batch(batch, &mask)?)
}

/// Whether a member is in the segment's control group: FNV-1a (64-bit) of
/// `segment 0x1F customer_id`, mixed with the SplitMix64 finaliser, read as a number in
/// [0, 1) from its top 53 bits, compared with the holdout share. Stable across runs,
/// machines and versions, so a customer stays in the same group.
pub fn is_control(segment: &str, customer_id: &str, holdout: f64) -> bool {
    if holdout <= 0.0 {
        return false;
    }
    let mut h = fnv1a64(segment.as_bytes(), FNV_OFFSET);
    h = fnv1a64(&[0x1f], h);
    h = fnv1a64(customer_id.as_bytes(), h);
    let u = (splitmix64(h) >> 11) as f64 / (1u64 << 53) as f64;
    u < holdout
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

fn fnv1a64(bytes: &[u8], mut h: u64) -> u64 {
    for b in bytes {
        h ^= *b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn splitmix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// SHA-256 over the dataset's files: relative path, size and modification time of each.
fn dataset_fingerprint(engine: &Engine) -> Result<String> {
    let dataset = engine.dataset();
    let mut hasher = Sha256::new();
    for table in dataset.tables.values() {
        for file in &table.files {
            let meta = std::fs::metadata(file).map_err(|e| Error::io(file, e))?;
            let rel = file.strip_prefix(&dataset.root).unwrap_or(file);
            let mtime = meta
                .modified()
                .ok()
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .map(|d| d.as_nanos())
                .unwrap_or(0);
            hasher.update(format!("{}\0{}\0{mtime}\n", rel.display(), meta.len()).as_bytes());
        }
    }
    Ok(hex(&hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a64_matches_the_published_test_vectors() {
        // From the FNV reference test suite (isthe.com/chongo/tech/comp/fnv).
        assert_eq!(fnv1a64(b"", FNV_OFFSET), 0xcbf29ce484222325);
        assert_eq!(fnv1a64(b"a", FNV_OFFSET), 0xaf63dc4c8601ec8c);
        assert_eq!(fnv1a64(b"foobar", FNV_OFFSET), 0x85944171f73967e8);
    }

    #[test]
    fn holdout_share_is_close_to_the_configured_one_and_stable() {
        let n = 20_000;
        let ids: Vec<String> = (0..n).map(|i| format!("C{i:06}")).collect();
        for share in [0.1, 0.25, 0.5] {
            let control = ids.iter().filter(|id| is_control("vip", id, share)).count();
            // Binomial: 4 standard deviations.
            let sd = (n as f64 * share * (1.0 - share)).sqrt();
            assert!(
                (control as f64 - n as f64 * share).abs() < 4.0 * sd,
                "share {share}: {control} of {n}"
            );
        }
        assert_eq!(
            ids.iter().filter(|id| is_control("vip", id, 0.0)).count(),
            0
        );
        // Another segment draws another group.
        let a: Vec<bool> = ids.iter().map(|id| is_control("a", id, 0.5)).collect();
        let b: Vec<bool> = ids.iter().map(|id| is_control("b", id, 0.5)).collect();
        let same = a.iter().zip(&b).filter(|(x, y)| x == y).count();
        assert!((same as f64 / n as f64 - 0.5).abs() < 0.03, "{same}");
        // A smaller share's group is inside a larger one's.
        assert!(
            ids.iter()
                .all(|id| !is_control("v", id, 0.1) || is_control("v", id, 0.2))
        );
    }
}
