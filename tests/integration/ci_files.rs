//! Integration tests: the GitHub Action's scripts (verdict, gate step) and the fork-safety of the shipped workflows.

use crate::util::*;
use std::path::Path;
use std::process::Command;

/// Runs `ci/github/verdict.sh` with `env`; returns (exit code, $GITHUB_OUTPUT contents).
fn verdict(env: &[(&str, &str)]) -> (Option<i32>, String) {
    let tmp = tempdir();
    let gh_out = tmp.path().join("github-output");
    let mut c = Command::new("bash");
    c.arg(repo_root().join("ci/github/verdict.sh"))
        .env_remove("CODE")
        .env_remove("SHARD")
        .env_remove("FAIL")
        .env("GITHUB_OUTPUT", &gh_out)
        .envs(env.iter().copied());
    let out = c.output().unwrap();
    (
        out.status.code(),
        std::fs::read_to_string(&gh_out).unwrap_or_default(),
    )
}

#[test]
fn verdict_step_never_turns_a_missing_exit_code_into_success() {
    assert_eq!(verdict(&[]), (Some(3), "verdict=error\n".into()), "unset");
    for bad in ["", " ", "abc", "0x", "-1", "256", "0 1"] {
        for fail in ["true", "false"] {
            assert_eq!(
                verdict(&[("CODE", bad), ("FAIL", fail)]).0,
                Some(3),
                "CODE={bad:?} FAIL={fail}"
            );
        }
    }
    assert_eq!(
        verdict(&[("CODE", "0")]),
        (Some(0), "verdict=pass\n".into())
    );
    assert_eq!(
        verdict(&[("CODE", "1")]),
        (Some(1), "verdict=regression\n".into())
    );
    assert_eq!(
        verdict(&[("CODE", "2")]),
        (Some(2), "verdict=input-error\n".into())
    );
    assert_eq!(
        verdict(&[("CODE", "3")]),
        (Some(3), "verdict=run-error\n".into())
    );
    assert_eq!(
        verdict(&[("CODE", "1"), ("FAIL", "false")]),
        (Some(0), "verdict=regression\n".into())
    );
    assert_eq!(
        verdict(&[("CODE", "0"), ("SHARD", "1/2")]),
        (Some(0), "verdict=shard\n".into())
    );
}

/// A stand-in `pystats-gate` that writes report.md into `--out` and exits `code`.
fn fake_gate(bin: &Path, code: i32, writes_report: bool) {
    std::fs::create_dir_all(bin).unwrap();
    let p = bin.join("pystats-gate");
    let report = if writes_report {
        r#"mkdir -p "$out" && echo "REGRESSION in CONTAINS_OP" >"$out/report.md""#
    } else {
        ":"
    };
    std::fs::write(
        &p,
        format!(
            "#!/usr/bin/env bash\nprintf '%s\\n' \"$@\" >\"$(dirname \"$0\")/args\"\n\
             while [ $# -gt 0 ]; do [ \"$1\" = --out ] && out=$2; shift; done\n{report}\nexit {code}\n"
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// Runs the action's gate step against a fake `pystats-gate`; returns the step outputs.
fn gate_step(tmp: &Path, code: i32, writes_report: bool, env: &[(&str, &str)]) -> String {
    let bin = tmp.join("bin");
    fake_gate(&bin, code, writes_report);
    let gh_out = tmp.join("github-output");
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let o = Command::new("bash")
        .arg(repo_root().join("ci/github/action/gate.sh"))
        .current_dir(tmp)
        .env("PATH", path)
        .env("GITHUB_OUTPUT", &gh_out)
        .env("RUNNER_TEMP", tmp.join("runner-temp"))
        .env("GATE_BASE", "b".repeat(40))
        .env("GATE_HEAD", "c".repeat(40))
        .env("GATE_RULES", "my rules.toml")
        .envs(env.iter().copied())
        .output()
        .unwrap();
    // The step itself never fails: the Verdict step decides.
    expect_code(&o, 0);
    std::fs::read_to_string(gh_out).unwrap()
}

#[test]
fn action_gate_step_records_the_exit_code_and_the_comment_payload() {
    let tmp = tempdir();
    let outputs = gate_step(tmp.path(), 1, true, &[("PR_NUMBER", "42")]);
    assert!(outputs.contains("exit-code=1\n"), "{outputs}");
    assert!(
        outputs.contains("report-markdown=pystats-gate-out/report.md\n"),
        "{outputs}"
    );
    let args = std::fs::read_to_string(tmp.path().join("bin/args")).unwrap();
    assert!(args.contains("--rules\nmy rules.toml\n"), "{args}");
    assert!(!args.contains("--shard"), "{args}");
    let comment = tmp.path().join("runner-temp/pystats-gate-comment");
    assert!(
        outputs.contains(&format!("comment-dir={}\n", comment.display())),
        "{outputs}"
    );
    assert_eq!(
        std::fs::read_to_string(comment.join("pr-number")).unwrap(),
        "42\n"
    );
    assert_eq!(
        std::fs::read_to_string(comment.join("report.md")).unwrap(),
        "REGRESSION in CONTAINS_OP\n"
    );

    // A build failure before any report: the comment still says so.
    let tmp = tempdir();
    let outputs = gate_step(tmp.path(), 3, false, &[("PR_NUMBER", "7")]);
    assert!(outputs.contains("exit-code=3\n"), "{outputs}");
    let md = std::fs::read_to_string(
        tmp.path()
            .join("runner-temp/pystats-gate-comment/report.md"),
    )
    .unwrap();
    assert!(md.contains("no report (exit code 3)"), "{md}");

    // A shard: no comment payload, the shard is passed on.
    let tmp = tempdir();
    let outputs = gate_step(
        tmp.path(),
        0,
        false,
        &[("PR_NUMBER", "7"), ("GATE_SHARD", "2/3")],
    );
    assert!(outputs.contains("exit-code=0\n"), "{outputs}");
    assert!(outputs.contains("shard-label=2-of-3\n"), "{outputs}");
    assert!(!outputs.contains("comment-dir="), "{outputs}");
    let args = std::fs::read_to_string(tmp.path().join("bin/args")).unwrap();
    assert!(args.contains("--shard\n2/3\n"), "{args}");
}

#[test]
fn workflows_that_run_pr_code_cannot_write_and_the_commenter_runs_none() {
    let dir = repo_root().join("ci/github");
    for wf in ["pystats-gate.yml", "pystats-gate-action.yml"] {
        let text = std::fs::read_to_string(dir.join(wf)).unwrap();
        assert!(
            text.contains("\n  pull_request:\n"),
            "{wf} runs on pull_request"
        );
        assert!(!text.contains("pull_request_target"), "{wf}");
        assert!(
            !text.contains(": write"),
            "{wf} must not ask for write permissions"
        );
        assert!(
            text.contains("\nname: pystats-gate\n"),
            "{wf}: the comment workflow listens for this name"
        );
    }
    let text = std::fs::read_to_string(dir.join("pystats-gate-comment.yml")).unwrap();
    assert!(
        text.contains("workflow_run:\n    workflows: [pystats-gate]"),
        "{text}"
    );
    assert!(text.contains("\npermissions: {}\n"), "nothing by default");
    for forbidden in [
        "actions/checkout",
        "pystats-gate/pystats-gate@",
        "pip install",
        "cargo ",
    ] {
        assert!(
            !text.contains(forbidden),
            "the comment workflow must not run {forbidden}"
        );
    }
}

/// Runs `git` in `repo`, returning trimmed stdout.
fn git(repo: &Path, args: &[&str]) -> String {
    let o = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "-c",
            "commit.gpgsign=false",
        ])
        .args(args)
        .output()
        .unwrap();
    expect_code(&o, 0);
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

#[test]
fn action_resolves_the_merge_base_of_the_target_branch() {
    let tmp = tempdir();
    let repo = tmp.path().join("repo");
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    let commit = |msg: &str| {
        git(&repo, &["commit", "-q", "--allow-empty", "-m", msg]);
        git(&repo, &["rev-parse", "HEAD"])
    };
    let fork_point = commit("A");
    let main_tip = commit("B");
    git(
        &repo,
        &["update-ref", "refs/remotes/origin/main", &main_tip],
    );
    git(&repo, &["checkout", "-q", "-b", "pr", &fork_point]);
    let pr_tip = commit("C");
    let revs = |env: &[(&str, &str)]| {
        let gh_out = tmp.path().join("out");
        let _ = std::fs::remove_file(&gh_out);
        let o = Command::new("bash")
            .arg(repo_root().join("ci/github/action/revs.sh"))
            .env("GATE_REPO", &repo)
            .env("GITHUB_OUTPUT", &gh_out)
            .env_remove("GATE_BASE")
            .env_remove("GATE_HEAD")
            .env_remove("GITHUB_BASE_REF")
            .envs(env.iter().copied())
            .output()
            .unwrap();
        (
            o.status.code(),
            std::fs::read_to_string(&gh_out).unwrap_or_default(),
            o,
        )
    };
    let (code, out, o) = revs(&[("GITHUB_BASE_REF", "main")]);
    assert_eq!(code, Some(0), "{}", dump(&o));
    assert_eq!(out, format!("base={fork_point}\nhead={pr_tip}\n"));
    let (code, out, o) = revs(&[("GATE_BASE", "main"), ("GATE_HEAD", "pr~1")]);
    assert_eq!(code, Some(0), "{}", dump(&o));
    assert_eq!(out, format!("base={main_tip}\nhead={fork_point}\n"));
    // Not a pull request and no base given: an input error, no outputs.
    let (code, out, o) = revs(&[]);
    assert_eq!(code, Some(2), "{}", dump(&o));
    assert_eq!(out, "");
    assert_stdout_contains(&o, "no base revision");
}

/// The `run: |` block of the comment workflow's last step, as the shell script it runs.
fn comment_script() -> String {
    let text =
        std::fs::read_to_string(repo_root().join("ci/github/pystats-gate-comment.yml")).unwrap();
    let start = text.rfind("        run: |\n").expect("a run block") + "        run: |\n".len();
    text[start..]
        .lines()
        .take_while(|l| l.is_empty() || l.starts_with("          "))
        .map(|l| l.get(10..).unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Runs the comment workflow's script with a fake `gh`; returns (exit code, gh calls, body).
fn post_comment(pr_number: &str, pr_head: &str, existing: &str) -> (Option<i32>, String, String) {
    let tmp = tempdir();
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let gh = bin.join("gh");
    std::fs::write(
        &gh,
        r#"#!/usr/bin/env bash
printf '%s\n' "$*" >>"$GH_LOG"
case "$*" in
  *"/pulls/"*) echo "$FAKE_PR_HEAD" ;;
  *"--paginate"*) if [ -n "$FAKE_EXISTING" ]; then echo "$FAKE_EXISTING"; fi ;;
  *"-X "*) for a in "$@"; do case $a in body=@*) cp "${a#body=@}" "$GH_BODY" ;; esac; done ;;
esac
"#,
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&gh, std::fs::Permissions::from_mode(0o755)).unwrap();
    let payload = tmp.path().join("payload");
    std::fs::create_dir_all(&payload).unwrap();
    std::fs::write(payload.join("pr-number"), pr_number).unwrap();
    std::fs::write(
        payload.join("report.md"),
        "## REGRESSION `$(touch pwned)`\n",
    )
    .unwrap();
    let (log, body) = (tmp.path().join("gh.log"), tmp.path().join("body"));
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let o = Command::new("bash")
        .arg("-c")
        .arg(comment_script())
        .current_dir(tmp.path())
        .env("PATH", path)
        .env("GH_LOG", &log)
        .env("GH_BODY", &body)
        .env("FAKE_PR_HEAD", pr_head)
        .env("FAKE_EXISTING", existing)
        .env("REPO", "me/cpython")
        .env("RUN_HEAD_SHA", "abc123")
        .env("RUN_URL", "https://example.invalid/run/1")
        .env("PAYLOAD", &payload)
        .env("RUNNER_TEMP", tmp.path())
        .output()
        .unwrap();
    assert!(
        !tmp.path().join("pwned").exists(),
        "the report was executed"
    );
    (
        o.status.code(),
        std::fs::read_to_string(&log).unwrap_or_default(),
        std::fs::read_to_string(&body).unwrap_or_default(),
    )
}

#[test]
fn comment_workflow_posts_once_updates_after_and_trusts_no_payload() {
    // First report on PR 42: a new comment, marked, with the report verbatim.
    let (code, calls, body) = post_comment("42\n", "abc123", "");
    assert_eq!(code, Some(0), "{calls}");
    assert!(
        calls.contains("api repos/me/cpython/pulls/42 --jq .head.sha"),
        "{calls}"
    );
    assert!(
        calls.contains("api -X POST repos/me/cpython/issues/42/comments"),
        "{calls}"
    );
    assert!(
        body.starts_with("<!-- pystats-gate-report -->\n## REGRESSION `$(touch pwned)`"),
        "{body}"
    );
    assert!(body.contains("https://example.invalid/run/1"), "{body}");

    // Later pushes: the marked comment is updated in place.
    let (code, calls, _) = post_comment("42", "abc123", "9001");
    assert_eq!(code, Some(0), "{calls}");
    assert!(
        calls.contains("api -X PATCH repos/me/cpython/issues/comments/9001"),
        "{calls}"
    );
    assert!(!calls.contains("-X POST"), "{calls}");

    // The PR has moved on since this run: nothing is posted (a newer run will comment).
    let (code, calls, _) = post_comment("42", "def456", "");
    assert_eq!(code, Some(0), "{calls}");
    assert!(!calls.contains("-X "), "{calls}");

    // A payload that is not a PR number: refused before any API call.
    for bad in ["", "42; touch pwned", "../1", "4 2"] {
        let (code, calls, _) = post_comment(bad, "abc123", "");
        assert_eq!(code, Some(1), "pr-number {bad:?}");
        assert_eq!(calls, "", "pr-number {bad:?}");
    }
}
