//! On real builds (the demo repository's base and miss-ratio head, shared with the suite):
//! `gate --repeats auto` reruns the benchmarks feeding the open rule (also one that did not
//! vary over the first seeds: a copy would understate the variance) and never passes what
//! stays inconclusive; `calibrate --repo --rev` runs A/A sets with new seeds and learns their noise.

use crate::util::*;
use std::path::{Path, PathBuf};

/// A two-benchmark corpus: `seedcmp` compares ints taken from str hashes (its COMPARE_OP
/// work depends on PYTHONHASHSEED; the miss-ratio head misses on ints with low bits 01),
/// `steady` compares a fixed range (the same in every seed).
fn seed_corpus(dir: &Path) -> PathBuf {
    let c = dir.join("corpus");
    std::fs::create_dir_all(&c).unwrap();
    std::fs::copy(repo_root().join("corpus/driver.py"), c.join("driver.py")).unwrap();
    let bench = |name: &str| {
        format!("[[bench]]\nname = \"{name}\"\nfile = \"{name}.py\"\nargs = []\ntimeout = 60\ntags = [\"COMPARE_OP\"]\n\n")
    };
    std::fs::write(c.join("corpus.toml"), bench("seedcmp") + &bench("steady")).unwrap();
    std::fs::write(
        c.join("seedcmp.py"),
        "def setup(args):\n    return [hash(str(i)) & 0xFF for i in range(256)]\n\n\ndef workload(vals):\n    c = 0\n    for _ in range(40):\n        for a in vals:\n            if a < 128:\n                c += 1\n    return c\n",
    )
    .unwrap();
    std::fs::write(
        c.join("steady.py"),
        "def setup(args):\n    return 20000\n\n\ndef workload(n):\n    t = 0\n    for i in range(n):\n        if i < 10000:\n            t += 1\n    return t\n",
    )
    .unwrap();
    c
}

fn rules(dir: &Path, limit: f64) -> PathBuf {
    let p = dir.join(format!("rules-{limit}.toml"));
    std::fs::write(
        &p,
        format!("[[rule]]\nname = \"cmp-miss\"\nmetric = \"family.COMPARE_OP.miss_ratio\"\nmax_increase = {limit}\n"),
    )
    .unwrap();
    p
}

fn auto_gate(corpus: &Path, rules: &Path, out: &Path, code: i32) -> serde_json::Value {
    pristine_python();
    let repo = pystats_gate::commands::gate::demo_repo(Some(&suite_cache()), true).unwrap();
    cmd()
        .args([
            "gate",
            "--quiet",
            "--strict",
            "--base",
            "base",
            "--head",
            "miss-ratio",
        ])
        .args(["--repeats", "auto", "--max-repeats", "7", "--repo"])
        .arg(&repo)
        .arg("--corpus")
        .arg(corpus)
        .arg("--rules")
        .arg(rules)
        .arg("--out")
        .arg(out)
        .exits(code);
    read_json(&out.join("report.json"))
}

#[test]
fn repeats_auto_reruns_only_what_feeds_inconclusive_rules() {
    let dir = tempdir();
    let corpus = seed_corpus(dir.path());
    // A limit far from the change: decided at the first look, nothing rerun.
    let out1 = dir.path().join("decided");
    let rep = auto_gate(&corpus, &rules(dir.path(), 0.9), &out1, 0);
    assert_eq!(rep["verdict"], "pass", "{:#}", rep["notes"]);
    let auto = &read_json(&out1.join("gate.json"))["auto"];
    assert_eq!(auto["looks"].as_array().unwrap().len(), 1, "{auto:#}");
    assert_eq!(auto["looks_planned"], 3, "{auto:#}");
    let notes = rep["notes"].to_string();
    assert!(
        notes.contains("3 paired repeat(s) spent in 1 look(s) of 3 planned"),
        "{notes}"
    );
    assert!(notes.contains("alpha / 3"), "{notes}");
    // The limit on the observed change: the interval straddles it at every look. Both
    // benchmarks feed COMPARE_OP's miss ratio, so both rerun (seeds 4-7): steady did not
    // vary over seeds 1-3, but copying its first repeat into the new seeds would add
    // repeats that cannot vary. At --max-repeats the rule is still INCONCLUSIVE, never a
    // pass (--strict: exit 1).
    let change = rep["outcomes"][0]["change"].as_f64().unwrap();
    let out2 = dir.path().join("straddles");
    let rep = auto_gate(&corpus, &rules(dir.path(), change), &out2, 1);
    assert_eq!(rep["verdict"], "inconclusive", "{:#}", rep["notes"]);
    assert_eq!(rep["outcomes"][0]["status"], "inconclusive");
    assert_eq!(
        rep["base"]["seeds"].as_array().unwrap().len(),
        7,
        "{:#}",
        rep["base"]
    );
    let auto = &read_json(&out2.join("gate.json"))["auto"];
    let looks = auto["looks"].as_array().unwrap();
    assert_eq!(looks.len(), 3, "{auto:#}");
    assert_eq!(
        looks[1]["rerun"],
        serde_json::json!(["seedcmp", "steady"]),
        "{auto:#}"
    );
    assert_eq!(looks[1]["seeds"], serde_json::json!([4, 5]), "{auto:#}");
    assert_eq!(looks[2]["seeds"], serde_json::json!([6, 7]), "{auto:#}");
    assert!(
        auto["stopped"]
            .as_str()
            .unwrap()
            .contains("--max-repeats 7"),
        "{auto:#}"
    );
    let notes = rep["notes"].to_string();
    assert!(
        notes.contains("reran seeds 4-5: seedcmp, steady; seeds 6-7: seedcmp, steady"),
        "{notes}"
    );
    // The full comparative summary is attached once, after the last look.
    let summary = rep["full_report_markdown"].as_str().unwrap_or_default();
    assert!(
        summary.contains("Execution counts"),
        "{:#}",
        rep["full_report_markdown"]
    );
    let new_head = out2.join("auto/head-seeds-4-5/run-4");
    assert!(new_head.join("seedcmp.txt").is_file());
    assert!(new_head.join("steady.txt").is_file());
}

#[test]
fn calibrate_repo_rev_runs_aa_sets_with_new_seeds() {
    pristine_python();
    let repo = pystats_gate::commands::gate::demo_repo(Some(&suite_cache()), true).unwrap();
    let dir = tempdir();
    let corpus = seed_corpus(dir.path());
    let noise = dir.path().join("noise.json");
    let sets = dir.path().join("sets");
    cmd()
        .args(["calibrate", "--quiet", "--rev", "miss-ratio", "--repo"])
        .arg(&repo)
        .arg("--corpus")
        .arg(&corpus)
        .args([
            "--bench",
            "seedcmp",
            "--repeats",
            "2",
            "--runs",
            "2",
            "--sets-dir",
        ])
        .arg(&sets)
        .arg("-o")
        .arg(&noise)
        .exits(0);
    let n = read_json(&noise);
    assert_eq!(n["repeats"], 4, "{n:#}");
    let t = n["metrics"]["family.COMPARE_OP.miss_ratio"]["threshold"]
        .as_f64()
        .unwrap_or_else(|| panic!("{n:#}"));
    assert!(t > 0.0 && t < 0.2, "{t}");
    // Run 2 of the A/A pair ran new seeds (3, 4), not run 1's again.
    let m = read_json(&sets.join("aa-2/manifest.json"));
    let seeds: Vec<u64> = m["repeats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["seed"].as_u64().unwrap())
        .collect();
    assert_eq!(seeds, vec![3, 4]);
}
