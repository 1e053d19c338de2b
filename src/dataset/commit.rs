//! Changing several files of a dataset as one step, so that a process killed at any moment
//! leaves the dataset as it was or as it was meant to become, never a mix (customers new,
//! orders old). Every new file is written under a temporary name beside its target
//! ([`AtomicFile::keep`]); [`Transaction::commit`] then writes a journal,
//! `DATA/.crmlens-journal.json`, naming every rename and removal — its atomic appearance is
//! the commit — carries them out and deletes it. A journal found later means a commit was
//! cut short: [`recover`] (run when a dataset is opened) carries it out to the end. A
//! transaction dropped before its commit removes its temporary files; one killed before it
//! leaves them, and the next writer removes them ([`crate::output::remove_stale_temps`]).
//!
//! Writers hold the dataset's lock ([`crate::output::lock`]) from before they read the
//! dataset until the commit is done.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::output::lock::lock_dir;
use crate::output::{AtomicFile, sync_parent, write_file_atomic};
use crate::{Error, Result};

/// The journal of a commit under way, in the dataset folder.
pub const JOURNAL: &str = ".crmlens-journal.json";

/// The test hook: the process aborts after this many file steps (a staged file, the
/// journal, each rename or removal), to test that any moment of a kill is survived.
const ABORT_AFTER: &str = "CRMLENS_TEST_ABORT_AFTER_FILES";

/// How long opening a dataset waits for a writer to finish its commit.
const RECOVER_WAIT: Duration = Duration::from_secs(60);

/// What a commit does, paths relative to the dataset folder.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Journal {
    /// (temporary file, target), in order.
    renames: Vec<(PathBuf, PathBuf)>,
    /// Files removed after the renames.
    removals: Vec<PathBuf>,
}

/// Files to replace in a dataset folder in one step.
pub struct Transaction {
    dir: PathBuf,
    journal: Journal,
    steps: u64,
    abort_after: Option<u64>,
}

impl Transaction {
    /// A transaction on the dataset folder `dir` (the caller holds its lock).
    pub fn begin(dir: &Path) -> Transaction {
        Transaction {
            dir: std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf()),
            journal: Journal::default(),
            steps: 0,
            abort_after: std::env::var(ABORT_AFTER).ok().and_then(|v| v.parse().ok()),
        }
    }

    /// Adds a finished file, kept under its temporary name, to move onto its target.
    pub fn add(&mut self, file: AtomicFile) -> Result<()> {
        let (temp, target) = file.keep()?;
        let pair = (self.relative(&temp)?, self.relative(&target)?);
        self.journal.renames.retain(|(_, t)| *t != pair.1);
        self.journal.renames.push(pair);
        self.step();
        Ok(())
    }

    /// Removes `path` (a file of the dataset) at the commit, unless a new file replaces it.
    pub fn remove(&mut self, path: &Path) -> Result<()> {
        let path = self.relative(path)?;
        self.journal.removals.push(path);
        Ok(())
    }

    /// Whether the commit removes `path` (and no new file replaces it).
    pub fn removes(&self, path: &Path) -> bool {
        self.relative(path).is_ok_and(|p| {
            self.journal.removals.contains(&p) && !self.journal.renames.iter().any(|(_, t)| *t == p)
        })
    }

    /// Writes the journal (the commit point), carries it out and deletes it.
    pub fn commit(mut self) -> Result<()> {
        let renamed: Vec<PathBuf> = self
            .journal
            .renames
            .iter()
            .map(|(_, t)| t.clone())
            .collect();
        self.journal.removals.retain(|p| !renamed.contains(p));
        let text = serde_json::to_string_pretty(&self.journal)
            .map_err(|e| Error::Internal(format!("journal: {e}")))?;
        let journal = self.dir.join(JOURNAL);
        write_file_atomic(&journal, text.as_bytes())?;
        self.step();
        let (dir, planned) = (self.dir.clone(), std::mem::take(&mut self.journal));
        apply(&dir, &planned, &mut || self.step())?;
        std::fs::remove_file(&journal).map_err(|e| Error::io(&journal, e))?;
        sync_parent(&journal);
        Ok(())
    }

    fn relative(&self, path: &Path) -> Result<PathBuf> {
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        path.strip_prefix(&self.dir)
            .map(Path::to_path_buf)
            .map_err(|_| {
                Error::Internal(format!(
                    "{} is not in the dataset folder {}",
                    path.display(),
                    self.dir.display()
                ))
            })
    }

    fn step(&mut self) {
        self.steps += 1;
        if self.abort_after == Some(self.steps) {
            std::process::abort();
        }
    }
}

impl Drop for Transaction {
    /// Not committed: the staged files go.
    fn drop(&mut self) {
        for (temp, _) in &self.journal.renames {
            let _ = std::fs::remove_file(self.dir.join(temp));
        }
    }
}

/// Carries out a journal; every step may already be done (a recovery after a kill).
fn apply(dir: &Path, journal: &Journal, step: &mut dyn FnMut()) -> Result<()> {
    for (temp, target) in &journal.renames {
        let (temp, target) = (dir.join(temp), dir.join(target));
        if temp.exists() {
            std::fs::rename(&temp, &target).map_err(|e| Error::io(&target, e))?;
            sync_parent(&target);
        } else if !target.exists() {
            return Err(Error::dataset(
                dir,
                format!(
                    "{} of an unfinished import is missing, and so is its target {}; restore \
                     the dataset from a backup or import again with --overwrite",
                    temp.display(),
                    target.display()
                ),
            ));
        }
        step();
    }
    for path in &journal.removals {
        let path = dir.join(path);
        match std::fs::remove_file(&path) {
            Ok(()) => sync_parent(&path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&path, e)),
        }
        step();
    }
    Ok(())
}

/// Completes a commit that was cut short in the dataset folder `dir`, if there is one:
/// waits for a writer that is still at it (its lock), else carries out its journal.
pub fn recover(dir: &Path) -> Result<()> {
    let journal = dir.join(JOURNAL);
    if !journal.exists() {
        return Ok(());
    }
    let _lock = lock_dir(dir, RECOVER_WAIT, "import").map_err(|e| {
        Error::dataset(
            dir,
            format!(
                "an import into this folder did not finish ({} is there) and it cannot be \
                 completed now: {e}",
                journal.display()
            ),
        )
    })?;
    recover_locked(dir)
}

/// [`recover`] for a caller that holds the lock.
pub fn recover_locked(dir: &Path) -> Result<()> {
    let path = dir.join(JOURNAL);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(&path, e)),
    };
    let journal: Journal = serde_json::from_str(&text)
        .map_err(|e| Error::dataset(&path, format!("unreadable import journal: {e}")))?;
    log::warn!(
        "{}: completing an import that was cut short ({} file(s))",
        dir.display(),
        journal.renames.len()
    );
    apply(dir, &journal, &mut || {})?;
    std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
    sync_parent(&path);
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn staged(dir: &Path, name: &str, text: &str) -> AtomicFile {
        let mut f = AtomicFile::create(&dir.join(name)).unwrap();
        f.file().write_all(text.as_bytes()).unwrap();
        f
    }

    fn read(dir: &Path, name: &str) -> String {
        std::fs::read_to_string(dir.join(name)).unwrap_or_default()
    }

    #[test]
    fn nothing_changes_before_the_commit_and_a_drop_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("a"), "old a").unwrap();
        let mut tx = Transaction::begin(d);
        tx.add(staged(d, "a", "new a")).unwrap();
        tx.add(staged(d, "b", "new b")).unwrap();
        assert_eq!(
            (read(d, "a"), read(d, "b")),
            ("old a".into(), String::new())
        );
        drop(tx);
        assert_eq!(std::fs::read_dir(d).unwrap().count(), 1);

        let mut tx = Transaction::begin(d);
        std::fs::write(d.join("c"), "old c").unwrap();
        tx.add(staged(d, "b", "new b")).unwrap();
        tx.remove(&d.join("b")).unwrap();
        tx.remove(&d.join("c")).unwrap();
        assert!(!tx.removes(&d.join("b")) && tx.removes(&d.join("c")));
        tx.commit().unwrap();
        assert_eq!(
            (read(d, "b"), d.join("c").exists()),
            ("new b".into(), false)
        );
        assert_eq!(std::fs::read_dir(d).unwrap().count(), 2, "a and b only");
    }

    #[test]
    fn a_journal_left_by_a_kill_is_carried_out() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("a"), "old a").unwrap();
        std::fs::write(d.join("b"), "old b").unwrap();
        std::fs::write(d.join("gone"), "old").unwrap();
        // Killed after the journal and the first rename.
        std::fs::write(d.join("a"), "new a").unwrap();
        std::fs::write(d.join(".b.1.x.tmp"), "new b").unwrap();
        let journal = Journal {
            renames: vec![
                (".a.1.x.tmp".into(), "a".into()),
                (".b.1.x.tmp".into(), "b".into()),
            ],
            removals: vec!["gone".into()],
        };
        std::fs::write(d.join(JOURNAL), serde_json::to_string(&journal).unwrap()).unwrap();
        recover(d).unwrap();
        assert_eq!(
            (read(d, "a"), read(d, "b")),
            ("new a".into(), "new b".into())
        );
        assert!(!d.join("gone").exists() && !d.join(JOURNAL).exists());
        recover(d).unwrap();
    }
}
