//! Integration test: `gate --head-dir` on a working tree with uncommitted changes, on a real build, with `Pystats-Accept:` trailers.

use crate::util::suite_cache;
use crate::util::{dump, git, read_json, tempdir, Exits, LinkedWorktree};
use std::process::Command;

#[test]
fn head_dir_gates_uncommitted_work_and_reads_the_commit_trailers() {
    crate::util::pristine_python(); // the cached demo base build
    let repo = pystats_gate::commands::gate::demo_repo(Some(&suite_cache()), true).unwrap();
    let tmp = tempdir();
    let wt = LinkedWorktree {
        repo: repo.clone(),
        path: tmp.path().join("cpython"),
    };
    git(
        &repo,
        &[
            "worktree",
            "add",
            "--quiet",
            "--detach",
            wt.path.to_str().unwrap(),
            "base",
        ],
    );
    // A committed change (the demo regression) whose message acknowledges it...
    let patch = crate::util::repo_root().join("ci/demo/regression.patch");
    git(&wt.path, &["apply", patch.to_str().unwrap()]);
    git(
        &wt.path,
        &[
            "commit",
            "-q",
            "-a",
            "-m",
            "Stop specializing CONTAINS_OP\n\nPystats-Accept: family-deferred-ratio:family.CONTAINS_OP.* because CONTAINS_OP is no longer specialized on purpose\nPystats-Accept: family-success-ratio:family.CONTAINS_OP.* because same change\nPystats-Accept: new-failure-kind:family.CONTAINS_OP.* because same change\nPystats-Accept: specialized-share because same change\nPystats-Accept: not-specialized-share because same change\nPystats-Accept: family-form-share:family.CONTAINS_OP.* because same change\nPystats-Accept: bench-family-form-share:family.CONTAINS_OP.* because same change\nPystats-Accept: bench-family-deferred-ratio:family.CONTAINS_OP.* because same change\nPystats-Accept: bench-new-failure-kind:family.CONTAINS_OP.* because same change\nPystats-Accept: failure-kind-growth:family.CONTAINS_OP.* because same change\nPystats-Accept: bench-family-attempt-growth:family.CONTAINS_OP.* because same change\n",
        ],
    );
    let committed = git(&wt.path, &["rev-parse", "HEAD"]);
    // ...and uncommitted work on top: an edit and an untracked file.
    let spec = wt.path.join("Python/specialize.c");
    let mut text = std::fs::read_to_string(&spec).unwrap();
    text.push_str("/* uncommitted: gate --head-dir test */\n");
    std::fs::write(&spec, text).unwrap();
    std::fs::write(wt.path.join("NOTES-local.txt"), "scratch\n").unwrap();
    let status_before = git(&wt.path, &["status", "--porcelain"]);

    let out_dir = tmp.path().join("out");
    let out = crate::util::cmd()
        .args(["gate", "--quiet", "--base", "base", "--head-dir"])
        .arg(&wt.path)
        .args(["--bench", "iterate", "--repeats", "2", "--out"])
        .arg(&out_dir)
        .exits(0);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("pystats-gate: PASS (accepted)"),
        "{}",
        dump(&out)
    );
    let rep = read_json(&out_dir.join("report.json"));
    let acceptances = rep["acceptances"].as_array().unwrap();
    assert_eq!(acceptances.len(), 11, "{rep:#}");
    for a in acceptances {
        assert_eq!(
            a["source"].as_str().unwrap(),
            format!("Pystats-Accept trailer of {}", &committed[..12])
        );
        assert!(a["matched"].as_u64().unwrap() >= 1, "{a}");
    }
    // The head built is a snapshot of the working tree on top of its HEAD, not HEAD itself...
    let head_rev = rep["head"]["revision"].as_str().unwrap().to_string();
    assert_ne!(head_rev, committed);
    assert_eq!(
        git(&repo, &["rev-parse", &format!("{head_rev}^")]),
        committed
    );
    let files = git(&repo, &["diff", "--name-only", &committed, &head_rev]);
    assert_eq!(files, "NOTES-local.txt\nPython/specialize.c");
    let note = format!(
        "head {} is the working tree {} as it was (uncommitted changes on top of {}: NOTES-local.txt, Python/specialize.c)",
        &head_rev[..12],
        wt.path.display(),
        &committed[..12]
    );
    assert!(
        rep["notes"].as_array().unwrap().iter().any(|n| n == &note),
        "{:#}",
        rep["notes"]
    );
    // ...and the developer's tree, index and HEAD are untouched.
    assert_eq!(git(&wt.path, &["status", "--porcelain"]), status_before);
    assert_eq!(git(&wt.path, &["rev-parse", "HEAD"]), committed);
    let gate_run = read_json(&out_dir.join("gate.json"));
    assert_eq!(gate_run["base"]["cached"], true, "{gate_run:#}");
}

#[test]
fn a_build_result_unpacked_elsewhere_runs_by_relative_path() {
    // What the CI shard jobs do: the build job ships build results, shards unpack and run them.
    let python = crate::util::pristine_python();
    let result_dir = python.parent().unwrap().parent().unwrap();
    let tmp = tempdir();
    let status = Command::new("cp")
        .arg("-a")
        .arg(result_dir)
        .arg(tmp.path().join("base"))
        .status()
        .unwrap();
    assert!(status.success());
    let out = crate::util::cmd()
        .current_dir(tmp.path())
        .args(["run", "--quiet", "--python", "base/build/python"])
        .args([
            "--bench",
            "truth",
            "--repeats",
            "1",
            "--shard",
            "1/1",
            "--out",
            "set",
        ])
        .exits(0);
    let manifest = read_json(&tmp.path().join("set/manifest.json"));
    let info = read_json(&result_dir.join("build-info.json"));
    assert_eq!(manifest["revision"], info["commit"], "{}", dump(&out));
    assert_eq!(manifest["build_id"], info["build_id"]);
    assert!(tmp.path().join("set/run-1/truth.txt").is_file());
}

#[test]
fn head_dir_and_accept_input_errors_come_before_any_build() {
    let tmp = tempdir();
    let cache = tmp.path().join("cache");
    // Not a directory, not a git working tree.
    for dir in [tmp.path().join("missing"), tmp.path().to_path_buf()] {
        let out = crate::util::cmd()
            .env("PYSTATS_GATE_CACHE", &cache)
            .args(["gate", "--base", "main", "--head-dir"])
            .arg(&dir)
            .exits(2);
        crate::util::assert_stderr_contains(&out, "--head-dir ");
    }
    // An acceptance without a reason, with --head instead.
    let out = crate::util::cmd()
        .env("PYSTATS_GATE_CACHE", &cache)
        .args([
            "gate",
            "--repo",
            "/nonexistent-repo",
            "--base",
            "a",
            "--head",
            "b",
        ])
        .args(["--accept", "family-miss-ratio"])
        .exits(2);
    crate::util::assert_stderr_contains(&out, "a reason is required");
    // --head and --head-dir exclude each other; one of them is required.
    crate::util::cmd()
        .args(["gate", "--base", "a", "--head", "b", "--head-dir", "."])
        .exits(2);
    crate::util::cmd()
        .args(["gate", "--repo", ".", "--base", "a"])
        .exits(2);
    assert!(!cache.join("repos").exists(), "built before checking");
}
