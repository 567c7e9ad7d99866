//! JUnit XML: one test case per (rule, metric) outcome and per consistency invariant.

use super::*;
use crate::gate::check::{CheckStatus, InvariantResult};
use crate::gate::report_model::{GateReport, OutcomeStatus, RuleOutcome};
use crate::gate::rules::Severity;
use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

pub struct JunitExporter;

impl Exporter for JunitExporter {
    fn render(&self, report: &GateReport) -> Vec<u8> {
        render_junit(report).into_bytes()
    }
    fn file_name(&self) -> &'static str {
        "junit.xml"
    }
}

pub fn render_junit(r: &GateReport) -> String {
    let mut report = Report::new("pystats-gate");
    report.add_test_suites(rule_suites(r));
    report.add_test_suites(completeness_suite(r));
    report.add_test_suites(coverage_suite(r));
    report.add_test_suites(results_suite(r));
    report.add_test_suites(reach_suite(r));
    report.add_test_suites(check_suites(r));
    report
        .to_string()
        .unwrap_or_else(|e| format!("<!-- junit serialization failed: {e} -->\n"))
}

/// One suite per rule (in order of first outcome), one case per outcome.
fn rule_suites(r: &GateReport) -> Vec<TestSuite> {
    let mut suites: indexmap::IndexMap<String, TestSuite> = indexmap::IndexMap::new();
    for o in &r.outcomes {
        let suite = suites
            .entry(o.rule.clone())
            .or_insert_with(|| TestSuite::new(format!("rule {}", o.rule)));
        suite.add_test_case(outcome_case(r, o));
    }
    suites.into_values().collect()
}

/// An outcome's case: a failure when it fails the gate, skipped when inconclusive or
/// skipped, a success otherwise (accepted, passing or a warning that does not fail).
fn outcome_case(r: &GateReport, o: &RuleOutcome) -> TestCase {
    let [metric, base, head, change, interval, p, limit] = outcome_cells(o);
    let detail = format!(
        "{metric}: base {base} head {head} change {change} interval {interval} p(adj) {p} limit {limit}: {}",
        o.reason
    );
    let status = match o.status {
        _ if o.accepted.is_some() => TestCaseStatus::success(),
        OutcomeStatus::Regression if o.fails(r.fail_on_warn) => {
            let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
            st.set_message(detail.clone()).set_type("regression");
            st
        }
        // A warning that does not fail the gate.
        OutcomeStatus::Regression => TestCaseStatus::success(),
        OutcomeStatus::Inconclusive => {
            let mut st = TestCaseStatus::skipped();
            st.set_message(format!("inconclusive: {detail}"));
            st
        }
        OutcomeStatus::Skipped => {
            let mut st = TestCaseStatus::skipped();
            st.set_message(o.reason.to_string());
            st
        }
        OutcomeStatus::Pass => TestCaseStatus::success(),
    };
    let mut tc = TestCase::new(metric_label(&o.metric, &o.benchmark), status);
    tc.set_classname(format!("pystats-gate.{}", o.rule));
    if let Some(why) = &o.accepted {
        tc.set_system_out(format!("accepted ({why}): {detail}"));
    } else if o.status == OutcomeStatus::Regression
        && o.severity == Severity::Warn
        && !r.fail_on_warn
    {
        tc.set_system_out(format!("warning: {detail}"));
    } else if o.status == OutcomeStatus::Pass {
        tc.set_system_out(detail);
    }
    tc
}

/// Data the comparison did not see (`--allow-missing-benchmarks`, lines skipped under
/// `--allow-malformed`): skipped cases, so no JUnit view hides them.
fn completeness_suite(r: &GateReport) -> Option<TestSuite> {
    let mut cases: Vec<(&str, String)> = vec![];
    if !r.missing_data.is_empty() {
        cases.push((
            "every benchmark and repeat on both sides",
            format!(
                "INCOMPLETE DATA (--allow-missing-benchmarks): {}",
                r.missing_data.join("; ")
            ),
        ));
    }
    for n in &r.notes {
        if let crate::gate::notes::Note::Malformed { .. } = n {
            cases.push(("every dump line read", super::prose::note(n)));
        }
    }
    if cases.is_empty() {
        return None;
    }
    let mut suite = TestSuite::new("data completeness");
    for (name, message) in cases {
        let mut st = TestCaseStatus::skipped();
        st.set_message(message);
        let mut tc = TestCase::new(name, st);
        tc.set_classname("pystats-gate.completeness");
        suite.add_test_case(tc);
    }
    Some(suite)
}

/// One case per changed place; an unreached place is a skipped case: the gate could not
/// test it.
fn reach_suite(r: &GateReport) -> Option<TestSuite> {
    let x = r.reach.as_ref().filter(|x| !x.places.is_empty())?;
    let mut suite = TestSuite::new("change reach");
    for p in &x.places {
        let (loc, scope, counters) = (p.location(), &p.scope, p.counters.join(" / "));
        let st = if p.reached {
            TestCaseStatus::success()
        } else {
            let mut st = TestCaseStatus::skipped();
            st.set_message(format!(
                "{counters} = 0 in base and head: {}",
                crate::gate::reach::UNREACHED_ADVICE
            ));
            st
        };
        let mut tc = TestCase::new(format!("{loc} ({scope})"), st);
        tc.set_classname("pystats-gate.reach");
        suite.add_test_case(tc);
    }
    Some(suite)
}

/// One suite per consistency check, one case per invariant.
fn check_suites(r: &GateReport) -> Vec<TestSuite> {
    r.checks
        .iter()
        .map(|c| {
            let mut suite = TestSuite::new(format!("checks {}", c.label));
            for inv in &c.results {
                suite.add_test_case(invariant_case(&c.label, inv));
            }
            suite
        })
        .collect()
}

/// An invariant's case: a failure listing its first violations, skipped when not
/// applicable, a success otherwise (with the known exceptions when excepted).
fn invariant_case(label: &str, inv: &InvariantResult) -> TestCase {
    let status = match inv.status {
        CheckStatus::Violated => {
            let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let msg: Vec<String> = inv
                .violations
                .iter()
                .filter(|v| v.excepted.is_none())
                .take(10)
                .map(|v| format!("{}: {}", v.scope, v.detail))
                .collect();
            st.set_message(msg.join("; ")).set_type("invariant");
            st
        }
        CheckStatus::NotApplicable => {
            let mut st = TestCaseStatus::skipped();
            st.set_message("not applicable to this data");
            st
        }
        CheckStatus::Ok | CheckStatus::Excepted => TestCaseStatus::success(),
    };
    let mut tc = TestCase::new(inv.id.clone(), status);
    tc.set_classname(format!("pystats-gate.checks.{}", label.replace(' ', "_")));
    if inv.status == CheckStatus::Excepted {
        let reasons: Vec<String> = inv
            .violations
            .iter()
            .filter_map(|v| {
                v.excepted
                    .as_ref()
                    .map(|r| format!("{}: {} (known: {r})", v.scope, v.detail))
            })
            .take(5)
            .collect();
        tc.set_system_out(reasons.join("\n"));
    }
    tc
}

/// The corpus results check: a case per benchmark, failed where head computed something
/// else, skipped where not compared.
fn results_suite(r: &GateReport) -> Option<TestSuite> {
    let c = &r.results;
    if c.same.is_empty() && c.differ.is_empty() && c.unchecked.is_empty() {
        return None;
    }
    let mut suite = TestSuite::new("corpus results");
    let case = |bench: &str, st: TestCaseStatus| {
        let mut tc = TestCase::new(format!("{bench} computes what base computes"), st);
        tc.set_classname("pystats-gate.results");
        tc
    };
    for b in &c.same {
        suite.add_test_case(case(b, TestCaseStatus::success()));
    }
    // Every differing benchmark is a case (the loud lines cap theirs at ten).
    for d in &c.differ {
        let mut st = TestCaseStatus::non_success(NonSuccessKind::Failure);
        st.set_message(super::prose::wrong_result(d));
        suite.add_test_case(case(&d.benchmark, st));
    }
    for u in &c.unchecked {
        let mut st = TestCaseStatus::skipped();
        st.set_message(format!(
            "not compared: {}",
            super::prose::result_skip(u.reason)
        ));
        suite.add_test_case(case(&u.benchmark, st));
    }
    Some(suite)
}

/// What the gate could not check (`same_input`, `unchecked_rules`): skipped cases, so no
/// JUnit view hides them.
fn coverage_suite(r: &GateReport) -> Option<TestSuite> {
    let mut cases: Vec<(String, String)> = vec![];
    if !r.same_input.is_empty() {
        cases.push((
            "base and head are different data".into(),
            super::prose::same_input_sentence(&r.same_input),
        ));
    }
    for u in &r.unchecked_rules {
        cases.push((
            format!("rule {} checks something", u.rule),
            super::prose::unchecked_sentence(u),
        ));
    }
    if cases.is_empty() {
        return None;
    }
    let mut suite = TestSuite::new("rule coverage");
    for (name, line) in cases {
        let mut st = TestCaseStatus::skipped();
        st.set_message(line.clone());
        let mut tc = TestCase::new(name, st);
        tc.set_classname("pystats-gate.coverage");
        tc.set_system_out(line);
        suite.add_test_case(tc);
    }
    Some(suite)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gate::report_model::ResultDifference;

    /// Every differing benchmark is a failed case, also past the ten the loud lines show.
    #[test]
    fn every_wrong_result_is_a_failed_case() {
        let set = || crate::stats::set::real_fixture("aa-base");
        let m = crate::stats::metadata::Metadata::embedded("3.13").unwrap();
        let opts = crate::gate::report_model::EvalOptions::with_defaults(m.clone(), m).unwrap();
        let mut rep = crate::gate::evaluate::evaluate(&set(), &set(), &opts).unwrap();
        rep.results.differ = (0..12)
            .map(|k| ResultDifference {
                benchmark: format!("b{k}"),
                base: "1".into(),
                head: "2".into(),
                repeats: vec!["run-1".into()],
            })
            .collect();
        let xml = render_junit(&rep);
        for k in 0..12 {
            assert!(
                xml.contains(&format!("b{k} computes what base computes")),
                "{xml}"
            );
        }
        assert_eq!(
            xml.matches("WRONG RESULT: benchmark b").count(),
            12,
            "{xml}"
        );
    }
}
