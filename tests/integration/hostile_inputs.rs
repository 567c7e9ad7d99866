//! More hostile inputs (beyond `hostile.rs`): manifests whose names are paths, absurd
//! counts, history and mutant result files, outputs aimed at inputs, out-of-range options.
//!
//! Each test failed before its fix: it names the input, the wrong behaviour and the rule.

use crate::util::{
    assert_stderr_contains, cmd, cmd_with, copy_dir, dump, expect_code, fixture, history_append,
    tempdir, Exits,
};
use std::path::{Path, PathBuf};

fn write_json(p: &Path, v: &serde_json::Value) {
    std::fs::write(p, serde_json::to_string_pretty(v).unwrap()).unwrap();
}

/// `compare` of the real A/A fixture's base with `head` (the fixture's head when None).
fn compare_base_with(head: Option<&Path>) -> assert_cmd::Command {
    let mut c = cmd();
    c.arg("compare").arg(fixture("real-3.13.5/aa-base"));
    match head {
        Some(h) => c.arg(h),
        None => c.arg(fixture("real-3.13.5/aa-head")),
    };
    c
}

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// A one-shard "run" at `dir` whose manifest is `manifest` (with one dump per `dumps`).
fn shard(dir: &Path, manifest: serde_json::Value, dumps: &[&str]) {
    std::fs::create_dir_all(dir).unwrap();
    for d in dumps {
        let p = dir.join(d);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, "a : 1\n").unwrap();
    }
    write_json(&dir.join("manifest.json"), &manifest);
}

#[test]
fn merge_never_writes_outside_its_output_through_a_benchmark_name() {
    // A shard manifest naming a benchmark `../../evil` made merge copy `evil.txt` from
    // outside the shard to two levels above its temporary output: a user's file there
    // would have been overwritten.
    let d = tempdir();
    let victim = d.path().join("a/b/evil.txt");
    std::fs::create_dir_all(victim.parent().unwrap()).unwrap();
    std::fs::write(&victim, "precious").unwrap();
    std::fs::write(d.path().join("evil.txt"), "a : 2\n").unwrap();
    let sh = d.path().join("sh");
    shard(
        &sh,
        serde_json::json!({"schema_version": 1, "shard": "1/1", "benchmarks": ["../../evil"],
            "total_repeats": 1, "repeats": [{"name": "run-1", "seed": 1, "benchmarks": []}]}),
        &[],
    );
    std::fs::create_dir_all(sh.join("run-1")).unwrap();
    let out = cmd()
        .arg("merge")
        .arg(&sh)
        .arg("--out")
        .arg(d.path().join("a/b/out"))
        .exits(2);
    assert_stderr_contains(
        &out,
        "manifest.json: benchmarks[0]: bad name \"../../evil\"",
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    // The same names in a set's manifest, and a repeat name that climbs out, are input
    // errors naming the key (not a run error about missing dumps).
    let (b, h) = (d.path().join("b"), d.path().join("h"));
    copy_dir(&fixture("real-3.13.5/aa-base"), &b);
    copy_dir(&fixture("real-3.13.5/aa-head"), &h);
    let mpath = h.join("manifest.json");
    let orig: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&mpath).unwrap()).unwrap();
    for (key, edit) in [
        ("repeats[0].name", ("/repeats/0/name", "../b/run-1")),
        (
            "repeats[1].benchmarks[0]",
            ("/repeats/1/benchmarks/0", "a/b"),
        ),
    ] {
        let mut m = orig.clone();
        *m.pointer_mut(edit.0).unwrap() = serde_json::json!(edit.1);
        write_json(&mpath, &m);
        let out = cmd().arg("compare").arg(&b).arg(&h).exits(2);
        assert_stderr_contains(&out, &format!("manifest.json: {key}: bad name"));
    }
}

#[test]
fn merge_refuses_absurd_counts_empty_runs_and_unknown_versions() {
    let d = tempdir();
    let run = |name: &str, m: serde_json::Value| {
        let sh = d.path().join(name);
        shard(&sh, m, &[]);
        cmd()
            .arg("merge")
            .arg(&sh)
            .arg("--out")
            .arg(d.path().join(format!("{name}-out")))
            .exits(2)
    };
    // A 4e9-way split: merge listed every missing shard (hours, gigabytes).
    let out = run(
        "count",
        serde_json::json!({"schema_version": 1, "shard": "1/4000000000", "benchmarks": ["a"],
            "total_repeats": 1}),
    );
    assert_stderr_contains(&out, "missing shard(s): 2/4000000000");
    assert!(stderr(&out).len() < 1000, "{}", dump(&out));
    // 4e9 repeats: merge materialised every (benchmark x repeat) unit and aborted (exit 134).
    let out = run(
        "repeats",
        serde_json::json!({"schema_version": 1, "shard": "1/1", "benchmarks": ["a"],
            "total_repeats": 4000000000u64}),
    );
    assert_stderr_contains(
        &out,
        "manifest.json: total_repeats: 4000000000 is more than",
    );
    // No work at all: merge wrote an empty set and exited 0.
    let out = run(
        "empty",
        serde_json::json!({"schema_version": 1, "shard": "1/1", "benchmarks": [],
            "total_repeats": 0}),
    );
    assert_stderr_contains(&out, "nothing to merge");
    assert!(!d.path().join("empty-out").exists());
    // A shard of an unknown manifest schema was merged as if it were version 1.
    let out = run(
        "version",
        serde_json::json!({"schema_version": 7, "shard": "1/1", "benchmarks": ["a"],
            "total_repeats": 1}),
    );
    assert_stderr_contains(&out, "schema_version 7 is not supported");
}

#[test]
fn a_manifest_listing_many_missing_dumps_gives_a_short_message() {
    // 1000 missing dumps of 100-character names made a 100 KB error message.
    let d = tempdir();
    let h = d.path().join("h");
    copy_dir(&fixture("real-3.13.5/aa-head"), &h);
    crate::hostile::edit_manifest(&h, |m| {
        let names: Vec<String> = (0..1000).map(|i| format!("{i:0>100}")).collect();
        m["repeats"][0]["benchmarks"] = serde_json::json!(names);
    });
    let out = compare_base_with(Some(&h)).exits(3);
    assert_stderr_contains(&out, "1000 dump(s) listed in");
    assert!(stderr(&out).len() < 5000, "{} bytes", stderr(&out).len());
}

#[test]
fn the_documented_seeds_only_manifest_pairs_repeats() {
    // docs/manifest.md's minimal manifest (names and seeds, no benchmark lists) was refused:
    // every dump was "not listed".
    let d = tempdir();
    let (b, h) = (d.path().join("b"), d.path().join("h"));
    copy_dir(&fixture("real-3.13.5/aa-base"), &b);
    copy_dir(&fixture("real-3.13.5/aa-head"), &h);
    for set in [&b, &h] {
        write_json(
            &set.join("manifest.json"),
            &serde_json::json!({"schema_version": 1, "repeats": [
                {"name": "run-1", "seed": 1}, {"name": "run-2", "seed": 2},
                {"name": "run-3", "seed": 3}]}),
        );
    }
    let out = cmd().arg("compare").arg(&b).arg(&h).exits(0);
    crate::util::assert_stdout_contains(&out, "paired by PYTHONHASHSEED");
    // A dump still has to be read: an empty one is an error, never skipped.
    std::fs::write(h.join("run-2/arith.txt"), "").unwrap();
    let out = cmd().arg("compare").arg(&b).arg(&h).exits(2);
    assert_stderr_contains(&out, "run-2/arith.txt");
}

/// A `compare --format json` result of the fixture pair, at `dir/r.json`.
fn result_json(dir: &Path) -> std::path::PathBuf {
    let r = dir.join("r.json");
    compare_base_with(None)
        .args(["--format", "json", "-o"])
        .arg(&r)
        .exits(0);
    r
}

#[test]
fn history_checks_versions_and_appends_whole_lines() {
    let d = tempdir();
    let r = result_json(d.path());
    let h = d.path().join("h.jsonl");
    history_append(&r, &h);
    // An entry of another schema version was read as if it were version 1.
    let text = std::fs::read_to_string(&h).unwrap();
    let v9 = d.path().join("v9.jsonl");
    std::fs::write(
        &v9,
        text.replace("\"schema_version\":1", "\"schema_version\":9"),
    )
    .unwrap();
    let out = cmd().args(["history", "show", "--file"]).arg(&v9).exits(2);
    assert_stderr_contains(&out, "v9.jsonl:1: schema_version 9 is not supported");
    // A last line without its newline (edited by hand): the appended entry was glued to
    // it, and the history became unreadable.
    std::fs::write(&h, text.trim_end()).unwrap();
    history_append(&r, &h);
    let out = cmd().args(["history", "show", "--file"]).arg(&h).exits(0);
    crate::util::assert_stdout_contains(&out, "2 recorded result(s)");
    // A device given as the history (or as rules, noise, exceptions) was read forever:
    // memory ran out and the process was killed.
    if !Path::new("/dev/zero").exists() {
        panic!("/dev/zero is missing: this Linux test needs it");
    }
    let out = cmd()
        .args(["history", "append"])
        .arg(&r)
        .args(["--file", "/dev/zero"])
        .exits(2);
    assert_stderr_contains(&out, "/dev/zero: larger than 256 MiB");
    for opt in ["--rules", "--noise", "--check-exceptions"] {
        let out = compare_base_with(None).args([opt, "/dev/zero"]).exits(2);
        assert_stderr_contains(&out, "/dev/zero");
        assert_stderr_contains(&out, "larger than 256 MiB");
    }
}

#[test]
fn compare_and_bisect_never_write_over_their_rules_noise_or_exceptions() {
    // `-o` naming the rules (or noise, or exceptions) file replaced it with the report.
    let d = tempdir();
    let (b, h) = (
        fixture("real-3.13.5/aa-base"),
        fixture("real-3.13.5/aa-head"),
    );
    let rules = d.path().join("rules.toml");
    std::fs::copy(crate::util::repo_root().join("rules/default.toml"), &rules).unwrap();
    let noise = d.path().join("noise.toml");
    cmd()
        .arg("calibrate")
        .arg(&b)
        .arg(&h)
        .arg("-o")
        .arg(&noise)
        .exits(0);
    let exceptions = d.path().join("exceptions.toml");
    std::fs::copy(
        crate::util::repo_root().join("rules/check-exceptions.toml"),
        &exceptions,
    )
    .unwrap();
    for target in [&rules, &noise, &exceptions] {
        let before = std::fs::read(target).unwrap();
        let out = cmd()
            .arg("compare")
            .arg(&b)
            .arg(&h)
            .arg("--rules")
            .arg(&rules)
            .arg("--noise")
            .arg(&noise)
            .arg("--check-exceptions")
            .arg(&exceptions)
            .arg("-o")
            .arg(target)
            .exits(2);
        assert_stderr_contains(&out, "refusing to write into an input");
        assert_eq!(
            std::fs::read(target).unwrap(),
            before,
            "{}",
            target.display()
        );
    }
}

/// The result file name of mutant `Python/specialize.c:10:remove`.
const M1: &str = "Python_specialize.c_10_remove.json";

/// A valid mutant result file for `id` with `outcome`.
fn mutant_result(id: &str, outcome: &str) -> serde_json::Value {
    serde_json::json!({
        "mutant": {"id": id, "file": "Python/specialize.c", "line": 10, "site": 10,
            "operator": "remove", "family": "BINARY_OP", "function": "f",
            "description": "d", "old": ["a"], "new": ["b"]},
        "outcome": outcome, "failing_families": [], "failing_rules": [], "detail": "",
        "diff": "", "build_seconds": 0.0, "run_seconds": 0.0
    })
}

/// A `mutants --out` directory (identity `rev`) holding the given result files.
fn mutants_out(dir: &Path, rev: &str, results: &[(&str, String)]) {
    std::fs::create_dir_all(dir.join("results")).unwrap();
    write_json(
        &dir.join("identity.json"),
        &serde_json::json!({"commit": rev, "corpus_hash": "c", "rules": "r", "benches": [],
            "repeats": 1, "files": ["Python/specialize.c"]}),
    );
    std::fs::write(dir.join(".pystats-gate-output"), "").unwrap();
    for (name, text) in results {
        std::fs::write(dir.join("results").join(name), text).unwrap();
    }
}

#[test]
fn mutants_merge_refuses_foreign_outputs_mixed_runs_and_truncated_results() {
    let d = tempdir();
    let ok = mutant_result("Python/specialize.c:10:remove", "killed").to_string();
    let s1 = d.path().join("s1");
    mutants_out(&s1, "aaa", &[(M1, ok.clone())]);
    let merge = |dirs: &[&Path], out: &Path| {
        let mut c = cmd();
        c.arg("mutants");
        for dir in dirs {
            c.arg("--merge").arg(dir);
        }
        c.arg("--out").arg(out);
        c
    };
    // The sane case first, so the refusals below are about their inputs.
    let fresh = d.path().join("all");
    let out = merge(&[&s1], &fresh).exits(0);
    crate::util::assert_stdout_contains(&out, "mutation score 100.0%");
    // --out a user's directory: merge wrote results/ and mutants-report.* into it.
    let mine = d.path().join("mine");
    std::fs::create_dir(&mine).unwrap();
    std::fs::write(mine.join("mutants-report.md"), "my notes").unwrap();
    let out = merge(&[&s1], &mine).exits(2);
    assert_stderr_contains(&out, "not written by pystats-gate");
    assert_eq!(
        std::fs::read_to_string(mine.join("mutants-report.md")).unwrap(),
        "my notes"
    );
    // Shards of different revisions were merged into one score.
    let s2 = d.path().join("s2");
    mutants_out(&s2, "bbb", &[]);
    let out = merge(&[&s1, &s2], &d.path().join("mixed")).exits(2);
    assert_stderr_contains(&out, "hold results of different runs");
    // ... and so was an --out holding another run's results.
    let out = merge(&[&s2], &fresh).exits(2);
    assert_stderr_contains(&out, "hold results of different runs");
    // A result file truncated by a killed run is rejected naming it and its line.
    let s3 = d.path().join("s3");
    let m2 = mutant_result("Python/specialize.c:11:remove", "survived").to_string();
    let m2_file = "Python_specialize.c_11_remove.json";
    mutants_out(&s3, "aaa", &[(m2_file, m2[..m2.len() / 2].to_string())]);
    let out = merge(&[&s1, &s3], &d.path().join("trunc")).exits(2);
    assert_stderr_contains(&out, &format!("{m2_file}:1: not a mutant result"));
    // A copy of a result under another name counted the mutant twice.
    let s4 = d.path().join("s4");
    mutants_out(&s4, "aaa", &[(M1, ok.clone()), ("copy.json", ok.clone())]);
    let out = merge(&[&s4], &d.path().join("copy")).exits(2);
    assert_stderr_contains(&out, "copy.json: holds the result of mutant");
}

#[test]
fn out_of_range_counts_and_durations_are_usage_errors() {
    // --max-repeats 4e9 split alpha over ~1e9 looks (a gate that can never fail) and
    // --repeats 4e9 materialised every work unit; a NaN budget meant no budget.
    // --jobs 100000000 spawned threads until the machine gave up (a hang); `mutants --merge`
    // ignored --shard/--only/--list.
    let cases: [&[&str]; 12] = [
        // --runs 4e9 x --repeats 10 overflowed (a panic in a debug build).
        &[
            "calibrate",
            "--repo",
            ".",
            "--runs",
            "4000000000",
            "--repeats",
            "10",
            "-o",
            "n",
        ],
        &["mutants", "--merge", "m", "--min-score", "nan"],
        &["mutants", "--merge", "m", "--min-score", "1.5"],
        &["mutants", "--merge", "m", "--shard", "1/2"],
        &["mutants", "--merge", "m", "--only", "*"],
        &[
            "run",
            "--python",
            "/bin/true",
            "--out",
            "x",
            "--jobs",
            "100000000",
        ],
        &["run", "--python", "/bin/true", "--out", "x", "--jobs", "0"],
        &[
            "run",
            "--python",
            "/bin/true",
            "--out",
            "x",
            "--repeats",
            "4000000000",
        ],
        &[
            "gate",
            "--repo",
            ".",
            "--base",
            "a",
            "--head",
            "b",
            "--max-repeats",
            "4000000000",
        ],
        &[
            "gate",
            "--repo",
            ".",
            "--base",
            "a",
            "--head",
            "b",
            "--time-budget",
            "nan",
        ],
        &[
            "gate",
            "--repo",
            ".",
            "--base",
            "a",
            "--head",
            "b",
            "--time-budget=-1",
        ],
        &["mutants", "--repo", ".", "--repeats", "4000000000"],
    ];
    let d = tempdir();
    for args in cases {
        let out = cmd().current_dir(d.path()).args(args).exits(2);
        let err = stderr(&out);
        assert!(
            err.contains("invalid value") || err.contains("cannot be used with"),
            "{args:?}: {err}"
        );
        assert!(!d.path().join("x").exists());
    }
}

#[test]
fn a_rule_name_that_no_acceptance_can_name_is_an_error() {
    // `name = ""` (or with `:` or blanks) was accepted: no `--accept` or `--rule` can name it.
    let d = tempdir();
    let p = d.path().join("r.toml");
    for name in ["", " ", "a:b", "two words"] {
        std::fs::write(
            &p,
            format!(
                "[[rule]]\nname = {name:?}\nmetric = \"family.*.miss_ratio\"\nmax_increase = 0.1\n"
            ),
        )
        .unwrap();
        let out = compare_base_with(None).arg("--rules").arg(&p).exits(2);
        assert_stderr_contains(&out, "r.toml:2: rule[0].name:");
    }
}

#[test]
fn a_revision_is_never_passed_to_git_as_an_option() {
    // `gate --head=--output=FILE` ran `git log ... --output=FILE` to read the trailers:
    // git wrote the log over FILE.
    let d = tempdir();
    let repo = d.path().join("repo");
    let git = |args: &[&str]| {
        let st = std::process::Command::new("git")
            .arg("-C")
            .arg(&repo)
            .args(["-c", "user.name=t", "-c", "user.email=t@t"])
            .args(args)
            .status()
            .unwrap();
        assert!(st.success(), "git {args:?}");
    };
    std::fs::create_dir(&repo).unwrap();
    git(&["init", "-q"]);
    git(&["commit", "-q", "--allow-empty", "-m", "init"]);
    let victim = d.path().join("victim.txt");
    std::fs::write(&victim, "precious").unwrap();
    let out = cmd()
        .arg("gate")
        .arg("--repo")
        .arg(&repo)
        .args(["--base", "HEAD"])
        .arg(format!("--head=--output={}", victim.display()))
        .arg("--out")
        .arg(d.path().join("out"))
        .exits(2);
    assert_stderr_contains(&out, "not a revision");
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    assert!(!d.path().join("out").exists());
}

#[test]
fn summarize_json_and_exception_files_are_checked_briefly() {
    let d = tempdir();
    // A bad value that is a huge array was printed whole (1.3 MB of error message).
    let big = d.path().join("big.json");
    let values: Vec<u32> = (0..200_000).collect();
    write_json(&big, &serde_json::json!({"a": 1, "x": values}));
    let out = cmd().arg("summarize").arg(&big).exits(2);
    assert_stderr_contains(&out, "big.json: key \"x\": expected a non-negative integer");
    assert!(stderr(&out).len() < 1000, "{} bytes", stderr(&out).len());
    // An invariant excused without a reason was accepted (an acceptance needs one).
    let ex = d.path().join("ex.toml");
    std::fs::write(
        &ex,
        "[[exception]]\ninvariant = \"family-executions\"\nfamily = \"CALL\"\nreason = \" \"\n",
    )
    .unwrap();
    let out = cmd()
        .arg("check")
        .arg(fixture("real-3.13.5/aa-base"))
        .arg("--exceptions")
        .arg(&ex)
        .exits(2);
    assert_stderr_contains(&out, "ex.toml: exception[0].reason: empty");
}

#[test]
fn compare_refuses_its_report_directory_before_writing_anything() {
    // `-o DIR/report.txt --out-dir DIR` wrote report.txt, then refused DIR as foreign: a
    // half-written output and an error.
    let d = tempdir();
    let dir = d.path().join("reports");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("mine.txt"), "mine").unwrap();
    let out = compare_base_with(None)
        .arg("-o")
        .arg(d.path().join("report.txt"))
        .arg("--out-dir")
        .arg(&dir)
        .exits(2);
    assert_stderr_contains(&out, "not written by pystats-gate");
    assert!(!d.path().join("report.txt").exists(), "{}", dump(&out));
}

#[test]
fn long_acceptances_and_missing_corpus_programs_are_named_briefly() {
    // A 100 KB `--accept` without a reason was printed whole in the error.
    let long = "x".repeat(100_000);
    let out = compare_base_with(None).arg("--accept").arg(&long).exits(2);
    assert_stderr_contains(&out, "a reason is required");
    assert!(stderr(&out).len() < 1000, "{} bytes", stderr(&out).len());
    // A corpus program that is missing: the error named the bench but no line or key.
    let d = tempdir();
    let c = d.path().join("c");
    crate::hostile::write_corpus(
        &c,
        "[[bench]]\nname = \"a\"\nfile = \"gone.py\"\ntimeout = 5\n",
    );
    let out = cmd()
        .args(["corpus", "--list", "--corpus"])
        .arg(&c)
        .exits(2);
    assert_stderr_contains(&out, "corpus.toml:3: bench[0].file:");
}

#[test]
fn a_side_without_opcode_statistics_never_passes() {
    // Every `opcode[...]`/`family` line deleted from head's dumps (the rest kept): every
    // rule was skipped ("no comparable sample") and compare said PASS.
    let d = tempdir();
    let h = d.path().join("h");
    copy_dir(&fixture("real-3.13.5/aa-head"), &h);
    for r in ["run-1", "run-2", "run-3"] {
        for b in ["arith", "attrs"] {
            let p = h.join(r).join(format!("{b}.txt"));
            let text = std::fs::read_to_string(&p).unwrap();
            let kept: String = text
                .lines()
                .filter(|l| !l.trim_start().starts_with("opcode["))
                .map(|l| format!("{l}\n"))
                .collect();
            std::fs::write(&p, kept).unwrap();
        }
    }
    let base = fixture("real-3.13.5/aa-base");
    for (a, b) in [(&base, &h), (&h, &base)] {
        let out = cmd().arg("compare").arg(a).arg(b).exits(2);
        assert_stderr_contains(&out, "run-1/arith.txt: counts no instruction execution");
    }
}

#[test]
fn an_equivalent_mutant_listed_twice_is_an_error() {
    // The second entry silently replaced the first one's reason.
    let d = tempdir();
    let s1 = d.path().join("s1");
    let ok = mutant_result("Python/specialize.c:10:remove", "killed").to_string();
    mutants_out(&s1, "aaa", &[(M1, ok)]);
    let eq = d.path().join("eq.toml");
    std::fs::write(
        &eq,
        "[[mutant]]\nid = \"Python/specialize.c:10:remove\"\nreason = \"a\"\n\n[[mutant]]\nid = \"Python/specialize.c:10:remove\"\nreason = \"b\"\n",
    )
    .unwrap();
    let out = cmd()
        .arg("mutants")
        .arg("--merge")
        .arg(&s1)
        .arg("--out")
        .arg(d.path().join("all"))
        .arg("--equivalent")
        .arg(&eq)
        .exits(2);
    assert_stderr_contains(
        &out,
        "eq.toml: mutant[1].id: \"Python/specialize.c:10:remove\" is listed twice",
    );
}

#[test]
fn bisect_never_writes_its_log_or_report_into_its_rules() {
    // `--log` (appended to) and `-o` naming the rules file wrote into it.
    let t = tempdir();
    let repo = t.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    let h = crate::bisect::verdict_repo(&repo, &["good", "bad", "bad"]);
    let rules = t.path().join("rules.toml");
    std::fs::copy(crate::util::repo_root().join("rules/default.toml"), &rules).unwrap();
    let before = std::fs::read(&rules).unwrap();
    for opt in ["--log", "-o"] {
        let out = crate::bisect::bisect(&repo, &t.path().join("cache"), &h[0], &h[2])
            .arg("--rules")
            .arg(&rules)
            .arg(opt)
            .arg(&rules)
            .exits(2);
        assert_stderr_contains(&out, "refusing to write into an input");
        assert_eq!(std::fs::read(&rules).unwrap(), before, "{opt}");
    }
}

#[test]
fn run_never_writes_its_set_into_the_corpus() {
    // `run --corpus C --out C/out` wrote the stats set inside the corpus it read.
    let d = tempdir();
    let c = d.path().join("c");
    crate::hostile::write_corpus(
        &c,
        "[[bench]]\nname = \"a\"\nfile = \"a.py\"\ntimeout = 5\n",
    );
    let py = d.path().join("python");
    std::fs::write(&py, "#!/bin/sh\necho 3.13.5\necho True\n").unwrap();
    let out = cmd()
        .arg("run")
        .arg("--python")
        .arg(&py)
        .arg("--corpus")
        .arg(&c)
        .arg("--out")
        .arg(c.join("out"))
        .exits(2);
    assert_stderr_contains(&out, "refusing to write into an input");
    assert!(!c.join("out").exists());
}

#[test]
fn a_dump_reached_twice_through_a_link_is_refused() {
    // A repeat directory symlinked to another (or a hard-linked dump) was read as one more
    // repeat: the same data twice, its variance hidden.
    let d = tempdir();
    let (b, h) = (d.path().join("b"), d.path().join("h"));
    copy_dir(&fixture("real-3.13.5/aa-base"), &b);
    copy_dir(&fixture("real-3.13.5/aa-head"), &h);
    for set in [&b, &h] {
        std::fs::remove_file(set.join("manifest.json")).unwrap();
    }
    std::fs::remove_dir_all(h.join("run-3")).unwrap();
    std::os::unix::fs::symlink("run-1", h.join("run-3")).unwrap();
    let out = cmd().arg("compare").arg(&b).arg(&h).exits(2);
    assert_stderr_contains(&out, "are the same file");
    assert_stderr_contains(&out, "run-3/arith.txt");
    std::fs::remove_file(h.join("run-3")).unwrap();
    copy_dir(&fixture("real-3.13.5/aa-head/run-3"), &h.join("run-3"));
    cmd().arg("compare").arg(&b).arg(&h).exits(0);
    std::fs::remove_file(h.join("run-3/attrs.txt")).unwrap();
    std::fs::hard_link(h.join("run-2/attrs.txt"), h.join("run-3/attrs.txt")).unwrap();
    for sub in ["summarize", "metrics", "check"] {
        let out = cmd().arg(sub).arg(&h).exits(2);
        assert_stderr_contains(&out, "are the same file");
    }
}

#[test]
fn unreadable_dumps_are_named_or_read_never_skipped() {
    // Permission 000 blocks reading except for root (CI may run as root): whichever holds
    // here, a dump is either read (and compares as before) or an error naming it; it is
    // never skipped.
    use std::os::unix::fs::PermissionsExt;
    let d = tempdir();
    let (b, h) = (d.path().join("b"), d.path().join("h"));
    copy_dir(&fixture("real-3.13.5/aa-base"), &b);
    copy_dir(&fixture("real-3.13.5/aa-head"), &h);
    let dump_file = h.join("run-2/attrs.txt");
    std::fs::set_permissions(&dump_file, std::fs::Permissions::from_mode(0o000)).unwrap();
    let readable = std::fs::read(&dump_file).is_ok();
    for sub in [&["compare"][..], &["check"], &["summarize"], &["metrics"]] {
        let mut c = cmd();
        c.args(sub);
        if sub[0] == "compare" {
            c.arg(&b);
        }
        c.arg(&h);
        if readable {
            let out = c.exits(0);
            assert!(!stderr(&out).contains("attrs"), "{}", dump(&out));
        } else {
            let out = c.exits(2);
            assert_stderr_contains(&out, "run-2/attrs.txt");
        }
    }
    // As root, the error path is still exercised: as user 65534 through setpriv (util-linux).
    // (Only where that user can run the binary: a clone under /root is out of its reach.)
    let as_nobody = || {
        let mut c = std::process::Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(assert_cmd::cargo::cargo_bin("pystats-gate"));
        c
    };
    let nobody_runs = as_nobody()
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if readable && nobody_runs {
        for p in [d.path(), b.as_path(), h.as_path()] {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let out = as_nobody().arg("check").arg(&h).output().unwrap();
        crate::util::expect_code(&out, 2);
        assert_stderr_contains(&out, "run-2/attrs.txt: Permission denied");
    }
    // The same for a repeat directory nobody may list.
    std::fs::set_permissions(&dump_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let repeat = h.join("run-3");
    std::fs::set_permissions(&repeat, std::fs::Permissions::from_mode(0o000)).unwrap();
    let listable = std::fs::read_dir(&repeat).is_ok();
    let out = cmd().arg("compare").arg(&b).arg(&h).output().unwrap();
    std::fs::set_permissions(&repeat, std::fs::Permissions::from_mode(0o755)).unwrap();
    if listable {
        crate::util::expect_code(&out, 0);
    } else {
        crate::util::expect_code(&out, 2);
        assert_stderr_contains(&out, "run-3");
    }
}

#[test]
fn a_fifo_or_dangling_manifest_is_an_error_not_a_hang_or_no_manifest() {
    let d = tempdir();
    let h = d.path().join("h");
    copy_dir(&fixture("real-3.13.5/aa-head"), &h);
    let m = h.join("manifest.json");
    // A FIFO named manifest.json: the loader waited forever for a writer.
    std::fs::remove_file(&m).unwrap();
    let st = std::process::Command::new("mkfifo")
        .arg(&m)
        .status()
        .unwrap();
    assert!(st.success());
    for sub in ["check", "summarize", "metrics"] {
        let out = cmd().arg(sub).arg(&h).exits(2);
        assert_stderr_contains(&out, "manifest.json: not a regular file");
    }
    // A dangling symlink: the set loaded as if it had no manifest (its recorded failures
    // and seeds unseen).
    std::fs::remove_file(&m).unwrap();
    std::os::unix::fs::symlink("gone.json", &m).unwrap();
    let out = cmd().arg("check").arg(&h).exits(2);
    assert_stderr_contains(&out, "manifest.json: No such file");
}

#[test]
fn a_rule_whose_benchmarks_select_none_is_an_error() {
    // `benchmarks = ["!*"]` (or negations excluding all the others select) made a rule that
    // checked nothing: compare passed with a planted regression.
    let d = tempdir();
    let h = d.path().join("h");
    copy_dir(&fixture("real-3.13.5/aa-head"), &h);
    crate::gate_compare::plant_binary_op_misses(&h, 2000);
    let p = d.path().join("sel.toml");
    for list in [
        r#"["!*"]"#,
        r#"["arith", "!arith"]"#,
        r#"["!arith", "!attrs"]"#,
    ] {
        std::fs::write(
            &p,
            format!("[[rule]]\nname = \"r\"\nmetric = \"family.*.miss_ratio\"\nmax_increase = 0.01\nbenchmarks = {list}\n"),
        )
        .unwrap();
        let out = compare_base_with(Some(&h)).arg("--rules").arg(&p).exits(2);
        assert_stderr_contains(&out, "sel.toml:2: rule[0].benchmarks: selects no benchmark");
    }
    // A list that selects something still gates.
    std::fs::write(
        &p,
        "[[rule]]\nname = \"r\"\nmetric = \"family.*.miss_ratio\"\nmax_increase = 0.01\nbenchmarks = [\"*\", \"!attrs\"]\n",
    )
    .unwrap();
    compare_base_with(Some(&h)).arg("--rules").arg(&p).exits(1);
}

#[test]
fn a_dump_of_made_up_counters_is_refused_before_it_takes_gigabytes() {
    // 300,000 unknown counters in one ~9 MB dump took compare to 1.1 GB and a 290 MB
    // report.json; millions exhausted memory. Real dumps name a few thousand counters.
    let d = tempdir();
    let set = d.path().join("s");
    std::fs::create_dir(&set).unwrap();
    let mut text = String::new();
    for i in 0..=pystats_gate::stats::raw::MAX_COUNTERS {
        text.push_str(&format!("c{i} : 1\n"));
    }
    std::fs::write(set.join("a.txt"), text).unwrap();
    // The same as a summarize_stats JSON.
    let json = d.path().join("s.json");
    let obj: serde_json::Map<String, serde_json::Value> = (0
        ..=pystats_gate::stats::raw::MAX_COUNTERS)
        .map(|i| (format!("c{i}"), serde_json::json!(1)))
        .collect();
    std::fs::write(&json, serde_json::to_string(&obj).unwrap()).unwrap();
    let out = cmd().arg("metrics").arg(&json).exits(2);
    assert_stderr_contains(
        &out,
        "s.json: 200001 keys, more than 200000 distinct counters",
    );
    for sub in ["metrics", "summarize", "check"] {
        let out = cmd().arg(sub).arg(&set).exits(2);
        assert_stderr_contains(
            &out,
            &format!(
                "a.txt:{}: more than {} distinct counters",
                pystats_gate::stats::raw::MAX_COUNTERS + 1,
                pystats_gate::stats::raw::MAX_COUNTERS
            ),
        );
    }
}

#[test]
fn merge_of_a_shard_whose_listed_dump_is_gone_is_a_run_error() {
    // README: a dump the manifest lists but that is not there makes merge exit 3; merge
    // exited 2, as for a malformed shard.
    let d = tempdir();
    let sh = d.path().join("sh");
    copy_dir(&fixture("real-3.13.5/aa-base"), &sh);
    crate::hostile::edit_manifest(&sh, |m| {
        m["shard"] = serde_json::json!("1/1");
        m["benchmarks"] = serde_json::json!(["arith", "attrs"]);
        m["total_repeats"] = serde_json::json!(3);
    });
    std::fs::remove_file(sh.join("run-2/attrs.txt")).unwrap();
    let out = cmd()
        .arg("merge")
        .arg(&sh)
        .arg("--out")
        .arg(d.path().join("out"))
        .exits(3);
    assert_stderr_contains(&out, "run-2/attrs.txt: missing");
    // Not listed in the manifest either: the shard is inconsistent, an input error.
    crate::hostile::edit_manifest(&sh, |m| {
        m["repeats"][1]["benchmarks"] = serde_json::json!(["arith"]);
    });
    cmd()
        .arg("merge")
        .arg(&sh)
        .arg("--out")
        .arg(d.path().join("out"))
        .exits(2);
}

#[test]
fn every_reader_of_a_set_exits_3_when_a_listed_dump_is_gone() {
    // summarize and metrics exited 3 here while their documented codes said they never do.
    let d = tempdir();
    let h = d.path().join("h");
    copy_dir(&fixture("real-3.13.5/aa-head"), &h);
    std::fs::remove_file(h.join("run-2/attrs.txt")).unwrap();
    for sub in ["summarize", "metrics", "check"] {
        let out = cmd().arg(sub).arg(&h).exits(3);
        assert_stderr_contains(&out, "run-2/attrs.txt");
        let help = cmd().arg(sub).arg("--help").exits(0);
        crate::util::assert_stdout_contains(&help, "3 a ");
    }
}

#[test]
fn a_full_job_summary_names_the_file() {
    // Writing $GITHUB_STEP_SUMMARY on a full disk said only "No space left on device".
    if !Path::new("/dev/full").exists() {
        panic!("/dev/full is missing: this Linux test needs it");
    }
    let out = compare_base_with(None)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", "/dev/full")
        .exits(2);
    assert_stderr_contains(&out, "$GITHUB_STEP_SUMMARY /dev/full: cannot write");
}

#[test]
fn a_manifest_python_version_that_contradicts_the_dumps_is_an_error() {
    // `"python_version": "3.12"` on 3.13 dumps (named opcode ids) read them through the
    // 3.12 table: a REGRESSION and failed checks on an A/A pair.
    let d = tempdir();
    let h = d.path().join("h");
    copy_dir(&fixture("real-3.13.5/aa-head"), &h);
    crate::hostile::edit_manifest(&h, |m| {
        m["python_version"] = serde_json::json!("3.12.3");
    });
    let out = compare_base_with(Some(&h)).exits(2);
    assert_stderr_contains(
        &out,
        "manifest.json: python_version \"3.12.3\" does not match",
    );
    let out = cmd().arg("summarize").arg(&h).exits(2);
    assert_stderr_contains(&out, "manifest.json: python_version");
    // An explicit --python-version decides instead.
    compare_base_with(Some(&h))
        .args(["--python-version", "3.13"])
        .exits(0);
}

#[test]
fn a_misspelt_noise_table_is_an_error() {
    // `[metric."X"]` (for `[metrics."X"]`) was ignored: the floor it meant was dropped.
    let d = tempdir();
    let noise = d.path().join("n.toml");
    cmd()
        .arg("calibrate")
        .arg(fixture("real-3.13.5/aa-base"))
        .arg(fixture("real-3.13.5/aa-head"))
        .arg("-o")
        .arg(&noise)
        .exits(0);
    let mut text = std::fs::read_to_string(&noise).unwrap();
    text.push_str(
        "\n[metric.\"family.BINARY_OP.miss_ratio\"]\nthreshold = 0.5\nmax = 0.5\npairs = 3\n",
    );
    std::fs::write(&noise, text).unwrap();
    let out = compare_base_with(None).arg("--noise").arg(&noise).exits(2);
    assert_stderr_contains(&out, "n.toml");
    assert_stderr_contains(&out, "unknown field `metric`");
}

/// Bytes of every file under `dir` (and `dir` itself when a file), to prove nothing changed.
pub(crate) fn snapshot(dir: &Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = vec![];
    if dir.is_file() {
        out.push((dir.to_path_buf(), std::fs::read(dir).unwrap()));
        return out;
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

/// The A/A fixture pair copied to `dir` (`b`, `h`), a rules file including the shipped
/// rules, a noise file calibrated on `b`, a result JSON and a history holding it.
struct Inputs {
    b: std::path::PathBuf,
    h: std::path::PathBuf,
    rules: std::path::PathBuf,
    noise: std::path::PathBuf,
    result: std::path::PathBuf,
    history: std::path::PathBuf,
}

fn inputs(dir: &Path) -> Inputs {
    let i = Inputs {
        b: dir.join("b"),
        h: dir.join("h"),
        rules: dir.join("rules.toml"),
        noise: dir.join("noise.toml"),
        result: dir.join("result.json"),
        history: dir.join("h.jsonl"),
    };
    copy_dir(&fixture("real-3.13.5/aa-base"), &i.b);
    copy_dir(&fixture("real-3.13.5/aa-head"), &i.h);
    std::fs::write(&i.rules, "include = [\"default.toml\"]\n").unwrap();
    cmd()
        .arg("calibrate")
        .arg(&i.b)
        .arg("-o")
        .arg(&i.noise)
        .exits(0);
    cmd()
        .arg("compare")
        .arg(&i.b)
        .arg(&i.h)
        .args(["--format", "json", "-o"])
        .arg(&i.result)
        .exits(0);
    // Three entries: enough for `history noise`.
    for _ in 0..3 {
        history_append(&i.result, &i.history);
    }
    i
}

#[test]
fn an_output_that_is_an_input_under_another_name_is_refused() {
    // `-o L` with L a hard link (or a symlink) to an input dump, rules, noise or history
    // file overwrote that input: the check compared paths, not (device, inode).
    let d = tempdir();
    let i = inputs(d.path());
    let dump_file = i.b.join("run-1/arith.txt");
    let c = cmd_with;
    // (the input, commands reading it that write to `-o`/`--file` L: the last argument).
    type Make<'a> = Box<dyn Fn(&Path) -> assert_cmd::Command + 'a>;
    let cases: Vec<(&Path, Vec<Make>)> = vec![
        (
            &dump_file,
            vec![
                Box::new(|l| c(&[&"compare", &i.b, &i.h, &"--force", &"-o", &l])),
                Box::new(|l| c(&[&"summarize", &i.b, &"--force", &"-o", &l])),
                Box::new(|l| c(&[&"calibrate", &i.b, &"--force", &"-o", &l])),
            ],
        ),
        (
            &i.rules,
            vec![Box::new(|l| {
                c(&[
                    &"compare", &i.b, &i.h, &"--rules", &i.rules, &"--force", &"-o", &l,
                ])
            })],
        ),
        (
            &i.noise,
            vec![Box::new(|l| {
                c(&[
                    &"compare", &i.b, &i.h, &"--noise", &i.noise, &"--force", &"-o", &l,
                ])
            })],
        ),
        (
            &i.history,
            vec![
                Box::new(|l| {
                    c(&[
                        &"history", &"show", &"--file", &i.history, &"--force", &"-o", &l,
                    ])
                }),
                Box::new(|l| {
                    c(&[
                        &"history", &"noise", &"--file", &i.history, &"--force", &"-o", &l,
                    ])
                }),
            ],
        ),
        (
            &i.result,
            vec![Box::new(|l| {
                c(&[&"history", &"append", &i.result, &"--file", &l])
            })],
        ),
    ];
    for (k, (input, makers)) in cases.iter().enumerate() {
        let before = std::fs::read(input).unwrap();
        for (j, make) in makers.iter().enumerate() {
            for hard in [true, false] {
                let l = d.path().join(format!("link-{k}-{j}-{hard}"));
                if hard {
                    std::fs::hard_link(input, &l).unwrap();
                } else {
                    std::os::unix::fs::symlink(input, &l).unwrap();
                }
                let out = make(&l).exits(2);
                assert_stderr_contains(&out, "refusing to write into an input");
                assert_eq!(std::fs::read(input).unwrap(), before, "{}", input.display());
            }
        }
    }
}

#[test]
fn an_existing_file_is_replaced_only_with_force_and_never_through_a_link() {
    // compare/summarize/calibrate/history replaced an existing -o file silently.
    let d = tempdir();
    let i = inputs(d.path());
    let user = d.path().join("mine.txt");
    let writers: Vec<(&str, Box<dyn Fn() -> assert_cmd::Command>)> = vec![
        (
            "compare",
            Box::new(|| cmd_with(&[&"compare", &i.b, &i.h, &"-o", &user])),
        ),
        (
            "summarize",
            Box::new(|| cmd_with(&[&"summarize", &i.b, &"-o", &user])),
        ),
        (
            "calibrate",
            Box::new(|| cmd_with(&[&"calibrate", &i.b, &"-o", &user])),
        ),
        (
            "history show",
            Box::new(|| cmd_with(&[&"history", &"show", &"--file", &i.history, &"-o", &user])),
        ),
        (
            "history noise",
            Box::new(|| cmd_with(&[&"history", &"noise", &"--file", &i.history, &"-o", &user])),
        ),
    ];
    for (name, make) in &writers {
        std::fs::write(&user, "keep me").unwrap();
        let out = make().exits(2);
        assert_stderr_contains(&out, "refusing to replace it (--force replaces it)");
        assert_stderr_contains(&out, "mine.txt");
        assert_eq!(std::fs::read_to_string(&user).unwrap(), "keep me", "{name}");
    }
    // With --force the file is replaced; a symlink there is replaced, its target kept.
    let elsewhere = d.path().join("elsewhere.txt");
    std::fs::write(&elsewhere, "keep me too").unwrap();
    std::fs::remove_file(&user).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &user).unwrap();
    let out = cmd()
        .arg("summarize")
        .arg(&i.b)
        .args(["--force", "-o"])
        .arg(&user)
        .exits(0);
    assert!(
        std::fs::symlink_metadata(&user).unwrap().is_file(),
        "{}",
        dump(&out)
    );
    assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "keep me too");
    // A device is written in place (not replaced, not refused).
    cmd()
        .arg("summarize")
        .arg(&i.b)
        .args(["-o", "/dev/null"])
        .exits(0);
}

#[test]
fn a_marked_directory_redirects_no_write_through_a_symlink() {
    // Inside a marked --out-dir, report.md symlinked to an input was written through, and a
    // marker that is a symlink made any directory pass as pystats-gate's.
    let d = tempdir();
    let i = inputs(d.path());
    let dump_file = i.b.join("run-1/arith.txt");
    let before = snapshot(&i.b);
    let r = d.path().join("reports");
    let compare = |dir: &Path| {
        let mut c = cmd();
        c.arg("compare")
            .arg(&i.b)
            .arg(&i.h)
            .arg("--out-dir")
            .arg(dir);
        c
    };
    compare(&r).exits(0);
    std::fs::remove_file(r.join("report.md")).unwrap();
    std::os::unix::fs::symlink(&dump_file, r.join("report.md")).unwrap();
    std::os::unix::fs::symlink(d.path().join("nowhere"), r.join("report.json")).unwrap_or(());
    compare(&r).exits(0);
    assert!(std::fs::symlink_metadata(r.join("report.md"))
        .unwrap()
        .is_file());
    assert!(!d.path().join("nowhere").exists());
    assert_eq!(snapshot(&i.b), before);
    // A marker that is a symlink marks nothing: the directory is foreign.
    let user = d.path().join("user");
    std::fs::create_dir(&user).unwrap();
    std::fs::write(user.join("notes"), "keep").unwrap();
    let target = d.path().join("marker-target");
    std::fs::write(&target, "keep").unwrap();
    std::os::unix::fs::symlink(&target, user.join(".pystats-gate-output")).unwrap();
    let out = compare(&user).exits(2);
    assert_stderr_contains(&out, "was not written by pystats-gate");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
    assert_eq!(std::fs::read_dir(&user).unwrap().count(), 2);
    // `manpage --out-dir` follows the same rule: a foreign directory is refused.
    let out = cmd().arg("manpage").arg("--out-dir").arg(&user).exits(2);
    assert_stderr_contains(&out, "was not written by pystats-gate");
    assert_eq!(std::fs::read_dir(&user).unwrap().count(), 2);
    let pages = d.path().join("man");
    cmd().arg("manpage").arg("--out-dir").arg(&pages).exits(0);
    cmd().arg("manpage").arg("--out-dir").arg(&pages).exits(0);
    assert!(pages.join("pystats-gate-compare.1").is_file());
}

#[test]
fn huge_globs_are_input_errors_naming_the_key_not_panics() {
    // A 300 kB glob (or one of many classes) in a rules file or an option made globset
    // panic compiling its matcher.
    let d = tempdir();
    let (b, h) = (
        fixture("real-3.13.5/aa-base"),
        fixture("real-3.13.5/aa-head"),
    );
    let long = "x".repeat(100_000);
    let classes = "[!a]".repeat(200);
    for glob in [&long, &classes] {
        let rules = d.path().join("r.toml");
        for (key, toml) in [
            ("rule[0].metric", format!("[[rule]]\nname = \"r\"\nmetric = \"{glob}\"\nmax_increase = 1\n")),
            ("rule[0].benchmarks[0]", format!("[[rule]]\nname = \"r\"\nmetric = \"family.*\"\nbenchmarks = [\"{glob}\"]\nmax_increase = 1\n")),
        ] {
            std::fs::write(&rules, toml).unwrap();
            let out = cmd().arg("compare").arg(&b).arg(&h).arg("--rules").arg(&rules).exits(2);
            assert_stderr_contains(&out, key);
            assert!(stderr(&out).len() < 1000, "{}", stderr(&out).len());
        }
        let opts: Vec<(&str, Vec<String>)> = vec![
            (
                "--filter",
                vec![
                    "metrics".into(),
                    b.display().to_string(),
                    "--filter".into(),
                    glob.clone(),
                ],
            ),
            (
                "--accept",
                vec![
                    "compare".into(),
                    b.display().to_string(),
                    h.display().to_string(),
                    "--accept".into(),
                    format!("r:{glob} because x"),
                ],
            ),
            (
                "--metric",
                vec![
                    "history".into(),
                    "show".into(),
                    "--file".into(),
                    "/dev/null".into(),
                    "--metric".into(),
                    glob.clone(),
                ],
            ),
            (
                "--bench",
                vec![
                    "run".into(),
                    "--python".into(),
                    "/bin/sh".into(),
                    "--repeats".into(),
                    "1".into(),
                    "--out".into(),
                    d.path().join("o").display().to_string(),
                    "--bench".into(),
                    glob.clone(),
                ],
            ),
        ];
        for (opt, args) in opts {
            let out = cmd().args(&args).exits(2);
            assert_stderr_contains(&out, opt);
            assert!(!stderr(&out).contains("panicked"), "{}", dump(&out));
            assert!(stderr(&out).len() < 1000, "{opt}: {}", stderr(&out).len());
        }
    }
}

/// A fake interpreter at `dir/python`: it answers the start-up probe like an
/// `--enable-pystats` build (unless `probe` replaces that answer), then runs `body` (sh)
/// with the dump path the runner gives it in `$dump`.
pub(crate) fn fake_python(dir: &Path, probe: &str, body: &str) -> std::path::PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let py = dir.join("python");
    let probe = if probe.is_empty() {
        "echo 3.13.5; echo True; exit 0"
    } else {
        probe
    };
    std::fs::write(
        &py,
        format!("#!/bin/sh\nif [ \"$1\" = -c ]; then {probe}; fi\ndump=\"$4\"\n{body}\n"),
    )
    .unwrap();
    std::fs::set_permissions(&py, std::fs::Permissions::from_mode(0o755)).unwrap();
    crate::hostile::write_corpus(
        &dir.join("c"),
        "[[bench]]\nname = \"a\"\nfile = \"a.py\"\ntimeout = 2\n",
    );
    py
}

/// `run` of the fake interpreter in `dir` (serial isolation: no namespaces needed).
fn run_fake(dir: &Path, out: &Path) -> assert_cmd::Command {
    let mut c = cmd();
    c.arg("run")
        .arg("--python")
        .arg(dir.join("python"))
        .arg("--corpus")
        .arg(dir.join("c"))
        .args(["--repeats", "1", "--quiet", "--out"])
        .arg(out)
        .env("PYSTATS_GATE_ISOLATION", "lock")
        .env("PYSTATS_GATE_PROBE_TIMEOUT", "2")
        .timeout(std::time::Duration::from_secs(120));
    c
}

/// True while process `pid` (a number in `file`) runs: a zombie (killed, not yet reaped
/// by init) does not count.
fn alive(pid_file: &Path) -> bool {
    let pid = std::fs::read_to_string(pid_file).unwrap_or_default();
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())) else {
        return false;
    };
    // `PID (COMM) STATE ...`: the state follows the last `)`.
    let state = stat.rsplit(')').next().unwrap_or("").trim_start();
    !pid.trim().is_empty() && !state.starts_with('Z') && !state.starts_with('X')
}

/// Waits up to 10 s for the process in `pid_file` to end (a SIGKILL takes effect
/// asynchronously); true if it still runs then.
fn still_alive_after_kill(pid_file: &Path) -> bool {
    let t0 = std::time::Instant::now();
    while alive(pid_file) {
        if t0.elapsed() > std::time::Duration::from_secs(10) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    false
}

pub(crate) const GOOD_DUMP: &str = "printf 'opcode[LOAD_FAST].execution_count : 5\\n' > \"$dump\"";

#[test]
fn run_collects_only_checked_dumps_and_fails_on_unusable_ones() {
    // `run` exited 0 when its child wrote random bytes, a directory, a cut line or stray
    // files in place of a dump: the set it published could not be read.
    let d = tempdir();
    for (what, body) in [
        ("random bytes", "head -c 3000 /dev/urandom > \"$dump\""),
        ("a directory", "mkdir \"$dump\""),
        (
            "a cut line",
            "printf 'opcode[LOAD_FAST].execution_count : 5\\nopcode[LOAD_FAST].exec' > \"$dump\"",
        ),
        (
            "stray files",
            &format!("{GOOD_DUMP}; echo x > \"$dump.bak\""),
        ),
        ("no counters", "printf '\\n' > \"$dump\""),
    ] {
        fake_python(d.path(), "", body);
        let out_dir = d.path().join("out");
        let out = run_fake(d.path(), &out_dir).exits(3);
        assert_stderr_contains(&out, "run-1/a");
        let m = crate::util::read_json(&out_dir.join("manifest.json"));
        assert_eq!(m["failures"].as_array().unwrap().len(), 1, "{what}: {m}");
        assert!(!out_dir.join("run-1/a.txt").exists(), "{what}");
        std::fs::remove_dir_all(&out_dir).unwrap();
    }
    // A good dump is collected, and the set reads back.
    fake_python(d.path(), "", GOOD_DUMP);
    let out_dir = d.path().join("out");
    run_fake(d.path(), &out_dir).exits(0);
    cmd().arg("metrics").arg(&out_dir).exits(0);
}

#[test]
fn a_run_kills_its_whole_process_group_and_nothing_changes_a_collected_dump() {
    // A timeout killed only the direct child (its children ran on), and a child left
    // running could append to the dump after it was published.
    let d = tempdir();
    let pid = d.path().join("pid");
    // A grandchild in the group, and one that left it (setsid): both append after 1 s.
    let late = "sleep 1; echo \"opcode[X].execution_count : 9\" >> \"$dump\"";
    fake_python(
        d.path(),
        "",
        &format!(
            "{GOOD_DUMP}; export dump; sh -c '{late}' & echo $! > {p}; setsid sh -c '{late}' &",
            p = pid.display()
        ),
    );
    let out_dir = d.path().join("out");
    run_fake(d.path(), &out_dir).exits(0);
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert!(
        !still_alive_after_kill(&pid),
        "the run's grandchild outlived the run"
    );
    assert_eq!(
        std::fs::read_to_string(out_dir.join("run-1/a.txt")).unwrap(),
        "opcode[LOAD_FAST].execution_count : 5\n"
    );
    // A timeout kills the benchmark's children too.
    fake_python(
        d.path(),
        "",
        &format!("sleep 1000 & echo $! > {}; sleep 1000", pid.display()),
    );
    std::fs::remove_dir_all(&out_dir).unwrap();
    let out = run_fake(d.path(), &out_dir).exits(3);
    assert_stderr_contains(&out, "timeout after 2s");
    assert!(
        !still_alive_after_kill(&pid),
        "a timed-out run's child was left running"
    );
}

#[test]
fn an_interpreter_that_hangs_at_start_up_is_a_run_failure() {
    // The start-up probe had no time limit: `run` waited forever.
    let d = tempdir();
    let pid = d.path().join("pid");
    fake_python(
        d.path(),
        &format!("echo $$ > {}; exec sleep 1000", pid.display()),
        GOOD_DUMP,
    );
    let out = run_fake(d.path(), &d.path().join("out")).exits(3);
    assert_stderr_contains(&out, "start-up probe did not finish in 2s");
    assert!(!still_alive_after_kill(&pid));
    // A probe that fails quotes at most 200 bytes of its stderr.
    fake_python(
        d.path(),
        "head -c 1000000 /dev/zero | tr '\\0' x >&2; exit 1",
        GOOD_DUMP,
    );
    let out = run_fake(d.path(), &d.path().join("out")).exits(3);
    assert_stderr_contains(&out, "does not run");
    assert!(stderr(&out).len() < 1000, "{}", stderr(&out).len());
}

/// Sends SIGINT to `child` once `ready` holds (polled), and returns its exit code.
fn interrupt_when(mut child: std::process::Child, ready: impl Fn() -> bool) -> Option<i32> {
    let t0 = std::time::Instant::now();
    while !ready() && t0.elapsed() < std::time::Duration::from_secs(30) {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    // SAFETY: kill(2) on our own child's pid.
    unsafe {
        libc::kill(child.id() as i32, libc::SIGINT);
    }
    child.wait().unwrap().code()
}

/// Hidden `.pystats-gate-*` entries in `dir`.
fn hidden(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with(".pystats-gate-"))
        .collect()
}

#[test]
fn an_interrupted_merge_or_run_leaves_no_temporary_directory() {
    // SIGINT during merge left a hidden `.pystats-gate-merge-*` directory behind.
    let d = tempdir();
    let s = d.path().join("s1");
    let benches: Vec<String> = (0..3000).map(|i| format!("b{i}")).collect();
    let text = "opcode[LOAD_FAST].execution_count : 5\n".repeat(50);
    std::fs::create_dir_all(s.join("run-1")).unwrap();
    for b in &benches {
        std::fs::write(s.join(format!("run-1/{b}.txt")), &text).unwrap();
    }
    write_json(
        &s.join("manifest.json"),
        &serde_json::json!({"schema_version": 1, "shard": "1/1", "benchmarks": benches,
            "total_repeats": 1, "repeats": [{"name": "run-1", "seed": 1, "benchmarks": benches}]}),
    );
    let out = d.path().join("out");
    let mut interrupted = 0;
    for _ in 0..20 {
        let child = crate::util::std_cmd()
            .arg("merge")
            .arg(&s)
            .arg("--out")
            .arg(&out)
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Interrupt once the temporary set holds some dumps: mid-merge.
        let code = interrupt_when(child, || {
            hidden(d.path()).iter().any(|h| {
                std::fs::read_dir(d.path().join(h).join("run-1")).is_ok_and(|r| r.count() > 10)
            })
        });
        assert_eq!(hidden(d.path()), Vec::<String>::new(), "exit {code:?}");
        match code {
            Some(130) => {
                interrupted += 1;
                assert!(!out.exists());
            }
            Some(0) => std::fs::remove_dir_all(&out).unwrap(),
            c => panic!("merge exited {c:?}"),
        }
    }
    assert!(interrupted > 0, "no merge was interrupted mid-way");
    // A run: its temporary set is removed and its benchmark's process group killed.
    let pid = d.path().join("pid");
    fake_python(
        d.path(),
        "",
        &format!("echo $$ > {}; exec sleep 1000", pid.display()),
    );
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("pystats-gate"));
    c.args(["run", "--repeats", "1", "--quiet", "--python"])
        .arg(d.path().join("python"))
        .arg("--corpus")
        .arg(d.path().join("c"))
        .arg("--out")
        .arg(d.path().join("run-out"))
        .env("PYSTATS_GATE_ISOLATION", "lock")
        .stderr(std::process::Stdio::null());
    let code = interrupt_when(c.spawn().unwrap(), || pid.exists() && alive(&pid));
    assert_eq!(code, Some(130));
    assert_eq!(hidden(d.path()), Vec::<String>::new());
    assert!(
        !still_alive_after_kill(&pid),
        "the interrupted run's benchmark was left running"
    );
}

#[test]
fn history_noise_never_writes_a_value_noise_cannot_read() {
    // Means too far apart to subtract made `history noise` write `threshold = nan`, which
    // `--noise` then rejected.
    let d = tempdir();
    let h = d.path().join("h.jsonl");
    let lines: Vec<String> = ["1.7e308", "-1.7e308", "1.7e308", "-1.7e308"]
        .iter()
        .map(|v| {
            format!(r#"{{"schema_version":1,"recorded_at":"x","label":"a","verdict":"pass","metrics":{{"m":{v}}}}}"#)
        })
        .collect();
    std::fs::write(&h, lines.join("\n") + "\n").unwrap();
    let n = d.path().join("n.toml");
    let out = cmd()
        .args(["history", "noise", "--file"])
        .arg(&h)
        .arg("-o")
        .arg(&n)
        .exits(2);
    assert_stderr_contains(&out, "metrics.\"m\".threshold: expected a finite number");
    assert!(!n.exists());
}

#[test]
fn help_and_version_report_a_failed_write() {
    // `--help > /dev/full` and `--version > /dev/full` exited 0.
    for args in [&["--help"][..], &["--version"], &["compare", "--help"]] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = crate::util::std_cmd()
            .args(args)
            .stdout(full)
            .output()
            .unwrap();
        expect_code(&out, 2);
        assert_stderr_contains(&out, "writing to standard output");
    }
    cmd().arg("--version").exits(0);
}

#[test]
fn messages_quote_at_most_200_bytes_of_any_input() {
    // Rule values, unknown keys, noise keys, manifest values and missing-name lists were
    // quoted whole: megabytes of error message.
    let d = tempdir();
    let (b, h) = (
        fixture("real-3.13.5/aa-base"),
        fixture("real-3.13.5/aa-head"),
    );
    let big = "x".repeat(300_000);
    let small = |out: &std::process::Output| {
        assert!(
            stderr(out).len() < 1200,
            "{} bytes: {}",
            stderr(out).len(),
            &stderr(out)[..300]
        );
    };
    let rules = d.path().join("r.toml");
    for toml in [
        format!("[[rule]]\nname = \"r\"\nmetric = \"family.*\"\nmax_increase = \"{big}\"\n"),
        format!("[[rule]]\nname = \"r\"\nmetric = \"family.*\"\nmax_increase = 1\n{big} = 1\n"),
        format!("[[rule]]\nname = \"r\"\nmetric = \"family.*\"\nseverity = \"{big}\"\nmax_increase = 1\n"),
        format!("include = [\"{big}\"]\n"),
        format!("[[rule]]\nname = \"{big}\"\nmetric = \"family.*\"\n"),
    ] {
        std::fs::write(&rules, toml).unwrap();
        small(&cmd().arg("compare").arg(&b).arg(&h).arg("--rules").arg(&rules).exits(2));
    }
    let noise = d.path().join("n.toml");
    let head =
        "schema_version = 1\ntool_version = \"x\"\nmethod = \"m\"\nsources = []\nrepeats = 3\n";
    for toml in [
        format!("{head}[metrics.\"{big}\"]\nthreshold = -1\nmax = 1\npairs = 3\n"),
        format!("{head}{big} = 1\n"),
    ] {
        std::fs::write(&noise, toml).unwrap();
        small(
            &cmd()
                .arg("compare")
                .arg(&b)
                .arg(&h)
                .arg("--noise")
                .arg(&noise)
                .exits(2),
        );
    }
    let set = d.path().join("m");
    copy_dir(&b, &set);
    crate::hostile::edit_manifest(&set, |m| m["total_repeats"] = serde_json::json!(big));
    small(&cmd().arg("compare").arg(&set).arg(&h).exits(2));
    // 2,000 benchmarks missing on one side: the list names ten and counts the rest.
    let (mb, mh) = (d.path().join("mb"), d.path().join("mh"));
    for s in [&mb, &mh] {
        std::fs::create_dir_all(s.join("run-1")).unwrap();
    }
    for k in 0..2000 {
        std::fs::write(
            mb.join(format!("run-1/a_benchmark_with_a_long_name_{k}.txt")),
            "opcode[LOAD_FAST].execution_count : 5\n",
        )
        .unwrap();
    }
    std::fs::copy(
        mb.join("run-1/a_benchmark_with_a_long_name_0.txt"),
        mh.join("run-1/a_benchmark_with_a_long_name_0.txt"),
    )
    .unwrap();
    let out = cmd().arg("compare").arg(&mb).arg(&mh).exits(2);
    small(&out);
    assert_stderr_contains(&out, "and 1989 more");
}

// ---- Issue 19, "False PASS": nothing checked must never end in PASS. ----

/// A copy of the real A/A fixture pair (`b`, `h`) whose every dump line is kept only when
/// `keep` says so, or replaced by `replace` when given.
fn rewritten_pair(
    dir: &Path,
    keep: impl Fn(&str) -> bool,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let (b, h) = (dir.join("b"), dir.join("h"));
    copy_dir(&fixture("real-3.13.5/aa-base"), &b);
    copy_dir(&fixture("real-3.13.5/aa-head"), &h);
    for set in [&b, &h] {
        for r in ["run-1", "run-2", "run-3"] {
            for bench in ["arith", "attrs"] {
                let p = set.join(r).join(format!("{bench}.txt"));
                let text = std::fs::read_to_string(&p).unwrap();
                let kept: String = text
                    .lines()
                    .filter(|l| keep(l))
                    .map(|l| format!("{l}\n"))
                    .collect();
                let kept = if kept.is_empty() {
                    "hello world : 1\n".to_string()
                } else {
                    kept
                };
                std::fs::write(&p, kept).unwrap();
            }
        }
    }
    (b, h)
}

#[test]
fn dumps_without_an_executed_instruction_on_both_sides_never_pass() {
    // Only the static `specializable` lines, or only made-up keys, on BOTH sides: every
    // rule was matched against a list of known metric names, found "something", skipped
    // everything, and compare said PASS (also with --strict).
    let d = tempdir();
    for (name, keep) in [
        (
            "specializable",
            (|l: &str| l.contains(".specializable")) as fn(&str) -> bool,
        ),
        ("made-up", |_: &str| false),
    ] {
        let (b, h) = rewritten_pair(&d.path().join(name), keep);
        for strict in [false, true] {
            let mut c = cmd();
            c.arg("compare").arg(&b).arg(&h);
            if strict {
                c.arg("--strict");
            }
            let out = c.exits(2);
            assert_stderr_contains(&out, "counts no instruction execution");
            assert_stderr_contains(&out, "run-1/arith.txt");
        }
        // `check` found every invariant "ok" on them: it holds trivially on nothing.
        let out = cmd().arg("check").arg(&b).exits(2);
        assert_stderr_contains(&out, "counts no instruction execution");
    }
    // Two summarize_stats JSONs without opcode keys.
    let (j1, j2) = (d.path().join("a.json"), d.path().join("b.json"));
    std::fs::write(&j1, "{\"hello world\": 1, \"Object allocations\": 5}").unwrap();
    std::fs::write(&j2, "{\"hello world\": 2, \"Object allocations\": 5}").unwrap();
    let out = cmd().arg("compare").arg(&j1).arg(&j2).exits(2);
    assert_stderr_contains(&out, "a.json: counts no instruction execution");
}

#[test]
fn a_rule_is_matched_against_the_compared_data_not_known_names() {
    // `optimizer.success_ratio` exists on tier-2 builds only: matched against a list of
    // metric names that can exist, a rules file of it alone passed on data without tier 2.
    let d = tempdir();
    let rules = d.path().join("tier2-only.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nname = \"opt\"\nmetric = \"optimizer.success_ratio\"\nmax_decrease = 0.05\n",
    )
    .unwrap();
    let out = compare_base_with(None).arg("--rules").arg(&rules).exits(2);
    assert_stderr_contains(&out, "tier2-only.toml:2: rule[0].metric: pattern");
    assert_stderr_contains(&out, "matches no metric in the compared data");
    // Declared optional, it may find nothing, but a compare in which no rule evaluated
    // anything is never a pass: an input error naming the rules file.
    std::fs::write(
        &rules,
        "[[rule]]\nname = \"opt\"\nmetric = \"optimizer.success_ratio\"\nmax_decrease = 0.05\noptional = true\n",
    )
    .unwrap();
    let out = compare_base_with(None).arg("--rules").arg(&rules).exits(2);
    assert_stderr_contains(&out, "tier2-only.toml: no rule checked anything");
}

/// The five report files `--out-dir` writes.
const REPORT_FILES: [&str; 5] = [
    "report.md",
    "report.txt",
    "report.html",
    "junit.xml",
    "report.json",
];

/// Runs `compare` with every report format (files, stdout text and GitHub annotations) and
/// asserts that each holds `needle`; returns the JSON report.
fn every_format_says(args: &[&std::ffi::OsStr], code: i32, needles: &[&str]) -> serde_json::Value {
    let d = tempdir();
    let out_dir = d.path().join("reports");
    let out = cmd()
        .arg("compare")
        .args(args)
        .arg("--out-dir")
        .arg(&out_dir)
        .env("GITHUB_ACTIONS", "true")
        .env_remove("GITHUB_STEP_SUMMARY")
        .exits(code);
    // GitHub annotations go to stderr under Actions.
    let err = stderr(&out);
    for needle in needles {
        crate::util::assert_stdout_contains(&out, needle);
        assert!(
            err.lines().any(
                |l| (l.starts_with("::warning") || l.starts_with("::notice")) && l.contains(needle)
            ),
            "no annotation says {needle:?}: {err}"
        );
        // report.json holds the model fields themselves (`unchecked_rules`,
        // `same_input`): the callers check those.
        for f in REPORT_FILES.iter().filter(|f| **f != "report.json") {
            let text = std::fs::read_to_string(out_dir.join(f)).unwrap();
            assert!(text.contains(needle), "{f} does not say {needle:?}");
        }
    }
    crate::util::read_json(&out_dir.join("report.json"))
}

#[test]
fn a_rule_skipped_everywhere_never_passes_and_every_format_says_so() {
    let d = tempdir();
    let rules = d.path().join("r.toml");
    let checked =
        "[[rule]]\nname = \"miss\"\nmetric = \"family.*.miss_ratio\"\nmax_increase = 0.01\n";
    let never = "[[rule]]\nname = \"never\"\nmetric = \"family.*.deferred_ratio\"\nmax_increase = 0.01\nmin_count = 1e300\n";
    // The only rule skipped everywhere: nothing was compared, an input error.
    std::fs::write(&rules, never).unwrap();
    for strict in [false, true] {
        let mut c = compare_base_with(None);
        c.arg("--rules").arg(&rules);
        if strict {
            c.arg("--strict");
        }
        let out = c.exits(2);
        assert_stderr_contains(&out, "r.toml: no rule checked anything");
    }
    // Beside a rule that checks something: INCONCLUSIVE (exit 1 under --strict), said in
    // every format from the report's `unchecked_rules`.
    std::fs::write(&rules, format!("{checked}{never}")).unwrap();
    let (b, h) = (
        fixture("real-3.13.5/aa-base"),
        fixture("real-3.13.5/aa-head"),
    );
    let args = [
        b.as_os_str(),
        h.as_os_str(),
        "--rules".as_ref(),
        rules.as_os_str(),
    ];
    let json = every_format_says(
        &args,
        0,
        &["UNCHECKED RULE: fail-level rule never", "1e300"],
    );
    assert_eq!(json["verdict"], "inconclusive");
    assert_eq!(json["unchecked_rules"][0]["rule"], "never");
    let out = compare_base_with(None)
        .arg("--rules")
        .arg(&rules)
        .arg("--strict")
        .exits(1);
    crate::util::assert_stdout_contains(&out, "INCONCLUSIVE");
    // A warn-level rule left unchecked keeps a pass away only under --fail-on-warn.
    std::fs::write(&rules, format!("{checked}{never}severity = \"warn\"\n")).unwrap();
    compare_base_with(None)
        .arg("--rules")
        .arg(&rules)
        .arg("--strict")
        .exits(0);
    compare_base_with(None)
        .args(["--strict", "--fail-on-warn", "--rules"])
        .arg(&rules)
        .exits(1);
    // `optional = true` lets it check nothing: a pass, but still listed.
    std::fs::write(&rules, format!("{checked}{never}optional = true\n")).unwrap();
    let json = every_format_says(&args, 0, &["checked nothing", "never"]);
    assert_eq!(json["verdict"], "pass");
    assert_eq!(json["unchecked_rules"][0]["optional"], true);
}

#[test]
fn the_same_input_on_both_sides_is_an_input_error() {
    // `compare X X` passed even when X held a regression (through a symlink, `X/`,
    // `w/../w/X`, or a `cp -al` copy too).
    let d = tempdir();
    let w = d.path().join("w");
    let x = w.join("x");
    copy_dir(&fixture("real-3.13.5/aa-head"), &x);
    crate::gate_compare::plant_binary_op_misses(&x, 2000);
    let spellings = other_spellings_of(&x);
    for other in &spellings {
        let out = cmd().arg("compare").arg(&x).arg(other).exits(2);
        assert_stderr_contains(&out, "are the same input");
        let out = cmd().arg("check").arg(&x).arg(other).exits(2);
        assert_stderr_contains(&out, "are the same input");
    }
    // One shared dump is enough: head's run-2 hard-linked from base.
    let h = d.path().join("h");
    copy_dir(&fixture("real-3.13.5/aa-base"), &h);
    std::fs::remove_file(h.join("run-2/arith.txt")).unwrap();
    std::fs::hard_link(x.join("run-2/arith.txt"), h.join("run-2/arith.txt")).unwrap();
    let out = cmd().arg("compare").arg(&x).arg(&h).exits(2);
    assert_stderr_contains(&out, "run-2/arith.txt");
    // Allowed explicitly: never a plain PASS, and every format says so.
    let a = fixture("real-3.13.5/aa-base");
    let args = [a.as_os_str(), a.as_os_str(), "--allow-same-input".as_ref()];
    let json = every_format_says(&args, 0, &["SAME INPUT"]);
    assert_eq!(json["verdict"], "inconclusive");
    assert!(!json["same_input"].as_array().unwrap().is_empty());
    cmd()
        .arg("compare")
        .arg(&a)
        .arg(&a)
        .args(["--allow-same-input", "--strict"])
        .exits(1);
    let out = cmd()
        .arg("check")
        .arg(&a)
        .arg(&a)
        .arg("--allow-same-input")
        .exits(0);
    crate::util::assert_stdout_contains(&out, "SAME INPUT");
}

#[test]
fn hidden_directories_in_a_set_are_input_errors() {
    // A directory named `.pystats-gate-output` at a set's root was skipped unread.
    let d = tempdir();
    let h = d.path().join("h");
    for (hidden, inside) in [
        (".pystats-gate-output", ""),
        (".git", ""),
        (".cache", "run-1"),
    ] {
        let _ = std::fs::remove_dir_all(&h);
        copy_dir(&fixture("real-3.13.5/aa-head"), &h);
        let dir = h.join(inside).join(hidden);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::copy(h.join("run-1/arith.txt"), dir.join("arith.txt")).unwrap();
        for sub in [
            vec!["compare"],
            vec!["check"],
            vec!["metrics"],
            vec!["summarize"],
        ] {
            let mut c = cmd();
            c.args(&sub);
            if sub[0] == "compare" {
                c.arg(fixture("real-3.13.5/aa-base"));
            }
            let out = c.arg(&h).exits(2);
            assert_stderr_contains(&out, &format!("{hidden}: hidden directory in a stats set"));
        }
    }
    // The marker as the file pystats-gate writes is still fine.
    let _ = std::fs::remove_dir_all(&h);
    copy_dir(&fixture("real-3.13.5/aa-head"), &h);
    std::fs::write(h.join(".pystats-gate-output"), "written by pystats-gate\n").unwrap();
    compare_base_with(Some(&h)).exits(0);
}

/// A copy of the real A/A base as shard 1/1 of a 3-repeat run at `dir`.
fn whole_run_shard(dir: &Path) {
    copy_dir(&fixture("real-3.13.5/aa-base"), dir);
    crate::hostile::edit_manifest(dir, |m| {
        m["shard"] = serde_json::json!("1/1");
        m["benchmarks"] = serde_json::json!(["arith", "attrs"]);
        m["total_repeats"] = serde_json::json!(3);
    });
}

#[test]
fn merge_accounts_for_every_entry_of_a_shard() {
    // Stray entries whose stem or number looked right were silently ignored.
    let d = tempdir();
    type Make = fn(&Path);
    let strays: [(&str, Make); 7] = [
        ("run-1/arith.bak", |s| {
            std::fs::copy(s.join("run-1/arith.txt"), s.join("run-1/arith.bak")).unwrap();
        }),
        ("run-1/arith", |s| {
            std::fs::copy(s.join("run-1/arith.txt"), s.join("run-1/arith")).unwrap();
        }),
        ("run-2/arith.d", |s| {
            std::fs::create_dir(s.join("run-2/arith.d")).unwrap()
        }),
        ("run-2/attrs", |s| {
            std::fs::create_dir(s.join("run-2/attrs")).unwrap()
        }),
        ("run-01", |s| copy_dir(&s.join("run-1"), &s.join("run-01"))),
        ("run-+1", |s| copy_dir(&s.join("run-1"), &s.join("run-+1"))),
        ("run-0", |s| copy_dir(&s.join("run-1"), &s.join("run-0"))),
    ];
    for (i, (path, make)) in strays.iter().enumerate() {
        let shard = d.path().join(format!("shard{i}"));
        whole_run_shard(&shard);
        make(&shard);
        let out = cmd()
            .arg("merge")
            .arg(&shard)
            .arg("--out")
            .arg(d.path().join(format!("out{i}")))
            .exits(2);
        assert_stderr_contains(&out, path);
        assert!(!d.path().join(format!("out{i}")).exists(), "{}", dump(&out));
    }
    // Without strays the same shard merges.
    let shard = d.path().join("clean");
    whole_run_shard(&shard);
    cmd()
        .arg("merge")
        .arg(&shard)
        .arg("--out")
        .arg(d.path().join("merged"))
        .exits(0);
}

#[test]
fn repeat_names_are_parsed_strictly_and_must_match_across_sides() {
    // `zzz` on one side and `run-1` on the other passed compare (unpaired, same count).
    let d = tempdir();
    let (b, h) = (d.path().join("b"), d.path().join("h"));
    copy_dir(&fixture("real-3.13.5/aa-base"), &b);
    copy_dir(&fixture("real-3.13.5/aa-head"), &h);
    for set in [&b, &h] {
        std::fs::remove_file(set.join("manifest.json")).unwrap();
    }
    for bad in ["zzz", "run-01", "run-+3", "run-0"] {
        std::fs::rename(h.join("run-3"), h.join(bad)).unwrap();
        let out = cmd().arg("compare").arg(&b).arg(&h).exits(2);
        assert_stderr_contains(&out, &format!("{bad}: not a repeat directory name"));
        std::fs::rename(h.join(bad), h.join("run-3")).unwrap();
    }
    // A well-formed repeat the other side lacks: a gap, not an unpaired pass.
    std::fs::rename(h.join("run-3"), h.join("run-4")).unwrap();
    let out = cmd().arg("compare").arg(&b).arg(&h).exits(2);
    assert_stderr_contains(&out, "lacks repeat run-4 that head has");
    assert_stderr_contains(&out, "lacks repeat run-3 that base has");
    // Manifests name repeats with the same parser.
    let m = d.path().join("m");
    copy_dir(&fixture("real-3.13.5/aa-head"), &m);
    crate::hostile::edit_manifest(&m, |v| {
        v["repeats"][0]["name"] = serde_json::json!("run-01")
    });
    let out = compare_base_with(Some(&m)).exits(2);
    assert_stderr_contains(&out, "manifest.json: repeats[0].name: bad name \"run-01\"");
}

#[test]
fn summarize_and_calibrate_refuse_the_same_input_twice() {
    // `summarize X X` reported a zero change and `calibrate X X` learned half the noise
    // (the same data read as paired repeats): the same files by device and inode, however
    // spelled (a symlink, `X/`, `w/../w/X`, a `cp -al` copy), are an input error naming both.
    let d = tempdir();
    let w = d.path().join("w");
    let x = w.join("x");
    copy_dir(&fixture("real-3.13.5/aa-base"), &x);
    let spellings = other_spellings_of(&x);
    let noise = d.path().join("noise.toml");
    for other in &spellings {
        let out = cmd().arg("summarize").arg(&x).arg(other).exits(2);
        assert_stderr_contains(&out, "are the same input");
        assert_stderr_contains(&out, &x.display().to_string());
        assert_stderr_contains(&out, &other.display().to_string());
        let out = cmd()
            .arg("calibrate")
            .arg(fixture("real-3.13.5/aa-head"))
            .arg(&x)
            .arg(other)
            .arg("-o")
            .arg(&noise)
            .exits(2);
        assert_stderr_contains(&out, "are the same input");
        assert_stderr_contains(&out, &other.display().to_string());
        assert!(
            !noise.exists(),
            "a refused calibrate wrote {}",
            noise.display()
        );
    }
    // Different sets still work.
    cmd()
        .arg("summarize")
        .arg(&x)
        .arg(fixture("real-3.13.5/aa-head"))
        .exits(0);
    cmd()
        .arg("calibrate")
        .arg(&x)
        .arg(fixture("real-3.13.5/aa-head"))
        .arg("-o")
        .arg(&noise)
        .exits(0);
    assert!(noise.exists());
}

/// Replaces the file `at` by a symlink to `to`, or by a hard link to it.
fn plant_link(at: &Path, to: &Path, hard: bool) {
    let _ = std::fs::remove_file(at);
    if hard {
        std::fs::hard_link(to, at).unwrap();
    } else {
        std::os::unix::fs::symlink(to, at).unwrap();
    }
}

#[test]
fn a_run_writes_its_logs_and_dumps_over_planted_links_never_through_them() {
    // The runner created each log with File::create and each collected dump with fs::write:
    // a link planted where it writes (here by the run before) truncated or overwrote the
    // file it pointed at. Tool-owned files are replaced by a rename, never written through.
    let d = tempdir();
    let (user_log, user_dump) = (d.path().join("user-log"), d.path().join("user-dump"));
    for u in [&user_log, &user_dump] {
        std::fs::write(u, "the user's").unwrap();
    }
    // $dump is <tmp>/scratch/a-SEED/a.txt; the set being written is <tmp>/set.
    let body = format!(
        "scratch=$(dirname \"$(dirname \"$dump\")\"); set=$(dirname \"$scratch\")/set\n\
         if [ \"$PYTHONHASHSEED\" = 1 ]; then mkdir -p \"$set/run-1\"; \
         ln -s {dump_target} \"$set/run-1/a.txt\"; ln -s {log_target} \"$scratch/a-2.log\"; fi\n\
         {GOOD_DUMP}",
        dump_target = user_dump.display(),
        log_target = user_log.display(),
    );
    fake_python(d.path(), "", &body);
    let out_dir = d.path().join("out");
    let out = cmd()
        .arg("run")
        .arg("--python")
        .arg(d.path().join("python"))
        .arg("--corpus")
        .arg(d.path().join("c"))
        .args(["--repeats", "2", "--jobs", "1", "--quiet", "--out"])
        .arg(&out_dir)
        .env("PYSTATS_GATE_ISOLATION", "lock")
        .timeout(std::time::Duration::from_secs(120))
        .exits(0);
    for u in [&user_log, &user_dump] {
        assert_eq!(
            std::fs::read_to_string(u).unwrap(),
            "the user's",
            "{}",
            dump(&out)
        );
    }
    for r in ["run-1", "run-2"] {
        let p = out_dir.join(r).join("a.txt");
        assert!(
            std::fs::symlink_metadata(&p).unwrap().is_file(),
            "{}",
            p.display()
        );
        assert_eq!(
            std::fs::read_to_string(&p).unwrap(),
            "opcode[LOAD_FAST].execution_count : 5\n"
        );
    }
}

/// A directory that `build --source` accepts as a CPython tree whose configure succeeds
/// and whose make fails at once (no Makefile): a build that stops in seconds.
fn failing_source_tree(dir: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::create_dir_all(dir.join("Python")).unwrap();
    std::fs::write(dir.join("Python/ceval.c"), "/* not CPython */\n").unwrap();
    let configure = dir.join("configure");
    std::fs::write(&configure, "#!/bin/sh\nexit 0\n").unwrap();
    std::fs::set_permissions(&configure, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_build_replaces_links_planted_in_its_cache_never_writes_through_them() {
    // The build cache's lock (File::create truncated it), its log (fs::write) and the
    // synced sources (fs::copy over what was there) followed a symlink or wrote into a
    // hard link planted at their names: a file of the user's was truncated or overwritten.
    let d = tempdir();
    let (src, cache) = (d.path().join("tree"), d.path().join("cache"));
    failing_source_tree(&src);
    let build = || {
        let mut c = cmd();
        c.args(["build", "--quiet", "--source"])
            .arg(&src)
            .env("PYSTATS_GATE_CACHE", &cache)
            .timeout(std::time::Duration::from_secs(120));
        c
    };
    build().exits(3);
    let work = std::fs::read_dir(cache.join("sources"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let log = std::fs::read_dir(work.join("logs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "log"))
        .unwrap();
    let planted = [
        (work.join("lock"), false),
        (log, false),
        (work.join("src/Python/ceval.c"), true),
        (work.join("src/configure"), false),
    ];
    let mut users = vec![];
    for (i, (at, hard)) in planted.iter().enumerate() {
        let user = d.path().join(format!("user-{i}"));
        std::fs::write(&user, "the user's, longer than any source file here").unwrap();
        plant_link(at, &user, *hard);
        users.push(user);
    }
    let out = build().exits(3);
    for u in &users {
        assert_eq!(
            std::fs::read_to_string(u).unwrap(),
            "the user's, longer than any source file here",
            "{}\n{}",
            u.display(),
            dump(&out)
        );
    }
    for (at, _) in &planted {
        assert!(
            std::fs::symlink_metadata(at).unwrap().is_file(),
            "{}",
            at.display()
        );
    }
    assert_eq!(
        std::fs::read_to_string(work.join("src/Python/ceval.c")).unwrap(),
        "/* not CPython */\n"
    );
}

#[test]
fn the_job_summary_is_never_appended_to_an_input() {
    // $GITHUB_STEP_SUMMARY was appended to with no inputs to refuse: pointed at a hard link
    // to a compared dump, the report went into the dump.
    let d = tempdir();
    let i = inputs(d.path());
    let dumpf = std::fs::read_dir(i.h.join("run-1"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "txt"))
        .unwrap();
    let link = d.path().join("summary.md");
    std::fs::hard_link(&dumpf, &link).unwrap();
    let before = std::fs::read(&dumpf).unwrap();
    let out = cmd_with(&[&"compare", &i.b, &i.h])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &link)
        .exits(2);
    assert_stderr_contains(&out, "summary.md");
    assert_stderr_contains(&out, "refusing to write into an input");
    assert_eq!(std::fs::read(&dumpf).unwrap(), before);
}

#[test]
fn mutants_only_globs_are_bounded_like_every_glob() {
    // The README's bound on globs names `--only` too: a 1,200-byte glob or one of 70
    // wildcards is an input error naming the option, quoted briefly, before any build.
    let repo = pystats_gate::commands::gate::demo_repo(Some(&crate::util::suite_cache()), true)
        .expect("demo repository");
    for glob in ["x".repeat(1200), "*a".repeat(70)] {
        let out = cmd()
            .args(["mutants", "--rev", "base", "--list", "--repo"])
            .arg(&repo)
            .arg("--only")
            .arg(&glob)
            .exits(2);
        assert_stderr_contains(&out, "--only");
        assert!(stderr(&out).len() < 1000, "{}", stderr(&out).len());
    }
    // Many valid globs that match no mutant: the message quotes at most 200 bytes of them.
    let mut c = cmd();
    c.args(["mutants", "--rev", "base", "--list", "--repo"])
        .arg(&repo);
    for i in 0..12 {
        c.arg("--only")
            .arg(format!("nomatch{i}-{}", "y".repeat(800)));
    }
    let out = c.exits(2);
    assert_stderr_contains(&out, "matches no mutant");
    assert!(stderr(&out).len() < 600, "{}", stderr(&out).len());
}

#[test]
fn a_run_ends_cleanly_on_sigterm_and_sighup_too() {
    // The README promises SIGINT, SIGTERM and SIGHUP alike; only SIGINT was tested.
    let d = tempdir();
    let pid = d.path().join("pid");
    fake_python(
        d.path(),
        "",
        &format!("echo $$ > {}; exec sleep 1000", pid.display()),
    );
    for signal in [libc::SIGTERM, libc::SIGHUP] {
        let _ = std::fs::remove_file(&pid);
        let mut child = crate::util::std_cmd()
            .args(["run", "--repeats", "1", "--quiet", "--python"])
            .arg(d.path().join("python"))
            .arg("--corpus")
            .arg(d.path().join("c"))
            .arg("--out")
            .arg(d.path().join("run-out"))
            .env("PYSTATS_GATE_ISOLATION", "lock")
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let t0 = std::time::Instant::now();
        while !(pid.exists() && alive(&pid)) && t0.elapsed().as_secs() < 30 {
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        // SAFETY: kill(2) on our own child's pid.
        unsafe {
            libc::kill(child.id() as i32, signal);
        }
        assert_eq!(child.wait().unwrap().code(), Some(130), "signal {signal}");
        assert_eq!(hidden(d.path()), Vec::<String>::new(), "signal {signal}");
        assert!(!d.path().join("run-out").exists());
        assert!(
            !still_alive_after_kill(&pid),
            "signal {signal}: benchmark left running"
        );
    }
}

#[test]
fn run_replaces_only_a_set_it_wrote() {
    // `run --out` may replace a set pystats-gate wrote and nothing else: a directory with
    // a file of the user's, or a lone file, is refused and kept.
    let d = tempdir();
    fake_python(d.path(), "", GOOD_DUMP);
    let out_dir = d.path().join("out");
    run_fake(d.path(), &out_dir).exits(0);
    run_fake(d.path(), &out_dir).exits(0);
    std::fs::write(out_dir.join("notes.txt"), "the user's").unwrap();
    let out = run_fake(d.path(), &out_dir).exits(2);
    assert_stderr_contains(&out, "refusing to replace it");
    assert_eq!(
        std::fs::read_to_string(out_dir.join("notes.txt")).unwrap(),
        "the user's"
    );
    let file = d.path().join("a-file");
    std::fs::write(&file, "the user's").unwrap();
    run_fake(d.path(), &file).exits(2);
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "the user's");
}

#[test]
fn a_benchmark_name_outside_the_allowed_characters_is_an_input_error() {
    // The README's rule (`[A-Za-z0-9_.-]`, not starting with `.` or `-`, in the manifest
    // too) had no test of its own on a set's dumps and manifest.
    let d = tempdir();
    for name in ["-x", "a b", "é"] {
        let set = d.path().join("set");
        let _ = std::fs::remove_dir_all(&set);
        copy_dir(&fixture("real-3.13.5/aa-base"), &set);
        for r in ["run-1", "run-2", "run-3"] {
            std::fs::copy(
                set.join(r).join("arith.txt"),
                set.join(r).join(format!("{name}.txt")),
            )
            .unwrap();
        }
        for sub in ["metrics", "check"] {
            let out = cmd().arg(sub).arg(&set).exits(2);
            assert_stderr_contains(&out, &format!("run-1/{name}.txt: bad benchmark name"));
        }
    }
    let set = d.path().join("manifest-set");
    copy_dir(&fixture("real-3.13.5/aa-base"), &set);
    crate::hostile::edit_manifest(&set, |m| {
        m["repeats"][0]["benchmarks"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!("-x"))
    });
    let out = cmd()
        .arg("compare")
        .arg(&set)
        .arg(fixture("real-3.13.5/aa-head"))
        .exits(2);
    assert_stderr_contains(&out, "repeats[0].benchmarks[2]: bad name \"-x\"");
}

#[test]
fn bisect_replaces_an_existing_report_only_with_force() {
    // `bisect -o` is one of the README's output files: an existing file is refused unless
    // --force, like compare's, and --force replaces a symlink there, not its target.
    let t = tempdir();
    let repo = t.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    let h = crate::bisect::verdict_repo(&repo, &["good", "bad", "bad"]);
    let (report, elsewhere) = (t.path().join("report.md"), t.path().join("elsewhere"));
    std::fs::write(&elsewhere, "the user's").unwrap();
    std::os::unix::fs::symlink(&elsewhere, &report).unwrap();
    let bisect = || {
        let mut c = crate::bisect::bisect(&repo, &t.path().join("cache"), &h[0], &h[2]);
        c.arg("-o").arg(&report);
        c
    };
    let out = bisect().exits(2);
    assert_stderr_contains(
        &out,
        "report.md: exists and pystats-gate cannot tell it wrote it",
    );
    bisect().arg("--force").exits(0);
    assert!(std::fs::symlink_metadata(&report).unwrap().is_file());
    assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "the user's");
}

/// `x` (a set in directory `w`) and four other spellings of it: a symlink, a trailing
/// slash, a `..` detour and a `cp -al` hard-linked copy (made here, beside `x`).
fn other_spellings_of(x: &Path) -> [PathBuf; 5] {
    let w = x.parent().unwrap();
    std::os::unix::fs::symlink(x, w.join("link")).unwrap();
    let st = std::process::Command::new("cp")
        .arg("-al")
        .arg(x)
        .arg(w.join("hardlinked"))
        .status()
        .unwrap();
    assert!(st.success());
    let detour = w
        .join("..")
        .join(w.file_name().unwrap())
        .join(x.file_name().unwrap());
    [
        x.to_path_buf(),
        w.join("link"),
        PathBuf::from(format!("{}/", x.display())),
        detour,
        w.join("hardlinked"),
    ]
}

// ---- Audit of hostile input files: each test failed (or hung) before its fix. ----

/// A noise file learned paired that gives every metric of the demo regression's CONTAINS_OP
/// family a spread `sd` on `df` degrees of freedom (keys written as given: `nan`, `-1.0`).
fn contains_op_noise(path: &Path, sd: &str, df: &str) {
    let mut text = "schema_version = 1\ntool_version = \"0\"\nmethod = \"hand\"\nsources = [\"x\"]\nrepeats = 3\nseeds = 3\npaired = true\n".to_string();
    for m in [
        "family.CONTAINS_OP.deferred_ratio",
        "family.CONTAINS_OP.success_ratio",
        "bench.iterate.family.CONTAINS_OP.attempts",
    ] {
        text.push_str(&format!(
            "[metrics.\"{m}\"]\nthreshold = 1.0\nmax = 1.0\npairs = 3\nsd = {sd}\ndf = {df}\npaired_sd = {sd}\npaired_df = {df}\n"
        ));
    }
    std::fs::write(path, text).unwrap();
}

/// `compare` of the demo regression pair with `--noise noise`, killed after 60 s.
fn compare_regression_with_noise(noise: &Path) -> assert_cmd::Command {
    let mut c = cmd();
    c.arg("compare")
        .arg(fixture("gate/demo-regression-3.13.5/base"))
        .arg(fixture("gate/demo-regression-3.13.5/head"))
        .arg("--noise")
        .arg(noise)
        .timeout(std::time::Duration::from_secs(60));
    c
}

#[test]
fn a_noise_file_with_huge_degrees_of_freedom_is_decided_not_a_hang() {
    // `df = 1e9` sent statrs' inverse t cdf into a search of many minutes: compare hung.
    let d = tempdir();
    let noise = d.path().join("n.toml");
    for df in ["1e9", "1e300"] {
        contains_op_noise(&noise, "1.0", df);
        compare_regression_with_noise(&noise).exits(1);
    }
}

#[test]
fn a_noise_spread_that_is_nan_negative_or_infinite_is_an_error_naming_its_key() {
    // Only threshold and max were checked: `sd = nan` or `-1` was dropped without a word,
    // and `sd = inf` entered a log-ratio interval as an infinite spread.
    let d = tempdir();
    let noise = d.path().join("n.toml");
    for (sd, df, key) in [
        ("nan", "2.0", "sd"),
        ("-1.0", "2.0", "sd"),
        ("inf", "2.0", "sd"),
        ("1.0", "nan", "df"),
        ("1.0", "-2.0", "df"),
        ("1.0", "inf", "df"),
    ] {
        contains_op_noise(&noise, sd, df);
        let out = compare_regression_with_noise(&noise).exits(2);
        assert_stderr_contains(
            &out,
            &format!("n.toml: metrics.\"bench.iterate.family.CONTAINS_OP.attempts\".{key}: expected a finite number >= 0"),
        );
    }
    contains_op_noise(&noise, "1.0", "2.0");
    compare_regression_with_noise(&noise).exits(1);
}

#[test]
fn a_summarize_json_naming_one_counter_twice_is_an_error_not_a_dropped_value() {
    // serde_json kept the last of two equal keys, and `"k "` or `uops[X]` overwrote `k` or
    // `uops[_X]` once normalised: 4,619 LOAD_ATTR executions became 0, and compare passed.
    let d = tempdir();
    let real = fixture("real-3.13.5/whole-process.summarize.json");
    let text = std::fs::read_to_string(&real).unwrap();
    let body = text.trim_end().strip_suffix('}').unwrap().trim_end();
    for (dup, shown) in [
        (
            "opcode[LOAD_ATTR].execution_count",
            "\"opcode[LOAD_ATTR].execution_count\"",
        ),
        (
            "opcode[LOAD_ATTR].execution_count ",
            "\"opcode[LOAD_ATTR].execution_count \"",
        ),
        (
            "uops[X].execution_count\": 1, \"uops[_X].execution_count",
            "\"uops[_X].execution_count\"",
        ),
    ] {
        let head = d.path().join("h.json");
        std::fs::write(&head, format!("{body},\n\"{dup}\": 0\n}}\n")).unwrap();
        for sub in [
            &["compare", real.to_str().unwrap()][..],
            &["summarize"],
            &["check"],
        ] {
            let out = cmd().args(sub).arg(&head).exits(2);
            let lines = body.lines().count();
            assert_stderr_contains(&out, &format!("h.json:{}: ", lines + 1));
            assert_stderr_contains(&out, &format!("key {shown} repeats key"));
        }
    }
}

/// `compare` of the demo regression pair with the rules `text` (written to `dir/r.toml`).
fn compare_regression_with_rules(dir: &Path, text: &str) -> assert_cmd::Command {
    let rules = dir.join("r.toml");
    std::fs::write(&rules, text).unwrap();
    let mut c = cmd();
    c.arg("compare")
        .arg(fixture("gate/demo-regression-3.13.5/base"))
        .arg(fixture("gate/demo-regression-3.13.5/head"))
        .arg("--rules")
        .arg(&rules);
    c
}

#[test]
fn one_file_overriding_an_included_rule_twice_is_a_duplicate_name() {
    // Only two new rules of one name were refused: a second override of an included rule
    // replaced the first one's keys without a word.
    let d = tempdir();
    let text = "include = [\"default.toml\"]\n[[rule]]\nname = \"family-deferred-ratio\"\nmax_increase = 0.5\n\n[[rule]]\nname = \"family-deferred-ratio\"\nmax_increase = 0.9\n";
    let out = compare_regression_with_rules(d.path(), text).exits(2);
    assert_stderr_contains(
        &out,
        "r.toml:7: rule[1].name: duplicate rule name \"family-deferred-ratio\" (first declared at",
    );
    assert_stderr_contains(&out, "r.toml:3)");
    // One override is fine.
    let one = text.split("\n\n").next().unwrap();
    compare_regression_with_rules(d.path(), one).exits(1);
}

#[test]
fn a_relative_decrease_limit_of_100_percent_or_more_is_an_error() {
    // `max_relative_decrease = 5` (5% written as a percentage) allowed any decrease: the
    // demo's CONTAINS_OP success ratio fell from 23.5% to 0 and compare passed.
    let d = tempdir();
    let rule = |limit: &str| {
        format!("[[rule]]\nname = \"r\"\nmetric = \"family.*.success_ratio\"\nmax_relative_decrease = {limit}\n")
    };
    for limit in ["5", "1.0"] {
        let out = compare_regression_with_rules(d.path(), &rule(limit)).exits(2);
        assert_stderr_contains(&out, "r.toml:4: rule[0].max_relative_decrease: ");
        assert_stderr_contains(&out, "could never fail");
    }
    compare_regression_with_rules(d.path(), &rule("0.99")).exits(1);
}

#[test]
fn a_metric_given_twice_in_a_history_line_or_json_noise_file_is_an_error() {
    // serde kept the last of two equal keys: a history entry's or a JSON noise file's first
    // value of a metric was dropped without a word.
    let d = tempdir();
    let result = result_json(d.path());
    let hist = d.path().join("h.jsonl");
    for _ in 0..3 {
        cmd_with(&[&"history", &"append", &result, &"--file", &hist]).exits(0);
    }
    let text = std::fs::read_to_string(&hist).unwrap();
    let dup = text.replacen("\"metrics\":{", "\"metrics\":{\"total.instructions\":5,", 1);
    assert_ne!(dup, text);
    std::fs::write(&hist, dup).unwrap();
    let noise_out = d.path().join("n.toml");
    for args in [
        &["show", "--metric", "total.instructions"][..],
        &["noise", "-o", noise_out.to_str().unwrap()],
    ] {
        let out = cmd()
            .arg("history")
            .args(args)
            .arg("--file")
            .arg(&hist)
            .exits(2);
        assert_stderr_contains(
            &out,
            "h.jsonl:1: not a history entry: key \"total.instructions\" given twice",
        );
    }
    let noise = d.path().join("n.json");
    cmd()
        .arg("calibrate")
        .arg(fixture("real-3.13.5/aa-base"))
        .arg("-o")
        .arg(&noise)
        .exits(0);
    let text = std::fs::read_to_string(&noise).unwrap();
    let dup = text.replacen(
        "\"metrics\": {",
        "\"metrics\": {\"bench.arith.objects.decrefs\": {\"threshold\": 1.0, \"max\": 1.0, \"pairs\": 3},",
        1,
    );
    assert_ne!(dup, text);
    std::fs::write(&noise, dup).unwrap();
    let out = compare_base_with(None).arg("--noise").arg(&noise).exits(2);
    assert_stderr_contains(&out, "n.json:");
    assert_stderr_contains(&out, "key \"bench.arith.objects.decrefs\" given twice");
}

#[test]
fn a_key_with_a_byte_order_mark_or_control_character_is_an_error() {
    // A BOM at the top of a dump, or a NUL before a key, filed the line's value under
    // another name (`\u{feff}opcode[...]`): the counter read 0 and compare passed.
    let d = tempdir();
    let h = d.path().join("h");
    for (bytes_before, line, shown) in [
        (&b"\xef\xbb\xbf"[..], 1, "'\\u{feff}'"),
        (b"\0", 3, "'\\0'"),
        (b"\x1b[31m", 3, "'\\u{1b}'"),
    ] {
        let _ = std::fs::remove_dir_all(&h);
        copy_dir(&fixture("real-3.13.5/aa-head"), &h);
        let dump_file = h.join("run-2/arith.txt");
        let text = std::fs::read(&dump_file).unwrap();
        let at = if line == 1 {
            0
        } else {
            let mut nl = text.iter().enumerate().filter(|(_, b)| **b == b'\n');
            nl.nth(line - 2).unwrap().0 + 1
        };
        let mut damaged = text[..at].to_vec();
        damaged.extend_from_slice(bytes_before);
        damaged.extend_from_slice(&text[at..]);
        std::fs::write(&dump_file, damaged).unwrap();
        for sub in [&["compare"][..], &["check"], &["summarize"], &["metrics"]] {
            let mut c = cmd();
            c.args(sub);
            if sub[0] == "compare" {
                c.arg(fixture("real-3.13.5/aa-base"));
            }
            let out = c.arg(&h).exits(2);
            assert_stderr_contains(&out, &format!("run-2/arith.txt:{line}: key holds {shown}"));
        }
    }
    // The same in a summarize_stats JSON.
    let json = d.path().join("s.json");
    std::fs::write(&json, "{\"\\ufeffopcode[LOAD_FAST].execution_count\": 5}\n").unwrap();
    let out = cmd().arg("summarize").arg(&json).exits(2);
    assert_stderr_contains(&out, "s.json:1: ");
    assert_stderr_contains(&out, "which no pystats key holds");
}

#[test]
fn two_counters_that_become_one_metric_name_are_an_error_not_a_dropped_value() {
    // `Foo bar` and `foo-bar` both become `other.foo_bar`: the table kept the last value.
    let d = tempdir();
    let h = d.path().join("h");
    copy_dir(&fixture("real-3.13.5/aa-head"), &h);
    let dump_file = h.join("run-2/arith.txt");
    let mut text = std::fs::read_to_string(&dump_file).unwrap();
    text.push_str("Foo bar: 7\nfoo-bar: 9\n");
    std::fs::write(&dump_file, text).unwrap();
    let out = cmd()
        .arg("compare")
        .arg(fixture("real-3.13.5/aa-base"))
        .arg(&h)
        .exits(2);
    assert_stderr_contains(
        &out,
        "(run-2/arith): two different counters both become metric `other.foo_bar`",
    );
    let out = cmd().arg("metrics").arg(&h).exits(2);
    assert_stderr_contains(&out, "`other.foo_bar`");
    // One spelling alone is an ordinary unknown counter.
    let mut text = std::fs::read_to_string(&dump_file).unwrap();
    text = text.replace("foo-bar: 9\n", "");
    std::fs::write(&dump_file, text).unwrap();
    cmd().arg("metrics").arg(&h).exits(0);
}
