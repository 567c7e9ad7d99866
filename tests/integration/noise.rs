//! `calibrate` learns noise from real A/A fixture sets; `compare --noise` pools it into the t tests.

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
fn calibrate_then_noise_informs_the_test_without_moving_the_limit() {
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

    // Both sets ran seeds 1-3: the file was learned paired, with a paired spread.
    assert_eq!(parsed["paired"].as_bool(), Some(true), "{text}");
    assert_eq!(parsed["seeds"].as_integer(), Some(3), "{text}");
    let m = &parsed["metrics"]["objects.decrefs"];
    assert!(
        m["sd"].as_float().is_some() && m["paired_sd"].as_float().is_some(),
        "{text}"
    );

    // +2 in every repeat (decrefs also vary by one between seeds): on 3 pairs alone the
    // interval straddles max_increase 1 ...
    let small = head_with_decrefs(dir.path(), 2);
    let o = decrefs_outcome(&compare(&small, false));
    assert_eq!(o["status"], "inconclusive", "{o:#}");
    assert!(o.get("noise_prior").is_none(), "{o:#}");
    // ... the learned paired spread, pooled with its degrees of freedom into the t test,
    // decides it: a regression (the limit itself never moves; the old floor passed it).
    let out = compare(&small, true);
    expect_code(&out, 1);
    let o = decrefs_outcome(&out);
    assert_eq!(o["status"], "regression", "{o:#}");
    assert_eq!(o["noise_prior"]["df"].as_f64(), Some(3.0), "{o:#}");
    assert!(o.get("learned_threshold").is_none(), "{o:#}");
    assert!(
        o["reason"]
            .as_str()
            .unwrap()
            .contains("learned noise pooled"),
        "{o:#}"
    );
    let notes = stdout_json(&out)["notes"].to_string();
    assert!(notes.contains("pooled into 1 rule check(s)"), "{notes}");
    assert!(
        notes.contains("0 metric(s) certified deterministic"),
        "{notes}"
    );

    // +1 in every repeat: the interval still reaches past the limit with the noise file,
    // so it stays INCONCLUSIVE: no PASS on a point estimate.
    let within = head_with_decrefs(dir.path(), 1);
    let out = compare(&within, true);
    expect_code(&out, 0);
    let o = decrefs_outcome(&out);
    assert_eq!(o["status"], "inconclusive", "{o:#}");
    assert!(o["ci_high"].as_f64().unwrap() > 1.0, "{o:#}");

    // A change far beyond the noise fails with and without the noise file.
    let big = head_with_decrefs(dir.path(), 50);
    for with_noise in [false, true] {
        let out = compare(&big, with_noise);
        expect_code(&out, 1);
        let o = decrefs_outcome(&out);
        assert_eq!(o["status"], "regression", "{o:#}");
        assert_eq!(o["error_control"], "holm", "{o:#}");
    }
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
        history_append(&result, &history);
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
