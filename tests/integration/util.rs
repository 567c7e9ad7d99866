//! Shared helpers: the binary under test, isolated temp dirs, fixture paths, full failure dumps.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Output;

/// Path of a committed fixture under tests/fixtures.
pub fn fixture(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The suite's own cache root (CPython source, demo repository, builds, ccache, corpus,
/// results): `$PYSTATS_GATE_TEST_CACHE`, else `test-suite/` under the cache root the product
/// would use (`$PYSTATS_GATE_CACHE`, `$XDG_CACHE_HOME/pystats-gate`, `~/.cache/pystats-gate`).
/// The suite never writes into the user's own cache entries; CI keeps this directory between
/// runs so only the first run builds CPython.
pub fn suite_cache() -> PathBuf {
    static ROOT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    ROOT.get_or_init(|| match std::env::var_os("PYSTATS_GATE_TEST_CACHE") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => pystats_gate::exec::cache::cache_root(None).join("test-suite"),
    })
    .clone()
}

/// A command running the pystats-gate binary under test, on the suite's cache root.
pub fn cmd() -> assert_cmd::Command {
    let mut c = assert_cmd::Command::cargo_bin("pystats-gate").unwrap();
    c.env(pystats_gate::exec::cache::CACHE_ENV, suite_cache());
    c
}

/// [`cmd`] with these arguments (paths and strings mixed), not yet run.
pub fn cmd_with(args: &[&dyn AsRef<std::ffi::OsStr>]) -> assert_cmd::Command {
    let mut c = cmd();
    for a in args {
        c.arg(a);
    }
    c
}

/// `history append RESULT --file HISTORY`, which must succeed.
pub fn history_append(result: &Path, history: &Path) {
    cmd()
        .args(["history", "append"])
        .arg(result)
        .arg("--file")
        .arg(history)
        .exits(0);
}

/// [`cmd`] as a plain `std::process::Command` (for spawning, piping, tmux lines).
pub fn std_cmd() -> std::process::Command {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("pystats-gate"));
    c.env(pystats_gate::exec::cache::CACHE_ENV, suite_cache());
    c
}

/// A fresh temporary directory, removed on drop.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("pystats-gate-test-")
        .tempdir()
        .unwrap()
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

/// The pristine CPython 3.13 `--enable-pystats` interpreter built by the product itself
/// (the demo repository's base revision), built once per test process and cached on disk.
pub fn pristine_python() -> PathBuf {
    static PY: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    PY.get_or_init(|| {
        let repo = pystats_gate::commands::gate::demo_repo(Some(&suite_cache()), true)
            .expect("demo repository");
        let opts = pystats_gate::exec::builder::BuildConfig {
            quiet: true,
            cache_dir: Some(suite_cache()),
            ..Default::default()
        };
        pystats_gate::exec::builder::build_revision(&repo, "base", &opts)
            .expect("building the demo base")
            .python
    })
    .clone()
}

/// Runs a command and checks its exit code in one step.
pub trait Exits {
    /// Runs the command, asserts its exit code (printing the full output on failure) and
    /// returns the output.
    fn exits(&mut self, code: i32) -> Output;
}

impl Exits for assert_cmd::Command {
    fn exits(&mut self, code: i32) -> Output {
        let out = self.output().unwrap();
        expect_code(&out, code);
        out
    }
}

/// Asserts that a command's stdout contains `needle`, printing the full output on failure.
pub fn assert_stdout_contains(out: &Output, needle: &str) {
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(needle),
        "stdout lacks {needle:?}\n{}",
        dump(out)
    );
}

/// Asserts that a command's stderr contains `needle`, printing the full output on failure.
pub fn assert_stderr_contains(out: &Output, needle: &str) {
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(needle),
        "stderr lacks {needle:?}\n{}",
        dump(out)
    );
}

/// A command's stdout parsed as JSON, printing the full output if it is not JSON.
pub fn stdout_json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e})\n{}", dump(out)))
}

/// A JSON file, failing with its path.
pub fn read_json(p: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Copies a directory tree (a fixture set) into `dest`.
pub fn copy_dir(src: &Path, dest: &Path) {
    std::fs::create_dir_all(dest).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dest.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &to);
        } else {
            std::fs::copy(e.path(), &to).unwrap();
        }
    }
}

/// `cases` proptest cases, unless `PROPTEST_CASES` asks for another count (ci/soak.sh).
pub fn proptest_cases(cases: u32) -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases)
}

/// Runs git in `dir` as a developer would (fixed identity); asserts success, returns stdout.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "dev")
        .env("GIT_AUTHOR_EMAIL", "dev@localhost.invalid")
        .env("GIT_COMMITTER_NAME", "dev")
        .env("GIT_COMMITTER_EMAIL", "dev@localhost.invalid")
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", dump(&out));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A linked worktree of the shared demo repository, removed again on drop (the demo
/// repository itself is never edited: other tests use it at the same time).
pub struct LinkedWorktree {
    pub repo: PathBuf,
    pub path: PathBuf,
}

impl Drop for LinkedWorktree {
    fn drop(&mut self) {
        let _ = std::process::Command::new("git")
            .arg("-C")
            .arg(&self.repo)
            .args(["worktree", "remove", "--force"])
            .arg(&self.path)
            .output();
    }
}

impl LinkedWorktree {
    /// A detached linked worktree of `repo` at `rev`, in `path`.
    pub fn add(repo: &Path, path: PathBuf, rev: &str) -> LinkedWorktree {
        git(
            repo,
            &[
                "worktree",
                "add",
                "--quiet",
                "--detach",
                path.to_str().unwrap(),
                rev,
            ],
        );
        LinkedWorktree {
            repo: repo.to_path_buf(),
            path,
        }
    }
}
