//! Snapshots a working tree (uncommitted changes and untracked files) into a commit object, for `gate --head-dir`.
//!
//! Like `git stash create`, but untracked (not ignored) files are included and nothing
//! visible changes: the tree is written through a temporary index, the commit has no ref,
//! and the user's index, files and branches are left alone. The commit's author and dates
//! are fixed, so the same working tree on the same HEAD always gives the same commit (and
//! hits the build cache).

use crate::error::Error;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A working tree frozen into a commit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// The main working tree of the repository (where `gate`'s build worktree hangs off).
    pub repo: PathBuf,
    /// HEAD of the directory: its commit message is the one trailers are read from.
    pub head: String,
    /// The commit to build: `head` itself when nothing is uncommitted.
    pub commit: String,
    /// Files that differ from `head`.
    pub changed: Vec<String>,
}

fn git(dir: &Path, args: &[&str], index: Option<&Path>) -> anyhow::Result<String> {
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(dir).args(args);
    if let Some(i) = index {
        cmd.env("GIT_INDEX_FILE", i);
    }
    for (k, v) in [
        ("GIT_AUTHOR_NAME", "pystats-gate"),
        ("GIT_AUTHOR_EMAIL", "pystats-gate@localhost.invalid"),
        ("GIT_AUTHOR_DATE", "2000-01-01T00:00:00+0000"),
        ("GIT_COMMITTER_NAME", "pystats-gate"),
        ("GIT_COMMITTER_EMAIL", "pystats-gate@localhost.invalid"),
        ("GIT_COMMITTER_DATE", "2000-01-01T00:00:00+0000"),
    ] {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .map_err(|e| Error::input(format!("running git in {}: {e}", dir.display())))?;
    if !out.status.success() {
        return Err(Error::input(format!(
            "--head-dir {}: git {}: {}",
            dir.display(),
            args.join(" "),
            crate::text::cap(String::from_utf8_lossy(&out.stderr).trim())
        ))
        .into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Freezes `dir`'s working tree (tracked changes and untracked, not ignored, files), leaving
/// out `outputs` (`gate --out`, by default `pystats-gate-out/` in the current directory, which
/// is often the working tree): the reports of one run are not source of the next, and do not
/// make every snapshot a new commit that misses the build cache.
pub fn snapshot(dir: &Path, outputs: &[&Path]) -> anyhow::Result<Snapshot> {
    if !dir.is_dir() {
        return Err(
            Error::input(format!("--head-dir {}: no such directory", dir.display())).into(),
        );
    }
    let top = PathBuf::from(git(dir, &["rev-parse", "--show-toplevel"], None)?);
    let head = git(&top, &["rev-parse", "--verify", "HEAD^{commit}"], None)?;
    let common = PathBuf::from(git(
        &top,
        &["rev-parse", "--path-format=absolute", "--git-common-dir"],
        None,
    )?);
    // The main working tree owns the common `.git`; a bare repository is its own.
    let repo = match common.file_name().and_then(|n| n.to_str()) {
        Some(".git") => common.parent().unwrap_or(&common).to_path_buf(),
        _ => common.clone(),
    };
    // Start from a copy of the real index, so `add -A` only hashes what changed.
    let tmp = tempfile::tempdir()?;
    let index = tmp.path().join("index");
    let real_index = PathBuf::from(git(
        &top,
        &["rev-parse", "--path-format=absolute", "--git-path", "index"],
        None,
    )?);
    if real_index.is_file() {
        std::fs::copy(&real_index, &index)?;
        // Keep the index's own mtime: git's racy-clean check compares it with the files'
        // mtimes, and a fresh copy's later mtime would let an edit made in the same clock
        // tick as the last `git add` (same size) pass as unchanged.
        let mtime = std::fs::metadata(&real_index)?.modified()?;
        std::fs::File::options()
            .write(true)
            .open(&index)?
            .set_modified(mtime)?;
    }
    let mut add = vec!["add".to_string(), "-A".into(), "--".into(), ".".into()];
    let top_abs = crate::output::resolved(&top);
    for o in outputs {
        if let Ok(rel) = crate::output::resolved(o).strip_prefix(&top_abs) {
            if !rel.as_os_str().is_empty() {
                add.push(format!(":(exclude,top,literal){}", rel.display()));
            }
        }
    }
    let add: Vec<&str> = add.iter().map(String::as_str).collect();
    git(&top, &add, Some(&index))?;
    let tree = git(&top, &["write-tree"], Some(&index))?;
    let changed: Vec<String> = git(&top, &["diff", "--name-only", &head, &tree], None)?
        .lines()
        .map(str::to_string)
        .collect();
    let commit = if changed.is_empty() {
        head.clone()
    } else {
        let message = format!(
            "pystats-gate: uncommitted changes of {} on {}",
            top.display(),
            &head[..head.len().min(12)]
        );
        git(
            &top,
            &["commit-tree", &tree, "-p", &head, "-m", &message],
            None,
        )?
    };
    Ok(Snapshot {
        repo,
        head,
        commit,
        changed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_gate_output_inside_the_tree_is_not_part_of_the_snapshot() {
        let d = tempfile::tempdir().unwrap();
        let top = d.path();
        let run = |args: &[&str]| {
            let st = Command::new("git")
                .arg("-C")
                .arg(top)
                .args(["-c", "user.name=t", "-c", "user.email=t@t"])
                .args(args)
                .status()
                .unwrap();
            assert!(st.success(), "git {args:?}");
        };
        run(&["init", "-q"]);
        std::fs::write(top.join("a.c"), "1").unwrap();
        run(&["add", "a.c"]);
        run(&["commit", "-q", "-m", "init"]);
        std::fs::write(top.join("a.c"), "2").unwrap();
        let first = snapshot(top, &[&top.join("pystats-gate-out")]).unwrap();
        // A gate run writes its reports into the tree (the default --out, run from it).
        let out = top.join("pystats-gate-out");
        std::fs::create_dir(&out).unwrap();
        std::fs::write(out.join(crate::output::OUTPUT_MARKER), "").unwrap();
        std::fs::write(out.join("report.md"), "took 12.3s").unwrap();
        std::fs::create_dir(top.join("sub")).unwrap();
        let second = snapshot(top, &[&top.join("sub/../pystats-gate-out")]).unwrap();
        assert_eq!(second.changed, vec!["a.c".to_string()]);
        assert_eq!(
            second.commit, first.commit,
            "same tree, same commit: cache hit"
        );
        // Without the exclusion the reports were snapshotted as source.
        let unaware = snapshot(top, &[]).unwrap();
        assert_ne!(unaware.commit, first.commit);
        assert!(unaware
            .changed
            .iter()
            .any(|c| c.starts_with("pystats-gate-out/")));
    }
}
