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

/// The files that differ between `base` and `head` of `repo` (renames as delete + add), with
/// the text of those listed in `read` on both sides.
pub fn changed_files(
    repo: &Path,
    base: &str,
    head: &str,
    read: &[&str],
) -> anyhow::Result<Vec<FileDiff>> {
    let out = git(
        repo,
        &[
            "diff",
            "--name-only",
            "-z",
            "--no-renames",
            base,
            head,
            "--",
        ],
    )?;
    if !out.status.success() {
        return Err(Error::input(format!(
            "{}: git diff {base} {head}: {}",
            repo.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
        .into());
    }
    let mut files = vec![];
    for path in String::from_utf8_lossy(&out.stdout).split('\0') {
        if path.is_empty() {
            continue;
        }
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
    let exists = git(repo, &["cat-file", "-e", &format!("{rev}:{path}")])?;
    if !exists.status.success() {
        return Ok(None);
    }
    let out = git(repo, &["show", &format!("{rev}:{path}")])?;
    if !out.status.success() {
        return Err(Error::input(format!(
            "{}: git show {rev}:{path}: {}",
            repo.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
        .into());
    }
    Ok(Some(String::from_utf8_lossy(&out.stdout).into_owned()))
}
