//! The one stats model: summary's numbers are the metrics, every version format gates the same, mixed key styles are input errors.

use crate::util::suite_cache;
use crate::util::{cmd, fixture, stdout_json, tempdir, Exits};
use pystats_gate::stats::metadata::Metadata;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// Rewrites every dump of a set in `version`'s format (numeric ids for 3.12, 3.14 names and
/// failure-kind numbers for 3.14) with the product's own inverse of its normalization, and
/// marks the manifest with that version.
fn rewrite_set_as(src: &Path, dest: &Path, version: &str) {
    let m13 = Metadata::embedded("3.13").unwrap();
    let to = Metadata::embedded(version).unwrap();
    std::fs::create_dir_all(dest).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let p = e.unwrap().path();
        let target = dest.join(p.file_name().unwrap());
        if p.is_dir() {
            rewrite_set_as(&p, &target, version);
        } else if p.file_name().is_some_and(|n| n == "manifest.json") {
            let text = std::fs::read_to_string(&p).unwrap();
            std::fs::write(
                target,
                text.replace(
                    "\"python_version\": \"3.13\"",
                    &format!("\"python_version\": \"{version}\""),
                ),
            )
            .unwrap();
        } else if p.extension().is_some_and(|x| x == "txt") {
            let parsed = pystats_gate::stats::raw::parse_dump(
                &std::fs::read(&p).unwrap(),
                &p,
                Default::default(),
            )
            .unwrap();
            let (out, _) = pystats_gate::stats::model::rewrite_as(&parsed.counters, &m13, &to);
            std::fs::write(target, pystats_gate::stats::raw::write_dump(&out)).unwrap();
        }
    }
}

/// A 3.13 base against its own 3.14-format rewrite: PASS, no mover, renames listed.
#[test]
fn base_against_its_314_rewrite_passes_with_no_mover() {
    let tmp = tempdir();
    let head = tmp.path().join("v314");
    rewrite_set_as(&fixture("real-3.13.5/aa-base"), &head, "3.14");
    let text = std::fs::read_to_string(head.join("run-1/attrs.txt")).unwrap();
    assert!(
        text.contains("Object mortal increfs"),
        "rewritten in 3.14 format"
    );
    let out = cmd()
        .arg("compare")
        .arg(fixture("real-3.13.5/aa-base"))
        .arg(&head)
        .args(["--format", "json"])
        .exits(0);
    let report = stdout_json(&out);
    assert_eq!(report["verdict"], "pass", "{report:#}");
    assert_eq!(report["top_movers"], serde_json::json!([]), "no mover");
    let changed: Vec<&Value> = report["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["changed"] == true || c["stats"]["diff"].as_f64() != Some(0.0))
        .collect();
    assert!(changed.is_empty(), "metrics moved: {changed:#?}");
    let notes = report["notes"].to_string();
    assert!(
        notes.contains("head read in CPython 3.13 names")
            && notes.contains("Object mortal increfs -> Object increfs"),
        "{notes}"
    );
}

/// Every format reads the same metrics: 3.12 (numeric ids) and 3.14 rewrites of real 3.13
/// dumps, through the CLI. The 3.12 rewrite leaves out instructions 3.12 has no number for,
/// so it is compared on the family counts and ratios it can express.
#[test]
fn metrics_of_rewrites_equal_the_originals() {
    let tmp = tempdir();
    let metrics = |set: &Path| -> BTreeMap<String, Value> {
        let out = cmd()
            .arg("metrics")
            .arg(set)
            .args(["--format", "json"])
            .exits(0);
        let v = stdout_json(&out);
        v["metrics"]
            .as_object()
            .unwrap()
            .clone()
            .into_iter()
            .collect()
    };
    let original = metrics(&fixture("real-3.13.5/aa-base"));
    for version in ["3.14", "3.12"] {
        let set = tmp.path().join(version);
        rewrite_set_as(&fixture("real-3.13.5/aa-base"), &set, version);
        let rewritten = metrics(&set);
        // A form only the rewrite's version has (3.14's BINARY_OP_EXTEND, ...) has a share,
        // of 0 in every repeat, that the 3.13 original cannot have.
        let other_versions_form = |name: &str, v: &Value| {
            name.contains(".form_share.")
                && !original.contains_key(name)
                && v["values"]
                    .as_array()
                    .is_some_and(|a| a.iter().all(|x| x.as_f64() == Some(0.0)))
        };
        let mut compared = 0;
        let mut own_forms = 0;
        for (name, v) in &rewritten {
            // 3.12 leaves out some instructions, so totals (and per-million values) differ.
            if version == "3.12" && (!name.starts_with("family.") || name.ends_with("per_minstr")) {
                continue;
            }
            if other_versions_form(name, v) {
                own_forms += 1;
                continue;
            }
            assert_eq!(original.get(name), Some(v), "{version}: {name}");
            compared += 1;
        }
        if version == "3.14" {
            assert_eq!(
                original.len(),
                rewritten.len() - own_forms,
                "3.14: same catalogue but for its own forms"
            );
        }
        assert!(compared > 50, "{version}: only {compared} metrics compared");
    }
}

/// One numeric `opcode[83]` line in a 3.13 dump is an input error naming the file and line,
/// in every command, instead of reading the whole set as 3.12.
#[test]
fn mixed_key_styles_name_file_and_line() {
    let tmp = tempdir();
    let set = tmp.path().join("mixed");
    crate::util::copy_dir(&fixture("real-3.13.5/aa-base"), &set);
    let file = set.join("run-2/attrs.txt");
    let mut text = std::fs::read_to_string(&file).unwrap();
    let line = text.lines().count() + 1;
    text.push_str("opcode[83].execution_count : 5\n");
    std::fs::write(&file, text).unwrap();
    let want = format!("{}:{line}", file.display());
    for args in [vec!["summarize"], vec!["metrics"], vec!["check"]] {
        let out = cmd().args(&args).arg(&set).exits(2);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&want) && err.contains("opcode[83]"),
            "{args:?}: {err}"
        );
    }
    let out = cmd()
        .arg("compare")
        .arg(fixture("real-3.13.5/aa-head"))
        .arg(&set)
        .exits(2);
    assert!(String::from_utf8_lossy(&out.stderr).contains(&want));
}

/// The label of a summary row, whatever the cell type.
fn label(cell: &Value) -> String {
    cell["text"].as_str().unwrap_or_default().to_string()
}

fn count(cell: &Value) -> Option<f64> {
    (cell["type"] == "count").then(|| cell["value"].as_f64().unwrap())
}

/// Lower-case `[a-z0-9_]` form, as metric names use.
fn slug(text: &str) -> String {
    pystats_gate::gate::metrics::slug(text)
}

/// (metric name, summary count) for every family, effectiveness and call number of a
/// single-set summary.
fn summary_numbers(doc: &Value) -> Vec<(String, f64)> {
    let mut out = vec![];
    let sections = doc["sections"].as_array().unwrap();
    let find = |title: &str| sections.iter().find(|s| s["title"] == title).unwrap();
    let tables = |s: &Value| -> Vec<Value> {
        s["parts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["kind"] == "table")
            .cloned()
            .collect()
    };
    for fam in find("Specialization stats")["parts"].as_array().unwrap() {
        let f = fam["title"].as_str().unwrap();
        for t in tables(fam) {
            let first = t["columns"][0]["name"].as_str().unwrap().to_string();
            for row in t["rows"].as_array().unwrap() {
                let (l, n) = (label(&row[0]), count(&row[1]).unwrap());
                let metric = match first.as_str() {
                    "Kind" if ["hit", "miss", "deferred", "deopt"].contains(&l.as_str()) => {
                        format!("family.{f}.{l}")
                    }
                    "Kind" => continue,
                    "Success" => format!("family.{f}.{}", l.to_lowercase()),
                    _ => format!("family.{f}.failure_kind.{}", l.replace(' ', "_")),
                };
                out.push((metric, n));
            }
        }
    }
    let eff = &tables(find("Specialization effectiveness"))[0];
    for row in eff["rows"].as_array().unwrap() {
        let name = slug(&label(&row[0]));
        out.push((format!("effectiveness.{name}"), count(&row[1]).unwrap()));
    }
    for row in tables(find("Call stats"))[0]["rows"].as_array().unwrap() {
        let l = label(&row[0]);
        let metric = if let Some(rest) = l.strip_prefix("Calls to ") {
            format!("calls.to_{}", slug(rest))
        } else if let Some(rest) = l.strip_prefix("Calls via ") {
            let (name, define) = rest.split_once(" (").unwrap();
            format!("calls.via_{}.{}", slug(name), slug(define))
        } else {
            format!("calls.{}", slug(&l))
        };
        out.push((metric, count(&row[1]).unwrap()));
    }
    out
}

/// Every family, effectiveness and call number in summary's tables equals its metric
/// (summed over repeats: the summary is over the whole set), for `set`.
pub fn assert_summary_equals_metrics(set: &Path) {
    let doc = stdout_json(
        &cmd()
            .arg("summarize")
            .arg(set)
            .args(["--format", "json"])
            .exits(0),
    );
    let m = stdout_json(
        &cmd()
            .arg("metrics")
            .arg(set)
            .args(["--format", "json"])
            .exits(0),
    );
    let numbers = summary_numbers(&doc);
    assert!(
        numbers.len() > 20,
        "{}: only {} numbers",
        set.display(),
        numbers.len()
    );
    for (name, n) in numbers {
        let values = m["metrics"][&name]["values"]
            .as_array()
            .unwrap_or_else(|| panic!("{}: no metric {name} for summary's {n}", set.display()));
        // A count a repeat lacks is listed as 0; counts are never null.
        let sum: f64 = values.iter().map(|v| v.as_f64().unwrap()).sum();
        assert_eq!(sum, n, "{}: {name}", set.display());
    }
}

#[test]
fn summary_numbers_are_the_metrics_on_every_fixture() {
    for set in [
        "real-3.13.5/aa-base",
        "real-3.13.5/aa-head",
        "real-3.13.5/whole-process",
        "real-3.13.5/concatenated",
        "gate/whole-process-3.13.5/set",
        "real-3.13.5-tier2",
        "real-3.13.5-tier2-invalidate",
    ] {
        assert_summary_equals_metrics(&fixture(set));
    }
}

/// The optimizer metrics on real Tier 2 dumps, the invariants hold, and an A/A comparison
/// of the two repeats under the default rules (which include the Tier 2 warn rules) passes.
#[test]
fn real_tier2_optimizer_metrics() {
    let set = fixture("real-3.13.5-tier2");
    let m = stdout_json(
        &cmd()
            .arg("metrics")
            .arg(&set)
            .args(["--format", "json"])
            .exits(0),
    );
    let metrics = m["metrics"].as_object().unwrap();
    for name in [
        "optimizer.attempts",
        "optimizer.traces_created_ratio",
        "optimizer.success_ratio",
        "optimizer.trace_length.p50",
        "optimizer.trace_length.p90",
        "uop._LOAD_FAST.execution_count",
    ] {
        let values = metrics[name]["values"].as_array();
        assert!(
            values.is_some_and(|v| v.iter().any(|x| x.as_f64() != Some(0.0))),
            "{name}: {:?}",
            metrics.get(name)
        );
    }
    assert!(
        metrics
            .keys()
            .any(|k| k.starts_with("uop.") && k.ends_with(".miss_ratio")),
        "a uop miss ratio"
    );
    cmd().arg("check").arg(&set).exits(0);
    // Executors invalidated by watched-dict changes (the corpus invalidates none), and the
    // optimizer failures behind them: real values, and the invariants hold.
    let inv = fixture("real-3.13.5-tier2-invalidate");
    let m = stdout_json(
        &cmd()
            .arg("metrics")
            .arg(&inv)
            .args(["--format", "json"])
            .exits(0),
    );
    assert_eq!(
        m["metrics"]["optimizer.executors_invalidated"]["values"],
        serde_json::json!([6.0])
    );
    assert_eq!(
        m["metrics"]["optimizer.executors_invalidated_ratio"]["values"],
        serde_json::json!([0.6])
    );
    assert_eq!(
        m["metrics"]["optimizer.success_ratio"]["values"],
        serde_json::json!([0.8])
    );
    cmd().arg("check").arg(&inv).exits(0);
    let tmp = tempdir();
    for (i, run) in ["run-1", "run-2"].iter().enumerate() {
        crate::util::copy_dir(&set.join(run), &tmp.path().join(i.to_string()));
    }
    cmd()
        .arg("compare")
        .arg(tmp.path().join("0"))
        .arg(tmp.path().join("1"))
        .exits(0);
}

/// `--tier2` on every building command stands for the Tier 2 configure flag, once, so it
/// reaches the build id and the manifest like any `--configure-flag`.
#[test]
fn tier2_flag_folds_into_the_configure_flags() {
    use clap::Parser;
    use pystats_gate::cli::{BuildOpts, Cli};
    for args in [
        vec!["build", "--repo", "r", "--tier2"],
        vec![
            "gate", "--repo", "r", "--base", "a", "--head", "b", "--tier2",
        ],
        vec!["demo", "--tier2"],
        vec![
            "bisect", "--repo", "r", "--good", "a", "--bad", "b", "--tier2",
        ],
    ] {
        let mut cli = Cli::try_parse_from(std::iter::once("pystats-gate").chain(args.clone()))
            .unwrap_or_else(|e| panic!("{args:?}: {e}"));
        let b = cli.build_opts_mut().expect("a building command");
        b.configure_flags.push(BuildOpts::TIER2_FLAG.into());
        b.fold_tier2();
        assert_eq!(b.configure_flags, [BuildOpts::TIER2_FLAG], "{args:?}");
        b.configure_flags.clear();
        b.fold_tier2();
        assert_eq!(b.configure_flags, [BuildOpts::TIER2_FLAG], "{args:?}");
    }
}

/// A ratio with a zero denominator is no sample, in compare too: BINARY_OP attempted no
/// specialization in head (success + failure = 0), so its success ratio is not a drop to 0%.
#[test]
fn zero_denominator_ratio_is_no_sample_in_compare() {
    let tmp = tempdir();
    let head = tmp.path().join("head");
    crate::util::copy_dir(&fixture("real-3.13.5/aa-head"), &head);
    for run in ["run-1", "run-2", "run-3"] {
        for bench in ["arith", "attrs"] {
            let f = head.join(run).join(format!("{bench}.txt"));
            let text = std::fs::read_to_string(&f).unwrap();
            let kept: String = text
                .lines()
                .filter(|l| {
                    !l.contains("opcode[BINARY_OP].specialization.success")
                        && !l.contains("opcode[BINARY_OP].specialization.failure")
                })
                .map(|l| format!("{l}\n"))
                .collect();
            std::fs::write(&f, kept).unwrap();
        }
    }
    let rules = tmp.path().join("rules.toml");
    std::fs::write(
        &rules,
        "[[rule]]\nname = \"binary-op-success\"\nmetric = \"family.BINARY_OP.success_ratio\"\nmax_decrease = 0.05\nseverity = \"fail\"\n[[rule]]\nname = \"miss\"\nmetric = \"family.*.miss_ratio\"\nmax_increase = 0.01\n",
    )
    .unwrap();
    let out = cmd()
        .arg("compare")
        .arg(fixture("real-3.13.5/aa-base"))
        .arg(&head)
        .arg("--rules")
        .arg(&rules)
        .args(["--format", "json"])
        .exits(0);
    let report = stdout_json(&out);
    let outcome = report["outcomes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["rule"] == "binary-op-success")
        .unwrap();
    assert_eq!(outcome["status"], "skipped", "{outcome:#}");
    // Its only check skipped, the rule checked nothing: never a pass.
    assert_eq!(report["verdict"], "inconclusive");
    assert_eq!(report["unchecked_rules"][0]["rule"], "binary-op-success");
    assert!(
        outcome.to_string().contains("no comparable sample"),
        "{outcome:#}"
    );
}

/// `gate --tier2` end to end on real Tier 2 builds (`--enable-experimental-jit=interpreter`)
/// of the demo repository: the comment-only head passes, the CONTAINS_OP regression fails
/// naming it, and the reports carry the optimizer's metrics and rules.
#[test]
fn tier2_gate_end_to_end() {
    let repo = pystats_gate::commands::gate::demo_repo(Some(&suite_cache()), true)
        .expect("demo repository");
    let tmp = tempdir();
    for (head, code) in [("comment", 0), ("regression", 1)] {
        let out_dir = tmp.path().join(head);
        let out = cmd()
            .args(["gate", "--quiet", "--tier2", "--repo"])
            .arg(&repo)
            .args(["--base", "base", "--head", head, "--bench", "iterate"])
            .args(["--repeats", "2", "--out"])
            .arg(&out_dir)
            .exits(code);
        let rep = crate::util::read_json(&out_dir.join("report.json"));
        let names: Vec<&str> = rep["comparisons"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["name"].as_str())
            .collect();
        assert!(
            names.iter().any(|n| n.starts_with("optimizer.")),
            "no optimizer metric: {}",
            crate::util::dump(&out)
        );
        assert!(
            rep["outcomes"].as_array().unwrap().iter().any(|o| o["rule"]
                .as_str()
                .is_some_and(|r| r.starts_with("optimizer-"))),
            "no optimizer rule was evaluated"
        );
        for side in ["base", "head"] {
            let m = crate::util::read_json(&out_dir.join(side).join("manifest.json"));
            assert!(
                m["configure_flags"]
                    .to_string()
                    .contains("--enable-experimental-jit=interpreter"),
                "{side}: {m}"
            );
        }
        if code == 1 {
            crate::util::assert_stdout_contains(&out, "REGRESSION in CONTAINS_OP");
        }
    }
}
