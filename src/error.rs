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
/// Exit code: a bug in pystats-gate (a state its own code should never reach).
pub const EXIT_INTERNAL: i32 = 4;

/// Which class of failure an error is: it decides the exit code and the message's prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// Usage or input (and any error that carries no class).
    Input,
    /// Writing an output (disk full, refused overwrite).
    Output,
    Build,
    Run,
    Internal,
}

impl ErrorClass {
    /// The exit code of this class: input and output 2, build and run 3, internal 4.
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorClass::Input => EXIT_INPUT,
            ErrorClass::Output => EXIT_INPUT,
            ErrorClass::Build | ErrorClass::Run => EXIT_BUILD_OR_RUN,
            ErrorClass::Internal => EXIT_INTERNAL,
        }
    }

    /// How the message starts on stderr (`error:` stays in every one of them).
    pub fn prefix(self) -> &'static str {
        match self {
            ErrorClass::Input => "error",
            ErrorClass::Output => "output error",
            ErrorClass::Build => "build error",
            ErrorClass::Run => "run error",
            ErrorClass::Internal => {
                "internal error (a bug in pystats-gate: please report it with this message)"
            }
        }
    }
}

/// Errors that carry their class. Anything else is treated as an input error.
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
    /// A bug in pystats-gate: a state its own code should never reach.
    #[error("{0}")]
    Internal(String),
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
    pub fn output(msg: impl Into<String>) -> Self {
        Error::Output(msg.into())
    }
    pub fn internal(msg: impl Into<String>) -> Self {
        Error::Internal(msg.into())
    }
    pub fn class(&self) -> ErrorClass {
        match self {
            Error::InputLine { .. } | Error::Input(_) => ErrorClass::Input,
            Error::Output(_) => ErrorClass::Output,
            Error::Build(_) => ErrorClass::Build,
            Error::Run(_) => ErrorClass::Run,
            Error::Internal(_) => ErrorClass::Internal,
        }
    }
    pub fn exit_code(&self) -> i32 {
        self.class().exit_code()
    }
}

/// The class of any error chain: the first typed [`Error`] in the chain decides; an
/// untyped error (an unclassified library error) counts as input.
pub fn class_of(err: &anyhow::Error) -> ErrorClass {
    err.chain()
        .find_map(|cause| cause.downcast_ref::<Error>())
        .map_or(ErrorClass::Input, Error::class)
}

/// Maps any error chain to an exit code (see [`class_of`]).
pub fn exit_code_for(err: &anyhow::Error) -> i32 {
    class_of(err).exit_code()
}

/// The message for stderr: the class's prefix, then the chain.
pub fn message_for(err: &anyhow::Error) -> String {
    format!("{}: {err:#}", class_of(err).prefix())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_class_has_its_exit_code_and_prefix() {
        let cases = [
            (Error::input("x"), EXIT_INPUT, "error: "),
            (
                Error::at_line("f", 3, "x"),
                EXIT_INPUT,
                "error: while doing y: f:3: x",
            ),
            (Error::output("x"), EXIT_INPUT, "output error: "),
            (Error::Build("x".into()), EXIT_BUILD_OR_RUN, "build error: "),
            (Error::Run("x".into()), EXIT_BUILD_OR_RUN, "run error: "),
            (Error::internal("x"), EXIT_INTERNAL, "internal error (a bug"),
        ];
        for (e, code, prefix) in cases {
            let err = anyhow::Error::from(e).context("while doing y");
            assert_eq!(exit_code_for(&err), code, "{err:#}");
            let msg = message_for(&err);
            assert!(msg.starts_with(prefix), "{msg}");
            assert!(
                msg.contains("error") && msg.contains("while doing y: "),
                "{msg}"
            );
        }
        let untyped = anyhow::anyhow!("plain");
        assert_eq!(exit_code_for(&untyped), EXIT_INPUT);
        assert_eq!(message_for(&untyped), "error: plain");
        assert!(message_for(&Error::internal("x").into()).contains("please report it"));
    }
}

pub type Result<T, E = anyhow::Error> = std::result::Result<T, E>;
