//! Combines the shard sets of `run --shard K/N` into one set, refusing mixed, duplicate or missing shards.

use crate::error::Error;
use crate::exec::shard::{Shard, WorkUnit};
use crate::stats::set::{
    parse_repeat_name, repeat_dir_name, Manifest, RepeatManifest, MANIFEST_FILE,
};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn read_manifest(set: &Path) -> Result<Manifest, Error> {
    let p = set.join(MANIFEST_FILE);
    let text = crate::text::read_regular_input(&p).map_err(|e| {
        Error::input(format!(
            "{}: cannot read shard manifest ({e}); was this set made by `run --shard`?",
            p.display()
        ))
    })?;
    Manifest::parse(&text, &p)
}

/// Fields that must agree between shards of one run.
fn identity(m: &Manifest) -> [(&'static str, String); 8] {
    [
        ("build_id", format!("{:?}", m.build_id)),
        ("interpreter", format!("{:?}", m.interpreter)),
        // Without a build id, one path may hold another interpreter on another machine.
        ("python_version", format!("{:?}", m.python_version)),
        ("revision", format!("{:?}", m.revision)),
        ("configure_flags", format!("{:?}", m.configure_flags)),
        ("corpus_hash", format!("{:?}", m.corpus_hash)),
        ("benchmarks", format!("{:?}", m.benchmarks)),
        ("total_repeats", format!("{:?}", m.total_repeats)),
    ]
}

/// One shard set given to `merge`.
struct ShardSet {
    path: PathBuf,
    manifest: Manifest,
    shard: Shard,
}

/// Merges shard sets into `out` (written atomically) and returns the merged manifest.
pub fn merge_shards(sets: &[PathBuf], out: &Path) -> anyhow::Result<Manifest> {
    if sets.is_empty() {
        return Err(Error::input("merge: no shard sets given").into());
    }
    let shards = sets
        .iter()
        .map(|s| read_shard(s))
        .collect::<anyhow::Result<Vec<_>>>()?;
    check_one_complete_split(&shards)?;
    let first = &shards[0];
    let repeats = first.manifest.total_repeats.ok_or_else(|| {
        Error::input(format!(
            "{}: manifest lacks `total_repeats`",
            first.path.join(MANIFEST_FILE).display()
        ))
    })?;
    if repeats == 0 || first.manifest.benchmarks.is_empty() {
        return Err(Error::input(format!(
            "{}: the run has no work (total_repeats {repeats}, {} benchmark(s)): nothing to merge",
            first.path.join(MANIFEST_FILE).display(),
            first.manifest.benchmarks.len()
        ))
        .into());
    }
    let tmp_dir = temp_output(sets, out)?;
    let tmp = tmp_dir.path().to_path_buf();
    let mut merged = Manifest {
        shard: None,
        repeats: vec![],
        failures: vec![],
        ..first.manifest.clone()
    };
    let mut seen: BTreeMap<WorkUnit, PathBuf> = BTreeMap::new();
    let mut repeat_entries: BTreeMap<String, RepeatManifest> = BTreeMap::new();
    for s in &shards {
        let expected: BTreeSet<WorkUnit> = s
            .shard
            .units(&first.manifest.benchmarks, repeats)
            .into_iter()
            .collect();
        copy_shard(s, &expected, &tmp, &mut seen, &mut repeat_entries)?;
        refuse_strays(s, &expected)?;
        merged.failures.extend(s.manifest.failures.iter().cloned());
    }
    merged.repeats = ordered_repeats(repeat_entries, &first.manifest.benchmarks);
    crate::output::write_state(
        &tmp.join(MANIFEST_FILE),
        serde_json::to_string_pretty(&merged)?.as_bytes(),
    )
    .map_err(|e| {
        Error::Output(format!(
            "{}: cannot write its {MANIFEST_FILE}: {e}",
            out.display()
        ))
    })?;
    crate::output::publish_set_dir(&tmp, out)?;
    drop(tmp_dir);
    Ok(merged)
}

fn read_shard(s: &Path) -> anyhow::Result<ShardSet> {
    let manifest = read_manifest(s)?;
    let shard_text = manifest.shard.clone().ok_or_else(|| {
        Error::input(format!(
            "{}: manifest has no `shard`: not a shard of a sharded run",
            s.join(MANIFEST_FILE).display()
        ))
    })?;
    let shard: Shard = shard_text.parse().map_err(|e: Error| {
        Error::input(format!("{}: shard: {e}", s.join(MANIFEST_FILE).display()))
    })?;
    Ok(ShardSet {
        path: s.to_path_buf(),
        manifest,
        shard,
    })
}

/// The shards come from one run, belong to one K-way split, and are each given once, all K.
fn check_one_complete_split(shards: &[ShardSet]) -> anyhow::Result<()> {
    let first = &shards[0];
    let count = first.shard.count;
    let mut by_index: BTreeMap<u32, &PathBuf> = BTreeMap::new();
    for s in shards {
        for ((field, a), (_, b)) in identity(&first.manifest)
            .iter()
            .zip(identity(&s.manifest).iter())
        {
            if a != b {
                return Err(Error::input(format!(
                    "{} and {} come from different runs: `{field}` is {} vs {}",
                    first.path.display(),
                    s.path.display(),
                    crate::text::cap(a),
                    crate::text::cap(b)
                ))
                .into());
            }
        }
        if s.shard.count != count {
            return Err(Error::input(format!(
                "{}: shard {} does not belong to a {count}-way split ({} is {})",
                s.path.display(),
                s.shard,
                first.path.display(),
                first.shard
            ))
            .into());
        }
        if let Some(prev) = by_index.insert(s.shard.index, &s.path) {
            return Err(Error::input(format!(
                "shard {} given twice: {} and {}",
                s.shard,
                prev.display(),
                s.path.display()
            ))
            .into());
        }
    }
    // `count` comes from a manifest: name a few missing shards, never enumerate them all.
    let n_missing = count as usize - by_index.len();
    if n_missing > 0 {
        let missing: Vec<String> = (1..=count)
            .filter(|i| !by_index.contains_key(i))
            .take(10)
            .map(|i| format!("{i}/{count}"))
            .collect();
        let more = if n_missing > 10 {
            format!(", ... ({n_missing} in all)")
        } else {
            String::new()
        };
        return Err(Error::input(format!("missing shard(s): {}{more}", missing.join(", "))).into());
    }
    Ok(())
}

/// A temporary directory next to `out` (so publishing is a rename), after checking that
/// `out` may be written: not inside an input, and new or a set pystats-gate wrote.
fn temp_output(sets: &[PathBuf], out: &Path) -> anyhow::Result<crate::output::TempOutput> {
    for set in sets {
        crate::output::refuse_inside_inputs(out, &[set])?;
    }
    if !crate::output::set_is_replaceable(out) {
        return Err(Error::input(format!(
            "{}: exists and is not a stats set written by pystats-gate; refusing to replace it (choose a new directory)",
            out.display()
        ))
        .into());
    }
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)
        .map_err(|e| Error::Output(format!("{}: {e}", parent.display())))?;
    // Removed on any error and on SIGINT/SIGTERM/SIGHUP: no hidden directory is left.
    Ok(
        crate::output::TempOutput::new_in(parent, ".pystats-gate-merge-")
            .map_err(|e| Error::Output(format!("{}: {e}", parent.display())))?,
    )
}

/// Copies the dumps shard `s` should hold into `tmp`; a dump missing without a recorded
/// failure, or held by two shards, is an error.
fn copy_shard(
    s: &ShardSet,
    expected: &BTreeSet<WorkUnit>,
    tmp: &Path,
    seen: &mut BTreeMap<WorkUnit, PathBuf>,
    repeat_entries: &mut BTreeMap<String, RepeatManifest>,
) -> anyhow::Result<()> {
    let failed: BTreeSet<(String, String)> = s
        .manifest
        .failures
        .iter()
        .map(|f| (f.repeat.clone(), f.benchmark.clone()))
        .collect();
    for unit in expected {
        let repeat_name = repeat_dir_name(unit.repeat);
        let file = s
            .path
            .join(&repeat_name)
            .join(format!("{}.txt", unit.bench));
        if !file.is_file() {
            if failed.contains(&(repeat_name.clone(), unit.bench.clone())) {
                continue;
            }
            let message = format!(
                "{}: missing; shard {} should hold {} of repeat {}",
                file.display(),
                s.shard,
                unit.bench,
                unit.repeat
            );
            // A dump the shard's manifest lists went missing after its run: a run error
            // (exit 3), as in `compare`; one it never listed makes the shard inconsistent.
            let listed = s
                .manifest
                .repeats
                .iter()
                .any(|r| r.name == repeat_name && r.benchmarks.contains(&unit.bench));
            return Err(if listed {
                Error::Run(format!(
                    "{message} (listed in its manifest, no failure recorded)"
                ))
            } else {
                Error::input(message)
            }
            .into());
        }
        if let Some(prev) = seen.insert(unit.clone(), file.clone()) {
            return Err(
                Error::input(format!("{} duplicates {}", file.display(), prev.display())).into(),
            );
        }
        let dest_dir = tmp.join(&repeat_name);
        crate::output::create_subdir(&dest_dir)?;
        let dest = dest_dir.join(format!("{}.txt", unit.bench));
        std::fs::copy(&file, &dest).map_err(|e| {
            Error::Output(format!(
                "copying {} into the merged set: {e}",
                file.display()
            ))
        })?;
        add_to_repeat(s, &repeat_name, &unit.bench, repeat_entries)?;
    }
    Ok(())
}

/// Lists `bench` (and its recorded result) in the merged manifest's repeat `repeat_name`,
/// which takes the seed shard `s` ran it with: one repeat is one seed, so a merged repeat
/// never pairs dumps of two.
fn add_to_repeat(
    s: &ShardSet,
    repeat_name: &str,
    bench: &str,
    repeat_entries: &mut BTreeMap<String, RepeatManifest>,
) -> Result<(), Error> {
    let recorded = s.manifest.repeats.iter().find(|r| r.name == repeat_name);
    let seed = recorded.and_then(|r| r.seed);
    let entry = repeat_entries
        .entry(repeat_name.to_string())
        .or_insert_with(|| RepeatManifest {
            name: repeat_name.to_string(),
            seed,
            benchmarks: vec![],
            results: Default::default(),
        });
    let shown = |x: Option<u64>| x.map_or("none".to_string(), |x| x.to_string());
    if entry.seed != seed {
        return Err(Error::input(format!(
            "{}: repeat {repeat_name} has seed {}, but another shard's has {}; refusing to merge runs of different seeds",
            s.path.join(MANIFEST_FILE).display(),
            shown(seed),
            shown(entry.seed)
        )));
    }
    entry.benchmarks.push(bench.to_string());
    if let Some(result) = recorded.and_then(|r| r.results.get(bench)) {
        entry.results.insert(bench.to_string(), result.clone());
    }
    Ok(())
}

/// Anything else in the shard directory would be silently dropped: refuse it. Every entry
/// is accounted for: at the root the manifest and the output marker (regular files) and
/// repeat directories named exactly `run-K` ([`parse_repeat_name`]); inside a repeat only
/// regular `BENCH.txt` dumps of units this shard holds. Anything else (`chaos.bak`, `chaos`
/// without `.txt`, a directory, `run-01`, `run-+1`, a hidden entry) is an input error naming it.
fn refuse_strays(s: &ShardSet, expected: &BTreeSet<WorkUnit>) -> anyhow::Result<()> {
    let stray = |p: &Path, why: &str| -> anyhow::Error {
        Error::input(format!(
            "{}: {why}; refusing to merge (a shard holds only manifest.json and run-K/BENCH.txt dumps)",
            p.display()
        ))
        .into()
    };
    let io = |p: &Path, e: std::io::Error| -> anyhow::Error {
        Error::input(format!("{}: {e}", p.display())).into()
    };
    for entry in std::fs::read_dir(&s.path).map_err(|e| io(&s.path, e))? {
        let path = entry.map_err(|e| io(&s.path, e))?.path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        let meta = std::fs::metadata(&path).map_err(|e| io(&path, e))?;
        if meta.is_file() && (name == MANIFEST_FILE || name == crate::output::OUTPUT_MARKER) {
            continue;
        }
        if !meta.is_dir() {
            return Err(stray(&path, "unexpected file in a shard set"));
        }
        let repeat = parse_repeat_name(&name).map_err(|why| stray(&path, &why))?;
        for f in std::fs::read_dir(&path).map_err(|e| io(&path, e))? {
            let f = f.map_err(|e| io(&path, e))?.path();
            let fmeta = std::fs::metadata(&f).map_err(|e| io(&f, e))?;
            if !fmeta.is_file() {
                return Err(stray(&f, "not a regular file"));
            }
            if f.extension().is_none_or(|e| e != "txt") {
                return Err(stray(&f, "not a *.txt dump"));
            }
            let bench = crate::stats::set::benchmark_name(&f)?;
            if !expected.contains(&WorkUnit { repeat, bench }) {
                return Err(stray(&f, &format!("not part of shard {}", s.shard)));
            }
        }
    }
    Ok(())
}

/// Repeats in run order, each listing its benchmarks in corpus order.
fn ordered_repeats(
    entries: BTreeMap<String, RepeatManifest>,
    benches: &[String],
) -> Vec<RepeatManifest> {
    let mut repeats: Vec<RepeatManifest> = entries
        .into_values()
        .map(|mut r| {
            r.benchmarks
                .sort_by_key(|b| benches.iter().position(|x| x == b));
            r
        })
        .collect();
    repeats.sort_by_key(|r| parse_repeat_name(&r.name).unwrap_or(u32::MAX));
    repeats
}
