//! Integration tests: bisect.
//!
//! Fast tests judge commits by a verdict file committed in a tiny repository (the hidden
//! `--test-verdict-file` hook), so state, resume, log, report and exit codes are covered in
//! seconds. The real-build test is in `real_build` below.

use crate::util::{
    assert_stderr_contains, assert_stdout_contains, cmd, copy_dir, dump, expect_code, repo_root,
    stdout_json, suite_cache, tempdir, Exits,
};
use std::path::{Path, PathBuf};
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "commit.gpgsign=false"])
        .args(args)
        .env("GIT_AUTHOR_NAME", "Ada Tester")
        .env("GIT_AUTHOR_EMAIL", "ada@example.org")
        .env("GIT_COMMITTER_NAME", "Ada Tester")
        .env("GIT_COMMITTER_EMAIL", "ada@example.org")
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", dump(&out));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

/// A repository whose commits carry VERDICT files; returns the hashes (index 0 = good end).
pub(crate) fn verdict_repo(dir: &Path, verdicts: &[&str]) -> Vec<String> {
    git(dir, &["init", "-q", "-b", "main"]);
    let mut hashes = Vec::new();
    for (i, v) in verdicts.iter().enumerate() {
        std::fs::write(dir.join("VERDICT"), format!("{v}\n# commit {i}\n")).unwrap();
        git(dir, &["add", "VERDICT"]);
        git(dir, &["commit", "-q", "-m", &format!("commit {i} ({v})")]);
        hashes.push(git(dir, &["rev-parse", "HEAD"]));
    }
    hashes
}

pub(crate) fn bisect(repo: &Path, cache: &Path, good: &str, bad: &str) -> assert_cmd::Command {
    let mut c = cmd();
    c.env("PYSTATS_GATE_CACHE", cache)
        .arg("bisect")
        .arg("--repo")
        .arg(repo)
        .args([
            "--good",
            good,
            "--bad",
            bad,
            "--test-verdict-file",
            "VERDICT",
        ]);
    c
}

fn calls(cache: &Path) -> Vec<String> {
    std::fs::read_to_string(cache.join("bisect/scripted-calls.log"))
        .unwrap_or_default()
        .lines()
        .map(|l| l.split(' ').next().unwrap().to_string())
        .collect()
}

#[test]
fn names_first_bad_commit_logs_steps_and_lists_no_skip_it_did_not_meet() {
    let t = tempdir();
    let repo = t.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    let v = [
        "good", "good", "good", "skip", "good", "good", "bad", "bad", "bad", "bad", "bad",
    ];
    let h = verdict_repo(&repo, &v);
    let log = t.path().join("steps.jsonl");
    let out = bisect(&repo, &t.path().join("cache"), &h[0], &h[10])
        .arg("--log")
        .arg(&log)
        .exits(0);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("First bad commit: {}", h[6])),
        "{}",
        dump(&out)
    );
    assert!(text.contains("commit 6 (bad)"), "{text}");
    assert!(text.contains("Ada Tester <ada@example.org>"), "{text}");
    assert!(text.contains("scripted: scripted.verdict 0 -> 1"), "{text}");
    let steps: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // 10 candidates: at most ceil(log2 10) + 1 = 5 tests (+1 for the good end is the budget).
    assert!(steps.len() <= 5, "{steps:?}");
    for s in &steps {
        for key in [
            "commit",
            "mark",
            "build_seconds",
            "run_seconds",
            "repeats",
            "time",
        ] {
            assert!(s.get(key).is_some(), "{key} missing in {s}");
        }
    }
    // The search is deterministic and its halving never reaches the broken commit 3 (the
    // first bad commit is 6), so nothing is listed as skipped (skip reporting is pinned by
    // `broken_midpoint_is_skipped_and_reported`, where the midpoint is the broken commit).
    assert!(steps.iter().all(|s| s["mark"] != "skip"), "{steps:?}");
    assert!(!text.contains("Skipped"), "{text}");
    assert!(!text.contains("commit 3 (skip)"), "{text}");
}

#[test]
fn broken_midpoint_is_skipped_and_reported() {
    let t = tempdir();
    let repo = t.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    // 9 candidates; the first midpoint (h[4]) does not build.
    let v = [
        "good", "good", "good", "good", "skip", "good", "good", "bad", "bad", "bad",
    ];
    let h = verdict_repo(&repo, &v);
    let out = bisect(&repo, &t.path().join("cache"), &h[0], &h[9])
        .args(["--format", "json"])
        .exits(0);
    let r = stdout_json(&out);
    assert_eq!(r["status"], "found");
    assert_eq!(r["first_bad"]["hash"], h[7].as_str());
    assert_eq!(r["skipped"][0]["hash"], h[4].as_str(), "{r:#}");
    assert!(r["builds"].as_u64().unwrap() <= r["build_budget"].as_u64().unwrap());
}

#[test]
fn skip_next_to_the_answer_is_ambiguous() {
    let t = tempdir();
    let repo = t.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    let h = verdict_repo(&repo, &["good", "good", "skip", "bad", "bad"]);
    let out = bisect(&repo, &t.path().join("cache"), &h[0], &h[4]).exits(3);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Ambiguous"), "{}", dump(&out));
    assert!(
        text.contains("commit 2 (skip)") && text.contains("commit 3 (bad)"),
        "{text}"
    );
}

#[test]
fn interrupted_bisect_resumes_without_redoing_steps() {
    let t = tempdir();
    let repo = t.path().join("repo");
    let cache = t.path().join("cache");
    std::fs::create_dir(&repo).unwrap();
    // The first tested commit (the midpoint) is interrupted once.
    let v = [
        "good",
        "good",
        "good",
        "good",
        "good",
        "abort-once",
        "bad",
        "bad",
        "bad",
    ];
    let h = verdict_repo(&repo, &v);
    let first = bisect(&repo, &cache, &h[0], &h[8]).output().unwrap();
    assert_ne!(first.status.code(), Some(0), "{}", dump(&first));
    let before = calls(&cache);
    let second = bisect(&repo, &cache, &h[0], &h[8]).exits(0);
    assert_stderr_contains(&second, "resuming");
    let after = calls(&cache);
    let first_bad = format!("First bad commit: {}", h[6]);
    assert_stdout_contains(&second, &first_bad);
    // A third run finds everything in the saved state: no evaluation at all.
    bisect(&repo, &cache, &h[0], &h[8]).exits(0);
    assert_eq!(
        calls(&cache).len(),
        after.len(),
        "rerun of a finished bisect evaluated again"
    );
    // Finished steps of the second run were not repeated: each commit evaluated once,
    // except the interrupted one.
    let mut seen = std::collections::HashMap::new();
    for c in &after {
        *seen.entry(c.clone()).or_insert(0) += 1;
    }
    for (c, n) in seen {
        let expected = if before.last() == Some(&c) { 2 } else { 1 };
        assert_eq!(n, expected, "{c} evaluated {n} times");
    }
    // --fresh starts over.
    bisect(&repo, &cache, &h[0], &h[8]).arg("--fresh").exits(0);
    assert!(calls(&cache).len() > after.len());
}

#[test]
fn inconclusive_steps_get_more_repeats() {
    let t = tempdir();
    let repo = t.path().join("repo");
    let cache = t.path().join("cache");
    std::fs::create_dir(&repo).unwrap();
    let h = verdict_repo(&repo, &["good", "good", "flaky", "bad"]);
    let out = bisect(&repo, &cache, &h[0], &h[3])
        .args(["--repeats", "3", "--max-repeats", "9"])
        .exits(0);
    assert_stdout_contains(&out, &h[2]);
    let log = std::fs::read_to_string(cache.join("bisect/scripted-calls.log")).unwrap();
    assert!(
        log.contains(&format!("{} 3", h[2])) && log.contains(&format!("{} 6", h[2])),
        "{log}"
    );
}

#[test]
fn bad_end_that_passes_is_bad_input() {
    let t = tempdir();
    let repo = t.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    let h = verdict_repo(&repo, &["good", "good", "good"]);
    let out = bisect(&repo, &t.path().join("cache"), &h[0], &h[2]).exits(2);
    assert_stdout_contains(&out, "No regression");
}

#[test]
fn unknown_revision_and_wrong_order_are_input_errors() {
    let t = tempdir();
    let repo = t.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    let h = verdict_repo(&repo, &["good", "bad"]);
    let cache = t.path().join("cache");
    let out = bisect(&repo, &cache, "nosuchrev", &h[1]).exits(2);
    assert_stderr_contains(&out, "unknown revision `nosuchrev`");
    let out = bisect(&repo, &cache, &h[1], &h[0]).exits(2);
    assert_stderr_contains(&out, "is not an ancestor");
}

#[test]
fn first_parent_skips_merged_side_branch() {
    let t = tempdir();
    let repo = t.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    let h = verdict_repo(&repo, &["good", "good"]);
    git(&repo, &["checkout", "-q", "-b", "side"]);
    for i in 0..3 {
        std::fs::write(repo.join(format!("side{i}")), "x").unwrap();
        std::fs::write(repo.join("VERDICT"), "skip\n").unwrap();
        git(&repo, &["add", "-A"]);
        git(&repo, &["commit", "-q", "-m", &format!("side {i}")]);
    }
    git(&repo, &["checkout", "-q", "main"]);
    std::fs::write(repo.join("VERDICT"), "good\n").unwrap();
    std::fs::write(repo.join("main-change"), "x").unwrap();
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "main good"]);
    git(
        &repo,
        &[
            "merge",
            "-q",
            "--no-ff",
            "-X",
            "ours",
            "-m",
            "merge side (bad)",
            "side",
        ],
    );
    std::fs::write(repo.join("VERDICT"), "bad\n").unwrap();
    git(&repo, &["commit", "-q", "-am", "mark merge bad"]);
    git(&repo, &["commit", "-q", "--allow-empty", "-m", "after"]);
    let out = bisect(&repo, &t.path().join("cache"), &h[1], "HEAD")
        .args(["--first-parent", "--format", "json"])
        .exits(0);
    let r = stdout_json(&out);
    assert_eq!(r["candidates"], 4, "{r:#}");
    assert!(r["skipped"].as_array().unwrap().is_empty(), "{r:#}");
}

fn step(repo: &Path, cache: &Path, good: &str, rev: &str) -> std::process::Output {
    cmd()
        .env("PYSTATS_GATE_CACHE", cache)
        .arg("bisect-step")
        .arg("--repo")
        .arg(repo)
        .args([
            "--good",
            good,
            "--rev",
            rev,
            "--test-verdict-file",
            "VERDICT",
        ])
        .output()
        .unwrap()
}

#[test]
fn bisect_step_exit_codes_follow_git_bisect_run() {
    let t = tempdir();
    let repo = t.path().join("repo");
    let cache = t.path().join("cache");
    std::fs::create_dir(&repo).unwrap();
    let h = verdict_repo(&repo, &["good", "good", "bad", "skip", "inconclusive"]);
    expect_code(&step(&repo, &cache, &h[0], &h[1]), 0);
    expect_code(&step(&repo, &cache, &h[0], &h[2]), 1);
    expect_code(&step(&repo, &cache, &h[0], &h[3]), 125);
    expect_code(&step(&repo, &cache, &h[0], &h[4]), 125);
    // A setup error must stop `git bisect run`, never read as "bad".
    let out = step(&repo, &cache, "nosuchrev", &h[2]);
    expect_code(&out, 128);
    assert_stderr_contains(&out, "nosuchrev");
}

#[test]
fn git_bisect_run_with_bisect_step_finds_the_commit() {
    let t = tempdir();
    let repo = t.path().join("repo");
    let cache = t.path().join("cache");
    std::fs::create_dir(&repo).unwrap();
    let v = [
        "good", "good", "skip", "good", "good", "bad", "bad", "bad", "bad",
    ];
    let h = verdict_repo(&repo, &v);
    git(&repo, &["bisect", "start", &h[8], &h[0]]);
    let exe = assert_cmd::cargo::cargo_bin("pystats-gate");
    let out = Command::new("git")
        .env("PYSTATS_GATE_CACHE", crate::util::suite_cache())
        .arg("-C")
        .arg(&repo)
        .args(["bisect", "run"])
        .arg(&exe)
        .args([
            "bisect-step",
            "--repo",
            ".",
            "--good",
            &h[0],
            "--test-verdict-file",
            "VERDICT",
        ])
        .env("PYSTATS_GATE_CACHE", &cache)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(&format!("{} is the first bad commit", h[5])),
        "{}",
        dump(&out)
    );
}

/// Runs a `ci/` script and returns the last line it printed (a path).
fn ci_script(name: &str, args: &[&Path]) -> PathBuf {
    let out = Command::new("bash")
        .arg(crate::util::repo_root().join("ci").join(name))
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "ci/{name}: {}", dump(&out));
    let text = String::from_utf8(out.stdout).unwrap();
    PathBuf::from(text.lines().last().unwrap().trim())
}

/// The synthetic history on the CPython 3.13 source (ci/bisect-history.sh, cached), and a
/// lookup of a commit's hash by the start of its subject.
fn synthetic_history() -> (PathBuf, impl Fn(&str) -> String) {
    let source = ci_script("fetch-cpython.sh", &[]);
    let repo = ci_script("bisect-history.sh", &[&source]);
    let subjects = git(&repo, &["log", "--format=%H %s"]);
    let find = move |prefix: &str| {
        subjects
            .lines()
            .find_map(|l| {
                let (hash, subject) = l.split_once(' ').unwrap();
                subject.starts_with(prefix).then(|| hash.to_string())
            })
            .unwrap_or_else(|| panic!("no `{prefix}` commit in\n{subjects}"))
    };
    (repo, find)
}

/// The proof on real builds: a synthetic history on the CPython 3.13 source (made by
/// ci/bisect-history.sh and cached) with comment-only commits, an unrelated C change, a
/// commit that does not compile and the regression in Python/specialize.c. Bisect must name
/// the regression, report the broken commit as skipped and stay within ceil(log2 N) + 2
/// builds. Builds go to the shared cache, so reruns only pay for the corpus runs.
#[test]
fn real_build_bisect_names_the_regression() {
    let (repo, find) = synthetic_history();
    let (base, broken, regression) = (find("base:"), find("broken:"), find("regression:"));
    let t = tempdir();
    let log = t.path().join("steps.jsonl");
    let started = std::time::Instant::now();
    let out = cmd()
        .arg("bisect")
        .arg("--repo")
        .arg(&repo)
        .args(["--good", &base, "--bad", "main"])
        .args(["--bench", "arith", "--repeats", "2", "--max-repeats", "4"])
        .args(["--format", "json", "--fresh", "--quiet"])
        .arg("--log")
        .arg(&log)
        .output()
        .unwrap();
    let seconds = started.elapsed().as_secs_f64();
    expect_code(&out, 0);
    let r = stdout_json(&out);
    assert_eq!(r["status"], "found", "{}", dump(&out));
    assert_eq!(
        r["first_bad"]["hash"],
        regression.as_str(),
        "{}",
        dump(&out)
    );
    let skipped: Vec<&str> = r["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["hash"].as_str().unwrap())
        .collect();
    assert_eq!(skipped, vec![broken.as_str()], "{}", dump(&out));
    assert!(!r["violations"].as_array().unwrap().is_empty(), "{r:#}");
    // Build attempts: the good end plus every tested commit (cached ones included).
    let budget = r["build_budget"].as_u64().unwrap();
    let attempts = 1 + r["evaluations"].as_u64().unwrap();
    assert!(
        attempts <= budget,
        "{attempts} builds > budget {budget}: {r:#}"
    );
    assert!(r["builds"].as_u64().unwrap() <= budget);
    assert_eq!(
        std::fs::read_to_string(&log).unwrap().lines().count() as u64,
        r["evaluations"].as_u64().unwrap()
    );
    eprintln!(
        "real bisect: {seconds:.1}s wall, {} builds run (build {:.1}s, run {:.1}s), {} commits tested",
        r["builds"], r["build_seconds"], r["run_seconds"], r["evaluations"]
    );
}

/// `bisect-step --good GOOD --rev REV` on `arith` (2 repeats, up to 4) in `repo`.
fn bisect_step(repo: &Path, good: &str, rev: &str) -> assert_cmd::Command {
    let mut c = cmd();
    c.arg("bisect-step")
        .arg("--repo")
        .arg(repo)
        .args(["--good", good, "--rev", rev])
        .args(["--bench", "arith", "--repeats", "2", "--max-repeats", "4"])
        .arg("--quiet");
    c
}

/// `bisect-step` on real builds of the same synthetic history: the regression exits 1, the
/// broken commit 125, a harmless commit 0; `--rule` narrows what counts.
#[test]
fn real_build_bisect_step_exit_codes() {
    let (repo, find) = synthetic_history();
    let base = find("base:");
    let step = |rev: &str, rules: &[&str]| {
        let mut c = bisect_step(&repo, &base, rev);
        for r in rules {
            c.args(["--rule", r]);
        }
        c.output().unwrap()
    };
    expect_code(&step(&find("regression:"), &[]), 1);
    expect_code(&step(&find("regression:"), &["new-failure-kind"]), 1);
    // A fail-level rule the regression does not touch: the same commit is good for it.
    expect_code(&step(&find("regression:"), &["family-miss-ratio"]), 0);
    let broken = step(&find("broken:"), &[]);
    expect_code(&broken, 125);
    assert_stderr_contains(&broken, "error:");
    expect_code(&step(&find("floatobject.c: finish"), &[]), 0);
}

#[test]
fn unknown_rule_is_rejected_before_building() {
    let t = tempdir();
    let repo = t.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    let h = verdict_repo(&repo, &["good", "bad"]);
    let out = cmd()
        .env("PYSTATS_GATE_CACHE", t.path().join("cache"))
        .arg("bisect")
        .arg("--repo")
        .arg(&repo)
        .args(["--good", &h[0], "--bad", &h[1], "--rule", "no-such-rule"])
        .exits(2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("--rule no-such-rule: no such rule"),
        "{}",
        dump(&out)
    );
    assert!(
        !t.path().join("cache/repos").exists(),
        "built before checking the rules"
    );
}

#[test]
fn accept_is_rejected_by_bisect_and_bisect_step() {
    let t = tempdir();
    let repo = t.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    let h = verdict_repo(&repo, &["good", "bad"]);
    let accept = ["--accept", "family-miss-ratio because intended"];
    let out = cmd()
        .env("PYSTATS_GATE_CACHE", t.path().join("cache"))
        .arg("bisect")
        .arg("--repo")
        .arg(&repo)
        .args(["--good", &h[0], "--bad", &h[1]])
        .args(accept)
        .exits(2);
    assert_stderr_contains(&out, "bisect looks for the commit that breaks a rule");
    let out = cmd()
        .env("PYSTATS_GATE_CACHE", t.path().join("cache"))
        .arg("bisect-step")
        .arg("--repo")
        .arg(&repo)
        .args(["--good", &h[0], "--rev", &h[1]])
        .args(accept)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(128), "{}", dump(&out));
    assert_stderr_contains(&out, "bisect looks for the commit that breaks a rule");
    assert!(
        !t.path().join("cache/repos").exists(),
        "built before checking"
    );
}

/// The corpus hashes of every good-end set `bisect-step` cached under `cache`.
fn cached_good_corpus_hashes(cache: &Path) -> Vec<String> {
    let mut hashes = vec![];
    for e in std::fs::read_dir(cache.join("bisect")).unwrap().flatten() {
        let m = e.path().join("good/r2/manifest.json");
        if let Ok(text) = std::fs::read_to_string(&m) {
            let v: serde_json::Value = serde_json::from_str(&text).unwrap();
            hashes.extend(v["corpus_hash"].as_str().map(String::from));
        }
    }
    hashes
}

/// A corpus edited between two `bisect-step` sessions (same path, new content): the second
/// session runs the new corpus instead of judging with the stats sets of the old one.
#[test]
fn a_corpus_edited_between_bisect_steps_is_run_again() {
    let (repo, find) = synthetic_history();
    let base = find("base:");
    let t = tempdir();
    let corpus = t.path().join("corpus");
    copy_dir(&repo_root().join("corpus"), &corpus);
    let step = || {
        bisect_step(&repo, &base, &find("floatobject.c: finish"))
            .arg("--corpus")
            .arg(&corpus)
            .output()
            .unwrap()
    };
    expect_code(&step(), 0);
    // A token no other test's corpus holds: its hash is this edit's alone.
    let token = t.path().file_name().unwrap().to_string_lossy().to_string();
    let arith = corpus.join("arith.py");
    let text = std::fs::read_to_string(&arith).unwrap();
    std::fs::write(&arith, format!("{text}\n# edited: {token}\n")).unwrap();
    let listing = cmd().arg("corpus").arg("--corpus").arg(&corpus).exits(0);
    let listing = String::from_utf8_lossy(&listing.stdout).to_string()
        + &String::from_utf8_lossy(&listing.stderr);
    let hash = listing
        .split("corpus hash ")
        .nth(1)
        .and_then(|s| s.split(')').next())
        .unwrap_or_else(|| panic!("no corpus hash in {listing}"))
        .to_string();
    expect_code(&step(), 0);
    assert!(
        cached_good_corpus_hashes(&suite_cache()).contains(&hash),
        "no good-end set of corpus {hash} was run after the edit"
    );
}
