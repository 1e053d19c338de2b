//! Shared helpers: the binary, the demo dataset, temporary copies.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The committed demo dataset.
pub fn demo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("datasets/demo")
}

/// The `crmlens` binary, run in `dir` so that no stray crmlens.toml is picked up.
pub fn crmlens(dir: &Path) -> Command {
    let mut cmd = Command::cargo_bin("crmlens").expect("binary built");
    cmd.current_dir(dir);
    cmd.env_remove("RUST_BACKTRACE");
    cmd
}

pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// The hand-made dataset `tests/slt/data/NAME` (timestamps UTC instants when `utc`; see
/// `slt::csv_dataset`) in a temporary directory whose crmlens.toml is `toml`: the directory
/// (run crmlens there) and the dataset's path.
pub fn hand_made(name: &str, utc: bool, toml: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempdir();
    let dataset = tmp.path().join(name);
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(crate::slt::csv_dataset(name, &dataset, utc));
    std::fs::write(tmp.path().join("crmlens.toml"), toml).unwrap();
    (tmp, dataset)
}

/// Output of a finished command as text.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Fails unless the command exited with `code` and said `message` on stderr.
    pub fn assert_error(&self, code: i32, message: &str) {
        assert_eq!(self.code, code, "{}", self.stderr);
        assert!(self.stderr.contains(message), "{}", self.stderr);
    }
}

/// Waits for commands started side by side; fails with its stderr unless each succeeded.
pub fn wait_all_ok(children: impl IntoIterator<Item = std::process::Child>) {
    for child in children {
        let out = child.wait_with_output().expect("crmlens runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

pub fn run(cmd: &mut Command) -> Run {
    let out = cmd.output().expect("crmlens runs");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert!(
        !run.stderr.contains("panicked") && !run.stderr.contains("RUST_BACKTRACE"),
        "crmlens panicked: {}",
        run.stderr
    );
    run
}

/// Rows and schema of a Parquet file, read with the parquet crate directly (independent of
/// the engine under test).
pub fn read_parquet(path: &Path) -> Vec<datafusion::arrow::record_batch::RecordBatch> {
    let file = std::fs::File::open(path).unwrap();
    datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

/// Total rows of all Parquet files of a table (file or folder), from the footers.
pub fn parquet_rows(path: &Path) -> i64 {
    use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
    if path.is_dir() {
        let mut n = 0;
        for e in std::fs::read_dir(path).unwrap() {
            n += parquet_rows(&e.unwrap().path());
        }
        return n;
    }
    if path.extension().is_none_or(|e| e != "parquet") {
        return 0;
    }
    let r = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
    r.metadata().file_metadata().num_rows()
}

/// The path of a table in a dataset directory (`<t>.parquet` or `<t>/`).
pub fn table_path(dataset: &Path, table: &str) -> PathBuf {
    let file = dataset.join(format!("{table}.parquet"));
    if file.exists() {
        file
    } else {
        dataset.join(table)
    }
}

/// Runs `crmlens ARGS --dataset datasets/demo --format json` and parses the JSON array it
/// prints; the command must succeed.
pub fn demo_json(args: &[&str]) -> Vec<serde_json::Value> {
    let tmp = tempdir();
    let dataset = demo();
    let r = run(crmlens(tmp.path())
        .args(["--dataset", dataset.to_str().unwrap(), "--format", "json"])
        .args(args));
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}: {}", r.stdout))
}

/// The column names of a JSON row object, in order.
pub fn keys(row: &serde_json::Value) -> Vec<&str> {
    row.as_object()
        .expect("a JSON object")
        .keys()
        .map(String::as_str)
        .collect()
}

/// A copy of the demo dataset without some tables, in a temporary directory.
pub fn demo_without(tables: &[&str]) -> tempfile::TempDir {
    let tmp = tempdir();
    for entry in std::fs::read_dir(demo()).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        if path.is_file() && !tables.contains(&stem.as_str()) {
            std::fs::copy(&path, tmp.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    tmp
}
