//! `pystats-gate calibrate`: learn each metric's noise from A/A sets, given or built and run here.

use crate::cli::CalibrateArgs;
use crate::error::Error;
use crate::gate::metrics;
use crate::gate::noise::learn;
use crate::stats::set::StatsSet;
use std::path::Path;

/// `calibrate --repo DIR --rev REV --runs N`: builds REV once (cached build, persistent
/// worktree, ccache) and runs the corpus N times, run k with seeds (k-1) x repeats + 1 ..
/// k x repeats, into `--sets-dir` (or a temporary directory). Returns the sets.
fn aa_sets(
    args: &CalibrateArgs,
    repo: &Path,
) -> anyhow::Result<(Vec<std::path::PathBuf>, Option<tempfile::TempDir>)> {
    if args.runs == 0 || args.run.repeats == crate::cli::REPEATS_AUTO {
        return Err(Error::input("calibrate: --runs and --repeats must be at least 1").into());
    }
    if args.runs * args.run.repeats < 3 {
        return Err(Error::input(format!(
            "calibrate needs at least 3 repeats in all: --runs {} x --repeats {} = {}",
            args.runs,
            args.run.repeats,
            args.runs * args.run.repeats
        ))
        .into());
    }
    let built = crate::exec::builder::build_revision(repo, &args.rev, &(&args.build).into())?;
    let (dir, tmp) = match &args.sets_dir {
        Some(d) => (d.clone(), None),
        None => {
            let t = tempfile::Builder::new()
                .prefix("pystats-gate-calibrate-")
                .tempdir()?;
            (t.path().to_path_buf(), Some(t))
        }
    };
    std::fs::create_dir_all(&dir)?;
    let mut sets = vec![];
    for k in 0..args.runs {
        let mut ro = crate::exec::runner::RunConfig::from(&args.run);
        ro.seed_offset = k * ro.repeats;
        let out = dir.join(format!("aa-{}", k + 1));
        crate::exec::runner::run_corpus(&built.python, &ro, &out, args.build.quiet)?;
        sets.push(out);
    }
    Ok((sets, tmp))
}

/// Two of the given sets being the same files (a symlink, another spelling, a hard-link
/// copy) is an input error: the same data counted twice looks like noiseless repeats.
fn refuse_same_sets(sets: &[&Path]) -> anyhow::Result<()> {
    for (i, a) in sets.iter().enumerate() {
        for b in &sets[i + 1..] {
            let shared = crate::stats::set::shared_files_at(a, b);
            if !shared.is_empty() {
                return Err(crate::stats::set::same_input_refusal(
                    (a, "the first"),
                    (b, "the second"),
                    &shared,
                    "calibrating on the same data twice would understate the noise",
                )
                .into());
            }
        }
    }
    Ok(())
}

/// Every repeat's metrics (per benchmark) over `sets`, their seeds, and the one revision
/// they record with the first set recording it; sets of two revisions are an input error.
#[allow(clippy::type_complexity)]
fn load_aa_tables(
    args: &CalibrateArgs,
    sets: &[std::path::PathBuf],
) -> anyhow::Result<(
    Vec<metrics::MetricTable>,
    Vec<Option<u64>>,
    Option<(String, String)>,
)> {
    let popts = crate::stats::raw::ParseOptions {
        allow_malformed: args.input.allow_malformed,
    };
    let mut tables = vec![];
    let mut seeds = vec![];
    let mut revision: Option<(String, String)> = None;
    for path in sets {
        let set = StatsSet::load(path, popts)?;
        set.ensure_no_recorded_failures()?;
        let rev = set.manifest.as_ref().and_then(|m| m.revision.clone());
        match (&revision, rev) {
            (Some((r0, p0)), Some(r)) if *r0 != r => {
                return Err(Error::input(format!(
                    "{}: revision {r}, but {p0} is revision {r0}: calibrate measures one build's noise (A/A)",
                    path.display()
                ))
                .into());
            }
            (None, Some(r)) => revision = Some((r, path.display().to_string())),
            _ => {}
        }
        let meta = crate::commands::metadata_for(&set, &args.input)?;
        tables.extend(metrics::set_metrics(&set, &meta, true)?);
        seeds.extend(set.repeats.iter().map(|r| r.seed));
    }
    Ok((tables, seeds, revision))
}

/// `pystats-gate calibrate SET... -o FILE`, or `calibrate --repo DIR --rev REV -o FILE`.
pub fn cmd_calibrate(args: &CalibrateArgs) -> anyhow::Result<i32> {
    // Refuse the output before minutes of builds and runs, not after.
    let given: Vec<&Path> = args.sets.iter().map(|p| p.as_path()).collect();
    crate::output::check_file_target(&args.output, &given, args.force)?;
    refuse_same_sets(&given)?;
    let (sets, _tmp) = match &args.repo {
        Some(repo) => aa_sets(args, repo)?,
        None => (args.sets.clone(), None),
    };
    let (tables, seeds, revision) = load_aa_tables(args, &sets)?;
    if tables.len() < 3 {
        return Err(Error::input(format!(
            "calibrate needs at least 3 repeats in all (found {}): more sets or `run --repeats`",
            tables.len()
        ))
        .into());
    }
    // Sets in a temporary directory are gone afterwards: name them by what they ran.
    let sources = sets
        .iter()
        .map(|p| match (&args.repo, &args.sets_dir) {
            (Some(_), None) => format!(
                "{} ({} A/A run {})",
                args.rev,
                revision
                    .as_ref()
                    .map(|(r, _)| &r[..12.min(r.len())])
                    .unwrap_or("?"),
                p.file_name().unwrap_or_default().to_string_lossy()
            ),
            _ => p.display().to_string(),
        })
        .collect();
    let noise = learn(&tables, &seeds, sources);
    let inputs: Vec<&Path> = sets.iter().map(|p| p.as_path()).collect();
    crate::output::write_file(
        &args.output,
        &noise.to_bytes(&args.output)?,
        &inputs,
        args.force,
    )?;
    eprintln!(
        "calibrate: {} repeat(s) over {} seed(s){}, {} metric(s) with noise, {} constant{} -> {}",
        noise.repeats,
        noise.seeds,
        if noise.paired == Some(true) {
            " (seeds run twice: learned paired)"
        } else {
            ""
        },
        noise.metrics.len(),
        noise.constant.len(),
        if noise.seeds >= crate::gate::noise::CERTIFY_SEEDS {
            " (certified deterministic)"
        } else {
            " (not certified: fewer than 10 seeds)"
        },
        args.output.display()
    );
    Ok(crate::error::EXIT_PASS)
}
