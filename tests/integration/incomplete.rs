//! Integration tests: sets that hold less than the run their manifest describes never pass.
//!
//! The damage here is consistent on both sides (both sides lack the same part), so no
//! "one side only" check can see it: only the manifest's own account of its run can.

use crate::hostile::edit_manifest;
use crate::util::*;
use std::path::{Path, PathBuf};

/// The A/A fixture pair with the manifest fields `run` writes (selection, repeats, corpus).
fn full_pair(dir: &Path) -> (PathBuf, PathBuf) {
    let (b, h) = (
        crate::gate_compare::copy_set("aa-base", dir),
        crate::gate_compare::copy_set("aa-head", dir),
    );
    for set in [&b, &h] {
        edit_manifest(set, |m| {
            m["benchmarks"] = serde_json::json!(["arith", "attrs"]);
            m["total_repeats"] = serde_json::json!(3);
            m["corpus_hash"] = serde_json::json!("c0ffee");
        });
    }
    (b, h)
}

/// `compare` and `check` of the pair exit 2 naming `needle` (a path or key).
fn refused(b: &Path, h: &Path, needle: &str) {
    for sub in ["compare", "check"] {
        let out = cmd().arg(sub).arg(b).arg(h).exits(2);
        assert_stderr_contains(&out, needle);
    }
}

#[test]
fn the_intact_pair_passes() {
    // The control: what the tests below damage passes as it is.
    let d = tempdir();
    let (b, h) = full_pair(d.path());
    cmd().arg("compare").arg(&b).arg(&h).exits(0);
    cmd().arg("check").arg(&b).arg(&h).exits(0);
}

#[test]
fn a_benchmark_dropped_from_both_sides_alike_is_an_input_error() {
    let d = tempdir();
    let (b, h) = full_pair(d.path());
    for set in [&b, &h] {
        for r in ["run-1", "run-2", "run-3"] {
            std::fs::remove_file(set.join(r).join("attrs.txt")).unwrap();
        }
        edit_manifest(set, |m| {
            for r in m["repeats"].as_array_mut().unwrap() {
                r["benchmarks"] = serde_json::json!(["arith"]);
            }
        });
    }
    refused(
        &b,
        &h,
        "aa-base/manifest.json: repeat run-1 lacks 1 benchmark(s)",
    );
}

#[test]
fn fewer_repeats_than_total_repeats_is_an_input_error() {
    let d = tempdir();
    let (b, h) = full_pair(d.path());
    for set in [&b, &h] {
        std::fs::remove_dir_all(set.join("run-3")).unwrap();
        edit_manifest(set, |m| {
            m["repeats"].as_array_mut().unwrap().pop();
        });
    }
    refused(
        &b,
        &h,
        "aa-base/manifest.json: total_repeats is 3 but 2 repeat(s)",
    );
}

#[test]
fn unmerged_shards_of_both_sides_are_an_input_error() {
    // Shard 1/2 of (arith, attrs) x 3 runs arith in every repeat: both sides hold the same
    // half of the corpus, which looks like a whole (smaller) run.
    let d = tempdir();
    let (b, h) = full_pair(d.path());
    for set in [&b, &h] {
        for r in ["run-1", "run-2", "run-3"] {
            std::fs::remove_file(set.join(r).join("attrs.txt")).unwrap();
        }
        edit_manifest(set, |m| {
            m["shard"] = serde_json::json!("1/2");
            for r in m["repeats"].as_array_mut().unwrap() {
                r["benchmarks"] = serde_json::json!(["arith"]);
            }
        });
    }
    refused(&b, &h, "shard \"1/2\" of a sharded run");
    let out = cmd().arg("check").arg(&b).exits(2);
    assert_stderr_contains(&out, "aa-base/manifest.json");
}

#[test]
fn sets_of_different_corpora_are_an_input_error() {
    // A corpus file edited between the base and the head run changes the corpus hash.
    let d = tempdir();
    let (b, h) = full_pair(d.path());
    edit_manifest(&h, |m| m["corpus_hash"] = serde_json::json!("decade"));
    refused(&b, &h, "ran different corpora");
    let out = cmd().arg("compare").arg(&b).arg(&h).exits(2);
    assert_stderr_contains(&out, "aa-head/manifest.json");
}

#[test]
fn merge_refuses_shards_of_different_seeds_or_python_versions() {
    let d = tempdir();
    let src = fixture("real-3.13.5/aa-base");
    let shards = crate::workflow::split_fixture(&src, d.path(), 2);
    let merge = |out: &str| {
        let mut c = cmd();
        c.arg("merge")
            .args(&shards)
            .arg("--out")
            .arg(d.path().join(out));
        c
    };
    merge("control").exits(0);
    // run-1 is split over both shards: its halves must have run with one seed.
    edit_manifest(&shards[1], |m| {
        m["repeats"][0]["seed"] = serde_json::json!(7)
    });
    let out = merge("seeds").exits(2);
    assert_stderr_contains(
        &out,
        "shard-2/manifest.json: repeat run-1 has seed 7, but another shard's has 1",
    );
    assert!(!d.path().join("seeds").exists());
    edit_manifest(&shards[1], |m| {
        m["repeats"][0]["seed"] = serde_json::json!(1);
        m["python_version"] = serde_json::json!("3.14");
    });
    let out = merge("versions").exits(2);
    assert_stderr_contains(&out, "`python_version` is");
}

/// The base results cache entries of corpus `hash` (the entries of this test alone: its
/// corpus is unique).
fn cached_base_sets(hash: &str) -> Vec<PathBuf> {
    let mut found = vec![];
    for e in std::fs::read_dir(suite_cache().join("results"))
        .unwrap()
        .flatten()
    {
        let m = e.path().join("manifest.json");
        let Ok(text) = std::fs::read_to_string(&m) else {
            continue;
        };
        let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        if v["corpus_hash"] == hash {
            found.push(e.path());
        }
    }
    found
}

#[test]
fn a_cached_base_set_that_lost_a_dump_is_run_again() {
    // A cache cleaner removed a dump from the cached base results: the gate failed on
    // every later run (the entry was reused, then found incomplete).
    let repo = pystats_gate::commands::gate::demo_repo(Some(&suite_cache()), true).unwrap();
    let d = tempdir();
    let corpus = d.path().join("corpus");
    copy_dir(&repo_root().join("corpus"), &corpus);
    let token = d.path().file_name().unwrap().to_string_lossy().to_string();
    let truth = corpus.join("truth.py");
    let text = std::fs::read_to_string(&truth).unwrap();
    std::fs::write(&truth, format!("{text}\n# {token}\n")).unwrap();
    let gate = |out: &str| {
        cmd()
            .args(["gate", "--quiet", "--base", "base", "--head", "comment"])
            .args(["--bench", "truth", "--repeats", "2", "--corpus"])
            .arg(&corpus)
            .arg("--repo")
            .arg(&repo)
            .arg("--out")
            .arg(d.path().join(out))
            .exits(0)
    };
    gate("first");
    let hash = crate::util::read_json(&d.path().join("first/base/manifest.json"))["corpus_hash"]
        .as_str()
        .unwrap()
        .to_string();
    let cached = cached_base_sets(&hash);
    assert_eq!(cached.len(), 1, "{cached:?}");
    std::fs::remove_file(cached[0].join("run-2/truth.txt")).unwrap();
    gate("second");
    assert!(cached[0].join("run-2/truth.txt").is_file());
}
