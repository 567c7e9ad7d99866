//! Integration tests: CI workflow pieces (shards, merge, history).

use crate::util::*;
use pystats_gate::exec::shard::Shard;
use pystats_gate::stats::raw::ParseOptions;
use pystats_gate::stats::set::{Manifest, StatsSet, MANIFEST_FILE};
use std::path::Path;

/// Splits a real fixture set into `count` shard sets the way `run --shard` lays them out.
pub(crate) fn split_fixture(src: &Path, dest: &Path, count: u32) -> Vec<std::path::PathBuf> {
    let benches = vec!["arith".to_string(), "attrs".to_string()];
    let manifest: Manifest =
        serde_json::from_str(&std::fs::read_to_string(src.join(MANIFEST_FILE)).unwrap()).unwrap();
    (1..=count)
        .map(|index| {
            let shard = Shard { index, count };
            let dir = dest.join(format!("shard-{index}"));
            let mut m = Manifest {
                shard: Some(shard.to_string()),
                benchmarks: benches.clone(),
                total_repeats: Some(3),
                build_id: Some("b1".into()),
                repeats: vec![],
                ..manifest.clone()
            };
            for u in shard.units(&benches, 3) {
                let rname = format!("run-{}", u.repeat);
                std::fs::create_dir_all(dir.join(&rname)).unwrap();
                std::fs::copy(
                    src.join(&rname).join(format!("{}.txt", u.bench)),
                    dir.join(&rname).join(format!("{}.txt", u.bench)),
                )
                .unwrap();
                if !m.repeats.iter().any(|r| r.name == rname) {
                    m.repeats.push(
                        manifest
                            .repeats
                            .iter()
                            .find(|r| r.name == rname)
                            .unwrap()
                            .clone(),
                    );
                }
            }
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(dir.join(MANIFEST_FILE), serde_json::to_string(&m).unwrap()).unwrap();
            dir
        })
        .collect()
}

#[test]
fn merge_of_shards_equals_the_unsharded_set() {
    let tmp = tempdir();
    let src = fixture("real-3.13.5/aa-base");
    let shards = split_fixture(&src, tmp.path(), 3);
    let out = tmp.path().join("merged");
    let mut c = cmd();
    c.arg("merge").args(&shards).arg("--out").arg(&out);
    c.exits(0);
    let merged = StatsSet::load(&out, ParseOptions::default()).unwrap();
    let orig = StatsSet::load(&src, ParseOptions::default()).unwrap();
    assert_eq!(merged.totals().unwrap(), orig.totals().unwrap());
    assert_eq!(merged.repeats.len(), 3);
    for (a, b) in merged.repeats.iter().zip(&orig.repeats) {
        assert_eq!(a.name, b.name);
        assert_eq!(a.seed, b.seed);
        assert_eq!(a.totals().unwrap(), b.totals().unwrap());
    }
}

#[test]
fn merge_refuses_missing_duplicated_and_foreign_shards() {
    let tmp = tempdir();
    let src = fixture("real-3.13.5/aa-base");
    let shards = split_fixture(&src, tmp.path(), 2);
    let out = tmp.path().join("merged");

    let o = cmd()
        .arg("merge")
        .arg(&shards[0])
        .arg("--out")
        .arg(&out)
        .exits(2);
    assert_stderr_contains(&o, "missing shard(s): 2/2");

    let o = cmd()
        .arg("merge")
        .arg(&shards[0])
        .arg(&shards[0])
        .arg(&shards[1])
        .arg("--out")
        .arg(&out)
        .exits(2);
    assert_stderr_contains(&o, "given twice");

    // A shard from another build.
    let mpath = shards[1].join(MANIFEST_FILE);
    let mut m: Manifest = serde_json::from_str(&std::fs::read_to_string(&mpath).unwrap()).unwrap();
    m.build_id = Some("other-build".into());
    std::fs::write(&mpath, serde_json::to_string(&m).unwrap()).unwrap();
    let o = cmd()
        .arg("merge")
        .args(&shards)
        .arg("--out")
        .arg(&out)
        .exits(2);
    assert_stderr_contains(&o, "build_id");
    assert!(!out.exists());
}

#[test]
fn history_append_and_show_trend() {
    let tmp = tempdir();
    let hist = tmp.path().join("history.jsonl");
    // Two results (a set compared with itself is refused: base and head differ each time).
    for (base, head) in [("aa-base", "aa-head"), ("aa-head", "aa-base")] {
        let json = tmp.path().join(format!("{head}.json"));
        cmd()
            .args(["compare", "--format", "json", "-o"])
            .arg(&json)
            .arg(fixture(&format!("real-3.13.5/{base}")))
            .arg(fixture(&format!("real-3.13.5/{head}")))
            .exits(0);
        history_append(&json, &hist);
    }
    let o = cmd()
        .args(["history", "show", "--metric", "family.*.hit", "--file"])
        .arg(&hist)
        .exits(0);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("2 recorded result(s)"), "{text}");
    assert!(text.contains("family.BINARY_OP.hit"), "{text}");
    // Entries are labelled with the head's commit when its manifest records one (`run`, `gate`).
    let head = tmp.path().join("with-revision");
    copy_dir(&fixture("real-3.13.5/aa-head"), &head);
    let mpath = head.join(MANIFEST_FILE);
    let mut m: Manifest = serde_json::from_str(&std::fs::read_to_string(&mpath).unwrap()).unwrap();
    m.revision = Some("0123abcd".into());
    std::fs::write(&mpath, serde_json::to_string(&m).unwrap()).unwrap();
    let json = tmp.path().join("with-revision.json");
    cmd()
        .args(["compare", "--format", "json", "-o"])
        .arg(&json)
        .arg(fixture("real-3.13.5/aa-base"))
        .arg(&head)
        .exits(0);
    history_append(&json, &hist);
    let o = cmd()
        .args([
            "history",
            "show",
            "--format",
            "json",
            "--metric",
            "total.instructions",
            "--file",
        ])
        .arg(&hist)
        .exits(0);
    let trend = stdout_json(&o);
    assert_eq!(trend[0]["points"][2][0], "0123abcd", "{trend}");
    let html = tmp.path().join("h.html");
    cmd()
        .args(["history", "show", "--format", "html", "-o"])
        .arg(&html)
        .arg("--file")
        .arg(&hist)
        .exits(0);
    assert!(std::fs::read_to_string(&html)
        .unwrap()
        .contains("<polyline"));
    // A corrupted line is reported with its line number.
    std::fs::write(
        &hist,
        format!(
            "{}\nnot json\n",
            std::fs::read_to_string(&hist)
                .unwrap()
                .lines()
                .next()
                .unwrap()
        ),
    )
    .unwrap();
    let o = cmd()
        .args(["history", "show", "--file"])
        .arg(&hist)
        .exits(2);
    assert_stderr_contains(&o, "history.jsonl:2");
}

/// The GitHub workflow's steps, run locally in order on real builds: `build` base and head
/// once, the build results moved elsewhere (as the artifact is unpacked in the shard jobs),
/// `run --shard 1/2` and `run --shard 2/2` on each, `merge` each side, `compare`. Same
/// verdict and numbers as one unsharded `gate`.
#[test]
fn sharded_workflow_matches_the_unsharded_gate() {
    let repo = pystats_gate::commands::gate::demo_repo(Some(&suite_cache()), true)
        .expect("demo repository");
    let tmp = tempdir();
    let benches = ["--bench", "iterate", "--bench", "truth", "--bench", "arith"];
    let common = |c: &mut assert_cmd::Command| {
        c.arg("--repo")
            .arg(&repo)
            .args([
                "--base",
                "base",
                "--head",
                "regression",
                "--repeats",
                "2",
                "--quiet",
            ])
            .args(benches);
    };
    // The build job: each side built once, its result shipped elsewhere.
    let dist = tmp.path().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    for (side, rev) in [("base", "base"), ("head", "regression")] {
        let out = cmd()
            .args(["build", "--quiet", "--rev", rev, "--repo"])
            .arg(&repo)
            .exits(0);
        let python = std::path::PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        let result = python.parent().unwrap().parent().unwrap();
        let copied = std::process::Command::new("cp")
            .arg("-a")
            .arg(result)
            .arg(dist.join(side))
            .status()
            .unwrap();
        assert!(copied.success());
    }
    // The shard jobs: only the corpus, on the shipped builds.
    let mut shard_dirs = vec![];
    for k in 1..=2 {
        let out = tmp.path().join(format!("shard-{k}"));
        for side in ["base", "head"] {
            cmd()
                .args(["run", "--quiet", "--repeats", "2", "--python"])
                .arg(dist.join(side).join("build/python"))
                .args(benches)
                .args(["--shard", &format!("{k}/2"), "--out"])
                .arg(out.join(side))
                .exits(0);
        }
        shard_dirs.push(out);
    }
    for side in ["base", "head"] {
        cmd()
            .arg("merge")
            .args(shard_dirs.iter().map(|d| d.join(side)))
            .arg("--out")
            .arg(tmp.path().join("merged").join(side))
            .exits(0);
    }
    let sharded_json = tmp.path().join("sharded.json");
    cmd()
        .arg("compare")
        .arg(tmp.path().join("merged/base"))
        .arg(tmp.path().join("merged/head"))
        .args(["--format", "json", "-o"])
        .arg(&sharded_json)
        .exits(1);

    let whole = tmp.path().join("whole");
    let mut c = cmd();
    c.arg("gate");
    common(&mut c);
    c.arg("--out").arg(&whole).exits(1);

    let sharded = read_json(&sharded_json);
    let unsharded = read_json(&whole.join("report.json"));
    assert_eq!(sharded["verdict"], unsharded["verdict"]);
    assert_eq!(sharded["verdict"], "regression");
    // Same outcomes and the same numbers, metric by metric, for the counters measured around
    // the workload, which are deterministic (the unsharded gate runs head again, and object
    // counters differ slightly between any two runs).
    let deterministic = |name: &serde_json::Value| {
        let n = name.as_str().unwrap();
        ["family.", "opcode.", "effectiveness.", "total."]
            .iter()
            .any(|p| n.starts_with(p))
    };
    let key = |v: &serde_json::Value| -> Vec<String> {
        v["outcomes"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|o| deterministic(&o["metric"]))
            .map(|o| {
                format!(
                    "{} {} {} {} {}",
                    o["rule"], o["metric"], o["status"], o["base"], o["head"]
                )
            })
            .collect()
    };
    assert_eq!(key(&sharded), key(&unsharded));
    let values = |v: &serde_json::Value| -> Vec<String> {
        v["comparisons"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| deterministic(&c["name"]))
            .map(|c| format!("{} {} {}", c["name"], c["base_values"], c["head_values"]))
            .collect()
    };
    assert_eq!(values(&sharded), values(&unsharded));
    assert!(key(&sharded)
        .iter()
        .any(|k| k.contains("CONTAINS_OP") && k.contains("regression")));
}
