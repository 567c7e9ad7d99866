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
    stdout_with(|w| w.write_all(bytes))
}

/// [`stdout`] for output made as it is written (`write` gets a buffered writer): a large
/// report is never held whole in memory.
pub fn stdout_with(
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    if STDOUT_CLOSED.load(Ordering::Relaxed) {
        return Ok(());
    }
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    match write(&mut out).and_then(|()| out.flush()) {
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

/// Writes a file the user named (`-o FILE`), under the one policy every writer follows:
///
/// - an input (a file of `inputs`, or a file inside an input directory) is never the
///   target, compared by device and inode (a hard link or symlink to an input is one too);
/// - an existing file is replaced only with `force` (pystats-gate cannot tell a file it
///   wrote from the user's); a directory never;
/// - the bytes go to a temporary file in the same directory, renamed over the path: a
///   symlink at the path is replaced, never followed, and a reader never sees half a file;
/// - a device or FIFO (`/dev/null`, `/dev/stdout`) is written in place: it holds no file.
///
/// Refusals are input errors naming the path (exit 2), as are write errors.
pub fn write_file(path: &Path, bytes: &[u8], inputs: &[&Path], force: bool) -> anyhow::Result<()> {
    write_file_with(path, inputs, force, |w| w.write_all(bytes))
}

/// [`write_file`] for output made as it is written (`write` gets a buffered writer), under
/// the same policy.
pub fn write_file_with(
    path: &Path,
    inputs: &[&Path],
    force: bool,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let in_place = check_file_target(path, inputs, force)?;
    let io = |e: std::io::Error| Error::Output(format!("{}: cannot write: {e}", path.display()));
    if in_place {
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(path)
            .map_err(io)?;
        let mut f = std::io::BufWriter::with_capacity(1 << 16, f);
        return write(&mut f)
            .and_then(|()| f.flush())
            .map_err(|e| io(e).into());
    }
    replace_atomically_with(path, write).map_err(|e| io(e).into())
}

/// The refusals of [`write_file`] without the write, for commands that work minutes before
/// writing (a refusal must come first). Ok(true): a device or FIFO, written in place.
pub fn check_file_target(path: &Path, inputs: &[&Path], force: bool) -> anyhow::Result<bool> {
    refuse_inside_inputs(path, inputs)?;
    refuse_input_identity(path, inputs)?;
    let Ok(lmeta) = std::fs::symlink_metadata(path) else {
        return Ok(false);
    };
    if lmeta.is_dir() {
        return Err(Error::input(format!(
            "{}: is a directory; refusing to write a file over it",
            path.display()
        ))
        .into());
    }
    if std::fs::metadata(path).is_ok_and(|m| is_device_like(&m)) {
        return Ok(true);
    }
    if !force {
        return Err(Error::input(format!(
            "{}: exists and pystats-gate cannot tell it wrote it; refusing to replace it (--force replaces it)",
            path.display()
        ))
        .into());
    }
    Ok(false)
}

/// Writes `name` into `dir`, a directory [`claim_dir`] accepted (pystats-gate's own): an
/// existing file there is replaced, atomically, and a symlink is replaced, never followed.
pub fn write_in_claimed_dir(dir: &Path, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let p = dir.join(name);
    replace_atomically(&p, bytes)
        .map_err(|e| Error::Output(format!("{}: cannot write: {e}", p.display())).into())
}

/// Appends `bytes` to `path` in one write (O_APPEND: concurrent appenders never interleave),
/// creating it; the appended file must not be one of `inputs` (by device and inode).
pub fn append_file(path: &Path, bytes: &[u8], inputs: &[&Path]) -> anyhow::Result<()> {
    append_whole(&open_append(path, inputs)?, bytes, path)
}

/// Appends `bytes` (whole lines) to `file`, opened by [`open_append`] from `path`, all or
/// nothing: a write cut short (a full disk) is taken back, since half a line would make
/// every later read of the file fail and the next line would be glued to it. The file is
/// locked meanwhile, so taking back never cuts a line another pystats-gate appended.
pub fn append_whole(file: &std::fs::File, bytes: &[u8], path: &Path) -> anyhow::Result<()> {
    let io = |e: std::io::Error| Error::Output(format!("{}: cannot write: {e}", path.display()));
    // A file system without locks still gets the append (and its taking back).
    let _ = file.lock();
    let start = file.metadata().map_err(io)?.len();
    let mut w = file;
    if let Err(e) = w.write_all(bytes).and_then(|()| w.flush()) {
        let _ = file.set_len(start);
        return Err(io(e).into());
    }
    Ok(())
}

/// Opens `path` for appending (a log, a history: files meant to grow), creating it and its
/// directory; it must not be one of `inputs` (by path or by device and inode).
pub fn open_append(path: &Path, inputs: &[&Path]) -> anyhow::Result<std::fs::File> {
    refuse_input(path, inputs)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::Output(format!("{}: {e}", dir.display())))?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::input(format!("{}: {e}", path.display())).into())
}

/// An output path that is one of `inputs`, lies inside one, or is one under another name
/// (a hard link, a symlink) is an input error: for commands that must refuse before they
/// read the output (an append target is read first).
pub fn refuse_input(path: &Path, inputs: &[&Path]) -> anyhow::Result<()> {
    refuse_inside_inputs(path, inputs)?;
    refuse_input_identity(path, inputs)
}

/// Writes tool-owned state (a cache entry, a stamp, a file of a temporary set) the way
/// [`write_file`] writes outputs: to a temporary file in the same directory renamed over
/// `path`, so a symlink or hard link planted there is replaced, never written through.
pub fn write_state(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    replace_atomically(path, bytes)
}

/// A new, empty file at `path` for tool-owned output written as it comes (a log), under
/// [`write_state`]'s rule: whatever was at `path` is replaced, never truncated or followed.
pub fn create_state_file(path: &Path) -> std::io::Result<std::fs::File> {
    new_state_file(path, |_| Ok(()))
}

/// Copies `from` (contents and permissions) to `to` under [`write_state`]'s rule; returns
/// the new file (to set its times).
pub fn copy_state(from: &Path, to: &Path) -> std::io::Result<std::fs::File> {
    let mut src = std::fs::File::open(from)?;
    let perms = src.metadata()?.permissions();
    new_state_file(to, |f| {
        std::io::copy(&mut src, f)?;
        f.set_permissions(perms)
    })
}

/// A new temporary file in `path`'s directory (so a rename over `path` is atomic).
fn temp_beside(path: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    tempfile::Builder::new()
        .prefix(".pystats-gate-write-")
        .tempfile_in(parent)
}

/// A temporary file next to `path`, filled by `fill`, renamed over `path`.
fn new_state_file(
    path: &Path,
    fill: impl FnOnce(&mut std::fs::File) -> std::io::Result<()>,
) -> std::io::Result<std::fs::File> {
    let mut tmp = temp_beside(path)?;
    fill(tmp.as_file_mut())?;
    tmp.persist(path).map_err(|e| e.error)
}

/// Opens (creating) the lock file `path` for `File::lock`: never truncated, and a symlink
/// there is not followed but replaced by a lock file of our own (a planted link must not
/// make us create or truncate a file elsewhere).
pub fn open_lock(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let open = || {
        std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
    };
    match open() {
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            std::fs::remove_file(path)?;
            open()
        }
        r => r,
    }
}

/// Opens the tool-owned file `path` for appending (a log it created); a symlink there is
/// an error, never followed.
pub fn open_state_append(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .append(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

/// A character or block device, FIFO or socket: written in place, never replaced.
fn is_device_like(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    t.is_char_device() || t.is_block_device() || t.is_fifo() || t.is_socket()
}

/// Writes `bytes` to a temporary file next to `path` and renames it over `path` (which
/// replaces a symlink there instead of writing through it). The file gets the permissions
/// a plain create would (0666 less the umask).
fn replace_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    replace_atomically_with(path, |w| w.write_all(bytes))
}

/// [`replace_atomically`] with the bytes made by `write` as they are written.
fn replace_atomically_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mut tmp = temp_beside(path)?;
    {
        let mut w = std::io::BufWriter::with_capacity(1 << 16, tmp.as_file_mut());
        write(&mut w)?;
        w.flush()?;
    }
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o666 & !umask()))?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The process umask (from /proc/self/status; 022 when unknown): reading it with umask(2)
/// would briefly change it for every thread.
fn umask() -> u32 {
    static MASK: std::sync::OnceLock<u32> = std::sync::OnceLock::new();
    *MASK.get_or_init(|| {
        std::fs::read_to_string("/proc/self/status")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("Umask:"))
                    .and_then(|v| u32::from_str_radix(v.trim(), 8).ok())
            })
            .unwrap_or(0o022)
    })
}

/// The (device, inode) of every input: each file, and each file up to three levels inside
/// an input directory (a stats set's depth), links followed and not.
fn input_identities(inputs: &[&Path]) -> std::collections::HashSet<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    fn walk(dir: &Path, depth: u32, ids: &mut std::collections::HashSet<(u64, u64)>) {
        let Ok(rd) = std::fs::read_dir(dir) else {
            return;
        };
        for e in rd.flatten() {
            let p = e.path();
            for m in [std::fs::symlink_metadata(&p), std::fs::metadata(&p)]
                .into_iter()
                .flatten()
            {
                ids.insert((m.dev(), m.ino()));
            }
            if depth > 0 && e.file_type().is_ok_and(|t| t.is_dir()) {
                walk(&p, depth - 1, ids);
            }
        }
    }
    let mut ids = std::collections::HashSet::new();
    for input in inputs {
        if let Ok(m) = std::fs::metadata(input) {
            ids.insert((m.dev(), m.ino()));
            if m.is_dir() {
                walk(input, 2, &mut ids);
            }
        }
    }
    ids
}

/// An output path that is an input under another name (a hard link, a symlink to it) is
/// an input error: compared by device and inode, not by path.
fn refuse_input_identity(out: &Path, inputs: &[&Path]) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let targets: Vec<(u64, u64)> = [std::fs::symlink_metadata(out), std::fs::metadata(out)]
        .into_iter()
        .flatten()
        .filter(|m| !m.is_dir() && !is_device_like(m))
        .map(|m| (m.dev(), m.ino()))
        .collect();
    if targets.is_empty() {
        return Ok(());
    }
    let ids = input_identities(inputs);
    if targets.iter().any(|t| ids.contains(t)) {
        return Err(Error::input(format!(
            "{}: is an input (the same file by device and inode); refusing to write into an input",
            out.display()
        ))
        .into());
    }
    Ok(())
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
        if !empty && !is_marked(dir) {
            return Err(Error::input(format!(
                "{}: exists, is not empty and was not written by pystats-gate; refusing to write into it (choose a new directory)",
                dir.display()
            ))
            .into());
        }
    } else {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    replace_atomically(&dir.join(OUTPUT_MARKER), MARKER_TEXT).map_err(io)?;
    Ok(())
}

/// What the marker file holds.
const MARKER_TEXT: &[u8] = b"written by pystats-gate\n";

/// True when `dir` holds [`OUTPUT_MARKER`] as a regular file: a symlink named like the
/// marker marks nothing (it would let anyone's directory pass as ours).
fn is_marked(dir: &Path) -> bool {
    std::fs::symlink_metadata(dir.join(OUTPUT_MARKER)).is_ok_and(|m| m.is_file())
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
    if !is_marked(dest) {
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
    write_state(&tmp.join(OUTPUT_MARKER), MARKER_TEXT)
        .map_err(|e| Error::Output(format!("{}: {e}", tmp.display())))?;
    publish_dir(tmp, dest)
        .map_err(|e| Error::Output(format!("{}: cannot publish: {e}", dest.display())).into())
}

// Bounded quoting lives in `text` (every layer quotes input); re-exported for writers.
pub use crate::text::{cap, cap_list, quote};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("report.md");
        std::fs::write(&p, "old").unwrap();
        let failed = write_file_with(&p, &[], true, |w| {
            w.write_all(b"half a new ")?;
            Err(std::io::Error::other("interrupted"))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "old");
        assert_eq!(std::fs::read_dir(d.path()).unwrap().count(), 1);
    }

    #[test]
    fn tool_state_replaces_planted_links_and_locks_truncate_nothing() {
        let d = tempfile::tempdir().unwrap();
        let user = d.path().join("user");
        std::fs::write(&user, "the user's").unwrap();
        // A symlink and a hard link at each name: write_state, create_state_file and
        // copy_state replace them; open_lock neither follows nor truncates.
        let (sym, hard) = (d.path().join("sym"), d.path().join("hard"));
        let plant = || {
            let _ = std::fs::remove_file(&sym);
            let _ = std::fs::remove_file(&hard);
            std::os::unix::fs::symlink(&user, &sym).unwrap();
            std::fs::hard_link(&user, &hard).unwrap();
        };
        plant();
        write_state(&sym, b"ours").unwrap();
        write_state(&hard, b"ours").unwrap();
        plant();
        create_state_file(&sym).unwrap();
        create_state_file(&hard).unwrap();
        plant();
        let src = d.path().join("src");
        std::fs::write(&src, "copied").unwrap();
        copy_state(&src, &sym).unwrap();
        copy_state(&src, &hard).unwrap();
        assert_eq!(std::fs::read_to_string(&hard).unwrap(), "copied");
        plant();
        open_lock(&sym).unwrap().lock().unwrap();
        open_lock(&hard).unwrap();
        assert!(std::fs::symlink_metadata(&sym).unwrap().is_file());
        assert_eq!(std::fs::read_to_string(&user).unwrap(), "the user's");
        // A log is appended to only as the file it is, never through a link.
        assert!(open_state_append(&d.path().join("missing")).is_err());
        std::os::unix::fs::symlink(&user, d.path().join("log")).unwrap();
        assert!(open_state_append(&d.path().join("log")).is_err());
    }

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
    fn write_file_refuses_inputs_by_inode_and_replaces_links_not_targets() {
        let d = tempfile::tempdir().unwrap();
        let set = d.path().join("set");
        std::fs::create_dir_all(set.join("run-1")).unwrap();
        let dump = set.join("run-1/a.txt");
        std::fs::write(&dump, "a : 1\n").unwrap();
        let hard = d.path().join("hard");
        std::fs::hard_link(&dump, &hard).unwrap();
        for force in [false, true] {
            let e = write_file(&hard, b"x", &[&set], force)
                .unwrap_err()
                .to_string();
            assert!(e.contains("refusing to write into an input"), "{e}");
        }
        let mine = d.path().join("mine");
        std::fs::write(&mine, "mine").unwrap();
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&mine, &link).unwrap();
        let e = write_file(&link, b"x", &[&set], false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("--force replaces it"), "{e}");
        write_file(&link, b"new", &[&set], true).unwrap();
        assert_eq!(std::fs::read_to_string(&mine).unwrap(), "mine");
        assert_eq!(std::fs::read_to_string(&link).unwrap(), "new");
        assert!(std::fs::symlink_metadata(&link).unwrap().is_file());
        assert_eq!(std::fs::read_to_string(&dump).unwrap(), "a : 1\n");
        let fresh = d.path().join("fresh");
        write_file(&fresh, b"f", &[&set], false).unwrap();
        assert_eq!(std::fs::read_to_string(&fresh).unwrap(), "f");
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

/// Exit code of a process ended by SIGINT, SIGTERM or SIGHUP (128 + SIGINT, the shell's).
pub const EXIT_INTERRUPTED: i32 = 130;

/// What an interruption must clean up: temporary output directories (half-written sets)
/// and the process groups of running children (benchmarks in their own groups do not get
/// the terminal's Ctrl-C).
#[derive(Default)]
struct Cleanup {
    dirs: Vec<PathBuf>,
    groups: Vec<i32>,
}

/// The one cleanup registry; the signal handler holds its lock until the process exits,
/// and publishing holds it while renaming, so an interruption never lands between the
/// two renames of a replacement.
static CLEANUP: std::sync::Mutex<Cleanup> = std::sync::Mutex::new(Cleanup {
    dirs: vec![],
    groups: vec![],
});

/// Installs (once) the SIGINT/SIGTERM/SIGHUP handler: it kills the registered process
/// groups, removes the registered temporary directories and exits with
/// [`EXIT_INTERRUPTED`]. It runs on its own thread (ctrlc), so it may take locks and remove
/// files, which a plain signal handler may not.
fn install_interrupt_cleanup() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            let c = CLEANUP.lock().unwrap_or_else(|p| p.into_inner());
            for g in &c.groups {
                // SAFETY: kill(2) on a process group; no memory is involved.
                unsafe {
                    libc::kill(-g, libc::SIGKILL);
                }
            }
            for (i, d) in c.dirs.iter().enumerate() {
                remove_under_writers(d, i);
            }
            let _ = writeln!(std::io::stderr(), "interrupted: temporary outputs removed");
            std::process::exit(EXIT_INTERRUPTED);
        });
    });
}

/// Removes `dir` while writer threads may still be adding to it: it is first renamed away
/// (every later write by path fails: writers never recreate the directory itself, they use
/// `create_subdir`), then removed, retrying for a write already under way.
fn remove_under_writers(dir: &Path, n: usize) {
    let dying = dir.with_file_name(format!(".pystats-gate-removing-{}-{n}", std::process::id()));
    let gone = if std::fs::rename(dir, &dying).is_ok() {
        dying
    } else {
        dir.to_path_buf()
    };
    for _ in 0..1000 {
        if std::fs::remove_dir_all(&gone).is_ok() || !gone.exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

fn cleanup() -> std::sync::MutexGuard<'static, Cleanup> {
    CLEANUP.lock().unwrap_or_else(|p| p.into_inner())
}

/// Spawns `cmd` (which leads its own process group: `process_group(0)`) and registers the
/// group to be killed on interruption, under the registry's lock: a signal lands either
/// before the spawn (no child) or after the registration, never between.
/// [`forget_process_group`] once it was killed and reaped.
pub fn spawn_in_group(cmd: &mut std::process::Command) -> std::io::Result<std::process::Child> {
    install_interrupt_cleanup();
    let mut c = cleanup();
    let child = cmd.spawn()?;
    c.groups.push(child.id() as i32);
    Ok(child)
}

/// Undoes [`spawn_in_group`]'s registration.
pub fn forget_process_group(pgid: i32) {
    cleanup().groups.retain(|g| *g != pgid);
}

/// A temporary output directory (a set being written) that is removed when dropped, and
/// also when the process is interrupted (SIGINT, SIGTERM, SIGHUP): no hidden
/// `.pystats-gate-*` directory is left behind either way.
pub struct TempOutput {
    dir: Option<tempfile::TempDir>,
}

impl TempOutput {
    /// Creates `PREFIX*` in `parent` (same file system as the destination: publishing is a
    /// rename).
    pub fn new_in(parent: &Path, prefix: &str) -> std::io::Result<TempOutput> {
        install_interrupt_cleanup();
        let mut c = cleanup();
        let dir = tempfile::Builder::new().prefix(prefix).tempdir_in(parent)?;
        c.dirs.push(dir.path().to_path_buf());
        Ok(TempOutput { dir: Some(dir) })
    }

    pub fn path(&self) -> &Path {
        self.dir.as_ref().map(|d| d.path()).unwrap_or(Path::new(""))
    }
}

/// Creates the directory `dir` inside a [`TempOutput`], not its parents: once an
/// interruption removed the temporary output, a writer still running cannot bring it back
/// (`create_dir_all` would). An existing directory is fine (parallel writers).
pub fn create_subdir(dir: &Path) -> std::io::Result<()> {
    match std::fs::create_dir(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        r => r,
    }
}

impl Drop for TempOutput {
    fn drop(&mut self) {
        if let Some(d) = self.dir.take() {
            let mut c = cleanup();
            c.dirs.retain(|p| p != d.path());
            drop(d);
        }
    }
}

/// Publishes `tmp` as `dest` with a rename, so an interrupted writer never leaves a
/// directory that looks finished. An existing `dest` is replaced.
pub fn publish_dir(tmp: &Path, dest: &Path) -> std::io::Result<()> {
    // No interruption between moving the old `dest` aside and moving `tmp` in.
    let _uninterrupted = cleanup();
    // Not `exists()`: a symlink at `dest` is moved aside, its target left alone.
    if std::fs::symlink_metadata(dest).is_ok() {
        // The old entry goes into a fresh hidden directory beside `dest`: no name there can
        // be a file of the user's, and dropping the directory removes the entry whatever it
        // is (a symlink's target left alone), so nothing is left behind renamed.
        let parent = dest
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let aside = tempfile::Builder::new()
            .prefix(".pystats-gate-old-")
            .tempdir_in(parent)?;
        let old = aside.path().join("old");
        std::fs::rename(dest, &old)?;
        let moved = std::fs::rename(tmp, dest);
        // Nothing took its place: a failed publish puts the old `dest` back, and keeps it
        // aside rather than lose it when even that fails.
        if moved.is_err()
            && std::fs::symlink_metadata(dest).is_err()
            && std::fs::rename(&old, dest).is_err()
        {
            let _ = aside.keep();
        }
        moved
    } else {
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::rename(tmp, dest)
    }
}
