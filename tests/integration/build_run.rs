//! Integration tests: build, corpus, run, gate and demo — on real CPython builds.
//!
//! The real-build tests share the suite's own cache root (`util::suite_cache`):
//! the first one builds the pristine base (a few minutes on a cold machine, less with a warm
//! ccache), every other build is incremental, and a second run of the suite hits the cache.

use crate::util::{
    assert_stderr_contains, assert_stdout_contains, cmd, dump, expect_code, read_json, tempdir,
    Exits,
};
use crate::util::{std_cmd, suite_cache};
use std::path::{Path, PathBuf};

/// The demo repository's base interpreter, built once per test process.
fn base_python() -> PathBuf {
    crate::util::pristine_python()
}

fn count_dumps(set: &Path) -> usize {
    std::fs::read_dir(set)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.path().is_dir())
        .map(|e| {
            std::fs::read_dir(e.path())
                .unwrap()
                .filter(|f| {
                    f.as_ref()
                        .unwrap()
                        .path()
                        .extension()
                        .is_some_and(|x| x == "txt")
                })
                .count()
        })
        .sum()
}

#[test]
fn corpus_list_covers_every_family() {
    let out = cmd().args(["corpus", "--list"]).exits(0);
    let text = String::from_utf8_lossy(&out.stdout);
    for family in [
        "LOAD_ATTR",
        "LOAD_GLOBAL",
        "CALL",
        "BINARY_OP",
        "BINARY_SUBSCR",
        "STORE_SUBSCR",
        "STORE_ATTR",
        "COMPARE_OP",
        "CONTAINS_OP",
        "FOR_ITER",
        "UNPACK_SEQUENCE",
        "TO_BOOL",
        "SEND",
        "LOAD_SUPER_ATTR",
    ] {
        assert!(text.contains(family), "{family} missing:\n{text}");
    }
}

#[test]
fn build_of_unknown_revision_is_input_error() {
    let dir = tempdir();
    let git = |args: &[&str]| {
        let st = std::process::Command::new("git")
            .arg("-C")
            .arg(dir.path())
            .args(args)
            .output()
            .unwrap();
        assert!(st.status.success(), "{}", dump(&st));
    };
    git(&["init", "-q"]);
    let out = cmd()
        .args(["build", "--repo"])
        .arg(dir.path())
        .args(["--rev", "no-such-rev"])
        .exits(2);
    assert_stderr_contains(&out, "no-such-rev");
}

#[test]
fn build_failure_exits_3_with_log_tail_and_path() {
    let src = tempdir();
    let cache = tempdir();
    std::fs::create_dir_all(src.path().join("Python")).unwrap();
    std::fs::write(src.path().join("Python/ceval.c"), "").unwrap();
    let configure = src.path().join("configure");
    std::fs::write(
        &configure,
        "#!/bin/sh\necho 'checking for a working compiler... broken on purpose'\nexit 1\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&configure, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = cmd()
        .args(["build", "--quiet", "--source"])
        .arg(src.path())
        .arg("--cache-dir")
        .arg(cache.path())
        .exits(3);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken on purpose"), "{}", dump(&out));
    assert!(err.contains("full log: "), "{}", dump(&out));
    // Nothing that looks like a finished build was left behind.
    let builds = cache.path().join("builds");
    let finished = std::fs::read_dir(&builds)
        .map(|rd| {
            rd.filter(|e| {
                !e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with('.')
            })
            .count()
        })
        .unwrap_or(0);
    assert_eq!(finished, 0);
}

#[test]
fn run_rejects_an_interpreter_without_pystats() {
    let out_dir = tempdir();
    // Any interpreter built without --enable-pystats will do: the one running ci/ scripts.
    let plain = ["/usr/bin/python3", "/usr/local/bin/python3"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("a python3 without pystats (ci/setup.sh needs one too)");
    let out = cmd()
        .args(["run", "--quiet", "--python", plain, "--out"])
        .arg(out_dir.path().join("set"))
        .output()
        .unwrap();
    expect_code(&out, 2);
    assert_stderr_contains(&out, "--enable-pystats");
}

/// A corpus with one good, one crashing and one hanging benchmark.
fn broken_corpus(dir: &Path) {
    let builtin = pystats_gate::exec::corpus::materialize_builtin(Some(&suite_cache())).unwrap();
    std::fs::copy(builtin.join("driver.py"), dir.join("driver.py")).unwrap();
    std::fs::copy(builtin.join("truth.py"), dir.join("truth.py")).unwrap();
    std::fs::write(
        dir.join("crash.py"),
        "import os\ndef workload(ctx):\n    os.abort()\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("hang.py"),
        "import time\ndef workload(ctx):\n    time.sleep(60)\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("corpus.toml"),
        "[[bench]]\nname = \"truth\"\nfile = \"truth.py\"\nargs = [\"1000\"]\n\n\
         [[bench]]\nname = \"crash\"\nfile = \"crash.py\"\n\n\
         [[bench]]\nname = \"hang\"\nfile = \"hang.py\"\ntimeout = 1.5\n",
    )
    .unwrap();
}

#[test]
fn crash_and_timeout_are_recorded_and_exit_3() {
    let python = base_python();
    let corpus = tempdir();
    broken_corpus(corpus.path());
    let out_dir = tempdir();
    let set = out_dir.path().join("set");
    cmd()
        .args(["run", "--quiet", "--repeats", "1", "--python"])
        .arg(&python)
        .arg("--corpus")
        .arg(corpus.path())
        .arg("--out")
        .arg(&set)
        .exits(3);
    let m = read_json(&set.join("manifest.json"));
    let failures = m["failures"].as_array().unwrap();
    let reason = |b: &str| {
        failures
            .iter()
            .find(|f| f["benchmark"] == b)
            .unwrap_or_else(|| panic!("{b} not recorded: {m:#}"))["reason"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert!(reason("crash").contains("signal 6"), "{}", reason("crash"));
    assert!(reason("hang").contains("timeout"), "{}", reason("hang"));
    assert_eq!(failures.len(), 2);
    assert!(set.join("run-1/truth.txt").is_file());
}

#[test]
fn two_runs_at_once_produce_two_complete_separate_sets() {
    let python = base_python();
    let out_dir = tempdir();
    let spawn = |name: &str| {
        std_cmd()
            .args([
                "run",
                "--quiet",
                "--repeats",
                "2",
                "--bench",
                "subscr",
                "--bench",
                "arith",
            ])
            .arg("--python")
            .arg(&python)
            .arg("--out")
            .arg(out_dir.path().join(name))
            .spawn()
            .unwrap()
    };
    let mut a = spawn("a");
    let mut b = spawn("b");
    assert!(a.wait().unwrap().success());
    assert!(b.wait().unwrap().success());
    for name in ["a", "b"] {
        let set = out_dir.path().join(name);
        assert_eq!(count_dumps(&set), 4, "{name}");
        let m = read_json(&set.join("manifest.json"));
        assert_eq!(m["repeats"][0]["seed"], 1);
        assert_eq!(m["repeats"][1]["seed"], 2);
        assert!(m["failures"].as_array().unwrap().is_empty());
        assert!(m["corpus_hash"].is_string());
        assert!(m["revision"].is_string(), "{m:#}");
        cmd().arg("check").arg(&set).exits(0);
    }
    // Same interpreter, same seeds: the paired sets agree.
    cmd()
        .arg("compare")
        .arg(out_dir.path().join("a"))
        .arg(out_dir.path().join("b"))
        .exits(0);
}

#[test]
fn serial_lock_fallback_runs_when_namespaces_are_off() {
    let python = base_python();
    let out_dir = tempdir();
    let set = out_dir.path().join("set");
    cmd()
        .env("PYSTATS_GATE_ISOLATION", "lock")
        .args([
            "run",
            "--quiet",
            "--repeats",
            "2",
            "--bench",
            "truth",
            "--python",
        ])
        .arg(&python)
        .arg("--out")
        .arg(&set)
        .exits(0);
    assert_eq!(count_dumps(&set), 2);
}

/// Runs `demo --head HEAD` and returns (exit code, stdout, out dir).
fn demo(head: &str) -> (i32, String, tempfile::TempDir) {
    let out_dir = tempdir();
    let out = cmd()
        .args(["demo", "--quiet", "--head", head, "--out"])
        .arg(out_dir.path())
        .output()
        .unwrap();
    let code = out.status.code().unwrap_or(-1);
    assert!(code == 0 || code == 1, "{}", dump(&out));
    for f in ["report.md", "report.json", "junit.xml", "gate.json"] {
        assert!(
            out_dir.path().join(f).is_file(),
            "{f} missing\n{}",
            dump(&out)
        );
    }
    assert!(out_dir.path().join("base/manifest.json").is_file());
    assert!(out_dir.path().join("head/manifest.json").is_file());
    (code, dump(&out), out_dir)
}

/// Rule outcomes that fail, as (rule, metric) strings from report.json.
fn failing_metrics(out_dir: &Path) -> Vec<String> {
    let rep = read_json(&out_dir.join("report.json"));
    rep["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["status"] == "regression")
        .map(|o| o["metric"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn demo_regression_fails_naming_contains_op() {
    let (code, text, out_dir) = demo("regression");
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("demo: FAIL (exit 1): specialization regression in CONTAINS_OP"),
        "{text}"
    );
    // The headline names each failing metric once, however many rules it failed.
    let headline = text.lines().find(|l| l.starts_with("demo: FAIL")).unwrap();
    let named: Vec<&str> = headline
        .rsplit_once(" (")
        .map(|(_, m)| m.trim_end_matches(')').split(", ").collect())
        .unwrap_or_default();
    let once: std::collections::BTreeSet<&str> = named.iter().copied().collect();
    assert!(!named.is_empty() && once.len() == named.len(), "{headline}");
    // The gate's check summary names each excepted family once however many places break.
    let excepted = text
        .lines()
        .find(|l| l.contains("[excepted] family-executions ("))
        .unwrap();
    assert_eq!(excepted.matches("CALL").count(), 1, "{excepted}");
    let failing = failing_metrics(out_dir.path());
    assert!(
        failing.iter().any(|m| m.contains("CONTAINS_OP")),
        "{failing:?}"
    );
    assert!(
        failing.iter().all(|m| !m.contains("COMPARE_OP")),
        "{failing:?}"
    );
}

#[test]
fn demo_comment_only_head_passes() {
    let (code, text, out) = demo("comment");
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("demo: PASS"), "{text}");
    // Every built-in workload recorded its result on both sides, and they agree.
    let rep = read_json(&out.path().join("report.json"));
    let corpus = cmd().args(["corpus", "--list"]).exits(0);
    // Its last line: `N benchmarks in DIR (corpus hash H)`.
    let listing = String::from_utf8_lossy(&corpus.stdout).to_string();
    let benchmarks: usize = listing
        .lines()
        .find_map(|l| l.split_once(" benchmarks in ")?.0.parse().ok())
        .unwrap_or_else(|| panic!("{listing}"));
    let same = rep["results"]["same"].as_array().unwrap();
    assert_eq!(same.len(), benchmarks, "{}", rep["results"]);
    assert_eq!(rep["results"]["differ"], serde_json::json!([]));
    assert_eq!(rep["results"]["unchecked"], serde_json::json!([]));
    // Every specialized form is at least 4% of its family in some benchmark of the real
    // base run: a corpus edit that dilutes one under twice the rules' limit fails here.
    let coverage = std::process::Command::new("bash")
        .arg(crate::util::repo_root().join("ci/corpus-coverage.sh"))
        .arg(out.path().join("base"))
        .env("PYSTATS_GATE", assert_cmd::cargo::cargo_bin("pystats-gate"))
        .output()
        .unwrap();
    assert!(coverage.status.success(), "{}", dump(&coverage));
    let listing = String::from_utf8_lossy(&coverage.stdout);
    assert!(listing.contains("73 forms, 0 missing or weak"), "{listing}");
}

/// A specialized instruction computing a wrong value moves no counter: the gate fails on
/// the corpus result alone, naming the benchmark, and says no rule was violated.
#[test]
fn demo_wrong_result_head_fails_naming_the_benchmark() {
    let (code, text, out_dir) = demo("wrong-result");
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains(
            "demo: FAIL (exit 1): wrong result in arith (the counters: no rule violated)"
        ),
        "{text}"
    );
    assert!(failing_metrics(out_dir.path()).is_empty(), "{text}");
    let rep = read_json(&out_dir.path().join("report.json"));
    let differ = rep["results"]["differ"].as_array().unwrap();
    assert_eq!(differ.len(), 1, "{}", rep["results"]);
    assert_eq!(differ[0]["benchmark"], "arith");
    assert_eq!(
        differ[0]["repeats"],
        serde_json::json!(["run-1", "run-2", "run-3"])
    );
    let md = std::fs::read_to_string(out_dir.path().join("report.md")).unwrap();
    assert!(
        md.contains("WRONG RESULT: benchmark arith computed"),
        "{md}"
    );
}

#[test]
fn demo_miss_ratio_head_fails_naming_compare_op() {
    let (code, text, out_dir) = demo("miss-ratio");
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("specialization regression in COMPARE_OP"),
        "{text}"
    );
    let failing = failing_metrics(out_dir.path());
    assert!(
        failing.iter().any(|m| m.contains("COMPARE_OP")),
        "{failing:?}\n{text}"
    );
    assert!(
        failing.iter().all(|m| !m.contains("CONTAINS_OP")),
        "{failing:?}"
    );
    // The base set came from the results cache or was cached by this run for the next one.
    let g = read_json(&out_dir.path().join("gate.json"));
    assert!(g["head"]["build_id"].is_string());
}

#[test]
fn build_results_keep_working_after_the_worktree_moves() {
    let repo = pystats_gate::commands::gate::demo_repo(Some(&suite_cache()), true).unwrap();
    let opts = pystats_gate::exec::builder::BuildConfig {
        quiet: true,
        cache_dir: Some(suite_cache()),
        ..Default::default()
    };
    let base = pystats_gate::exec::builder::build_revision(&repo, "base", &opts).unwrap();
    let head = pystats_gate::exec::builder::build_revision(&repo, "regression", &opts).unwrap();
    assert_ne!(base.dir, head.dir);
    assert_ne!(base.commit, head.commit);
    // The persistent worktree is now at `regression`; base's result must not care.
    let out = std::process::Command::new(&base.python)
        .args([
            "-c",
            "import sys, math, json; print(json.dumps(sys.version))",
        ])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", dump(&out));
    assert_stdout_contains(&out, "3.13");
    // A second request is a cache hit.
    let again = pystats_gate::exec::builder::build_revision(&repo, "base", &opts).unwrap();
    assert!(again.cached);
    assert_eq!(again.build_id, base.build_id);
}

#[test]
fn build_source_of_a_plain_tree_is_cached_and_runs() {
    // Same content as the demo base: after that build, ccache makes this one cheap.
    base_python();
    let src = pystats_gate::commands::gate::pristine_source(Some(&suite_cache())).unwrap();
    let out = cmd()
        .args(["build", "--quiet", "--source"])
        .arg(&src)
        .exits(0);
    let python = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let run = std::process::Command::new(&python)
        .args(["-c", "import sys; assert hasattr(sys, '_stats_dump')"])
        .output()
        .unwrap();
    assert!(run.status.success(), "{}", dump(&run));
    let again = cmd()
        .args(["build", "--quiet", "--source"])
        .arg(&src)
        .exits(0);
    assert_eq!(again.stdout, out.stdout);
}

#[test]
fn pyperformance_corpus_writes_one_dump_per_benchmark() {
    // Installs pyperformance from the package registry on first use (cached afterwards).
    let python = base_python();
    let out_dir = tempdir();
    let set = out_dir.path().join("set");
    cmd()
        .args([
            "run",
            "--quiet",
            "--repeats",
            "1",
            "--corpus",
            "pyperformance:nbody",
            "--python",
        ])
        .arg(&python)
        .arg("--out")
        .arg(&set)
        .exits(0);
    assert_eq!(count_dumps(&set), 1);
    let m = read_json(&set.join("manifest.json"));
    assert_eq!(m["benchmarks"][0], "nbody");
    cmd().arg("check").arg(&set).exits(0);
}

#[test]
fn gate_rejects_bad_input_before_building() {
    let out_dir = tempdir();
    cmd()
        .args([
            "gate",
            "--repo",
            "/nonexistent-repo",
            "--base",
            "a",
            "--head",
            "b",
            "--repeats",
            "0",
            "--out",
        ])
        .arg(out_dir.path())
        .exits(2);
    let out = cmd()
        .args([
            "gate",
            "--repo",
            "/nonexistent-repo",
            "--base",
            "a",
            "--head",
            "b",
            "--bench",
            "no-such-bench",
            "--out",
        ])
        .arg(out_dir.path())
        .exits(2);
    assert_stderr_contains(&out, "no-such-bench");
    let out = cmd()
        .args([
            "gate",
            "--repo",
            "/nonexistent-repo",
            "--base",
            "a",
            "--head",
            "b",
            "--out",
        ])
        .arg(out_dir.path())
        .exits(2);
    assert_stderr_contains(&out, "/nonexistent-repo");
}

#[test]
fn gate_shards_merge_into_the_full_comparison() {
    // What the CI workflow does: every shard builds both sides and runs its part.
    let repo = pystats_gate::commands::gate::demo_repo(Some(&suite_cache()), true).unwrap();
    let out_dir = tempdir();
    for k in 1..=2 {
        cmd()
            .args(["gate", "--quiet", "--base", "base", "--head", "comment"])
            .args(["--bench", "truth", "--bench", "subscr", "--repeats", "2"])
            .args(["--shard", &format!("{k}/2"), "--repo"])
            .arg(&repo)
            .arg("--out")
            .arg(out_dir.path().join(format!("shard-{k}")))
            .exits(0);
        assert!(!out_dir
            .path()
            .join(format!("shard-{k}/report.json"))
            .exists());
    }
    for side in ["base", "head"] {
        cmd()
            .arg("merge")
            .arg(out_dir.path().join(format!("shard-1/{side}")))
            .arg(out_dir.path().join(format!("shard-2/{side}")))
            .arg("--out")
            .arg(out_dir.path().join(side))
            .exits(0);
        assert_eq!(count_dumps(&out_dir.path().join(side)), 4);
    }
    let out = cmd()
        .args(["compare", "--format", "json"])
        .arg(out_dir.path().join("base"))
        .arg(out_dir.path().join("head"))
        .exits(0);
    // The shards' recorded workload results survive the merge and are compared.
    let rep = crate::util::stdout_json(&out);
    assert_eq!(
        rep["results"]["same"],
        serde_json::json!(["subscr", "truth"]),
        "{}",
        rep["results"]
    );
}
