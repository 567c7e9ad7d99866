//! `calibrate` learns noise from real A/A fixture sets; `compare --noise` uses it as a limit floor.

use crate::util::*;
use std::path::Path;

/// aa-head with `Object decrefs` of the arith benchmark raised by `extra` in every repeat.
fn head_with_decrefs(dir: &Path, extra: u64) -> std::path::PathBuf {
    let head = dir.join(format!("head-{extra}"));
    copy_dir(&fixture("real-3.13.5/aa-head"), &head);
    for run in ["run-1", "run-2", "run-3"] {
        let f = head.join(run).join("arith.txt");
        let text = std::fs::read_to_string(&f).unwrap();
        let line = text
            .lines()
            .find(|l| l.starts_with("Object decrefs: "))
            .unwrap();
        let n: u64 = line["Object decrefs: ".len()..].parse().unwrap();
        let planted = text.replace(line, &format!("Object decrefs: {}", n + extra));
        assert_ne!(planted, text);
        std::fs::write(&f, planted).unwrap();
    }
    head
}

fn decrefs_outcome(out: &std::process::Output) -> serde_json::Value {
    let rep = stdout_json(out);
    rep["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["metric"] == "objects.decrefs")
        .unwrap_or_else(|| panic!("no objects.decrefs outcome\n{}", dump(out)))
        .clone()
}

#[test]
fn calibrate_then_noise_floors_the_limit() {
    let dir = tempdir();
    let noise = dir.path().join("noise.toml");
    let out = cmd()
        .args(["calibrate", "-o"])
        .arg(&noise)
        .arg(fixture("real-3.13.5/aa-base"))
        .arg(fixture("real-3.13.5/aa-head"))
        .output()
        .unwrap();
    expect_code(&out, 0);
    let text = std::fs::read_to_string(&noise).unwrap();
    // Decrefs differ by one between the recorded repeats: fence Q3 + 1.5 IQR = 2.5.
    let parsed: toml::Value = toml::from_str(&text).unwrap();
    assert_eq!(
        parsed["metrics"]["objects.decrefs"]["threshold"].as_float(),
        Some(2.5),
        "{text}"
    );
    assert_eq!(parsed["repeats"].as_integer(), Some(6));

    let rules = dir.path().join("rules.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nname = \"decrefs\"\nmetric = \"objects.decrefs\"\nmax_increase = 1\n",
    )
    .unwrap();
    let compare = |head: &Path, with_noise: bool| {
        let mut c = cmd();
        c.arg("compare")
            .arg(fixture("real-3.13.5/aa-base"))
            .arg(head)
            .arg("--rules")
            .arg(&rules)
            .args(["--format", "json"]);
        if with_noise {
            c.arg("--noise").arg(&noise);
        }
        c.output().unwrap()
    };

    // +2 in every repeat (decrefs also vary by one between seeds): not a pass against
    // max_increase 1 on its own ...
    let small = head_with_decrefs(dir.path(), 2);
    let out = compare(&small, false);
    let o = decrefs_outcome(&out);
    assert_ne!(o["status"], "pass", "{o:#}");
    assert!(o.get("learned_threshold").is_none(), "{o:#}");
    // ... but the learned noise replaces the limit: 2.5 per repeat, 2.5 / sqrt(3) = 1.44 for
    // a difference of 3-repeat means. The change (+2.3, interval about [0.9, 3.8]) cannot
    // fail, and the outcome says which threshold applied.
    let out = compare(&small, true);
    assert_ne!(out.status.code(), Some(1), "{}", dump(&out));
    let o = decrefs_outcome(&out);
    assert_ne!(o["status"], "regression", "{o:#}");
    let applied = o["learned_threshold"].as_f64().unwrap();
    assert!((applied - 2.5 / 3f64.sqrt()).abs() < 1e-9, "{o:#}");
    assert!(
        o["reason"]
            .as_str()
            .unwrap()
            .contains("learned noise threshold"),
        "{o:#}"
    );
    let notes = stdout_json(&out)["notes"].to_string();
    assert!(
        notes.contains("replaced the limit in 1 rule check(s)"),
        "{notes}"
    );

    // +1 in every repeat: on its own the interval straddles max_increase 1 (inconclusive);
    // with the noise file the change is within the learned 1.44, so it is noise: a pass
    // that says why (rustc-perf's rule), although the interval reaches past 1.44.
    let within = head_with_decrefs(dir.path(), 1);
    let o = decrefs_outcome(&compare(&within, false));
    assert_eq!(o["status"], "inconclusive", "{o:#}");
    let out = compare(&within, true);
    expect_code(&out, 0);
    let o = decrefs_outcome(&out);
    assert_eq!(o["status"], "pass", "{o:#}");
    assert!(o["ci_high"].as_f64().unwrap() > applied, "{o:#}");
    assert!(
        o["reason"]
            .as_str()
            .unwrap()
            .contains("the change is within it, so it passes"),
        "{o:#}"
    );

    // A change beyond the noise still fails with the noise file.
    let big = head_with_decrefs(dir.path(), 50);
    let out = compare(&big, true);
    expect_code(&out, 1);
    let o = decrefs_outcome(&out);
    assert_eq!(o["status"], "regression", "{o:#}");
    assert_eq!(o["error_control"], "holm", "{o:#}");
}

#[test]
fn calibrate_refuses_too_few_repeats_and_bad_noise_files() {
    let dir = tempdir();
    let one = dir.path().join("one");
    copy_dir(&fixture("real-3.13.5/aa-base"), &one);
    std::fs::remove_dir_all(one.join("run-2")).unwrap();
    std::fs::remove_dir_all(one.join("run-3")).unwrap();
    std::fs::remove_file(one.join("manifest.json")).unwrap();
    let out = cmd()
        .args(["calibrate", "-o"])
        .arg(dir.path().join("n.json"))
        .arg(&one)
        .output()
        .unwrap();
    expect_code(&out, 2);
    assert_stderr_contains(&out, "at least 3 repeats");

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "schema_version = 1\nmetrics = 3\n").unwrap();
    let out = cmd()
        .arg("compare")
        .arg(fixture("real-3.13.5/aa-base"))
        .arg(fixture("real-3.13.5/aa-head"))
        .arg("--noise")
        .arg(&bad)
        .output()
        .unwrap();
    expect_code(&out, 2);
    assert_stderr_contains(&out, "bad.toml");
}

/// On real whole-process dumps under 12 seeds, `calibrate` learns the seed-multimodal
/// method-cache ratio and leaves the seed-independent specialization ratios without a floor.
#[test]
fn calibrate_learns_seed_noise_of_whole_process_dumps() {
    let dir = tempdir();
    let noise = dir.path().join("noise.json");
    cmd()
        .args(["calibrate", "-o"])
        .arg(&noise)
        .arg(fixture("gate/whole-process-aa-3.13.5"))
        .exits(0);
    let n = read_json(&noise);
    assert_eq!(n["repeats"], 12);
    let m = n["metrics"].as_object().unwrap();
    let t = m["objects.method_cache_miss_ratio"]["threshold"]
        .as_f64()
        .unwrap();
    // Pairwise differences reach 0.96 pp; the fence lies beyond them.
    assert!(t > 0.0096 && t < 0.03, "{t}");
    assert!(
        !m.keys().any(|k| k.starts_with("family.")),
        "{:?}",
        m.keys()
            .filter(|k| k.starts_with("family."))
            .collect::<Vec<_>>()
    );
}

/// `history noise` learns from recorded head means: three results whose decrefs differ give
/// a noise file `compare --noise` reads; fewer than 3 entries are refused.
#[test]
fn history_noise_writes_a_noise_file_from_recorded_means() {
    let dir = tempdir();
    let history = dir.path().join("h.jsonl");
    let heads = [
        fixture("real-3.13.5/aa-head"),
        head_with_decrefs(dir.path(), 2),
        head_with_decrefs(dir.path(), 50),
    ];
    for (k, head) in heads.iter().enumerate() {
        let result = dir.path().join(format!("r{k}.json"));
        cmd()
            .arg("compare")
            .arg(fixture("real-3.13.5/aa-base"))
            .arg(head)
            .args(["--format", "json", "-o"])
            .arg(&result)
            .output()
            .unwrap();
        cmd()
            .args(["history", "append"])
            .arg(&result)
            .arg("--file")
            .arg(&history)
            .exits(0);
        let noise = dir.path().join("noise.toml");
        let out = cmd()
            .args(["history", "noise", "--file"])
            .arg(&history)
            .arg("-o")
            .arg(&noise)
            .output()
            .unwrap();
        if k < 2 {
            expect_code(&out, 2);
            assert_stderr_contains(&out, "at least 3");
            continue;
        }
        expect_code(&out, 0);
        let n: toml::Value = toml::from_str(&std::fs::read_to_string(&noise).unwrap()).unwrap();
        // Means 0, +2, +50 over the first head's: |diffs| 2, 48, 50 -> Q1 25, Q3 49, fence
        // 49 + 1.5 x 24 = 85; the means are over 3 repeats, so x sqrt(3) per repeat.
        let t = n["metrics"]["objects.decrefs"]["threshold"]
            .as_float()
            .unwrap();
        assert!((t - 85.0 * 3f64.sqrt()).abs() < 1e-6, "{n:#?}");
        cmd()
            .arg("compare")
            .arg(fixture("real-3.13.5/aa-base"))
            .arg(fixture("real-3.13.5/aa-head"))
            .arg("--noise")
            .arg(&noise)
            .exits(0);
    }
}
