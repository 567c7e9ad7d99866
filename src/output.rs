//! The one writer: stdout that survives a closed pipe, files and directories that clobber nothing.
//!
//! Output directories never replace anything pystats-gate did not create, nor an input set.

use crate::error::Error;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// Name of the file that marks a directory as written by pystats-gate (so a rerun may
/// replace what it wrote, and nothing else).
pub const OUTPUT_MARKER: &str = ".pystats-gate-output";

/// File name of the manifest at the root of a stats set: a directory holding one is ours too
/// (defined here, the one writer, and re-exported by `stats::set`).
pub const MANIFEST_FILE: &str = "manifest.json";

/// Set once stdout's reader has gone away: later output is dropped quietly.
static STDOUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes `bytes` to stdout and flushes. A closed pipe (`| head -1`) is not an error: the
/// rest of the output is dropped and the command keeps its exit code. Any other write error
/// (`> /dev/full`) is an output error (exit 2).
pub fn stdout(bytes: &[u8]) -> anyhow::Result<()> {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {
            STDOUT_CLOSED.store(true, Ordering::Relaxed);
            Ok(())
        }
        Err(e) => Err(Error::Output(format!("writing to standard output: {e}")).into()),
    }
}

/// [`stdout`] for text.
pub fn print(text: &str) -> anyhow::Result<()> {
    stdout(text.as_bytes())
}

/// Writes a file the user named (`-o FILE`): the error names it (exit 2). The file must not
/// lie inside one of `inputs` (input sets are never written into).
pub fn write_file(path: &Path, bytes: &[u8], inputs: &[&Path]) -> anyhow::Result<()> {
    refuse_inside_inputs(path, inputs)?;
    std::fs::write(path, bytes)
        .map_err(|e| Error::Output(format!("{}: cannot write: {e}", path.display())).into())
}

/// An absolute, symlink-resolved form of `p` as far as it exists (the rest appended), so
/// `a/../b` and links compare equal to what they point at.
pub(crate) fn resolved(p: &Path) -> PathBuf {
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(p)
    };
    let mut existing = abs.as_path();
    let mut rest: Vec<&std::ffi::OsStr> = vec![];
    loop {
        if let Ok(c) = existing.canonicalize() {
            let mut out = c;
            for r in rest.iter().rev() {
                out.push(r);
            }
            return out;
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name);
                existing = parent;
            }
            _ => return abs,
        }
    }
}

/// An output path inside an input set is an input error: pystats-gate never writes into
/// the data it reads.
pub fn refuse_inside_inputs(out: &Path, inputs: &[&Path]) -> anyhow::Result<()> {
    let o = resolved(out);
    for input in inputs {
        let i = resolved(input);
        if o.starts_with(&i) {
            return Err(Error::input(format!(
                "{}: is inside the input {}; refusing to write into an input",
                out.display(),
                input.display()
            ))
            .into());
        }
    }
    Ok(())
}

/// Makes `dir` ready to receive pystats-gate's outputs: creates it, or accepts it when it
/// is empty or carries [`OUTPUT_MARKER`] (pystats-gate made it). Anything else is refused:
/// the user's files are never overwritten or deleted.
pub fn claim_dir(dir: &Path, inputs: &[&Path]) -> anyhow::Result<()> {
    refuse_inside_inputs(dir, inputs)?;
    for input in inputs {
        // An output directory that holds an input would be written around the user's data.
        if resolved(input).starts_with(resolved(dir)) {
            return Err(Error::input(format!(
                "{}: holds the input {}; choose another output directory",
                dir.display(),
                input.display()
            ))
            .into());
        }
    }
    let io = |e: std::io::Error| Error::Output(format!("{}: {e}", dir.display()));
    if dir.exists() {
        if !dir.is_dir() {
            return Err(Error::input(format!(
                "{}: exists and is not a directory; refusing to replace it",
                dir.display()
            ))
            .into());
        }
        let empty = std::fs::read_dir(dir).map_err(io)?.next().is_none();
        if !empty && !dir.join(OUTPUT_MARKER).is_file() {
            return Err(Error::input(format!(
                "{}: exists, is not empty and was not written by pystats-gate; refusing to write into it (choose a new directory)",
                dir.display()
            ))
            .into());
        }
    } else {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    std::fs::write(dir.join(OUTPUT_MARKER), b"written by pystats-gate\n").map_err(io)?;
    Ok(())
}

/// True when `dest` may be replaced by a freshly written stats set: it does not exist, is
/// an empty directory, or is a set pystats-gate wrote (marker present) holding nothing but
/// what a set holds (manifest, marker, repeat directories of `*.txt` dumps).
pub fn set_is_replaceable(dest: &Path) -> bool {
    let Ok(meta) = std::fs::symlink_metadata(dest) else {
        return true;
    };
    if !meta.is_dir() {
        return false;
    }
    let Ok(entries) = std::fs::read_dir(dest) else {
        return false;
    };
    let entries: Vec<_> = entries.filter_map(|e| e.ok()).collect();
    if entries.is_empty() {
        return true;
    }
    if !dest.join(OUTPUT_MARKER).is_file() {
        return false;
    }
    entries.iter().all(|e| {
        let name = e.file_name().to_string_lossy().to_string();
        let p = e.path();
        match e.file_type() {
            Ok(t) if t.is_file() => name == OUTPUT_MARKER || name == MANIFEST_FILE,
            Ok(t) if t.is_dir() => std::fs::read_dir(&p).is_ok_and(|rd| {
                rd.filter_map(|f| f.ok()).all(|f| {
                    f.file_type().is_ok_and(|t| t.is_file())
                        && f.path().extension().is_some_and(|x| x == "txt")
                })
            }),
            _ => false,
        }
    })
}

/// Publishes a finished set directory `tmp` as the user's `dest`, marking it as ours;
/// refuses (exit 2) when `dest` holds anything pystats-gate did not write.
pub fn publish_set_dir(tmp: &Path, dest: &Path) -> anyhow::Result<()> {
    if !set_is_replaceable(dest) {
        return Err(Error::input(format!(
            "{}: exists and is not a stats set written by pystats-gate; refusing to replace it (choose a new directory)",
            dest.display()
        ))
        .into());
    }
    std::fs::write(tmp.join(OUTPUT_MARKER), b"written by pystats-gate\n")
        .map_err(|e| Error::Output(format!("{}: {e}", tmp.display())))?;
    publish_dir(tmp, dest)
        .map_err(|e| Error::Output(format!("{}: cannot publish: {e}", dest.display())).into())
}

/// Quotes at most a few hundred bytes of untrusted input for an error message.
pub fn quote(bytes: &[u8]) -> String {
    const MAX: usize = 200;
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(MAX)]);
    let text = text.trim();
    if bytes.len() > MAX {
        format!("{text:?}... ({} bytes in all)", bytes.len())
    } else {
        format!("{text:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_dir_refuses_foreign_non_empty_dirs() {
        let d = tempfile::tempdir().unwrap();
        let user = d.path().join("mine");
        std::fs::create_dir(&user).unwrap();
        std::fs::write(user.join("notes.txt"), "keep me").unwrap();
        let e = claim_dir(&user, &[]).unwrap_err().to_string();
        assert!(e.contains("not written by pystats-gate"), "{e}");
        assert_eq!(
            std::fs::read_to_string(user.join("notes.txt")).unwrap(),
            "keep me"
        );
        let fresh = d.path().join("new");
        claim_dir(&fresh, &[]).unwrap();
        claim_dir(&fresh, &[]).unwrap();
    }

    #[test]
    fn outputs_inside_inputs_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let set = d.path().join("set");
        std::fs::create_dir(&set).unwrap();
        assert!(refuse_inside_inputs(&set.join("x.md"), &[&set]).is_err());
        assert!(refuse_inside_inputs(&set.join("sub/../y"), &[&set]).is_err());
        assert!(claim_dir(d.path(), &[&set]).is_err());
        assert!(refuse_inside_inputs(&d.path().join("report.md"), &[&set]).is_ok());
    }

    #[test]
    fn quote_bounds_the_message() {
        let big = vec![b'x'; 10_000_000];
        let q = quote(&big);
        assert!(q.len() < 300, "{}", q.len());
        assert!(q.contains("10000000 bytes"));
    }

    #[test]
    fn user_files_make_a_set_irreplaceable() {
        let d = tempfile::tempdir().unwrap();
        let s = d.path().join("s");
        std::fs::create_dir_all(s.join("run-1")).unwrap();
        std::fs::write(s.join(OUTPUT_MARKER), "").unwrap();
        std::fs::write(s.join("run-1/a.txt"), "").unwrap();
        assert!(set_is_replaceable(&s));
        std::fs::write(s.join("README"), "mine").unwrap();
        assert!(!set_is_replaceable(&s));
    }
}

/// Publishes `tmp` as `dest` with a rename, so an interrupted writer never leaves a
/// directory that looks finished. An existing `dest` is replaced.
pub fn publish_dir(tmp: &Path, dest: &Path) -> std::io::Result<()> {
    if dest.exists() {
        let old = dest.with_extension(format!("old.{}", std::process::id()));
        std::fs::rename(dest, &old)?;
        std::fs::rename(tmp, dest)?;
        let _ = std::fs::remove_dir_all(&old);
        Ok(())
    } else {
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::rename(tmp, dest)
    }
}
