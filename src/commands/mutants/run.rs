//! Running mutants: edit, incremental build, one corpus run, compare with the base, classify; resumable.

use super::generate::{generate, Mutant};
use super::report::compute;
use super::{parse_equivalents, MutantResult, Outcome, BUILTIN_EQUIVALENTS};
use crate::cli::{GateOpts, InputOpts, MutantsArgs};
use crate::error::Error;
use crate::exec::builder::{self, Worktree};
use crate::exec::runner::RunConfig;
use crate::gate::evaluate;
use crate::gate::report_model::{EvalOptions, Verdict};
use crate::report::mutants::{self as report, outcome_label};
use crate::stats::set::{StatsSet, MANIFEST_FILE};
use anyhow::Context;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Directory of per-mutant result files under `--out`.
pub const RESULTS_DIR: &str = "results";

/// The `mutants` command: list, run (resumable) or merge, then report.
pub fn cmd(args: &MutantsArgs) -> anyhow::Result<i32> {
    if !args.merge.is_empty() {
        merge(&args.merge, &args.out)?;
        return finish(args, None, 0.0);
    }
    let Some(repo) = args.repo.as_deref() else {
        return Err(Error::internal("no --repo without --merge (clap requires one)").into());
    };
    let commit = builder::resolve_commit(repo, &args.rev)?;
    let (sources, mutants) = read_sources(repo, &commit, &args.files)?;
    let selected = select(&mutants, &args.only, args.shard.as_deref())?;
    if args.list {
        let listed: Vec<_> = selected
            .iter()
            .map(|m| (m, args.diff.then(|| m.diff(&sources[&m.file]))))
            .collect();
        crate::output::print(&report::render_list(&listed))?;
        return Ok(crate::error::EXIT_PASS);
    }
    let equivalents = load_equivalents(args)?;
    let (run_opts, gate_opts) = prepare(args, &commit)?;
    let started = Instant::now();
    let results_dir = args.out.join(RESULTS_DIR);
    fs::create_dir_all(&results_dir)
        .with_context(|| format!("creating {}", results_dir.display()))?;
    let todo = still_to_run(&args.out, &selected)?;
    if !args.build.quiet {
        eprintln!(
            "mutants: {} selected, {} already done, {} to run",
            selected.len(),
            selected.len() - todo.len(),
            todo.len()
        );
    }
    if !todo.is_empty() {
        let mut session = Session::open(repo, &commit, args, &run_opts, &gate_opts)?;
        for (k, m) in todo.iter().enumerate() {
            let r = match equivalents.get(&m.id) {
                Some(reason) => equivalent_result(m, reason, &sources[&m.file]),
                None => session.run_one(m, &sources[&m.file])?,
            };
            if !args.build.quiet {
                eprintln!("{}", report::progress_line(k + 1, todo.len(), &r));
            }
            write_result(&args.out, &r)?;
        }
        session.restore(&sources)?;
    }
    let wall = if todo.is_empty() {
        0.0
    } else {
        started.elapsed().as_secs_f64()
    };
    finish(args, Some(&selected), wall)
}

/// Each `--file` at `commit` and the mutants generated from it.
fn read_sources(
    repo: &Path,
    commit: &str,
    files: &[String],
) -> anyhow::Result<(BTreeMap<String, String>, Vec<Mutant>)> {
    let mut sources = BTreeMap::new();
    let mut mutants = vec![];
    for file in files {
        let text = git_show(repo, commit, file)?;
        mutants.extend(generate(file, &text));
        sources.insert(file.clone(), text);
    }
    Ok((sources, mutants))
}

/// The run and gate options of every mutant, once the corpus selection and the rules load
/// and `--out` holds no results of another identity.
fn prepare(args: &MutantsArgs, commit: &str) -> anyhow::Result<(RunConfig, GateOpts)> {
    let run_opts = RunConfig {
        repeats: args.repeats.max(1),
        jobs: args.jobs,
        corpus: args.corpus.clone(),
        benches: args.benches.clone(),
        shard: None,
        seed_offset: 0,
    };
    let corpus =
        crate::exec::corpus::Corpus::load(&run_opts.corpus, args.build.cache_dir.as_deref())?;
    corpus.select(&run_opts.benches)?;
    let gate_opts = GateOpts {
        rules: args.rules.clone(),
        ..Default::default()
    };
    let rules = crate::gate::rules::RuleSet::load_or_default(gate_opts.rules.as_deref())?;
    check_identity(&args.out, commit, &corpus.hash, &rules, args)?;
    Ok((run_opts, gate_opts))
}

/// File under `--out` recording what its results were made from.
const IDENTITY_FILE: &str = "identity.json";

/// Reads an `identity.json` (errors name it).
fn read_identity(p: &Path) -> anyhow::Result<serde_json::Value> {
    let text = crate::text::read_regular_input(p).map_err(|e| {
        Error::input(format!(
            "{}: {e} (not a `mutants --out` directory?)",
            p.display()
        ))
    })?;
    Ok(serde_json::from_str(&text)
        .map_err(|e| Error::at_line(p, e.line(), crate::text::cap(&e.to_string())))?)
}

/// The selected mutants without a readable result in `out`. A result file that does not
/// parse (a run killed by a full disk or a power cut) is no result: the mutant runs again
/// and its file is replaced. A damaged result of a mutant outside the selection is an error
/// now: the report reads every result at the end, after hours of builds.
fn still_to_run<'m>(out: &Path, selected: &'m [Mutant]) -> anyhow::Result<Vec<&'m Mutant>> {
    let todo: Vec<&Mutant> = selected
        .iter()
        .filter(|m| read_result(&result_path(out, &m.id)).is_err())
        .collect();
    let redo: std::collections::HashSet<PathBuf> =
        todo.iter().map(|m| result_path(out, &m.id)).collect();
    let dir = out.join(RESULTS_DIR);
    for e in fs::read_dir(&dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .flatten()
    {
        let p = e.path();
        if p.extension().is_some_and(|x| x == "json") && !redo.contains(&p) {
            read_result(&p)?;
        }
    }
    Ok(todo)
}

/// Results in one `--out` are comparable only for one revision, corpus, rule set and
/// corpus selection: the first run records them, later runs (resuming) must match.
fn check_identity(
    out: &Path,
    commit: &str,
    corpus_hash: &str,
    rules: &crate::gate::rules::RuleSet,
    args: &MutantsArgs,
) -> anyhow::Result<()> {
    let rules_hash = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(format!("{:?}", rules.rules)))
    };
    let identity = serde_json::json!({
        "commit": commit,
        "corpus_hash": corpus_hash,
        "rules": rules_hash,
        "benches": args.benches,
        "repeats": args.repeats,
        "files": args.files,
    });
    let p = out.join(IDENTITY_FILE);
    if p.exists() {
        let old = read_identity(&p)?;
        if old != identity {
            let differs: Vec<&str> = [
                "commit",
                "corpus_hash",
                "rules",
                "benches",
                "repeats",
                "files",
            ]
            .into_iter()
            .filter(|k| old.get(k) != identity.get(k))
            .collect();
            return Err(Error::input(format!(
                "{}: --out holds results for another {} (use a new --out to start over)",
                p.display(),
                differs.join(", ")
            ))
            .into());
        }
        return Ok(());
    }
    crate::output::claim_dir(out, &[])?;
    crate::output::write_in_claimed_dir(
        out,
        IDENTITY_FILE,
        serde_json::to_string_pretty(&identity)?.as_bytes(),
    )
}

/// Renders the reports over the results in `--out` (the selection, or all of them).
fn finish(args: &MutantsArgs, selected: Option<&[Mutant]>, wall: f64) -> anyhow::Result<i32> {
    let mut results = read_results(&args.out)?;
    // The list is authoritative at report time: a mutant listed after it ran still counts
    // as equivalent, with its reason.
    let equivalents = load_equivalents(args)?;
    for r in &mut results {
        if r.outcome == Outcome::NotBuilt {
            r.outcome = build_failure_outcome(&r.detail);
        }
        if let Some(reason) = equivalents.get(&r.mutant.id) {
            r.outcome = Outcome::Equivalent;
            r.detail = reason.clone();
        }
    }
    if let Some(sel) = selected {
        let ids: std::collections::HashSet<&str> = sel.iter().map(|m| m.id.as_str()).collect();
        results.retain(|r| ids.contains(r.mutant.id.as_str()));
    }
    let rep = compute(results, args, wall);
    report::write_all(&rep, &args.out)?;
    crate::output::print(&report::render_text(&rep))?;
    match (args.min_score, rep.overall.score()) {
        (Some(min), Some(s)) if s < min => Ok(crate::error::EXIT_GATE_FAILED),
        (Some(_), None) => Err(Error::input("--min-score: no mutant was scored").into()),
        _ => Ok(crate::error::EXIT_PASS),
    }
}

/// A failed build is the mutant's crash when the interpreter it built crashed during the
/// build (`_bootstrap_python` freezes modules), else a compile error: not built.
fn build_failure_outcome(log: &str) -> Outcome {
    let crashed = [
        "Segmentation fault",
        "core dumped",
        "Error 139",
        "Error 134",
    ]
    .iter()
    .any(|s| log.contains(s));
    if crashed {
        Outcome::Crashed
    } else {
        Outcome::NotBuilt
    }
}

/// Mutants matching any `--only` glob (on ID, family or operator) and in the shard.
fn select(all: &[Mutant], only: &[String], shard: Option<&str>) -> anyhow::Result<Vec<Mutant>> {
    let globs = only
        .iter()
        .map(|g| {
            crate::text::glob(g)
                .map(|g| g.compile_matcher())
                .map_err(|e| {
                    Error::input(format!("--only {}: {e}", crate::text::quote(g.as_bytes())))
                })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let shard = shard
        .map(|s| s.parse::<crate::exec::shard::Shard>())
        .transpose()?;
    let mut out = vec![];
    for m in all {
        let wanted = globs.is_empty()
            || globs.iter().any(|g| {
                g.is_match(&m.id) || g.is_match(&m.family) || g.is_match(m.operator.key())
            });
        // By a hash of the ID, not the position: shards stay put when mutants come or go.
        let in_shard = shard.is_none_or(|s| id_bucket(&m.id, s.count) == s.index - 1);
        if wanted && in_shard {
            out.push(m.clone());
        }
    }
    if !only.is_empty() && out.is_empty() {
        return Err(Error::input(format!(
            "--only {}: matches no mutant",
            crate::text::cap(&crate::text::cap_list(only, " "))
        ))
        .into());
    }
    Ok(out)
}

fn id_bucket(id: &str, count: u32) -> u32 {
    use sha2::Digest;
    let h = sha2::Sha256::digest(id.as_bytes());
    (u32::from_le_bytes([h[0], h[1], h[2], h[3]])) % count
}

fn load_equivalents(args: &MutantsArgs) -> anyhow::Result<BTreeMap<String, String>> {
    match &args.equivalent {
        Some(p) => {
            let text = crate::text::read_regular_input(p)
                .map_err(|e| Error::input(format!("--equivalent {}: {e}", p.display())))?;
            parse_equivalents(&text, p)
        }
        // The shipped reasons are about what no Python program can reach, so they hold for
        // pyperformance and users' corpora as much as for the built-in one.
        None => parse_equivalents(
            BUILTIN_EQUIVALENTS,
            Path::new("corpus/equivalent-mutants.toml"),
        ),
    }
}

fn git_show(repo: &Path, commit: &str, file: &str) -> anyhow::Result<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(repo)
        .arg("show")
        .arg(format!("{commit}:{file}"))
        .output()
        .context("running git")?;
    if !out.status.success() {
        return Err(Error::input(format!(
            "--file {file}: not in {} at {commit}: {}",
            repo.display(),
            crate::text::cap(String::from_utf8_lossy(&out.stderr).trim())
        ))
        .into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// File name of a mutant's result (IDs hold `/` and `:`).
fn result_path(out: &Path, id: &str) -> PathBuf {
    let safe: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    out.join(RESULTS_DIR).join(format!("{safe}.json"))
}

fn write_result(out: &Path, r: &MutantResult) -> anyhow::Result<()> {
    let p = result_path(out, &r.mutant.id);
    // `out` was claimed; the file is replaced atomically (a killed run leaves no half file).
    let (dir, name) = (p.parent().unwrap_or(out), p.file_name().unwrap_or_default());
    crate::output::write_in_claimed_dir(
        dir,
        &name.to_string_lossy(),
        serde_json::to_string_pretty(r)?.as_bytes(),
    )
}

/// One result file; an unreadable or truncated one is an error naming it.
fn read_result(p: &Path) -> anyhow::Result<MutantResult> {
    let text = crate::text::read_regular_input(p)
        .map_err(|e| Error::input(format!("{}: cannot read: {e}", p.display())))?;
    Ok(serde_json::from_str(&text).map_err(|e| {
        Error::at_line(
            p,
            e.line(),
            format!(
                "not a mutant result (truncated by a killed run?): {}",
                crate::text::cap(&e.to_string())
            ),
        )
    })?)
}

/// Every result file under `out/results`, sorted by file and line.
pub fn read_results(out: &Path) -> anyhow::Result<Vec<MutantResult>> {
    let dir = out.join(RESULTS_DIR);
    let mut results = vec![];
    if let Ok(rd) = fs::read_dir(&dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.extension().and_then(|x| x.to_str()) != Some("json") {
                continue;
            }
            let r = read_result(&p)?;
            // A copy under another name would count one mutant twice.
            if result_path(out, &r.mutant.id) != p {
                return Err(Error::input(format!(
                    "{}: holds the result of mutant {}, whose file is {}: a stray copy?",
                    p.display(),
                    crate::output::quote(r.mutant.id.as_bytes()),
                    result_path(out, &r.mutant.id).display()
                ))
                .into());
            }
            results.push(r);
        }
    }
    results.sort_by(|a, b| {
        (&a.mutant.file, a.mutant.site, &a.mutant.id).cmp(&(
            &b.mutant.file,
            b.mutant.site,
            &b.mutant.id,
        ))
    });
    Ok(results)
}

/// Copies the result files of shard output directories into `out` (same ID twice with
/// different outcomes is an error: the shards ran different sources or rules).
fn merge(dirs: &[PathBuf], out: &Path) -> anyhow::Result<()> {
    // Results are comparable only for one identity (revision, corpus, rules, selection):
    // every shard, and `out` when it holds results already, must share it.
    let mut identity: Option<(serde_json::Value, PathBuf)> = None;
    for d in dirs.iter().chain(std::iter::once(&out.to_path_buf())) {
        let p = d.join(IDENTITY_FILE);
        if d == out && !p.exists() {
            continue;
        }
        if !d.join(RESULTS_DIR).is_dir() && d != out {
            return Err(Error::input(format!(
                "--merge {}: no {RESULTS_DIR}/ directory",
                d.display()
            ))
            .into());
        }
        let id = read_identity(&p)?;
        match &identity {
            Some((first, from)) if *first != id => {
                return Err(Error::input(format!(
                    "--merge: {} and {} hold results of different runs (revision, corpus, rules or selection differ)",
                    from.display(),
                    p.display()
                ))
                .into())
            }
            Some(_) => {}
            None => identity = Some((id, p)),
        }
    }
    let inputs: Vec<&Path> = dirs.iter().map(|d| d.as_path()).collect();
    crate::output::claim_dir(out, &inputs)?;
    if let Some((id, _)) = &identity {
        crate::output::write_in_claimed_dir(
            out,
            IDENTITY_FILE,
            serde_json::to_string_pretty(id)?.as_bytes(),
        )?;
    }
    fs::create_dir_all(out.join(RESULTS_DIR))
        .map_err(|e| Error::Output(format!("{}: {e}", out.join(RESULTS_DIR).display())))?;
    let mut seen: BTreeMap<String, (Outcome, PathBuf)> = BTreeMap::new();
    for d in dirs {
        for r in read_results(d)? {
            if let Some((o, from)) = seen.get(&r.mutant.id) {
                if *o != r.outcome {
                    return Err(Error::input(format!(
                        "--merge: mutant {} is {} in {} but {} in {}",
                        r.mutant.id,
                        outcome_label(*o),
                        from.display(),
                        outcome_label(r.outcome),
                        d.display()
                    ))
                    .into());
                }
                continue;
            }
            seen.insert(r.mutant.id.clone(), (r.outcome, d.clone()));
            write_result(out, &r)?;
        }
    }
    Ok(())
}

fn equivalent_result(m: &Mutant, reason: &str, source: &str) -> MutantResult {
    MutantResult {
        mutant: m.clone(),
        outcome: Outcome::Equivalent,
        failing_families: vec![],
        failing_rules: vec![],
        detail: reason.to_string(),
        diff: m.diff(source),
        build_seconds: 0.0,
        run_seconds: 0.0,
    }
}

/// The locked worktree, the base set and what comparing needs.
struct Session<'a> {
    wt: Worktree,
    base: StatsSet,
    eval: EvalOptions,
    run_opts: &'a RunConfig,
    scratch: PathBuf,
    quiet: bool,
}

impl<'a> Session<'a> {
    /// Builds the unmutated revision in the worktree and runs (or reuses) the base set.
    fn open(
        repo: &Path,
        commit: &str,
        args: &MutantsArgs,
        run_opts: &'a RunConfig,
        gate_opts: &GateOpts,
    ) -> anyhow::Result<Session<'a>> {
        let quiet = args.build.quiet;
        if !quiet {
            eprintln!(
                "mutants: building {} in the persistent worktree",
                &commit[..12.min(commit.len())]
            );
        }
        let wt = Worktree::open(repo, commit, &(&args.build).into())?;
        let base_dir = args.out.join("base");
        if !base_dir.join(MANIFEST_FILE).is_file() {
            crate::exec::runner::run_corpus(&wt.python, run_opts, &base_dir, quiet)
                .context("running the corpus on the unmutated base")?;
        }
        let popts = crate::stats::raw::ParseOptions::default();
        let base = StatsSet::load(&base_dir, popts)?;
        let input = InputOpts {
            cpython_src: Some(wt.src.clone()),
            ..Default::default()
        };
        let meta = crate::commands::metadata_for(&base, &input)?;
        let eval = crate::commands::eval_options(gate_opts, meta.clone(), meta)?;
        Ok(Session {
            wt,
            base,
            eval,
            run_opts,
            scratch: args.out.join("current"),
            quiet,
        })
    }

    /// Applies, builds, runs and classifies one mutant; the source is restored afterwards.
    fn run_one(&mut self, m: &Mutant, source: &str) -> anyhow::Result<MutantResult> {
        let path = self.wt.src.join(&m.file);
        let mutated = m.apply(source).map_err(Error::input)?;
        let mut r = MutantResult {
            mutant: m.clone(),
            outcome: Outcome::Survived,
            failing_families: vec![],
            failing_rules: vec![],
            detail: String::new(),
            diff: m.diff(source),
            build_seconds: 0.0,
            run_seconds: 0.0,
        };
        crate::output::write_state(&path, mutated.as_bytes())
            .with_context(|| format!("writing {}", path.display()))?;
        let t = Instant::now();
        // Only the interpreter: extension modules do not link the specializer.
        let built = self.wt.make(Some("python"));
        r.build_seconds = t.elapsed().as_secs_f64();
        let outcome = match built {
            Err(e) => {
                r.detail = format!("{e:#}");
                Ok(build_failure_outcome(&r.detail))
            }
            Ok(_) => self.run_and_compare(&mut r),
        };
        crate::output::write_state(&path, source.as_bytes())
            .with_context(|| format!("restoring {}", path.display()))?;
        r.outcome = outcome?;
        Ok(r)
    }

    fn run_and_compare(&mut self, r: &mut MutantResult) -> anyhow::Result<Outcome> {
        let t = Instant::now();
        let _ = fs::remove_dir_all(&self.scratch);
        let ran =
            crate::exec::runner::run_corpus(&self.wt.python, self.run_opts, &self.scratch, true);
        r.run_seconds = t.elapsed().as_secs_f64();
        if let Err(e) = ran {
            r.detail = format!("{e:#}");
            return Ok(Outcome::Crashed);
        }
        let head = StatsSet::load(&self.scratch, crate::stats::raw::ParseOptions::default())?;
        let rep = evaluate::evaluate(&self.base, &head, &self.eval)?;
        let _ = fs::remove_dir_all(&self.scratch);
        r.failing_families = rep
            .failing_families()
            .iter()
            .map(|s| s.to_string())
            .collect();
        r.failing_rules = rep
            .failing()
            .map(|o| match &o.benchmark {
                Some(b) => format!("{}: {} ({b})", o.rule, o.metric),
                None => format!("{}: {}", o.rule, o.metric),
            })
            .chain(
                rep.results
                    .differ
                    .iter()
                    .map(|d| format!("wrong result ({})", d.benchmark)),
            )
            .collect();
        Ok(match rep.verdict {
            Verdict::Regression if r.failing_families.contains(&r.mutant.family) => Outcome::Killed,
            Verdict::Regression => Outcome::KilledElsewhere,
            Verdict::Error => {
                r.detail = "the comparison's consistency checks failed".into();
                Outcome::Crashed
            }
            Verdict::Pass | Verdict::Inconclusive => Outcome::Survived,
        })
    }

    /// Puts the pristine sources back and rebuilds, so the worktree matches its revision.
    fn restore(&mut self, sources: &BTreeMap<String, String>) -> anyhow::Result<()> {
        for (file, text) in sources {
            crate::output::write_state(&self.wt.src.join(file), text.as_bytes())?;
        }
        if !self.quiet {
            eprintln!("mutants: rebuilding the pristine worktree");
        }
        self.wt.make(None).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mutant(line: usize) -> Mutant {
        Mutant {
            id: format!("Python/specialize.c:{line}:remove"),
            file: "Python/specialize.c".into(),
            line,
            site: line,
            operator: super::super::Operator::Remove,
            family: "BINARY_OP".into(),
            function: "f".into(),
            description: "d".into(),
            old: vec!["a".into()],
            new: vec!["b".into()],
        }
    }

    #[test]
    fn truncated_results_are_redone_and_others_checked_before_any_build() {
        let d = tempfile::tempdir().unwrap();
        fs::create_dir_all(d.path().join(RESULTS_DIR)).unwrap();
        let (m1, m2, m3) = (mutant(1), mutant(2), mutant(3));
        let done = equivalent_result(&m1, "r", "a\n");
        write_result(d.path(), &done).unwrap();
        // m2's result was cut off by a killed run: it runs again.
        let p2 = result_path(d.path(), &m2.id);
        let text = serde_json::to_string_pretty(&equivalent_result(&m2, "r", "a\n")).unwrap();
        fs::write(&p2, &text[..text.len() / 2]).unwrap();
        let selected = vec![m1.clone(), m2.clone()];
        let todo = still_to_run(d.path(), &selected).unwrap();
        assert_eq!(todo.iter().map(|m| &m.id).collect::<Vec<_>>(), vec![&m2.id]);
        // A damaged result outside the selection stops the run up front, naming it.
        let p3 = result_path(d.path(), &m3.id);
        fs::write(&p3, "{").unwrap();
        let e = format!("{:#}", still_to_run(d.path(), &selected).unwrap_err());
        assert!(
            e.contains("Python_specialize.c_3_remove.json:1: not a mutant result"),
            "{e}"
        );
    }
}
