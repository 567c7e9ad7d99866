//! Bisect renderers: the human-readable report, its JSON, and the per-step progress lines.

use crate::model::bisect::{BisectReport, BisectStatus, CommitInfo, Mark, StepRecord, Violation};
use std::fmt::Write;

fn fmt_value(v: f64) -> String {
    if v == v.trunc() && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.4}")
    }
}

/// `  rule: metric good -> bad`, as the report and `bisect-step` list a violation.
pub fn violation_line(v: &Violation) -> String {
    format!(
        "  {}: {} {} -> {}",
        v.rule,
        v.metric,
        fmt_value(v.good),
        fmt_value(v.bad)
    )
}

/// The report as JSON (pretty, one trailing newline).
pub fn render_json(r: &BisectReport) -> serde_json::Result<String> {
    Ok(serde_json::to_string_pretty(r)? + "\n")
}

/// The human-readable report.
pub fn render_text(r: &BisectReport) -> String {
    let mut s = String::new();
    match (r.status, &r.first_bad) {
        (BisectStatus::Found, Some(c)) => found(&mut s, r, c),
        (BisectStatus::Ambiguous, _) => {
            let _ = writeln!(
                s,
                "Ambiguous: the first bad commit is one of these (skipped commits sit between the last good and the first bad):"
            );
            commit_list(&mut s, &r.possible_first_bad);
        }
        _ => {
            let _ = writeln!(
                s,
                "No regression: the --bad end {} passes the gate against {}.",
                r.bad.short(),
                r.good.short()
            );
        }
    }
    if !r.skipped.is_empty() {
        let _ = writeln!(s, "Skipped ({}):", r.skipped.len());
        for k in &r.skipped {
            let _ = writeln!(
                s,
                "  {} {}: {}",
                k.commit.short(),
                k.commit.subject,
                k.reason
            );
        }
    }
    if !r.good_after_bad.is_empty() {
        let _ = writeln!(
            s,
            "Warning: judged good after a bad commit (the regression may not be monotonic):"
        );
        commit_list(&mut s, &r.good_after_bad);
    }
    let _ = writeln!(
        s,
        "Candidates: {}, commits tested: {}, builds: {} (budget ceil(log2 {}) + 2 = {})",
        r.candidates, r.evaluations, r.builds, r.candidates, r.build_budget
    );
    let _ = writeln!(
        s,
        "Time: build {:.1}s, run {:.1}s, total {:.1}s",
        r.build_seconds, r.run_seconds, r.elapsed_seconds
    );
    s
}

/// `  <short hash> <subject>` per commit.
fn commit_list(s: &mut String, commits: &[CommitInfo]) {
    for c in commits {
        let _ = writeln!(s, "  {} {}", c.short(), c.subject);
    }
}

/// The first bad commit and the rules it violates.
fn found(s: &mut String, r: &BisectReport, c: &CommitInfo) {
    let _ = writeln!(s, "First bad commit: {}", c.hash);
    let _ = writeln!(s, "  Subject: {}", c.subject);
    let _ = writeln!(s, "  Author:  {}", c.author);
    if r.first_bad_unverified {
        let _ = writeln!(
            s,
            "  (this is the --bad end; it could not be built or run, so it is blamed unseen)"
        );
    }
    if r.violations.is_empty() {
        return;
    }
    let _ = writeln!(s, "Violated rules (good -> bad):");
    for v in &r.violations {
        s.push_str(&violation_line(v));
        if let Some([a, b]) = v.interval {
            let _ = write!(s, "  interval [{}, {}]", fmt_value(a), fmt_value(b));
        }
        if !v.message.is_empty() {
            let _ = write!(s, "  ({})", v.message);
        }
        s.push('\n');
    }
}

/// Progress line for one step (stderr).
pub fn step_line(n: usize, record: &StepRecord, subject: &str) -> String {
    let short = &record.commit[..record.commit.len().min(12)];
    let what = match record.mark {
        Mark::Good => "good".to_string(),
        Mark::Bad => format!("bad ({} rule(s) violated)", record.violations.len()),
        Mark::Skip => format!("skip: {}", record.reason.as_deref().unwrap_or("")),
    };
    format!(
        "step {n}: {short} {subject}: {what} [{} repeats, build {:.1}s, run {:.1}s]",
        record.repeats, record.build_seconds, record.run_seconds
    )
}
