//! What a change changed: the files that differ between two revisions, and chosen files' text on each side (git plumbing).

use crate::error::Error;
use std::path::Path;
use std::process::Command;

/// One changed file; `base`/`head` hold its text for the files asked for (`None`: absent on
/// that side, or not asked for).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileDiff {
    pub path: String,
    pub base: Option<String>,
    pub head: Option<String>,
}

fn git(repo: &Path, args: &[&str]) -> anyhow::Result<std::process::Output> {
    Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .output()
        .map_err(|e| Error::input(format!("running git in {}: {e}", repo.display())).into())
}

/// `git ARGS` in `repo` that must succeed: its stdout, else an input error naming the command.
fn git_ok(repo: &Path, args: &[&str]) -> anyhow::Result<String> {
    let out = git(repo, args)?;
    if !out.status.success() {
        return Err(Error::input(format!(
            "{}: git {}: {}",
            repo.display(),
            args.join(" "),
            crate::text::cap(String::from_utf8_lossy(&out.stderr).trim())
        ))
        .into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The files that differ between `base` and `head` of `repo` (renames as delete + add), with
/// the text of those listed in `read` on both sides.
pub fn changed_files(
    repo: &Path,
    base: &str,
    head: &str,
    read: &[&str],
) -> anyhow::Result<Vec<FileDiff>> {
    let args = [
        "diff",
        "--name-only",
        "-z",
        "--no-renames",
        base,
        head,
        "--",
    ];
    let mut files = vec![];
    for path in git_ok(repo, &args)?.split('\0').filter(|p| !p.is_empty()) {
        let (b, h) = if read.contains(&path) {
            (file_at(repo, base, path)?, file_at(repo, head, path)?)
        } else {
            (None, None)
        };
        files.push(FileDiff {
            path: path.to_string(),
            base: b,
            head: h,
        });
    }
    Ok(files)
}

/// `path`'s text at `rev`, `None` when the revision has no such file.
pub fn file_at(repo: &Path, rev: &str, path: &str) -> anyhow::Result<Option<String>> {
    let spec = format!("{rev}:{path}");
    if !git(repo, &["cat-file", "-e", &spec])?.status.success() {
        return Ok(None);
    }
    Ok(Some(git_ok(repo, &["show", &spec])?))
}
