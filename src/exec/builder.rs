//! Builds `--enable-pystats` CPython interpreters: persistent worktree + incremental make, cached relocatable results.
//!
//! Layout under the cache root:
//! - `repos/<hash of repo path>/{src,build,logs,lock}`: one persistent git worktree (`src`,
//!   moved between revisions with `git checkout`, which keeps the mtimes of unchanged files)
//!   and one out-of-tree build directory configured as `../src/configure`, so `make` only
//!   rebuilds what changed. `sources/<hash of path>/...` is the same for plain source trees
//!   (`src` is then a copy kept in sync file by file).
//! - `builds/<commit>-<flags hash>/`: a finished, self-contained result: `build/python`,
//!   `build/pybuilddir.txt`, `build/build/lib.*` and `src/Lib`. The interpreter finds its
//!   stdlib through the compiled-in relative VPATH (`../src`), so the copy works wherever it
//!   lives and whatever revision the persistent worktree moves to. Results are published with
//!   a rename, so an interrupted build never leaves a directory that looks finished.

use crate::error::Error;
use crate::exec::cache;
use crate::exec::progress::Progress;
use anyhow::Context;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// File written last into a build result; its presence means the result is complete.
pub const BUILD_INFO_FILE: &str = "build-info.json";
/// Lines of the build log quoted in a build failure.
const LOG_TAIL_LINES: usize = 25;

/// Where builds and caches live and how to configure CPython (commands/ fills it from the
/// command line's build options).
#[derive(Clone, Debug, Default)]
pub struct BuildConfig {
    /// Cache root (None: $PYSTATS_GATE_CACHE or ~/.cache/pystats-gate).
    pub cache_dir: Option<PathBuf>,
    /// Extra ./configure flags (`--tier2` already folded in); recorded in the build id.
    pub configure_flags: Vec<String>,
    /// Parallel make jobs (None: number of cores).
    pub make_jobs: Option<usize>,
    /// Plain progress lines only.
    pub quiet: bool,
}

/// A built interpreter, ready to run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BuiltPython {
    /// The interpreter binary (inside `dir`).
    pub python: PathBuf,
    /// Full git commit, or `tree-<content hash>` for a plain source tree.
    pub commit: String,
    /// `<commit>-<flags hash>`: the name of the cached result.
    pub build_id: String,
    /// The cached result directory.
    pub dir: PathBuf,
    /// Wall time of configure + make + packaging (0 when cached).
    pub build_seconds: f64,
    /// The result came from the cache without building.
    pub cached: bool,
    /// Of `build_seconds`, the time spent in configure + make (the rest is checkout,
    /// packaging and verification: harness overhead).
    #[serde(default)]
    pub make_seconds: f64,
    /// `sys.version` of the interpreter.
    #[serde(default)]
    pub python_version: String,
    /// Flags given to configure (besides `--enable-pystats`).
    #[serde(default)]
    pub configure_flags: Vec<String>,
}

/// What is being built: a git revision or a plain source tree.
enum Origin<'a> {
    Git { repo: &'a Path, commit: String },
    Tree { src: &'a Path, commit: String },
}

/// Builds revision `rev` of the git checkout `repo` (cached by commit and flags).
pub fn build_revision(repo: &Path, rev: &str, opts: &BuildConfig) -> anyhow::Result<BuiltPython> {
    let commit = resolve_commit(repo, rev)?;
    build(
        Origin::Git {
            repo,
            commit: commit.clone(),
        },
        rev,
        opts,
    )
}

/// Builds a plain CPython source tree (no git), cached by a hash of its contents.
pub fn build_source(src: &Path, opts: &BuildConfig) -> anyhow::Result<BuiltPython> {
    if !src.join("configure").is_file() || !src.join("Python/ceval.c").is_file() {
        return Err(Error::input(format!(
            "{}: not a CPython source tree (no configure or Python/ceval.c)",
            src.display()
        ))
        .into());
    }
    let commit = format!("tree-{}", &tree_hash(src)?[..40]);
    build(
        Origin::Tree {
            src,
            commit: commit.clone(),
        },
        &src.display().to_string(),
        opts,
    )
}

/// Resolves `rev` to a full commit hash (exit 2 if it does not name a commit).
pub fn resolve_commit(repo: &Path, rev: &str) -> anyhow::Result<String> {
    if !repo.is_dir() {
        return Err(Error::input(format!("--repo {}: no such directory", repo.display())).into());
    }
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["rev-parse", "--verify", "--quiet"])
        .arg(format!("{rev}^{{commit}}"))
        .output()
        .context("running git")?;
    if !out.status.success() {
        return Err(Error::input(format!(
            "{}: `{rev}` is not a commit of this repository",
            repo.display()
        ))
        .into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// Hash of the configure flags (and of the build recipe version), part of the build id.
pub fn flags_hash(flags: &[String]) -> String {
    let mut h = Sha256::new();
    h.update(b"pystats-gate build v2\n--enable-pystats\n");
    for f in flags {
        h.update(f.as_bytes());
        h.update(b"\n");
    }
    hex::encode(h.finalize())[..16].to_string()
}

fn path_key(p: &Path) -> String {
    let canon = fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    hex::encode(Sha256::digest(canon.to_string_lossy().as_bytes()))[..16].to_string()
}

/// The cached result for (commit, flags), if complete.
pub fn cached_result(opts: &BuildConfig, commit: &str) -> Option<BuiltPython> {
    let root = cache::cache_root(opts.cache_dir.as_deref());
    let dir = root
        .join("builds")
        .join(format!("{commit}-{}", flags_hash(&opts.configure_flags)));
    read_result(&dir)
}

fn read_result(dir: &Path) -> Option<BuiltPython> {
    let text = fs::read_to_string(dir.join(BUILD_INFO_FILE)).ok()?;
    let mut info: BuiltPython = serde_json::from_str(&text).ok()?;
    // The result may have been moved with its cache root: paths follow the directory.
    info.dir = dir.to_path_buf();
    info.python = dir.join("build/python");
    info.cached = true;
    info.python.is_file().then_some(info)
}

fn build(origin: Origin<'_>, label: &str, opts: &BuildConfig) -> anyhow::Result<BuiltPython> {
    let root = cache::cache_root(opts.cache_dir.as_deref());
    let (commit, work) = match &origin {
        Origin::Git { repo, commit } => (commit.clone(), root.join("repos").join(path_key(repo))),
        Origin::Tree { src, commit } => (commit.clone(), root.join("sources").join(path_key(src))),
    };
    let build_id = format!("{commit}-{}", flags_hash(&opts.configure_flags));
    let dest = root.join("builds").join(&build_id);
    if let Some(hit) = read_result(&dest) {
        return Ok(hit);
    }
    let cache = |e: std::io::Error| Error::output(format!("{}: {e}", work.display()));
    fs::create_dir_all(&work).map_err(cache)?;
    let lock = crate::output::open_lock(&work.join("lock")).map_err(cache)?;
    let short = &commit[..commit.len().min(17)];
    let progress = Progress::new(&format!("build {short}"), 0, opts.quiet);
    wait_for_worktree(&lock, &work, &progress)?;
    if let Some(hit) = read_result(&dest) {
        progress.finish(&format!("{short} was built meanwhile by another process"));
        return Ok(hit);
    }
    let started = Instant::now();
    let src = work.join("src");
    let bdir = work.join("build");
    let logs = work.join("logs");
    fs::create_dir_all(&logs).map_err(cache)?;
    let log_path = logs.join(format!("{build_id}.log"));
    let mut log = BuildLog::create(&log_path)?;

    progress.message(&format!("checking out {label}"));
    match &origin {
        Origin::Git { repo, commit } => checkout(repo, &src, commit, &mut log)?,
        Origin::Tree { src: from, .. } => sync_tree(from, &src)?,
    }

    let make_seconds = configure_and_make(&root, &work, opts, &mut log, &progress, None)?;

    progress.message("packaging");
    let tmp = fresh_package_dir(&root, &build_id)?;
    let python_version = package_and_verify(&src, &bdir, &tmp, &log_path)?;
    let info = BuiltPython {
        python: dest.join("build/python"),
        commit: commit.clone(),
        build_id: build_id.clone(),
        dir: dest.clone(),
        build_seconds: started.elapsed().as_secs_f64(),
        cached: false,
        make_seconds,
        python_version,
        configure_flags: opts.configure_flags.clone(),
    };
    crate::output::write_state(
        &tmp.join(BUILD_INFO_FILE),
        serde_json::to_string_pretty(&info)?.as_bytes(),
    )
    .map_err(|e| Error::output(format!("{}: {e}", tmp.display())))?;
    crate::output::publish_dir(&tmp, &dest)
        .with_context(|| format!("publishing {}", dest.display()))?;
    progress.finish(&format!(
        "built {short} in {:.1}s -> {}",
        info.build_seconds,
        info.python.display()
    ));
    Ok(info)
}

/// A new directory under `builds/` to package `build_id` into (random name, created
/// exclusively: nothing planted at a predictable name redirects the packaging), after
/// removing what interrupted packagings of it left over an hour ago.
fn fresh_package_dir(root: &Path, build_id: &str) -> anyhow::Result<PathBuf> {
    let builds = root.join("builds");
    remove_stale_packagings(&builds, build_id);
    Ok(fs::create_dir_all(&builds)
        .and_then(|()| {
            tempfile::Builder::new()
                .prefix(&format!(".tmp-{build_id}-"))
                .tempdir_in(&builds)
        })
        .map_err(|e| Error::output(format!("{}: {e}", builds.display())))?
        .keep())
}

/// Takes the worktree's lock: tests and parallel gates share one worktree per repository,
/// so one builder at a time. Says so while waiting, or a person sees nothing for minutes.
fn wait_for_worktree(lock: &fs::File, work: &Path, progress: &Progress) -> anyhow::Result<()> {
    if lock.try_lock().is_err() {
        progress.message(&format!("waiting for another build in {}", work.display()));
        lock.lock()
            .map_err(|e| Error::output(format!("{}: {e}", work.display())))?;
    }
    Ok(())
}

/// Removes leftovers of interrupted packagings of build `build_id` from `builds`.
fn remove_stale_packagings(builds: &Path, build_id: &str) {
    let stale = format!(".tmp-{build_id}-");
    if let Ok(rd) = fs::read_dir(builds) {
        for e in rd.flatten() {
            // Another repository may be packaging the same commit right now: only old ones.
            let old = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() > 3600);
            if old && e.file_name().to_string_lossy().starts_with(&stale) {
                let _ = fs::remove_dir_all(e.path());
            }
        }
    }
}

/// Copies the built interpreter and its stdlib into `tmp`, checks that the copy runs there
/// and keeps the build log beside it; returns the interpreter's version.
fn package_and_verify(
    src: &Path,
    bdir: &Path,
    tmp: &Path,
    log_path: &Path,
) -> anyhow::Result<String> {
    package(src, bdir, tmp)
        .map_err(|e| Error::Build(format!("packaging into {}: {e:#}", tmp.display())))?;
    let python_version = verify(&tmp.join("build/python"), tmp).map_err(|e| {
        Error::Build(format!(
            "the built interpreter does not work after relocation: {e:#}\nbuild log: {}",
            log_path.display()
        ))
    })?;
    let _ = crate::output::copy_state(log_path, &tmp.join("build.log"));
    Ok(python_version)
}

/// Configures the worktree's build directory if its configure stamp changed, then runs
/// `make`; returns the seconds spent.
fn configure_and_make(
    root: &Path,
    work: &Path,
    opts: &BuildConfig,
    log: &mut BuildLog,
    progress: &Progress,
    target: Option<&str>,
) -> anyhow::Result<f64> {
    let (src, bdir) = (work.join("src"), work.join("build"));
    let use_ccache = which("ccache") && !opts.configure_flags.iter().any(|f| f.starts_with("CC="));
    let stamp = configure_stamp(&src, opts, use_ccache)?;
    let stamp_path = bdir.join(".pystats-gate-configured");
    let mut configure_seconds = 0.0;
    if fs::read_to_string(&stamp_path).ok().as_deref() != Some(stamp.as_str()) {
        let configure_started = Instant::now();
        progress.message("configure");
        if bdir.exists() {
            fs::remove_dir_all(&bdir)?;
        }
        fs::create_dir_all(&bdir)?;
        let mut cmd = Command::new("../src/configure");
        cmd.current_dir(&bdir).arg("--enable-pystats");
        cmd.args(&opts.configure_flags);
        if use_ccache {
            cmd.arg("CC=ccache gcc");
        }
        ccache_env(&mut cmd, root, work);
        log.run(&mut cmd, "configure")?;
        crate::output::write_state(&stamp_path, stamp.as_bytes())?;
        configure_seconds = configure_started.elapsed().as_secs_f64();
    }

    let make_started = Instant::now();
    let jobs = opts.make_jobs.unwrap_or_else(cores);
    progress.message(&format!("make -j{jobs}"));
    let mut cmd = Command::new("make");
    cmd.current_dir(&bdir).arg(format!("-j{jobs}"));
    cmd.args(target);
    ccache_env(&mut cmd, root, work);
    log.run(&mut cmd, "make")?;
    let make_seconds = make_started.elapsed().as_secs_f64() + configure_seconds;
    Ok(make_seconds)
}

/// The persistent build worktree of a git checkout, locked for in-place source edits
/// (mutation testing): edit a file under `src`, [`Worktree::make`], run `python`.
pub struct Worktree {
    pub src: PathBuf,
    pub python: PathBuf,
    root: PathBuf,
    work: PathBuf,
    opts: BuildConfig,
    log_path: PathBuf,
    _lock: fs::File,
}

impl Worktree {
    /// Checks `rev` out into the worktree of `repo`, configures and builds it; the lock is
    /// held until the value is dropped (other builds of `repo` wait).
    pub fn open(repo: &Path, rev: &str, opts: &BuildConfig) -> anyhow::Result<Worktree> {
        let commit = resolve_commit(repo, rev)?;
        let root = cache::cache_root(opts.cache_dir.as_deref());
        let work = root.join("repos").join(path_key(repo));
        let cache = |e: std::io::Error| Error::output(format!("{}: {e}", work.display()));
        fs::create_dir_all(work.join("logs")).map_err(cache)?;
        let lock = crate::output::open_lock(&work.join("lock")).map_err(cache)?;
        lock.lock().map_err(cache)?;
        let log_path = work.join("logs").join("worktree.log");
        let mut log = BuildLog::create(&log_path)?;
        checkout(repo, &work.join("src"), &commit, &mut log)?;
        let progress = Progress::new("worktree", 0, opts.quiet);
        configure_and_make(&root, &work, opts, &mut log, &progress, None)?;
        Ok(Worktree {
            src: work.join("src"),
            python: work.join("build/python"),
            root,
            work,
            opts: opts.clone(),
            log_path,
            _lock: lock,
        })
    }

    /// Incremental `make` (of `target`, default all) after an edit; the error quotes the
    /// build log's tail.
    pub fn make(&self, target: Option<&str>) -> anyhow::Result<f64> {
        let mut log = BuildLog::create(&self.log_path)?;
        let progress = Progress::new("make", 0, true);
        configure_and_make(
            &self.root, &self.work, &self.opts, &mut log, &progress, target,
        )
    }
}

/// Number of CPU cores (at least 1).
pub fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

fn which(prog: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(prog).is_file()))
}

fn ccache_env(cmd: &mut Command, root: &Path, work: &Path) {
    if std::env::var_os("CCACHE_DIR").is_none() {
        cmd.env("CCACHE_DIR", root.join("ccache"));
    }
    // Relative paths + no cwd in the hash: every worktree shares one warm ccache.
    cmd.env("CCACHE_BASEDIR", work);
    cmd.env("CCACHE_NOHASHDIR", "1");
}

/// What configure depends on: flags, compiler choice and the configure script itself.
fn configure_stamp(src: &Path, opts: &BuildConfig, ccache: bool) -> anyhow::Result<String> {
    let script = fs::read(src.join("configure"))
        .with_context(|| format!("reading {}/configure", src.display()))?;
    Ok(format!(
        "flags={:?}\nccache={ccache}\nconfigure={}\n",
        opts.configure_flags,
        hex::encode(Sha256::digest(&script))
    ))
}

/// Moves the persistent worktree to `commit` (creating it on first use).
fn checkout(repo: &Path, src: &Path, commit: &str, log: &mut BuildLog) -> anyhow::Result<()> {
    if src.join(".git").exists() {
        let mut cmd = Command::new("git");
        cmd.arg("-C")
            .arg(src)
            .args(["checkout", "--quiet", "--detach", "--force", commit]);
        if log.run_git(&mut cmd).is_ok() {
            return Ok(());
        }
        // A broken worktree (repository moved, worktree pruned): start over.
        fs::remove_dir_all(src)?;
    } else if src.exists() {
        fs::remove_dir_all(src)?;
    }
    let mut prune = Command::new("git");
    prune.arg("-C").arg(repo).args(["worktree", "prune"]);
    let _ = log.run_git(&mut prune);
    let mut add = Command::new("git");
    add.arg("-C")
        .arg(repo)
        .args(["worktree", "add", "--quiet", "--detach", "--force"])
        .arg(src)
        .arg(commit);
    log.run(&mut add, "git worktree add")
}

/// Content hash of a plain source tree (paths + bytes), skipping caches and VCS dirs.
fn tree_hash(root: &Path) -> anyhow::Result<String> {
    let mut files = vec![];
    walk(root, root, &mut files)?;
    files.sort();
    let mut h = Sha256::new();
    for rel in files {
        h.update(rel.to_string_lossy().as_bytes());
        h.update(b"\0");
        let bytes = fs::read(root.join(&rel))
            .map_err(|e| Error::input(format!("{}: {e}", root.join(&rel).display())))?;
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(&bytes);
    }
    Ok(hex::encode(h.finalize()))
}

fn skipped(name: &str) -> bool {
    matches!(name, ".git" | "__pycache__" | ".hg" | ".complete")
}

/// Relative paths of regular files under `dir` (symlinks kept as files of their target).
fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let name = entry.file_name();
        if skipped(&name.to_string_lossy()) {
            continue;
        }
        let p = entry.path();
        let ft = entry.file_type()?;
        if ft.is_dir() {
            walk(root, &p, out)?;
        } else if ft.is_file() {
            out.push(p.strip_prefix(root).unwrap().to_path_buf());
        }
    }
    Ok(())
}

/// Makes `to` a copy of `from`, rewriting only files whose size or mtime differ (mtimes are
/// copied), so make rebuilds only what changed.
fn sync_tree(from: &Path, to: &Path) -> anyhow::Result<()> {
    let mut files = vec![];
    walk(from, from, &mut files)?;
    let wanted: std::collections::HashSet<PathBuf> = files.iter().cloned().collect();
    for rel in &files {
        let s = from.join(rel);
        let d = to.join(rel);
        let sm = fs::metadata(&s)?;
        // Not following links: a file is the same only as a regular file of our own.
        let same = fs::symlink_metadata(&d).is_ok_and(|dm| {
            dm.is_file() && dm.len() == sm.len() && dm.modified().ok() == sm.modified().ok()
        });
        if !same {
            if let Some(parent) = d.parent() {
                fs::create_dir_all(parent)?;
            }
            // Replaced, never written through: a link at `d` keeps what it points at.
            let f = crate::output::copy_state(&s, &d)
                .with_context(|| format!("copying {}", s.display()))?;
            f.set_modified(sm.modified()?)?;
        }
    }
    let mut present = vec![];
    if to.exists() {
        walk(to, to, &mut present)?;
    }
    for rel in present {
        if !wanted.contains(&rel) {
            let _ = fs::remove_file(to.join(rel));
        }
    }
    Ok(())
}

/// Copies what the interpreter needs at run time into `tmp` (see the module doc).
fn package(src: &Path, bdir: &Path, tmp: &Path) -> anyhow::Result<()> {
    let tb = tmp.join("build");
    fs::create_dir_all(&tb)?;
    crate::output::copy_state(&bdir.join("python"), &tb.join("python"))?;
    let pybuilddir = fs::read_to_string(bdir.join("pybuilddir.txt"))?;
    crate::output::write_state(&tb.join("pybuilddir.txt"), pybuilddir.as_bytes())?;
    let libdir = pybuilddir.trim();
    copy_dir(&bdir.join(libdir), &tb.join(libdir), &|_| true)?;
    // The test suite is most of Lib and no benchmark imports it.
    copy_dir(&src.join("Lib"), &tmp.join("src/Lib"), &|rel: &Path| {
        rel != Path::new("test") && !rel.ends_with("__pycache__")
    })?;
    // What metadata::Metadata::from_source and summarize_stats.py read, so the result
    // describes its own revision after the worktree moved on.
    for rel in [
        "Tools/scripts/summarize_stats.py",
        "Include/cpython/pystats.h",
        "Include/pystats.h",
        "Python/specialize.c",
    ] {
        let from = src.join(rel);
        if from.is_file() {
            let to = tmp.join("src").join(rel);
            fs::create_dir_all(to.parent().unwrap())?;
            crate::output::copy_state(&from, &to)?;
        }
    }
    Ok(())
}

fn copy_dir(from: &Path, to: &Path, keep: &dyn Fn(&Path) -> bool) -> anyhow::Result<()> {
    copy_dir_rel(from, to, Path::new(""), keep)
}

fn copy_dir_rel(
    from: &Path,
    to: &Path,
    rel: &Path,
    keep: &dyn Fn(&Path) -> bool,
) -> anyhow::Result<()> {
    fs::create_dir_all(to.join(rel))?;
    for entry in fs::read_dir(from.join(rel))? {
        let entry = entry?;
        let r = rel.join(entry.file_name());
        if !keep(&r) {
            continue;
        }
        // Follow symlinks: the build's lib dir links to ../../Modules/*.so, which would
        // dangle in the copy.
        let meta = fs::metadata(entry.path())
            .with_context(|| format!("reading {}", entry.path().display()))?;
        if meta.is_dir() {
            copy_dir_rel(from, to, &r, keep)?;
        } else {
            crate::output::copy_state(&entry.path(), &to.join(&r))?;
        }
    }
    Ok(())
}

/// Runs the relocated interpreter once: it must find its own stdlib and have pystats.
fn verify(python: &Path, dir: &Path) -> anyhow::Result<String> {
    let out = Command::new(python)
        .args([
            "-I",
            "-c",
            "import sys, os, json, math, _struct, _asyncio; print(json.dumps([sys.version, os.__file__, hasattr(sys, '_stats_on')]))",
        ])
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("running {}", python.display()))?;
    if !out.status.success() {
        anyhow::bail!(
            "{} exited with {}: {}",
            python.display(),
            out.status,
            crate::text::quote(&out.stderr)
        );
    }
    let (version, os_file, has_stats): (String, String, bool) =
        serde_json::from_slice(&out.stdout).context("parsing the interpreter's self-report")?;
    let dir = fs::canonicalize(dir)?;
    if !Path::new(&os_file).starts_with(&dir) {
        anyhow::bail!(
            "stdlib found at {os_file}, outside the result {}",
            dir.display()
        );
    }
    if !has_stats {
        anyhow::bail!("interpreter lacks sys._stats_on: not an --enable-pystats build");
    }
    Ok(version)
}

/// The build log: every command's output is appended; failures quote its tail.
struct BuildLog {
    path: PathBuf,
}

impl BuildLog {
    fn create(path: &Path) -> anyhow::Result<BuildLog> {
        // Replaced, never truncated through a link planted at the log's name.
        crate::output::create_state_file(path)?;
        Ok(BuildLog {
            path: path.to_path_buf(),
        })
    }

    fn append(&self) -> anyhow::Result<fs::File> {
        Ok(crate::output::open_state_append(&self.path)?)
    }

    /// Runs `cmd` with output into the log; failure is a build error quoting the log's tail.
    fn run(&mut self, cmd: &mut Command, what: &str) -> anyhow::Result<()> {
        {
            use std::io::Write;
            let mut f = self.append()?;
            writeln!(f, "$ {cmd:?}")?;
        }
        let status = cmd
            .stdin(Stdio::null())
            .stdout(self.append()?)
            .stderr(self.append()?)
            .status()
            .with_context(|| format!("starting {what}"))?;
        if status.success() {
            return Ok(());
        }
        let text = fs::read_to_string(&self.path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(LOG_TAIL_LINES)..].join("\n");
        Err(Error::Build(format!(
            "{what} failed ({status})\n--- last lines of the build log ---\n{tail}\n--- full log: {} ---",
            self.path.display()
        ))
        .into())
    }

    /// A git step: logged like the others.
    fn run_git(&mut self, cmd: &mut Command) -> anyhow::Result<()> {
        self.run(cmd, "git")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_hash_depends_on_flags_and_order() {
        let a = flags_hash(&[]);
        let b = flags_hash(&["--with-lto".into()]);
        assert_ne!(a, b);
        assert_eq!(a, flags_hash(&[]));
        assert_eq!(a.len(), 16);
    }

    #[test]
    fn sync_tree_copies_changes_and_removes_extras() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        fs::create_dir_all(a.path().join("x")).unwrap();
        fs::write(a.path().join("x/f.c"), "1").unwrap();
        fs::write(b.path().join("old.c"), "0").unwrap();
        sync_tree(a.path(), b.path()).unwrap();
        assert_eq!(fs::read_to_string(b.path().join("x/f.c")).unwrap(), "1");
        assert!(!b.path().join("old.c").exists());
        let m1 = fs::metadata(b.path().join("x/f.c"))
            .unwrap()
            .modified()
            .unwrap();
        sync_tree(a.path(), b.path()).unwrap();
        let m2 = fs::metadata(b.path().join("x/f.c"))
            .unwrap()
            .modified()
            .unwrap();
        assert_eq!(m1, m2);
        assert_eq!(tree_hash(a.path()).unwrap(), tree_hash(b.path()).unwrap());
    }
}
