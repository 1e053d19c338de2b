//! A progress display for long work on a terminal: a spinner on stderr naming the phase that is
//! running and the time spent, hidden when stderr is not a terminal (batch jobs, pipes) or the
//! caller asked for quiet. Library code reports phases; only the command line decides whether
//! they are shown.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// A phase display; `Progress::default()` shows nothing.
#[derive(Clone)]
pub struct Progress(ProgressBar);

impl Default for Progress {
    fn default() -> Self {
        Progress(ProgressBar::hidden())
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_hidden() {
            "Progress(hidden)"
        } else {
            "Progress"
        })
    }
}

impl Progress {
    /// A spinner titled `what` when `show`, else nothing.
    pub fn spinner(show: bool, what: &str) -> Self {
        if !show {
            return Progress::default();
        }
        let bar = ProgressBar::new_spinner();
        if let Ok(style) = ProgressStyle::with_template("{spinner} {prefix}: {msg} [{elapsed}]") {
            bar.set_style(style);
        }
        bar.set_prefix(what.to_string());
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress(bar)
    }

    /// Names the phase now running.
    pub fn phase(&self, name: &str) {
        self.0.set_message(name.to_string());
    }

    /// Removes the display (the result follows on stdout).
    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}
