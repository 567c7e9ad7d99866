//! Step 6b: what head's corpus computed against what base's did (the workload results the driver printed).

use crate::gate::report_model::{ResultCheck, ResultDifference, ResultSkip, ResultUnchecked};
use crate::stats::set::StatsSet;

/// Each benchmark both sides ran: its head results against base's one result. A set whose
/// runs recorded no result at all (pyperformance, sets made before results were recorded)
/// gives an empty check. Sets of different corpora never get here
/// ([`crate::stats::complete::ensure_comparable`]).
pub(super) fn compare_results(base: &StatsSet, head: &StatsSet) -> ResultCheck {
    let mut check = ResultCheck::default();
    let recorded = |s: &StatsSet| s.repeats.iter().any(|r| !r.results.is_empty());
    if !recorded(base) && !recorded(head) {
        return check;
    }
    let ran =
        |s: &StatsSet, bench: &str| s.repeats.iter().any(|r| r.benchmarks.contains_key(bench));
    for bench in base.benchmark_names() {
        if !ran(head, &bench) {
            continue;
        }
        let skip = |reason| ResultUnchecked {
            benchmark: bench.clone(),
            reason,
        };
        let (b, h) = (results_of(base, &bench), results_of(head, &bench));
        let mut base_values: Vec<&str> = b.iter().map(|(_, v)| *v).collect();
        base_values.sort_unstable();
        base_values.dedup();
        match base_values[..] {
            _ if b.is_empty() || h.is_empty() => {
                check.unchecked.push(skip(ResultSkip::NotRecorded))
            }
            [one] => match difference(&bench, one, &h) {
                Some(d) => check.differ.push(d),
                None => check.same.push(bench.clone()),
            },
            _ => check.unchecked.push(skip(ResultSkip::BaseVaries)),
        }
    }
    check
}

/// (repeat, result) of every repeat of `set` whose run of `bench` recorded a result (a
/// repeat `--repeats auto` filled with a copy of an earlier dump records none).
fn results_of<'a>(set: &'a StatsSet, bench: &str) -> Vec<(&'a str, &'a str)> {
    set.repeats
        .iter()
        .filter(|r| r.benchmarks.contains_key(bench))
        .filter_map(|r| r.results.get(bench).map(|v| (r.name.as_str(), v.as_str())))
        .collect()
}

/// The head repeats whose result is not `base`'s, if any.
fn difference(bench: &str, base: &str, head: &[(&str, &str)]) -> Option<ResultDifference> {
    let off: Vec<&(&str, &str)> = head.iter().filter(|(_, v)| *v != base).collect();
    let first = off.first()?;
    Some(ResultDifference {
        benchmark: bench.to_string(),
        base: base.to_string(),
        head: first.1.to_string(),
        repeats: off.iter().map(|(r, _)| r.to_string()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::set::real_fixture;

    /// `set` with `result` recorded for every benchmark of every repeat (or per repeat).
    fn with_results(mut set: StatsSet, result: impl Fn(usize, &str) -> String) -> StatsSet {
        for (k, r) in set.repeats.iter_mut().enumerate() {
            let names: Vec<String> = r.benchmarks.keys().cloned().collect();
            r.results = names.iter().map(|n| (n.clone(), result(k, n))).collect();
        }
        set
    }

    #[test]
    fn equal_results_agree_and_one_differing_repeat_is_named() {
        let base = with_results(real_fixture("aa-base"), |_, n| format!("{n}-42"));
        let same = with_results(real_fixture("aa-head"), |_, n| format!("{n}-42"));
        let check = compare_results(&base, &same);
        assert!(!check.failed() && check.unchecked.is_empty());
        assert_eq!(check.same, base.benchmark_names());

        let first = base.benchmark_names()[0].clone();
        let wrong = with_results(real_fixture("aa-head"), |k, n| {
            if k == 1 && *n == first {
                "41".into()
            } else {
                format!("{n}-42")
            }
        });
        let check = compare_results(&base, &wrong);
        assert!(check.failed());
        assert_eq!(check.differ.len(), 1);
        let d = &check.differ[0];
        assert_eq!(
            (d.benchmark.as_str(), d.head.as_str()),
            (first.as_str(), "41")
        );
        assert_eq!(d.base, format!("{first}-42"));
        assert_eq!(d.repeats, vec![wrong.repeats[1].name.clone()]);
    }

    #[test]
    fn varying_base_missing_results_and_other_corpora_are_not_compared() {
        let varying = with_results(real_fixture("aa-base"), |k, _| k.to_string());
        let head = with_results(real_fixture("aa-head"), |_, _| "0".into());
        let check = compare_results(&varying, &head);
        assert!(!check.failed());
        assert!(check
            .unchecked
            .iter()
            .all(|u| u.reason == ResultSkip::BaseVaries));

        let none = real_fixture("aa-base");
        let check = compare_results(&none, &head);
        assert!(!check.failed());
        assert!(check
            .unchecked
            .iter()
            .all(|u| u.reason == ResultSkip::NotRecorded));
        assert_eq!(
            compare_results(&none, &real_fixture("aa-head")),
            ResultCheck::default(),
            "no result anywhere: nothing to say"
        );

        let mut base = with_results(real_fixture("aa-base"), |_, _| "1".into());
        let mut other = with_results(real_fixture("aa-head"), |_, _| "2".into());
        for (s, hash) in [(&mut base, "a"), (&mut other, "b")] {
            s.manifest.get_or_insert_with(Default::default).corpus_hash = Some(hash.into());
        }
        // Different results, but of different corpora: refused before any comparison.
        let refused = crate::gate::evaluate::evaluate(&base, &other, &super::super::tests::opts())
            .expect_err("sets of different corpora are not compared");
        assert!(
            refused.to_string().contains("ran different corpora"),
            "{refused}"
        );
    }
}
