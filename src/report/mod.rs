//! Report renderers: compute first, render last; renderers never recompute numbers.
//!
//! Every format implements [`Exporter`] over a finished [`GateReport`]; [`render`] picks one.
//! [`bisect`], [`history`] and [`mutants`] render those commands' models ([`crate::model`]).

pub mod bisect;
pub mod github;
pub mod history;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod mutants;
pub mod prose;
pub mod text;

pub use crate::gate::metrics::metric_label;
use crate::gate::metrics::{format_delta, format_value, MetricKind};
use crate::gate::report_model::{FullSummary, GateReport, SummaryDiff, Verdict};
pub use crate::gate::rules::fmt_limit;
use std::path::Path;

/// The full comparative summary as markdown (summarize_stats.py's tables), made when a
/// format shows it.
pub fn summary_markdown(s: &FullSummary) -> String {
    crate::stats::summary::render_markdown(&s.0)
}

/// The unified diff of the base and head single-set reports (summarize_stats.py's tables
/// as text), made when a format shows it.
pub fn summary_diff_text(d: &SummaryDiff) -> String {
    let a = crate::stats::summary::render_text(&d.base);
    let b = crate::stats::summary::render_text(&d.head);
    similar::TextDiff::from_lines(&a, &b)
        .unified_diff()
        .context_radius(2)
        .header(&d.base_label, &d.head_label)
        .to_string()
}

// report.json carries the diff as its text.
impl serde::Serialize for SummaryDiff {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&summary_diff_text(self))
    }
}

// report.json carries the summary as its markdown (`full_report_markdown`).
impl serde::Serialize for FullSummary {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&summary_markdown(self))
    }
}

/// Output formats of a gate report.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Json,
    /// Plain terminal text (no colour).
    Text,
    Junit,
    Html,
    /// `::error`/`::warning` workflow command lines.
    GithubAnnotations,
}

/// One output format (hyperfine-style exporter).
pub trait Exporter {
    fn render(&self, report: &GateReport) -> Vec<u8>;
    /// File name used by [`write_all`].
    fn file_name(&self) -> &'static str;
}

fn exporter(format: Format) -> Box<dyn Exporter> {
    match format {
        Format::Markdown => Box::new(markdown::MarkdownExporter),
        Format::Json => Box::new(json::JsonExporter),
        Format::Text => Box::new(text::TextExporter { color: false }),
        Format::Junit => Box::new(junit::JunitExporter),
        Format::Html => Box::new(html::HtmlExporter),
        Format::GithubAnnotations => Box::new(github::AnnotationsExporter),
    }
}

/// Renders a report in one format.
pub fn render(report: &GateReport, format: Format) -> Vec<u8> {
    exporter(format).render(report)
}

/// Writes report.md, report.json, report.txt, junit.xml and report.html into `dir`.
pub fn write_all(report: &GateReport, dir: &Path) -> anyhow::Result<()> {
    for f in [
        Format::Markdown,
        Format::Json,
        Format::Text,
        Format::Junit,
        Format::Html,
    ] {
        let e = exporter(f);
        crate::output::write_in_claimed_dir(dir, e.file_name(), &e.render(report))?;
    }
    Ok(())
}

/// The headline word of a verdict.
pub fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Pass => "PASS",
        Verdict::Regression => "REGRESSION",
        Verdict::Inconclusive => "INCONCLUSIVE",
        Verdict::Error => "ERROR",
    }
}

/// The headline word of a report: `PASS (accepted)` when a pass rests on acceptances.
pub fn report_word(r: &GateReport) -> String {
    if r.verdict == Verdict::Pass && r.accepted().next().is_some() {
        "PASS (accepted)".to_string()
    } else {
        verdict_word(r.verdict).to_string()
    }
}

/// How a set is named in reports: its revision (from the manifest, 12 characters), else its
/// directory's name (no revision recorded); never a local absolute path.
pub fn set_label(s: &crate::gate::report_model::SetInfo) -> String {
    match &s.revision {
        Some(rev) => format!("`{}`", &rev[..rev.len().min(12)]),
        None => {
            let p = Path::new(&s.path);
            let name = p
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_else(|| s.path.clone());
            format!("`{name}`")
        }
    }
}

/// The loud lines about what the gate could not look at, rendered by every format from the
/// report's `same_input` and `unchecked_rules` (one sentence each, said in [`prose`]).
pub fn coverage_lines(r: &GateReport) -> Vec<String> {
    prose::loud_lines(&r.same_input, &r.unchecked_rules)
}

/// Every loud line of a report in the order every format shows them: its notes, the corpus
/// results check, then what the gate could not look at ([`coverage_lines`]).
pub fn loud_notes(r: &GateReport) -> Vec<String> {
    r.notes
        .iter()
        .map(prose::note)
        .chain(prose::result_lines(&r.results))
        .chain(coverage_lines(r))
        .collect()
}

/// The line naming the optional rules that checked nothing, from `unchecked_rules`.
pub fn optional_unchecked_line(r: &GateReport) -> Option<String> {
    prose::optional_line(&r.unchecked_rules)
}

/// One-line verdict summary shared by every format.
pub fn verdict_line(r: &GateReport) -> String {
    let fails = r.failing().count();
    let warns = r.warnings().count();
    let inc = r.inconclusive().count();
    let accepted = r.accepted().count();
    let mut parts = vec![];
    if fails > 0 {
        parts.push(format!("{fails} rule violation(s)"));
    }
    if warns > 0 {
        parts.push(format!("{warns} warning(s)"));
    }
    if inc > 0 {
        parts.push(format!("{inc} inconclusive"));
    }
    if accepted > 0 {
        parts.push(format!("{accepted} accepted"));
    }
    if r.results.failed() {
        parts.push(format!(
            "{} benchmark(s) computed a different result",
            r.results.differ.len()
        ));
    }
    if !r.checks_ok() {
        parts.push("consistency checks failed".into());
    }
    if !r.same_input.is_empty() {
        parts.push("SAME INPUT on both sides".into());
    }
    let unchecked = r.unchecked_rules.iter().filter(|u| !u.optional).count();
    if unchecked > 0 {
        parts.push(format!("{unchecked} rule(s) checked nothing"));
    }
    if let Some(n) = r
        .reach
        .as_ref()
        .map(|x| x.unreached().count())
        .filter(|n| *n > 0)
    {
        parts.push(format!("{n} changed place(s) the corpus never reaches"));
    }
    let detail = if parts.is_empty() {
        "no rule violated".to_string()
    } else {
        parts.join(", ")
    };
    let families = r.failing_families();
    let scope = if families.is_empty() {
        String::new()
    } else {
        format!(" in {}", families.join(", "))
    };
    format!("pystats-gate: {}{scope} ({detail})", report_word(r))
}

/// One line on what the change touches and the corpus reaches, `None` without a change
/// (`compare`) or when the change touches no specializer code.
pub fn reach_line(r: &GateReport) -> Option<String> {
    let x = r.reach.as_ref()?;
    if x.places.is_empty() && x.not_mapped.is_empty() {
        return None;
    }
    let reached = x.reached().count();
    let mut s = format!(
        "Change reach: the corpus reaches {reached} of {} changed specializer place(s)",
        x.places.len()
    );
    if !x.not_mapped.is_empty() {
        const SHOWN: usize = 5;
        let mut named: Vec<&str> = x
            .not_mapped
            .iter()
            .take(SHOWN)
            .map(String::as_str)
            .collect();
        let more = format!("and {} more", x.not_mapped.len().saturating_sub(SHOWN));
        if x.not_mapped.len() > SHOWN {
            named.push(&more);
        }
        s.push_str(&format!("; not mapped (no claim): {}", named.join(", ")));
    }
    Some(s)
}

/// One row of the reach table: location(s), function or definition, counter(s), reached.
pub struct ReachRow {
    pub locations: String,
    pub scope: String,
    pub counters: String,
    pub reached: bool,
}

/// The reach table's rows: each unreached place on its own row, then the reached ones, those
/// of one function with the same counters on one row (their lines joined), so a big change
/// stays a short table.
pub fn reach_rows(x: &crate::gate::reach::Reach) -> Vec<ReachRow> {
    let mut rows: Vec<ReachRow> = x
        .unreached()
        .map(|p| ReachRow {
            locations: p.location(),
            scope: p.scope.clone(),
            counters: p.counters.join(" / "),
            reached: false,
        })
        .collect();
    let first = rows.len();
    for p in x.reached() {
        let counters = p.counters.join(" / ");
        let same = rows[first..].iter_mut().find(|r| {
            r.scope == p.scope && r.counters == counters && r.locations.starts_with(&p.file)
        });
        let lines = p.location()[p.file.len() + 1..].to_string();
        match same {
            Some(r) => r.locations.push_str(&format!(", {lines}")),
            None => rows.push(ReachRow {
                locations: p.location(),
                scope: p.scope.clone(),
                counters,
                reached: true,
            }),
        }
    }
    rows
}

/// Describes the comparison setup: sets, repeats, pairing.
pub fn setup_line(r: &GateReport) -> String {
    let seeds = |s: &[Option<u64>]| -> String {
        if s.iter().all(|x| x.is_some()) && !s.is_empty() {
            format!(
                ", seeds {}",
                s.iter()
                    .map(|x| x.unwrap().to_string())
                    .collect::<Vec<_>>()
                    .join(",")
            )
        } else {
            String::new()
        }
    };
    format!(
        "base {} ({} repeat(s){}) vs head {} ({} repeat(s){}); {}; alpha {}",
        set_label(&r.base),
        r.base.repeats.len(),
        seeds(&r.base.seeds),
        set_label(&r.head),
        r.head.repeats.len(),
        seeds(&r.head.seeds),
        if r.paired {
            "paired by PYTHONHASHSEED"
        } else {
            "unpaired"
        },
        r.alpha
    )
}

pub fn fmt_value(kind: MetricKind, v: f64) -> String {
    format_value(kind, v)
}

pub fn fmt_change(kind: MetricKind, d: f64, rel: Option<f64>) -> String {
    let abs = format_delta(kind, d);
    match (kind, rel) {
        (MetricKind::Ratio, _) => abs,
        (_, Some(r)) if r.is_finite() => format!(
            "{abs} ({}{}%)",
            if r > 0.0 { "+" } else { "" },
            crate::text::group_fixed(r * 100.0, 1)
        ),
        _ => abs,
    }
}

pub fn fmt_interval(kind: MetricKind, lo: f64, hi: f64, exact: bool) -> String {
    if exact {
        "exact".to_string()
    } else {
        format!("[{}, {}]", format_delta(kind, lo), format_delta(kind, hi))
    }
}

pub fn fmt_p(p: Option<f64>) -> String {
    match p {
        None => "-".into(),
        Some(p) if p < 0.001 => "<0.001".into(),
        Some(p) => format!("{p:.3}"),
    }
}

/// `arith +1.20 pp, attrs +0.10 pp`.
pub fn fmt_attribution(kind: MetricKind, a: &[crate::gate::report_model::Attribution]) -> String {
    a.iter()
        .map(|x| format!("{} {}", x.benchmark, format_delta(kind, x.contribution)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The cells of one rule-outcome row (metric, base, head, change, interval, p (adj.),
/// limit), formatted once for every renderer.
pub fn outcome_cells(o: &crate::gate::report_model::RuleOutcome) -> [String; 7] {
    [
        metric_label(&o.metric, &o.benchmark),
        fmt_value(o.kind, o.base),
        fmt_value(o.kind, o.head),
        fmt_change(o.kind, o.change, o.relative_change),
        fmt_interval(o.kind, o.ci_low, o.ci_high, o.deterministic),
        fmt_p(o.p_adjusted),
        fmt_limit(o.kind, &o.limit),
    ]
}

/// The cells of one top-mover row (metric, base, head, change, interval, q, attribution),
/// formatted once for every tabular renderer.
pub fn mover_cells(m: &crate::gate::report_model::Mover) -> [String; 7] {
    [
        if m.same_as.is_empty() {
            m.metric.clone()
        } else {
            format!("{} (= {})", m.metric, m.same_as.join(", "))
        },
        fmt_value(m.kind, m.base),
        fmt_value(m.kind, m.head),
        fmt_change(m.kind, m.change, m.relative_change),
        fmt_interval(m.kind, m.ci_low, m.ci_high, m.deterministic),
        fmt_p(m.q_value),
        fmt_attribution(m.kind, &m.attribution),
    ]
}

/// How many metrics changed and how many are shown, for every renderer.
pub fn movers_line(r: &GateReport) -> String {
    let shown = r.top_movers.len();
    let others = r.changed_facts - r.changed_in_rules.min(r.changed_facts);
    if r.changed_facts == 0 {
        return "No metric changed beyond its noise floor (one count).".to_string();
    }
    let mut s = format!("{} metric(s) changed", r.changed_facts);
    if r.changed_in_rules > 0 {
        s.push_str(&format!(
            " ({} in the rule tables above)",
            r.changed_in_rules
        ));
    }
    if shown < others {
        s.push_str(&format!(
            "; the {shown} biggest of the other {others} are listed (`--movers N` lists more; every metric is in report.json, `comparisons[].changed`)."
        ));
    } else {
        s.push('.');
    }
    s
}

/// Where the full reports are: the `--details-url` link, and the file names.
pub fn details_line(r: &GateReport) -> String {
    let files = "`report.html`, `report.json` (every metric), `report.txt`, `junit.xml`";
    match &r.display.details_url {
        Some(url) => format!("Full reports: [{files}]({url})"),
        None => format!("Full reports: {files} next to this report (`--out-dir`, `gate --out`)"),
    }
}

/// Statistics footnote: what bounds a false failure on each path, then the movers' FDR.
pub fn statistics_line(r: &GateReport) -> String {
    let fp = &r.false_positives;
    let mut paths = vec![format!(
        "{} fail-level hypothesis(es) Holm-tested (chance of any false failure among them <= {}: t test, joined by the exact permutation test at the limit from {} repeats)",
        fp.holm_family, r.alpha, fp.exact_from
    )];
    if fp.sign_tested_fail_level > 0 {
        paths.push(format!(
            "{} of zero variance not certified deterministic, tested by the exact sign-flip/permutation test at the limit inside that family ({} of them cannot reach its level at these repeats and cannot fail)",
            fp.sign_tested_fail_level, fp.sign_tested_out_of_reach
        ));
    }
    if fp.exact_fail_level > 0 {
        let assumed = fp.exact_fail_level - fp.certified_fail_level.min(fp.exact_fail_level);
        paths.push(format!(
            "{} decided exactly without a test ({} certified deterministic by the noise file, no sampling error; {assumed} paired with zero variance, assuming counters are fixed by build, corpus and seed: not covered by alpha)",
            fp.exact_fail_level, fp.certified_fail_level
        ));
    }
    if fp.unverified_fail_level > 0 {
        paths.push(format!(
            "{} UNVERIFIED (thresholds only, no error control)",
            fp.unverified_fail_level
        ));
    }
    let mut line = format!(
        "Tested: the mean change over seeds (head - base; paired: the mean per-seed difference; relative limits: the mean log-ratio). Gate failures: {}. Movers: {} metric(s) varied and were tested (about {:.1} false alarm(s) expected uncorrected at alpha {}); {} significant after Benjamini-Hochberg (expected false discoveries <= {:.2}); `.per_minstr` variants count once.",
        paths.join("; "),
        fp.tested, fp.expected_uncorrected, r.alpha, fp.discoveries, fp.expected_false_discoveries
    );
    if let Some(c) = &fp.cross_check {
        line.push_str(&format!(" {c}."));
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 20, 3: the footer says what is tested (the mean change over seeds), and counts
    /// the zero-variance outcomes the exact permutation test decides inside Holm.
    #[test]
    fn the_footer_states_the_estimand_and_every_path() {
        use crate::gate::evaluate::evaluate;
        let set = |n: &str| crate::stats::set::real_fixture(n);
        let m = crate::stats::metadata::Metadata::embedded("3.13").unwrap();
        let opts = crate::gate::report_model::EvalOptions::with_defaults(m.clone(), m).unwrap();
        let rep = evaluate(&set("aa-base"), &set("aa-head"), &opts).unwrap();
        let line = statistics_line(&rep);
        assert!(
            line.starts_with("Tested: the mean change over seeds"),
            "{line}"
        );
        assert!(line.contains("paired with zero variance"), "{line}");
        // Unpaired (no seeds): zero variance is tested, and the footer says so.
        let unseeded = |n: &str| {
            let mut s = set(n);
            s.manifest = None;
            s.repeats.iter_mut().for_each(|r| r.seed = None);
            s
        };
        let rep = evaluate(&unseeded("aa-base"), &unseeded("aa-head"), &opts).unwrap();
        assert!(rep.false_positives.sign_tested_fail_level > 0);
        let line = statistics_line(&rep);
        assert!(
            line.contains("not certified deterministic, tested by the exact"),
            "{line}"
        );
    }

    /// Unreached places each get a row, first; reached ones of one function and counter
    /// share a row; every format shows the reach (JSON in full).
    #[test]
    fn reach_rows_name_every_unreached_place_and_group_the_reached() {
        use crate::gate::evaluate::evaluate;
        use crate::gate::evaluate::tests::opts;
        use crate::gate::reach::{Place, PlaceKind, Reach};
        use crate::stats::set::real_fixture as real;
        let place = |line: usize, counter: &str| Place {
            file: "Python/specialize.c".into(),
            line,
            end_line: line + 1,
            scope: "f".into(),
            kind: PlaceKind::Family,
            counters: vec![counter.into()],
            reached: false,
        };
        let mut o = opts();
        o.reach = Some(Reach {
            places: vec![
                place(10, "total.instructions"),
                place(20, "never.a.metric"),
                place(30, "total.instructions"),
                place(40, "never.a.metric"),
            ],
            not_mapped: vec!["Python/ceval.c".into()],
            ..Default::default()
        });
        let rep = evaluate(&real("aa-base"), &real("aa-head"), &o).unwrap();
        let rows = reach_rows(rep.reach.as_ref().unwrap());
        let cells: Vec<(&str, bool)> = rows
            .iter()
            .map(|r| (r.locations.as_str(), r.reached))
            .collect();
        assert_eq!(
            cells,
            [
                ("Python/specialize.c:20-21", false),
                ("Python/specialize.c:40-41", false),
                ("Python/specialize.c:10-11, 30-31", true),
            ]
        );
        let line = reach_line(&rep).unwrap();
        assert!(line.contains("reaches 2 of 4"), "{line}");
        assert!(
            line.ends_with("not mapped (no claim): Python/ceval.c"),
            "{line}"
        );
        for f in [
            Format::Markdown,
            Format::Text,
            Format::Html,
            Format::Junit,
            Format::GithubAnnotations,
            Format::Json,
        ] {
            let out = String::from_utf8(render(&rep, f)).unwrap();
            assert!(out.contains("Python/specialize.c:40"), "{f:?}: {out}");
        }
        assert!(verdict_line(&rep).contains("2 changed place(s) the corpus never reaches"));
    }

    /// The statistics footer says which path decided: exact counters on A/A data, and
    /// UNVERIFIED thresholds at one repeat per side.
    #[test]
    fn statistics_line_names_the_deciding_path() {
        use crate::gate::evaluate::evaluate;
        use crate::gate::evaluate::tests::{opts, plant_binary_op_misses};
        use crate::stats::set::real_fixture as real;
        let rep = evaluate(&real("aa-base"), &real("aa-head"), &opts()).unwrap();
        assert!(statistics_line(&rep).contains("decided exactly"));
        let mut base = real("aa-base");
        let mut head = real("aa-head");
        base.repeats.truncate(1);
        head.repeats.truncate(1);
        plant_binary_op_misses(&mut head, 2000);
        let rep = evaluate(&base, &head, &opts()).unwrap();
        assert!(statistics_line(&rep).contains("UNVERIFIED"));
    }
}
