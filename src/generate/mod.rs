//! `crmlens generate`: a deterministic generator of a realistic CRM dataset in the canonical
//! layout (every table of `crate::dataset::schema`, as Parquet with the canonical schema).
//!
//! Customers are simulated in blocks on worker threads. Each customer draws from its own
//! random stream derived from (seed, customer index), so the same seed and options give
//! byte-identical files whatever the number of threads. Up to [`SINGLE_FILE_MAX`] customers
//! every table is one file, written in block order; above that the per-customer tables are
//! folders with one part per block, written by the workers themselves. Memory stays bounded:
//! a block's rows are flushed as record batches, never a whole table.
//!
//! Inside (private modules): `names`, `locale` and `phone` (names,
//! e-mails and phone formats per country); `calendar`; `world` (managers, products,
//! campaigns); `customer`, `pipeline` and `engagement` (one customer's life); `affinity`
//! (categories bought together on purpose); `plans`;
//! `tables` (column buffers); `output` (files). Random numbers: `analytics::rng`.

mod affinity;
mod calendar;
mod customer;
mod engagement;
mod life;
mod locale;
// Name lists are laid out as wrapped paragraphs, not one name per line.
#[rustfmt::skip]
mod names;
pub(crate) mod output;
mod phone;
mod pipeline;
mod plans;
use crate::analytics::rng;
mod tables;
mod world;

#[cfg(test)]
mod realism_tests;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::Duration;

use datafusion::arrow::record_batch::RecordBatch;
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::dataset::schema::tables as contract_tables;
use crate::dataset::write::{FileSink, write_file};
use crate::{Error, Result};
use customer::BlockSim;
use tables::PER_CUSTOMER;
use world::World;

/// Up to this many customers every table is a single file.
pub const SINGLE_FILE_MAX: u64 = 250_000;
/// Customers per block: the unit of parallel work and of part files.
const BLOCK: u64 = 8_192;
/// A table's buffered rows are turned into a record batch at this size.
const FLUSH_ROWS: usize = 65_536;
const MAX_CUSTOMERS: u64 = 100_000_000;
const MAX_MONTHS: u32 = 600;

/// What to generate and where.
#[derive(Debug, Clone)]
pub struct GenerateOptions {
    /// Output directory: must be new, empty, or a previous `crmlens generate` output.
    pub out: PathBuf,
    pub customers: u64,
    pub seed: u64,
    /// First day of the period.
    pub start: chrono::NaiveDate,
    /// Length of the period in months; `as_of` is its last day.
    pub months: u32,
    /// Show a progress bar on stderr.
    pub progress: bool,
    /// Worker threads (0 = available parallelism). Does not change the output.
    pub threads: usize,
}

impl Default for GenerateOptions {
    fn default() -> Self {
        GenerateOptions {
            out: PathBuf::from("datasets/demo"),
            customers: 5_000,
            seed: 42,
            start: chrono::NaiveDate::from_ymd_opt(2023, 1, 1).unwrap_or_default(),
            months: 36,
            progress: false,
            threads: default_threads(),
        }
    }
}

fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

/// What was written.
#[derive(Debug, Clone, Serialize)]
pub struct GenerateSummary {
    pub out: PathBuf,
    /// The last day covered (inclusive).
    #[serde(serialize_with = "serialize_date")]
    pub as_of: chrono::NaiveDate,
    /// Rows and bytes on disk per table, in the order of the contract.
    pub tables: Vec<TableSummary>,
}

/// What was written for one table.
#[derive(Debug, Clone, Serialize)]
pub struct TableSummary {
    pub table: String,
    pub rows: u64,
    pub bytes: u64,
}

fn serialize_date<S: serde::Serializer>(
    d: &chrono::NaiveDate,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.collect_str(d)
}

/// Generates the dataset described by `opts`.
pub fn generate(opts: &GenerateOptions) -> Result<GenerateSummary> {
    run(opts, BLOCK, SINGLE_FILE_MAX)
}

/// Rows and bytes per table.
type Stats = BTreeMap<&'static str, (u64, u64)>;

fn add(stats: &mut Stats, table: &'static str, (rows, bytes): (u64, u64)) {
    let e = stats.entry(table).or_insert((0, 0));
    e.0 += rows;
    e.1 += bytes;
}

/// `block` and `single_max` are parameters so tests can exercise many blocks and the split
/// layout on small datasets.
fn run(opts: &GenerateOptions, block: u64, single_max: u64) -> Result<GenerateSummary> {
    if opts.customers == 0 || opts.customers > MAX_CUSTOMERS {
        return Err(Error::Usage(format!(
            "--customers must be between 1 and {MAX_CUSTOMERS}, got {}",
            opts.customers
        )));
    }
    if opts.months == 0 || opts.months > MAX_MONTHS {
        return Err(Error::Usage(format!(
            "--months must be between 1 and {MAX_MONTHS}, got {}",
            opts.months
        )));
    }
    let mut world = World::new(opts.customers, opts.seed, opts.start, opts.months)?;
    output::prepare(&opts.out)?;
    let out = opts.out.as_path();
    let mut stats = Stats::new();
    add(
        &mut stats,
        "managers",
        write_file(out, "managers", &world.managers_batch()?)?,
    );
    add(
        &mut stats,
        "products",
        write_file(out, "products", &world.products_batch()?)?,
    );
    add(
        &mut stats,
        "campaigns",
        write_file(out, "campaigns", &world.campaigns_batch()?)?,
    );

    let split = opts.customers > single_max;
    if split {
        for t in PER_CUSTOMER {
            let dir = out.join(t);
            std::fs::create_dir_all(&dir).map_err(|e| Error::io(&dir, e))?;
        }
    }
    let progress = if opts.progress {
        ProgressBar::new(opts.customers)
    } else {
        ProgressBar::hidden()
    };
    if let Ok(style) = ProgressStyle::with_template(
        "{msg} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} customers (eta {eta})",
    ) {
        progress.set_style(style);
    }
    progress.set_message("generating");
    let threads = if opts.threads == 0 {
        default_threads()
    } else {
        opts.threads
    };
    let job = Job {
        world: &world,
        out,
        customers: opts.customers,
        block,
        split,
        progress: &progress,
    };
    let actual = job.run(threads.max(1), &mut stats)?;
    add(
        &mut stats,
        "plans",
        write_file(out, "plans", &plans::plans_batch(&world, &actual)?)?,
    );
    progress.finish_and_clear();

    let tables = contract_tables()
        .iter()
        .map(|t| {
            let (rows, bytes) = stats.get(t.name).copied().unwrap_or((0, 0));
            TableSummary {
                table: t.name.to_string(),
                rows,
                bytes,
            }
        })
        .collect();
    Ok(GenerateSummary {
        out: opts.out.clone(),
        as_of: world.cal.as_of,
        tables,
    })
}

/// One generate run over the customer blocks.
struct Job<'a> {
    world: &'a World,
    out: &'a Path,
    customers: u64,
    block: u64,
    split: bool,
    progress: &'a ProgressBar,
}

/// Shared between the workers: the next block to take, how far the ordered writer got, and
/// the first error (which stops everyone).
struct Shared {
    next: AtomicU64,
    written: AtomicU64,
    abort: AtomicBool,
    error: Mutex<Option<Error>>,
}

impl Shared {
    fn fail(&self, e: Error) {
        self.abort.store(true, Ordering::SeqCst);
        if let Ok(mut slot) = self.error.lock() {
            slot.get_or_insert(e);
        }
    }
}

/// A finished block for the ordered writer: (block index, batches as (table index, batch)).
type Finished = (u64, Vec<(usize, RecordBatch)>);

/// What one worker hands back: sales credited to managers, rows and bytes per table.
type WorkerResult = (Vec<i64>, Stats);

impl Job<'_> {
    fn blocks(&self) -> u64 {
        self.customers.div_ceil(self.block)
    }

    /// Runs all blocks; returns the summed plan-vs-actual array.
    fn run(&self, threads: usize, stats: &mut Stats) -> Result<Vec<i64>> {
        let threads = threads.min(self.blocks() as usize).max(1);
        let shared = Shared {
            next: AtomicU64::new(0),
            written: AtomicU64::new(0),
            abort: AtomicBool::new(false),
            error: Mutex::new(None),
        };
        let (tx, rx) = mpsc::sync_channel::<Finished>(threads);
        let results: Vec<Option<WorkerResult>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    let tx = tx.clone();
                    let shared = &shared;
                    scope.spawn(move || self.worker(shared, &tx))
                })
                .collect();
            drop(tx);
            if !self.split {
                match self.ordered_writer(rx, &shared) {
                    Ok(s) => s.into_iter().for_each(|(t, v)| add(stats, t, v)),
                    Err(e) => shared.fail(e),
                }
            } else {
                drop(rx);
            }
            handles
                .into_iter()
                .map(|h| h.join().ok().flatten())
                .collect()
        });
        if let Some(e) = shared.error.lock().ok().and_then(|mut e| e.take()) {
            return Err(e);
        }
        let mut actual = vec![0i64; self.world.actual_len()];
        for r in results {
            let Some((a, s)) = r else {
                return Err(Error::io(
                    self.out,
                    std::io::Error::other("a generator thread stopped unexpectedly"),
                ));
            };
            actual.iter_mut().zip(a).for_each(|(x, y)| *x += y);
            s.into_iter().for_each(|(t, v)| add(stats, t, v));
        }
        Ok(actual)
    }

    fn worker(&self, shared: &Shared, tx: &mpsc::SyncSender<Finished>) -> Option<WorkerResult> {
        let mut sim = BlockSim::new(self.world);
        let mut stats = Stats::new();
        let window = 2 * self.blocks().min(64) + 2;
        loop {
            if shared.abort.load(Ordering::SeqCst) {
                break;
            }
            let b = shared.next.fetch_add(1, Ordering::SeqCst);
            if b >= self.blocks() {
                break;
            }
            // Do not run far ahead of the ordered writer: finished blocks wait in memory.
            while !self.split
                && b >= shared.written.load(Ordering::SeqCst) + window
                && !shared.abort.load(Ordering::SeqCst)
            {
                std::thread::sleep(Duration::from_millis(2));
            }
            match self.block(&mut sim, b, &mut stats) {
                Ok(None) => {}
                Ok(Some(batches)) => {
                    if tx.send((b, batches)).is_err() {
                        break; // the writer stopped; it has recorded why
                    }
                }
                Err(e) => {
                    shared.fail(e);
                    break;
                }
            }
        }
        Some((sim.actual, stats))
    }

    /// Simulates block `b`. Split layout: writes its part files and returns `None`; single
    /// files: returns the batches for the ordered writer.
    fn block(
        &self,
        sim: &mut BlockSim,
        b: u64,
        stats: &mut Stats,
    ) -> Result<Option<Vec<(usize, RecordBatch)>>> {
        let (lo, hi) = (b * self.block, ((b + 1) * self.block).min(self.customers));
        sim.start_block();
        let mut sinks = Vec::new();
        if self.split {
            for t in PER_CUSTOMER {
                sinks.push(FileSink::create(
                    self.out.join(t).join(format!("part-{b:05}.parquet")),
                    t,
                )?);
            }
        }
        let mut batches = Vec::new();
        for i in lo..hi {
            sim.customer(i)?;
            if (i - lo) % 64 == 63 {
                sim.t.drain(FLUSH_ROWS, &mut batches)?;
                self.spill(&mut sinks, &mut batches)?;
            }
        }
        sim.t.drain(0, &mut batches)?;
        self.spill(&mut sinks, &mut batches)?;
        self.progress.inc(hi - lo);
        if !self.split {
            return Ok(Some(batches));
        }
        for (sink, t) in sinks.into_iter().zip(PER_CUSTOMER) {
            add(stats, t, sink.finish()?);
        }
        Ok(None)
    }

    /// Split layout: batches go straight into the block's part files.
    fn spill(&self, sinks: &mut [FileSink], batches: &mut Vec<(usize, RecordBatch)>) -> Result<()> {
        if self.split {
            for (i, batch) in batches.drain(..) {
                if let Some(sink) = sinks.get_mut(i) {
                    sink.write(&batch)?;
                }
            }
        }
        Ok(())
    }

    /// Single-file layout: writes finished blocks in block order, whatever order they arrive in.
    fn ordered_writer(&self, rx: mpsc::Receiver<Finished>, shared: &Shared) -> Result<Stats> {
        let mut sinks = Vec::new();
        for t in PER_CUSTOMER {
            sinks.push(FileSink::create(self.out.join(format!("{t}.parquet")), t)?);
        }
        let mut pending = BTreeMap::new();
        let mut next = 0u64;
        for (b, batches) in rx.iter() {
            pending.insert(b, batches);
            while let Some(batches) = pending.remove(&next) {
                for (i, batch) in batches {
                    if let Some(sink) = sinks.get_mut(i) {
                        sink.write(&batch)?;
                    }
                }
                next += 1;
                shared.written.store(next, Ordering::SeqCst);
            }
        }
        let mut stats = Stats::new();
        if next < self.blocks() {
            return Ok(stats); // a worker failed and recorded the error; the files are dropped
        }
        for (sink, t) in sinks.into_iter().zip(PER_CUSTOMER) {
            add(&mut stats, t, sink.finish()?);
        }
        Ok(stats)
    }
}
