//! Preparing the output directory of `crmlens generate`: refusing to overwrite anything that
//! is not a previous `crmlens generate` output. The tables are written with
//! [`crate::dataset::write`] (settings that make the bytes depend on the data only, each file
//! written through a hidden temporary file renamed into place).

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use crate::dataset::schema::tables;
use crate::{Error, Result};

/// Written into every output directory; its presence allows a later run to replace it.
pub const MARKER: &str = ".crmlens-generate";

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
