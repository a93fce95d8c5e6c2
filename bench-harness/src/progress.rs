//! Progress bars for long phases: drawn on stderr when it is a terminal, nothing otherwise (so
//! `--json` output piped to a file or a test stays clean).

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar, or nothing when stderr is not a terminal.
pub struct Progress(Option<ProgressBar>);

impl Progress {
    /// A bar counting `len` items (processes spawned, subscribers ready, ...).
    pub fn items(len: u64, what: &str) -> Progress {
        Progress::make(len, what, "{msg:>28} [{bar:30}] {pos}/{len} ({elapsed})")
    }

    /// A bar for a phase of known length (a timed load); advanced with [`Progress::set_elapsed`].
    pub fn timed(length: Duration, what: &str) -> Progress {
        Progress::make(
            length.as_millis() as u64,
            what,
            "{msg:>28} [{bar:30}] {elapsed}/{duration}",
        )
    }

    fn make(len: u64, what: &str, template: &str) -> Progress {
        if !std::io::stderr().is_terminal() {
            return Progress(None);
        }
        let bar = ProgressBar::new(len);
        if let Ok(style) = ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(what.to_string());
        Progress(Some(bar))
    }

    /// Sets the position (items done).
    pub fn set(&self, pos: u64) {
        if let Some(b) = &self.0 {
            b.set_position(pos);
        }
    }

    /// Sets the position of a timed bar.
    pub fn set_elapsed(&self, d: Duration) {
        self.set(d.as_millis() as u64);
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(b) = &self.0 {
            b.finish_and_clear();
        }
    }
}
