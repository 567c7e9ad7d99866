//! Integration tests: gate_compare (metrics, compare, check, rules, reports) on real 3.13.5 dumps.

use crate::util::{
    assert_stderr_contains, assert_stdout_contains, cmd, copy_dir, dump, expect_code, fixture,
    repo_root, stdout_json, tempdir, Exits,
};
use std::path::{Path, PathBuf};

/// Copies a fixture set into `dir` so a test can edit it.
pub(crate) fn copy_set(name: &str, dir: &Path) -> PathBuf {
    let src = fixture(&format!("real-3.13.5/{name}"));
    let dst = dir.join(name);
    copy_dir(&src, &dst);
    dst
}

/// Sets `key` in a dump file (replacing its line, or appending one).
pub(crate) fn set_counter(file: &Path, key: &str, value: u64) {
    let text = std::fs::read_to_string(file).unwrap();
    let mut found = false;
    let mut out: Vec<String> = text
        .lines()
        .map(|l| {
            if l.split(':').next().map(str::trim) == Some(key) {
                found = true;
                format!("    {key} : {value}")
            } else {
                l.to_string()
            }
        })
        .collect();
    if !found {
        out.push(format!("    {key} : {value}"));
    }
    std::fs::write(file, out.join("\n") + "\n").unwrap();
}

fn get_counter(file: &Path, key: &str) -> u64 {
    let text = std::fs::read_to_string(file).unwrap();
    text.lines()
        .find(|l| l.split(':').next().map(str::trim) == Some(key))
        .map(|l| l.split(':').nth(1).unwrap().trim().parse().unwrap())
        .unwrap_or(0)
}

/// Plants a BINARY_OP deoptimization regression in every repeat of a set: `extra` hits of
/// BINARY_OP_ADD_INT become misses (family and member counters stay consistent).
pub(crate) fn plant_binary_op_misses(set: &Path, extra: u64) {
    for run in ["run-1", "run-2", "run-3"] {
        let f = set.join(run).join("arith.txt");
        let hit = get_counter(&f, "opcode[BINARY_OP].specialization.hit");
        set_counter(&f, "opcode[BINARY_OP].specialization.hit", hit - extra);
        let miss = get_counter(&f, "opcode[BINARY_OP].specialization.miss");
        set_counter(&f, "opcode[BINARY_OP].specialization.miss", miss + extra);
        let m = get_counter(&f, "opcode[BINARY_OP_ADD_INT].specialization.miss");
        set_counter(
            &f,
            "opcode[BINARY_OP_ADD_INT].specialization.miss",
            m + extra,
        );
    }
}

#[test]
fn aa_comparison_passes_with_default_rules() {
    let out = cmd()
        .args(["compare", "--format", "markdown"])
        .arg(fixture("real-3.13.5/aa-base"))
        .arg(fixture("real-3.13.5/aa-head"))
        .exits(0);
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(
        md.starts_with("## :white_check_mark: pystats-gate: PASS"),
        "{}",
        dump(&out)
    );
    assert!(md.contains("paired by PYTHONHASHSEED"), "{md}");
    assert!(out.stderr.is_empty(), "{}", dump(&out));
}

#[test]
fn shipped_rules_load_without_warnings() {
    let out = cmd()
        .args(["compare", "--rules"])
        .arg(repo_root().join("rules/default.toml"))
        .arg(fixture("real-3.13.5/aa-base"))
        .arg(fixture("real-3.13.5/aa-head"))
        .exits(0);
    assert!(out.stderr.is_empty(), "{}", dump(&out));
}

#[test]
fn planted_regression_fails_naming_family() {
    let tmp = tempdir();
    let head = copy_set("aa-head", tmp.path());
    plant_binary_op_misses(&head, 2000);
    let out = cmd()
        .args(["compare", "--format", "markdown"])
        .arg(fixture("real-3.13.5/aa-base"))
        .arg(&head)
        .exits(1);
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(
        md.starts_with("## :x: pystats-gate: REGRESSION in BINARY_OP ("),
        "{md}"
    );
    let violated = md
        .split("### Violated rules")
        .nth(1)
        .expect("a violated rules section");
    assert!(violated.contains("family.BINARY_OP.miss_ratio"), "{md}");
    assert!(
        violated.contains("arith"),
        "attribution names the benchmark: {md}"
    );

    // JSON and JUnit carry the same verdict.
    let json = cmd()
        .args(["compare", "--format", "json"])
        .arg(fixture("real-3.13.5/aa-base"))
        .arg(&head)
        .exits(1);
    let v = stdout_json(&json);
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["verdict"], "regression");
    let junit = cmd()
        .args(["compare", "--format", "junit"])
        .arg(fixture("real-3.13.5/aa-base"))
        .arg(&head)
        .exits(1);
    let xml = String::from_utf8_lossy(&junit.stdout);
    assert!(
        xml.contains("<failure") && xml.contains("family.BINARY_OP.miss_ratio"),
        "{xml}"
    );
}

#[test]
fn warn_rules_fail_only_with_fail_on_warn() {
    let tmp = tempdir();
    let rules = tmp.path().join("r.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nname = \"alloc\"\nmetric = \"objects.allocations\"\nmax_relative_increase = 0.05\nseverity = \"warn\"\n",
    )
    .unwrap();
    let head = copy_set("aa-head", tmp.path());
    for run in ["run-1", "run-2", "run-3"] {
        let f = head.join(run).join("attrs.txt");
        let v = get_counter(&f, "Object allocations");
        set_counter(&f, "Object allocations", v * 2);
    }
    let run = |extra: &[&str]| {
        cmd()
            .arg("compare")
            .arg("--rules")
            .arg(&rules)
            .args(extra)
            .arg(fixture("real-3.13.5/aa-base"))
            .arg(&head)
            .output()
            .unwrap()
    };
    let out = run(&[]);
    expect_code(&out, 0);
    assert_stdout_contains(&out, "Warnings");
    expect_code(&run(&["--fail-on-warn"]), 1);
}

#[test]
fn bad_rules_file_names_key_path_and_line() {
    let tmp = tempdir();
    let rules = tmp.path().join("bad.toml");
    std::fs::write(&rules, "[[rule]]\nname = \"a\"\nmetric = \"family.*.miss_ratio\"\nmax_increase = 0.01\n\n[[rule]]\nname = \"b\"\nmetric = \"family.*.miss_ratio\"\nmax_increase = \"one\"\n").unwrap();
    let out = cmd()
        .arg("compare")
        .arg("--rules")
        .arg(&rules)
        .arg(fixture("real-3.13.5/aa-base"))
        .arg(fixture("real-3.13.5/aa-head"))
        .exits(2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.toml:9: rule[1].max_increase: expected a number"),
        "{}",
        dump(&out)
    );

    std::fs::write(
        &rules,
        "[[rule]]\nname = \"a\"\nmetric = \"family.*.no_such_thing\"\nmax_increase = 0.01\n",
    )
    .unwrap();
    let out = cmd()
        .arg("compare")
        .arg("--rules")
        .arg(&rules)
        .arg(fixture("real-3.13.5/aa-base"))
        .arg(fixture("real-3.13.5/aa-head"))
        .exits(2);
    assert_stderr_contains(
        &out,
        "rule[0].metric: pattern \"family.*.no_such_thing\" matches no metric",
    );

    std::fs::write(&rules, "include = [\"missing.toml\"]\n").unwrap();
    let out = cmd()
        .arg("compare")
        .arg("--rules")
        .arg(&rules)
        .arg(fixture("real-3.13.5/aa-base"))
        .arg(fixture("real-3.13.5/aa-head"))
        .exits(2);
    assert_stderr_contains(&out, "include[0]: no such file");
}

#[test]
fn corrupted_counter_fails_check_naming_invariant() {
    let tmp = tempdir();
    let set = copy_set("aa-base", tmp.path());
    cmd().arg("check").arg(&set).exits(0);
    set_counter(
        &set.join("run-2/attrs.txt"),
        "opcode[LOAD_ATTR].specialization.hit",
        12345,
    );
    let out = cmd().arg("check").arg(&set).exits(1);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("[VIOLATED] family-executions"), "{text}");
    assert!(
        text.contains("run-2/attrs: LOAD_ATTR: members executed 19995 times, hit 12345"),
        "{text}"
    );
    // compare shows the failed checks, and --strict turns them into an input error.
    let out = cmd()
        .arg("compare")
        .arg(&set)
        .arg(fixture("real-3.13.5/aa-head"))
        .output()
        .unwrap();
    assert_stdout_contains(&out, "CONSISTENCY CHECKS FAILED");
    // Data that does not add up is never a pass: INCONCLUSIVE (exit 0 without --strict).
    assert_eq!(out.status.code(), Some(0), "{}", dump(&out));
    assert_stdout_contains(&out, "INCONCLUSIVE");
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("PASS"),
        "{}",
        dump(&out)
    );
    cmd()
        .args(["compare", "--strict"])
        .arg(&set)
        .arg(fixture("real-3.13.5/aa-head"))
        .exits(2);
}

#[test]
fn metrics_lists_names_with_filter() {
    let out = cmd()
        .args(["metrics", "--filter", "family.*.miss_ratio"])
        .arg(fixture("real-3.13.5/aa-base"))
        .exits(0);
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    assert_eq!(
        lines
            .next()
            .map(|h| h.split_whitespace().collect::<Vec<_>>()),
        Some(vec!["metric", "run-1", "run-2", "run-3"]),
        "{text}"
    );
    assert!(
        lines.all(|l| l.starts_with("family.") && l.contains(".miss_ratio")),
        "{text}"
    );
    assert!(text.contains("family.LOAD_ATTR.miss_ratio"), "{text}");
    let out = cmd()
        .args([
            "metrics",
            "--per-benchmark",
            "--format",
            "json",
            "--filter",
            "bench.*.total.instructions",
        ])
        .arg(fixture("real-3.13.5/aa-base"))
        .exits(0);
    let v = stdout_json(&out);
    assert_eq!(v["metrics"].as_object().unwrap().len(), 2);
    let out = cmd()
        .args(["metrics", "--filter", "family.NO_SUCH_FAMILY.*"])
        .arg(fixture("real-3.13.5/aa-base"))
        .exits(2);
    assert_stderr_contains(&out, "matches no metric");
}

#[test]
fn github_actions_annotations_and_job_summary() {
    let tmp = tempdir();
    let head = copy_set("aa-head", tmp.path());
    plant_binary_op_misses(&head, 2000);
    let summary = tmp.path().join("summary.md");
    let out = cmd()
        .arg("compare")
        .arg(fixture("real-3.13.5/aa-base"))
        .arg(&head)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", &summary)
        .exits(1);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.lines().any(|l| l.starts_with(
            "::error title=pystats-gate%3A family-miss-ratio::family.BINARY_OP.miss_ratio"
        )),
        "{}",
        dump(&out)
    );
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.contains("REGRESSION") && md.contains("family.BINARY_OP.miss_ratio"),
        "{md}"
    );
}

#[test]
fn diff_and_out_dir() {
    let tmp = tempdir();
    let head = copy_set("aa-head", tmp.path());
    plant_binary_op_misses(&head, 2000);
    let dir = tmp.path().join("out");
    let out = cmd()
        .args(["compare", "--diff", "--out-dir"])
        .arg(&dir)
        .arg(fixture("real-3.13.5/aa-base"))
        .arg(&head)
        .exits(1);
    let text = String::from_utf8_lossy(&out.stdout);
    // The diff of the two single-set summaries shows the planted misses.
    assert!(
        text.lines()
            .any(|l| l.starts_with('+') && l.contains("miss") && l.contains("6,000")),
        "{text}"
    );
    for f in [
        "report.md",
        "report.json",
        "report.txt",
        "junit.xml",
        "report.html",
    ] {
        assert!(dir.join(f).is_file(), "{f} missing");
    }
}

/// Finds Debian's chromium (installed by ci/setup.sh).
fn chromium() -> Option<PathBuf> {
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists())
}

#[test]
fn html_report_renders_in_headless_chromium() {
    let tmp = tempdir();
    let head = copy_set("aa-head", tmp.path());
    plant_binary_op_misses(&head, 2000);
    let artifacts = repo_root().join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let html = artifacts.join("gate-report.html");
    cmd()
        // The artifact of the previous test run is replaced on purpose.
        .args(["compare", "--format", "html", "--force", "--output"])
        .arg(&html)
        .arg(fixture("real-3.13.5/aa-base"))
        .arg(&head)
        .exits(1);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        !page.contains("http://") && !page.contains("https://") && !page.contains("<script"),
        "the page must be self-contained"
    );
    let Some(chrome) = chromium() else {
        panic!("chromium not found: run ci/setup.sh (apt-get install -y chromium)");
    };
    let profile = tempdir();
    let base_args = |c: &mut std::process::Command| {
        c.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()));
    };
    let mut c = std::process::Command::new(&chrome);
    base_args(&mut c);
    let dom = c
        .arg("--dump-dom")
        .arg(format!("file://{}", html.display()))
        .output()
        .unwrap();
    assert!(dom.status.success(), "{}", dump(&dom));
    let dom_text = String::from_utf8_lossy(&dom.stdout);
    assert!(
        dom_text.contains("pystats-gate: REGRESSION"),
        "verdict missing from rendered DOM"
    );
    assert!(
        dom_text.contains("BINARY_OP ✖ violated")
            || dom_text.contains("BINARY_OP \u{2716} violated"),
        "violated family not marked"
    );
    assert!(dom_text.contains("family.BINARY_OP.miss_ratio"));
    let shot = artifacts.join("gate-report.png");
    let _ = std::fs::remove_file(&shot);
    let mut c = std::process::Command::new(&chrome);
    base_args(&mut c);
    let s = c
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1280,2000")
        .arg(format!("file://{}", html.display()))
        .output()
        .unwrap();
    assert!(s.status.success(), "{}", dump(&s));
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "screenshot too small: {} bytes",
        png.len()
    );
}

#[test]
fn whole_process_call_family_breaks_are_known_exceptions() {
    let set = fixture("gate/whole-process-3.13.5/set");
    let out = cmd().arg("check").arg(&set).exits(0);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("[excepted] family-executions"), "{text}");
    assert!(
        text.contains("CALL: members executed 16749 times, hit 14521 + miss 518 = 15039"),
        "{text}"
    );
    assert!(text.contains("[excepted] failure-kinds"), "{text}");
    // Without the declared exceptions the same real data fails, naming both invariants.
    let tmp = tempdir();
    let none = tmp.path().join("none.toml");
    std::fs::write(&none, "").unwrap();
    let out = cmd()
        .arg("check")
        .arg(&set)
        .arg("--exceptions")
        .arg(&none)
        .exits(1);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("[VIOLATED] family-executions") && text.contains("[VIOLATED] failure-kinds"),
        "{text}"
    );
    // A bad exceptions file is an input error naming the key.
    std::fs::write(
        &none,
        "[[exception]]\ninvariant = \"nope\"\nreason = \"x\"\n",
    )
    .unwrap();
    let out = cmd()
        .arg("check")
        .arg(&set)
        .arg("--exceptions")
        .arg(&none)
        .exits(2);
    assert_stderr_contains(&out, "exception[0].invariant: unknown invariant \"nope\"");
}

/// Records `result(repeat index, benchmark)` as each run's workload result in a copied set's
/// manifest, as `run` does from the driver's `checksum ...` line.
fn record_results(set: &Path, result: impl Fn(usize, &str) -> String) {
    let path = set.join("manifest.json");
    let mut m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    for (k, r) in m["repeats"].as_array_mut().unwrap().iter_mut().enumerate() {
        let names: Vec<String> = r["benchmarks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b.as_str().unwrap().to_string())
            .collect();
        r["results"] = names
            .iter()
            .map(|b| (b.clone(), serde_json::Value::from(result(k, b))))
            .collect::<serde_json::Map<_, _>>()
            .into();
    }
    std::fs::write(&path, serde_json::to_string_pretty(&m).unwrap()).unwrap();
}

/// Same counters, one head run computing another value: REGRESSION (exit 1) naming the
/// benchmark and the repeat in every format; equal results pass; a base whose results vary
/// between repeats is named and not compared.
#[test]
fn a_wrong_corpus_result_fails_the_gate_whatever_the_counters() {
    let tmp = tempdir();
    let base = copy_set("aa-base", tmp.path());
    let head = copy_set("aa-head", tmp.path());
    let checksum = |_: usize, b: &str| format!("({b:?}, 2.5)");
    record_results(&base, checksum);
    record_results(&head, checksum);
    let compare = |format: &str| {
        let mut c = cmd();
        c.args(["compare", "--format", format])
            .arg(&base)
            .arg(&head);
        c
    };
    let same = stdout_json(&compare("json").exits(0));
    assert_eq!(
        same["results"]["same"],
        serde_json::json!(["arith", "attrs"])
    );

    record_results(&head, |k, b| {
        if k == 1 && b == "arith" {
            "(\"arith\", 2.25)".into()
        } else {
            checksum(k, b)
        }
    });
    let v = stdout_json(&compare("json").exits(1));
    assert_eq!(v["verdict"], "regression");
    let differ = &v["results"]["differ"];
    assert_eq!(differ.as_array().unwrap().len(), 1, "{v}");
    assert_eq!(differ[0]["benchmark"], "arith");
    assert_eq!(differ[0]["repeats"], serde_json::json!(["run-2"]));
    assert_eq!(differ[0]["base"], "(\"arith\", 2.5)");
    let text = compare("markdown").exits(1);
    assert_stdout_contains(&text, "WRONG RESULT: benchmark arith computed");
    assert_stdout_contains(&text, "1 benchmark(s) computed a different result");
    let junit = String::from_utf8_lossy(&compare("junit").exits(1).stdout).to_string();
    assert!(
        junit.contains("arith computes what base computes") && junit.contains("WRONG RESULT"),
        "{junit}"
    );

    record_results(&base, |k, b| format!("{b}-{k}"));
    let varying = compare("text").exits(0);
    assert_stdout_contains(
        &varying,
        "corpus results not compared for 2 benchmark(s) (base computed different results in different repeats)",
    );
}

/// A result a hand-written or damaged manifest holds that no report could show safely is an
/// input error naming the key path.
#[test]
fn a_manifest_result_with_control_characters_is_an_input_error() {
    let tmp = tempdir();
    let base = copy_set("aa-base", tmp.path());
    record_results(&base, |_, _| "1\u{1b}[2J".into());
    let out = cmd()
        .arg("compare")
        .arg(&base)
        .arg(fixture("real-3.13.5/aa-head"))
        .exits(2);
    assert_stderr_contains(
        &out,
        "repeats[0].results.arith: a result with the control character",
    );
}

/// Lines skipped under `--allow-malformed` are a skipped JUnit case too, not only a note.
#[test]
fn skipped_malformed_lines_show_in_junit() {
    let tmp = tempdir();
    let head = copy_set("aa-head", tmp.path());
    let dump = head.join("run-1/arith.txt");
    let mut text = std::fs::read_to_string(&dump).unwrap();
    text.push_str("this is not a counter line\n");
    std::fs::write(&dump, text).unwrap();
    let out = cmd()
        .args(["compare", "--allow-malformed", "--format", "junit"])
        .arg(fixture("real-3.13.5/aa-base"))
        .arg(&head)
        .exits(0);
    let xml = String::from_utf8_lossy(&out.stdout);
    assert!(
        xml.contains("every dump line read") && xml.contains("<skipped"),
        "{xml}"
    );
}
