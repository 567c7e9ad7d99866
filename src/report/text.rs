//! Terminal text report (ANSI colour when writing to a terminal).

use super::*;
use crate::gate::report_model::{GateReport, RuleOutcome, Verdict};

pub struct TextExporter {
    pub color: bool,
}

impl Exporter for TextExporter {
    fn render(&self, report: &GateReport) -> Vec<u8> {
        render_text(report, self.color).into_bytes()
    }
    fn file_name(&self) -> &'static str {
        "report.txt"
    }
}

struct Paint(bool);
impl Paint {
    fn c(&self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}

fn outcome_lines(s: &mut String, p: &Paint, title: &str, code: &str, rows: &[&RuleOutcome]) {
    if rows.is_empty() {
        return;
    }
    s.push_str(&p.c(code, &format!("{title}:\n")));
    for o in rows {
        let [metric, base, head, change, interval, p_adj, limit] = outcome_cells(o);
        s.push_str(&format!(
            "  {}  {base} -> {head}  change {change}  interval {interval}  p(adj) {p_adj}  [{}: {limit}]\n",
            p.c("1", &metric),
            o.rule,
        ));
        s.push_str(&format!("      {}\n", o.reason));
        if let Some(why) = &o.accepted {
            s.push_str(&format!("      accepted: {why}\n"));
        }
        if !o.attribution.is_empty() {
            s.push_str(&format!(
                "      moved most by: {}\n",
                fmt_attribution(o.kind, &o.attribution)
            ));
        }
    }
    s.push('\n');
}

pub fn render_text(r: &GateReport, color: bool) -> String {
    let p = Paint(color);
    let mut s = String::new();
    headline(&mut s, &p, r);
    outcome_sections(&mut s, &p, r);
    reach_lines(&mut s, r);
    mover_lines(&mut s, r);
    s.push_str(&crate::gate::check::render_text(&r.checks, false));
    s.push('\n');
    s.push_str(&statistics_line(r));
    s.push('\n');
    s.push_str(&details_line(r).replace('`', ""));
    s.push('\n');
    diff_lines(&mut s, &p, r);
    s
}

/// The verdict (coloured), the setup line, the loud notes and the optional rules unchecked.
fn headline(s: &mut String, p: &Paint, r: &GateReport) {
    let code = match r.verdict {
        Verdict::Pass => "1;32",
        Verdict::Regression | Verdict::Error => "1;31",
        Verdict::Inconclusive => "1;33",
    };
    s.push_str(&p.c(code, &verdict_line(r)));
    s.push('\n');
    s.push_str(&setup_line(r));
    s.push_str("\n\n");
    let loud = super::loud_notes(r);
    for n in &loud {
        s.push_str(&p.c("1;33", &format!("note: {n}\n")));
    }
    if !loud.is_empty() {
        s.push('\n');
    }
    if let Some(l) = optional_unchecked_line(r) {
        s.push_str(&format!("{l}\n\n"));
    }
}

/// Violated, accepted, warned and inconclusive outcomes, each list only when it has rows.
fn outcome_sections(s: &mut String, p: &Paint, r: &GateReport) {
    let sections: [(&str, &str, Vec<&RuleOutcome>); 4] = [
        ("Violated rules", "1;31", r.failing().collect()),
        (
            "Accepted (intended) changes",
            "1;36",
            r.accepted().collect(),
        ),
        ("Warnings", "1;33", r.warnings().collect()),
        ("Inconclusive", "1;33", r.inconclusive().collect()),
    ];
    for (title, code, rows) in &sections {
        outcome_lines(s, p, title, code, rows);
    }
}

/// The reach line and one line per changed place, unreached first.
fn reach_lines(s: &mut String, r: &GateReport) {
    if let (Some(line), Some(x)) = (reach_line(r), &r.reach) {
        s.push_str(&format!("{line}\n"));
        for row in reach_rows(x) {
            let seen = if row.reached {
                "reached"
            } else {
                "NEVER reached"
            };
            s.push_str(&format!(
                "  {}  {}  {}  {seen}\n",
                row.locations, row.scope, row.counters
            ));
        }
        s.push('\n');
    }
}

/// The changed-metrics line and the top movers, metric names in one aligned column.
fn mover_lines(s: &mut String, r: &GateReport) {
    s.push_str(&format!("Changed metrics: {}\n", movers_line(r)));
    if !r.top_movers.is_empty() {
        let w = r
            .top_movers
            .iter()
            .map(|m| mover_cells(m)[0].len())
            .max()
            .unwrap_or(0);
        for m in &r.top_movers {
            let [metric, ..] = mover_cells(m);
            s.push_str(&format!(
                "  {:<w$}  {:>12} -> {:<12}  {}  {}\n",
                metric,
                fmt_value(m.kind, m.base),
                fmt_value(m.kind, m.head),
                fmt_change(m.kind, m.change, m.relative_change),
                fmt_interval(m.kind, m.ci_low, m.ci_high, m.deterministic),
            ));
        }
        s.push('\n');
    }
}

/// The diff of the single-set reports, added lines green and removed ones red.
fn diff_lines(s: &mut String, p: &Paint, r: &GateReport) {
    if let Some(d) = r.summary_diff.as_ref().map(super::summary_diff_text) {
        s.push_str("\nDiff of the single-set reports:\n");
        for line in d.lines() {
            let painted = if line.starts_with('+') && !line.starts_with("+++") {
                p.c("32", line)
            } else if line.starts_with('-') && !line.starts_with("---") {
                p.c("31", line)
            } else {
                line.to_string()
            };
            s.push_str(&painted);
            s.push('\n');
        }
    }
}
