//! Files on disk: preparing the output directory (refusing to overwrite anything that is not
//! a previous `crmlens generate` output), Parquet writer settings that make the bytes depend
//! on the data only. Files are written through `crate::output::AtomicFile` (a hidden temporary
//! file renamed into place).

use std::fs::{self, File};
use std::io::{BufWriter, ErrorKind};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::parquet::schema::types::ColumnPath;

use crate::dataset::schema::{table_spec, tables};
use crate::output::AtomicFile;
use crate::{Error, Result};

/// Written into every output directory; its presence allows a later run to replace it.
pub const MARKER: &str = ".crmlens-generate";
const ROW_GROUP_ROWS: usize = 131_072;

/// Makes `out` an empty directory holding only the marker, or says why it cannot.
pub fn prepare(out: &Path) -> Result<()> {
    match fs::metadata(out) {
        Ok(meta) if !meta.is_dir() => {
            return Err(Error::Usage(format!(
                "--out {}: exists and is not a directory",
                out.display()
            )));
        }
        Ok(_) => clear_previous(out)?,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            fs::create_dir_all(out).map_err(|e| Error::io(out, e))?
        }
        Err(e) => return Err(Error::io(out, e)),
    }
    let marker = out.join(MARKER);
    fs::write(
        &marker,
        "written by `crmlens generate`; another run may replace this directory\n",
    )
    .map_err(|e| Error::io(&marker, e))
}

/// The file an interrupted run's temporary file was for: `.orders.parquet.x7Yz.tmp` (the
/// naming of `AtomicFile`) → `orders.parquet`.
fn temp_target(name: &str) -> Option<&str> {
    let inner = name.strip_prefix('.')?.strip_suffix(".tmp")?;
    inner.rsplit_once('.').map(|(target, _)| target)
}

/// Whether `name` is something a generate run writes at the top of the output directory.
fn ours(name: &str) -> bool {
    let base = temp_target(name).unwrap_or(name);
    let table = base.strip_suffix(".parquet").unwrap_or(base);
    name == MARKER || tables().iter().any(|t| t.name == table)
}

fn clear_previous(out: &Path) -> Result<()> {
    let entries: Vec<PathBuf> = fs::read_dir(out)
        .map_err(|e| Error::io(out, e))?
        .map(|e| e.map(|e| e.path()).map_err(|e| Error::io(out, e)))
        .collect::<Result<_>>()?;
    if entries.is_empty() {
        return Ok(());
    }
    let refuse = |what: String| {
        Error::Usage(format!(
            "--out {}: {what}; refusing to overwrite it (choose an empty or new directory)",
            out.display()
        ))
    };
    if !out.join(MARKER).is_file() {
        return Err(refuse(format!(
            "is not empty and holds no previous `crmlens generate` output (no {MARKER})"
        )));
    }
    for path in &entries {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if !ours(name) {
            return Err(refuse(format!(
                "also holds {name}, which `crmlens generate` did not write"
            )));
        }
        if path.is_dir() {
            for inner in fs::read_dir(path).map_err(|e| Error::io(path, e))? {
                let inner = inner.map_err(|e| Error::io(path, e))?.file_name();
                let inner = inner.to_string_lossy();
                let file = temp_target(&inner).unwrap_or(&inner);
                if !(file.starts_with("part-") && file.ends_with(".parquet")) {
                    return Err(refuse(format!(
                        "{name}/{inner} was not written by `crmlens generate`"
                    )));
                }
            }
        }
    }
    for path in &entries {
        if path.is_dir() {
            fs::remove_dir_all(path).map_err(|e| Error::io(path, e))?;
        } else {
            fs::remove_file(path).map_err(|e| Error::io(path, e))?;
        }
    }
    Ok(())
}

/// Columns whose values are (nearly) all distinct: a dictionary would only cost time.
fn distinct_values(column: &str) -> bool {
    let shared_id = matches!(
        column,
        "manager_id" | "owner_manager_id" | "product_id" | "campaign_id"
    );
    (column.ends_with("_id") && !shared_id)
        || matches!(column, "name" | "email" | "phone" | "properties")
}

/// Writer settings: Snappy, bounded row groups, nothing that depends on time or the run.
fn properties(table: &str) -> WriterProperties {
    let mut b = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS));
    if let Some(spec) = table_spec(table) {
        for c in spec.columns.iter().filter(|c| distinct_values(c.name)) {
            b = b.set_column_dictionary_enabled(ColumnPath::from(c.name), false);
        }
    }
    b.build()
}

/// A Parquet file being written atomically, in place when [`FileSink::finish`] is called.
pub struct FileSink {
    file: AtomicFile,
    path: PathBuf,
    writer: ArrowWriter<BufWriter<File>>,
    rows: u64,
}

impl FileSink {
    pub fn create(path: PathBuf, table: &str) -> Result<Self> {
        let spec =
            table_spec(table).ok_or_else(|| Error::Usage(format!("unknown table {table}")))?;
        let file = AtomicFile::create(&path)?;
        let writer = ArrowWriter::try_new(
            BufWriter::with_capacity(1 << 20, file.handle()?),
            Arc::new(spec.arrow_schema()),
            Some(properties(table)),
        )?;
        Ok(FileSink {
            file,
            path,
            writer,
            rows: 0,
        })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        self.writer.write(batch)?;
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Closes the file and moves it into place; returns (rows, bytes). Dropped unfinished
    /// (an error elsewhere), it leaves nothing behind.
    pub fn finish(self) -> Result<(u64, u64)> {
        let buffered = self.writer.into_inner()?;
        buffered
            .into_inner()
            .map_err(|e| Error::io(&self.path, e.into_error()))?;
        self.file.commit()?;
        let bytes = fs::metadata(&self.path)
            .map_err(|e| Error::io(&self.path, e))?
            .len();
        Ok((self.rows, bytes))
    }
}

/// Writes a small table as a single file `<out>/<table>.parquet`.
pub fn write_file(out: &Path, table: &str, batch: &RecordBatch) -> Result<(u64, u64)> {
    let mut sink = FileSink::create(out.join(format!("{table}.parquet")), table)?;
    sink.write(batch)?;
    sink.finish()
}
