//! The English of reports: typed notes, reasons and coverage facts of the model said as the sentences every format shows.
//!
//! The model's [`Note`], [`Reason`] and [`SkipReason`] carry data; their `Display` (and their
//! `Serialize`, so report.json holds the same sentences) is implemented here.

use crate::gate::coverage::UncheckedRule;
use crate::gate::metrics::{self, MetricKind};
use crate::gate::notes::{
    InconclusiveNote, LimitReason, Note, Reason, ReasonCase, RepeatsAuto, SkipReason, StopReason,
    UnpairedCause,
};
use crate::gate::report_model::{ResultCheck, ResultDifference, ResultSkip};
use crate::gate::rules::Severity;
use serde::{Serialize, Serializer};
use std::fmt;

/// How the note about unpaired repeats ends.
const UNPAIRED_SUFFIX: &str = "compared unpaired (wider intervals)";

/// One note as every format shows it.
pub fn note(n: &Note) -> String {
    match n {
        Note::Rendered(s) => s.clone(),
        Note::IncompleteData { missing } => format!(
            "INCOMPLETE DATA: compared only the benchmarks and repeats both sides have (--allow-missing-benchmarks); missing: {}",
            missing.join("; ")
        ),
        Note::Unpaired(UnpairedCause::DifferentSeeds) => format!(
            "base and head repeats carry different PYTHONHASHSEED values: {UNPAIRED_SUFFIX}"
        ),
        Note::Unpaired(UnpairedCause::NoSeeds(_)) => {
            format!("repeats carry no PYTHONHASHSEED (no manifest.json): {UNPAIRED_SUFFIX}")
        }
        Note::Unpaired(UnpairedCause::RepeatedSeed { side, seed }) => format!(
            "{side} runs PYTHONHASHSEED {seed} in more than one repeat (a copied run?), so its repeats cannot be paired one to one with the other side's: {UNPAIRED_SUFFIX}"
        ),
        Note::Renamed { side, renames } => {
            crate::stats::model::renames_note(side, renames).unwrap_or_default()
        }
        Note::Unverified { base, head } => format!(
            "UNVERIFIED: base has {base} repeat(s), head has {head}; with fewer than 2 repeats per side only thresholds are applied (no statistics)"
        ),
        Note::ChecksFailed { violated, strict } => format!(
            "CONSISTENCY CHECKS FAILED ({}): the data may be corrupt, so the verdict cannot be a pass; see the checks section{}",
            violated.join(", "),
            if *strict {
                " (an input error under --strict)"
            } else {
                " (INCONCLUSIVE at best; an input error under --strict)"
            }
        ),
        Note::Malformed { side, lines } => {
            format!("{side}: {lines} malformed dump line(s) skipped (--allow-malformed)")
        }
        Note::LearnedNoise(n) => format!(
            "{}; pooled into {} rule check(s), {} decided exactly as certified",
            n.file.note(n.paired),
            n.pooled,
            n.certified
        ),
        Note::Inconclusive(i) => inconclusive_note(i),
        Note::Unreached(reach) => reach.note().unwrap_or_default(),
        Note::RepeatsAuto(a) => repeats_auto_note(a),
        Note::HeadSnapshot(s) => format!(
            "head {} is the working tree {} as it was (uncommitted changes on top of {}: {})",
            s.commit,
            s.dir,
            s.head,
            s.changed.join(", ")
        ),
    }
}

/// `--repeats auto`'s note: repeats spent, what was rerun, why it stopped.
fn repeats_auto_note(a: &RepeatsAuto) -> String {
    let reruns: Vec<String> = a
        .reruns
        .iter()
        .map(|r| {
            format!(
                "seeds {}-{}: {}",
                r.first_seed,
                r.last_seed,
                r.benchmarks.join(", ")
            )
        })
        .collect();
    format!(
        "--repeats auto: {} paired repeat(s) spent in {} look(s) of {} planned (up to {}); each look tested at alpha / {} = {:.4} (Bonferroni over looks); {}; stopped: {}",
        a.repeats,
        a.looks,
        a.looks_planned,
        a.max_repeats,
        a.looks_planned,
        a.look_alpha,
        if reruns.is_empty() {
            "nothing rerun".to_string()
        } else {
            format!("reran {}", reruns.join("; "))
        },
        stop_reason(&a.stopped)
    )
}

/// Why `--repeats auto` stopped, as its note and gate.json's `auto.stopped` say it.
pub fn stop_reason(r: &StopReason) -> String {
    match r {
        StopReason::Decided => "every fail-level rule decided".into(),
        StopReason::Blind => {
            "a rule checked nothing on this data (more repeats cannot change that)".into()
        }
        StopReason::MaxRepeats(max) => format!("--max-repeats {max} reached"),
        StopReason::NothingFeeds => "no benchmark feeds the inconclusive rules".into(),
        StopReason::TimeBudget { budget, estimate } => format!(
            "--time-budget {budget}s would be exceeded (next look estimated at {estimate:.0}s)"
        ),
    }
}

/// The INCONCLUSIVE note: the actual cause and the command that settles it.
fn inconclusive_note(i: &InconclusiveNote) -> String {
    let mut causes = vec![];
    if let Some(cause) = &i.unpaired {
        causes.push(match cause {
            UnpairedCause::DifferentSeeds => "the repeats are unpaired because base and head ran with different PYTHONHASHSEEDs, so seed-to-seed noise widens every interval: run both sides with the same --repeats (repeat k uses seed k)".to_string(),
            UnpairedCause::NoSeeds(missing) => format!(
                "the repeats are unpaired because {} carries no seeds (no manifest.json), so seed-to-seed noise widens every interval: produce both sets with `pystats-gate run --repeats N` (or `gate`), or add a manifest.json with the seeds (docs/manifest.md)",
                missing.join(" and ")
            ),
            UnpairedCause::RepeatedSeed { side, seed } => format!(
                "the repeats are unpaired because {side} runs PYTHONHASHSEED {seed} in more than one repeat, so seed-to-seed noise widens every interval: give every repeat its own seed (`pystats-gate run --repeats N`: repeat k uses seed k)"
            ),
        });
    }
    if let Some(n) = i.repeats_needed {
        causes.push(format!(
            "too few repeats for the noise seen: about {n} repeats per side would decide; settle it with `pystats-gate gate ... --repeats auto` (it adds paired repeats and spends alpha over its planned looks); rerunning at a fixed `--repeats {n}` and judging again at full alpha would be a second look at the same question, which raises the false-failure rate"
        ));
    }
    if !i.borderline.is_empty() {
        let named: Vec<String> = i
            .borderline
            .iter()
            .map(|(metric, rule)| format!("`{metric}` ({rule})"))
            .collect();
        causes.push(format!(
            "the change sits on the limit for {}: more repeats barely help; if the change is intended accept it (`--accept 'RULE:METRIC because REASON'` or a `Pystats-Accept:` trailer), otherwise fix it or adjust the rule (docs/rules.md)",
            named.join(", ")
        ));
    }
    format!(
        "INCONCLUSIVE: {} rule check(s) could not be decided with {} repeat(s): {}. `--strict` fails the gate on this",
        i.open,
        i.repeats,
        causes.join("; ")
    )
}

/// Why a check was skipped.
pub fn skip_reason(s: &SkipReason) -> String {
    match s {
        SkipReason::NoComparableSample => {
            "no comparable sample: the ratio's denominator is zero in the repeats of one side"
                .to_string()
        }
        SkipReason::BelowMinCount {
            ratio,
            support,
            min_count,
        } => format!(
            "{} {} below min_count {}",
            if *ratio { "denominator" } else { "count" },
            metrics::format_value(MetricKind::Count, support.round()),
            // A huge limit (`1e300`) stays short in every message.
            if *min_count >= 1e15 {
                format!("{min_count:e}")
            } else {
                min_count.to_string()
            }
        ),
        SkipReason::NoMetricMatched => "no metric matched".to_string(),
        SkipReason::Rendered(s) => s.clone(),
    }
}

/// An outcome's one-sentence reason.
pub fn reason(r: &Reason) -> String {
    match r {
        Reason::Skipped(s) => skip_reason(s),
        Reason::TooFewSamples { base, head } => format!(
            "only {base} base and {head} head sample(s) left after repeats with a zero denominator: too few to decide (not exact, not a pass)"
        ),
        Reason::Limit(l) => {
            let mut s = limit_reason(l);
            if let Some(p) = l.noise_prior {
                s.push_str(&format!(
                    " [learned noise pooled: sd {} on {:.0} df]",
                    metrics::format_delta(l.kind, p.sd).trim_start_matches('+'),
                    p.df
                ));
            }
            s
        }
        Reason::Rendered(s) => s.clone(),
    }
}

/// The sentence of a decided (or open) limit test.
fn limit_reason(l: &LimitReason) -> String {
    let lim = crate::gate::rules::fmt_limit(l.kind, &Some(l.limit));
    let change = metrics::format_delta(l.kind, l.change);
    let alpha = l.alpha;
    let level = (1.0 - alpha) * 100.0;
    let correction = if l.bh {
        "Benjamini-Hochberg-adjusted"
    } else {
        "Holm-adjusted"
    };
    let exact_test = if l.paired {
        format!(
            "the exact sign-flip test at the limit over {} pair(s)",
            l.n_base
        )
    } else {
        format!(
            "the exact two-sample permutation test at the limit ({} + {} repeats)",
            l.n_base, l.n_head
        )
    };
    let p_or = |d: f64| l.p_adjusted.unwrap_or(d);
    match l.case {
        ReasonCase::UnverifiedBeyond => format!("changed {change}, beyond {lim} (UNVERIFIED: fewer than 2 repeats)"),
        ReasonCase::CertifiedBeyond => format!("changed {change} in every repeat, beyond {lim} (exact: zero variance, certified deterministic by the noise file)"),
        ReasonCase::AssumedExactBeyond => format!("changed {change} in every repeat, beyond {lim} (exact: zero paired variance; assumes the counters are fixed by build, corpus and seed)"),
        ReasonCase::SignTestBeyond => format!(
            "changed {change} in every repeat, beyond {lim}; not certified deterministic, so {exact_test} decides: {correction} p = {:.3} < {alpha}",
            p_or(0.0)
        ),
        ReasonCase::IntervalBeyond => format!(
            "changed {change}; the whole {level:.0}% interval is beyond {lim}, {correction} p = {:.3} < {alpha}",
            p_or(0.0)
        ),
        ReasonCase::SignTestOutOfReach => format!(
            "changed {change} in every repeat, beyond {lim}, but not certified deterministic (`calibrate`: constant over >= 10 seeds): {exact_test} cannot reach its family's level (smallest p {:.4}); certify it or add repeats (`--repeats auto`)",
            l.min_p
        ),
        ReasonCase::SignTestNotSignificant => format!(
            "changed {change} in every repeat, beyond {lim}, but not certified deterministic: {exact_test} gives {correction} p = {:.3}, not below {alpha}",
            p_or(0.0)
        ),
        ReasonCase::CorrectionFailed { significant_alone } => format!(
            "changed {change}; the whole {level:.0}% interval is beyond {lim}, but the {correction} p = {:.3} is not below {alpha}{}",
            p_or(1.0),
            if significant_alone {
                " (significant alone: the multiple-testing correction over the family is what failed)"
            } else {
                ""
            }
        ),
        ReasonCase::Straddles { repeats_needed } => format!(
            "changed {change}; the {level:.0}% interval straddles {lim}{}",
            match repeats_needed {
                Some(n) => format!("; about {n} repeats per side would decide"),
                None => "; more repeats are needed".to_string(),
            }
        ),
        ReasonCase::Unchanged => format!("unchanged, within {lim}"),
        ReasonCase::Within => format!("changed {change}, within {lim}"),
        ReasonCase::WithinOneSided => {
            format!("changed {change}, within {lim} (one-sided {level:.0}% bound)")
        }
        ReasonCase::None => String::new(),
    }
}

/// The one sentence every report format shows for an unchecked rule.
pub fn unchecked_sentence(u: &UncheckedRule) -> String {
    let level = match u.severity {
        Severity::Fail => "fail-level",
        Severity::Warn => "warn-level",
    };
    let what = if u.skipped == 0 {
        "found no metric in the compared data".to_string()
    } else {
        format!(
            "checked nothing: all {} of its check(s) were skipped ({})",
            u.skipped,
            skip_reason(&u.reason)
        )
    };
    let optional = if u.optional { " (optional rule)" } else { "" };
    format!("UNCHECKED RULE: {level} rule {} {what}{optional}", u.rule)
}

/// The loud lines every report format shows from a report's `same_input` and
/// `unchecked_rules`: the same input, and one line per rule that is not optional.
pub fn loud_lines(same_input: &[String], unchecked: &[UncheckedRule]) -> Vec<String> {
    let mut lines = vec![];
    if !same_input.is_empty() {
        lines.push(same_input_sentence(same_input));
    }
    // A rules file of thousands of unchecked rules must not grow every report without bound.
    const SHOWN: usize = 10;
    let blocking: Vec<&UncheckedRule> = unchecked.iter().filter(|u| !u.optional).collect();
    lines.extend(blocking.iter().take(SHOWN).map(|u| unchecked_sentence(u)));
    if blocking.len() > SHOWN {
        lines.push(format!(
            "UNCHECKED RULE: and {} more rule(s) that checked nothing (every one is in report.json, `unchecked_rules`)",
            blocking.len() - SHOWN
        ));
    }
    lines
}

/// The optional rules that checked nothing (expected of them on some data).
fn optional_rules(unchecked: &[UncheckedRule]) -> Vec<&str> {
    unchecked
        .iter()
        .filter(|u| u.optional)
        .map(|u| u.rule.as_str())
        .collect()
}

/// The quieter line naming the optional rules that checked nothing, shown by every report
/// format; None when there are none.
pub fn optional_line(unchecked: &[UncheckedRule]) -> Option<String> {
    const SHOWN: usize = 30;
    let optional = optional_rules(unchecked);
    let more = match optional.len().saturating_sub(SHOWN) {
        0 => String::new(),
        n => format!(" and {n} more"),
    };
    (!optional.is_empty()).then(|| {
        format!(
            "optional rule(s) that checked nothing on this data (metric absent, or every check below min_count): {}{more}",
            optional[..optional.len().min(SHOWN)].join(", ")
        )
    })
}

/// The PR comment's short form of [`optional_line`]: the count and the first three names
/// (through `escape`, the comment's cell escaping); empty when there are none.
pub fn optional_short(unchecked: &[UncheckedRule], escape: impl Fn(&str) -> String) -> String {
    let optional = optional_rules(unchecked);
    match optional.len() {
        0 => String::new(),
        n => format!(
            "{n} optional rule(s) checked nothing on this data: {}{}. ",
            escape(&optional[..n.min(3)].join(", ")),
            if n > 3 {
                ", ... (all in `report.txt`)"
            } else {
                ""
            }
        ),
    }
}

/// The loud lines of the corpus results check: [`wrong_result_lines`], then
/// [`results_unchecked_lines`].
pub fn result_lines(c: &ResultCheck) -> Vec<String> {
    let mut lines = wrong_result_lines(c);
    lines.extend(results_unchecked_lines(c));
    lines
}

/// How many benchmarks a results line names at most.
const RESULTS_SHOWN: usize = 10;

/// One line per benchmark whose head result differs from base's (the gate fails).
pub fn wrong_result_lines(c: &ResultCheck) -> Vec<String> {
    const SHOWN: usize = RESULTS_SHOWN;
    let mut lines: Vec<String> = c.differ.iter().take(SHOWN).map(wrong_result).collect();
    if c.differ.len() > SHOWN {
        lines.push(format!(
            "WRONG RESULT: and {} more benchmark(s) (every one is in report.json, `results.differ`)",
            c.differ.len() - SHOWN
        ));
    }
    lines
}

/// The sentence of one benchmark whose head result differs from base's.
pub fn wrong_result(d: &ResultDifference) -> String {
    format!(
        "WRONG RESULT: benchmark {} computed {:?} on head ({}) where base computed {:?} on every repeat: the change alters what the interpreter computes, whatever the counters say",
        d.benchmark,
        d.head,
        d.repeats.join(", "),
        d.base
    )
}

/// Why a benchmark's results were not compared.
pub fn result_skip(reason: ResultSkip) -> &'static str {
    match reason {
        ResultSkip::BaseVaries => "base computed different results in different repeats",
        ResultSkip::NotRecorded => "a side's runs recorded no result",
    }
}

/// One line per reason naming the benchmarks whose results were not compared.
pub fn results_unchecked_lines(c: &ResultCheck) -> Vec<String> {
    const SHOWN: usize = RESULTS_SHOWN;
    let mut lines = vec![];
    for reason in [ResultSkip::BaseVaries, ResultSkip::NotRecorded] {
        let why = result_skip(reason);
        let names: Vec<&str> = c
            .unchecked
            .iter()
            .filter(|u| u.reason == reason)
            .map(|u| u.benchmark.as_str())
            .collect();
        if !names.is_empty() {
            lines.push(format!(
                "corpus results not compared for {} benchmark(s) ({why}): {}{}",
                names.len(),
                names[..names.len().min(SHOWN)].join(", "),
                if names.len() > SHOWN { ", ..." } else { "" }
            ));
        }
    }
    lines
}

/// The sentence every report format shows when base and head are the same files
/// (`--allow-same-input`).
pub fn same_input_sentence(files: &[String]) -> String {
    format!(
        "SAME INPUT: base and head are the same files (e.g. {}; --allow-same-input): comparing data with itself proves nothing, so this is never a PASS",
        files.first().map(String::as_str).unwrap_or("?")
    )
}

impl fmt::Display for Note {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&note(self))
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&reason(self))
    }
}

impl fmt::Display for SkipReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&skip_reason(self))
    }
}

impl fmt::Display for StopReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&stop_reason(self))
    }
}

// report.json holds the sentences, as before notes and reasons were typed.
impl Serialize for Note {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&note(self))
    }
}

impl Serialize for Reason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&reason(self))
    }
}

impl Serialize for SkipReason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&skip_reason(self))
    }
}

// gate.json's `auto.stopped` holds the sentence.
impl Serialize for StopReason {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&stop_reason(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unchecked(rule: &str, optional: bool) -> UncheckedRule {
        UncheckedRule {
            rule: rule.into(),
            severity: Severity::Fail,
            optional,
            skipped: 1,
            reason: SkipReason::BelowMinCount {
                ratio: false,
                support: 5.0,
                min_count: 1e300,
            },
        }
    }

    #[test]
    fn unchecked_rules_are_said_once_each_up_to_a_cap() {
        let u = unchecked("b", false);
        assert_eq!(
            unchecked_sentence(&u),
            "UNCHECKED RULE: fail-level rule b checked nothing: all 1 of its check(s) were skipped (count 5 below min_count 1e300)"
        );
        let many: Vec<UncheckedRule> = (0..25)
            .map(|i| unchecked(&format!("r{i}"), i % 2 == 0))
            .collect();
        let lines = loud_lines(&[], &many);
        assert_eq!(lines.len(), 11, "{lines:?}");
        assert!(lines[10].contains("and 2 more"), "{lines:?}");
        assert_eq!(
            optional_short(&many, |s| s.to_string()),
            "13 optional rule(s) checked nothing on this data: r0, r2, r4, ... (all in `report.txt`). "
        );
    }

    /// report.json holds each note's sentence; read back, the sentence is kept as it is.
    #[test]
    fn notes_serialize_as_their_sentence_and_read_back_rendered() {
        let n = Note::Unverified { base: 1, head: 2 };
        let json = serde_json::to_string(&n).unwrap();
        assert_eq!(json, serde_json::to_string(&note(&n)).unwrap());
        let back: Note = serde_json::from_str(&json).unwrap();
        assert_eq!(back, Note::Rendered(note(&n)));
        assert_eq!(back.to_string(), n.to_string());
    }
}
