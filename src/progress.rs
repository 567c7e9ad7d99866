//! Progress display for builds and runs: bars on a terminal, plain lines in CI, nothing with --quiet.

use indicatif::{ProgressBar, ProgressStyle};
use is_terminal::IsTerminal;
use std::time::Duration;

/// How progress is shown, decided once per command.
#[derive(Clone)]
pub enum Progress {
    /// An indicatif bar or spinner on stderr (a terminal).
    Bar(ProgressBar),
    /// One plain line per event on stderr (CI logs).
    Lines { prefix: String },
    /// Nothing (`--quiet`).
    Quiet,
}

impl Progress {
    /// A counting bar of `total` steps (`total` = 0: a spinner).
    pub fn new(prefix: &str, total: u64, quiet: bool) -> Progress {
        if quiet {
            return Progress::Quiet;
        }
        if std::io::stderr().is_terminal() && std::env::var_os("CI").is_none() {
            let bar = if total == 0 {
                let b = ProgressBar::new_spinner();
                b.set_style(
                    ProgressStyle::with_template("{spinner} {prefix} [{elapsed}] {msg}").unwrap(),
                );
                b.enable_steady_tick(Duration::from_millis(120));
                b
            } else {
                let b = ProgressBar::new(total);
                b.set_style(
                    ProgressStyle::with_template("{prefix} [{elapsed}] {bar:30} {pos}/{len} {msg}")
                        .unwrap(),
                );
                b
            };
            bar.set_prefix(prefix.to_string());
            Progress::Bar(bar)
        } else {
            Progress::Lines {
                prefix: prefix.to_string(),
            }
        }
    }

    /// A status change (a build step, a benchmark starting).
    pub fn message(&self, msg: &str) {
        match self {
            Progress::Bar(b) => b.set_message(msg.to_string()),
            Progress::Lines { prefix } => eprintln!("{prefix}: {msg}"),
            Progress::Quiet => {}
        }
    }

    /// One unit of work finished.
    pub fn step(&self, msg: &str) {
        match self {
            Progress::Bar(b) => {
                b.inc(1);
                b.set_message(msg.to_string());
            }
            Progress::Lines { prefix } => eprintln!("{prefix}: {msg}"),
            Progress::Quiet => {}
        }
    }

    /// Clears the bar and prints a final line (unless quiet).
    pub fn finish(&self, msg: &str) {
        match self {
            Progress::Bar(b) => {
                b.finish_and_clear();
                eprintln!("{}: {msg}", b.prefix());
            }
            Progress::Lines { prefix } => eprintln!("{prefix}: {msg}"),
            Progress::Quiet => {}
        }
    }
}
