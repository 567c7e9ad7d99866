//! Markdown for a PR comment: verdict, violated/accepted/inconclusive rules once each, changed metrics, within a size budget.
//!
//! The comment fits `--comment-bytes` (default 10,000): sections are added whole in order of
//! importance, a table keeps as many whole rows as fit, and whatever is left out is named at
//! the end. Nothing is ever cut inside markup; the full reports are linked instead.

use super::*;
use crate::gate::check::CheckStatus;
use crate::gate::report_model::{GateReport, RuleOutcome, Verdict};

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

/// One section of the comment: a heading and text, a table of rows, closing text.
struct Section {
    name: String,
    head: String,
    rows: Vec<String>,
    tail: String,
    /// All rows or none (a code block is not cut).
    whole: bool,
}

impl Section {
    fn text(&self, rows: usize) -> String {
        let mut s = self.head.clone();
        for r in &self.rows[..rows] {
            s.push_str(r);
        }
        if rows < self.rows.len() {
            s.push_str(&format!(
                "\n_{} more row(s) left out to fit the comment; see the full reports._\n",
                self.rows.len() - rows
            ));
        }
        s.push_str(&self.tail);
        s
    }
}

/// A column some outcome tables add: its heading and its cell.
type ExtraColumn<'a> = (&'a str, &'a dyn Fn(&RuleOutcome) -> String);

/// Rows of violated, warned, accepted or inconclusive outcomes: each outcome once, with its
/// limit, interval and the benchmarks that moved it.
fn outcome_section(
    name: &str,
    intro: &str,
    rows: &[&RuleOutcome],
    conf: f64,
    extra: Option<ExtraColumn>,
) -> Option<Section> {
    if rows.is_empty() {
        return None;
    }
    let (extra_head, extra_cell) = match extra {
        Some((h, f)) => (format!(" {h} |"), Some(f)),
        None => (String::new(), None),
    };
    let mut head = format!("### {name} ({})\n\n", rows.len());
    if !intro.is_empty() {
        head.push_str(&format!("{intro}\n\n"));
    }
    head.push_str(&format!(
        "| Rule | Metric | Base | Head | Change | {:.0}% interval | p (adj.) | Limit | Moved by |{extra_head}\n|---|---|--:|--:|--:|--:|--:|---|---|{}\n",
        conf * 100.0,
        if extra_cell.is_some() { "---|" } else { "" }
    ));
    let table_rows = rows
        .iter()
        .map(|o| {
            let [metric, base, head, change, interval, p, limit] = outcome_cells(o);
            let by = fmt_attribution(o.kind, &o.attribution);
            let extra = extra_cell
                .map(|f| format!(" {} |", cell(&f(o))))
                .unwrap_or_default();
            format!(
                "| `{}` | `{}` | {base} | {head} | {change} | {interval} | {p} | {} | {} |{extra}\n",
                cell(&o.rule),
                cell(&metric),
                cell(&limit),
                if by.is_empty() { "-".into() } else { cell(&by) },
            )
        })
        .collect();
    // Each rule's description once, however many metrics it covers.
    let mut described: Vec<&str> = vec![];
    let mut tail = String::from("\n");
    for o in rows {
        if !o.description.is_empty() && !described.contains(&o.rule.as_str()) {
            described.push(&o.rule);
            tail.push_str(&format!("- `{}`: {}\n", o.rule, cell(&o.description)));
        }
    }
    if described.is_empty() {
        tail.clear();
    }
    tail.push('\n');
    Some(Section {
        name: name.to_lowercase(),
        head,
        rows: table_rows,
        tail,
        whole: false,
    })
}

fn movers_section(r: &GateReport) -> Section {
    let mut head = format!("### Changed metrics\n\n{}\n\n", movers_line(r));
    if !r.top_movers.is_empty() {
        head.push_str(&format!(
            "| Metric | Base | Head | Change | {:.0}% interval | q | Moved by |\n|---|--:|--:|--:|--:|--:|---|\n",
            r.confidence * 100.0
        ));
    }
    let rows = r
        .top_movers
        .iter()
        .map(|m| {
            let [_, base, head, change, interval, q, by] = mover_cells(m);
            let mut metric = format!("`{}`", cell(&m.metric));
            if !m.same_as.is_empty() {
                let same: Vec<String> =
                    m.same_as.iter().map(|x| format!("`{}`", cell(x))).collect();
                metric.push_str(&format!(" (= {})", same.join(", ")));
            }
            format!(
                "| {metric} | {base} | {head} | {change} | {interval} | {q} | {} |\n",
                if by.is_empty() { "-".into() } else { cell(&by) }
            )
        })
        .collect();
    let tail = if r.top_movers.is_empty() { "" } else { "\n" };
    Section {
        name: "changed metrics".into(),
        head,
        rows,
        tail: tail.into(),
        whole: false,
    }
}

/// The consistency checks, one list line per row: the budget cuts whole lines.
fn checks_section(r: &GateReport) -> Section {
    let mut rows = vec![];
    for c in &r.checks {
        let bad = c.with_status(CheckStatus::Violated);
        let excepted = c.with_status(CheckStatus::Excepted);
        rows.push(format!(
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
            rows.push(format!("  - `{}` ({}):\n", b.id, cell(&b.statement)));
            for v in b.violations.iter().filter(|v| v.excepted.is_none()) {
                rows.push(format!("    - {}: {}\n", cell(&v.scope), cell(&v.detail)));
            }
        }
    }
    Section {
        name: "consistency checks".into(),
        head: "### Consistency checks\n\n".into(),
        rows,
        tail: "\n".into(),
        whole: false,
    }
}

/// What the change touches: unreached places first, then reached ones (one row each).
fn reach_section(r: &GateReport) -> Option<Section> {
    let x = r.reach.as_ref()?;
    let line = reach_line(r)?;
    let mut rows: Vec<String> = vec![];
    for row in reach_rows(x) {
        rows.push(format!(
            "| `{}` | `{}` | `{}` | {} |\n",
            cell(&row.locations),
            cell(&row.scope),
            cell(&row.counters),
            if row.reached { "yes" } else { "**never**" }
        ));
    }
    let table = if rows.is_empty() {
        ""
    } else {
        "| Changed | In | Counter | Corpus reaches it |\n|---|---|---|---|\n"
    };
    Some(Section {
        name: "What the change touches".into(),
        head: format!("### What the change touches\n\n{}.\n\n{table}", cell(&line)),
        rows,
        tail: "\n".into(),
        whole: false,
    })
}

/// The sections after the headline, most important first.
fn sections(r: &GateReport) -> Vec<Section> {
    let conf = r.confidence;
    let failing: Vec<&RuleOutcome> = r.failing().collect();
    let accepted: Vec<&RuleOutcome> = r.accepted().collect();
    let inc: Vec<&RuleOutcome> = r.inconclusive().collect();
    let warns: Vec<&RuleOutcome> = r.warnings().collect();
    let reason = |o: &RuleOutcome| o.accepted.clone().unwrap_or_default();
    let needed = |o: &RuleOutcome| {
        o.repeats_needed
            .map(|n| n.to_string())
            .unwrap_or_else(|| "many".into())
    };
    let mut out: Vec<Section> = [
        outcome_section("Violated rules", "", &failing, conf, None),
        outcome_section(
            "Accepted changes",
            "Violated or inconclusive, accepted as intended (`--accept` or a `Pystats-Accept:` commit trailer): they do not fail the gate.",
            &accepted,
            conf,
            Some(("Reason", &reason)),
        ),
        outcome_section(
            "Inconclusive",
            "The interval straddles the limit: see the note above for why and what settles it.",
            &inc,
            conf,
            Some(("Repeats needed", &needed)),
        ),
        outcome_section(
            "Warnings",
            "Warn-level rules: they fail the gate only with `--fail-on-warn`.",
            &warns,
            conf,
            None,
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    out.extend(reach_section(r));
    if r.verdict != Verdict::Pass || !r.top_movers.is_empty() {
        out.push(movers_section(r));
    }
    if !r.checks_ok() {
        out.push(checks_section(r));
    }
    if let Some(diff) = r.summary_diff.as_ref().map(super::summary_diff_text) {
        out.push(Section {
            name: "diff of the single-set reports".into(),
            head: "<details>\n<summary>Diff of the single-set reports</summary>\n\n```diff\n"
                .into(),
            rows: diff.lines().map(|l| format!("{l}\n")).collect(),
            tail: "```\n\n</details>\n\n".into(),
            whole: true,
        });
    }
    out
}

pub fn render_markdown(r: &GateReport) -> String {
    let mut s = headline(r);
    let footer = footer(r);
    let left_out = add_sections(&mut s, footer.len(), r);
    s.push_str(&footer);
    if !left_out.is_empty() {
        s.push_str(&format!(
            "\n_Left out to stay under {} bytes (`--comment-bytes`): {}. They are in the full reports._\n",
            crate::text::group_digits(&r.display.comment_bytes.to_string()),
            left_out.join("; ")
        ));
    }
    s
}

/// The verdict with its icon, the setup line and the loud notes as quotes.
fn headline(r: &GateReport) -> String {
    let icon = match r.verdict {
        Verdict::Pass => ":white_check_mark:",
        Verdict::Regression => ":x:",
        Verdict::Inconclusive => ":warning:",
        Verdict::Error => ":stop_sign:",
    };
    let mut s = format!("## {icon} {}\n\n{}\n\n", verdict_line(r), setup_line(r));
    let loud = super::loud_notes(r);
    for n in &loud {
        s.push_str(&format!("> **{}**\n>\n", cell(n)));
    }
    if !loud.is_empty() {
        s.push('\n');
    }
    s
}

/// The closing lines, always shown: passing and skipped rule checks, consistency checks,
/// optional rules not checked, where the details are, and the statistics footnote.
fn footer(r: &GateReport) -> String {
    let count = |st: crate::gate::report_model::OutcomeStatus| {
        r.outcomes.iter().filter(|o| o.status == st).count()
    };
    let passing = count(crate::gate::report_model::OutcomeStatus::Pass);
    let skipped = count(crate::gate::report_model::OutcomeStatus::Skipped);
    let rules_line = format!(
        "{passing} {}rule check(s) pass{}; consistency checks {}. ",
        if passing + skipped == r.outcomes.len() {
            ""
        } else {
            "other "
        },
        if skipped > 0 {
            format!(", {skipped} skipped (below `min_count`)")
        } else {
            String::new()
        },
        if r.checks_ok() {
            "ok"
        } else {
            "FAILED (see above)"
        }
    );
    // The PR comment stays a few lines: it names the first three; `report.txt` names all.
    let optional = super::prose::optional_short(&r.unchecked_rules, cell);
    let mut footer = format!("{rules_line}{optional}{}\n\n", details_line(r));
    footer.push_str(&format!("<sub>{}</sub>\n", statistics_line(r)));
    footer
}

/// Appends the sections, most important first, each whole or with as many whole rows as
/// fit the comment's budget beside a footer of `footer_len` bytes; returns what was left out.
fn add_sections(s: &mut String, footer_len: usize, r: &GateReport) -> Vec<String> {
    // Room for the list of left-out sections.
    const NOTE_ROOM: usize = 400;
    let budget = r.display.comment_bytes.saturating_sub(NOTE_ROOM);
    let mut left_out: Vec<String> = vec![];
    for sec in sections(r) {
        let room = budget.saturating_sub(s.len() + footer_len);
        let mut rows = sec.rows.len();
        while rows > 0 && sec.text(rows).len() > room && !sec.whole {
            rows -= 1;
        }
        let text = sec.text(rows);
        if text.len() > room || (rows == 0 && !sec.rows.is_empty()) {
            left_out.push(sec.name.clone());
            continue;
        }
        if rows < sec.rows.len() {
            left_out.push(format!(
                "{} of {} rows of {}",
                sec.rows.len() - rows,
                sec.rows.len(),
                sec.name
            ));
        }
        s.push_str(&text);
    }
    left_out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn section_text_keeps_whole_rows_and_counts_the_rest() {
        let sec = Section {
            name: "x".into(),
            head: "| a |\n|---|\n".into(),
            rows: vec!["| 1 |\n".into(), "| 2 |\n".into(), "| 3 |\n".into()],
            tail: "\n".into(),
            whole: false,
        };
        assert_eq!(sec.text(3), "| a |\n|---|\n| 1 |\n| 2 |\n| 3 |\n\n");
        let cut = sec.text(1);
        assert!(
            cut.starts_with("| a |\n|---|\n| 1 |\n\n_2 more row(s)"),
            "{cut}"
        );
    }
}
