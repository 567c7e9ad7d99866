//! Error types and the documented process exit codes.

use std::path::PathBuf;

/// Exit code: the gate passed (or the command succeeded).
pub const EXIT_PASS: i32 = 0;
/// Exit code: the gate failed (a regression was found, or `check` found violations).
pub const EXIT_GATE_FAILED: i32 = 1;
/// Exit code: usage error or bad input (malformed dump, bad rules file, ...).
pub const EXIT_INPUT: i32 = 2;
/// Exit code: building CPython or running the corpus failed.
pub const EXIT_BUILD_OR_RUN: i32 = 3;

/// Errors that carry their exit code class. Anything else is treated as input error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad input: names the file and line (or TOML key path).
    #[error("{path}:{line}: {message}")]
    InputLine {
        path: PathBuf,
        line: usize,
        message: String,
    },
    /// Bad input not tied to one line.
    #[error("{0}")]
    Input(String),
    /// A build of CPython failed.
    #[error("{0}")]
    Build(String),
    /// Running a benchmark failed (crash, timeout, missing dump), now or as recorded in
    /// an input set's manifest.
    #[error("{0}")]
    Run(String),
    /// Writing an output failed (disk full, no permission), or would clobber a user's file.
    #[error("{0}")]
    Output(String),
}

impl Error {
    pub fn input(msg: impl Into<String>) -> Self {
        Error::Input(msg.into())
    }
    pub fn at_line(path: impl Into<PathBuf>, line: usize, message: impl Into<String>) -> Self {
        Error::InputLine {
            path: path.into(),
            line,
            message: message.into(),
        }
    }
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::InputLine { .. } | Error::Input(_) | Error::Output(_) => EXIT_INPUT,
            Error::Build(_) | Error::Run(_) => EXIT_BUILD_OR_RUN,
        }
    }
}

/// Maps any error chain to an exit code: the first typed [`Error`] in the chain decides.
pub fn exit_code_for(err: &anyhow::Error) -> i32 {
    for cause in err.chain() {
        if let Some(e) = cause.downcast_ref::<Error>() {
            return e.exit_code();
        }
    }
    EXIT_INPUT
}

pub type Result<T, E = anyhow::Error> = std::result::Result<T, E>;
