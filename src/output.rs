//! Writing result tables as CLI.md says: a table for people (with the row count and a notice
//! when rows were cut), CSV or TSV, JSON (one array of row objects; dates `YYYY-MM-DD`,
//! timestamps RFC 3339, numbers as numbers) or Parquet; a file's format and its name agree
//! ([`Format::for_output`]). Files are written atomically: to a temporary file
//! in the target's folder, renamed into place only when everything was written.

use std::fs::File;
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::properties::WriterProperties;
use futures::StreamExt;
use serde::Serialize;

use crate::{Error, Result};

pub mod lock;
pub mod progress;
pub mod text;

/// How a result table is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// Aligned text for people.
    Table,
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON array of row objects (or one object for a single result).
    Json,
    /// A Parquet file (needs --output or a redirected stdout).
    Parquet,
    /// JSON lines: one JSON object per row and line.
    Jsonl,
    /// Tab-separated values with a header row (quoted as CSV where a value holds a tab, a
    /// quote or a line break).
    Tsv,
}

impl Format {
    /// The name of the format, as `--format` takes it.
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Csv => "csv",
            Format::Tsv => "tsv",
            Format::Json => "json",
            Format::Parquet => "parquet",
            Format::Jsonl => "jsonl",
        }
    }

    /// The extension of a file of this format (`txt` for the table).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Table => "txt",
            other => other.name(),
        }
    }

    /// The format a file name's extension names, if it names one.
    fn of_extension(path: &Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "tsv" | "tab" => Some(Format::Tsv),
            "json" => Some(Format::Json),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            "parquet" | "pq" => Some(Format::Parquet),
            _ => None,
        }
    }

    /// The format for stdout when the user gave none: `table` on a terminal, `csv` when piped.
    pub fn resolve(explicit: Option<Format>) -> Format {
        match explicit {
            Some(f) => f,
            None if std::io::stdout().is_terminal() => Format::Table,
            None => Format::Csv,
        }
    }

    /// The format of a result written to `output`: a file's extension and `--format` must
    /// agree, so that a file is what its name says. Without `--format` the extension decides
    /// (`.csv`, `.tsv`, `.json`, `.jsonl`, `.parquet`), and a name whose extension names no
    /// format (`x.txt`, `x`) needs `--format` (`table` for the text a terminal shows). A
    /// device or pipe (`/dev/stdout`) takes the format as stdout does.
    pub fn for_output(explicit: Option<Format>, output: &Path) -> Result<Format> {
        let special = std::fs::metadata(output).is_ok_and(|m| !m.is_file() && !m.is_dir());
        match (explicit, Format::of_extension(output)) {
            (Some(f), Some(named)) if f != named => Err(Error::Usage(format!(
                "--format {} does not match --output {}, whose name says {}: use a .{} file or \
                 --format {}",
                f.name(),
                output.display(),
                named.name(),
                f.extension(),
                named.name()
            ))),
            (Some(f), _) => Ok(f),
            (None, Some(named)) => Ok(named),
            (None, None) if special => Ok(Format::resolve(None)),
            (None, None) => Err(Error::Usage(format!(
                "--output {}: the file name does not say which format to write; name it .csv, \
                 .tsv, .json, .jsonl or .parquet, or give --format (table for the text shown \
                 on a terminal)",
                output.display()
            ))),
        }
    }
}

/// Where and how to write one result.
#[derive(Debug, Clone)]
pub struct OutputOptions {
    pub format: Format,
    /// A file to write atomically; `None` = stdout.
    pub output: Option<PathBuf>,
    /// Rows shown by the table format on stdout before the rest is only counted.
    pub max_rows: usize,
}

impl OutputOptions {
    pub fn stdout(format: Format) -> Self {
        OutputOptions {
            format,
            output: None,
            max_rows: 50,
        }
    }
}

/// A file that appears at its path only when [`AtomicFile::commit`] is called; dropped
/// uncommitted, it leaves no trace. A target that exists and is not a regular file (a device
/// such as `/dev/null` or `/dev/stdout`, a named pipe) is written in place: renaming over it
/// would replace the device with a file.
pub struct AtomicFile {
    target: PathBuf,
    kind: Staging,
}

enum Staging {
    Temp(tempfile::NamedTempFile),
    InPlace(File),
}

impl AtomicFile {
    pub fn create(target: &Path) -> Result<AtomicFile> {
        if let Ok(meta) = std::fs::metadata(target) {
            if meta.is_dir() {
                return Err(Error::Usage(format!(
                    "--output {} is a directory; give a file name",
                    target.display()
                )));
            }
            if !meta.is_file() {
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .open(target)
                    .map_err(|e| Error::io(target, e))?;
                return Ok(AtomicFile {
                    target: target.to_path_buf(),
                    kind: Staging::InPlace(file),
                });
            }
        }
        let dir = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !dir.is_dir() {
            return Err(Error::io(
                target,
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("folder {} does not exist", dir.display()),
                ),
            ));
        }
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        remove_stale_temps(&dir, Some(&name));
        let prefix = format!(".{name}.{}.", std::process::id());
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".tmp");
        // Created as open(2) creates a file, so the umask applies (tempfile's own 0600
        // would make every result private whatever the umask).
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let temp = builder.tempfile_in(&dir).map_err(|e| Error::io(&dir, e))?;
        // A file replaced keeps its permissions, as when a shell redirect rewrites it.
        if let Ok(meta) = std::fs::metadata(target) {
            temp.as_file()
                .set_permissions(meta.permissions())
                .map_err(|e| Error::io(target, e))?;
        }
        Ok(AtomicFile {
            target: target.to_path_buf(),
            kind: Staging::Temp(temp),
        })
    }

    /// A second handle on the file being written, for writers that must own theirs (e.g.
    /// Parquet's `ArrowWriter`); what it writes lands in the file committed by `commit`.
    pub fn handle(&self) -> Result<File> {
        let file = match &self.kind {
            Staging::Temp(t) => t.as_file(),
            Staging::InPlace(f) => f,
        };
        file.try_clone().map_err(|e| Error::io(&self.target, e))
    }

    pub fn file(&mut self) -> &mut File {
        match &mut self.kind {
            Staging::Temp(t) => t.as_file_mut(),
            Staging::InPlace(f) => f,
        }
    }

    /// Flushes to disk and renames into place.
    pub fn commit(self) -> Result<()> {
        if let (Some(temp), target) = self.synced()? {
            temp.persist(&target)
                .map_err(|e| Error::io(&target, e.error))?;
            sync_parent(&target);
        }
        Ok(())
    }

    /// Flushes to disk and keeps the file under its temporary name, for a caller that moves
    /// several files into place in one step (`dataset::commit`); returns (temporary, target).
    pub fn keep(self) -> Result<(PathBuf, PathBuf)> {
        match self.synced()? {
            (Some(temp), target) => {
                let kept = temp
                    .into_temp_path()
                    .keep()
                    .map_err(|e| Error::io(&target, e.error))?;
                Ok((kept, target))
            }
            (None, target) => Err(Error::Usage(format!(
                "{} is not a regular file: a dataset file must be one",
                target.display()
            ))),
        }
    }

    /// The file flushed to disk: the temporary file (None when written in place) and the
    /// target.
    fn synced(self) -> Result<(Option<tempfile::NamedTempFile>, PathBuf)> {
        let target = self.target;
        match self.kind {
            Staging::Temp(temp) => {
                temp.as_file()
                    .sync_all()
                    .map_err(|e| Error::io(&target, e))?;
                Ok((Some(temp), target))
            }
            Staging::InPlace(mut f) => {
                f.flush().map_err(|e| Error::io(&target, e))?;
                Ok((None, target))
            }
        }
    }
}

/// Makes a rename in the parent folder of `path` durable (best effort: some file systems
/// cannot sync a folder).
pub fn sync_parent(path: &Path) {
    if let Some(parent) = path.parent()
        && let Ok(dir) = File::open(if parent.as_os_str().is_empty() {
            Path::new(".")
        } else {
            parent
        })
    {
        let _ = dir.sync_all();
    }
}

/// The pid in the name of a temporary file of [`AtomicFile`], `.NAME.PID.RANDOM.tmp`, when
/// the name is one (and, with `name`, one of that target).
fn temp_file_pid(file_name: &str, name: Option<&str>) -> Option<u32> {
    let rest = file_name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let (head, _random) = rest.rsplit_once('.')?;
    let (stem, pid) = head.rsplit_once('.')?;
    if name.is_some_and(|n| n != stem) {
        return None;
    }
    pid.parse().ok()
}

/// Removes the temporary files of [`AtomicFile`] in `dir` (of the target `name`, or of any)
/// whose process is gone: what a run killed before its commit left behind. A live run's
/// file is never touched.
pub fn remove_stale_temps(dir: &Path, name: Option<&str>) {
    remove_stale(dir, |n| temp_file_pid(n, name));
}

/// A new folder `PREFIX-PID-RANDOM` under `base` (created) for this process's temporary
/// files; the folders of that prefix whose process is gone (killed runs) are removed first.
pub fn process_folder(base: &Path, prefix: &str) -> Result<tempfile::TempDir> {
    std::fs::create_dir_all(base).map_err(|e| Error::io(base, e))?;
    let start = format!("{prefix}-");
    remove_stale(base, |name| {
        name.strip_prefix(&start)?.split('-').next()?.parse().ok()
    });
    tempfile::Builder::new()
        .prefix(&format!("{start}{}-", std::process::id()))
        .tempdir_in(base)
        .map_err(|e| Error::io(base, e))
}

/// Removes the entries of `dir` (files or folders) whose name carries, by `pid_of`, the pid
/// of a process that is gone.
pub fn remove_stale(dir: &Path, pid_of: impl Fn(&str) -> Option<u32>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = pid_of(&name).filter(|p| process_gone(*p)) else {
            continue;
        };
        let path = entry.path();
        let removed = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        match removed {
            Ok(()) => log::info!(
                "removed {}, left by a killed run (pid {pid})",
                path.display()
            ),
            Err(e) => log::warn!(
                "cannot remove {}, left by a killed run: {e}",
                path.display()
            ),
        }
    }
}

/// Whether no process of that pid runs: on Linux with /proc mounted, no `/proc/PID`.
/// Elsewhere nothing is known, and nothing is removed.
fn process_gone(pid: u32) -> bool {
    let proc = Path::new("/proc");
    cfg!(target_os = "linux")
        && pid != std::process::id()
        && proc.join("self").exists()
        && !proc.join(pid.to_string()).exists()
}

/// Writes bytes to a file atomically.
pub fn write_file_atomic(target: &Path, bytes: &[u8]) -> Result<()> {
    let mut file = AtomicFile::create(target)?;
    file.file()
        .write_all(bytes)
        .map_err(|e| Error::io(target, e))?;
    file.commit()
}

/// Runs a DataFrame and writes its rows; returns the number of rows.
pub async fn write_dataframe(
    df: datafusion::dataframe::DataFrame,
    options: &OutputOptions,
) -> Result<u64> {
    let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
    let mut stream = df.execute_stream().await?;
    let mut sink = Sink::open(schema, options)?;
    while let Some(batch) = stream.next().await {
        sink.write(&batch?)?;
    }
    sink.finish()
}

/// Writes already collected batches; returns the number of rows.
pub fn write_batches(
    schema: SchemaRef,
    batches: &[RecordBatch],
    options: &OutputOptions,
) -> Result<u64> {
    let mut sink = Sink::open(schema, options)?;
    for b in batches {
        sink.write(b)?;
    }
    sink.finish()
}

/// Writes one JSON object (a single result such as a run summary), atomically to a file or to
/// stdout.
pub fn write_json_object<T: Serialize>(value: &T, output: Option<&Path>) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value)
        .map_err(|e| Error::Usage(format!("cannot encode JSON: {e}")))?;
    text.push('\n');
    match output {
        Some(path) => write_file_atomic(path, text.as_bytes()),
        None => write_stdout(text.as_bytes()),
    }
}

/// Writes to stdout; a closed pipe surfaces as an I/O error the binary treats as success.
pub fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|_| out.flush())
        .map_err(|e| Error::io("<stdout>", e))
}

enum Dest {
    Stdout(BufWriter<std::io::Stdout>),
    File(Box<AtomicFile>),
}

impl Dest {
    fn writer(&mut self) -> &mut dyn Write {
        match self {
            Dest::Stdout(w) => w,
            Dest::File(f) => f.file(),
        }
    }

    fn name(&self) -> PathBuf {
        match self {
            Dest::Stdout(_) => PathBuf::from("<stdout>"),
            Dest::File(f) => f.target.clone(),
        }
    }

    fn finish(self) -> Result<()> {
        match self {
            Dest::Stdout(mut w) => w.flush().map_err(|e| Error::io("<stdout>", e)),
            Dest::File(f) => f.commit(),
        }
    }
}

enum Writer {
    Table {
        shown: Vec<RecordBatch>,
        limit: Option<usize>,
    },
    Csv {
        header_written: bool,
        delimiter: u8,
    },
    Json {
        first: bool,
    },
    Jsonl,
    Parquet(Box<ArrowWriter<Vec<u8>>>, SchemaRef),
}

struct Sink {
    schema: SchemaRef,
    dest: Dest,
    writer: Writer,
    rows: u64,
}

impl Sink {
    fn open(schema: SchemaRef, options: &OutputOptions) -> Result<Sink> {
        let to_terminal = options.output.is_none() && std::io::stdout().is_terminal();
        if options.format == Format::Parquet && to_terminal {
            return Err(Error::Usage(
                "--format parquet writes binary data: give --output FILE or redirect stdout".into(),
            ));
        }
        let dest = match &options.output {
            Some(path) => Dest::File(Box::new(AtomicFile::create(path)?)),
            None => Dest::Stdout(BufWriter::new(std::io::stdout())),
        };
        let writer = match options.format {
            Format::Table => Writer::Table {
                shown: vec![],
                limit: options.output.is_none().then_some(options.max_rows),
            },
            Format::Csv | Format::Tsv => {
                check_csv_types(&schema)?;
                Writer::Csv {
                    header_written: false,
                    delimiter: if options.format == Format::Tsv {
                        b'\t'
                    } else {
                        b','
                    },
                }
            }
            Format::Json => Writer::Json { first: true },
            Format::Jsonl => Writer::Jsonl,
            Format::Parquet => {
                let props = WriterProperties::builder()
                    .set_compression(Compression::ZSTD(ZstdLevel::default()))
                    .build();
                // Parquet is buffered in memory per row group and streamed out as row groups
                // close, so memory stays bounded by the row group size.
                let plain = plain_schema(&schema);
                Writer::Parquet(
                    Box::new(ArrowWriter::try_new(
                        Vec::new(),
                        plain.clone(),
                        Some(props),
                    )?),
                    plain,
                )
            }
        };
        let mut sink = Sink {
            schema,
            dest,
            writer,
            rows: 0,
        };
        if let Writer::Json { .. } = sink.writer {
            sink.put(b"[")?;
        }
        Ok(sink)
    }

    fn put(&mut self, bytes: &[u8]) -> Result<()> {
        let name = self.dest.name();
        self.dest
            .writer()
            .write_all(bytes)
            .map_err(|e| Error::io(name, e))
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let n = batch.num_rows();
        match &mut self.writer {
            Writer::Table { shown, limit } => {
                let have: usize = shown.iter().map(|b| b.num_rows()).sum();
                let room = limit.map_or(n, |l| l.saturating_sub(have).min(n));
                if room > 0 {
                    shown.push(batch.slice(0, room));
                }
            }
            Writer::Csv {
                header_written,
                delimiter,
            } => {
                let header = !*header_written;
                *header_written = true;
                let mut buf = Vec::new();
                {
                    let mut w = csv_writer(&mut buf, header, *delimiter);
                    w.write(batch)?;
                }
                self.put(&buf)?;
            }
            Writer::Json { first } => {
                // Arrow's JSON lines, framed as one array: a line never holds a raw newline
                // (JSON escapes it inside strings), so each line is one row object.
                let lines = json_lines(batch)?;
                let mut buf = Vec::with_capacity(lines.len() + 2 * n);
                for line in lines.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                    if !*first {
                        buf.push(b',');
                    }
                    *first = false;
                    buf.push(b'\n');
                    buf.extend_from_slice(line);
                }
                self.put(&buf)?;
            }
            Writer::Jsonl => {
                let lines = json_lines(batch)?;
                self.put(&lines)?;
            }
            Writer::Parquet(w, plain) => {
                w.write(&to_plain(batch, plain)?)?;
                let bytes = std::mem::take(w.inner_mut());
                if !bytes.is_empty() {
                    self.put(&bytes)?;
                }
            }
        }
        self.rows += n as u64;
        Ok(())
    }

    fn finish(mut self) -> Result<u64> {
        let rows = self.rows;
        match std::mem::replace(&mut self.writer, Writer::Json { first: true }) {
            Writer::Table { shown, limit } => {
                let rounded = shown.iter().map(round_floats).collect::<Result<Vec<_>>>()?;
                let text =
                    datafusion::arrow::util::pretty::pretty_format_batches(&rounded)?.to_string();
                let shown_rows: usize = shown.iter().map(|b| b.num_rows()).sum();
                let mut out = if shown.is_empty() {
                    header_only(&self.schema)
                } else {
                    text
                };
                out.push('\n');
                let plural = if rows == 1 { "" } else { "s" };
                match limit {
                    Some(_) if (shown_rows as u64) < rows => out.push_str(&format!(
                        "{rows} row{plural} (first {shown_rows} shown; use --max-rows N, --format csv or --output FILE for all)\n"
                    )),
                    _ => out.push_str(&format!("{rows} row{plural}\n")),
                }
                self.put(out.as_bytes())?;
            }
            Writer::Csv {
                header_written,
                delimiter,
            } => {
                if !header_written {
                    let mut buf = Vec::new();
                    csv_writer(&mut buf, true, delimiter)
                        .write(&RecordBatch::new_empty(self.schema.clone()))?;
                    self.put(&buf)?;
                }
            }
            Writer::Json { first } => {
                self.put(if first { b"]\n" } else { b"\n]\n" })?;
            }
            Writer::Jsonl => {}
            Writer::Parquet(w, _) => {
                let bytes = w.into_inner()?;
                self.put(&bytes)?;
            }
        }
        self.dest.finish()?;
        Ok(rows)
    }
}

/// The table format is for reading: floats are shown rounded to 4 decimals (1.3333, 0.6471,
/// 2988136.08). The machine formats keep every digit.
fn round_floats(batch: &RecordBatch) -> Result<RecordBatch> {
    use datafusion::arrow::array::{AsArray, Float64Array};
    use datafusion::arrow::datatypes::Float64Type;
    let columns = batch
        .columns()
        .iter()
        .map(|c| match c.data_type() {
            DataType::Float64 => {
                let rounded: Float64Array = c
                    .as_primitive::<Float64Type>()
                    .iter()
                    .map(|v| {
                        v.map(|x| {
                            if x.is_finite() {
                                (x * 1e4).round() / 1e4
                            } else {
                                x
                            }
                        })
                    })
                    .collect();
                Arc::new(rounded) as ArrayRef
            }
            _ => c.clone(),
        })
        .collect();
    Ok(RecordBatch::try_new(batch.schema(), columns)?)
}

/// DataFusion reads strings as utf8 views; exports hold plain utf8 and binary so that every
/// Parquet reader (older pyarrow, Spark, …) takes them.
fn plain_schema(schema: &SchemaRef) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            let dt = match f.data_type() {
                DataType::Utf8View => DataType::Utf8,
                DataType::BinaryView => DataType::Binary,
                other => other.clone(),
            };
            f.as_ref().clone().with_data_type(dt)
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

fn to_plain(batch: &RecordBatch, plain: &SchemaRef) -> Result<RecordBatch> {
    let columns = batch
        .columns()
        .iter()
        .zip(plain.fields())
        .map(|(c, f)| {
            if c.data_type() == f.data_type() {
                Ok(c.clone())
            } else {
                datafusion::arrow::compute::cast(c, f.data_type())
            }
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(RecordBatch::try_new(plain.clone(), columns)?)
}

fn header_only(schema: &SchemaRef) -> String {
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    let line = names.join(" | ");
    format!("{line}\n{}", "-".repeat(line.chars().count()))
}

fn csv_writer<W: Write>(w: W, header: bool, delimiter: u8) -> datafusion::arrow::csv::Writer<W> {
    datafusion::arrow::csv::WriterBuilder::new()
        .with_header(header)
        .with_delimiter(delimiter)
        .with_date_format("%Y-%m-%d".into())
        .with_datetime_format("%Y-%m-%dT%H:%M:%S%.f".into())
        .with_timestamp_format("%Y-%m-%dT%H:%M:%S%.f".into())
        .with_timestamp_tz_format("%Y-%m-%dT%H:%M:%S%.f%:z".into())
        .build(w)
}

fn check_csv_types(schema: &SchemaRef) -> Result<()> {
    for f in schema.fields() {
        if matches!(
            f.data_type(),
            DataType::List(_)
                | DataType::LargeList(_)
                | DataType::FixedSizeList(..)
                | DataType::Struct(_)
                | DataType::Map(..)
        ) {
            return Err(Error::Usage(format!(
                "column `{}` is {}, which CSV cannot hold; use --format json or parquet",
                f.name(),
                f.data_type()
            )));
        }
    }
    Ok(())
}

/// A batch as JSON lines through arrow-json: numbers as numbers (decimals with every digit,
/// NaN and infinities as null), dates `YYYY-MM-DD`, zoned timestamps RFC 3339 in UTC
/// (`2024-03-31T20:30:00Z`, fractions of a second only when there are any), naive ones as
/// written (`2024-03-31T20:30:00`), nulls written out.
fn json_lines(batch: &RecordBatch) -> Result<Vec<u8>> {
    use datafusion::arrow::json::{WriterBuilder, writer::LineDelimited};
    // A zoned timestamp holds an instant: stating it in UTC (a change of the column's zone
    // only, not of its values) gives one spelling whatever zone the dataset uses.
    let utc: Arc<str> = Arc::from("UTC");
    let mut fields = Vec::with_capacity(batch.num_columns());
    let mut columns = Vec::with_capacity(batch.num_columns());
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        match field.data_type() {
            DataType::Timestamp(unit, Some(_)) => {
                let to = DataType::Timestamp(*unit, Some(utc.clone()));
                columns.push(datafusion::arrow::compute::cast(column, &to)?);
                fields.push(field.as_ref().clone().with_data_type(to));
            }
            _ => {
                columns.push(column.clone());
                fields.push(field.as_ref().clone());
            }
        }
    }
    let batch = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)?;
    let mut buf = Vec::new();
    let mut w = WriterBuilder::new()
        .with_explicit_nulls(true)
        .with_timestamp_format("%Y-%m-%dT%H:%M:%S%.f".to_string())
        .with_timestamp_tz_format("%Y-%m-%dT%H:%M:%S%.fZ".to_string())
        .build::<_, LineDelimited>(&mut buf);
    w.write(&batch)?;
    w.finish()?;
    drop(w);
    Ok(buf)
}

/// A cell as text with Arrow's display rules (dates `YYYY-MM-DD`, decimals with every digit).
pub fn display_cell(array: &ArrayRef, row: usize) -> Result<String> {
    let opts = FormatOptions::default();
    let f = ArrayFormatter::try_new(array.as_ref(), &opts)?;
    Ok(f.value(row).to_string())
}

/// Microseconds since the epoch of a timestamp cell of any unit (the raw value: a naive
/// timestamp's wall-clock time read as UTC).
pub fn timestamp_micros(array: &ArrayRef, unit: TimeUnit, row: usize) -> i64 {
    use datafusion::arrow::datatypes::*;
    match unit {
        TimeUnit::Second => array
            .as_primitive::<TimestampSecondType>()
            .value(row)
            .saturating_mul(1_000_000),
        TimeUnit::Millisecond => array
            .as_primitive::<TimestampMillisecondType>()
            .value(row)
            .saturating_mul(1_000),
        TimeUnit::Microsecond => array.as_primitive::<TimestampMicrosecondType>().value(row),
        TimeUnit::Nanosecond => array.as_primitive::<TimestampNanosecondType>().value(row) / 1_000,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// JSON and JSON lines through arrow-json, against text written by hand: a decimal with
    /// more digits than a float holds, a date, UTC and naive timestamps, a null written out,
    /// a NaN as null, a string with a newline, and two batches framed as one array.
    #[test]
    fn json_keeps_every_digit_and_frames_batches() {
        use datafusion::arrow::array::{
            Date32Array, Decimal128Array, Float64Array, StringArray, TimestampMicrosecondArray,
        };
        let schema = Arc::new(Schema::new(vec![
            Field::new("amount", DataType::Decimal128(38, 10), true),
            Field::new("day", DataType::Date32, true),
            Field::new(
                "at",
                DataType::Timestamp(TimeUnit::Microsecond, Some("+03:00".into())),
                true,
            ),
            Field::new(
                "naive",
                DataType::Timestamp(TimeUnit::Microsecond, None),
                true,
            ),
            Field::new("ratio", DataType::Float64, true),
            Field::new("note", DataType::Utf8, true),
        ]));
        let batch = |amount: i128, note: Option<&str>, ratio: f64| {
            RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(
                        Decimal128Array::from(vec![Some(amount)])
                            .with_precision_and_scale(38, 10)
                            .unwrap(),
                    ),
                    Arc::new(Date32Array::from(vec![19_723])),
                    Arc::new(
                        // 12:00 UTC, in a column zoned +03:00: written as the instant in UTC.
                        TimestampMicrosecondArray::from(vec![1_704_110_400_000_000])
                            .with_timezone("+03:00"),
                    ),
                    Arc::new(TimestampMicrosecondArray::from(vec![1_704_110_400_500_000])),
                    Arc::new(Float64Array::from(vec![ratio])),
                    Arc::new(StringArray::from(vec![note])),
                ],
            )
            .unwrap()
        };
        let batches = [
            batch(12_345_678_901_234_567_890_123, Some("a\nb"), 0.25),
            batch(-5, None, f64::NAN),
        ];
        let dir = tempfile::tempdir().unwrap();
        let write = |format: Format| {
            let path = dir.path().join("out");
            let options = OutputOptions {
                format,
                output: Some(path.clone()),
                max_rows: 10,
            };
            write_batches(schema.clone(), &batches, &options).unwrap();
            std::fs::read_to_string(path).unwrap()
        };
        let first = r#"{"amount":1234567890123.4567890123,"day":"2024-01-01","at":"2024-01-01T12:00:00Z","naive":"2024-01-01T12:00:00.500","ratio":0.25,"note":"a\nb"}"#;
        let second = r#"{"amount":-0.0000000005,"day":"2024-01-01","at":"2024-01-01T12:00:00Z","naive":"2024-01-01T12:00:00.500","ratio":null,"note":null}"#;
        assert_eq!(write(Format::Jsonl), format!("{first}\n{second}\n"));
        assert_eq!(write(Format::Json), format!("[\n{first},\n{second}\n]\n"));
        let empty = OutputOptions {
            format: Format::Json,
            output: Some(dir.path().join("empty")),
            max_rows: 10,
        };
        write_batches(schema.clone(), &[], &empty).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("empty")).unwrap(),
            "[]\n"
        );
    }

    #[test]
    fn atomic_file_replaces_only_on_commit() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.csv");
        std::fs::write(&target, "old").unwrap();
        let mut f = AtomicFile::create(&target).unwrap();
        f.file().write_all(b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "old");
        drop(f);
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "old");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
        let mut f = AtomicFile::create(&target).unwrap();
        f.file().write_all(b"new").unwrap();
        f.commit().unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
    }

    /// A named pipe stands in for devices such as /dev/null or /dev/stdout (testing on the
    /// real /dev/null would break the machine if this regressed).
    #[cfg(unix)]
    #[test]
    fn special_files_are_written_in_place_not_replaced() {
        use std::io::Read;
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let reader_path = fifo.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut text = String::new();
            File::open(reader_path)
                .unwrap()
                .read_to_string(&mut text)
                .unwrap();
            tx.send(text).unwrap();
        });
        let mut f = AtomicFile::create(&fifo).unwrap();
        f.file().write_all(b"through the pipe").unwrap();
        f.commit().unwrap();
        let got = rx.recv_timeout(std::time::Duration::from_secs(20));
        assert_eq!(got.as_deref(), Ok("through the pipe"));
        assert!(std::fs::metadata(&fifo).unwrap().file_type().is_fifo());
        assert!(matches!(
            AtomicFile::create(dir.path()),
            Err(Error::Usage(_))
        ));
    }
}
