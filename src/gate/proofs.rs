//! Cross-stage proofs: every version's dump format gates like 3.13's; no hostile dump panics or wraps.

mod format_proofs {
    use crate::gate::metrics::compute;
    use crate::stats::metadata::Metadata;
    use crate::stats::model::*;
    use crate::stats::raw::Counters;

    /// Metrics of a 3.12- or 3.14-format rewrite of each real 3.13 dump, read with that
    /// version's embedded table, against the original's. Returns the names that differ.
    fn differences(version: &str) -> Vec<String> {
        let m13 = Metadata::embedded("3.13").unwrap();
        let other = Metadata::embedded(version).unwrap();
        let mut diffs = vec![];
        for set in ["aa-base", "aa-head"] {
            for r in &crate::stats::set::real_fixture(set).repeats {
                for (bench, dump) in &r.benchmarks {
                    let (rewritten, dropped) = rewrite_as(&dump.counters, &m13, &other);
                    assert_ne!(
                        rewritten, dump.counters,
                        "{version} rewrite changed nothing"
                    );
                    let original: Counters = dump
                        .counters
                        .iter()
                        .filter(|(k, _)| !dropped.iter().any(|d| d == k))
                        .map(|(k, v)| (k.to_string(), v))
                        .collect();
                    assert!(
                        dropped.len() * 4 < dump.counters.len(),
                        "{version}: most keys dropped"
                    );
                    let renames = Model::build(&rewritten, &other).unwrap().renames;
                    assert!(!renames.is_empty(), "{version}: nothing to normalize back");
                    let a = compute(&original, &m13).unwrap();
                    // Each version's families have their own forms (3.12's CALL_NO_KW_*, 3.14's
                    // BINARY_OP_EXTEND, ...): the shares of forms one version lacks are absent.
                    let forms_differ = |n: &str| n.contains(".form_share.");
                    let b = compute(&rewritten, &other).unwrap();
                    for (name, v) in &a {
                        if b.get(name) != Some(v) && !(b.get(name).is_none() && forms_differ(name))
                        {
                            diffs.push(format!(
                                "{set}/{}/{bench}: {name} {v:?} vs {:?}",
                                r.name,
                                b.get(name)
                            ));
                        }
                    }
                    for name in b.keys().filter(|n| !a.contains_key(*n) && !forms_differ(n)) {
                        diffs.push(format!(
                            "{set}/{}/{bench}: {name} only in the rewrite",
                            r.name
                        ));
                    }
                }
            }
        }
        diffs
    }

    #[test]
    fn rewrites_read_like_the_original() {
        for v in ["3.12", "3.14"] {
            let d = differences(v);
            assert!(
                d.is_empty(),
                "{v}: {} differences:\n{}",
                d.len(),
                d[..d.len().min(40)].join("\n")
            );
        }
    }
}

mod props {
    use crate::stats::metadata::Metadata;
    use crate::stats::raw::Counters;
    use crate::stats::set::{BenchmarkDump, Repeat, SetSource, StatsSet};
    use indexmap::IndexMap;
    use proptest::prelude::*;

    /// Counter values that stress arithmetic: at and near 2^64 and 2^63, small, zero.
    fn value() -> impl Strategy<Value = u64> {
        prop_oneof![
            Just(u64::MAX),
            Just(u64::MAX - 1),
            Just(1u64 << 63),
            Just(0u64),
            0u64..10,
            any::<u64>(),
        ]
    }

    /// Keys of every table the model reads, on a few family and member names.
    fn key() -> impl Strategy<Value = String> {
        let name = prop_oneof![
            Just("LOAD_ATTR"),
            Just("LOAD_ATTR_SLOT"),
            Just("BINARY_OP_SUBSCR_DICT"),
            Just("BINARY_SUBSCR"),
            Just("LOAD_FAST"),
            Just("CALL"),
        ];
        (name, 0usize..16, 0u32..45).prop_map(|(n, shape, i)| match shape {
            0 => format!("opcode[{n}].specializable"),
            1 => format!("opcode[{n}].execution_count"),
            2 => format!("opcode[{n}].specialization.hit"),
            3 => format!("opcode[{n}].specialization.miss"),
            4 => format!("opcode[{n}].specialization.deferred"),
            5 => format!("opcode[{n}].specialization.success"),
            6 => format!("opcode[{n}].specialization.failure"),
            7 => format!("opcode[{n}].specialization.failure_kinds[{i}]"),
            8 => format!("Calls via PyEval_EvalFrame[{i}]"),
            9 => "Calls to Python functions inlined".into(),
            10 => [
                "Object increfs",
                "Object mortal increfs",
                "Object allocations",
            ][i as usize % 3]
                .into(),
            11 => format!("GC[{}] collections", i % 3),
            12 => "Optimization attempts".into(),
            13 => format!("Trace length[{i}]"),
            14 => format!("uops[_{n}].execution_count"),
            _ => "JIT total memory size".into(),
        })
    }

    fn set(dumps: Vec<Vec<(String, u64)>>) -> StatsSet {
        let repeats = dumps
            .into_iter()
            .enumerate()
            .map(|(i, kv)| {
                let mut c = Counters::new();
                for (k, v) in kv {
                    c.set(&k, v);
                }
                let mut benchmarks = IndexMap::new();
                benchmarks.insert(
                    "b".to_string(),
                    BenchmarkDump {
                        counters: c,
                        files: 1,
                    },
                );
                Repeat {
                    name: format!("run-{}", i + 1),
                    seed: Some(i as u64 + 1),
                    benchmarks,
                    results: Default::default(),
                }
            })
            .collect();
        StatsSet {
            path: "mem".into(),
            source: SetSource::RawDir,
            repeats,
            manifest: None,
            embedded_metadata: None,
            malformed: vec![],
        }
    }

    fn dumps() -> impl Strategy<Value = Vec<Vec<(String, u64)>>> {
        proptest::collection::vec(proptest::collection::vec((key(), value()), 1..30), 2..3)
    }

    proptest! {
        #![proptest_config(crate::testing::proptest_config(64))]

        /// Metrics, check and compare on saturated counters: no panic (overflow checks are on
        /// in test builds, so a wrapping add would panic), no ratio outside [0, 1] except
        /// where summarize_stats.py's own definition allows it, no infinite value.
        #[test]
        fn metrics_check_compare_never_panic_or_wrap(a in dumps(), b in dumps()) {
            let meta = Metadata::embedded("3.13").unwrap();
            let (base, head) = (set(a), set(b));
            // The only error allowed: 3.13 and 3.14 names of one counter (both present in
            // these mixed dumps) overflow when added, an input error.
            let input_error = |e: &dyn std::fmt::Display| e.to_string().contains("overflows");
            for s in [&base, &head] {
                let tables = match crate::gate::metrics::set_metrics(s, &meta, true) {
                    Ok(t) => t,
                    Err(e) => {
                        prop_assert!(input_error(&format!("{e:#}")), "{e:#}");
                        continue;
                    }
                };
                for t in tables {
                    for (name, v) in &t {
                        prop_assert!(v.value().is_finite(), "{name} = {:?}", v);
                        if name.ends_with("success_ratio") || name.ends_with("hit_ratio")
                            || name.ends_with("miss_ratio") && name.starts_with("family.") {
                            prop_assert!((0.0..=1.0).contains(&v.value()), "{name} = {:?}", v);
                        }
                        prop_assert!(v.den != Some(0.0), "{name}: zero denominator kept");
                    }
                }
                let ex = crate::gate::check::CheckExceptions::load_or_default(None).unwrap();
                if let Err(e) = crate::gate::check::check_set(s, &meta, &ex, "x") {
                    prop_assert!(input_error(&e), "{e}");
                }
            }
            let opts =
                crate::gate::report_model::EvalOptions::with_defaults(meta.clone(), meta.clone()).unwrap();
            // compare also refuses a dump of a benchmark that counts no execution, and data
            // on which a rule finds no metric or no rule decides anything (input errors:
            // nothing a rule could check).
            if let Err(e) = crate::gate::evaluate::evaluate(&base, &head, &opts) {
                let e = format!("{e:#}");
                prop_assert!(
                    input_error(&e)
                        || e.contains("counts no instruction execution")
                        || e.contains("so the rule checks nothing")
                        || e.contains("no rule checked anything"),
                    "{e}"
                );
            }
        }
    }
}
