//! The pure bisection search: given what is known so far, which commit to test next.
//!
//! The search is a function of the known outcomes only, so resuming a saved bisect is just
//! replaying the recorded outcomes: no hidden cursor state can drift.

pub use crate::model::bisect::Mark;

/// The next thing the driver has to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Evaluate the candidate at this index.
    Test(usize),
    /// The search is over.
    Done(Conclusion),
}

/// Where the search ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conclusion {
    /// Exactly one first bad commit.
    FirstBad(usize),
    /// The first bad commit is one of these (ascending), because the ones before the last
    /// index could not be tested (build failure, crash, inconclusive).
    Ambiguous(Vec<usize>),
    /// The `bad` end itself passed the gate: there is no regression to find.
    BadEndIsGood,
}

/// Facts derived from the marks that the report wants besides the conclusion.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Anomalies {
    /// Candidates marked good although they come after the first bad one (non-monotonic).
    pub good_after_bad: Vec<usize>,
}

/// Chooses the next candidate to test, or concludes.
///
/// `marks[i]` is the known outcome of candidate `i` (candidates are ordered oldest first, the
/// last one is the `bad` end). The good end sits before index 0 and is always good. The bad
/// end is assumed bad (as `git bisect` does) and only tested when every earlier candidate is
/// good or skipped, so a wrong `--bad` is reported instead of blamed on itself.
pub fn next_step(marks: &[Option<Mark>]) -> Next {
    let n = marks.len();
    if n == 0 {
        return Next::Done(Conclusion::BadEndIsGood);
    }
    let first_bad = marks.iter().position(|m| *m == Some(Mark::Bad));
    if first_bad.is_none() && marks[n - 1] == Some(Mark::Good) {
        return Next::Done(Conclusion::BadEndIsGood);
    }
    // The answer lies in (lo, hi]: lo is the last good before hi (-1 = the good end).
    let hi = first_bad.unwrap_or(n - 1);
    let lo: isize = (0..hi)
        .rev()
        .find(|&i| marks[i] == Some(Mark::Good))
        .map_or(-1, |i| i as isize);
    let open: Vec<usize> = ((lo + 1) as usize..hi)
        .filter(|&i| marks[i].is_none())
        .collect();
    if let Some(pick) = closest_to_middle(&open, lo, hi) {
        return Next::Test(pick);
    }
    // Nothing untested in between: every index in (lo, hi) is skipped.
    let skipped: Vec<usize> = ((lo + 1) as usize..hi).collect();
    if first_bad.is_none() && marks[hi].is_none() && hi == n - 1 {
        // Only the assumed-bad end is left: verify it rather than blame it unseen.
        return Next::Test(hi);
    }
    if skipped.is_empty() {
        Next::Done(Conclusion::FirstBad(hi))
    } else {
        let mut all = skipped;
        all.push(hi);
        Next::Done(Conclusion::Ambiguous(all))
    }
}

/// The untested index that splits (lo, hi] most evenly; ties go to the older commit.
fn closest_to_middle(open: &[usize], lo: isize, hi: usize) -> Option<usize> {
    // Testing m leaves hi - m answers if good, m - lo if bad: minimise the larger.
    open.iter()
        .copied()
        .min_by_key(|&m| ((hi - m) as isize).max(m as isize - lo))
}

/// Non-monotonic marks worth telling the user about.
pub fn anomalies(marks: &[Option<Mark>]) -> Anomalies {
    let Some(first_bad) = marks.iter().position(|m| *m == Some(Mark::Bad)) else {
        return Anomalies::default();
    };
    Anomalies {
        good_after_bad: (first_bad + 1..marks.len())
            .filter(|&i| marks[i] == Some(Mark::Good))
            .collect(),
    }
}

/// ceil(log2 n) for n >= 1: the number of tests a plain binary search over n answers needs.
pub fn ceil_log2(n: usize) -> u32 {
    if n <= 1 {
        0
    } else {
        usize::BITS - (n - 1).leading_zeros()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;

    /// Runs the search against a known truth; returns the conclusion and how many
    /// candidates were evaluated.
    fn simulate(n: usize, first_bad: usize, skips: &BTreeSet<usize>) -> (Conclusion, usize) {
        let mut marks = vec![None; n];
        let mut evaluations = 0;
        loop {
            match next_step(&marks) {
                Next::Test(i) => {
                    assert!(marks[i].is_none(), "index {i} tested twice");
                    evaluations += 1;
                    marks[i] = Some(if skips.contains(&i) {
                        Mark::Skip
                    } else if i >= first_bad {
                        Mark::Bad
                    } else {
                        Mark::Good
                    });
                }
                Next::Done(c) => return (c, evaluations),
            }
        }
    }

    #[test]
    fn plain_binary_search_finds_each_index() {
        for n in 1..=40 {
            for f in 0..n {
                let (c, evals) = simulate(n, f, &BTreeSet::new());
                assert_eq!(c, Conclusion::FirstBad(f), "n={n} f={f}");
                let bound = ceil_log2(n) as usize + usize::from(f == n - 1);
                assert!(evals <= bound, "n={n} f={f}: {evals} > {bound}");
            }
        }
    }

    #[test]
    fn bad_end_that_passes_is_reported() {
        let marks = vec![Some(Mark::Good), None, Some(Mark::Good)];
        assert_eq!(next_step(&marks), Next::Done(Conclusion::BadEndIsGood));
        assert_eq!(next_step(&[]), Next::Done(Conclusion::BadEndIsGood));
    }

    #[test]
    fn skipped_midpoint_moves_to_neighbour() {
        // 10 candidates, the midpoint 4 does not build.
        let marks = vec![
            None,
            None,
            None,
            None,
            Some(Mark::Skip),
            None,
            None,
            None,
            None,
            None,
        ];
        match next_step(&marks) {
            Next::Test(i) => assert!(i == 3 || i == 5, "{i}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn skip_between_last_good_and_first_bad_is_ambiguous() {
        let marks = vec![Some(Mark::Good), Some(Mark::Skip), Some(Mark::Bad), None];
        assert_eq!(
            next_step(&marks),
            Next::Done(Conclusion::Ambiguous(vec![1, 2]))
        );
    }

    #[test]
    fn skip_outside_the_answer_is_not_ambiguous() {
        let skips: BTreeSet<usize> = [2].into_iter().collect();
        let (c, _) = simulate(10, 6, &skips);
        assert_eq!(c, Conclusion::FirstBad(6));
    }

    #[test]
    fn good_after_bad_is_an_anomaly() {
        let marks = vec![Some(Mark::Bad), None, Some(Mark::Good)];
        assert_eq!(anomalies(&marks).good_after_bad, vec![2]);
    }

    #[test]
    fn ceil_log2_values() {
        assert_eq!(
            (1..=9).map(ceil_log2).collect::<Vec<_>>(),
            vec![0, 1, 2, 2, 3, 3, 3, 3, 4]
        );
    }

    proptest! {
        #![proptest_config(crate::testing::proptest_config(2000))]
        #[test]
        fn result_is_correct_or_ambiguous_and_cheap(
            n in 1usize..64,
            f_frac in 0.0f64..1.0,
            skip_bits in proptest::collection::vec(proptest::bool::weighted(0.2), 64),
        ) {
            let f = ((n as f64 * f_frac) as usize).min(n - 1);
            let skips: BTreeSet<usize> = (0..n).filter(|&i| skip_bits[i]).collect();
            let (c, evals) = simulate(n, f, &skips);
            match &c {
                Conclusion::FirstBad(i) => prop_assert_eq!(*i, f),
                Conclusion::Ambiguous(set) => {
                    prop_assert!(set.contains(&f), "{:?} misses {}", set, f);
                    // Ambiguity only comes from skips: all but the last are skipped.
                    for i in &set[..set.len() - 1] {
                        prop_assert!(skips.contains(i));
                    }
                    prop_assert!(set.len() >= 2);
                }
                Conclusion::BadEndIsGood => prop_assert!(false, "truth has a bad commit"),
            }
            let bound = ceil_log2(n) as usize + 2 + skips.len();
            prop_assert!(evals <= bound, "{} evaluations > {}", evals, bound);
        }
    }
}
