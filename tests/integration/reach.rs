//! What the change touches and the corpus reaches: changed lines of the real 3.13 specialize.c and bytecodes.c mapped to counters, and `gate` on real builds of a head whose change the corpus never executes.

use crate::util::{dump, read_json, suite_cache, tempdir, LinkedWorktree};
use pystats_gate::gate::reach::{changed_lines, map_lines, ChangedFile, PlaceKind, Reach};
use pystats_gate::stats::metadata::Metadata;
use std::path::{Path, PathBuf};

const SPECIALIZE: &str = "Python/specialize.c";
const BYTECODES: &str = "Python/bytecodes.c";

fn demo_repo() -> PathBuf {
    pystats_gate::commands::gate::demo_repo(Some(&suite_cache()), true).unwrap()
}

fn real(file: &str) -> String {
    std::fs::read_to_string(demo_repo().join(file)).expect("the demo repository's source")
}

fn meta() -> Metadata {
    Metadata::embedded("3.13").unwrap()
}

/// Counters of the place `head` makes of `file`'s real text (exactly one place expected).
fn one_place(file: &str, base: &str, head: &str) -> (String, PlaceKind, Vec<String>) {
    let lines = changed_lines(base, head);
    let (places, not_mapped) = map_lines(file, head, &lines, &meta());
    assert!(not_mapped.is_empty(), "{not_mapped:?}");
    assert_eq!(places.len(), 1, "{places:#?}");
    let p = places.into_iter().next().unwrap();
    (p.scope, p.kind, p.counters)
}

/// `text` with the first line containing `needle` replaced by `with(line)`.
fn edit_line(text: &str, needle: &str, with: impl Fn(&str) -> String) -> String {
    edit_line_after(text, "", needle, with)
}

/// [`edit_line`] on the first matching line after the first line containing `anchor`.
fn edit_line_after(
    text: &str,
    anchor: &str,
    needle: &str,
    with: impl Fn(&str) -> String,
) -> String {
    let mut anchored = anchor.is_empty();
    let mut done = false;
    let out: Vec<String> = text
        .split('\n')
        .map(|l| {
            anchored = anchored || l.contains(anchor);
            if anchored && !done && l.contains(needle) {
                done = true;
                with(l)
            } else {
                l.to_string()
            }
        })
        .collect();
    assert!(done, "no line contains {needle:?}");
    out.join("\n")
}

#[test]
fn specialize_c_lines_land_on_their_most_specific_counter() {
    let text = real(SPECIALIZE);
    let kind = |k: &str| vec![format!("family.LOAD_ATTR.failure_kind.{k}")];
    // A failure site records its kind; the guard opening it governs it.
    let site = "SPECIALIZATION_FAIL(LOAD_ATTR, SPEC_FAIL_ATTR_PROPERTY_NOT_PY_FUNCTION);";
    let head = edit_line(&text, site, |l| format!("{l} (void)0;"));
    let (scope, k, counters) = one_place(SPECIALIZE, &text, &head);
    assert_eq!(scope, "_Py_Specialize_LoadAttr");
    assert_eq!(k, PlaceKind::FailureKind);
    assert_eq!(counters, kind("property_not_py_function"));
    let head = edit_line(&text, "if (!Py_IS_TYPE(fget, &PyFunction_Type)) {", |l| {
        l.replace(
            "!Py_IS_TYPE",
            "!Py_IS_TYPE(fget, &PyFunction_Type) || !Py_IS_TYPE",
        )
    });
    assert_eq!(
        one_place(SPECIALIZE, &text, &head).2,
        kind("property_not_py_function")
    );
    // Code of the PROPERTY case that installs LOAD_ATTR_PROPERTY: that instruction.
    let head = edit_line(
        &text,
        "PyObject *fget = ((_PyPropertyObject *)descr)->prop_get;",
        |l| format!("{l} (void)fget;"),
    );
    assert_eq!(
        one_place(SPECIALIZE, &text, &head).2,
        ["opcode.LOAD_ATTR_PROPERTY.execution_count"]
    );
    // The demo heads: the regression touches the dict and set forms' guards, the comment
    // head touches no code at all.
    let apply = |patch: &str| -> String {
        let tmp = tempdir();
        let wt = LinkedWorktree::add(&demo_repo(), tmp.path().join("wt"), "base");
        crate::util::git(
            &wt.path,
            &[
                "apply",
                crate::util::repo_root().join(patch).to_str().unwrap(),
            ],
        );
        std::fs::read_to_string(wt.path.join(SPECIALIZE)).unwrap()
    };
    let comment = apply("ci/demo/comment.patch");
    assert_ne!(comment, text);
    assert_eq!(changed_lines(&text, &comment), Vec::<usize>::new());
    let regression = apply("ci/demo/regression.patch");
    let lines = changed_lines(&text, &regression);
    let (places, _) = map_lines(SPECIALIZE, &regression, &lines, &meta());
    let counters: Vec<&str> = places
        .iter()
        .flat_map(|p| p.counters.iter().map(String::as_str))
        .collect();
    assert_eq!(
        counters,
        [
            "opcode.CONTAINS_OP_DICT.execution_count",
            "opcode.CONTAINS_OP_SET.execution_count"
        ],
        "{places:#?}"
    );
}

#[test]
fn every_failure_site_names_a_kind_the_metrics_know() {
    // Each `SPECIALIZATION_FAIL(FAMILY, SPEC_FAIL_X);` maps to `family.F.failure_kind.K` with
    // K the name summarize_stats.py gives the kind (never a numbered `kind_N`).
    let text = real(SPECIALIZE);
    let lines: Vec<usize> = text
        .split('\n')
        .enumerate()
        .filter(|(_, l)| l.contains("SPECIALIZATION_FAIL(") && l.contains("SPEC_FAIL_"))
        .map(|(i, _)| i)
        .collect();
    assert!(lines.len() > 80, "{}", lines.len());
    let (places, not_mapped) = map_lines(SPECIALIZE, &text, &lines, &meta());
    assert!(not_mapped.is_empty(), "{not_mapped:?}");
    for p in &places {
        assert_eq!(p.kind, PlaceKind::FailureKind, "{p:?}");
        for c in &p.counters {
            assert!(
                c.contains(".failure_kind.") && !c.contains(".kind_"),
                "{p:?}"
            );
        }
    }
}

#[test]
fn bytecodes_c_definitions_land_on_their_instructions() {
    let text = real(BYTECODES);
    let at = |needle: &str| {
        // A statement added at the start of the definition's body.
        let start = text.find(needle).unwrap_or_else(|| panic!("{needle}"));
        let at = text[start..].find('{').unwrap() + start + 1;
        let mut head = text.clone();
        head.insert_str(at, "\n            (void)0;");
        let lines = changed_lines(&text, &head);
        map_lines(BYTECODES, &head, &lines, &meta())
    };
    let (places, _) = at("inst(LOAD_ATTR_PROPERTY,");
    assert_eq!(
        places[0].counters,
        ["opcode.LOAD_ATTR_PROPERTY.execution_count"]
    );
    assert_eq!(places[0].scope, "inst(LOAD_ATTR_PROPERTY)");
    // A micro-op counts through every instruction made of it.
    let (places, _) = at("specializing op(_SPECIALIZE_LOAD_ATTR,");
    assert_eq!(places[0].counters, ["opcode.LOAD_ATTR.execution_count"]);
    let (places, _) = at("op(_GUARD_BOTH_INT,");
    for op in ["BINARY_OP_ADD_INT", "COMPARE_OP_INT"] {
        let c = format!("opcode.{op}.execution_count");
        assert!(places[0].counters.contains(&c), "{places:#?}");
    }
    // A pseudo-instruction is never executed: no claim.
    let start = text.find("pseudo(JUMP) = {").unwrap();
    let mut head = text.clone();
    head.insert_str(start + "pseudo(JUMP) = {".len(), "\n            NOP,");
    let lines = changed_lines(&text, &head);
    let (places, not_mapped) = map_lines(BYTECODES, &head, &lines, &meta());
    assert!(places.is_empty(), "{places:#?}");
    assert!(not_mapped[0].contains("pseudo(JUMP)"), "{not_mapped:?}");
}

/// Runs `gate --head-dir WT` (the demo's corpus and repeats, so the base results are the
/// demo's cached ones); returns (exit code, report.json, stdout, out dir).
fn gate_head_dir(wt: &Path, out_dir: &Path, extra: &[&str]) -> (i32, serde_json::Value, String) {
    let out = crate::util::cmd()
        .args(["gate", "--quiet", "--base", "base", "--head-dir"])
        .arg(wt)
        .args(extra)
        .arg("--out")
        .arg(out_dir)
        .output()
        .unwrap();
    let code = out.status.code().unwrap_or(-1);
    assert!(code == 0 || code == 1, "{}", dump(&out));
    let rep = read_json(&out_dir.join("report.json"));
    (code, rep, dump(&out))
}

#[test]
fn gate_is_inconclusive_on_a_failure_path_the_corpus_never_reaches() {
    crate::util::pristine_python(); // the cached demo base build
    let repo = demo_repo();
    let tmp = tempdir();
    let wt = LinkedWorktree::add(&repo, tmp.path().join("cpython"), "base");
    let spec = wt.path.join(SPECIALIZE);
    let base_text = std::fs::read_to_string(&spec).unwrap();

    // 1. A change to code the corpus runs (the dict form of CONTAINS_OP): it keeps its PASS,
    // and the reach lists what the corpus covered.
    let reached = edit_line_after(
        &base_text,
        "_Py_Specialize_ContainsOp(",
        "if (PyDict_CheckExact(value)) {",
        |l| {
            l.replace(
                "PyDict_CheckExact(value)",
                "PyDict_CheckExact(value) && value != NULL",
            )
        },
    );
    std::fs::write(&spec, &reached).unwrap();
    let out1 = tmp.path().join("reached");
    let (code, rep, text) = gate_head_dir(&wt.path, &out1, &[]);
    assert_eq!(code, 0, "{text}");
    assert_eq!(rep["verdict"], "pass", "{text}");
    assert!(!text.contains("UNREACHED CHANGE"), "{text}");
    let places = rep["reach"]["places"].as_array().unwrap();
    assert_eq!(places.len(), 1, "{:#}", rep["reach"]);
    assert_eq!(
        places[0]["counters"][0],
        "opcode.CONTAINS_OP_DICT.execution_count"
    );
    assert_eq!(places[0]["reached"], true);
    assert!(
        text.contains("Change reach: the corpus reaches 1 of 1 changed specializer place(s)"),
        "{text}"
    );

    // 2. A failure site whose kind the corpus never records (zero in that run on both
    // sides), found by text: the would-be PASS is INCONCLUSIVE, exit 1 under --strict.
    let seen: std::collections::HashSet<&str> = rep["comparisons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    let lines: Vec<usize> = base_text
        .split('\n')
        .enumerate()
        .filter(|(_, l)| {
            let t = l.trim();
            t.starts_with("SPECIALIZATION_FAIL(") && t.contains("SPEC_FAIL_") && t.ends_with(");")
        })
        .map(|(i, _)| i)
        .collect();
    let (sites, _) = map_lines(SPECIALIZE, &base_text, &lines, &meta());
    let site = sites
        .iter()
        .find(|p| p.kind == PlaceKind::FailureKind && !seen.contains(p.counters[0].as_str()))
        .expect("a failure kind the built-in corpus never records");
    let counter = site.counters[0].clone();
    let unreached = {
        let mut lines: Vec<String> = base_text.split('\n').map(str::to_string).collect();
        lines[site.line - 1].push_str(" (void)0;");
        lines.join("\n")
    };
    std::fs::write(&spec, &unreached).unwrap();
    let out2 = tmp.path().join("unreached");
    let (code, rep, text) = gate_head_dir(&wt.path, &out2, &["--strict"]);
    assert_eq!(code, 1, "{text}");
    assert_eq!(rep["verdict"], "inconclusive", "{text}");
    let location = format!("{SPECIALIZE}:{}", site.line);
    let note = rep["notes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n.as_str())
        .find(|n| n.starts_with("UNREACHED CHANGE:"))
        .unwrap_or_else(|| panic!("no reach note: {text}"))
        .to_string();
    for part in [
        location.as_str(),
        site.scope.as_str(),
        counter.as_str(),
        "the corpus never executes this: the gate cannot see it; add a corpus program that reaches it (corpus/README.md)",
    ] {
        assert!(note.contains(part), "{part:?} not in {note}");
    }
    assert_eq!(rep["reach"]["places"][0]["reached"], false);
    // Every format shows it.
    let md = std::fs::read_to_string(out2.join("report.md")).unwrap();
    assert!(md.contains("### What the change touches"), "{md}");
    assert!(md.contains(&format!("| `{location}` |")), "{md}");
    let junit = std::fs::read_to_string(out2.join("junit.xml")).unwrap();
    assert!(junit.contains(&location), "{junit}");
    let html = std::fs::read_to_string(out2.join("report.html")).unwrap();
    assert!(html.contains("What the change touches"));
    assert!(
        text.contains("1 changed place(s) the corpus never reaches"),
        "{text}"
    );
}

#[test]
fn reach_of_files_no_counter_maps_makes_no_claim() {
    let text = real(SPECIALIZE);
    // The stats printers name every family but specialize nothing: no claim.
    let head = edit_line_after(
        &text,
        "_Py_GetSpecializationStats(void)",
        "int err = 0;",
        |l| l.replace("0", "1 - 1"),
    );
    let lines = changed_lines(&text, &head);
    let (places, not_mapped) = map_lines(SPECIALIZE, &head, &lines, &meta());
    assert!(places.is_empty(), "{places:#?}");
    assert!(
        not_mapped[0].contains("_Py_GetSpecializationStats: not specializer code"),
        "{not_mapped:?}"
    );
    let r = Reach::from_files(
        "b",
        "h",
        &[
            ChangedFile {
                path: "Python/generated_cases.c.h".into(),
                base: None,
                head: None,
            },
            ChangedFile {
                path: SPECIALIZE.into(),
                base: Some(text.clone()),
                head: Some(edit_line(&text, "#define SPEC_FAIL_OTHER", |l| {
                    format!("{l}\n#define SPEC_FAIL_UNUSED_BY_TEST 99")
                })),
            },
        ],
        &meta(),
    );
    assert!(r.places.is_empty(), "{r:#?}");
    assert_eq!(r.not_mapped.len(), 2, "{r:#?}");
    assert!(r.note().is_none());
}
