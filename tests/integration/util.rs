//! Shared helpers: the binary under test, isolated temp dirs, fixture paths, full failure dumps.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

/// Path of a committed fixture under tests/fixtures.
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(rel)
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A command running the pystats-gate binary under test.
pub fn cmd() -> assert_cmd::Command {
    assert_cmd::Command::cargo_bin("pystats-gate").unwrap()
}

/// A fresh temporary directory, removed on drop.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("pystats-gate-test-").tempdir().unwrap()
}

/// Formats everything about a finished command, for assertion messages.
pub fn dump(out: &Output) -> String {
    format!(
        "exit: {:?}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Asserts the exit code, printing the full output on failure.
pub fn expect_code(out: &Output, code: i32) {
    assert_eq!(out.status.code(), Some(code), "{}", dump(out));
}
