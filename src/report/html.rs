//! Self-contained HTML report: inline CSS and SVG, no scripts, no network.
//!
//! Order: verdict, violated rules, warnings, inconclusive, per-family hit/miss/deferred bars
//! (base vs head), effectiveness split, top movers, checks, the full report folded.

use super::*;
use crate::gate::check::CheckStatus;
use crate::gate::report_model::{GateReport, MetricComparison, RuleOutcome, Verdict};

pub struct HtmlExporter;

impl Exporter for HtmlExporter {
    fn render(&self, report: &GateReport) -> Vec<u8> {
        render_html(report).into_bytes()
    }
    fn file_name(&self) -> &'static str {
        "report.html"
    }
}

const STYLE: &str = r#"
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f6f7f9;color:#1d2430}
main{max-width:1100px;margin:0 auto;padding:16px 20px 40px}
h1{font-size:1.5rem;margin:0}
h2{font-size:1.15rem;margin:28px 0 8px;border-bottom:1px solid #d5d9e0;padding-bottom:4px}
.banner{border-radius:8px;padding:14px 18px;color:#fff;margin-bottom:10px}
.pass{background:#1f883d}.regression{background:#cf222e}.inconclusive{background:#bf8700}.error{background:#6e2b8a}
.setup{font-size:.9rem;opacity:.95;margin-top:6px;overflow-wrap:anywhere}
.note{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:8px 12px;margin:6px 0;font-weight:600}
table{border-collapse:collapse;width:100%;background:#fff;font-size:.85rem;table-layout:auto}
th,td{border:1px solid #d5d9e0;padding:4px 6px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#eef1f5}
td.num{text-align:right;white-space:nowrap}
code{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:.82rem}
.bad{color:#cf222e;font-weight:600}.ok{color:#1f883d}
.legend span{display:inline-block;margin-right:14px;font-size:.85rem}
.sw{display:inline-block;width:11px;height:11px;margin-right:4px;vertical-align:middle;border-radius:2px}
svg{display:block;width:100%;height:auto;background:#fff;border:1px solid #d5d9e0;border-radius:6px}
details{margin-top:18px;background:#fff;border:1px solid #d5d9e0;border-radius:6px;padding:8px 12px}
pre{white-space:pre-wrap;overflow-wrap:anywhere;font-size:.78rem}
.small{font-size:.8rem;color:#57606a}
"#;

const HIT: &str = "#2da44e";
const MISS: &str = "#cf222e";
const DEFERRED: &str = "#e3a008";
const REST: &str = "#c8ced6";

fn outcome_table(s: &mut String, title: &str, rows: &[&RuleOutcome], conf: f64, needed: bool) {
    if rows.is_empty() {
        return;
    }
    s.push_str(&format!("<h2>{}</h2>\n<table><thead><tr><th>Metric</th><th>Base</th><th>Head</th><th>Change</th><th>{:.0}% interval</th><th>p (adj.)</th><th>Rule</th>{}<th>Moved most by</th></tr></thead><tbody>\n", crate::text::html_escape(title), conf * 100.0, if needed { "<th>Repeats needed</th>" } else { "" }));
    for o in rows {
        let [metric, base, head, change, interval, p, limit] =
            outcome_cells(o).map(|c| crate::text::html_escape(&c));
        s.push_str(&format!(
            "<tr><td><code>{metric}</code></td><td class=num>{base}</td><td class=num>{head}</td><td class=num>{change}</td><td class=num>{interval}</td><td class=num>{p}</td><td><b>{}</b>: {limit}<br><span class=small>{}</span></td>{}<td>{}</td></tr>\n",
            crate::text::html_escape(&o.rule),
            crate::text::html_escape(&match &o.accepted {
                Some(why) => format!("{} Accepted: {why}", o.reason),
                None => o.reason.to_string(),
            }),
            if needed { format!("<td class=num>{}</td>", o.repeats_needed.map(|n| n.to_string()).unwrap_or_else(|| "many".into())) } else { String::new() },
            crate::text::html_escape(&fmt_attribution(o.kind, &o.attribution)),
        ));
    }
    s.push_str("</tbody></table>\n");
}

fn lookup<'a>(r: &'a GateReport, name: &str) -> Option<&'a MetricComparison> {
    r.comparisons.iter().find(|c| c.name == name)
}

/// One stacked bar: segments of (fraction, colour, label) from x0 over `width`.
fn bar(svg: &mut String, x0: f64, y: f64, width: f64, h: f64, segs: &[(f64, &str, &str)]) {
    let mut x = x0;
    for (frac, color, label) in segs {
        let w = (frac.clamp(0.0, 1.0)) * width;
        if w > 0.0 {
            svg.push_str(&format!(
                "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"{color}\"><title>{} {:.2}%</title></rect>",
                crate::text::html_escape(label),
                frac * 100.0
            ));
        }
        x += w;
    }
    svg.push_str(&format!("<rect x=\"{x0:.1}\" y=\"{y:.1}\" width=\"{width:.1}\" height=\"{h:.1}\" fill=\"none\" stroke=\"#8c959f\" stroke-width=\"0.5\"/>"));
}

fn family_chart(r: &GateReport, violated: &[String]) -> String {
    let mut fams: Vec<&str> = r
        .comparisons
        .iter()
        .filter_map(|c| {
            c.name
                .strip_prefix("family.")
                .and_then(|n| n.strip_suffix(".hit_ratio"))
        })
        .collect();
    fams.sort();
    fams.dedup();
    if fams.is_empty() {
        return "<p class=small>No specialization family executed.</p>".into();
    }
    let row_h = 46.0;
    let (label_w, bar_w, total_w) = (190.0, 560.0, 1040.0);
    let height = 24.0 + row_h * fams.len() as f64;
    let mut svg = format!("<svg viewBox=\"0 0 {total_w} {height}\" role=\"img\" aria-label=\"Per-family hit, miss and deferred shares, base vs head\" font-family=\"system-ui,sans-serif\" font-size=\"12\">");
    svg.push_str(&format!("<text x=\"{label_w}\" y=\"14\" fill=\"#57606a\">share of the family's executions (hit + miss + unspecialized), base (upper) vs head (lower)</text>"));
    for (i, f) in fams.iter().enumerate() {
        let y = 24.0 + row_h * i as f64;
        let is_bad = violated.iter().any(|v| v == f);
        let get = |field: &str, head: bool| {
            lookup(r, &format!("family.{f}.{field}"))
                .map(|c| {
                    if head {
                        c.stats.head_mean
                    } else {
                        c.stats.base_mean
                    }
                })
                .unwrap_or(0.0)
        };
        if is_bad {
            svg.push_str(&format!("<rect x=\"2\" y=\"{:.1}\" width=\"{}\" height=\"{:.1}\" fill=\"#ffebe9\" stroke=\"{MISS}\"/>", y - 3.0, total_w - 4.0, row_h - 4.0));
        }
        svg.push_str(&format!(
            "<text x=\"8\" y=\"{:.1}\" font-weight=\"{}\" fill=\"{}\">{}{}</text>",
            y + 19.0,
            if is_bad { "700" } else { "400" },
            if is_bad { MISS } else { "#1d2430" },
            crate::text::html_escape(f),
            if is_bad { " \u{2716} violated" } else { "" }
        ));
        for (k, head) in [false, true].into_iter().enumerate() {
            let (hit, miss, deferred) = (
                get("hit_ratio", head),
                get("miss_ratio", head),
                get("deferred_ratio", head),
            );
            let rest = (1.0 - hit - miss - deferred).max(0.0);
            let yy = y + k as f64 * 18.0;
            bar(
                &mut svg,
                label_w,
                yy,
                bar_w,
                14.0,
                &[
                    (hit, HIT, "hit"),
                    (miss, MISS, "miss"),
                    (deferred, DEFERRED, "deferred"),
                    (rest, REST, "other unspecialized"),
                ],
            );
            svg.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#1d2430\">{} hit {:.1}% miss {:.1}% def {:.1}%</text>",
                label_w + bar_w + 8.0,
                yy + 11.5,
                if head { "head" } else { "base" },
                hit * 100.0,
                miss * 100.0,
                deferred * 100.0
            ));
        }
    }
    svg.push_str("</svg>");
    svg
}

fn effectiveness_chart(r: &GateReport) -> String {
    let parts = [
        ("basic_share", "#8c959f", "basic"),
        ("not_specialized_share", DEFERRED, "not specialized"),
        ("specialized_hits_share", HIT, "specialized hits"),
        ("specialized_misses_share", MISS, "specialized misses"),
    ];
    let (label_w, bar_w, total_w) = (80.0, 900.0, 1040.0);
    let mut svg = format!("<svg viewBox=\"0 0 {total_w} 70\" role=\"img\" aria-label=\"Effectiveness split\" font-family=\"system-ui,sans-serif\" font-size=\"12\">");
    for (k, head) in [false, true].into_iter().enumerate() {
        let y = 10.0 + 28.0 * k as f64;
        svg.push_str(&format!(
            "<text x=\"8\" y=\"{:.1}\">{}</text>",
            y + 15.0,
            if head { "head" } else { "base" }
        ));
        let segs: Vec<(f64, &str, &str)> = parts
            .iter()
            .map(|(m, c, l)| {
                (
                    lookup(r, &format!("effectiveness.{m}"))
                        .map(|x| {
                            if head {
                                x.stats.head_mean
                            } else {
                                x.stats.base_mean
                            }
                        })
                        .unwrap_or(0.0),
                    *c,
                    *l,
                )
            })
            .collect();
        bar(&mut svg, label_w, y, bar_w, 20.0, &segs);
    }
    svg.push_str("</svg>");
    let mut legend = String::from("<div class=legend>");
    for (m, c, l) in parts {
        let fmt = |head: bool| {
            lookup(r, &format!("effectiveness.{m}"))
                .map(|x| {
                    format!(
                        "{:.1}%",
                        100.0
                            * if head {
                                x.stats.head_mean
                            } else {
                                x.stats.base_mean
                            }
                    )
                })
                .unwrap_or_else(|| "0%".into())
        };
        legend.push_str(&format!(
            "<span><i class=sw style=\"background:{c}\"></i>{l}: {} &rarr; {}</span>",
            fmt(false),
            fmt(true)
        ));
    }
    legend.push_str("</div>");
    svg + &legend
}

/// What the change touches: the reach line and one row per changed place, unreached first.
fn reach_table(s: &mut String, r: &GateReport) {
    if let (Some(line), Some(x)) = (reach_line(r), &r.reach) {
        s.push_str(&format!(
            "<h2 id=reach>What the change touches</h2><p>{}</p>\n",
            crate::text::html_escape(&line)
        ));
        if !x.places.is_empty() {
            s.push_str("<table><tr><th>Changed</th><th>In</th><th>Counter</th><th>Corpus reaches it</th></tr>\n");
            for row in reach_rows(x) {
                s.push_str(&format!(
                    "<tr><td><code>{}</code></td><td><code>{}</code></td><td><code>{}</code></td><td>{}</td></tr>\n",
                    crate::text::html_escape(&row.locations),
                    crate::text::html_escape(&row.scope),
                    crate::text::html_escape(&row.counters),
                    if row.reached { "yes" } else { "<b>never</b>" }
                ));
            }
            s.push_str("</table>\n");
        }
    }
}

pub fn render_html(r: &GateReport) -> String {
    let mut s = String::new();
    head_and_banner(&mut s, r);
    notes_section(&mut s, r);
    rule_tables(&mut s, r);
    reach_table(&mut s, r);
    all_rules_pass(&mut s, r);
    family_section(&mut s, r);
    s.push_str("\n<h2>Effectiveness (share of all Tier 1 instructions)</h2>\n");
    s.push_str(&effectiveness_chart(r));
    movers_section(&mut s, r);
    checks_section(&mut s, r);
    closing(&mut s, r);
    s
}

/// The document head and the verdict banner (coloured by verdict) with the setup line.
fn head_and_banner(s: &mut String, r: &GateReport) {
    let class = match r.verdict {
        Verdict::Pass => "pass",
        Verdict::Regression => "regression",
        Verdict::Inconclusive => "inconclusive",
        Verdict::Error => "error",
    };
    s.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">");
    s.push_str(&format!(
        "<title>{}</title><style>{STYLE}</style></head><body><main>\n",
        crate::text::html_escape(&verdict_line(r))
    ));
    s.push_str(&format!(
        "<div class=\"banner {class}\" id=\"verdict\"><h1>{}</h1><div class=setup>{}</div></div>\n",
        crate::text::html_escape(&verdict_line(r)),
        crate::text::html_escape(&setup_line(r))
    ));
}

/// The loud notes and what the gate could not check, then the optional rules left unchecked.
fn notes_section(s: &mut String, r: &GateReport) {
    for n in super::loud_notes(r) {
        s.push_str(&format!(
            "<div class=note>{}</div>\n",
            crate::text::html_escape(&n)
        ));
    }
    if let Some(l) = optional_unchecked_line(r) {
        s.push_str(&format!("<p>{}</p>\n", crate::text::html_escape(&l)));
    }
}

/// Violated, accepted, warned and inconclusive outcomes, each table only when it has rows.
fn rule_tables(s: &mut String, r: &GateReport) {
    let failing: Vec<&RuleOutcome> = r.failing().collect();
    outcome_table(s, "Violated rules", &failing, r.confidence, false);
    outcome_table(
        s,
        "Accepted (intended) changes",
        &r.accepted().collect::<Vec<_>>(),
        r.confidence,
        false,
    );
    outcome_table(
        s,
        "Warnings",
        &r.warnings().collect::<Vec<_>>(),
        r.confidence,
        false,
    );
    outcome_table(
        s,
        "Inconclusive",
        &r.inconclusive().collect::<Vec<_>>(),
        r.confidence,
        true,
    );
}

/// Says so when no rule failed, warned or stayed inconclusive.
fn all_rules_pass(s: &mut String, r: &GateReport) {
    if r.failing().next().is_none()
        && r.warnings().next().is_none()
        && r.inconclusive().next().is_none()
    {
        s.push_str("<h2>Rules</h2><p class=ok>Every rule passes.</p>\n");
    }
}

/// The per-family hit/miss/deferred chart, the families of violated rules marked.
fn family_section(s: &mut String, r: &GateReport) {
    let violated_families: Vec<String> = r
        .outcomes
        .iter()
        .filter(|o| o.status == crate::gate::report_model::OutcomeStatus::Regression)
        .filter_map(|o| {
            o.metric
                .strip_prefix("family.")
                .and_then(|x| x.split('.').next())
                .map(str::to_string)
        })
        .collect();
    s.push_str("<h2>Specialization families</h2>\n<div class=legend>");
    for (c, l) in [
        (HIT, "hit"),
        (MISS, "miss"),
        (DEFERRED, "deferred"),
        (REST, "other unspecialized"),
    ] {
        s.push_str(&format!(
            "<span><i class=sw style=\"background:{c}\"></i>{l}</span>"
        ));
    }
    s.push_str("</div>\n");
    s.push_str(&family_chart(r, &violated_families));
}

/// The changed-metrics line and the top movers' table.
fn movers_section(s: &mut String, r: &GateReport) {
    s.push_str("\n<h2>Changed metrics</h2>\n");
    s.push_str(&format!(
        "<p>{}</p>\n",
        crate::text::html_escape(&movers_line(r))
    ));
    if !r.top_movers.is_empty() {
        s.push_str(&format!("<table><thead><tr><th>Metric</th><th>Base</th><th>Head</th><th>Change</th><th>{:.0}% interval</th><th>q</th><th>Moved most by</th></tr></thead><tbody>\n", r.confidence * 100.0));
        for m in &r.top_movers {
            let [metric, base, head, change, interval, q, by] =
                mover_cells(m).map(|c| crate::text::html_escape(&c));
            s.push_str(&format!(
                "<tr><td><code>{metric}</code></td><td class=num>{base}</td><td class=num>{head}</td><td class=num>{change}</td><td class=num>{interval}</td><td class=num>{q}</td><td>{by}</td></tr>\n"
            ));
        }
        s.push_str("</tbody></table>\n");
    }
}

/// One item per consistency check: ok, or its violated invariants with their first
/// unexcepted violations.
fn checks_section(s: &mut String, r: &GateReport) {
    s.push_str("<h2>Consistency checks</h2><ul>\n");
    for c in &r.checks {
        let bad = c.with_status(CheckStatus::Violated);
        s.push_str(&format!(
            "<li><b>{}</b>: {}",
            crate::text::html_escape(&c.label),
            if bad.is_empty() {
                "<span class=ok>ok</span>".to_string()
            } else {
                format!("<span class=bad>{} invariant(s) violated</span>", bad.len())
            }
        ));
        for b in bad {
            s.push_str(&format!(
                "<br><code>{}</code>: ",
                crate::text::html_escape(&b.id)
            ));
            let v: Vec<String> = b
                .violations
                .iter()
                .filter(|v| v.excepted.is_none())
                .take(5)
                .map(|v| crate::text::html_escape(&format!("{}: {}", v.scope, v.detail)))
                .collect();
            s.push_str(&v.join("; "));
        }
        s.push_str("</li>\n");
    }
    s.push_str("</ul>\n");
}

/// The statistics footnote, the folded full report and summary diff, and the document's end.
fn closing(s: &mut String, r: &GateReport) {
    s.push_str(&format!(
        "<p class=small>{}</p>\n",
        crate::text::html_escape(&statistics_line(r))
    ));
    if let Some(summary) = &r.full_summary {
        s.push_str(&format!(
            "<details><summary>Full comparative report</summary><pre>{}</pre></details>\n",
            crate::text::html_escape(&summary_markdown(summary))
        ));
    }
    if let Some(d) = r.summary_diff.as_ref().map(super::summary_diff_text) {
        s.push_str(&format!(
            "<details><summary>Diff of the single-set reports</summary><pre>{}</pre></details>\n",
            crate::text::html_escape(&d)
        ));
    }
    s.push_str("</main></body></html>\n");
}
