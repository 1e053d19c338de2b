//! The exclusive lock of a folder that one run at a time may write: `DIR/.lock`, held with
//! the operating system's file lock (released when the process ends, however it ends), with
//! the holder's pid and start time written into it for the message a waiting run prints.
//! `segment run` locks its snapshot folder, `import` its dataset folder.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::{Error, Result};

/// The name of the lock file in a locked folder.
pub const LOCK_FILE: &str = ".lock";

/// The held lock; released when dropped.
#[derive(Debug)]
pub struct DirLock {
    _file: File,
}

/// Takes the exclusive lock of `dir` (created if missing), waiting up to `wait` for another
/// run to release it; `what` names the kind of run that locks the folder (`segment run`,
/// `import`) for the message of a run that waited in vain.
pub fn lock_dir(dir: &Path, wait: Duration, what: &str) -> Result<DirLock> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let path = dir.join(LOCK_FILE);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| Error::io(&path, e))?;
    let start = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => break,
            Err(std::fs::TryLockError::WouldBlock) if start.elapsed() < wait => {
                std::thread::sleep(Duration::from_millis(100));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = std::fs::read_to_string(&path).unwrap_or_default();
                return Err(Error::io(
                    &path,
                    std::io::Error::new(
                        std::io::ErrorKind::WouldBlock,
                        format!(
                            "another {what} holds the lock on {} ({}); waited {} s \
                             (--wait SECONDS waits longer)",
                            dir.display(),
                            holder.trim(),
                            wait.as_secs()
                        ),
                    ),
                ));
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(Error::io(&path, e)),
        }
    }
    file.set_len(0).map_err(|e| Error::io(&path, e))?;
    let _ = writeln!(
        file,
        "{what}, pid {} since {}",
        std::process::id(),
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    Ok(DirLock { _file: file })
}
