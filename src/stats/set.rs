//! A "stats set": repeats x benchmarks of raw dumps, loaded from a directory or a summarize_stats JSON.

use crate::error::Error;
use crate::stats::metadata::Metadata;
use crate::stats::raw::{parse_dump, parse_into, Counters, KeyShapes, MalformedLine, ParseOptions};
use anyhow::Context;
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub use crate::output::MANIFEST_FILE;
/// Current manifest schema.
pub const MANIFEST_SCHEMA_VERSION: u32 = 1;

/// What produced a set: written by `run`, read back to pair repeats by seed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub schema_version: u32,
    #[serde(default)]
    pub interpreter: Option<String>,
    #[serde(default)]
    pub python_version: Option<String>,
    #[serde(default)]
    pub revision: Option<String>,
    #[serde(default)]
    pub configure_flags: Vec<String>,
    #[serde(default)]
    pub corpus_hash: Option<String>,
    #[serde(default)]
    pub build_id: Option<String>,
    /// Shard this set holds, `K/N`, when produced with `--shard`.
    #[serde(default)]
    pub shard: Option<String>,
    /// Every benchmark of the run's selection (a shard holds only some of them).
    #[serde(default)]
    pub benchmarks: Vec<String>,
    /// Repeats of the whole run (a shard holds only some of them).
    #[serde(default)]
    pub total_repeats: Option<u32>,
    #[serde(default)]
    pub repeats: Vec<RepeatManifest>,
    /// Failures (crash, timeout, missing dump) recorded by the runner.
    #[serde(default)]
    pub failures: Vec<RunFailure>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RepeatManifest {
    pub name: String,
    #[serde(default)]
    pub seed: Option<u64>,
    #[serde(default)]
    pub benchmarks: Vec<String>,
    /// What each benchmark's workload returned, as the corpus driver printed it
    /// (`checksum ...`): `compare` checks that head computes what base computed.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub results: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunFailure {
    pub repeat: String,
    pub benchmark: String,
    pub reason: String,
}

pub use crate::text::MAX_REPEATS;

impl Manifest {
    /// Parses a manifest's text (an unknown `schema_version` is an error) and checks every
    /// name it holds, since names become paths
    /// (`merge` copies `REPEAT/BENCH.txt`): a benchmark must be a plain name and a repeat a
    /// plain directory name, so that no `..` or `/` reaches outside the set. Errors name
    /// `path` and the JSON key path.
    pub fn parse(text: &str, path: &Path) -> Result<Manifest, Error> {
        let m: Manifest = serde_json::from_str(text)
            .map_err(|e| Error::at_line(path, e.line(), crate::text::cap(&e.to_string())))?;
        if m.schema_version != MANIFEST_SCHEMA_VERSION {
            return Err(Error::input(format!(
                "{}: schema_version {} is not supported (this pystats-gate reads version {MANIFEST_SCHEMA_VERSION})",
                path.display(),
                m.schema_version
            )));
        }
        let bad = |key: String, name: &str, why: String| {
            Error::input(format!(
                "{}: {key}: bad name {}: {why}",
                path.display(),
                crate::output::quote(name.as_bytes())
            ))
        };
        let bench =
            |key: String, name: &str| valid_benchmark_name(name).map_err(|w| bad(key, name, w));
        // A flat set's one repeat is `.`; any other repeat is `run-K` ([`parse_repeat_name`]).
        let repeat = |key: String, name: &str| match name {
            "." => Ok(()),
            _ => parse_repeat_name(name)
                .map(|_| ())
                .map_err(|w| bad(key, name, w)),
        };
        for (i, b) in m.benchmarks.iter().enumerate() {
            bench(format!("benchmarks[{i}]"), b)?;
        }
        for (i, r) in m.repeats.iter().enumerate() {
            repeat(format!("repeats[{i}].name"), &r.name)?;
            for (j, b) in r.benchmarks.iter().enumerate() {
                bench(format!("repeats[{i}].benchmarks[{j}]"), b)?;
            }
            for (b, value) in &r.results {
                let key = format!("repeats[{i}].results.{b}");
                bench(key.clone(), b)?;
                crate::stats::results::check_result(value)
                    .map_err(|why| Error::input(format!("{}: {key}: {why}", path.display())))?;
            }
        }
        for (i, f) in m.failures.iter().enumerate() {
            repeat(format!("failures[{i}].repeat"), &f.repeat)?;
            bench(format!("failures[{i}].benchmark"), &f.benchmark)?;
        }
        if let Some(n) = m.total_repeats.filter(|n| *n > MAX_REPEATS) {
            return Err(Error::input(format!(
                "{}: total_repeats: {n} is more than {MAX_REPEATS}",
                path.display()
            )));
        }
        Ok(m)
    }

    /// A loud line for commands that show a set without judging it (`summarize`,
    /// `metrics`): the numbers lack the runs the manifest records as failed.
    pub fn failure_warning(&self, set: &Path) -> Option<String> {
        (!self.failures.is_empty()).then(|| {
            format!(
                "warning: {}: the manifest records {} failed run(s) ({}); these numbers lack their data",
                set.display(),
                self.failures.len(),
                self.failures
                    .iter()
                    .take(5)
                    .map(|f| format!("{}/{}", f.repeat, f.benchmark))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
    }
}

/// One benchmark's dump within one repeat.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BenchmarkDump {
    pub counters: Counters,
    /// Number of dump files merged in (summarize_stats.py's `__nfiles__`).
    pub files: u64,
}

/// One repeat of the corpus: benchmarks in file-name order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Repeat {
    pub name: String,
    pub seed: Option<u64>,
    pub benchmarks: IndexMap<String, BenchmarkDump>,
    /// Each benchmark's printed workload result in this repeat, when its run recorded one
    /// (from the manifest; a repeat copied by `--repeats auto` has none of its own).
    pub results: BTreeMap<String, String>,
}

impl Repeat {
    /// Sum over the repeat's benchmarks.
    pub fn totals(&self) -> Result<Counters, Error> {
        sum_counters(self.benchmarks.values().map(|b| &b.counters))
    }
    pub fn files(&self) -> u64 {
        self.benchmarks.values().map(|b| b.files).sum()
    }
}

/// Where a set came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SetSource {
    RawDir,
    SummarizeJson,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StatsSet {
    pub path: PathBuf,
    pub source: SetSource,
    pub repeats: Vec<Repeat>,
    pub manifest: Option<Manifest>,
    /// Metadata carried inside a summarize_stats JSON file.
    pub embedded_metadata: Option<Metadata>,
    pub malformed: Vec<MalformedLine>,
}

fn sum_counters<'a>(items: impl Iterator<Item = &'a Counters>) -> Result<Counters, Error> {
    let mut total = Counters::new();
    for c in items {
        total.merge(c).map_err(|o| {
            Error::input(format!(
                "counter {} overflows 64 bits when summing the set ({} + {}): wrapped counter?",
                crate::output::quote(o.key.as_bytes()),
                o.current,
                o.added
            ))
        })?;
    }
    Ok(total)
}

impl StatsSet {
    /// Totals over every repeat and benchmark, like summarize_stats.py over one folder.
    pub fn totals(&self) -> Result<Counters, Error> {
        sum_counters(
            self.repeats
                .iter()
                .flat_map(|r| r.benchmarks.values().map(|b| &b.counters)),
        )
    }
    /// Number of dump files (summarize_stats.py's `__nfiles__`).
    pub fn files(&self) -> u64 {
        self.repeats.iter().map(|r| r.files()).sum()
    }
    /// Benchmark names, in first-seen order across repeats.
    pub fn benchmark_names(&self) -> Vec<String> {
        let mut names: IndexMap<String, ()> = IndexMap::new();
        for r in &self.repeats {
            for b in r.benchmarks.keys() {
                names.insert(b.clone(), ());
            }
        }
        names.into_keys().collect()
    }
    /// A dump directory's set with no repeat loaded yet.
    fn raw_dir(path: &Path, manifest: Option<Manifest>) -> StatsSet {
        StatsSet {
            path: path.to_path_buf(),
            source: SetSource::RawDir,
            repeats: vec![],
            manifest,
            embedded_metadata: None,
            malformed: vec![],
        }
    }

    /// [`StatsSet::ensure_no_recorded_failures`] from the manifest alone, before any dump is
    /// parsed: a recorded crash is the root cause and outranks what it may have left behind.
    pub fn precheck_recorded_failures(path: &Path) -> anyhow::Result<()> {
        if !path.is_dir() {
            return Ok(());
        }
        StatsSet::raw_dir(path, read_manifest(path)?).ensure_no_recorded_failures()?;
        Ok(())
    }

    /// A run error (exit 3) when the set's manifest records failed runs (crash, timeout,
    /// missing dump): a set with holes must never reach a verdict.
    pub fn ensure_no_recorded_failures(&self) -> Result<(), Error> {
        let Some(m) = &self.manifest else {
            return Ok(());
        };
        if m.failures.is_empty() {
            return Ok(());
        }
        let list: Vec<String> = m
            .failures
            .iter()
            .take(20)
            .map(|f| {
                format!(
                    "  {}/{}: {}",
                    f.repeat,
                    f.benchmark,
                    crate::output::quote(f.reason.as_bytes())
                )
            })
            .collect();
        Err(Error::Run(format!(
            "{}: the manifest records {} failed run(s); their data is missing, so no verdict is possible:\n{}{}",
            self.path.join(MANIFEST_FILE).display(),
            m.failures.len(),
            list.join("\n"),
            if m.failures.len() > 20 { "\n  ..." } else { "" }
        )))
    }
    /// True when every repeat carries a seed.
    pub fn has_seeds(&self) -> bool {
        !self.repeats.is_empty() && self.repeats.iter().all(|r| r.seed.is_some())
    }

    /// Loads a set from a directory of dumps (flat, or one subdirectory per repeat)
    /// or from a summarize_stats.py `--json-output` file.
    pub fn load(path: &Path, opts: ParseOptions) -> anyhow::Result<StatsSet> {
        if path.is_file() {
            return load_summarize_json(path);
        }
        if !path.is_dir() {
            return Err(Error::input(format!(
                "{}: no such stats set (expected a directory of dumps or a summarize_stats JSON file)",
                path.display()
            ))
            .into());
        }
        let mut set = StatsSet::raw_dir(path, read_manifest(path)?);
        let layout = repeat_layout(path)?;
        if let Some(m) = &set.manifest {
            account_for_manifest(path, m, &layout)?;
        }
        for (name, dir, files) in &layout {
            let (repeat, mal) = load_repeat(name, dir, files, opts)?;
            set.repeats.push(repeat);
            set.malformed.extend(mal);
        }
        if let Some(m) = &set.manifest {
            for r in &mut set.repeats {
                let entry = m.repeats.iter().find(|rm| rm.name == r.name);
                r.seed = entry.and_then(|rm| rm.seed);
                r.results = entry.map(|rm| rm.results.clone()).unwrap_or_default();
            }
        }
        // Surface a sum overflow at load time, naming the file and line where it happens.
        if let Err(e) = set.totals() {
            let files: Vec<&PathBuf> = layout.iter().flat_map(|(_, _, f)| f).collect();
            return Err(locate_sum_overflow(&files, opts).unwrap_or(e).into());
        }
        Ok(set)
    }
}

/// The files of set `b` that are also files of set `a`, by (device, inode): the same set
/// reached through another path (a symlink, `X/`, `w/../w/X`) or a hard-link copy
/// (`cp -al`). Comparing data with itself proves nothing, so callers refuse it.
pub fn shared_files(a: &StatsSet, b: &StatsSet) -> Vec<PathBuf> {
    let files = |s: &StatsSet| -> Vec<PathBuf> {
        match s.source {
            SetSource::SummarizeJson => vec![s.path.clone()],
            SetSource::RawDir => s
                .repeats
                .iter()
                .flat_map(|r| {
                    let dir = if r.name == "." {
                        s.path.clone()
                    } else {
                        s.path.join(&r.name)
                    };
                    r.benchmarks
                        .keys()
                        .map(move |bench| dir.join(format!("{bench}.txt")))
                })
                .collect(),
        }
    };
    shared_paths(&files(a), files(b))
}

/// The files of `b` that are files of `a` too, by (device, inode).
fn shared_paths(a: &[PathBuf], b: Vec<PathBuf>) -> Vec<PathBuf> {
    use std::os::unix::fs::MetadataExt;
    let id = |p: &Path| std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()));
    let in_a: std::collections::HashSet<(u64, u64)> = a.iter().filter_map(|p| id(p)).collect();
    b.into_iter()
        .filter(|p| id(p).is_some_and(|i| in_a.contains(&i)))
        .collect()
}

/// [`shared_files`] of the sets at `a` and `b`, read from disk (for commands that never
/// hold a whole set: `summarize`, `calibrate`). A summarize_stats JSON is its own one file;
/// a set that cannot be listed has none (loading it reports why).
pub fn shared_files_at(a: &Path, b: &Path) -> Vec<PathBuf> {
    let files = |p: &Path| -> Vec<PathBuf> {
        if !p.is_dir() {
            return vec![p.to_path_buf()];
        }
        repeat_layout(p)
            .map(|l| l.into_iter().flat_map(|(_, _, f)| f).collect())
            .unwrap_or_default()
    };
    shared_paths(&files(a), files(b))
}

/// The input error for base and head sharing files ([`shared_files`]), naming both sets
/// and the first shared file.
pub fn same_input_error(base: &Path, head: &Path, shared: &[PathBuf]) -> Error {
    same_input_refusal(
        (base, "base"),
        (head, "head"),
        shared,
        "comparing data with itself proves nothing. Pass --allow-same-input to do it anyway (never reported as a pass)",
    )
}

/// The input error for two inputs `(path, label)` sharing dump files, saying `why` that
/// is refused.
pub fn same_input_refusal(
    a: (&Path, &str),
    b: (&Path, &str),
    shared: &[PathBuf],
    why: &str,
) -> Error {
    Error::input(format!(
        "{} and {} are the same input: {} dump file(s) of {} are files of {} too (first: {}; a symlink, another spelling of the path or a hard-link copy); {why}",
        a.0.display(),
        b.0.display(),
        shared.len(),
        b.1,
        a.1,
        shared.first().map(|p| p.display().to_string()).unwrap_or_default()
    ))
}

/// What each labelled set lacks that another (or another repeat of its own) has: lines
/// naming the set, the repeat and the benchmarks, plus whole repeats missing on one side.
/// Empty when all cover the same ground.
pub fn coverage_gaps(sides: &[(&str, &StatsSet)]) -> Vec<String> {
    let mut all: IndexMap<&str, ()> = IndexMap::new();
    for (_, set) in sides {
        for r in &set.repeats {
            for b in r.benchmarks.keys() {
                all.insert(b, ());
            }
        }
    }
    let most_repeats = sides
        .iter()
        .map(|(_, s)| s.repeats.len())
        .max()
        .unwrap_or(0);
    let mut gaps = vec![];
    // A repeat is the same repeat on another side by seed when every side carries seeds
    // (that is how repeats pair), else by name: `zzz` or `run-2` on one side is not the
    // other side's `run-1`, even when both sides have one repeat.
    let seeded = sides.iter().all(|(_, s)| s.has_seeds());
    let key = |r: &Repeat| match (seeded, r.seed) {
        (true, Some(seed)) => format!("seed {seed}"),
        _ => r.name.clone(),
    };
    for (label, set) in sides {
        for (other_label, other) in sides.iter().filter(|(l, _)| l != label) {
            for r in &other.repeats {
                if !set.repeats.iter().any(|x| key(x) == key(r)) {
                    let which = if seeded {
                        format!("{} ({})", r.name, key(r))
                    } else {
                        r.name.clone()
                    };
                    gaps.push(format!(
                        "{label} ({}) lacks repeat {which} that {other_label} has",
                        set.path.display(),
                    ));
                }
            }
        }
    }
    for (label, set) in sides {
        if set.repeats.len() < most_repeats {
            gaps.push(format!(
                "{label} ({}) has {} repeat(s), the other side {most_repeats}",
                set.path.display(),
                set.repeats.len(),
            ));
        }
        for r in &set.repeats {
            let lacking: Vec<&str> = all
                .keys()
                .filter(|b| !r.benchmarks.contains_key(**b))
                .copied()
                .collect();
            if !lacking.is_empty() {
                gaps.push(format!(
                    "{label} ({}) repeat {} lacks benchmark(s) {}",
                    set.path.display(),
                    r.name,
                    crate::text::cap_list(&lacking, ", ")
                ));
            }
        }
    }
    gaps
}

/// Both sets cut to what they share: the benchmarks present in every repeat of both sides,
/// and as many repeats as the smaller side has. Errors when nothing is left.
pub fn restrict_to_common(base: &StatsSet, head: &StatsSet) -> Result<(StatsSet, StatsSet), Error> {
    let common: Vec<String> = base
        .benchmark_names()
        .into_iter()
        .filter(|b| {
            base.repeats
                .iter()
                .chain(&head.repeats)
                .all(|r| r.benchmarks.contains_key(b))
        })
        .collect();
    if common.is_empty() {
        return Err(Error::input(format!(
            "{} and {} have no benchmark in common (in every repeat): nothing to compare",
            base.path.display(),
            head.path.display()
        )));
    }
    let n = base.repeats.len().min(head.repeats.len());
    // Seeded sets keep the seeds both sides ran (so pairing survives); others the first n.
    let seeded = base.has_seeds() && head.has_seeds();
    let cut = |set: &StatsSet, other: &StatsSet| {
        let mut s = set.clone();
        if seeded {
            s.repeats
                .retain(|r| other.repeats.iter().any(|o| o.seed == r.seed));
        } else {
            // Unseeded repeats are the same repeat by name only.
            s.repeats
                .retain(|r| other.repeats.iter().any(|o| o.name == r.name));
            s.repeats.truncate(n);
        }
        for r in &mut s.repeats {
            r.benchmarks.retain(|b, _| common.contains(b));
        }
        s
    };
    let (b, h) = (cut(base, head), cut(head, base));
    if b.repeats.is_empty() || h.repeats.is_empty() {
        return Err(Error::input(format!(
            "{} and {} have no repeat in common: nothing to compare",
            base.path.display(),
            head.path.display()
        )));
    }
    Ok((b, h))
}

/// The repeats of a set on disk: (name, directory, dump files).
type Layout = Vec<(String, PathBuf, Vec<PathBuf>)>;

/// Checks the files on disk against the manifest: every repeat and benchmark the manifest
/// lists has its dump unless the manifest records its failure (else a run error: a dump
/// went missing), and every dump on disk is listed (else an input error: the file would be
/// data nobody ran).
fn account_for_manifest<'a>(
    path: &Path,
    manifest: &Manifest,
    layout: &'a Layout,
) -> anyhow::Result<()> {
    // A hand-made manifest that only gives seeds (docs/manifest.md) declares no coverage.
    if manifest.repeats.iter().all(|r| r.benchmarks.is_empty()) {
        return Ok(());
    }
    let mpath = path.join(MANIFEST_FILE);
    let failed = |repeat: &str, bench: &str| {
        manifest
            .failures
            .iter()
            .any(|f| f.repeat == repeat && f.benchmark == bench)
    };
    // Sets of names, not scans: 5,000 benchmarks x 5,000 files per repeat is 25 million
    // comparisons.
    type Names<'a> = std::collections::HashSet<&'a std::ffi::OsStr>;
    let stems = |files: &'a [PathBuf]| -> Names<'a> {
        files.iter().filter_map(|f| f.file_stem()).collect()
    };
    let mut missing = vec![];
    for rm in &manifest.repeats {
        let on_disk = layout
            .iter()
            .find(|(name, _, _)| *name == rm.name)
            .map(|(_, _, files)| stems(files));
        for bench in &rm.benchmarks {
            let present = on_disk
                .as_ref()
                .is_some_and(|s| s.contains(std::ffi::OsStr::new(bench.as_str())));
            if !present && !failed(&rm.name, bench) {
                missing.push(format!("{}/{bench}.txt", rm.name));
            }
        }
    }
    if !missing.is_empty() {
        return Err(Error::Run(format!(
            "{}: {} dump(s) listed in {} are missing and no failure is recorded for them: {}{}",
            path.display(),
            missing.len(),
            mpath.display(),
            missing[..missing.len().min(20)].join(", "),
            if missing.len() > 20 { ", ..." } else { "" }
        ))
        .into());
    }
    for (name, _, files) in layout {
        let listed: Option<std::collections::HashSet<&str>> = manifest
            .repeats
            .iter()
            .find(|r| r.name == *name)
            .map(|r| r.benchmarks.iter().map(String::as_str).collect());
        for f in files {
            let bench = f.file_stem().unwrap_or_default().to_string_lossy();
            if !listed.as_ref().is_some_and(|l| l.contains(bench.as_ref())) {
                return Err(Error::input(format!(
                    "{}: not listed in {} (a dump no run of this set produced)",
                    f.display(),
                    mpath.display()
                ))
                .into());
            }
        }
    }
    Ok(())
}

/// The repeats of a dump directory: (name, directory, dump files), validated and sorted.
fn repeat_layout(path: &Path) -> anyhow::Result<Layout> {
    let (dirs, txts) = list_dir(path, true)?;
    if !dirs.is_empty() && !txts.is_empty() {
        return Err(Error::input(format!(
            "{}: holds both dump files and repeat subdirectories; use one layout",
            path.display()
        ))
        .into());
    }
    if dirs.is_empty() {
        if txts.is_empty() {
            return Err(Error::input(format!(
                "{}: empty stats set (no *.txt dumps)",
                path.display()
            ))
            .into());
        }
        let flat = vec![(".".to_string(), path.to_path_buf(), txts)];
        refuse_same_file_twice(&flat)?;
        return Ok(flat);
    }
    let mut out = vec![];
    for dir in dirs {
        let name = dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        // `list_dir` refuses any directory inside a repeat.
        let (_, sub_txts) = list_dir(&dir, false)?;
        if sub_txts.is_empty() {
            return Err(
                Error::input(format!("{}: repeat has no *.txt dumps", dir.display())).into(),
            );
        }
        out.push((name, dir, sub_txts));
    }
    refuse_same_file_twice(&out)?;
    Ok(out)
}

/// Two dump paths of one set that are the same file (a symlinked repeat or dump, a hard
/// link) would count its data twice, as if it were another repeat: an input error.
fn refuse_same_file_twice(layout: &Layout) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt;
    let mut seen: std::collections::HashMap<(u64, u64), &PathBuf> = Default::default();
    for f in layout.iter().flat_map(|(_, _, files)| files) {
        let m = std::fs::metadata(f)
            .map_err(|e| Error::input(format!("{}: cannot read: {e}", f.display())))?;
        if let Some(first) = seen.insert((m.dev(), m.ino()), f) {
            return Err(Error::input(format!(
                "{} and {} are the same file (a symlink or hard link): its data would count twice",
                first.display(),
                f.display()
            ))
            .into());
        }
    }
    Ok(())
}

/// Totals of a set without its per-benchmark counters: what `summarize` needs, loaded
/// in parallel with one accumulator per thread (memory does not grow with the file count).
#[derive(Clone, Debug, PartialEq)]
pub struct SetTotals {
    pub path: PathBuf,
    pub source: SetSource,
    /// Sum over every dump, keys in first-seen order over repeats and files (sorted by name).
    pub totals: Counters,
    pub files: u64,
    pub repeats: usize,
    pub manifest: Option<Manifest>,
    pub embedded_metadata: Option<Metadata>,
    pub malformed: Vec<MalformedLine>,
}

/// One thread's share of a parallel load: a contiguous run of files.
#[derive(Default)]
struct Accumulator {
    totals: Counters,
    malformed: Vec<MalformedLine>,
    buf: Vec<u8>,
}

impl SetTotals {
    /// Summary of an already loaded set.
    pub fn from_set(set: &StatsSet) -> Result<SetTotals, Error> {
        Ok(SetTotals {
            path: set.path.clone(),
            source: set.source.clone(),
            totals: set.totals()?,
            files: set.files(),
            repeats: set.repeats.len(),
            manifest: set.manifest.clone(),
            embedded_metadata: set.embedded_metadata.clone(),
            malformed: set.malformed.clone(),
        })
    }

    /// Loads only the totals of the set at `path` (same layouts and errors as [`StatsSet::load`]).
    pub fn load(path: &Path, opts: ParseOptions) -> anyhow::Result<SetTotals> {
        use rayon::prelude::*;
        if !path.is_dir() {
            return Ok(SetTotals::from_set(&StatsSet::load(path, opts)?)?);
        }
        let manifest = read_manifest(path)?;
        let layout = repeat_layout(path)?;
        if let Some(m) = &manifest {
            account_for_manifest(path, m, &layout)?;
        }
        let files: Vec<&PathBuf> = layout.iter().flat_map(|(_, _, f)| f).collect();
        // Contiguous chunks folded and reduced in order keep the sequential first-seen key order.
        // One chunk per thread: every chunk builds its own map of all the keys it meets, so
        // fewer chunks mean fewer key allocations. (BASE and HEAD load concurrently, so an
        // idle core still finds work when the other is busy.)
        let per_thread = files.len().div_ceil(rayon::current_num_threads()).max(1);
        let folded = files
            .par_iter()
            .with_min_len(per_thread)
            .try_fold(Accumulator::default, |mut acc, f| -> Result<Accumulator, Error> {
                let buf = std::mem::take(&mut acc.buf);
                let (buf, n) = read_reusing(f, buf).map_err(|e| Error::input(format!("{}: {e}", f.display())))?;
                if parse_into(&buf[..n], f, opts, &mut acc.totals, &mut acc.malformed)? == 0 {
                    return Err(no_counters(f));
                }
                acc.buf = buf;
                Ok(acc)
            })
            .try_reduce(Accumulator::default, |mut a, b| {
                if a.totals.is_empty() {
                    return Ok(Accumulator { buf: vec![], ..b });
                }
                a.totals.merge(&b.totals).map_err(|o| {
                    Error::input(format!(
                        "counter {} overflows 64 bits when summing the set ({} + {}): wrapped counter?",
                        crate::output::quote(o.key.as_bytes()), o.current, o.added
                    ))
                })?;
                a.malformed.extend(b.malformed);
                Ok(a)
            });
        let acc = match folded {
            Ok(acc) => acc,
            // Find the exact file and line of a sum overflow with a sequential pass.
            Err(e) => return Err(locate_sum_overflow(&files, opts).unwrap_or(e).into()),
        };
        Ok(SetTotals {
            path: path.to_path_buf(),
            source: SetSource::RawDir,
            totals: acc.totals,
            files: files.len() as u64,
            repeats: layout.len(),
            manifest,
            embedded_metadata: None,
            malformed: acc.malformed,
        })
    }
}

/// Reads `path` into `buf` (kept fully initialised and reused across files, so no size
/// query and no zeroing per file); returns the buffer and the number of bytes read.
fn read_reusing(path: &Path, mut buf: Vec<u8>) -> std::io::Result<(Vec<u8>, usize)> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    if buf.is_empty() {
        buf.resize(256 * 1024, 0);
    }
    let mut n = 0;
    loop {
        if n == buf.len() {
            // Past the reused size, grow to the file's size once (doubling a 300 MB
            // single-line file's buffer held 512 MB): one more byte finds the end.
            let size = file.metadata().map(|m| m.len() as usize + 1).unwrap_or(0);
            buf.resize(size.max(n + 1).max(buf.len() + buf.len() / 2), 0);
        }
        match file.read(&mut buf[n..]) {
            Ok(0) => return Ok((buf, n)),
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Re-reads `files` in order into one sum; returns the error naming the file and line where
/// the first failure (a sum overflow, say) happens.
fn locate_sum_overflow(files: &[&PathBuf], opts: ParseOptions) -> Option<Error> {
    let mut totals = Counters::new();
    let mut malformed = vec![];
    for f in files {
        let bytes = std::fs::read(f).ok()?;
        if let Err(e) = parse_into(&bytes, f, opts, &mut totals, &mut malformed) {
            return Some(e);
        }
    }
    None
}

/// Subdirectories and `*.txt` dumps of `dir`, sorted by name (so loading is deterministic).
/// Every entry is accounted for: anything that is not a repeat directory, a regular `*.txt`
/// dump with a usable benchmark name, or (at the set's root) the manifest and the output
/// marker is an input error naming it, since data the gate does not read must not pass.
fn list_dir(dir: &Path, root: bool) -> anyhow::Result<(Vec<PathBuf>, Vec<PathBuf>)> {
    let mut dirs = vec![];
    let mut txts = vec![];
    let rd = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot read directory", dir.display()))
        .map_err(|e| Error::input(format!("{e:#}")))?;
    for entry in rd {
        let entry = entry.map_err(|e| Error::input(format!("{}: {e}", dir.display())))?;
        let p = entry.path();
        let name = entry.file_name().to_string_lossy().to_string();
        // Follows a symlink to what it points at; only directories and regular files count.
        let meta = std::fs::metadata(&p)
            .map_err(|e| Error::input(format!("{}: cannot read: {e}", p.display())))?;
        // The manifest and the output marker are files: a directory of that name is a
        // hidden place for data, refused below like any other hidden entry.
        if root && meta.is_file() && (name == MANIFEST_FILE || name == crate::output::OUTPUT_MARKER)
        {
            continue;
        }
        let stray = |why: &str| -> anyhow::Error {
            Error::input(format!(
                "{}: {why}; a stats set holds only repeat directories, *.txt dumps and manifest.json",
                p.display()
            ))
            .into()
        };
        if name.starts_with('.') {
            return Err(stray(if meta.is_dir() {
                "hidden directory in a stats set"
            } else {
                "hidden entry in a stats set"
            }));
        }
        if meta.is_dir() {
            if !root {
                return Err(stray(
                    "unexpected directory inside a repeat (layout is SET/REPEAT/BENCH.txt)",
                ));
            }
            parse_repeat_name(&name).map_err(|why| stray(&why))?;
            dirs.push(p);
        } else if p.extension().is_some_and(|e| e == "txt") {
            if !meta.is_file() {
                return Err(stray("not a regular file"));
            }
            benchmark_name(&p)?;
            txts.push(p);
        } else {
            return Err(stray("not a *.txt dump"));
        }
    }
    dirs.sort();
    txts.sort();
    Ok((dirs, txts))
}

/// The directory name of repeat `k` (seed `k`): `run-K`.
pub fn repeat_dir_name(k: u32) -> String {
    format!("run-{k}")
}

/// The repeat number of a repeat directory name, parsed strictly: `run-K` with K a decimal
/// number from 1 (no sign, no leading zero, no other text), so that every name maps to one
/// repeat and back (`run-01` and `run-+1` are not a second spelling of `run-1`). The one
/// parser of repeat names: set reading, manifests and `merge` all use it.
pub fn parse_repeat_name(name: &str) -> Result<u32, String> {
    let why = || {
        "not a repeat directory name (expected `run-K`, K a number from 1 written without sign or leading zero)".to_string()
    };
    let digits = name.strip_prefix("run-").ok_or_else(why)?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.starts_with('0') {
        return Err(why());
    }
    let k: u32 = digits.parse().map_err(|_| why())?;
    debug_assert_eq!(repeat_dir_name(k), name);
    Ok(k)
}

/// The benchmark a dump belongs to: its file stem, which must be a plain name (letters,
/// digits, `_`, `-`, `.`, not starting with `.`), so that it can be reported and matched.
pub fn benchmark_name(dump: &Path) -> Result<String, Error> {
    let stem = dump
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    valid_benchmark_name(&stem).map_err(|why| {
        Error::input(format!(
            "{}: bad benchmark name {stem:?}: {why}",
            dump.display()
        ))
    })?;
    Ok(stem)
}

/// Checks a benchmark name: non-empty, at most 100 characters of `[A-Za-z0-9_.-]`, not
/// starting with `.` or `-`.
pub fn valid_benchmark_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("empty".into());
    }
    if name.len() > 100 {
        return Err("longer than 100 characters".into());
    }
    if name.starts_with('.') || name.starts_with('-') {
        return Err("must not start with `.` or `-`".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
    {
        return Err(format!(
            "character {c:?} is not allowed (use letters, digits, _ - .)"
        ));
    }
    Ok(())
}

fn load_repeat(
    name: &str,
    dir: &Path,
    files: &[PathBuf],
    opts: ParseOptions,
) -> anyhow::Result<(Repeat, Vec<MalformedLine>)> {
    use rayon::prelude::*;
    // Each dump keeps only its values; dumps naming the same counters share the names.
    let shapes = std::sync::Mutex::new(KeyShapes::default());
    let parsed: Vec<_> = files
        .par_iter()
        .map(|f| -> Result<_, Error> {
            let bytes =
                std::fs::read(f).map_err(|e| Error::input(format!("{}: {e}", f.display())))?;
            let mut dump = parse_dump(&bytes, f, opts)?;
            dump.counters
                .compact(&mut shapes.lock().unwrap_or_else(|p| p.into_inner()));
            Ok((f, dump))
        })
        .collect::<Result<_, _>>()?;
    let mut repeat = Repeat {
        name: name.to_string(),
        seed: None,
        benchmarks: IndexMap::new(),
        results: BTreeMap::new(),
    };
    let mut malformed = vec![];
    for (f, dump) in parsed {
        let bench = benchmark_name(f)?;
        if dump.counters.is_empty() {
            return Err(no_counters(f).into());
        }
        malformed.extend(dump.malformed);
        repeat.benchmarks.insert(
            bench,
            BenchmarkDump {
                counters: dump.counters,
                files: 1,
            },
        );
    }
    let _ = dir;
    Ok((repeat, malformed))
}

/// The error for a dump that holds no counter at all.
fn no_counters(dump: &Path) -> Error {
    Error::input(format!(
        "{}: holds no pystats counters (not a dump of an --enable-pystats interpreter?)",
        dump.display()
    ))
}

/// The manifest of the set at `path`, with the files on disk held to it as loading holds
/// them (every listed dump there unless its failure is recorded, no dump unlisted), without
/// parsing a dump; None for a set without one.
pub fn accounted_manifest(path: &Path) -> anyhow::Result<Option<Manifest>> {
    let Some(m) = read_manifest(path)? else {
        return Ok(None);
    };
    account_for_manifest(path, &m, &repeat_layout(path)?)?;
    Ok(Some(m))
}

fn read_manifest(dir: &Path) -> anyhow::Result<Option<Manifest>> {
    let p = dir.join(MANIFEST_FILE);
    // A dangling symlink is a manifest that cannot be read, not a set without one.
    if std::fs::symlink_metadata(&p).is_err() {
        return Ok(None);
    }
    let text = crate::text::read_regular_input(&p)
        .map_err(|e| Error::input(format!("{}: {e}", p.display())))?;
    Ok(Some(Manifest::parse(&text, &p)?))
}

/// The top-level object of a summarize_stats JSON, refusing a key given twice, also as two
/// spellings of one counter (`"k "` and `"k"`, `uops[X]` and `uops[_X]`): serde_json would
/// keep the last value and drop the other without a word. The script writes each key once.
struct UniqueKeys(serde_json::Map<String, serde_json::Value>);

impl<'de> Deserialize<'de> for UniqueKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Keys;
        impl<'de> serde::de::Visitor<'de> for Keys {
            type Value = UniqueKeys;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object of counters")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<UniqueKeys, A::Error> {
                let mut map = serde_json::Map::new();
                let mut seen = std::collections::HashMap::new();
                while let Some(key) = a.next_key::<String>()? {
                    if let Some(c) = key.chars().find(|c| !crate::stats::raw::key_char(*c)) {
                        return Err(serde::de::Error::custom(format!(
                            "key {:?} holds {c:?}, which no pystats key holds",
                            crate::text::cap(&key)
                        )));
                    }
                    let counter = crate::stats::raw::normalize_key(&key);
                    if let Some(first) = seen.insert(counter, key.clone()) {
                        // Debug-quoted, not trimmed: a trailing blank may be the difference.
                        let q = |k: &str| format!("{:?}", crate::text::cap(k));
                        return Err(serde::de::Error::custom(format!(
                            "key {} repeats key {} (the same counter): one of the two values would be dropped",
                            q(&key),
                            q(&first)
                        )));
                    }
                    map.insert(key, a.next_value()?);
                }
                Ok(UniqueKeys(map))
            }
        }
        d.deserialize_map(Keys)
    }
}

/// Loads summarize_stats.py `--json-output`: counters plus `_specialized_instructions`,
/// `_stats_defines`, `_defines` and `__nfiles__`.
fn load_summarize_json(path: &Path) -> anyhow::Result<StatsSet> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::input(format!("{}: {e}", path.display())))?;
    let UniqueKeys(obj) = serde_json::from_str(&text).map_err(|e| {
        let msg = crate::text::cap(&e.to_string());
        Error::at_line(path, e.line(), format!("not a summarize_stats JSON: {msg}"))
    })?;
    let obj = &obj;
    if obj.len() > crate::stats::raw::MAX_COUNTERS {
        return Err(Error::input(format!(
            "{}: {} keys, more than {} distinct counters: not a summarize_stats JSON",
            path.display(),
            obj.len(),
            crate::stats::raw::MAX_COUNTERS
        ))
        .into());
    }
    let mut counters = Counters::new();
    let mut nfiles = 1;
    for (k, v) in obj {
        match k.as_str() {
            "_specialized_instructions" | "_stats_defines" | "_defines" => continue,
            "__nfiles__" => {
                nfiles = v.as_u64().ok_or_else(|| {
                    Error::input(format!(
                        "{}: key `__nfiles__`: expected an integer",
                        path.display()
                    ))
                })?;
                continue;
            }
            _ => {}
        }
        let n = v.as_u64().ok_or_else(|| {
            Error::input(format!(
                "{}: key {}: expected a non-negative integer, found {}",
                path.display(),
                crate::output::quote(k.as_bytes()),
                crate::output::quote(v.to_string().as_bytes())
            ))
        })?;
        counters.set(&crate::stats::raw::normalize_key(k), n);
    }
    if counters.is_empty() {
        return Err(Error::input(format!(
            "{}: holds no pystats counters (an empty summarize_stats JSON?)",
            path.display()
        ))
        .into());
    }
    let embedded_metadata = Metadata::from_summarize_json(obj)
        .map_err(|e| Error::input(format!("{}: {e}", path.display())))?;
    let mut benchmarks = IndexMap::new();
    benchmarks.insert(
        "all".to_string(),
        BenchmarkDump {
            counters,
            files: nfiles,
        },
    );
    Ok(StatsSet {
        path: path.to_path_buf(),
        source: SetSource::SummarizeJson,
        repeats: vec![Repeat {
            name: ".".into(),
            seed: None,
            benchmarks,
            results: BTreeMap::new(),
        }],
        manifest: None,
        embedded_metadata,
        malformed: vec![],
    })
}

/// One side (`aa-base`, `aa-head`) of the committed real 3.13.5 fixture pair, for unit tests.
/// Picks the metadata for `set`: `--cpython-src` > `--python-version` > metadata embedded
/// in a summarize_stats JSON > version detected from the dump keys > 3.13.
pub fn resolve_metadata(
    opts: crate::stats::metadata::MetadataChoice<'_>,
    set: &StatsSet,
) -> anyhow::Result<crate::stats::metadata::Metadata> {
    let keys = set
        .repeats
        .first()
        .and_then(|r| r.benchmarks.values().next())
        .map(|b| &b.counters);
    check_manifest_version(&set.path, opts, set.manifest.as_ref(), keys)?;
    crate::stats::metadata::resolve(
        opts,
        set.manifest
            .as_ref()
            .and_then(|m| m.python_version.as_deref()),
        set.embedded_metadata.as_ref(),
        keys,
    )
}

/// A manifest's `python_version` picks the metadata table unless an option does; a 3.12
/// version on dumps with named opcode ids (or a later one on numeric ids) would read every
/// opcode through the wrong table: an input error naming the manifest.
fn check_manifest_version(
    set: &Path,
    opts: crate::stats::metadata::MetadataChoice<'_>,
    manifest: Option<&Manifest>,
    keys: Option<&Counters>,
) -> Result<(), Error> {
    if opts.cpython_src.is_some() || opts.python_version.is_some() {
        return Ok(());
    }
    let Some(v) = manifest.and_then(|m| m.python_version.as_deref()) else {
        return Ok(());
    };
    let Some(keys) = keys else {
        return Ok(());
    };
    let (mut numeric, mut named) = (false, false);
    for id in keys.keys().filter_map(|k| k.strip_prefix("opcode[")) {
        match id.bytes().next() {
            Some(b) if b.is_ascii_digit() => numeric = true,
            Some(_) => named = true,
            None => {}
        }
    }
    // Mixed dumps are refused later, naming the file and line of the odd key.
    let says_312 = v == "3.12" || v.starts_with("3.12.");
    if numeric != named && numeric != says_312 {
        return Err(Error::input(format!(
            "{}: python_version {} does not match the dumps, whose opcode ids are {} (those of {}); correct it or pass --python-version",
            set.join(MANIFEST_FILE).display(),
            crate::output::quote(v.as_bytes()),
            if numeric { "numbers" } else { "names" },
            if numeric { "3.12" } else { "3.13 and later" }
        )));
    }
    Ok(())
}

/// [`resolve_metadata`] for a totals-only set.
pub fn resolve_metadata_totals(
    opts: crate::stats::metadata::MetadataChoice<'_>,
    set: &SetTotals,
) -> anyhow::Result<crate::stats::metadata::Metadata> {
    check_manifest_version(&set.path, opts, set.manifest.as_ref(), Some(&set.totals))?;
    crate::stats::metadata::resolve(
        opts,
        set.manifest
            .as_ref()
            .and_then(|m| m.python_version.as_deref()),
        set.embedded_metadata.as_ref(),
        Some(&set.totals),
    )
}

#[cfg(test)]
pub(crate) fn real_fixture(side: &str) -> StatsSet {
    StatsSet::load(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/real-3.13.5")
            .join(side),
        Default::default(),
    )
    .unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::raw::write_dump;
    use proptest::prelude::*;

    #[test]
    fn repeat_names_have_one_spelling() {
        for (name, k) in [("run-1", 1), ("run-10", 10), ("run-4294967295", u32::MAX)] {
            assert_eq!(parse_repeat_name(name), Ok(k));
            assert_eq!(repeat_dir_name(k), name);
        }
        for bad in [
            "run-0",
            "run-01",
            "run-+1",
            "run--1",
            "run-",
            "run-1 ",
            "run-1a",
            "zzz",
            "Run-1",
            "run-4294967296",
            ".",
            "",
        ] {
            assert!(parse_repeat_name(bad).is_err(), "{bad:?}");
        }
    }

    fn dump() -> impl Strategy<Value = Vec<(String, u64)>> {
        proptest::collection::vec(("[a-f]{1,3}", 0u64..1000), 1..12)
    }

    proptest! {
        #![proptest_config(crate::testing::proptest_config(24))]
        /// The parallel totals-only loader sums like the sequential loader, in the same
        /// first-seen key order (summarize_stats.py's tie order depends on it).
        #[test]
        fn totals_loader_matches_sequential_sum(repeats in proptest::collection::vec(
            proptest::collection::vec(dump(), 1..40), 1..4)) {
            let dir = tempfile::tempdir().unwrap();
            for (r, files) in repeats.iter().enumerate() {
                let rdir = dir.path().join(format!("run-{}", r + 1));
                std::fs::create_dir_all(&rdir).unwrap();
                for (i, kv) in files.iter().enumerate() {
                    let mut text = String::new();
                    for (k, v) in kv {
                        let mut c = Counters::new();
                        c.set(k, *v);
                        text.push_str(&write_dump(&c));
                    }
                    std::fs::write(rdir.join(format!("b{i:03}.txt")), text).unwrap();
                }
            }
            let set = StatsSet::load(dir.path(), ParseOptions::default()).unwrap();
            let totals = SetTotals::load(dir.path(), ParseOptions::default()).unwrap();
            let seq = set.totals().unwrap();
            prop_assert_eq!(
                totals.totals.iter().collect::<Vec<_>>(),
                seq.iter().collect::<Vec<_>>()
            );
            prop_assert_eq!(totals.files, set.files());
            prop_assert_eq!(totals.repeats, set.repeats.len());
        }
    }
}
