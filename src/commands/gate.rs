//! The main job: build base and head, run the corpus on each, compare, report; and `demo`, the same on shipped example heads.

use crate::cli::{DemoArgs, GateArgs, GateOpts, InputOpts};
use crate::error::Error;
use crate::exec::builder::{self, BuildConfig, BuiltPython};
use crate::exec::cache;
use crate::exec::corpus::Corpus;
use crate::exec::runner::{self, RunConfig, RunSummary};
use crate::gate::evaluate::attach_full_summary;
use crate::gate::notes::{HeadSnapshot, Note};
use crate::gate::reach::{ChangedFile, Reach};
use crate::stats::set::StatsSet;
use anyhow::Context;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// The shipped demo heads: name, patch, commit message.
const DEMO_HEADS: &[(&str, &str, &str)] = &[
    (
        "regression",
        include_str!("../../ci/demo/regression.patch"),
        "Demo head: CONTAINS_OP no longer specializes (Python/specialize.c)",
    ),
    (
        "comment",
        include_str!("../../ci/demo/comment.patch"),
        "Demo head: comment-only change in Python/specialize.c",
    ),
    (
        "miss-ratio",
        include_str!("../../ci/demo/miss-ratio.patch"),
        "Demo head: a quarter of COMPARE_OP_INT executions miss (Python/generated_cases.c.h)",
    ),
    (
        "wrong-result",
        include_str!("../../ci/demo/wrong-result.patch"),
        "Demo head: BINARY_OP_ADD_FLOAT rounds its sum through a C float (Python/generated_cases.c.h)",
    ),
];
/// Fetches pristine CPython source from the Debian source package (prints its path last).
const FETCH_SCRIPT: &str = include_str!("../../ci/fetch-cpython.sh");

/// Timings and identities of one gate run, written to `OUT/gate.json`.
#[derive(Debug, Serialize)]
pub struct GateRun {
    pub base: BuiltPython,
    pub head: BuiltPython,
    /// The base set came from the results cache (no run).
    pub base_results_cached: bool,
    pub base_run: Option<RunSummary>,
    pub head_run: RunSummary,
    pub wall_seconds: f64,
    pub exit_code: i32,
    /// What `--repeats auto` spent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auto: Option<crate::commands::adaptive::AutoRecord>,
}

/// `--repeats auto`'s limits (`gate --max-repeats`, `--time-budget`).
#[derive(Debug, Clone, Copy)]
pub struct AutoLimits {
    pub max_repeats: u32,
    pub time_budget: Option<f64>,
}

/// One gate run: what to compare, where to, and what its command worked out (not flags).
pub struct GateJob<'a> {
    pub repo: &'a Path,
    pub base_rev: &'a str,
    pub head_rev: &'a str,
    /// Sets and reports go here.
    pub out: &'a Path,
    /// This commit's `Pystats-Accept:` trailers are acceptances too.
    pub trailers_from: Option<&'a str>,
    /// Notes for the report, e.g. what `--head-dir` snapshotted.
    pub notes: Vec<Note>,
    /// `--repeats auto`'s limits (None: the command does not adapt its repeats).
    pub auto: Option<AutoLimits>,
}

/// The head `gate` compares: a revision, or the commit `--head-dir` was snapshotted into.
struct Head {
    repo: PathBuf,
    rev: String,
    /// The commit whose message holds the trailers (a snapshot's HEAD).
    message_rev: String,
    notes: Vec<Note>,
}

/// `pystats-gate gate`: `--head REV`, or `--head-dir DIR` (a working tree as it is); reads
/// the head commit's `Pystats-Accept:` trailers unless `--no-trailers`.
pub fn cmd_gate(args: &GateArgs) -> anyhow::Result<i32> {
    let head = match (&args.head_dir, &args.head, &args.repo) {
        (Some(dir), _, repo) => snapshot_head(dir, repo.as_ref(), args)?,
        (None, Some(head), Some(repo)) => Head {
            repo: repo.clone(),
            rev: head.clone(),
            message_rev: head.clone(),
            notes: vec![],
        },
        _ => return Err(Error::input("give --repo DIR --head REV, or --head-dir DIR").into()),
    };
    let job = GateJob {
        repo: &head.repo,
        base_rev: &args.base,
        head_rev: &head.rev,
        out: &args.out,
        trailers_from: (!args.no_trailers).then_some(head.message_rev.as_str()),
        notes: head.notes.clone(),
        auto: Some(AutoLimits {
            max_repeats: args.max_repeats,
            time_budget: args.time_budget,
        }),
    };
    gate(&job, &args.gate, &(&args.run).into(), &(&args.build).into())
}

/// `--head-dir DIR`: the working tree snapshotted into a commit (said in the report when
/// it differs from its HEAD).
fn snapshot_head(dir: &Path, repo: Option<&PathBuf>, args: &GateArgs) -> anyhow::Result<Head> {
    let snap = crate::exec::worktree::snapshot(dir, &[&args.out])?;
    let short = |c: &str| c[..12.min(c.len())].to_string();
    if !args.build.quiet {
        eprintln!(
            "gate: head is {} as it is: {} file(s) differ from its HEAD {} (snapshot {})",
            dir.display(),
            snap.changed.len(),
            short(&snap.head),
            short(&snap.commit)
        );
    }
    let mut notes = vec![];
    if snap.commit != snap.head {
        notes.push(Note::HeadSnapshot(Box::new(HeadSnapshot {
            commit: short(&snap.commit),
            dir: dir.display().to_string(),
            head: short(&snap.head),
            changed: snap.changed.clone(),
        })));
    }
    Ok(Head {
        repo: repo.cloned().unwrap_or(snap.repo),
        rev: snap.commit,
        message_rev: snap.head,
        notes,
    })
}

/// What running one side of the gate needs.
struct Sides<'a> {
    base: &'a BuiltPython,
    head: &'a BuiltPython,
    corpus: &'a Corpus,
    run_opts: &'a RunConfig,
    build_opts: &'a BuildConfig,
}

/// Builds `base` and `head` of `repo`, runs the corpus on each and compares; reports go to
/// `out` (`base/`, `head/` sets, report.{md,json,txt,html}, junit.xml, gate.json). With
/// `trailers_from`, that commit's `Pystats-Accept:` trailers are acceptances too.
pub fn gate(
    job: &GateJob<'_>,
    gate_opts: &GateOpts,
    run_opts: &RunConfig,
    build_opts: &BuildConfig,
) -> anyhow::Result<i32> {
    let started = Instant::now();
    let quiet = build_opts.quiet;
    // Validate cheap inputs before spending minutes on builds.
    let corpus = Corpus::load(&run_opts.corpus, None)?;
    corpus.select(&run_opts.benches)?;
    let auto = auto_limits(job.auto, run_opts)?;
    let mut run_opts = run_opts.clone();
    if let Some(limits) = auto {
        run_opts.repeats = crate::gate::sequential::START.min(limits.max_repeats);
    }
    let run_opts = &run_opts;
    let trailers = check_inputs(job, gate_opts, run_opts, quiet)?;
    crate::output::claim_dir(job.out, &[])?;
    let base = builder::build_revision(job.repo, job.base_rev, build_opts)?;
    let head = builder::build_revision(job.repo, job.head_rev, build_opts)?;
    let changed = changed_files(job.repo, &base, &head)?;
    let sides = Sides {
        base: &base,
        head: &head,
        corpus: &corpus,
        run_opts,
        build_opts,
    };
    let (base_set_dir, base_run, base_results_cached) = base_results(&sides, run_opts)?;
    copy_set(&base_set_dir, &job.out.join("base"))?;
    let head_run = runner::run_corpus(&head.python, run_opts, &job.out.join("head"), quiet)?;
    let (exit_code, auto_record) = if let Some(shard) = &run_opts.shard {
        // A shard holds part of the corpus: `merge` the shards, then `compare`.
        if !quiet {
            eprintln!(
                "gate: shard {shard} written to {} (merge shards, then compare)",
                job.out.display()
            );
        }
        (crate::error::EXIT_PASS, None)
    } else {
        let ctx = (gate_opts, trailers.as_slice(), started);
        compare_sides(job, &sides, &changed, auto, ctx)?
    };
    let record = GateRun {
        base,
        head,
        base_results_cached,
        base_run,
        head_run,
        wall_seconds: started.elapsed().as_secs_f64(),
        exit_code,
        auto: auto_record,
    };
    write_record(&record, job.out, quiet)?;
    Ok(exit_code)
}

/// `--repeats auto`'s limits when the repeats are `auto` (checked: adapting needs a command
/// that adapts, at least 2 repeats, and the whole corpus); None for a number of repeats.
fn auto_limits(
    limits: Option<AutoLimits>,
    run_opts: &RunConfig,
) -> anyhow::Result<Option<AutoLimits>> {
    if run_opts.repeats != runner::REPEATS_AUTO {
        return Ok(None);
    }
    let Some(limits) = limits else {
        return Err(Error::input("--repeats auto is for `gate` (with --max-repeats)").into());
    };
    let max = limits.max_repeats;
    if max < 2 {
        return Err(Error::input(format!(
            "--max-repeats {max}: --repeats auto needs at least 2 (statistics need 2 repeats per side)"
        ))
        .into());
    }
    if run_opts.shard.is_some() {
        return Err(
            Error::input("--repeats auto cannot be sharded: give a number of repeats").into(),
        );
    }
    Ok(Some(limits))
}

/// Checks the shard, rules and acceptances before any build; returns the head commit's
/// trailer acceptances (each said on stderr).
fn check_inputs(
    job: &GateJob<'_>,
    gate_opts: &GateOpts,
    run_opts: &RunConfig,
    quiet: bool,
) -> anyhow::Result<Vec<crate::gate::accept::Acceptance>> {
    if let Some(s) = &run_opts.shard {
        s.parse::<crate::exec::shard::Shard>()?;
    }
    if let Some(r) = &gate_opts.rules {
        crate::gate::rules::RuleSet::load_or_default(Some(r))?;
    }
    crate::gate::accept::parse_all(&gate_opts.accept)?;
    let Some(rev) = job.trailers_from else {
        return Ok(vec![]);
    };
    let trailers = crate::gate::accept::from_commit(job.repo, rev)?;
    for a in trailers.iter().filter(|_| !quiet) {
        eprintln!(
            "gate: {}: accepting `{}` because {}",
            a.source,
            a.target(),
            a.reason
        );
    }
    Ok(trailers)
}

/// Compares the `base/` and `head/` sets under `out` (adding repeats with `--repeats
/// auto`), writes and prints the reports; returns the exit code and what `auto` spent.
fn compare_sides(
    job: &GateJob<'_>,
    sides: &Sides<'_>,
    changed: &[ChangedFile],
    auto: Option<AutoLimits>,
    (gate_opts, trailers, started): (&GateOpts, &[crate::gate::accept::Acceptance], Instant),
) -> anyhow::Result<(i32, Option<crate::commands::adaptive::AutoRecord>)> {
    let popts = crate::stats::raw::ParseOptions::default();
    let mut base_set = StatsSet::load(&job.out.join("base"), popts)?;
    let mut head_set = StatsSet::load(&job.out.join("head"), popts)?;
    let mut eval = eval_options(&base_set, &head_set, sides, gate_opts, trailers)?;
    eval.notes.extend(job.notes.iter().cloned());
    eval.reach = Some(reach_of(sides.base, sides.head, changed, &eval));
    let Some(limits) = auto else {
        let mut rep = crate::gate::evaluate::evaluate(&base_set, &head_set, &eval)?;
        attach_full_summary(&mut rep, &base_set, &head_set, &eval)?;
        return Ok((write_and_print(&rep, gate_opts, job.out)?, None));
    };
    let mut more = |offset: u32, count: u32, benches: &[String]| {
        more_repeats(sides, job.out, (offset, count, benches))
    };
    let (mut rep, record) = crate::commands::adaptive::run(
        &mut base_set,
        &mut head_set,
        &eval,
        limits.max_repeats,
        limits.time_budget,
        started,
        &mut more,
    )?;
    // Over the sets of the last look, as that look's report.
    attach_full_summary(&mut rep, &base_set, &head_set, &eval)?;
    Ok((write_and_print(&rep, gate_opts, job.out)?, Some(record)))
}

/// Writes `gate.json` and says on stderr where the time went.
fn write_record(record: &GateRun, out: &Path, quiet: bool) -> anyhow::Result<()> {
    crate::output::write_in_claimed_dir(
        out,
        "gate.json",
        serde_json::to_string_pretty(record)?.as_bytes(),
    )?;
    if !quiet {
        eprintln!(
            "gate: {:.1}s total (base {}, head built in {:.1}s{}, head corpus {:.1}s) -> {}",
            record.wall_seconds,
            if record.base_results_cached {
                "results cached".to_string()
            } else {
                format!("built in {:.1}s", record.base.build_seconds)
            },
            record.head.build_seconds,
            if record.head.cached { ", cached" } else { "" },
            record.head_run.wall_seconds,
            out.display()
        );
    }
    Ok(())
}

/// The base set for (commit, flags, corpus, repeats, selection, shard): from the results
/// cache, or run now and cached. Returns its directory.
fn base_results(
    sides: &Sides<'_>,
    run_opts: &RunConfig,
) -> anyhow::Result<(PathBuf, Option<RunSummary>, bool)> {
    let (base, corpus, build_opts) = (sides.base, sides.corpus, sides.build_opts);
    let quiet = build_opts.quiet;
    let key = {
        let mut h = Sha256::new();
        h.update(format!(
            "{}\n{}\n{}\n{:?}\n{:?}\n",
            base.build_id, corpus.hash, run_opts.repeats, run_opts.benches, run_opts.shard
        ));
        // Keys of sets from seed 1 stay what they were before offsets existed.
        if run_opts.seed_offset > 0 {
            h.update(format!("seed_offset {}\n", run_opts.seed_offset));
        }
        // Sets cached before runs recorded their workload results would leave head's
        // results unchecked: a new key runs the base again once.
        h.update("results recorded\n");
        hex::encode(h.finalize())[..24].to_string()
    };
    let results = cache::cache_root(build_opts.cache_dir.as_deref()).join("results");
    let cache = |e: std::io::Error| Error::output(format!("{}: {e}", results.display()));
    fs::create_dir_all(&results).map_err(cache)?;
    let dir = results.join(&key);
    // Parallel gates on the same base run its corpus once; the others wait and reuse it.
    let lock = crate::output::open_lock(&results.join(format!("{key}.lock"))).map_err(cache)?;
    lock.lock().map_err(cache)?;
    if cached_results_usable(&dir, &base.build_id, &corpus.hash) {
        if !quiet {
            eprintln!("gate: base results cached ({})", dir.display());
        }
        return Ok((dir, None, true));
    }
    let summary = runner::run_corpus(&base.python, run_opts, &dir, quiet)?;
    Ok((dir, Some(summary), false))
}

/// True when the cached base set `dir` is whole and of this build and corpus: no recorded
/// failure, its files exactly what its manifest lists (as loading checks them). Anything
/// else is run again (a cache entry that lost a file must not fail every later gate, nor
/// be used).
fn cached_results_usable(dir: &Path, build_id: &str, corpus_hash: &str) -> bool {
    let Ok(Some(m)) = crate::stats::set::accounted_manifest(dir) else {
        return false;
    };
    m.build_id.as_deref() == Some(build_id)
        && m.corpus_hash.as_deref() == Some(corpus_hash)
        && m.failures.is_empty()
}

/// `count` new paired repeats of `benches` after seed `offset` on both sides (`--repeats
/// auto`): base through the results cache, both kept under `out/auto/`.
fn more_repeats(
    sides: &Sides<'_>,
    out: &Path,
    (offset, count, benches): (u32, u32, &[String]),
) -> anyhow::Result<(StatsSet, StatsSet)> {
    let ro = RunConfig {
        seed_offset: offset,
        repeats: count,
        benches: benches.to_vec(),
        ..sides.run_opts.clone()
    };
    let quiet = sides.build_opts.quiet;
    if !quiet {
        eprintln!(
            "gate: --repeats auto: seeds {}-{} for {}",
            offset + 1,
            offset + count,
            benches.join(", ")
        );
    }
    let dir = out.join("auto");
    fs::create_dir_all(&dir).map_err(|e| Error::output(format!("{}: {e}", dir.display())))?;
    let tag = format!("seeds-{}-{}", offset + 1, offset + count);
    let (cached, _, _) = base_results(sides, &ro)?;
    let base_out = dir.join(format!("base-{tag}"));
    copy_set(&cached, &base_out)?;
    let head_out = dir.join(format!("head-{tag}"));
    runner::run_corpus(&sides.head.python, &ro, &head_out, quiet)?;
    let popts = crate::stats::raw::ParseOptions::default();
    Ok((
        StatsSet::load(&base_out, popts)?,
        StatsSet::load(&head_out, popts)?,
    ))
}

fn copy_set(from: &Path, to: &Path) -> anyhow::Result<()> {
    let parent = to.parent().unwrap_or(Path::new("."));
    // Removed if anything below fails or the process is interrupted.
    let tmp_dir = crate::output::TempOutput::new_in(parent, ".pystats-gate-copy-")?;
    let tmp = tmp_dir.path().to_path_buf();
    let io = |e: std::io::Error| {
        Error::output(format!(
            "copying {} to {}: {e}",
            from.display(),
            to.display()
        ))
    };
    for entry in fs::read_dir(from).map_err(io)? {
        let entry = entry.map_err(io)?;
        let dest = tmp.join(entry.file_name());
        if entry.file_type().map_err(io)?.is_dir() {
            crate::output::create_subdir(&dest)?;
            for f in fs::read_dir(entry.path()).map_err(io)? {
                let f = f.map_err(io)?;
                fs::copy(f.path(), dest.join(f.file_name())).map_err(io)?;
            }
        } else {
            fs::copy(entry.path(), &dest).map_err(io)?;
        }
    }
    crate::output::publish_set_dir(&tmp, to)
}

/// What the change touches, read from git between the two built commits (the text of the
/// mapped specializer files on both sides, the names of the others).
fn changed_files(
    repo: &Path,
    base: &BuiltPython,
    head: &BuiltPython,
) -> anyhow::Result<Vec<ChangedFile>> {
    let files = crate::exec::diff::changed_files(
        repo,
        &base.commit,
        &head.commit,
        crate::gate::reach::MAPPED_FILES,
    )?;
    Ok(files
        .into_iter()
        .map(|f| ChangedFile {
            path: f.path,
            base: f.base,
            head: f.head,
        })
        .collect())
}

/// The change between the two builds mapped to counters (with the head side's metadata).
fn reach_of(
    base: &BuiltPython,
    head: &BuiltPython,
    changed: &[ChangedFile],
    eval: &crate::gate::report_model::EvalOptions,
) -> Reach {
    Reach::from_files(&base.commit, &head.commit, changed, &eval.meta_head)
}

/// Evaluation options for two built sides: each build carries the metadata files of its
/// own revision (see builder::package); `trailers` are acceptances from commit trailers.
fn eval_options(
    base: &StatsSet,
    head: &StatsSet,
    sides: &Sides<'_>,
    opts: &GateOpts,
    trailers: &[crate::gate::accept::Acceptance],
) -> anyhow::Result<crate::gate::report_model::EvalOptions> {
    let meta = |b: &BuiltPython, set: &StatsSet| {
        let input = InputOpts {
            cpython_src: Some(b.dir.join("src")),
            ..Default::default()
        };
        crate::commands::metadata_for(set, &input)
            .or_else(|_| crate::commands::metadata_for(set, &InputOpts::default()))
    };
    let mb = meta(sides.base, base)?;
    let mh = meta(sides.head, head)?;
    let mut eval = crate::commands::eval_options(opts, mb, mh)?;
    eval.accept.extend(trailers.iter().cloned());
    Ok(eval)
}

/// Writes every report format into `out`, prints the text report, returns the exit code.
fn write_and_print(
    rep: &crate::gate::report_model::GateReport,
    opts: &GateOpts,
    out: &Path,
) -> anyhow::Result<i32> {
    crate::report::write_all(rep, out)?;
    let color = crate::exec::progress::color_on_stdout();
    crate::output::print(&crate::report::text::render_text(rep, color))?;
    crate::report::github::emit_if_actions(rep, &opts.input_files())?;
    Ok(crate::gate::report_model::exit_code(rep, opts.strict))
}

/// `pystats-gate demo`: the main job on CPython 3.13 source and a shipped example head.
pub fn cmd_demo(args: &DemoArgs) -> anyhow::Result<i32> {
    let repo = demo_repo(args.build.cache_dir.as_deref(), args.build.quiet)?;
    if !DEMO_HEADS.iter().any(|(n, _, _)| *n == args.head) {
        let names: Vec<&str> = DEMO_HEADS.iter().map(|(n, _, _)| *n).collect();
        return Err(Error::input(format!(
            "--head {:?}: expected one of {}",
            args.head,
            names.join(", ")
        ))
        .into());
    }
    if !args.build.quiet {
        eprintln!(
            "demo: gating {} against base (pristine CPython) in {}",
            args.head,
            repo.display()
        );
    }
    let job = GateJob {
        repo: &repo,
        base_rev: "base",
        head_rev: &args.head,
        out: &args.out,
        trailers_from: None,
        notes: vec![],
        auto: None,
    };
    let code = gate(&job, &args.gate, &(&args.run).into(), &(&args.build).into())?;
    crate::output::print(&format!("{}\n", demo_headline(&args.out, code)))?;
    Ok(code)
}

/// The demo's last line: the verdict and the families of the failing rules.
fn demo_headline(out: &Path, code: i32) -> String {
    let report: Option<crate::gate::report_model::GateReport> =
        fs::read_to_string(out.join("report.json"))
            .ok()
            .and_then(|t| serde_json::from_str(&t).ok());
    let Some(report) = report else {
        return format!("demo: exit {code}");
    };
    let families = report.failing_families();
    // A metric fails once per rule and benchmark; the headline names it once.
    let metrics: indexmap::IndexSet<&str> = report.failing().map(|o| o.metric.as_str()).collect();
    let metrics: Vec<&str> = metrics.into_iter().collect();
    if code == crate::error::EXIT_PASS
        && report.verdict == crate::gate::report_model::Verdict::Inconclusive
    {
        format!("demo: INCONCLUSIVE (exit {code}): see the report's notes")
    } else if code == crate::error::EXIT_PASS {
        format!("demo: PASS (exit {code})")
    } else if report.results.failed() {
        let wrong: Vec<&str> = report
            .results
            .differ
            .iter()
            .map(|d| d.benchmark.as_str())
            .collect();
        format!(
            "demo: FAIL (exit {code}): wrong result in {} (the counters: {})",
            wrong.join(", "),
            if metrics.is_empty() {
                "no rule violated".to_string()
            } else {
                metrics.join(", ")
            }
        )
    } else if families.is_empty() {
        format!("demo: FAIL (exit {code}): {}", metrics.join(", "))
    } else {
        format!(
            "demo: FAIL (exit {code}): specialization regression in {} ({})",
            families.join(", "),
            metrics.join(", ")
        )
    }
}

/// The pristine CPython 3.13 source tree (fetched from the Debian source package once).
pub fn pristine_source(cache_dir: Option<&Path>) -> anyhow::Result<PathBuf> {
    let root = cache::cache_root(cache_dir);
    let done = root.join("src/python3.13/.complete");
    let finished = || {
        fs::read_to_string(&done)
            .ok()
            .map(|p| PathBuf::from(p.trim()))
            .filter(|p| p.join("configure").is_file())
    };
    if let Some(p) = finished() {
        return Ok(p);
    }
    // apt-get in one state directory at a time (parallel tests, parallel demos).
    let cache = |e: std::io::Error| Error::output(format!("{}: {e}", root.join("src").display()));
    fs::create_dir_all(root.join("src")).map_err(cache)?;
    let lock = crate::output::open_lock(&root.join("src/.fetch.lock")).map_err(cache)?;
    lock.lock().map_err(cache)?;
    if let Some(p) = finished() {
        return Ok(p);
    }
    let out = Command::new("bash")
        .args([
            "-c",
            FETCH_SCRIPT,
            "fetch-cpython.sh",
            "python3.13",
            "trixie",
        ])
        .env(cache::CACHE_ENV, &root)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .context("running the CPython source fetch script")?;
    if !out.status.success() {
        return Err(Error::Build(format!(
            "could not fetch CPython 3.13 source (exit {}); run ci/setup.sh first",
            out.status
        ))
        .into());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let p = PathBuf::from(text.lines().last().unwrap_or("").trim());
    if !p.join("configure").is_file() {
        return Err(Error::Build(format!(
            "fetch script printed {}, which is not a CPython source tree",
            p.display()
        ))
        .into());
    }
    Ok(p)
}

/// The demo git repository: `base` = pristine source, one branch per demo head. Commits use a
/// fixed author and date, so every machine gets the same hashes (and cache hits).
pub fn demo_repo(cache_dir: Option<&Path>, quiet: bool) -> anyhow::Result<PathBuf> {
    let src = pristine_source(cache_dir)?;
    let key = demo_key(&src);
    let root = cache::cache_root(cache_dir).join("demo");
    let dest = root.join(format!("cpython-{key}"));
    let complete = || dest.join(".pystats-gate-demo-complete").is_file();
    if complete() {
        return Ok(dest);
    }
    let cache = |e: std::io::Error| Error::output(format!("{}: {e}", root.display()));
    fs::create_dir_all(&root).map_err(cache)?;
    let lock = crate::output::open_lock(&root.join("lock")).map_err(cache)?;
    lock.lock().map_err(cache)?;
    if complete() {
        return Ok(dest);
    }
    if !quiet {
        eprintln!("demo: creating the demo repository from {}", src.display());
    }
    let tmp = root.join(format!(".tmp-{key}-{}", std::process::id()));
    if tmp.exists() {
        fs::remove_dir_all(&tmp).map_err(cache)?;
    }
    fs::create_dir_all(&tmp).map_err(cache)?;
    let status = Command::new("cp")
        .arg("-a")
        .arg(src.join("."))
        .arg(&tmp)
        .status()
        .map_err(|e| Error::Build(format!("copying {}: {e}", src.display())))?;
    if !status.success() {
        return Err(Error::Build(format!("copying {} failed", src.display())).into());
    }
    let _ = fs::remove_file(tmp.join(".complete"));
    commit_demo_heads(&root, &tmp)?;
    let mark = |name: &str, text: &str| {
        crate::output::write_state(&tmp.join(name), text.as_bytes())
            .map_err(|e| Error::output(format!("{}: {e}", tmp.join(name).display())))
    };
    mark(".git/info/exclude", ".pystats-gate-demo-complete\n")?;
    mark(".pystats-gate-demo-complete", "")?;
    crate::output::publish_dir(&tmp, &dest)?;
    Ok(dest)
}

/// The demo repository's cache key: the pristine source's version and the demo heads.
fn demo_key(src: &Path) -> String {
    let mut h = Sha256::new();
    h.update(fs::read(src.join("configure")).unwrap_or_default());
    h.update(fs::read(src.join("Include/patchlevel.h")).unwrap_or_default());
    for (name, patch, msg) in DEMO_HEADS {
        h.update(format!("{name}\n{patch}\n{msg}\n"));
    }
    hex::encode(h.finalize())[..16].to_string()
}

/// `git ARGS` in the demo repository being made, as the fixed demo author.
fn demo_git(tmp: &Path, args: &[&std::ffi::OsStr]) -> anyhow::Result<()> {
    let out = Command::new("git")
        .arg("-C")
        .arg(tmp)
        .args(args)
        .env("GIT_AUTHOR_NAME", "pystats-gate demo")
        .env("GIT_AUTHOR_EMAIL", "demo@pystats-gate.invalid")
        .env("GIT_AUTHOR_DATE", "2025-01-01T00:00:00+0000")
        .env("GIT_COMMITTER_NAME", "pystats-gate demo")
        .env("GIT_COMMITTER_EMAIL", "demo@pystats-gate.invalid")
        .env("GIT_COMMITTER_DATE", "2025-01-01T00:00:00+0000")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::Build(format!("running git: {e}")))?;
    if !out.status.success() {
        let words: Vec<String> = args.iter().map(|a| a.to_string_lossy().into()).collect();
        return Err(Error::Build(format!(
            "git {}: {}",
            words.join(" "),
            crate::text::cap(String::from_utf8_lossy(&out.stderr).trim())
        ))
        .into());
    }
    Ok(())
}

/// Commits the pristine source as `base` and each demo head as a branch on it.
fn commit_demo_heads(root: &Path, tmp: &Path) -> anyhow::Result<()> {
    let git = |args: &[&str]| {
        let args: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
        demo_git(tmp, &args)
    };
    git(&["init", "-q", "-b", "base"])?;
    git(&["config", "core.autocrlf", "false"])?;
    git(&["config", "commit.gpgsign", "false"])?;
    // -f: the release tarball holds files CPython's .gitignore excludes; keep them all.
    git(&["add", "-A", "-f"])?;
    git(&["commit", "-q", "-m", "Demo base: pristine CPython source"])?;
    for (name, patch, msg) in DEMO_HEADS {
        git(&["checkout", "-q", "-b", name, "base"])?;
        let patch_file = root.join(format!(".{name}-{}.patch", std::process::id()));
        crate::output::write_state(&patch_file, patch.as_bytes())
            .map_err(|e| Error::output(format!("{}: {e}", patch_file.display())))?;
        demo_git(tmp, &["apply".as_ref(), patch_file.as_os_str()])
            .with_context(|| format!("applying the demo patch `{name}`"))?;
        let _ = fs::remove_file(&patch_file);
        git(&["commit", "-q", "-a", "-m", msg])?;
    }
    git(&["checkout", "-q", "base"])
}
