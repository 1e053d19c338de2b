//! Writing one table of the dataset contract as Parquet: the contract's Arrow schema, writer
//! settings that make the bytes depend on the data only (Snappy, bounded row groups, no
//! dictionary for columns of distinct values), and the file written through
//! [`AtomicFile`](crate::output::AtomicFile) (a hidden temporary file renamed into place, by
//! itself or with other files in one [`Transaction`]).
//! `crmlens generate` and `crmlens import` both write tables this way.

use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::record_batch::RecordBatch;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::parquet::schema::types::ColumnPath;

use super::commit::Transaction;
use super::schema::table_spec;
use crate::output::AtomicFile;
use crate::{Error, Result};

const ROW_GROUP_ROWS: usize = 131_072;

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
        let (file, path, rows) = self.close()?;
        file.commit()?;
        let bytes = fs::metadata(&path).map_err(|e| Error::io(&path, e))?.len();
        Ok((rows, bytes))
    }

    /// Closes the file and adds it to `tx`, whose commit moves it into place with the
    /// transaction's other files; returns the rows written.
    pub fn stage(self, tx: &mut Transaction) -> Result<u64> {
        let (file, _, rows) = self.close()?;
        tx.add(file)?;
        Ok(rows)
    }

    fn close(self) -> Result<(AtomicFile, PathBuf, u64)> {
        let buffered = self.writer.into_inner()?;
        buffered
            .into_inner()
            .map_err(|e| Error::io(&self.path, e.into_error()))?;
        Ok((self.file, self.path, self.rows))
    }
}

/// Writes a small table as a single file `<out>/<table>.parquet`.
pub fn write_file(out: &Path, table: &str, batch: &RecordBatch) -> Result<(u64, u64)> {
    let mut sink = FileSink::create(out.join(format!("{table}.parquet")), table)?;
    sink.write(batch)?;
    sink.finish()
}
