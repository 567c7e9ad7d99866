//! `merge`: combine the stats sets of `run --shard K/N` into one set, refusing mixed builds,
//! duplicated or missing shards.

use crate::cli::MergeArgs;
use crate::error::Error;
use crate::exec::shard::{Shard, WorkUnit};
use crate::stats::set::{Manifest, RepeatManifest, MANIFEST_FILE};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub fn cmd_merge(args: &MergeArgs) -> anyhow::Result<i32> {
    let merged = merge_shards(&args.sets, &args.out)?;
    eprintln!(
        "merged {} shards into {} ({} repeats)",
        args.sets.len(),
        args.out.display(),
        merged.repeats.len()
    );
    if !merged.failures.is_empty() {
        // The merged set is written (its manifest keeps the failures), but it has holes.
        let list: Vec<String> = merged
            .failures
            .iter()
            .map(|f| format!("  {}/{}: {}", f.repeat, f.benchmark, f.reason))
            .collect();
        return Err(Error::Run(format!(
            "shards recorded {} failed run(s); the merged set is incomplete:\n{}",
            merged.failures.len(),
            list.join("\n")
        ))
        .into());
    }
    Ok(crate::error::EXIT_PASS)
}

fn read_manifest(set: &Path) -> Result<Manifest, Error> {
    let p = set.join(MANIFEST_FILE);
    let text = std::fs::read_to_string(&p).map_err(|e| {
        Error::input(format!(
            "{}: cannot read shard manifest ({e}); was this set made by `run --shard`?",
            p.display()
        ))
    })?;
    serde_json::from_str(&text).map_err(|e| Error::at_line(&p, e.line(), e.to_string()))
}

/// Fields that must agree between shards of one run.
fn identity(m: &Manifest) -> [(&'static str, String); 7] {
    [
        ("build_id", format!("{:?}", m.build_id)),
        ("interpreter", format!("{:?}", m.interpreter)),
        ("revision", format!("{:?}", m.revision)),
        ("configure_flags", format!("{:?}", m.configure_flags)),
        ("corpus_hash", format!("{:?}", m.corpus_hash)),
        ("benchmarks", format!("{:?}", m.benchmarks)),
        ("total_repeats", format!("{:?}", m.total_repeats)),
    ]
}

/// Merges shard sets into `out` (written atomically) and returns the merged manifest.
pub fn merge_shards(sets: &[PathBuf], out: &Path) -> anyhow::Result<Manifest> {
    if sets.is_empty() {
        return Err(Error::input("merge: no shard sets given").into());
    }
    let manifests: Vec<(PathBuf, Manifest, Shard)> = sets
        .iter()
        .map(|s| -> anyhow::Result<_> {
            let m = read_manifest(s)?;
            let shard_text = m.shard.clone().ok_or_else(|| {
                Error::input(format!(
                    "{}: manifest has no `shard`: not a shard of a sharded run",
                    s.join(MANIFEST_FILE).display()
                ))
            })?;
            let shard: Shard = shard_text.parse().map_err(|e: Error| {
                Error::input(format!("{}: shard: {e}", s.join(MANIFEST_FILE).display()))
            })?;
            Ok((s.clone(), m, shard))
        })
        .collect::<anyhow::Result<_>>()?;

    let (first_path, first, first_shard) = &manifests[0];
    let count = first_shard.count;
    let mut by_index: BTreeMap<u32, &PathBuf> = BTreeMap::new();
    for (path, m, shard) in &manifests {
        for ((field, a), (_, b)) in identity(first).iter().zip(identity(m).iter()) {
            if a != b {
                return Err(Error::input(format!(
                    "{} and {} come from different runs: `{field}` is {a} vs {b}",
                    first_path.display(),
                    path.display()
                ))
                .into());
            }
        }
        if shard.count != count {
            return Err(Error::input(format!(
                "{}: shard {shard} does not belong to a {count}-way split ({} is {first_shard})",
                path.display(),
                first_path.display()
            ))
            .into());
        }
        if let Some(prev) = by_index.insert(shard.index, path) {
            return Err(Error::input(format!(
                "shard {shard} given twice: {} and {}",
                prev.display(),
                path.display()
            ))
            .into());
        }
    }
    let missing: Vec<String> = (1..=count)
        .filter(|i| !by_index.contains_key(i))
        .map(|i| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(Error::input(format!("missing shard(s): {}", missing.join(", "))).into());
    }

    let repeats = first.total_repeats.ok_or_else(|| {
        Error::input(format!(
            "{}: manifest lacks `total_repeats`",
            first_path.join(MANIFEST_FILE).display()
        ))
    })?;
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
    let tmp_dir = tempfile::Builder::new()
        .prefix(".pystats-gate-merge-")
        .tempdir_in(parent)
        .map_err(|e| Error::Output(format!("{}: {e}", parent.display())))?;
    let tmp = tmp_dir.path().to_path_buf();
    let mut seen: BTreeMap<WorkUnit, PathBuf> = BTreeMap::new();
    let mut merged = Manifest {
        shard: None,
        repeats: vec![],
        failures: vec![],
        ..first.clone()
    };
    let mut repeat_entries: BTreeMap<String, RepeatManifest> = BTreeMap::new();
    for (path, m, shard) in &manifests {
        let expected: BTreeSet<WorkUnit> = shard
            .units(&first.benchmarks, repeats)
            .into_iter()
            .collect();
        let failed: BTreeSet<(String, String)> = m
            .failures
            .iter()
            .map(|f| (f.repeat.clone(), f.benchmark.clone()))
            .collect();
        for unit in &expected {
            let repeat_name = format!("run-{}", unit.repeat);
            let file = path.join(&repeat_name).join(format!("{}.txt", unit.bench));
            if !file.is_file() {
                if failed.contains(&(repeat_name.clone(), unit.bench.clone())) {
                    continue;
                }
                return Err(Error::input(format!(
                    "{}: missing; shard {shard} should hold {} of repeat {}",
                    file.display(),
                    unit.bench,
                    unit.repeat
                ))
                .into());
            }
            if let Some(prev) = seen.insert(unit.clone(), file.clone()) {
                return Err(Error::input(format!(
                    "{} duplicates {}",
                    file.display(),
                    prev.display()
                ))
                .into());
            }
            let dest_dir = tmp.join(&repeat_name);
            std::fs::create_dir_all(&dest_dir)?;
            std::fs::copy(&file, dest_dir.join(format!("{}.txt", unit.bench)))
                .map_err(|e| Error::input(format!("{}: {e}", file.display())))?;
            let entry = repeat_entries
                .entry(repeat_name.clone())
                .or_insert_with(|| RepeatManifest {
                    name: repeat_name.clone(),
                    seed: m
                        .repeats
                        .iter()
                        .find(|r| r.name == repeat_name)
                        .and_then(|r| r.seed),
                    benchmarks: vec![],
                });
            entry.benchmarks.push(unit.bench.clone());
        }
        // Anything else in the shard directory would be silently dropped: refuse it.
        for entry in std::fs::read_dir(path)? {
            let entry = entry?;
            let name = entry.file_name().to_string_lossy().to_string();
            if name == MANIFEST_FILE || name == crate::output::OUTPUT_MARKER {
                continue;
            }
            if entry.path().is_dir() {
                for f in std::fs::read_dir(entry.path())? {
                    let f = f?.path();
                    let bench = f
                        .file_stem()
                        .unwrap_or_default()
                        .to_string_lossy()
                        .to_string();
                    let unit = name
                        .strip_prefix("run-")
                        .and_then(|r| r.parse().ok())
                        .map(|repeat| WorkUnit { repeat, bench });
                    if !unit.is_some_and(|u| expected.contains(&u)) {
                        return Err(Error::input(format!(
                            "{}: not part of shard {shard}; refusing to merge",
                            f.display()
                        ))
                        .into());
                    }
                }
            } else {
                return Err(Error::input(format!(
                    "{}: unexpected file in a shard set",
                    entry.path().display()
                ))
                .into());
            }
        }
        merged.failures.extend(m.failures.iter().cloned());
    }
    let benches = &first.benchmarks;
    merged.repeats = repeat_entries
        .into_values()
        .map(|mut r| {
            r.benchmarks
                .sort_by_key(|b| benches.iter().position(|x| x == b));
            r
        })
        .collect();
    merged.repeats.sort_by_key(|r| {
        r.name
            .trim_start_matches("run-")
            .parse::<u32>()
            .unwrap_or(u32::MAX)
    });
    std::fs::write(
        tmp.join(MANIFEST_FILE),
        serde_json::to_string_pretty(&merged)?,
    )?;
    crate::output::publish_set_dir(&tmp, out)?;
    let _ = tmp_dir.keep();
    Ok(merged)
}
