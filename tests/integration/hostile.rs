//! Hostile inputs: every read-only command accounts for all of its input, never passes on
//! data it did not see, never panics, never clobbers a user's file, and bounds its messages.
//!
//! Each listed case of the "no false PASS" issue has a regression test here; the proptest at
//! the end mutates the real fixture sets at random and checks the principles on every command.

use crate::hostile_inputs::snapshot;
use crate::util::std_cmd;
use crate::util::{
    assert_stderr_contains, cmd, copy_dir, dump, fixture, history_append, tempdir, Exits,
};
use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::process::Output;

/// A private copy of the real A/A fixture pair (`base/`, `head/`) to damage.
fn aa_pair(dir: &Path) -> (PathBuf, PathBuf) {
    use crate::gate_compare::copy_set;
    (copy_set("aa-base", dir), copy_set("aa-head", dir))
}

/// [`aa_pair`] without manifests: hand-made sets, whose coverage nothing declares.
fn bare_pair(dir: &Path) -> (PathBuf, PathBuf) {
    let (b, h) = aa_pair(dir);
    for set in [&b, &h] {
        std::fs::remove_file(set.join("manifest.json")).unwrap();
    }
    (b, h)
}

/// Deletes `bench` from every repeat of `set`.
fn remove_benchmark(set: &Path, bench: &str) {
    for r in ["run-1", "run-2", "run-3"] {
        std::fs::remove_file(set.join(r).join(format!("{bench}.txt"))).unwrap();
    }
}

pub(crate) fn edit_manifest(set: &Path, edit: impl FnOnce(&mut serde_json::Value)) {
    let p = set.join("manifest.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(&p, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

/// Records a crash of `bench` in repeat `repeat` the way `run` does: the dump is gone and
/// the manifest lists the failure.
fn record_crash(set: &Path, repeat: &str, bench: &str) {
    std::fs::remove_file(set.join(repeat).join(format!("{bench}.txt"))).unwrap();
    edit_manifest(set, |m| {
        m["failures"] = serde_json::json!([
            {"repeat": repeat, "benchmark": bench, "reason": "crashed: SIGSEGV"}
        ]);
    });
}

/// A real BINARY_OP deoptimization regression in every repeat (the one gate_compare plants).
fn plant_regression(set: &Path) {
    crate::gate_compare::plant_binary_op_misses(set, 2000);
}

fn compare(base: &Path, head: &Path) -> assert_cmd::Command {
    let mut c = cmd();
    c.arg("compare").arg(base).arg(head);
    c
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[test]
fn planted_regression_is_seen_by_this_module() {
    // The damage helpers must produce a real failure, or the tests below prove nothing.
    let d = tempdir();
    let (b, h) = aa_pair(d.path());
    plant_regression(&h);
    let out = compare(&b, &h).exits(1);
    crate::util::assert_stdout_contains(&out, "BINARY_OP");
}

#[test]
fn a_recorded_crash_never_passes_compare_or_check() {
    let d = tempdir();
    let (b, h) = aa_pair(d.path());
    record_crash(&h, "run-2", "attrs");
    for strict in [false, true] {
        let mut c = compare(&b, &h);
        if strict {
            c.arg("--strict");
        }
        let out = c.exits(3);
        assert_stderr_contains(&out, "run-2/attrs");
        assert_stderr_contains(&out, "crashed: SIGSEGV");
    }
    // Even when the caller allows missing benchmarks: a crash is not a missing benchmark.
    compare(&b, &h).arg("--allow-missing-benchmarks").exits(3);
    cmd().arg("check").arg(&h).exits(3);
    cmd().arg("check").arg(&b).arg(&h).exits(3);
}

#[test]
fn a_dump_missing_without_a_recorded_failure_is_a_run_error() {
    let d = tempdir();
    let (b, h) = aa_pair(d.path());
    std::fs::remove_file(h.join("run-3/arith.txt")).unwrap();
    let out = compare(&b, &h).exits(3);
    assert_stderr_contains(&out, "run-3/arith.txt");
}

#[test]
fn missing_or_extra_benchmarks_are_input_errors_naming_them() {
    // A benchmark missing from every repeat of head (no manifest: a hand-made set).
    let d = tempdir();
    let (b, h) = bare_pair(d.path());
    remove_benchmark(&h, "attrs");
    let out = compare(&b, &h).exits(2);
    assert_stderr_contains(&out, "lacks benchmark(s) attrs");
    assert!(!stderr(&out).contains("REGRESSION"), "{}", dump(&out));
    // Reversed, the extra benchmark is now in head: still an error, never a PASS.
    let out = compare(&h, &b).exits(2);
    assert_stderr_contains(&out, "lacks benchmark(s) attrs");
    // Missing from one repeat only.
    let d2 = tempdir();
    let (b2, h2) = bare_pair(d2.path());
    std::fs::remove_file(h2.join("run-2/arith.txt")).unwrap();
    let out = compare(&b2, &h2).exits(2);
    assert_stderr_contains(&out, "repeat run-2 lacks benchmark(s) arith");
    // `check` of that one set does not pass either: its file-counts invariant fails.
    let out = cmd().arg("check").arg(&h2).exits(1);
    crate::util::assert_stdout_contains(&out, "[VIOLATED] file-counts");
    // A whole repeat missing.
    std::fs::remove_dir_all(h2.join("run-2")).unwrap();
    let out = compare(&b2, &h2).exits(2);
    assert_stderr_contains(&out, "has 2 repeat(s), the other side 3");
}

#[test]
fn allow_missing_benchmarks_compares_the_intersection_loudly_everywhere() {
    let d = tempdir();
    let (b, h) = bare_pair(d.path());
    remove_benchmark(&h, "attrs");
    let out_dir = d.path().join("reports");
    let out = compare(&b, &h)
        .arg("--allow-missing-benchmarks")
        .arg("--out-dir")
        .arg(&out_dir)
        .exits(0);
    crate::util::assert_stdout_contains(&out, "INCOMPLETE DATA");
    for f in [
        "report.md",
        "report.txt",
        "report.html",
        "junit.xml",
        "report.json",
    ] {
        let text = std::fs::read_to_string(out_dir.join(f)).unwrap();
        assert!(
            text.contains("INCOMPLETE DATA") && text.contains("attrs"),
            "{f} does not say the data was incomplete"
        );
    }
    let json = crate::util::read_json(&out_dir.join("report.json"));
    assert!(!json["missing_data"].as_array().unwrap().is_empty());
    // The intersection still gates: a regression in the shared benchmark is never a pass.
    // These bare sets carry no seeds (unpaired) and no noise file certifies the constant
    // counters, so the exact permutation test decides, and at 3 + 3 repeats it cannot reach
    // alpha: INCONCLUSIVE naming the rule (exit 0), a failure under --strict.
    plant_regression(&h);
    let out = compare(&b, &h).arg("--allow-missing-benchmarks").exits(0);
    crate::util::assert_stdout_contains(&out, "not certified deterministic");
    compare(&b, &h)
        .args(["--allow-missing-benchmarks", "--strict"])
        .exits(1);
}

#[test]
fn sets_without_pystats_data_are_rejected() {
    let d = tempdir();
    let (b, _) = aa_pair(d.path());
    let blank = d.path().join("blank");
    std::fs::create_dir_all(blank.join("run-1")).unwrap();
    std::fs::write(blank.join("run-1/arith.txt"), "\n\n   \n").unwrap();
    let out = compare(&b, &blank).exits(2);
    assert_stderr_contains(&out, "holds no pystats counters");
    assert_stderr_contains(&out, "arith.txt");
    cmd().arg("check").arg(&blank).exits(2);
    cmd().arg("summarize").arg(&blank).exits(2);
    let json = d.path().join("empty.json");
    std::fs::write(&json, "{}").unwrap();
    let out = compare(&json, &json).exits(2);
    assert_stderr_contains(&out, "empty.json");
    cmd().arg("check").arg(&json).exits(2);
    cmd().arg("summarize").arg(&json).exits(2);
}

#[test]
fn rules_that_check_nothing_are_errors() {
    let d = tempdir();
    let (b, h) = aa_pair(d.path());
    plant_regression(&h);
    let cases = [
        ("empty.toml", ""),
        ("comments.toml", "# nothing here\n\n# at all\n"),
        ("include-none.toml", "include = []\n"),
    ];
    for (name, text) in cases {
        let p = d.path().join(name);
        std::fs::write(&p, text).unwrap();
        let out = compare(&b, &h).arg("--rules").arg(&p).exits(2);
        assert_stderr_contains(&out, name);
        assert_stderr_contains(&out, "declares no rule");
    }
    // One rule each: (limits and benchmarks, the error expected).
    let bad_rules = [
        // A typo in `benchmarks` is as much an error as a typo in `metric`.
        (
            "max_increase = 0.01\nbenchmarks = [\"arihtm\"]",
            "typo.toml:2: rule[0].benchmarks[0]",
        ),
        // Contradictory limits.
        (
            "min = 0.5\nmax = 0.1",
            "rule[0].min: 0.5 is greater than rule[0].max",
        ),
        // A non-finite limit bounds nothing.
        (
            "max_increase = nan",
            "rule[0].max_increase: expected a number",
        ),
    ];
    let p = d.path().join("typo.toml");
    for (limits, expected) in bad_rules {
        std::fs::write(
            &p,
            format!("[[rule]]\nname = \"r\"\nmetric = \"family.*.miss_ratio\"\n{limits}\n"),
        )
        .unwrap();
        let out = compare(&b, &h).arg("--rules").arg(&p).exits(2);
        assert_stderr_contains(&out, expected);
    }
}

#[test]
fn merge_never_deletes_a_users_directory() {
    let d = tempdir();
    let out = d.path().join("mine");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("notes.md"), "precious").unwrap();
    // Shards made from the fixture: a 1/1 shard is a whole run.
    let shard = d.path().join("shard");
    copy_dir(&fixture("real-3.13.5/aa-base"), &shard);
    edit_manifest(&shard, |m| {
        m["shard"] = serde_json::json!("1/1");
        m["benchmarks"] = serde_json::json!(["arith", "attrs"]);
        m["total_repeats"] = serde_json::json!(3);
    });
    let res = cmd()
        .arg("merge")
        .arg(&shard)
        .arg("--out")
        .arg(&out)
        .exits(2);
    assert_stderr_contains(&res, "refusing to replace");
    assert_eq!(
        std::fs::read_to_string(out.join("notes.md")).unwrap(),
        "precious"
    );
    // Into a new directory it works, and a rerun may replace what it wrote itself.
    let fresh = d.path().join("merged");
    cmd()
        .arg("merge")
        .arg(&shard)
        .arg("--out")
        .arg(&fresh)
        .exits(0);
    cmd()
        .arg("merge")
        .arg(&shard)
        .arg("--out")
        .arg(&fresh)
        .exits(0);
    // ... but not once the user has put a file of their own there.
    std::fs::write(fresh.join("mine.md"), "x").unwrap();
    cmd()
        .arg("merge")
        .arg(&shard)
        .arg("--out")
        .arg(&fresh)
        .exits(2);
    assert!(fresh.join("mine.md").is_file());
    // Never into an input.
    cmd()
        .arg("merge")
        .arg(&shard)
        .arg("--out")
        .arg(shard.join("run-1"))
        .exits(2);
}

#[test]
fn merge_of_a_shard_with_a_crash_exits_3_and_compare_of_the_result_too() {
    let d = tempdir();
    let shard = d.path().join("shard");
    copy_dir(&fixture("real-3.13.5/aa-head"), &shard);
    edit_manifest(&shard, |m| {
        m["shard"] = serde_json::json!("1/1");
        m["benchmarks"] = serde_json::json!(["arith", "attrs"]);
        m["total_repeats"] = serde_json::json!(3);
    });
    record_crash(&shard, "run-1", "arith");
    let merged = d.path().join("merged");
    cmd()
        .arg("merge")
        .arg(&shard)
        .arg("--out")
        .arg(&merged)
        .exits(3);
    compare(&fixture("real-3.13.5/aa-base"), &merged).exits(3);
}

#[test]
fn compare_refuses_to_write_into_its_inputs_or_foreign_dirs() {
    let d = tempdir();
    let (b, h) = aa_pair(d.path());
    compare(&b, &h).arg("-o").arg(h.join("report.txt")).exits(2);
    assert!(!h.join("report.txt").exists());
    compare(&b, &h).arg("--out-dir").arg(&b).exits(2);
    let foreign = d.path().join("foreign");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("keep.txt"), "keep").unwrap();
    compare(&b, &h).arg("--out-dir").arg(&foreign).exits(2);
    assert_eq!(
        std::fs::read_to_string(foreign.join("keep.txt")).unwrap(),
        "keep"
    );
}

/// Runs `args` with stdout connected to a pipe whose reader is already gone.
fn with_closed_stdout(args: &[&std::ffi::OsStr]) -> Output {
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let bin = assert_cmd::cargo::cargo_bin("pystats-gate");
    std::process::Command::new(bin)
        .args(args)
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap()
}

#[test]
fn a_closed_stdout_pipe_is_quiet_and_keeps_the_exit_code() {
    let d = tempdir();
    let (b, h) = aa_pair(d.path());
    let history = d.path().join("h.jsonl");
    let result = d.path().join("r.json");
    let out = compare(&b, &h)
        .arg("--format")
        .arg("json")
        .arg("-o")
        .arg(&result)
        .exits(0);
    let _ = out;
    history_append(&result, &history);
    let cases: Vec<(Vec<&std::ffi::OsStr>, i32)> = vec![
        (vec!["metrics".as_ref(), b.as_os_str()], 0),
        (vec!["check".as_ref(), b.as_os_str()], 0),
        (vec!["corpus".as_ref(), "--list".as_ref()], 0),
        (vec!["summarize".as_ref(), b.as_os_str()], 0),
        (
            vec![
                "history".as_ref(),
                "show".as_ref(),
                "--file".as_ref(),
                history.as_os_str(),
            ],
            0,
        ),
        (vec!["compare".as_ref(), b.as_os_str(), h.as_os_str()], 0),
    ];
    for (args, code) in &cases {
        let out = with_closed_stdout(args);
        assert_eq!(out.status.code(), Some(*code), "{args:?}\n{}", dump(&out));
        assert!(
            !stderr(&out).contains("panicked"),
            "{args:?}\n{}",
            dump(&out)
        );
    }
    // The verdict's exit 1 survives `| head -1`.
    plant_regression(&h);
    for format in ["json", "markdown", "text"] {
        let out = with_closed_stdout(&[
            "compare".as_ref(),
            b.as_os_str(),
            h.as_os_str(),
            "--format".as_ref(),
            format.as_ref(),
        ]);
        assert_eq!(out.status.code(), Some(1), "{format}\n{}", dump(&out));
    }
}

#[test]
fn a_full_disk_is_a_clear_error_not_a_silent_success() {
    if !Path::new("/dev/full").exists() {
        panic!("/dev/full is missing: this Linux test needs it");
    }
    let b = fixture("real-3.13.5/aa-base");
    for args in [vec!["summarize"], vec!["metrics"], vec!["check"]] {
        let full = std::fs::OpenOptions::new()
            .write(true)
            .open("/dev/full")
            .unwrap();
        let out = std_cmd().args(&args).arg(&b).stdout(full).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}\n{}", dump(&out));
        assert!(
            stderr(&out).contains("No space left"),
            "{args:?}\n{}",
            dump(&out)
        );
    }
    let out = cmd()
        .arg("summarize")
        .arg(&b)
        .arg("-o")
        .arg("/dev/full")
        .exits(2);
    assert_stderr_contains(&out, "/dev/full");
}

pub(crate) fn write_corpus(dir: &Path, toml: &str) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("corpus.toml"), toml).unwrap();
    std::fs::write(dir.join("driver.py"), "").unwrap();
    std::fs::write(dir.join("a.py"), "def workload():\n    pass\n").unwrap();
}

#[test]
fn corpus_files_with_absurd_values_are_input_errors() {
    let d = tempdir();
    let c = d.path().join("c");
    write_corpus(
        &c,
        "[[bench]]\nname = \"a\"\nfile = \"a.py\"\ntimeout = 1e20\n",
    );
    let out = cmd()
        .args(["corpus", "--list", "--corpus"])
        .arg(&c)
        .exits(2);
    assert_stderr_contains(&out, "corpus.toml:2: bench[0].timeout");
    for bad in [".hidden", "..", "-x", "a/b"] {
        write_corpus(
            &c,
            &format!("[[bench]]\nname = \"{bad}\"\nfile = \"a.py\"\ntimeout = 5\n"),
        );
        let out = cmd()
            .args(["corpus", "--list", "--corpus"])
            .arg(&c)
            .exits(2);
        assert_stderr_contains(&out, "bench[0].name");
    }
    // A relative corpus path is taken relative to the current directory, once.
    write_corpus(
        &c,
        "[[bench]]\nname = \"a\"\nfile = \"a.py\"\ntimeout = 5\n",
    );
    let out = cmd()
        .current_dir(d.path())
        .args(["corpus", "--list", "--corpus", "c"])
        .exits(0);
    crate::util::assert_stdout_contains(&out, &c.canonicalize().unwrap().display().to_string());
}

#[test]
fn hidden_stray_and_special_files_in_a_set_are_named() {
    let d = tempdir();
    let (b, h) = aa_pair(d.path());
    let hidden = h.join("run-1/.hidden.txt");
    std::fs::write(&hidden, "opcode[NOP].execution_count : 1\n").unwrap();
    let out = compare(&b, &h).exits(2);
    assert_stderr_contains(&out, ".hidden.txt");
    std::fs::remove_file(&hidden).unwrap();
    std::fs::write(h.join("run-1/notes.log"), "x").unwrap();
    let out = compare(&b, &h).exits(2);
    assert_stderr_contains(&out, "notes.log");
    std::fs::remove_file(h.join("run-1/notes.log")).unwrap();
    // A FIFO named like a dump would block a reader forever.
    let fifo = h.join("run-1/pipe.txt");
    let st = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(st.success());
    let out = compare(&b, &h).exits(2);
    assert_stderr_contains(&out, "pipe.txt: not a regular file");
    std::fs::remove_file(&fifo).unwrap();
    // A dump on disk that the manifest does not list.
    std::fs::copy(h.join("run-1/arith.txt"), h.join("run-1/extra.txt")).unwrap();
    let out = compare(&b, &h).exits(2);
    assert_stderr_contains(&out, "extra.txt: not listed in");
}

#[test]
fn unknown_manifest_schema_versions_are_rejected() {
    let d = tempdir();
    let (b, h) = aa_pair(d.path());
    edit_manifest(&h, |m| m["schema_version"] = serde_json::json!(99));
    let out = compare(&b, &h).exits(2);
    assert_stderr_contains(&out, "schema_version 99 is not supported");
    assert_stderr_contains(&out, "manifest.json");
}

#[test]
fn huge_malformed_lines_are_quoted_briefly() {
    let d = tempdir();
    let set = d.path().join("s");
    std::fs::create_dir(&set).unwrap();
    let mut text = "x".repeat(10 << 20);
    text.push('\n');
    std::fs::write(set.join("a.txt"), text).unwrap();
    for sub in ["summarize", "metrics", "check"] {
        let out = cmd().arg(sub).arg(&set).exits(2);
        let err = stderr(&out);
        assert!(err.len() < 1000, "{sub}: {} bytes of error", err.len());
        assert!(err.contains("a.txt:1"), "{sub}: {err}");
    }
    // The same for a huge value and a huge key.
    std::fs::write(set.join("a.txt"), format!("k : {}\n", "9".repeat(1 << 20))).unwrap();
    let out = cmd().arg("metrics").arg(&set).exits(2);
    assert!(stderr(&out).len() < 1000);
    std::fs::write(set.join("a.txt"), format!("{} : x\n", "k".repeat(1 << 20))).unwrap();
    let out = cmd().arg("metrics").arg(&set).exits(2);
    assert!(stderr(&out).len() < 1000);
}

/// Damage done to a copy of the fixture pair by the property test.
#[derive(Clone, Debug)]
enum Damage {
    /// Sets a counter of one dump to a value (near 2^64 or anywhere).
    SetValue {
        side: usize,
        repeat: usize,
        bench: usize,
        line: usize,
        value: u64,
    },
    /// Deletes one line of one dump.
    DeleteLine {
        side: usize,
        repeat: usize,
        bench: usize,
        line: usize,
    },
    /// Duplicates one line of one dump.
    DuplicateLine {
        side: usize,
        repeat: usize,
        bench: usize,
        line: usize,
    },
    /// Deletes a dump file (without recording a failure).
    DeleteFile {
        side: usize,
        repeat: usize,
        bench: usize,
    },
    /// Records a crash in the manifest (and deletes the dump).
    RecordCrash {
        side: usize,
        repeat: usize,
        bench: usize,
    },
    /// Deletes a whole repeat directory.
    DeleteRepeat { side: usize, repeat: usize },
    /// Rewrites opcode names of one dump as 3.12-style numbers.
    NumericOpcodes {
        side: usize,
        repeat: usize,
        bench: usize,
    },
    /// Head becomes base's files by another path: a symlink, or a `cp -al` hard-link copy.
    SameInput { hard_links: bool },
    /// A hidden directory holding a dump: at a set's root (named like the output marker)
    /// or inside a repeat.
    HiddenDir { side: usize, repeat: Option<usize> },
    /// A stray entry: in a repeat a `.bak` copy of a dump, a dump without `.txt`, a
    /// directory named like a benchmark; or a repeat renamed `run-0K`, `run-+K`, `zzz`.
    Stray {
        side: usize,
        repeat: usize,
        kind: usize,
    },
    /// Every dump of both sides keeps only its static `specializable` lines, or only a
    /// made-up key: no executed-instruction counter anywhere.
    CounterLess { made_up: bool },
    /// `compare` gets a rules file adding a rule skipped everywhere (`min_count = 1e300`).
    SkippedRule,
    /// A glob of 100 kB (`long`) or of 200 classes: in a rule's `metric` (0) or
    /// `benchmarks` (1), in `compare --accept` (2), in `metrics --filter` (3).
    HugeGlob { at: usize, long: bool },
    /// `compare` gets a noise file holding `threshold = nan`.
    NanNoise,
    /// Both sides become summarize_stats JSONs without an opcode key.
    CounterLessJson,
}

/// What damage means for the oracle.
#[derive(Default)]
struct Effect {
    /// Data is missing (a dump or repeat gone).
    missing: bool,
    /// A failure is recorded in a manifest.
    failed: bool,
    /// Something nothing may pass over: same input, hidden or stray entries, counter-less
    /// dumps, a rule skipped everywhere. `compare` must never exit 0.
    never_pass: bool,
    /// Hidden or stray entries, same input: a pair `check` must not exit 0 either.
    check_refuses: bool,
    /// Hidden or stray entries in head: `merge` of head as a shard must not exit 0.
    head_stray: bool,
    /// Hidden or stray entries in base or head: every reader of that set refuses it.
    stray_in: [bool; 2],
    /// `compare` runs with the rules file that adds a rule skipped everywhere.
    skipped_rule: bool,
    /// Where a huge glob goes ([`Damage::HugeGlob`]) and which.
    huge_glob: Option<(usize, bool)>,
    /// `compare` runs with a noise file holding `threshold = nan`.
    nan_noise: bool,
    /// `compare` runs on two summarize_stats JSONs without opcode keys too.
    json_sides: bool,
}

fn damage() -> impl Strategy<Value = Damage> {
    let loc = (0usize..2, 0usize..3, 0usize..2);
    let value = prop_oneof![
        Just(u64::MAX),
        Just(u64::MAX - 1),
        Just(1u64 << 63),
        Just(0u64),
        any::<u64>()
    ];
    prop_oneof![
        (loc.clone(), 0usize..4000, value).prop_map(|((side, repeat, bench), line, value)| {
            Damage::SetValue {
                side,
                repeat,
                bench,
                line,
                value,
            }
        }),
        (loc.clone(), 0usize..4000).prop_map(|((side, repeat, bench), line)| Damage::DeleteLine {
            side,
            repeat,
            bench,
            line
        }),
        (loc.clone(), 0usize..4000).prop_map(|((side, repeat, bench), line)| {
            Damage::DuplicateLine {
                side,
                repeat,
                bench,
                line,
            }
        }),
        loc.clone()
            .prop_map(|(side, repeat, bench)| Damage::DeleteFile {
                side,
                repeat,
                bench
            }),
        loc.clone()
            .prop_map(|(side, repeat, bench)| Damage::RecordCrash {
                side,
                repeat,
                bench
            }),
        (0usize..2, 0usize..3).prop_map(|(side, repeat)| Damage::DeleteRepeat { side, repeat }),
        loc.prop_map(|(side, repeat, bench)| Damage::NumericOpcodes {
            side,
            repeat,
            bench
        }),
        any::<bool>().prop_map(|hard_links| Damage::SameInput { hard_links }),
        (0usize..2, proptest::option::of(0usize..3))
            .prop_map(|(side, repeat)| Damage::HiddenDir { side, repeat }),
        (0usize..2, 0usize..3, 0usize..6).prop_map(|(side, repeat, kind)| Damage::Stray {
            side,
            repeat,
            kind
        }),
        any::<bool>().prop_map(|made_up| Damage::CounterLess { made_up }),
        Just(Damage::SkippedRule),
        (0usize..4, any::<bool>()).prop_map(|(at, long)| Damage::HugeGlob { at, long }),
        Just(Damage::NanNoise),
        Just(Damage::CounterLessJson),
    ]
}

/// Replaces head by base's files through another path (damage [`Damage::SameInput`]).
fn make_same_input(base: &Path, head: &Path, hard_links: bool) {
    if std::fs::symlink_metadata(head).is_ok_and(|m| m.file_type().is_symlink()) {
        return;
    }
    std::fs::remove_dir_all(head).unwrap();
    if hard_links {
        let st = std::process::Command::new("cp")
            .arg("-al")
            .arg(base)
            .arg(head)
            .status()
            .unwrap();
        assert!(st.success());
    } else {
        std::os::unix::fs::symlink(base, head).unwrap();
    }
}

/// Puts a stray entry into repeat `repeat` of `set` (damage [`Damage::Stray`]); false when
/// the repeat is gone.
fn make_stray(set: &Path, repeat: usize, kind: usize) -> bool {
    let r = set.join(format!("run-{}", repeat + 1));
    if !r.is_dir() {
        return false;
    }
    let dump = std::fs::read_dir(&r)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "txt"));
    let renamed = |name: String| std::fs::rename(&r, set.join(name)).unwrap();
    match (kind, dump) {
        (0, Some(d)) => drop(std::fs::copy(&d, d.with_extension("bak")).unwrap()),
        (1, Some(d)) => drop(std::fs::copy(&d, d.with_extension("")).unwrap()),
        (2, _) => std::fs::create_dir_all(r.join("arith.d")).unwrap(),
        (3, _) => renamed(format!("run-0{}", repeat + 1)),
        (4, _) => renamed(format!("run-+{}", repeat + 1)),
        (_, _) => renamed("zzz".into()),
    }
    true
}

/// Applies one damage; what it means for the verdict.
fn apply(d: &Damage, sets: [&Path; 2]) -> Effect {
    let (missing, failed) = match apply_old(d, sets) {
        Some(e) => e,
        None => return apply_new(d, sets),
    };
    Effect {
        missing,
        failed,
        ..Effect::default()
    }
}

/// The damages that remove data or record failures: (data is missing, a failure is
/// recorded); None for the damages of [`apply_new`].
fn apply_old(d: &Damage, sets: [&Path; 2]) -> Option<(bool, bool)> {
    let benches = ["arith", "attrs"];
    let file = |side: usize, repeat: usize, bench: usize| {
        sets[side]
            .join(format!("run-{}", repeat + 1))
            .join(format!("{}.txt", benches[bench]))
    };
    let edit_lines = |p: &Path, f: &mut dyn FnMut(&mut Vec<String>)| {
        let Ok(text) = std::fs::read_to_string(p) else {
            return;
        };
        let mut lines: Vec<String> = text.lines().map(String::from).collect();
        f(&mut lines);
        std::fs::write(p, lines.join("\n") + "\n").unwrap();
    };
    match *d {
        Damage::SetValue {
            side,
            repeat,
            bench,
            line,
            value,
        } => {
            edit_lines(&file(side, repeat, bench), &mut |l| {
                let i = line % l.len();
                if let Some((k, _)) = l[i].split_once(':') {
                    l[i] = format!("{}: {value}", k);
                }
            });
            Some((false, false))
        }
        Damage::DeleteLine {
            side,
            repeat,
            bench,
            line,
        } => {
            edit_lines(&file(side, repeat, bench), &mut |l| {
                let i = line % l.len();
                l.remove(i);
            });
            Some((false, false))
        }
        Damage::DuplicateLine {
            side,
            repeat,
            bench,
            line,
        } => {
            edit_lines(&file(side, repeat, bench), &mut |l| {
                let i = line % l.len();
                let dup = l[i].clone();
                l.insert(i, dup);
            });
            Some((false, false))
        }
        Damage::DeleteFile {
            side,
            repeat,
            bench,
        } => {
            let _ = std::fs::remove_file(file(side, repeat, bench));
            Some((true, false))
        }
        Damage::RecordCrash {
            side,
            repeat,
            bench,
        } => {
            // A dump already deleted (by an earlier damage) cannot be recorded as crashed:
            // then only missing data is expected, not exit 3.
            let p = file(side, repeat, bench);
            let recorded = p.is_file();
            if recorded {
                record_crash(sets[side], &format!("run-{}", repeat + 1), benches[bench]);
            }
            Some((true, recorded))
        }
        Damage::DeleteRepeat { side, repeat } => {
            let _ = std::fs::remove_dir_all(sets[side].join(format!("run-{}", repeat + 1)));
            Some((true, false))
        }
        Damage::NumericOpcodes {
            side,
            repeat,
            bench,
        } => {
            edit_lines(&file(side, repeat, bench), &mut |l| {
                if let Some(x) = l.iter_mut().find(|x| x.starts_with("opcode[BINARY_OP]")) {
                    *x = x.replacen("opcode[BINARY_OP]", "opcode[45]", 1);
                }
            });
            Some((false, false))
        }
        _ => None,
    }
}

/// The damages of the "false PASS" classes: same input, hidden and stray entries,
/// counter-less dumps, a rule skipped everywhere.
fn apply_new(d: &Damage, sets: [&Path; 2]) -> Effect {
    let mut e = Effect::default();
    match *d {
        Damage::SameInput { hard_links } => {
            make_same_input(sets[0], sets[1], hard_links);
            (e.never_pass, e.check_refuses) = (true, true);
        }
        Damage::HiddenDir { side, repeat } => {
            let dir = match repeat {
                Some(r) => sets[side].join(format!("run-{}", r + 1)).join(".hidden"),
                None => sets[side].join(".pystats-gate-output"),
            };
            if dir.parent().is_some_and(Path::is_dir) {
                std::fs::create_dir_all(&dir).unwrap();
                std::fs::write(dir.join("arith.txt"), "opcode[NOP].execution_count : 1\n").unwrap();
                e.stray_in[side] = true;
            }
        }
        Damage::Stray { side, repeat, kind } => {
            e.stray_in[side] = make_stray(sets[side], repeat, kind);
        }
        Damage::CounterLess { made_up } => {
            for set in sets {
                for r in 1..=3 {
                    for bench in ["arith", "attrs"] {
                        let p = set.join(format!("run-{r}")).join(format!("{bench}.txt"));
                        let Ok(text) = std::fs::read_to_string(&p) else {
                            continue;
                        };
                        let kept: String = text
                            .lines()
                            .filter(|l| !made_up && l.contains(".specializable"))
                            .map(|l| format!("{l}\n"))
                            .collect();
                        let kept = if kept.is_empty() {
                            "hello world : 1\n".into()
                        } else {
                            kept
                        };
                        std::fs::write(&p, kept).unwrap();
                    }
                }
            }
            e.never_pass = true;
        }
        Damage::SkippedRule => {
            (e.never_pass, e.skipped_rule) = (true, true);
        }
        Damage::HugeGlob { at, long } => {
            // In `metrics --filter` it concerns `metrics` only (checked below).
            (e.never_pass, e.huge_glob) = (at < 3, Some((at, long)));
        }
        Damage::NanNoise => (e.never_pass, e.nan_noise) = (true, true),
        Damage::CounterLessJson => e.json_sides = true,
        _ => unreachable!("apply_old handles {d:?}"),
    }
    if e.stray_in.iter().any(|x| *x) {
        (e.never_pass, e.check_refuses) = (true, true);
    }
    e.head_stray = e.stray_in[1];
    e
}

impl Effect {
    /// Adds what damage `dmg` (with effect `x`) means to what earlier damages meant.
    fn absorb(&mut self, x: Effect, dmg: &Damage) {
        self.missing |= x.missing;
        self.failed |= x.failed;
        self.never_pass |= x.never_pass;
        self.check_refuses |= x.check_refuses || matches!(dmg, Damage::CounterLess { .. });
        self.head_stray |= x.head_stray;
        self.stray_in = [
            self.stray_in[0] | x.stray_in[0],
            self.stray_in[1] | x.stray_in[1],
        ];
        self.skipped_rule |= x.skipped_rule;
        self.huge_glob = self.huge_glob.or(x.huge_glob);
        self.nan_noise |= x.nan_noise;
        self.json_sides |= x.json_sides;
    }
}

/// The glob of [`Damage::HugeGlob`]: 100 kB of one letter, or 200 negated classes.
fn huge_glob(long: bool) -> String {
    if long {
        "x".repeat(100_000)
    } else {
        "[!a]".repeat(200)
    }
}

/// The options `compare` gets for the damages that act through its inputs: a rules file
/// (a rule skipped everywhere, a huge glob), `--accept` with a huge glob, a noise file
/// holding `threshold = nan`. Files are written into `dir`.
fn compare_extras(e: &Effect, dir: &Path) -> Vec<std::ffi::OsString> {
    let mut rules = String::from("include = [\"default.toml\"]\n");
    if e.skipped_rule {
        rules += "[[rule]]\nname = \"never\"\nmetric = \"family.*.miss_ratio\"\nmax_increase = 0.01\nmin_count = 1e300\n";
    }
    let mut args: Vec<std::ffi::OsString> = vec![];
    match e.huge_glob {
        Some((0, long)) => rules += &format!("[[rule]]\nname = \"huge\"\nmetric = \"{}\"\nmax_increase = 1\n", huge_glob(long)),
        Some((1, long)) => rules += &format!("[[rule]]\nname = \"huge\"\nmetric = \"family.*\"\nbenchmarks = [\"{}\"]\nmax_increase = 1\n", huge_glob(long)),
        Some((2, long)) => args.extend(["--accept".into(), format!("r:{} because x", huge_glob(long)).into()]),
        _ => {}
    }
    if e.skipped_rule || matches!(e.huge_glob, Some((0 | 1, _))) {
        let p = dir.join("rules.toml");
        std::fs::write(&p, rules).unwrap();
        // A rule skipped everywhere leaves at best INCONCLUSIVE: exit 1 under --strict.
        args.extend(["--rules".into(), p.into_os_string(), "--strict".into()]);
    }
    if e.nan_noise {
        let p = dir.join("nan-noise.toml");
        std::fs::write(&p, "schema_version = 1\ntool_version = \"x\"\nmethod = \"x\"\nsources = []\nrepeats = 3\n[metrics.\"opcode.BINARY_OP.execution_count\"]\nthreshold = nan\nmax = 1.0\npairs = 3\n").unwrap();
        args.extend(["--noise".into(), p.into_os_string()]);
    }
    args
}

/// `--filter` with a huge glob for `metrics` ([`Damage::HugeGlob`] at 3), else nothing.
fn metrics_filter(e: &Effect) -> Vec<String> {
    match e.huge_glob {
        Some((3, long)) => vec!["--filter".into(), huge_glob(long)],
        _ => vec![],
    }
}

/// `compare` of two summarize_stats JSONs holding no opcode key ([`Damage::CounterLessJson`]),
/// or of two ordinary ones (the fixture's) when that damage is absent.
fn json_sides_compare(e: &Effect, dir: &Path) -> Output {
    let (j1, j2) = (dir.join("a.json"), dir.join("b.json"));
    if e.json_sides {
        std::fs::write(&j1, "{\"hello world\": 1, \"Object allocations\": 5}").unwrap();
        std::fs::write(&j2, "{\"hello world\": 2, \"Object allocations\": 5}").unwrap();
    } else {
        std::fs::write(&j1, "{\"opcode[NOP].execution_count\": 5}").unwrap();
        std::fs::write(&j2, "{\"opcode[NOP].execution_count\": 5}").unwrap();
    }
    cmd().arg("compare").arg(&j1).arg(&j2).output().unwrap()
}

/// The oracle of the damaged-sets property: which of `runs` (named) must not exit 0, or
/// must exit 3, after `damages` with effect `e`.
fn expect_no_pass(
    e: &Effect,
    runs: &[(&str, Output)],
    damages: &[Damage],
) -> Result<(), TestCaseError> {
    let never_zero = |name: &str| -> Result<(), TestCaseError> {
        let out = &runs.iter().find(|(n, _)| *n == name).unwrap().1;
        prop_assert_ne!(
            out.status.code(),
            Some(0),
            "{}: {:?}\n{}",
            name,
            damages,
            dump(out)
        );
        Ok(())
    };
    // A bad option of compare's (a huge glob, a `nan` noise file) may be refused before
    // the sets are read: exit 2 then, never 0.
    let bad_option = e.nan_noise || matches!(e.huge_glob, Some((0..=2, _)));
    if e.failed {
        for (name, out) in &runs[..3] {
            let refused_first =
                bad_option && name.starts_with("compare") && out.status.code() == Some(2);
            prop_assert!(
                refused_first || out.status.code() == Some(3),
                "{}: {:?}\n{}",
                name,
                damages,
                dump(out)
            );
        }
    } else if e.missing {
        never_zero("compare")?;
        never_zero("check")?;
    }
    if e.never_pass {
        never_zero("compare")?;
        never_zero("compare --allow-missing")?;
    }
    if e.check_refuses {
        never_zero("check")?;
    }
    if e.stray_in[0] || e.stray_in[1] {
        never_zero("summarize")?;
    }
    if e.stray_in[1] {
        never_zero("metrics")?;
    }
    if e.head_stray {
        never_zero("merge")?;
    }
    if e.json_sides {
        never_zero("compare json")?;
    }
    if matches!(e.huge_glob, Some((3, _))) {
        never_zero("metrics")?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: crate::util::proptest_cases(48), failure_persistence: None, ..ProptestConfig::default() })]
    /// Every read-only command on randomly damaged real sets: no panic, a documented exit
    /// code, never 0 when data is missing or a failure is recorded, nor when nothing was
    /// checked (same input, hidden or stray entries, counter-less dumps or JSONs on both
    /// sides, a rule skipped everywhere, a huge glob, a `nan` noise threshold), and every
    /// error names a file, a line, a key or the option.
    #[test]
    fn damaged_sets_never_pass_and_never_panic(damages in proptest::collection::vec(damage(), 1..4)) {
        let d = tempdir();
        let (b, h) = aa_pair(d.path());
        // Head becomes base first, so later damages land on the shared files too.
        let mut damages = damages;
        damages.sort_by_key(|x| !matches!(x, Damage::SameInput { .. }));
        let mut e = Effect::default();
        for dmg in &damages {
            e.absorb(apply(dmg, [&b, &h]), dmg);
        }
        let extras = compare_extras(&e, d.path());
        let with_rules = |mut c: assert_cmd::Command| {
            c.args(&extras);
            c
        };
        // Head as shard 1/1 of its run, for `merge`.
        let shard = d.path().join("shard");
        copy_dir(&h, &shard);
        if shard.join("manifest.json").is_file() {
            edit_manifest(&shard, |m| {
                m["shard"] = serde_json::json!("1/1");
                m["benchmarks"] = serde_json::json!(["arith", "attrs"]);
                m["total_repeats"] = serde_json::json!(3);
            });
        }
        let runs: Vec<(&str, Output)> = vec![
            ("compare", with_rules(compare(&b, &h)).output().unwrap()),
            ("compare --allow-missing", with_rules(compare(&b, &h)).arg("--allow-missing-benchmarks").output().unwrap()),
            ("check", cmd().arg("check").arg(&b).arg(&h).output().unwrap()),
            ("metrics", cmd().arg("metrics").arg(&h).args(metrics_filter(&e)).output().unwrap()),
            ("summarize", cmd().arg("summarize").arg(&b).arg(&h).output().unwrap()),
            ("merge", cmd().arg("merge").arg(&shard).arg("--out").arg(d.path().join("merged")).output().unwrap()),
            ("compare json", json_sides_compare(&e, d.path())),
        ];
        for (name, out) in &runs {
            let code = out.status.code();
            prop_assert!(matches!(code, Some(0..=3)), "{name}: {damages:?}\n{}", dump(out));
            prop_assert!(!stderr(out).contains("panicked"), "{name}: {}", dump(out));
            // (Under --strict, failed consistency checks exit 2 with the report on stdout
            // and its ERROR verdict: no error message to check.)
            if (code == Some(2) || code == Some(3)) && out.stdout.is_empty() {
                let err = stderr(out);
                prop_assert!(
                    err.contains(".txt") || err.contains("manifest.json") || err.contains(b.to_str().unwrap())
                        || err.contains(h.to_str().unwrap()) || err.contains("repeat")
                        || err.contains(".toml") || err.contains(shard.to_str().unwrap())
                        || err.contains(".json")
                        || (e.huge_glob.is_some() && (err.contains("--accept") || err.contains("--filter"))),
                    "{name}: error names no file: {err}"
                );
            }
        }
        expect_no_pass(&e, &runs, &damages)?;
    }
}

/// Where the output property test aims a writer's output.
#[derive(Clone, Copy, Debug)]
enum Aim {
    /// A hard link to one of the head set's dumps (0..6), outside the set.
    HardLinkToDump(usize),
    /// A symlink to one of the head set's dumps.
    SymlinkToDump(usize),
    /// The rules file the command reads.
    Rules,
    /// A hard link to the rules file.
    HardLinkToRules,
    /// A file of the user's.
    UserFile,
    /// A symlink to a file of the user's.
    SymlinkToUserFile,
    /// A marked report directory whose `report.md` is a symlink to a dump (`--out-dir`).
    MarkedDirLinkedToDump(usize),
    /// A directory whose marker is a symlink (`--out-dir`).
    SymlinkedMarker,
    /// A hard link to the history file `history show|noise` read.
    HardLinkToHistory,
}

fn aim() -> impl Strategy<Value = Aim> {
    prop_oneof![
        (0usize..6).prop_map(Aim::HardLinkToDump),
        (0usize..6).prop_map(Aim::SymlinkToDump),
        Just(Aim::Rules),
        Just(Aim::HardLinkToRules),
        Just(Aim::UserFile),
        Just(Aim::SymlinkToUserFile),
        (0usize..6).prop_map(Aim::MarkedDirLinkedToDump),
        Just(Aim::SymlinkedMarker),
        Just(Aim::HardLinkToHistory),
    ]
}

/// The `k`th dump of `set` (sorted: 3 repeats x 2 benchmarks).
fn nth_dump(set: &Path, k: usize) -> PathBuf {
    let mut all = vec![];
    for r in ["run-1", "run-2", "run-3"] {
        for b in ["arith", "attrs"] {
            all.push(set.join(r).join(format!("{b}.txt")));
        }
    }
    all[k % all.len()].clone()
}

/// A history of three results of `compare base head` (enough for `history noise`), in `dir`.
fn history_of(base: &Path, head: &Path, dir: &Path) -> PathBuf {
    let (result, history) = (dir.join("result.json"), dir.join("history.jsonl"));
    cmd()
        .arg("compare")
        .arg(base)
        .arg(head)
        .args(["--format", "json", "-o"])
        .arg(&result)
        .exits(0);
    for _ in 0..3 {
        history_append(&result, &history);
    }
    history
}

proptest! {
    #![proptest_config(ProptestConfig { cases: crate::util::proptest_cases(24), failure_persistence: None, ..ProptestConfig::default() })]
    /// Every writer (compare -o / --out-dir, summarize -o, calibrate -o, history show|noise
    /// -o) aimed at an input
    /// under another name, at a user's file or through a symlink: no input and no file of
    /// the user's ever changes; a refusal is exit 2 naming the path; only `--force` replaces
    /// a user's file, and a symlink is replaced, never written through.
    #[test]
    fn outputs_aimed_at_inputs_or_user_files_never_write_them(aim in aim(), writer in 0usize..6, force in any::<bool>()) {
        let d = tempdir();
        let (b, h) = aa_pair(d.path());
        let rules = d.path().join("rules.toml");
        std::fs::write(&rules, "include = [\"default.toml\"]\n").unwrap();
        let history = history_of(&b, &h, d.path());
        let user = d.path().join("user.txt");
        std::fs::write(&user, "the user's").unwrap();
        let target = d.path().join("target");
        let is_input = match aim {
            Aim::HardLinkToDump(k) => { std::fs::hard_link(nth_dump(&h, k), &target).unwrap(); true }
            Aim::SymlinkToDump(k) => { std::os::unix::fs::symlink(nth_dump(&h, k), &target).unwrap(); true }
            Aim::Rules => { std::os::unix::fs::symlink(&rules, &target).unwrap(); true }
            Aim::HardLinkToRules => { std::fs::hard_link(&rules, &target).unwrap(); true }
            Aim::UserFile => { std::fs::copy(&user, &target).unwrap(); false }
            Aim::SymlinkToUserFile => { std::os::unix::fs::symlink(&user, &target).unwrap(); false }
            Aim::MarkedDirLinkedToDump(k) => {
                std::fs::create_dir(&target).unwrap();
                std::fs::write(target.join(".pystats-gate-output"), "").unwrap();
                std::os::unix::fs::symlink(nth_dump(&h, k), target.join("report.md")).unwrap();
                false
            }
            Aim::SymlinkedMarker => {
                std::fs::create_dir(&target).unwrap();
                std::os::unix::fs::symlink(&user, target.join(".pystats-gate-output")).unwrap();
                false
            }
            Aim::HardLinkToHistory => { std::fs::hard_link(&history, &target).unwrap(); true }
        };
        let is_dir = matches!(aim, Aim::MarkedDirLinkedToDump(_) | Aim::SymlinkedMarker);
        // The rules file is an input of compare only; summarize and calibrate read `h` only,
        // `history show|noise` the history only.
        let reads_rules = writer < 2;
        let mut c = cmd();
        match writer {
            0 | 1 => { c.arg("compare").arg(&b).arg(&h).arg("--rules").arg(&rules); }
            2 => { c.arg("summarize").arg(&h); }
            3 => { c.arg("calibrate").arg(&h); }
            4 => { c.args(["history", "show", "--file"]).arg(&history); }
            _ => { c.args(["history", "noise", "--file"]).arg(&history); }
        }
        if is_dir && writer < 2 {
            c.arg("--out-dir").arg(&target);
        } else {
            c.arg("-o").arg(&target);
        }
        if force {
            c.arg("--force");
        }
        let before = (snapshot(&b), snapshot(&h), snapshot(&rules), snapshot(&user), snapshot(&history));
        let out = c.output().unwrap();
        let after = (snapshot(&b), snapshot(&h), snapshot(&rules), snapshot(&user), snapshot(&history));
        prop_assert_eq!(&before, &after, "{:?} writer {} force {}\n{}", aim, writer, force, dump(&out));
        prop_assert!(matches!(out.status.code(), Some(0 | 2)), "{}", dump(&out));
        prop_assert!(!stderr(&out).contains("panicked"), "{}", dump(&out));
        let input_of_command = is_input && match aim {
            Aim::Rules | Aim::HardLinkToRules => reads_rules,
            Aim::HardLinkToHistory => writer >= 4,
            _ => writer < 4,
        };
        let must_refuse = if is_dir {
            // `-o DIR` is never a file to replace; a symlinked marker marks nothing.
            writer >= 2 || matches!(aim, Aim::SymlinkedMarker)
        } else {
            input_of_command || !force
        };
        if must_refuse {
            prop_assert_eq!(out.status.code(), Some(2), "{:?} writer {} force {}\n{}", aim, writer, force, dump(&out));
            prop_assert!(stderr(&out).contains("target"), "{}", dump(&out));
        } else {
            prop_assert_eq!(out.status.code(), Some(0), "{:?} writer {} force {}\n{}", aim, writer, force, dump(&out));
            // What was written is a file of its own, not a link into anything.
            let written = if is_dir { target.join("report.md") } else { target.clone() };
            prop_assert!(std::fs::symlink_metadata(&written).unwrap().is_file());
        }
    }
}
