//! Runs the corpus on an interpreter, each run with a private /tmp/py_stats, writing a stats set + manifest.
//!
//! CPython writes every dump into the hard-coded, machine-wide /tmp/py_stats
//! (python/cpython#112040). Each run therefore gets its own tmpfs mounted over /tmp/py_stats
//! inside a private mount namespace (`unshare`; a user namespace too when not root), so runs
//! go in parallel and no file another process wrote is ever read. Where namespaces are
//! unavailable, runs go one at a time under a machine-wide lock and the driver insists that
//! exactly one new dump appeared during its own dump call.

use crate::error::Error;
use crate::exec::builder::{self, BuiltPython};
use crate::exec::cache;
use crate::exec::corpus::{Benchmark, Corpus, CorpusKind, DRIVER};
use crate::exec::progress::Progress;
use crate::exec::shard::{all_units, Shard, WorkUnit};
use crate::stats::set::{
    Manifest, RepeatManifest, RunFailure, MANIFEST_FILE, MANIFEST_SCHEMA_VERSION,
};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Where CPython writes dumps (hard-coded in Python/specialize.c).
pub const PY_STATS_DIR: &str = "/tmp/py_stats";
/// Serializes runs machine-wide when namespaces are unavailable.
const SERIAL_LOCK: &str = "/tmp/.pystats-gate-py_stats.lock";
/// Forces an isolation mode: `namespace` or `lock` (default: namespace when it works).
pub const ISOLATION_ENV: &str = "PYSTATS_GATE_ISOLATION";

/// How runs are kept from seeing each other's dumps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Isolation {
    /// Private tmpfs on /tmp/py_stats in a mount namespace: parallel runs.
    Namespace,
    /// Serial runs under a machine-wide lock; the driver checks it got exactly one new dump.
    Lock,
}

/// How to run the corpus (commands/ fills it from the command line's run options).
#[derive(Clone, Debug)]
pub struct RunConfig {
    /// Repeats per benchmark; repeat k runs with PYTHONHASHSEED=k (+ `seed_offset`).
    pub repeats: u32,
    /// Parallel runs (None: number of cores).
    pub jobs: Option<usize>,
    /// `builtin`, a directory with a corpus.toml, or `pyperformance[:name,...]`.
    pub corpus: String,
    /// Only benchmarks whose name matches one of these globs (none: all).
    pub benches: Vec<String>,
    /// Only shard `K/N` of (benchmark x repeat).
    pub shard: Option<String>,
    /// Seeds start after this: new seeds for adaptive repeats and A/A calibration.
    pub seed_offset: u32,
}

/// `--repeats auto` as the command line reads it: only `gate` resolves it to a number.
pub const REPEATS_AUTO: u32 = 0;

/// What a finished `run` produced.
#[derive(Clone, Debug, Serialize)]
pub struct RunSummary {
    pub out: PathBuf,
    pub manifest: Manifest,
    /// Runs attempted (benchmarks x repeats in this shard).
    pub runs: usize,
    pub isolation: Isolation,
    pub jobs: usize,
    /// Wall time of the whole corpus run.
    pub wall_seconds: f64,
    /// Sum of the individual runs' wall times (what the corpus costs one core).
    pub run_seconds: f64,
}

/// Runs the corpus selected by `opts` on `python`, writing a complete stats set at `out`
/// (published atomically). Any crash, timeout or missing dump is recorded in the manifest
/// and returned as [`Error::Run`].
pub fn run_corpus(
    python: &Path,
    opts: &RunConfig,
    out: &Path,
    quiet: bool,
) -> anyhow::Result<RunSummary> {
    let python = &checked_request(python, opts, out)?;
    let corpus = Corpus::load(&opts.corpus, None)?;
    if corpus.kind == CorpusKind::Programs {
        // The corpus hash covers its files, but a set written into it is still an input
        // changed by its own run.
        crate::output::refuse_inside_inputs(out, &[&corpus.dir])?;
    }
    if let CorpusKind::Pyperformance(names) = &corpus.kind {
        return run_pyperformance(python, names, opts, out, quiet, &corpus.hash);
    }
    let benches = corpus.select(&opts.benches)?;
    let names: Vec<String> = benches.iter().map(|b| b.name.clone()).collect();
    let (shard, units) = shard_units(opts, &names)?;
    let identity = interpreter_identity(python)?;
    let isolation = isolation_mode();
    let jobs = match isolation {
        Isolation::Namespace => opts.jobs.unwrap_or_else(builder::cores).max(1),
        Isolation::Lock => 1,
    };

    let (tmp, set_dir, scratch) = temp_set(out)?;

    let progress = Progress::new("run", units.len() as u64, quiet);
    let started = Instant::now();
    let runs = Runs {
        python,
        corpus: &corpus,
        set_dir: &set_dir,
        scratch: &scratch,
        isolation,
    };
    let results = runs.run_all(&benches, &units, jobs, &progress)?;
    let wall_seconds = started.elapsed().as_secs_f64();
    let run_seconds = results
        .iter()
        .filter_map(|(_, r)| r.as_ref().ok())
        .map(|ok| ok.secs)
        .sum::<f64>();

    let (repeats, failures) = tally(&units, &results);
    remove_empty_repeats(&set_dir, &repeats);
    let manifest = identity.manifest(python, &corpus.hash, shard, names, opts, repeats, &failures);
    publish_set(&set_dir, &manifest, out)?;
    drop(tmp);
    progress.finish(&format!(
        "{} of {} runs ok in {wall_seconds:.1}s ({run_seconds:.1}s of runs, {jobs} jobs, {}) -> {}",
        units.len() - failures.len(),
        units.len(),
        match isolation {
            Isolation::Namespace => "private /tmp/py_stats per run",
            Isolation::Lock => "serial under a lock",
        },
        out.display()
    ));
    fail_on_failures(&failures, units.len(), out)?;
    Ok(RunSummary {
        out: out.to_path_buf(),
        manifest,
        runs: units.len(),
        isolation,
        jobs,
        wall_seconds,
        run_seconds,
    })
}

/// Refuses a request that cannot succeed before minutes of runs: no interpreter at
/// `python`, `--repeats auto`, a foreign `--out`. Returns `python` made absolute.
fn checked_request(python: &Path, opts: &RunConfig, out: &Path) -> anyhow::Result<PathBuf> {
    if !python.is_file() {
        return Err(Error::input(format!("--python {}: no such file", python.display())).into());
    }
    // Runs start in their own scratch directories: a relative path would not resolve there
    // (made absolute without resolving symlinks: a venv's python must stay in its venv).
    let python = std::path::absolute(python)
        .map_err(|e| Error::input(format!("--python {}: {e}", python.display())))?;
    if opts.repeats == REPEATS_AUTO {
        return Err(
            Error::input("--repeats auto: only `gate` adapts its repeats; give a number").into(),
        );
    }
    if !crate::output::set_is_replaceable(out) {
        return Err(Error::input(format!(
            "{}: exists and is not a stats set written by pystats-gate; refusing to replace it (choose a new directory)",
            out.display()
        ))
        .into());
    }
    Ok(python)
}

/// A run that succeeded: its wall time and the workload result it printed.
#[derive(Clone, Debug)]
struct RunOk {
    secs: f64,
    result: Option<String>,
}

/// A finished run: what it gave, or why it failed.
type RunResult = Result<RunOk, String>;

/// What every run of one corpus run shares: the interpreter, the corpus, the set being
/// written, the scratch directory and the isolation mode.
struct Runs<'a> {
    python: &'a Path,
    corpus: &'a Corpus,
    set_dir: &'a Path,
    scratch: &'a Path,
    isolation: Isolation,
}

impl Runs<'_> {
    /// Runs every unit on a pool of `jobs` threads; each unit's result, in finishing order.
    fn run_all(
        &self,
        benches: &[Benchmark],
        units: &[WorkUnit],
        jobs: usize,
        progress: &Progress,
    ) -> anyhow::Result<Vec<(WorkUnit, RunResult)>> {
        let results: Mutex<Vec<(WorkUnit, RunResult)>> = Mutex::new(vec![]);
        let by_name: BTreeMap<&str, &Benchmark> =
            benches.iter().map(|b| (b.name.as_str(), b)).collect();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(jobs)
            .build()
            .map_err(|e| Error::Run(format!("starting the run pool: {e}")))?;
        pool.scope(|s| {
            for unit in units {
                let bench = by_name[unit.bench.as_str()];
                let results = &results;
                s.spawn(move |_| {
                    let r = self.run_unit(bench, unit.repeat);
                    let msg = match &r {
                        Ok(ok) => format!("{} seed {} ({:.2}s)", bench.name, unit.repeat, ok.secs),
                        Err(e) => format!(
                            "{} seed {} FAILED: {}",
                            bench.name,
                            unit.repeat,
                            e.lines().next().unwrap_or("")
                        ),
                    };
                    progress.step(&msg);
                    results.lock().unwrap().push((unit.clone(), r));
                });
            }
        });
        Ok(results.into_inner().unwrap())
    }

    /// Runs `bench` with seed `repeat`, its dump going to `run-K/NAME.txt` in the set.
    fn run_unit(&self, bench: &Benchmark, repeat: u32) -> RunResult {
        let repeat_dir = self
            .set_dir
            .join(crate::stats::set::repeat_dir_name(repeat));
        crate::output::create_subdir(&repeat_dir)
            .map_err(|e| e.to_string())
            .and_then(|_| {
                self.run_one(
                    bench,
                    repeat,
                    &repeat_dir.join(format!("{}.txt", bench.name)),
                )
            })
    }
}

/// The manifest's repeats (each with the benchmarks that ran) and the failed runs, from the
/// results of `units`.
fn tally(
    units: &[WorkUnit],
    results: &[(WorkUnit, RunResult)],
) -> (BTreeMap<u32, RepeatManifest>, Vec<RunFailure>) {
    let mut failures = vec![];
    let mut repeats: BTreeMap<u32, RepeatManifest> = BTreeMap::new();
    for unit in units {
        let entry = repeat_entry(&mut repeats, unit.repeat);
        let name = entry.name.clone();
        match &results.iter().find(|(u, _)| u == unit).unwrap().1 {
            Ok(ok) => {
                entry.benchmarks.push(unit.bench.clone());
                if let Some(result) = &ok.result {
                    entry.results.insert(unit.bench.clone(), result.clone());
                }
            }
            Err(reason) => failures.push(RunFailure {
                repeat: name,
                benchmark: unit.bench.clone(),
                reason: reason.clone(),
            }),
        }
    }
    (repeats, failures)
}

/// A repeat whose every run failed leaves an empty directory: not part of the set.
fn remove_empty_repeats(set_dir: &Path, repeats: &BTreeMap<u32, RepeatManifest>) {
    for r in repeats.values() {
        let d = set_dir.join(&r.name);
        if r.benchmarks.is_empty() && d.is_dir() {
            let _ = fs::remove_dir(&d);
        }
    }
}

/// What is known about the interpreter: its version, and its build when `build` made it.
struct InterpreterIdentity {
    version: String,
    built: Option<BuiltPython>,
}

impl InterpreterIdentity {
    /// The manifest of a set this interpreter produced.
    #[allow(clippy::too_many_arguments)]
    fn manifest(
        &self,
        python: &Path,
        corpus_hash: &str,
        shard: Option<Shard>,
        names: Vec<String>,
        opts: &RunConfig,
        repeats: BTreeMap<u32, RepeatManifest>,
        failures: &[RunFailure],
    ) -> Manifest {
        Manifest {
            schema_version: MANIFEST_SCHEMA_VERSION,
            interpreter: Some(python.display().to_string()),
            python_version: Some(self.version.clone()),
            revision: self.built.as_ref().map(|b| b.commit.clone()),
            configure_flags: self
                .built
                .as_ref()
                .map(|b| b.configure_flags.clone())
                .unwrap_or_default(),
            corpus_hash: Some(corpus_hash.to_string()),
            build_id: self.built.as_ref().map(|b| b.build_id.clone()),
            shard: shard.map(|s| s.to_string()),
            benchmarks: names,
            total_repeats: Some(opts.repeats),
            repeats: repeats.into_values().collect(),
            failures: failures.to_vec(),
        }
    }
}

/// The shard `--shard` selects, and its work units over `names`.
fn shard_units(
    opts: &RunConfig,
    names: &[String],
) -> anyhow::Result<(Option<Shard>, Vec<WorkUnit>)> {
    let shard: Option<Shard> = opts.shard.as_deref().map(str::parse).transpose()?;
    let mut units = match shard {
        Some(s) => s.units(names, opts.repeats),
        None => all_units(names, opts.repeats),
    };
    for u in &mut units {
        u.repeat += opts.seed_offset;
    }
    Ok((shard, units))
}

/// The manifest entry of repeat `repeat` (`run-K`, seed K), created empty on first use.
fn repeat_entry(repeats: &mut BTreeMap<u32, RepeatManifest>, repeat: u32) -> &mut RepeatManifest {
    repeats.entry(repeat).or_insert_with(|| RepeatManifest {
        name: crate::stats::set::repeat_dir_name(repeat),
        seed: Some(repeat as u64),
        benchmarks: vec![],
        results: Default::default(),
    })
}

/// A temporary directory next to `out` (removed on drop) holding the set being written
/// (`set/`, published as `out` at the end) and per-run scratch files (`scratch/`).
fn temp_set(out: &Path) -> anyhow::Result<(crate::output::TempOutput, PathBuf, PathBuf)> {
    let out_parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(out_parent)
        .map_err(|e| Error::output(format!("creating {}: {e}", out_parent.display())))?;
    // Removed on drop and on SIGINT/SIGTERM/SIGHUP (with the runs' process groups).
    let tmp = crate::output::TempOutput::new_in(out_parent, ".pystats-gate-run-").map_err(|e| {
        Error::output(format!(
            "creating a temporary set in {}: {e:#}",
            out_parent.display()
        ))
    })?;
    let set_dir = tmp.path().join("set");
    let scratch = tmp.path().join("scratch");
    crate::output::create_subdir(&set_dir)?;
    crate::output::create_subdir(&scratch)?;
    Ok((tmp, set_dir, scratch))
}

/// Writes the manifest into the finished set and publishes it atomically as `out`.
fn publish_set(set_dir: &Path, manifest: &Manifest, out: &Path) -> anyhow::Result<()> {
    crate::output::write_state(
        &set_dir.join(MANIFEST_FILE),
        serde_json::to_string_pretty(manifest)?.as_bytes(),
    )
    .map_err(|e| {
        Error::output(format!(
            "{}: cannot write its {MANIFEST_FILE}: {e}",
            out.display()
        ))
    })?;
    crate::output::publish_set_dir(set_dir, out)?;
    Ok(())
}

/// [`Error::Run`] listing every failed run (already recorded in the published manifest).
fn fail_on_failures(failures: &[RunFailure], runs: usize, out: &Path) -> anyhow::Result<()> {
    if failures.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = failures
        .iter()
        .map(|f| format!("  {}/{}: {}", f.repeat, f.benchmark, f.reason))
        .collect();
    Err(Error::Run(format!(
        "{} of {} runs failed (recorded in {}):\n{}",
        failures.len(),
        runs,
        out.join(MANIFEST_FILE).display(),
        crate::text::cap_list(&list, "\n")
    ))
    .into())
}

/// How long the interpreter's start-up probe may take (`PYSTATS_GATE_PROBE_TIMEOUT`
/// seconds overrides it): an interpreter that hangs at start-up is a run failure, not a
/// `run` that never ends.
const PROBE_TIMEOUT_SECONDS: f64 = 60.0;

/// The probe's time limit: [`PROBE_TIMEOUT_SECONDS`], or the environment's override.
fn probe_timeout() -> Duration {
    let secs = std::env::var("PYSTATS_GATE_PROBE_TIMEOUT")
        .ok()
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .unwrap_or(PROBE_TIMEOUT_SECONDS);
    Duration::from_secs_f64(secs.min(86_400.0))
}

/// Runs `python -c code` in its own process group with a time limit; (exit status, stdout,
/// stderr). Output goes to anonymous files, not pipes: a child that floods a pipe nobody
/// reads would block until the timeout.
fn probe(
    python: &Path,
    code: &str,
) -> anyhow::Result<(std::process::ExitStatus, Vec<u8>, Vec<u8>)> {
    use std::os::unix::process::CommandExt;
    let scratch = |e: std::io::Error| Error::Run(format!("probing {}: {e}", python.display()));
    let (mut out, mut err) = (
        tempfile::tempfile().map_err(scratch)?,
        tempfile::tempfile().map_err(scratch)?,
    );
    let mut cmd = Command::new(python);
    cmd.args(["-c", code])
        .stdin(Stdio::null())
        .stdout(out.try_clone().map_err(scratch)?)
        .stderr(err.try_clone().map_err(scratch)?)
        .process_group(0);
    let mut child = crate::output::spawn_in_group(&mut cmd)
        .map_err(|e| Error::Run(format!("cannot start {}: {e}", python.display())))?;
    let timeout = probe_timeout();
    let status = wait_group(&mut child, timeout)?.ok_or_else(|| {
        Error::Run(format!(
            "{}: start-up probe did not finish in {}s (killed)",
            python.display(),
            timeout.as_secs_f64()
        ))
    })?;
    let read = |f: &mut fs::File| -> std::io::Result<Vec<u8>> {
        let mut v = vec![];
        f.seek(SeekFrom::Start(0))?;
        f.take(1 << 20).read_to_end(&mut v)?;
        Ok(v)
    };
    Ok((
        status,
        read(&mut out).map_err(scratch)?,
        read(&mut err).map_err(scratch)?,
    ))
}

fn interpreter_identity(python: &Path) -> anyhow::Result<InterpreterIdentity> {
    let (status, stdout, stderr) = probe(
        python,
        "import sys; print(sys.version.split()[0]); print(hasattr(sys, '_stats_on'))",
    )?;
    let text = String::from_utf8_lossy(&stdout).to_string();
    let mut lines = text.lines();
    let version = crate::text::cap(lines.next().unwrap_or(""));
    if !status.success() {
        return Err(Error::Run(format!(
            "{} does not run: {}",
            python.display(),
            crate::text::quote(&stderr)
        ))
        .into());
    }
    if lines.next() != Some("True") {
        return Err(Error::input(format!(
            "{}: not built with --enable-pystats (no sys._stats_on)",
            python.display()
        ))
        .into());
    }
    // Our build results are <dir>/build/python with <dir>/build-info.json.
    let built = python.parent().and_then(Path::parent).and_then(|d| {
        fs::read_to_string(d.join(builder::BUILD_INFO_FILE))
            .ok()
            .and_then(|t| serde_json::from_str::<BuiltPython>(&t).ok())
    });
    Ok(InterpreterIdentity { version, built })
}

/// The isolation this machine supports (probed once per process).
pub fn isolation_mode() -> Isolation {
    static MODE: OnceLock<Isolation> = OnceLock::new();
    *MODE.get_or_init(|| {
        let _ = ensure_stats_dir();
        match std::env::var(ISOLATION_ENV).as_deref() {
            Ok("lock") => return Isolation::Lock,
            Ok("namespace") => return Isolation::Namespace,
            _ => {}
        }
        let ok = unshare_command()
            .arg("sh")
            .arg("-c")
            .arg(format!("mount -t tmpfs tmpfs {PY_STATS_DIR}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            Isolation::Namespace
        } else {
            Isolation::Lock
        }
    })
}

/// /tmp/py_stats must exist: as the mount point, and as CPython's dump directory.
fn ensure_stats_dir() -> std::io::Result<()> {
    let dir = Path::new(PY_STATS_DIR);
    if !dir.is_dir() {
        fs::create_dir_all(dir)?;
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o1777))?;
    }
    Ok(())
}

fn is_root() -> bool {
    // Without libc: the effective uid is in /proc/self/status ("Uid: real effective ...").
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|u| u == "0"))
        })
        .unwrap_or(false)
}

fn unshare_command() -> Command {
    unshare_with(&[])
}

/// `unshare` with a private mount namespace and `extra` options.
fn unshare_with(extra: &[&str]) -> Command {
    let mut cmd = Command::new("unshare");
    cmd.arg("--mount");
    if !is_root() {
        cmd.arg("--map-root-user");
    }
    cmd.args(extra);
    cmd.args(["--propagation", "private", "--"]);
    cmd
}

impl Runs<'_> {
    /// Runs one benchmark once; Ok(wall seconds) or Err(reason).
    fn run_one(&self, bench: &Benchmark, seed: u32, dump: &Path) -> RunResult {
        let log_path = self.scratch.join(format!("{}-{seed}.log", bench.name));
        // Replaced, never written through: the benchmark before may have planted a link here.
        let log = crate::output::create_state_file(&log_path).map_err(|e| e.to_string())?;
        // The child writes into a directory of its own, never into the set: the dump is
        // checked and copied into the set only once the child's whole process group is dead,
        // so nothing left running can change a dump after it was collected.
        let private = self.scratch.join(format!("{}-{seed}", bench.name));
        fs::create_dir(&private).map_err(|e| format!("{}: {e}", private.display()))?;
        let child_dump = private.join(format!("{}.txt", bench.name));
        let mut cmd = self.benchmark_command(bench, seed, &child_dump, log)?;
        let _guard = serial_lock(self.isolation)?;
        let started = Instant::now();
        let mut child = crate::output::spawn_in_group(&mut cmd)
            .map_err(|e| format!("cannot start {}: {e}", self.python.display()))?;
        let status = wait_group(&mut child, Duration::from_secs_f64(bench.timeout))
            .map_err(|e| e.to_string())?
            .ok_or_else(|| format!("timeout after {}s", bench.timeout))?;
        let secs = started.elapsed().as_secs_f64();
        if !status.success() {
            let why = exit_reason(status);
            return Err(format!("{why}; last output: {}", tail(&log_path)));
        }
        collect_dump(&private, &child_dump, dump)
            .map_err(|e| format!("{e}; last output: {}", tail(&log_path)))?;
        let output = fs::read(&log_path).map_err(|e| format!("{}: {e}", log_path.display()))?;
        Ok(RunOk {
            secs,
            result: crate::stats::results::result_from_output(&output),
        })
    }

    /// The driver running `bench` with hash seed `seed` in the corpus directory, writing its
    /// dump to `child_dump` and its output to `log`; in a private /tmp/py_stats under
    /// namespace isolation. The caller's PYTHON* variables do not reach it.
    fn benchmark_command(
        &self,
        bench: &Benchmark,
        seed: u32,
        child_dump: &Path,
        log: fs::File,
    ) -> Result<Command, String> {
        let log2 = log.try_clone().map_err(|e| e.to_string())?;
        let mut cmd = match self.isolation {
            Isolation::Namespace => {
                let mut c = unshare_command();
                c.args([
                    "sh",
                    "-c",
                    &format!("mount -t tmpfs -o mode=1777 tmpfs {PY_STATS_DIR} && exec \"$@\""),
                    "sh",
                ]);
                c.arg(self.python);
                c
            }
            Isolation::Lock => Command::new(self.python),
        };
        cmd.arg("-s")
            .arg(self.corpus.dir.join(DRIVER))
            .arg(self.corpus.dir.join(&bench.file))
            .arg(child_dump)
            .args(&bench.args);
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("PYTHON") {
                cmd.env_remove(&k);
            }
        }
        use std::os::unix::process::CommandExt;
        cmd.env("PYTHONHASHSEED", seed.to_string())
            .current_dir(&self.corpus.dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            // Its own process group: a timeout kills the benchmark's children too.
            .process_group(0);
        Ok(cmd)
    }
}

/// Serial mode: one run at a time on the whole machine (among pystats-gate processes); the
/// lock is held while the returned file lives.
fn serial_lock(isolation: Isolation) -> Result<Option<fs::File>, String> {
    match isolation {
        Isolation::Lock => {
            // Next to /tmp/py_stats, not in the cache: every cache root shares that directory.
            let f = crate::output::open_lock(Path::new(SERIAL_LOCK))
                .map_err(|e| format!("{SERIAL_LOCK}: {e}"))?;
            f.lock().map_err(|e| e.to_string())?;
            Ok(Some(f))
        }
        Isolation::Namespace => Ok(None),
    }
}

/// Why a run that exited unsuccessfully failed (the driver's own exit codes named).
fn exit_reason(status: std::process::ExitStatus) -> String {
    match status.code() {
        Some(17) => "no dump appeared in /tmp/py_stats".to_string(),
        Some(18) => "more than one new dump appeared (another process wrote one)".to_string(),
        Some(c) => format!("exit code {c}"),
        None => {
            use std::os::unix::process::ExitStatusExt;
            format!("killed by signal {}", status.signal().unwrap_or(0))
        }
    }
}

/// Checks the dump a finished run left in its private directory and copies it into the
/// set: it must be a regular file that the parser `compare` uses reads without a malformed
/// line and that holds counters, alone in the directory. Otherwise the run failed.
fn collect_dump(private: &Path, child_dump: &Path, dump: &Path) -> Result<(), String> {
    let mut stray: Vec<String> = fs::read_dir(private)
        .map_err(|e| format!("{}: {e}", private.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| Some(n.as_str()) != child_dump.file_name().and_then(|f| f.to_str()))
        .collect();
    stray.sort();
    let meta = fs::symlink_metadata(child_dump).map_err(|_| "no dump written".to_string())?;
    if !meta.is_file() {
        return Err("the dump is not a regular file".into());
    }
    if !stray.is_empty() {
        return Err(format!(
            "stray files next to the dump: {}",
            crate::text::cap_list(&stray, ", ")
        ));
    }
    let bytes = fs::read(child_dump).map_err(|e| format!("reading the dump: {e}"))?;
    // Named as in the published set (`run-K/NAME.txt`), not by its temporary path.
    let shown: PathBuf = dump
        .iter()
        .skip(dump.iter().count().saturating_sub(2))
        .collect();
    let parsed = crate::stats::raw::parse_dump(&bytes, &shown, Default::default())
        .map_err(|e| format!("unusable dump: {e}"))?;
    if parsed.counters.is_empty() {
        return Err("unusable dump: it holds no pystats counters".into());
    }
    // Replaced, never written through: a link planted in the set by a misbehaving run.
    crate::output::write_state(dump, &bytes).map_err(|e| format!("{}: {e}", dump.display()))
}

/// Waits for `child` (spawned by [`crate::output::spawn_in_group`]), the leader of its own
/// process group, at most
/// `timeout`; then kills the whole group, whether the leader exited or not (a grandchild
/// left running could still write), and reaps the leader. `None`: it timed out.
///
/// A helper thread waits for the leader's exit without reaping it (WNOWAIT): while it is a
/// zombie its pid, the group id, cannot be reused, so the group kill cannot hit an
/// unrelated process. Blocking in the thread adds no polling delay to a run's wall time.
fn wait_group(
    child: &mut std::process::Child,
    timeout: Duration,
) -> std::io::Result<Option<std::process::ExitStatus>> {
    let pid = child.id() as libc::pid_t;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || loop {
        // SAFETY: waitid writes only into `info`, a zeroed siginfo_t this thread owns.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        let e = std::io::Error::last_os_error();
        if r != 0 && e.kind() == std::io::ErrorKind::Interrupted {
            continue;
        }
        let _ = tx.send(if r == 0 { Ok(()) } else { Err(e) });
        break;
    });
    let waited = rx.recv_timeout(timeout);
    kill_group(pid);
    crate::output::forget_process_group(pid);
    let status = child.wait()?;
    match waited {
        Ok(Ok(())) => Ok(Some(status)),
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => Ok(None),
        Ok(Err(e)) => Err(e),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            Err(std::io::Error::other("the wait thread ended"))
        }
    }
}

/// SIGKILL to every process of group `pgid` (ESRCH, none left, is fine).
fn kill_group(pgid: libc::pid_t) {
    // SAFETY: kill(2) with a negative pid signals a process group; no memory is involved.
    unsafe {
        libc::kill(-pgid, libc::SIGKILL);
    }
}

/// The last [`crate::text::QUOTE_BYTES`] of a log, on one line.
fn tail(path: &Path) -> String {
    let bytes = crate::text::QUOTE_BYTES as u64;
    let mut raw = vec![];
    if let Ok(mut f) = fs::File::open(path) {
        let len = f.metadata().map(|m| m.len()).unwrap_or(0);
        let _ = f.seek(SeekFrom::Start(len.saturating_sub(bytes)));
        let _ = f.take(bytes).read_to_end(&mut raw);
    }
    let s = String::from_utf8_lossy(&raw).to_string();
    let s = s.trim().replace('\n', " | ");
    if s.is_empty() {
        "(none)".into()
    } else {
        s
    }
}

/// The host venv holding pyperformance (installed with pip on first use), and the work
/// directory where pyperformance keeps the per-interpreter venvs it creates.
fn pyperformance_tool() -> anyhow::Result<(PathBuf, PathBuf)> {
    let root = cache::cache_root(None).join("tools/pyperformance");
    let venv = root.join("venv");
    let work = root.join("work");
    let cache = |e: std::io::Error| Error::output(format!("{}: {e}", root.display()));
    fs::create_dir_all(&work).map_err(cache)?;
    let lock = crate::output::open_lock(&root.join("lock")).map_err(cache)?;
    lock.lock().map_err(cache)?;
    let bin = venv.join("bin/pyperformance");
    if !bin.is_file() {
        let host = std::env::var("PYSTATS_GATE_HOST_PYTHON").unwrap_or_else(|_| "python3".into());
        let steps: [Vec<String>; 2] = [
            vec![host, "-m".into(), "venv".into(), venv.display().to_string()],
            vec![
                venv.join("bin/python").display().to_string(),
                "-m".into(),
                "pip".into(),
                "install".into(),
                "--quiet".into(),
                "pyperformance".into(),
            ],
        ];
        for step in steps {
            let out = Command::new(&step[0])
                .args(&step[1..])
                .stdin(Stdio::null())
                .output()
                .map_err(|e| Error::Run(format!("cannot start {}: {e}", step[0])))?;
            if !out.status.success() {
                let _ = fs::remove_dir_all(&venv);
                return Err(Error::Run(format!(
                    "installing pyperformance failed ({}): {}",
                    step.join(" "),
                    crate::text::cap(String::from_utf8_lossy(&out.stderr).trim())
                ))
                .into());
            }
        }
    }
    Ok((bin, work))
}

/// pyperformance's default benchmark names (`pyperformance list`).
fn pyperformance_default_names(bin: &Path, work: &Path) -> anyhow::Result<Vec<String>> {
    let out = Command::new(bin)
        .arg("list")
        .current_dir(work)
        .stdin(Stdio::null())
        .output()?;
    if !out.status.success() {
        return Err(Error::Run(format!(
            "pyperformance list failed: {}",
            crate::text::cap(String::from_utf8_lossy(&out.stderr).trim())
        ))
        .into());
    }
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("- "))
        .map(|s| s.trim().to_string())
        .collect())
}

/// Per pyperformance benchmark run (the first one also creates the interpreter's venv).
const PYPERFORMANCE_TIMEOUT_SECONDS: f64 = 1800.0;

/// `--corpus pyperformance[:names]`: each benchmark runs under pyperformance's `pystats`
/// hook (stats on around the benchmark's timed loops only) in its own private
/// /tmp/py_stats; the dumps of its worker processes are summed into one dump per benchmark.
/// Runs are serial (pyperformance creates its per-interpreter venv on first use).
fn run_pyperformance(
    python: &Path,
    names: &[String],
    opts: &RunConfig,
    out: &Path,
    quiet: bool,
    hash: &str,
) -> anyhow::Result<RunSummary> {
    require_namespaces()?;
    let identity = interpreter_identity(python)?;
    let (bin, work) = pyperformance_tool()?;
    let mut names = names.to_vec();
    if names.is_empty() {
        names = pyperformance_default_names(&bin, &work)?;
    }
    let (shard, units) = shard_units(opts, &names)?;
    let (_tmp, set_dir, scratch) = temp_set(out)?;
    let progress = Progress::new("pyperformance", units.len() as u64, quiet);
    let started = Instant::now();
    let mut failures = vec![];
    let mut repeats: BTreeMap<u32, RepeatManifest> = BTreeMap::new();
    let mut run_seconds = 0.0;
    // One venv per interpreter in a shared work dir: one pyperformance at a time.
    let lock = crate::output::open_lock(&work.join("run.lock"))?;
    lock.lock()?;
    let tool = Pyperformance {
        python,
        bin: &bin,
        work: &work,
        scratch: &scratch,
    };
    for unit in &units {
        let entry = repeat_entry(&mut repeats, unit.repeat);
        let repeat_name = entry.name.clone();
        let (result, secs) = tool.run_unit(unit, &set_dir.join(&repeat_name))?;
        run_seconds += secs;
        match result {
            Ok(()) => {
                entry.benchmarks.push(unit.bench.clone());
                progress.step(&format!("{} seed {}", unit.bench, unit.repeat));
            }
            Err(reason) => {
                progress.step(&format!("{} seed {} FAILED", unit.bench, unit.repeat));
                failures.push(RunFailure {
                    repeat: repeat_name,
                    benchmark: unit.bench.clone(),
                    reason,
                });
            }
        }
    }
    drop(lock);
    let manifest = identity.manifest(python, hash, shard, names, opts, repeats, &failures);
    publish_set(&set_dir, &manifest, out)?;
    let wall_seconds = started.elapsed().as_secs_f64();
    progress.finish(&format!(
        "{} of {} runs ok in {wall_seconds:.1}s -> {}",
        units.len() - failures.len(),
        units.len(),
        out.display()
    ));
    fail_on_failures(&failures, units.len(), out)?;
    Ok(RunSummary {
        out: out.to_path_buf(),
        manifest,
        runs: units.len(),
        isolation: Isolation::Namespace,
        jobs: 1,
        wall_seconds,
        run_seconds,
    })
}

/// pyperformance's worker processes' dumps can only be told apart in a private
/// /tmp/py_stats: [`Error::Run`] without mount namespaces.
fn require_namespaces() -> anyhow::Result<()> {
    if isolation_mode() != Isolation::Namespace {
        return Err(Error::Run(
            "--corpus pyperformance needs mount namespaces (unshare): its worker processes' \
             dumps cannot be told apart from other processes' in a shared /tmp/py_stats"
                .into(),
        )
        .into());
    }
    Ok(())
}

/// What every pyperformance run shares: the interpreter measured, pyperformance itself,
/// its work directory (the per-interpreter venvs) and the scratch directory.
struct Pyperformance<'a> {
    python: &'a Path,
    bin: &'a Path,
    work: &'a Path,
    scratch: &'a Path,
}

impl Pyperformance<'_> {
    /// Runs one unit, its summed dump going into `repeat_dir`: (Ok or why the run failed,
    /// wall seconds). Errors only when the run cannot be started.
    fn run_unit(
        &self,
        unit: &WorkUnit,
        repeat_dir: &Path,
    ) -> anyhow::Result<(Result<(), String>, f64)> {
        let dumps = self.scratch.join(format!("{}-{}", unit.bench, unit.repeat));
        crate::output::create_subdir(&dumps)?;
        let log_path = self
            .scratch
            .join(format!("{}-{}.log", unit.bench, unit.repeat));
        let log = crate::output::create_state_file(&log_path)?;
        let mut cmd = self.command(unit, &dumps, log)?;
        let t0 = Instant::now();
        let mut child = crate::output::spawn_in_group(&mut cmd)
            .map_err(|e| Error::Run(format!("cannot start {}: {e}", self.bin.display())))?;
        let status = wait_group(
            &mut child,
            Duration::from_secs_f64(PYPERFORMANCE_TIMEOUT_SECONDS),
        )?;
        let secs = t0.elapsed().as_secs_f64();
        let result = if let Some(status) = status.filter(|s| !s.success()) {
            Err(format!(
                "pyperformance exited with {status}; last output: {}",
                tail(&log_path)
            ))
        } else if status.is_none() {
            Err(format!("timeout after {PYPERFORMANCE_TIMEOUT_SECONDS}s"))
        } else {
            merge_dumps(&dumps).and_then(|c| {
                crate::output::create_subdir(repeat_dir).map_err(|e| e.to_string())?;
                crate::output::write_state(
                    &repeat_dir.join(format!("{}.txt", unit.bench)),
                    crate::stats::raw::write_dump(&c).as_bytes(),
                )
                .map_err(|e| e.to_string())
            })
        };
        Ok((result, secs))
    }

    /// `pyperformance run` of one benchmark with hash seed `unit.repeat`, in a private
    /// /tmp/py_stats whose dumps are copied to `dumps` at the end; output to `log`.
    fn command(&self, unit: &WorkUnit, dumps: &Path, log: fs::File) -> std::io::Result<Command> {
        // A private PID namespace too: killing `unshare` (timeout) kills every worker.
        use std::os::unix::process::CommandExt;
        let mut cmd = unshare_with(&["--pid", "--fork", "--kill-child"]);
        cmd.args([
            "sh",
            "-c",
            &format!(
                "mount -t tmpfs -o mode=1777 tmpfs {PY_STATS_DIR} && \"$@\"; rc=$?; \
                 for f in {PY_STATS_DIR}/*.txt; do [ -f \"$f\" ] && cp \"$f\" \"$PYSTATS_GATE_DUMPS/\"; done; exit $rc"
            ),
            "sh",
        ])
        .arg(self.bin)
        .arg("run")
        .arg(format!("--python={}", self.python.display()))
        .args(["--hook", "pystats", "--debug-single-value"])
        .args(["--inherit-environ", "PYTHONHASHSEED"])
        .arg("-b")
        .arg(&unit.bench)
        .arg("-o")
        .arg(self.scratch.join(format!("{}-{}.json", unit.bench, unit.repeat)))
        .env("PYSTATS_GATE_DUMPS", dumps)
        .process_group(0)
        .env("PYTHONHASHSEED", unit.repeat.to_string())
        .current_dir(self.work)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
        Ok(cmd)
    }
}

/// Sums every dump in `dir` (the worker processes of one benchmark run) into one.
fn merge_dumps(dir: &Path) -> Result<crate::stats::raw::Counters, String> {
    let mut total = crate::stats::raw::Counters::new();
    let mut files = 0;
    for entry in fs::read_dir(dir).map_err(|e| e.to_string())? {
        let p = entry.map_err(|e| e.to_string())?.path();
        let bytes = fs::read(&p).map_err(|e| e.to_string())?;
        let dump = crate::stats::raw::parse_dump(&bytes, &p, Default::default())
            .map_err(|e| e.to_string())?;
        total
            .merge(&dump.counters)
            .map_err(|o| format!("counter {} overflows when summing dumps", o.key))?;
        files += 1;
    }
    if files == 0 {
        return Err("no dump written (did the benchmark run with the pystats hook?)".into());
    }
    Ok(total)
}
