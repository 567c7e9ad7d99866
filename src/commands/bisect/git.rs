//! The few git queries bisect needs: resolve revisions, list candidates, describe commits.

use crate::error::Error;
pub use crate::model::bisect::CommitInfo;
use std::path::Path;
use std::process::Command;

/// Runs git in `repo`; a failure is bad input (unknown revision, not a repository).
fn git(repo: &Path, args: &[&str]) -> anyhow::Result<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .output()
        .map_err(|e| Error::input(format!("cannot run git: {e}")))?;
    if !out.status.success() {
        return Err(Error::input(format!(
            "git {} in {}: {}",
            args.join(" "),
            repo.display(),
            crate::text::cap(String::from_utf8_lossy(&out.stderr).trim())
        ))
        .into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim_end().to_string())
}

/// Full hash of a revision that must name a commit.
pub fn resolve(repo: &Path, rev: &str) -> anyhow::Result<String> {
    let spec = format!("{rev}^{{commit}}");
    git(repo, &["rev-parse", "--verify", "--quiet", &spec])
        .ok()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| {
            Error::input(format!("unknown revision `{rev}` in {}", repo.display())).into()
        })
}

/// True when `ancestor` is an ancestor of (or equal to) `descendant`.
pub fn is_ancestor(repo: &Path, ancestor: &str, descendant: &str) -> anyhow::Result<bool> {
    let status = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["merge-base", "--is-ancestor", ancestor, descendant])
        .status()
        .map_err(|e| Error::input(format!("cannot run git: {e}")))?;
    Ok(status.success())
}

/// The commits to search, oldest first; the last one is `bad`.
pub fn candidates(
    repo: &Path,
    good: &str,
    bad: &str,
    first_parent: bool,
) -> anyhow::Result<Vec<String>> {
    let range = format!("{good}..{bad}");
    let mut args = vec!["rev-list", "--reverse", "--ancestry-path"];
    if first_parent {
        args.push("--first-parent");
    }
    args.push(&range);
    let list: Vec<String> = git(repo, &args)?.lines().map(str::to_string).collect();
    if list.last().map(String::as_str) != Some(bad) {
        return Err(Error::input(format!(
            "no ancestry path from {good} to {bad}{}",
            if first_parent {
                " along first parents"
            } else {
                ""
            }
        ))
        .into());
    }
    Ok(list)
}

/// Hash, subject and author of one commit.
pub fn describe(repo: &Path, commit: &str) -> anyhow::Result<CommitInfo> {
    let text = git(
        repo,
        &["show", "-s", "--format=%H%x00%s%x00%an <%ae>", commit],
    )?;
    let mut parts = text.splitn(3, '\0');
    let mut next = || parts.next().unwrap_or_default().to_string();
    Ok(CommitInfo {
        hash: next(),
        subject: next(),
        author: next(),
    })
}
