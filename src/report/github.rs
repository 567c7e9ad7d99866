//! GitHub Actions integration: `::error`/`::warning` annotations and the job summary.

use super::*;
use crate::gate::report_model::GateReport;

pub struct AnnotationsExporter;

impl Exporter for AnnotationsExporter {
    fn render(&self, report: &GateReport) -> Vec<u8> {
        render_annotations(report).into_bytes()
    }
    fn file_name(&self) -> &'static str {
        "annotations.txt"
    }
}

fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_prop(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Workflow command lines, one per annotation.
struct Annotations(String);

impl Annotations {
    /// One `::level` line; the file location only where the file exists (the built-in
    /// rules file is named but may not be on disk).
    fn push(&mut self, level: &str, title: &str, file: Option<(&str, usize)>, msg: &str) {
        let loc = match file {
            Some((f, l))
                if !f.starts_with("rules/default.toml") || std::path::Path::new(f).exists() =>
            {
                format!("file={},line={},", escape_prop(f), l)
            }
            _ => String::new(),
        };
        self.0.push_str(&format!(
            "::{level} {loc}title={}::{}\n",
            escape_prop(title),
            escape_data(msg)
        ));
    }
}

/// Workflow command lines: an error per failing rule outcome, a warning per warning,
/// inconclusive outcome or failed consistency check, a notice per accepted outcome.
pub fn render_annotations(r: &GateReport) -> String {
    let mut a = Annotations(String::new());
    failing_and_warned(&mut a, r);
    wrong_results(&mut a, r);
    not_checked(&mut a, r);
    accepted_notices(&mut a, r);
    unreached_warnings(&mut a, r);
    inconclusive_warnings(&mut a, r);
    violated_checks(&mut a, r);
    a.0
}

/// An error per outcome that fails the gate, a warning per warning.
fn failing_and_warned(a: &mut Annotations, r: &GateReport) {
    let failing: Vec<_> = r.failing().collect();
    let warnings: Vec<_> = r.warnings().collect();
    for (level, outcomes) in [("error", failing), ("warning", warnings)] {
        for o in outcomes {
            a.push(
                level,
                &format!("pystats-gate: {}", o.rule),
                None,
                &format!(
                    "{}: {} -> {} ({}); {}",
                    metric_label(&o.metric, &o.benchmark),
                    fmt_value(o.kind, o.base),
                    fmt_value(o.kind, o.head),
                    fmt_change(o.kind, o.change, o.relative_change),
                    o.reason
                ),
            );
        }
    }
}

/// An error per benchmark whose head result differs from base's, a notice for those not
/// compared.
fn wrong_results(a: &mut Annotations, r: &GateReport) {
    for l in prose::wrong_result_lines(&r.results) {
        a.push("error", "pystats-gate: wrong result", None, &l);
    }
    for l in prose::results_unchecked_lines(&r.results) {
        a.push("notice", "pystats-gate: results not compared", None, &l);
    }
}

/// What the gate did not check: missing data and unchecked rules (warnings), optional
/// rules left unchecked (a notice).
fn not_checked(a: &mut Annotations, r: &GateReport) {
    if !r.missing_data.is_empty() {
        a.push(
            "warning",
            "pystats-gate: incomplete data",
            None,
            &format!(
                "compared only what both sides have (--allow-missing-benchmarks); missing: {}",
                r.missing_data.join("; ")
            ),
        );
    }
    for l in coverage_lines(r) {
        a.push("warning", "pystats-gate: not checked", None, &l);
    }
    if let Some(l) = optional_unchecked_line(r) {
        a.push(
            "notice",
            "pystats-gate: optional rules not checked",
            None,
            &l,
        );
    }
}

/// A notice per accepted outcome, with why it was accepted.
fn accepted_notices(a: &mut Annotations, r: &GateReport) {
    for o in r.accepted() {
        a.push(
            "notice",
            &format!("pystats-gate: {} accepted", o.rule),
            None,
            &format!(
                "{}: {}; accepted: {}",
                metric_label(&o.metric, &o.benchmark),
                o.reason,
                o.accepted.as_deref().unwrap_or_default()
            ),
        );
    }
}

/// A warning on each changed line the corpus never reaches.
fn unreached_warnings(a: &mut Annotations, r: &GateReport) {
    for p in r.reach.iter().flat_map(|x| x.unreached()) {
        a.push(
            "warning",
            "pystats-gate: change the corpus never reaches",
            Some((&p.file, p.line)),
            &format!(
                "{} ({}): {} = 0 in base and head: {}",
                p.location(),
                p.scope,
                p.counters.join(" / "),
                crate::gate::reach::UNREACHED_ADVICE
            ),
        );
    }
}

/// A warning per inconclusive outcome.
fn inconclusive_warnings(a: &mut Annotations, r: &GateReport) {
    for o in r.inconclusive() {
        a.push(
            "warning",
            &format!("pystats-gate: {} inconclusive", o.rule),
            None,
            &format!("{}: {}", metric_label(&o.metric, &o.benchmark), o.reason),
        );
    }
}

/// A warning per violated invariant, with its first unexcepted violation.
fn violated_checks(a: &mut Annotations, r: &GateReport) {
    for c in &r.checks {
        for inv in c.violated() {
            let first = inv
                .violations
                .iter()
                .find(|v| v.excepted.is_none())
                .map(|v| format!("{}: {}", v.scope, v.detail))
                .unwrap_or_default();
            a.push(
                "warning",
                &format!("pystats-gate: check {} ({})", inv.id, c.label),
                None,
                &first,
            );
        }
    }
}

/// Under GitHub Actions (GITHUB_ACTIONS=true): annotations on stderr (stdout may hold the
/// report) and the markdown report appended to $GITHUB_STEP_SUMMARY (refused when it is one
/// of `inputs`).
pub fn emit_if_actions(r: &GateReport, inputs: &[&std::path::Path]) -> anyhow::Result<()> {
    if std::env::var("GITHUB_ACTIONS").as_deref() != Ok("true") {
        return Ok(());
    }
    eprint!("{}", render_annotations(r));
    if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY") {
        let mut text = markdown::render_markdown(r);
        text.push('\n');
        crate::output::append_file(std::path::Path::new(&path), text.as_bytes(), inputs)
            .map_err(|e| crate::error::Error::Output(format!("$GITHUB_STEP_SUMMARY {e:#}")))?;
    }
    Ok(())
}
