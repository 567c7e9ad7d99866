//! Integration tests: the PR comment (size, markup, one row per fact), rule overrides and acceptances, on the recorded demo regression.

use crate::util::{cmd, dump, fixture, read_json, stdout_json, tempdir, Exits};
use std::path::{Path, PathBuf};

fn demo(side: &str) -> PathBuf {
    fixture(&format!("gate/demo-regression-3.13.5/{side}"))
}

/// The shipped rules without the per-form and per-benchmark ones, so the recorded demo
/// regression violates its classic five rules (the comment's layout is what is tested).
const CLASSIC_RULES: &str = "include = [\"default.toml\"]\n\n[[rule]]\nname = \"family-form-share\"\nenabled = false\n\n[[rule]]\nname = \"bench-family-form-share\"\nenabled = false\n\n[[rule]]\nname = \"bench-family-deferred-ratio\"\nenabled = false\n\n[[rule]]\nname = \"bench-new-failure-kind\"\nenabled = false\n\n[[rule]]\nname = \"failure-kind-growth\"\nenabled = false\n\n[[rule]]\nname = \"bench-family-miss-ratio\"\nenabled = false\n\n[[rule]]\nname = \"bench-family-miss-growth\"\nenabled = false\n\n[[rule]]\nname = \"bench-family-attempt-growth\"\nenabled = false\n";

/// Writes [`CLASSIC_RULES`] plus `more` into `dir/rules.toml`.
fn classic_rules(dir: &Path, more: &str) -> PathBuf {
    let p = dir.join("rules.toml");
    std::fs::write(&p, format!("{CLASSIC_RULES}\n{more}")).unwrap();
    p
}

/// Markdown of `compare BASE HEAD` on the demo regression with extra arguments (the
/// classic rules unless `args` names a rules file).
fn comment(args: &[&str], code: i32) -> String {
    let tmp = tempdir();
    let rules = classic_rules(tmp.path(), "");
    let mut c = cmd();
    c.args(["compare", "--format", "markdown"]);
    if !args.contains(&"--rules") {
        c.arg("--rules").arg(&rules);
    }
    let out = c.args(args).arg(demo("base")).arg(demo("head")).exits(code);
    String::from_utf8(out.stdout).unwrap()
}

/// Every HTML element opened is closed, code fences pair up, and every table row has the
/// cells of its header: nothing was cut inside markup.
fn assert_balanced(md: &str) {
    for tag in ["details", "summary", "table", "sub", "tr", "td"] {
        let open =
            md.matches(&format!("<{tag}>")).count() + md.matches(&format!("<{tag} ")).count();
        let close = md.matches(&format!("</{tag}>")).count();
        assert_eq!(
            open, close,
            "<{tag}> opened {open} times, closed {close}:\n{md}"
        );
    }
    assert_eq!(
        md.matches("```").count() % 2,
        0,
        "unpaired code fence:\n{md}"
    );
    let cells = |l: &str| l.replace("\\|", "").matches('|').count();
    let mut header: Option<usize> = None;
    for line in md.lines() {
        if line.starts_with('|') {
            let n = cells(line);
            match header {
                None => header = Some(n),
                Some(h) => assert_eq!(n, h, "row with a different cell count: {line}\n{md}"),
            }
        } else {
            header = None;
        }
    }
}

/// The lines of one `### title` section.
fn section<'a>(md: &'a str, title: &str) -> &'a str {
    let start = md
        .find(&format!("### {title}"))
        .unwrap_or_else(|| panic!("no section {title}:\n{md}"));
    let rest = &md[start + 4..];
    &rest[..rest.find("\n### ").unwrap_or(rest.len())]
}

#[test]
fn real_regression_comment_is_compact_and_names_each_fact_once() {
    let md = comment(&[], 1);
    assert!(md.len() < 10_000, "{} bytes:\n{md}", md.len());
    assert_balanced(&md);
    assert!(
        md.starts_with("## :x: pystats-gate: REGRESSION in CONTAINS_OP (5 rule violation(s))"),
        "{md}"
    );
    // Labels are revisions, not the machine's paths.
    assert!(
        md.contains("base `017955315ad2`") && md.contains("head `9be7f14cc886`"),
        "{md}"
    );
    assert!(
        !md.contains("/tmp/") && !md.contains("/root/") && !md.contains("/work/"),
        "{md}"
    );
    let violated = section(&md, "Violated rules");
    for rule in [
        "family-deferred-ratio",
        "family-success-ratio",
        "new-failure-kind",
        "specialized-share",
        "not-specialized-share",
    ] {
        let rows = violated
            .lines()
            .filter(|l| l.starts_with(&format!("| `{rule}` |")))
            .count();
        assert_eq!(rows, 1, "{rule} has {rows} rows:\n{violated}");
    }
    // Limit, interval and the benchmark that moved it, in the one row.
    assert!(
        violated.contains("| `family.CONTAINS_OP.success_ratio` | 23.53% | 0.00% | -23.53 pp | exact | - | max_decrease 5.00 pp | iterate -23.53 pp |"),
        "{violated}"
    );
    // Each violated metric once in the whole comment: not again among the changed metrics.
    assert_eq!(
        md.matches("`family.CONTAINS_OP.deferred_ratio`").count(),
        1,
        "{md}"
    );
    // Identical facts are one row: the family's execution count is its base opcode's.
    let changed = section(&md, "Changed metrics");
    assert_eq!(
        changed.matches("CONTAINS_OP.execution_count`").count(),
        2,
        "{changed}"
    );
    assert!(
        changed.contains(
            "`opcode.CONTAINS_OP.execution_count` (= `family.CONTAINS_OP.execution_count`)"
        ),
        "{changed}"
    );
    // The counts are the model's (report.json), not recomputed by the renderer.
    let tmp = tempdir();
    let json = stdout_json(
        &cmd()
            .args(["compare", "--format", "json", "--rules"])
            .arg(classic_rules(tmp.path(), ""))
            .arg(demo("base"))
            .arg(demo("head"))
            .exits(1),
    );
    let total = json["changed_facts"].as_u64().unwrap();
    assert_eq!(json["changed_in_rules"], 5);
    assert_eq!(json["top_movers"].as_array().unwrap().len(), 10);
    assert!(total > 15, "{total}");
    assert!(
        changed.contains(&format!(
            "{total} metric(s) changed (5 in the rule tables above); the 10 biggest of the other {}",
            total - 5
        )),
        "{changed}"
    );
    // One number format: thousands separators, fixed decimals.
    assert!(
        changed.contains("| 6,399,996 | 0 | -6,399,996 (-100.0%) |"),
        "{changed}"
    );
    assert!(!md.contains("Truncated"), "{md}");
    assert!(
        md.contains("report.html") && md.contains("report.json"),
        "{md}"
    );
}

#[test]
fn warn_sections_survive_and_a_small_budget_cuts_whole_sections() {
    let tmp = tempdir();
    // Turn the two share rules into warnings: override by name over the shipped defaults.
    let rules = classic_rules(
        tmp.path(),
        "[[rule]]\nname = \"specialized-share\"\nseverity = \"warn\"\n\n[[rule]]\nname = \"not-specialized-share\"\nseverity = \"warn\"\n",
    );
    let r = rules.to_str().unwrap();
    let md = comment(&["--rules", r], 1);
    assert_balanced(&md);
    assert!(md.len() < 10_000, "{} bytes", md.len());
    let warnings = section(&md, "Warnings (2)");
    assert!(
        warnings.contains("`effectiveness.specialized_share`"),
        "{md}"
    );
    assert!(
        warnings.contains("`effectiveness.not_specialized_share`"),
        "{md}"
    );
    assert!(
        section(&md, "Violated rules (3)").contains("family-success-ratio"),
        "{md}"
    );

    // A budget too small for everything: whole rows and sections are left out, and named.
    let small = comment(
        &["--rules", r, "--comment-bytes", "3500", "--movers", "40"],
        1,
    );
    assert!(small.len() <= 3500, "{} bytes:\n{small}", small.len());
    assert_balanced(&small);
    assert!(small.contains("### Violated rules (3)"), "{small}");
    let note = small
        .lines()
        .find(|l| l.starts_with("_Left out to stay under 3,500 bytes (`--comment-bytes`): "))
        .unwrap_or_else(|| panic!("no left-out note:\n{small}"));
    assert!(
        note.contains("changed metrics") || note.contains("warnings"),
        "{note}"
    );
}

#[test]
fn a_pass_comment_is_a_few_lines() {
    let out = cmd()
        .args(["compare", "--format", "markdown"])
        .arg(fixture("real-3.13.5/aa-base"))
        .arg(fixture("real-3.13.5/aa-head"))
        .exits(0);
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(
        md.starts_with("## :white_check_mark: pystats-gate: PASS"),
        "{md}"
    );
    assert!(
        md.lines().filter(|l| !l.trim().is_empty()).count() <= 5,
        "{md}"
    );
    assert!(md.len() < 1_500, "{md}");
    assert_balanced(&md);
}

#[test]
fn accepted_violations_pass_and_stay_visible_everywhere() {
    let tmp = tempdir();
    let out_dir = tmp.path().join("out");
    let reason = "CONTAINS_OP no longer specializes on purpose (gh-0000)";
    let mut c = cmd();
    c.args(["compare", "--format", "markdown", "--out-dir"])
        .arg(&out_dir)
        .arg("--rules")
        .arg(classic_rules(tmp.path(), ""));
    for rule in [
        "family-deferred-ratio:family.CONTAINS_OP.*",
        "family-success-ratio:family.CONTAINS_OP.success_ratio",
        "new-failure-kind",
        "specialized-share",
        "not-specialized-share",
    ] {
        c.args(["--accept", &format!("{rule} because {reason}")]);
    }
    let out = c.arg(demo("base")).arg(demo("head")).exits(0);
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(
        md.starts_with("## :white_check_mark: pystats-gate: PASS (accepted) (5 accepted)"),
        "{md}"
    );
    assert_balanced(&md);
    let accepted = section(&md, "Accepted changes (5)");
    assert_eq!(accepted.matches(reason).count(), 5, "{accepted}");
    let json = read_json(&out_dir.join("report.json"));
    assert_eq!(json["verdict"], "pass");
    assert_eq!(json["acceptances"].as_array().unwrap().len(), 5);
    assert_eq!(json["acceptances"][0]["matched"], 1);
    let accepted_outcomes: Vec<&serde_json::Value> = json["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["accepted"].as_str() == Some(reason))
        .collect();
    assert_eq!(accepted_outcomes.len(), 5);
    for f in ["report.txt", "report.html", "junit.xml"] {
        let text = std::fs::read_to_string(out_dir.join(f)).unwrap();
        assert!(text.contains(reason), "{f} lacks the reason");
    }
    assert!(!std::fs::read_to_string(out_dir.join("junit.xml"))
        .unwrap()
        .contains("<failure"));
}

#[test]
fn acceptances_that_match_nothing_or_lack_a_reason_are_input_errors() {
    let run = |spec: &str| {
        let out = cmd()
            .args(["compare", "--accept", spec])
            .arg(demo("base"))
            .arg(demo("head"))
            .exits(2);
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let e = run("family-success-ratio:family.BINARY_OP.* because it moved");
    assert!(
        e.contains("--accept `family-success-ratio:family.BINARY_OP.*`: matches no violated or inconclusive outcome (rule family-success-ratio is open on: family.CONTAINS_OP.success_ratio)"),
        "{e}"
    );
    let e = run("family-sucess-ratio because typo");
    assert!(e.contains("no rule named \"family-sucess-ratio\""), "{e}");
    let e = run("family-success-ratio:family.CONTAINS_OP.*");
    assert!(e.contains("a reason is required"), "{e}");
    // Partly accepted: the rest still fails.
    let out = cmd()
        .args([
            "compare",
            "--format",
            "json",
            "--accept",
            "new-failure-kind because intended",
            "--accept",
            "bench-new-failure-kind because intended",
        ])
        .arg(demo("base"))
        .arg(demo("head"))
        .exits(1);
    let v = stdout_json(&out);
    assert_eq!(v["verdict"], "regression", "{}", dump(&out));
}

/// A git repository with one commit whose message carries `Pystats-Accept:` trailers.
fn repo_with_trailers(dir: &Path, message: &str) {
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@t.invalid")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@t.invalid")
            .output()
            .unwrap();
        assert!(out.status.success(), "git {args:?}: {out:?}");
    };
    git(&["init", "-q"]);
    std::fs::write(dir.join("f"), "x").unwrap();
    git(&["add", "f"]);
    git(&["commit", "-q", "-m", message]);
}

#[test]
fn commit_trailers_are_read_as_acceptances() {
    let tmp = tempdir();
    repo_with_trailers(
        tmp.path(),
        "Remove CONTAINS_OP specialization\n\nLonger text.\n\nPystats-Accept: family-success-ratio:family.CONTAINS_OP.* because\n  removed on purpose (gh-1)\nPystats-Accept: new-failure-kind because the failure is expected\nSigned-off-by: t <t@t.invalid>\n",
    );
    let acc = pystats_gate::gate::accept::from_commit(tmp.path(), "HEAD").unwrap();
    assert_eq!(acc.len(), 2, "{acc:?}");
    assert_eq!(acc[0].rule, "family-success-ratio");
    assert_eq!(acc[0].metric.as_deref(), Some("family.CONTAINS_OP.*"));
    assert_eq!(acc[0].reason, "removed on purpose (gh-1)");
    assert!(
        acc[0].source.starts_with("Pystats-Accept trailer of "),
        "{acc:?}"
    );
    assert_eq!(acc[1].reason, "the failure is expected");

    let bad = tempdir();
    repo_with_trailers(bad.path(), "x\n\nPystats-Accept: family-success-ratio\n");
    let e = pystats_gate::gate::accept::from_commit(bad.path(), "HEAD")
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("Pystats-Accept trailer of ") && e.contains("a reason is required"),
        "{e}"
    );
}

#[test]
fn planted_regression_comment_is_compact_with_every_format_agreeing() {
    use crate::gate_compare::{copy_set, plant_binary_op_misses};
    let tmp = tempdir();
    let head = copy_set("aa-head", tmp.path());
    plant_binary_op_misses(&head, 2000);
    let out_dir = tmp.path().join("out");
    let out = cmd()
        .args(["compare", "--format", "markdown", "--out-dir"])
        .arg(&out_dir)
        .arg(fixture("real-3.13.5/aa-base"))
        .arg(&head)
        .exits(1);
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.len() < 10_000, "{} bytes", md.len());
    assert_balanced(&md);
    assert_eq!(
        std::fs::read_to_string(out_dir.join("report.md")).unwrap(),
        md
    );
    let violated = section(&md, "Violated rules");
    assert!(
        violated.contains("| `family-miss-ratio` | `family.BINARY_OP.miss_ratio` |"),
        "{md}"
    );
    assert_eq!(
        md.matches("`family.BINARY_OP.miss_ratio`").count(),
        1,
        "{md}"
    );
    assert!(!md.contains(&tmp.path().display().to_string()), "{md}");
    // The base set's directory names it (no manifest revision in these fixtures).
    assert!(md.contains("base `aa-base`"), "{md}");
}

#[test]
fn failed_consistency_checks_are_listed_in_whole_lines() {
    use crate::gate_compare::{copy_set, set_counter};
    let tmp = tempdir();
    let base = copy_set("aa-base", tmp.path());
    set_counter(
        &base.join("run-2/attrs.txt"),
        "opcode[LOAD_ATTR].specialization.hit",
        12345,
    );
    let out = cmd()
        .args(["compare", "--format", "markdown"])
        .arg(&base)
        .arg(fixture("real-3.13.5/aa-head"))
        .output()
        .unwrap();
    let md = String::from_utf8_lossy(&out.stdout).to_string();
    assert_balanced(&md);
    let checks = section(&md, "Consistency checks");
    assert!(
        checks.contains("- **base**: :x: 1 invariant(s) violated"),
        "{md}"
    );
    assert!(
        checks.contains("run-2/attrs: LOAD_ATTR: members executed 19995 times, hit 12345"),
        "{md}"
    );
    assert!(md.contains("consistency checks FAILED (see above)"), "{md}");
}
