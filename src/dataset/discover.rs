//! Finding a dataset's tables on disk: `<table>.parquet` or a folder `<table>/` of Parquet files,
//! optionally hive-partitioned (`orders/year=2024/part-0.parquet`). Only the file system is read
//! here; Parquet footers are read by [`check_parquet_file`] and by the engine.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use datafusion::parquet::file::reader::{FileReader, SerializedFileReader};
use serde::Serialize;

use super::schema::tables;
use crate::{Error, Result};

/// Where one table's data lives.
#[derive(Debug, Clone, Serialize)]
pub struct TableSource {
    /// Table name (the file or folder name without `.parquet`).
    pub name: String,
    /// `<table>.parquet` or the `<table>/` folder.
    pub path: PathBuf,
    /// Every Parquet file of the table, sorted.
    pub files: Vec<PathBuf>,
    /// Hive partition columns, outermost first (empty for a single file or a flat folder).
    pub partition_columns: Vec<String>,
    /// Files in the table folder that are not read (not `.parquet`, or hidden).
    pub ignored_files: Vec<PathBuf>,
    /// Whether this is a table of the canonical contract (others are registered as extras).
    pub canonical: bool,
}

/// A dataset directory and the tables found in it.
#[derive(Debug, Clone, Serialize)]
pub struct Dataset {
    pub root: PathBuf,
    /// Tables by name: canonical ones and extra Parquet tables found beside them.
    pub tables: BTreeMap<String, TableSource>,
    /// Entries of the dataset directory that are not tables.
    pub ignored: Vec<PathBuf>,
}

impl Dataset {
    /// Lists the tables of a dataset directory. Fails only when the directory itself is
    /// missing or unreadable, an unfinished import cannot be completed, or a table is
    /// ambiguous; a missing table is for callers to judge.
    pub fn open(root: &Path) -> Result<Dataset> {
        let meta = std::fs::metadata(root).map_err(|e| {
            Error::Usage(format!(
                "dataset directory {} does not exist or cannot be read ({e}); pass --dataset DIR or set `dataset` in crmlens.toml",
                root.display()
            ))
        })?;
        if !meta.is_dir() {
            return Err(Error::Usage(format!(
                "dataset {} is a file, expected a directory holding <table>.parquet files or <table>/ folders",
                root.display()
            )));
        }
        // An import killed while moving its files into place is completed first, so that
        // no table is read from before it and another from after it.
        super::commit::recover(root)?;
        let mut entries: Vec<PathBuf> = std::fs::read_dir(root)
            .map_err(|e| Error::io(root, e))?
            .map(|e| e.map(|e| e.path()).map_err(|err| Error::io(root, err)))
            .collect::<Result<_>>()?;
        entries.sort();

        let mut found: BTreeMap<String, TableSource> = BTreeMap::new();
        let mut ignored = Vec::new();
        for path in entries {
            let file_name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if is_hidden(&file_name) {
                continue;
            }
            let source = if path.is_dir() {
                table_from_dir(&path, &file_name)?
            } else {
                parquet_stem(&file_name).map(|stem| TableSource {
                    name: stem.to_string(),
                    path: path.clone(),
                    files: vec![path.clone()],
                    partition_columns: vec![],
                    ignored_files: vec![],
                    canonical: false,
                })
            };
            let Some(mut source) = source else {
                ignored.push(path);
                continue;
            };
            source.canonical = tables().iter().any(|t| t.name == source.name);
            if let Some(previous) = found.get(&source.name) {
                return Err(Error::dataset(
                    root,
                    format!(
                        "table `{}` is ambiguous: both {} and {} exist; keep one",
                        source.name,
                        previous.path.display(),
                        source.path.display()
                    ),
                ));
            }
            found.insert(source.name.clone(), source);
        }
        Ok(Dataset {
            root: root.to_path_buf(),
            tables: found,
            ignored,
        })
    }

    /// The table of that name, if the dataset has it.
    pub fn table(&self, name: &str) -> Option<&TableSource> {
        self.tables.get(name)
    }

    /// Names of the required canonical tables that are missing.
    pub fn missing_required(&self) -> Vec<&'static str> {
        tables()
            .iter()
            .filter(|t| t.required && !self.tables.contains_key(t.name))
            .map(|t| t.name)
            .collect()
    }
}

fn is_hidden(name: &str) -> bool {
    name.starts_with('.') || name.starts_with('_')
}

fn parquet_stem(file_name: &str) -> Option<&str> {
    let lower = file_name.to_ascii_lowercase();
    lower
        .ends_with(".parquet")
        .then(|| &file_name[..file_name.len() - ".parquet".len()])
        .filter(|s| !s.is_empty())
}

/// A folder is a table when it holds Parquet files (at any depth, for hive partitions).
fn table_from_dir(dir: &Path, name: &str) -> Result<Option<TableSource>> {
    let mut files = Vec::new();
    let mut ignored_files = Vec::new();
    walk(dir, &mut files, &mut ignored_files)?;
    if files.is_empty() {
        return Ok(None);
    }
    files.sort();
    let mut partition_columns: Option<Vec<String>> = None;
    for f in &files {
        let rel = f.strip_prefix(dir).unwrap_or(f);
        let keys: Vec<String> = rel
            .parent()
            .into_iter()
            .flat_map(|p| p.components())
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .map(|segment| match segment.split_once('=') {
                Some((k, _)) if !k.is_empty() => Ok(k.to_string()),
                _ => Err(segment),
            })
            .collect::<std::result::Result<_, _>>()
            .map_err(|segment| {
                Error::dataset(
                    dir,
                    format!(
                        "{}: sub-folder `{segment}` is not a hive partition (expected `column=value`)",
                        f.display()
                    ),
                )
            })?;
        match &partition_columns {
            None => partition_columns = Some(keys),
            Some(expected) if *expected != keys => {
                return Err(Error::dataset(
                    dir,
                    format!(
                        "{}: partition columns [{}] differ from [{}] of the other files in the table",
                        f.display(),
                        keys.join(", "),
                        expected.join(", ")
                    ),
                ));
            }
            Some(_) => {}
        }
    }
    Ok(Some(TableSource {
        name: name.to_string(),
        path: dir.to_path_buf(),
        files,
        partition_columns: partition_columns.unwrap_or_default(),
        ignored_files,
        canonical: false,
    }))
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, ignored: &mut Vec<PathBuf>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if path.is_dir() {
            if !is_hidden(&name) {
                walk(&path, files, ignored)?;
            }
        } else if !is_hidden(&name) && parquet_stem(&name).is_some() {
            files.push(path);
        } else {
            ignored.push(path);
        }
    }
    Ok(())
}

/// Refuses `target` (a place to write results, given with `flag`) when it is inside the
/// dataset folder `root`: a result there would replace a table (`--output data/orders.parquet`)
/// or become one. Symbolic links and `..` are resolved; a dataset folder that does not exist
/// has nothing to protect.
pub fn refuse_inside(root: &Path, target: &Path, flag: &str) -> Result<()> {
    let Ok(root_real) = root.canonicalize() else {
        return Ok(());
    };
    if resolve(target).starts_with(&root_real) {
        return Err(Error::Usage(format!(
            "{flag} {} is inside the dataset {}: results are never written into the dataset's \
             folder, where they would replace or add tables; write them elsewhere",
            target.display(),
            root.display()
        )));
    }
    Ok(())
}

/// The absolute path `path` names: its longest existing part with symbolic links resolved,
/// then the rest.
fn resolve(path: &Path) -> PathBuf {
    let absolute = std::env::current_dir()
        .map(|d| d.join(path))
        .unwrap_or_else(|_| path.to_path_buf());
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    while existing.symlink_metadata().is_err() {
        match (existing.file_name(), existing.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                existing = parent;
            }
            _ => break,
        }
    }
    let mut out = existing
        .canonicalize()
        .unwrap_or_else(|_| existing.to_path_buf());
    out.extend(rest.iter().rev());
    out
}

/// Whether a file looks like Parquet: at least 12 bytes, `PAR1` at its start and its end
/// (cheap enough for every file of every table when a dataset is opened: a zero-byte file
/// would otherwise read as an empty table). Returns its size, or what is wrong.
pub fn check_parquet_marks(path: &Path) -> std::result::Result<u64, String> {
    let mut file = File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let bytes = file.metadata().map(|m| m.len()).unwrap_or(0);
    if bytes < 12 {
        return Err(format!("not a Parquet file: only {bytes} bytes"));
    }
    let (mut head, mut tail) = ([0u8; 4], [0u8; 4]);
    file.read_exact(&mut head)
        .and_then(|_| file.seek(SeekFrom::End(-4)))
        .and_then(|_| file.read_exact(&mut tail))
        .map_err(|e| format!("cannot read: {e}"))?;
    if &head != b"PAR1" {
        return Err("not a Parquet file: it does not start with PAR1".into());
    }
    if &tail != b"PAR1" {
        return Err("not a readable Parquet file (it does not end with PAR1: truncated?)".into());
    }
    Ok(bytes)
}

/// Facts read from one Parquet file's footer.
#[derive(Debug, Clone, Serialize)]
pub struct ParquetFileInfo {
    pub rows: i64,
    pub row_groups: usize,
    pub bytes: u64,
}

/// Reads a Parquet file's footer; the error message says what is wrong with the file
/// (truncated, not Parquet at all, …) so that callers can report it as a finding.
pub fn check_parquet_file(path: &Path) -> std::result::Result<ParquetFileInfo, String> {
    let bytes = check_parquet_marks(path)?;
    let file = File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let reader = SerializedFileReader::new(file)
        .map_err(|e| format!("not a readable Parquet file ({e})"))?;
    let meta = reader.metadata();
    Ok(ParquetFileInfo {
        rows: meta.file_metadata().num_rows(),
        row_groups: meta.num_row_groups(),
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(path: &Path) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, b"").unwrap();
    }

    #[test]
    fn files_folders_partitions_and_extras() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        touch(&root.join("customers.parquet"));
        touch(&root.join("orders/year=2024/month=01/part-0.parquet"));
        touch(&root.join("orders/year=2025/month=02/part-0.parquet"));
        touch(&root.join("orders/_SUCCESS"));
        touch(&root.join("rates.parquet"));
        touch(&root.join("notes.txt"));
        touch(&root.join(".crmlens-generate"));
        let ds = Dataset::open(root).unwrap();
        assert_eq!(
            ds.tables.keys().collect::<Vec<_>>(),
            ["customers", "orders", "rates"]
        );
        let orders = ds.table("orders").unwrap();
        assert_eq!(orders.partition_columns, ["year", "month"]);
        assert_eq!(orders.files.len(), 2);
        assert_eq!(orders.ignored_files, [root.join("orders/_SUCCESS")]);
        assert!(orders.canonical && !ds.table("rates").unwrap().canonical);
        assert_eq!(ds.ignored, [root.join("notes.txt")]);
        assert!(ds.missing_required().is_empty());
    }

    #[test]
    fn ambiguous_and_inconsistent_tables_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        touch(&dir.path().join("orders.parquet"));
        touch(&dir.path().join("orders/part-0.parquet"));
        let err = Dataset::open(dir.path()).unwrap_err().to_string();
        assert!(err.contains("table `orders` is ambiguous"), "{err}");

        let dir = tempfile::tempdir().unwrap();
        touch(&dir.path().join("orders/year=2024/part-0.parquet"));
        touch(&dir.path().join("orders/month=01/part-0.parquet"));
        let err = Dataset::open(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("partition columns [year] differ from [month]"),
            "{err}"
        );

        let dir = tempfile::tempdir().unwrap();
        touch(&dir.path().join("orders/2024/part-0.parquet"));
        let err = Dataset::open(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("sub-folder `2024` is not a hive partition"),
            "{err}"
        );
    }

    #[test]
    fn truncated_footer_is_described() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("x.parquet");
        std::fs::write(&f, b"PAR1 not really").unwrap();
        let err = check_parquet_file(&f).unwrap_err();
        assert!(err.contains("not a readable Parquet file"), "{err}");
        std::fs::write(&f, b"PAR1").unwrap();
        assert!(check_parquet_file(&f).unwrap_err().contains("only 4 bytes"));
        std::fs::write(&f, b"id,name\n1,Ann\n").unwrap();
        assert!(
            check_parquet_marks(&f)
                .unwrap_err()
                .contains("does not start with PAR1")
        );
    }
}
