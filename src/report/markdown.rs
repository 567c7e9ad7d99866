//! Markdown for a PR comment: verdict first, then violations, inconclusive rules, movers, details.

use super::*;
use crate::check::CheckStatus;
use crate::verdict::{GateReport, RuleOutcome, Verdict};

pub struct MarkdownExporter;

impl Exporter for MarkdownExporter {
    fn render(&self, report: &GateReport) -> Vec<u8> {
        render_markdown(report).into_bytes()
    }
    fn file_name(&self) -> &'static str {
        "report.md"
    }
}

/// Escapes text for a markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn outcome_table(s: &mut String, rows: &[&RuleOutcome], conf: f64, with_needed: bool) {
    s.push_str(&format!(
        "| Metric | Base | Head | Change | {:.0}% interval | p (adj.) | Rule |{}\n",
        conf * 100.0,
        if with_needed { " Repeats needed |" } else { "" }
    ));
    s.push_str(&format!(
        "|---|--:|--:|--:|--:|--:|---|{}\n",
        if with_needed { "--:|" } else { "" }
    ));
    for o in rows {
        let [metric, base, head, change, interval, p, limit] = outcome_cells(o);
        s.push_str(&format!(
            "| `{}` | {base} | {head} | {change} | {interval} | {p} | `{}`: {} |{}\n",
            cell(&metric),
            cell(&o.rule),
            cell(&limit),
            if with_needed {
                format!(
                    " {} |",
                    o.repeats_needed
                        .map(|n| n.to_string())
                        .unwrap_or_else(|| "many".into())
                )
            } else {
                String::new()
            }
        ));
    }
    let attributed: Vec<&&RuleOutcome> =
        rows.iter().filter(|o| !o.attribution.is_empty()).collect();
    if !attributed.is_empty() {
        s.push_str("\nBenchmarks that moved it most:\n");
        for o in attributed {
            s.push_str(&format!(
                "- `{}`: {}\n",
                o.metric,
                fmt_attribution(o.kind, &o.attribution)
            ));
        }
    }
    s.push('\n');
}

/// GitHub rejects comments over 65,536 characters; the folded parts are cut to fit.
pub const COMMENT_BUDGET: usize = 60_000;

/// `text` cut at a line boundary to at most `budget` bytes, with a note saying where the rest is.
fn fit(text: &str, budget: usize, elsewhere: &str) -> String {
    if text.len() <= budget {
        return text.to_string();
    }
    let mut cut = budget.min(text.len());
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let cut = text[..cut].rfind('\n').map(|i| i + 1).unwrap_or(0);
    format!(
        "{}\n_Truncated to fit a PR comment ({} of {} characters shown); see {elsewhere} for the rest._\n",
        &text[..cut],
        cut,
        text.len()
    )
}

pub fn render_markdown(r: &GateReport) -> String {
    let mut s = String::new();
    let icon = match r.verdict {
        Verdict::Pass => ":white_check_mark:",
        Verdict::Regression => ":x:",
        Verdict::Inconclusive => ":warning:",
        Verdict::Error => ":stop_sign:",
    };
    s.push_str(&format!("## {icon} {}\n\n", verdict_line(r)));
    s.push_str(&format!("{}\n\n", setup_line(r)));
    for n in &r.notes {
        s.push_str(&format!("> **{}**\n>\n", cell(n)));
    }
    if !r.notes.is_empty() {
        s.push('\n');
    }
    let failing: Vec<&RuleOutcome> = r.failing().collect();
    if !failing.is_empty() {
        s.push_str("### Violated rules\n\n");
        outcome_table(&mut s, &failing, r.confidence, false);
        for o in &failing {
            if !o.description.is_empty() {
                s.push_str(&format!(
                    "- **{}** ({}): {}\n",
                    o.rule,
                    cell(&o.reason),
                    cell(&o.description)
                ));
            }
        }
        s.push('\n');
    }
    let warns: Vec<&RuleOutcome> = r.warnings().collect();
    if !warns.is_empty() {
        s.push_str("### Warnings\n\n");
        outcome_table(&mut s, &warns, r.confidence, false);
    }
    let inc: Vec<&RuleOutcome> = r.inconclusive().collect();
    if !inc.is_empty() {
        s.push_str(
            "### Inconclusive\n\nToo few repeats to tell whether these limits are exceeded.\n\n",
        );
        outcome_table(&mut s, &inc, r.confidence, true);
    }
    if failing.is_empty() && warns.is_empty() && inc.is_empty() {
        let evaluated = r
            .outcomes
            .iter()
            .filter(|o| o.status != crate::verdict::OutcomeStatus::Skipped)
            .count();
        s.push_str(&format!("All {evaluated} rule check(s) pass.\n\n"));
    }
    s.push_str("### Top movers\n\n");
    if r.top_movers.is_empty() {
        s.push_str("No metric changed beyond its noise floor.\n\n");
    } else {
        s.push_str(&format!("| Metric | Base | Head | Change | {:.0}% interval | q | Benchmarks |\n|---|--:|--:|--:|--:|--:|---|\n", r.confidence * 100.0));
        for m in &r.top_movers {
            let [metric, base, head, change, interval, q, by] = mover_cells(m);
            s.push_str(&format!(
                "| `{}` | {base} | {head} | {change} | {interval} | {q} | {} |\n",
                cell(&metric),
                cell(&by)
            ));
        }
        s.push('\n');
    }
    s.push_str("### Consistency checks\n\n");
    for c in &r.checks {
        let bad = c.with_status(CheckStatus::Violated);
        let excepted = c.with_status(CheckStatus::Excepted);
        s.push_str(&format!(
            "- **{}**: {}{}\n",
            c.label,
            if bad.is_empty() {
                "ok".to_string()
            } else {
                format!(":x: {} invariant(s) violated", bad.len())
            },
            if excepted.is_empty() {
                String::new()
            } else {
                format!(
                    " (known exceptions: {})",
                    excepted
                        .iter()
                        .map(|x| format!("`{}`", x.id))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        ));
        for b in bad {
            s.push_str(&format!("  - `{}` ({}):\n", b.id, cell(&b.statement)));
            for v in b
                .violations
                .iter()
                .filter(|v| v.excepted.is_none())
                .take(10)
            {
                s.push_str(&format!("    - {}: {}\n", cell(&v.scope), cell(&v.detail)));
            }
        }
    }
    s.push_str(&format!("\n<sub>{}</sub>\n\n", statistics_line(r)));
    s.push_str("<details>\n<summary>Full comparative report</summary>\n\n");
    match &r.full_report_markdown {
        Some(md) => s.push_str(&fit(
            md,
            COMMENT_BUDGET.saturating_sub(s.len() + 2_000),
            "the JSON or HTML report",
        )),
        None => s.push_str("_The full comparative report is not available in this build._\n"),
    }
    s.push_str("\n</details>\n");
    if let Some(diff) = &r.summary_diff {
        s.push_str("\n<details>\n<summary>Diff of the single-set reports</summary>\n\n```diff\n");
        s.push_str(&fit(
            diff,
            COMMENT_BUDGET.saturating_sub(s.len() + 200),
            "`compare --diff` output",
        ));
        s.push_str("```\n\n</details>\n");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::fit;

    #[test]
    fn fit_cuts_at_a_line_boundary() {
        let text = "aaaa\nbbbb\ncccc\n";
        assert_eq!(fit(text, 100, "x"), text);
        let cut = fit(text, 12, "the JSON report");
        assert!(cut.starts_with("aaaa\nbbbb\n\n_Truncated"), "{cut}");
        assert!(cut.contains("(10 of 15 characters shown)"), "{cut}");
    }
}
