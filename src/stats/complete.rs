//! Whether a set holds the whole run its manifest describes, and whether two sets ran one corpus.
//!
//! Loading a set accounts for every file against the manifest's repeat lists; these checks
//! hold the repeat lists to the run itself (`benchmarks`, `total_repeats`, `shard`), so a
//! set missing part of its run never reaches a verdict, even when both sides miss the same.

use crate::error::Error;
use crate::stats::set::{StatsSet, MANIFEST_FILE};

/// An input error (exit 2) naming the manifest when `set` is not one whole run: a shard of
/// a sharded run, fewer or more repeats than `total_repeats`, or a repeat lacking a
/// benchmark of the run's `benchmarks` with no failure recorded for it.
pub fn ensure_complete(set: &StatsSet) -> Result<(), Error> {
    let Some(m) = &set.manifest else {
        return Ok(());
    };
    let mpath = set.path.join(MANIFEST_FILE);
    let err = |what: String| Error::input(format!("{}: {what}", mpath.display()));
    if let Some(shard) = &m.shard {
        return Err(err(format!(
            "shard {} of a sharded run: it holds part of the corpus; `pystats-gate merge` every shard into one set first",
            crate::text::quote(shard.as_bytes())
        )));
    }
    if let Some(n) = m.total_repeats {
        if n as usize != m.repeats.len() {
            return Err(err(format!(
                "total_repeats is {n} but {} repeat(s) are listed: the set lacks part of its run",
                m.repeats.len()
            )));
        }
    }
    // A seeds-only manifest (docs/manifest.md) declares no coverage; neither do the
    // repeats of one that lists no benchmark.
    if m.repeats.iter().all(|r| r.benchmarks.is_empty()) {
        return Ok(());
    }
    let failed = |repeat: &str, bench: &str| {
        m.failures
            .iter()
            .any(|f| f.repeat == repeat && f.benchmark == bench)
    };
    for r in &m.repeats {
        let listed: std::collections::HashSet<&str> =
            r.benchmarks.iter().map(String::as_str).collect();
        let missing: Vec<&str> = m
            .benchmarks
            .iter()
            .map(String::as_str)
            .filter(|b| !listed.contains(b) && !failed(&r.name, b))
            .collect();
        if !missing.is_empty() {
            let shown: Vec<String> = missing.iter().take(10).map(|b| b.to_string()).collect();
            return Err(err(format!(
                "repeat {} lacks {} benchmark(s) of the run's `benchmarks` and records no failure for them: {}{}",
                r.name,
                missing.len(),
                shown.join(", "),
                if missing.len() > 10 { ", ..." } else { "" }
            )));
        }
    }
    Ok(())
}

/// An input error (exit 2) naming both manifests when `base` and `head` record different
/// corpus hashes: a corpus edited between the two runs makes every difference meaningless.
pub fn ensure_same_corpus(base: &StatsSet, head: &StatsSet) -> Result<(), Error> {
    let hash = |s: &StatsSet| s.manifest.as_ref().and_then(|m| m.corpus_hash.clone());
    let (Some(b), Some(h)) = (hash(base), hash(head)) else {
        return Ok(());
    };
    if b == h {
        return Ok(());
    }
    Err(Error::input(format!(
        "{} and {} ran different corpora (corpus_hash {} vs {}): was the corpus edited between the runs? Run both sides on one corpus",
        base.path.join(MANIFEST_FILE).display(),
        head.path.join(MANIFEST_FILE).display(),
        crate::text::quote(b.as_bytes()),
        crate::text::quote(h.as_bytes())
    )))
}

/// Both checks for a pair of sets about to be judged.
pub fn ensure_comparable(base: &StatsSet, head: &StatsSet) -> Result<(), Error> {
    ensure_complete(base)?;
    ensure_complete(head)?;
    ensure_same_corpus(base, head)
}
