//! Progress display for builds and runs: bars on a terminal, plain lines in CI, nothing with --quiet.

use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
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
        if !bars_wanted() {
            return Progress::Lines {
                prefix: prefix.to_string(),
            };
        }
        let color = color_wanted();
        let bar = if total == 0 {
            let b = ProgressBar::new_spinner();
            b.set_style(style(SPINNER, color));
            b.enable_steady_tick(Duration::from_millis(120));
            b
        } else {
            let b = ProgressBar::new(total);
            b.set_style(style(COUNTER, color).progress_chars("#>-"));
            // Redraw the elapsed time and ETA while a long benchmark runs.
            b.enable_steady_tick(Duration::from_millis(500));
            b
        };
        bar.set_prefix(prefix.to_string());
        Progress::Bar(bar)
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

    /// Stops the bar (a finished counting bar stays on screen, showing done/total; a spinner
    /// is cleared) and prints a final line (unless quiet).
    pub fn finish(&self, msg: &str) {
        match self {
            Progress::Bar(b) => {
                if b.length().is_some() {
                    b.abandon();
                } else {
                    b.finish_and_clear();
                }
                eprintln!("{}: {msg}", b.prefix());
            }
            Progress::Lines { prefix } => eprintln!("{prefix}: {msg}"),
            Progress::Quiet => {}
        }
    }
}

/// Bars and spinners only on an interactive terminal: not in CI logs, not on TERM=dumb, not
/// when stderr is a pipe or a file (those get plain lines, free of escape codes).
fn bars_wanted() -> bool {
    std::io::stderr().is_terminal()
        && std::env::var_os("CI").is_none()
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

/// Colour unless `NO_COLOR` is set to anything non-empty (<https://no-color.org>).
pub fn color_wanted() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Colour on stdout: a terminal, and `NO_COLOR` unset.
pub fn color_on_stdout() -> bool {
    std::io::stdout().is_terminal() && color_wanted()
}

/// Spinner template (plain, coloured), for steps of unknown length (a build).
const SPINNER: (&str, &str) = (
    "{spinner} {prefix} [{elapsed}] {msg}",
    "{spinner:.cyan} {prefix:.bold} [{elapsed}] {msg}",
);
/// Counting bar template (plain, coloured): done/total and the estimated time left.
const COUNTER: (&str, &str) = (
    "{prefix} [{elapsed}] {bar:30} {pos}/{len} ETA {eta} {msg}",
    "{prefix:.bold} [{elapsed}] {bar:30.cyan/blue} {pos}/{len} ETA {eta} {msg}",
);

fn style((plain, colored): (&str, &str), color: bool) -> ProgressStyle {
    ProgressStyle::with_template(if color { colored } else { plain })
        .expect("progress templates are constants")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses_with_and_without_colour() {
        for color in [false, true] {
            for t in [SPINNER, COUNTER] {
                assert!(ProgressStyle::with_template(if color { t.1 } else { t.0 }).is_ok());
            }
        }
    }
}
