//! `mutants`: the generator on the real CPython 3.13 specialize.c, and one end-to-end run on a real build.

use crate::util::*;
use pystats_gate::commands::mutants::generate::{generate, Operator};
use std::collections::{BTreeSet, HashSet};

const FILE: &str = "Python/specialize.c";

fn real_specialize_c() -> String {
    let repo = pystats_gate::commands::gate::demo_repo(Some(&suite_cache()), true)
        .expect("demo repository");
    std::fs::read_to_string(repo.join(FILE)).expect("specialize.c of the demo repository")
}

#[test]
fn generator_on_real_specialize_c_is_stable_and_covers_every_family() {
    let text = real_specialize_c();
    let a = generate(FILE, &text);
    let b = generate(FILE, &text);
    assert_eq!(a, b, "generation is deterministic");
    assert!(a.len() > 300, "only {} mutants", a.len());
    let ids: HashSet<&str> = a.iter().map(|m| m.id.as_str()).collect();
    assert_eq!(ids.len(), a.len(), "IDs are unique");
    // IDs are file:line:operator at the site, and name what is at that line.
    let lines: Vec<&str> = text.split('\n').collect();
    for m in &a {
        assert!(
            m.id.starts_with(&format!("{FILE}:{}:{}", m.site, m.operator.key())),
            "{}",
            m.id
        );
        let mutated = m.apply(&text).unwrap();
        assert_ne!(mutated, text, "{} changes nothing", m.id);
        assert!(!m.diff(&text).is_empty());
        assert!(!m.description.is_empty());
        if m.operator != Operator::EarlyFail {
            assert_eq!(m.line, m.site);
            assert_eq!(lines[m.line - 1], m.old[0], "{}", m.id);
        } else {
            // The early failure goes right after a block opener that is not a `switch`
            // (statements before a switch's first label never run), even when the
            // `switch (...)` header spans several lines.
            let mut start = m.line - 1;
            while start > 0 {
                let prev = lines[start - 1].trim_end();
                if prev.is_empty() || prev.ends_with([';', '{', '}', ':']) {
                    break;
                }
                start -= 1;
            }
            assert!(
                !lines[start].trim_start().starts_with("switch"),
                "{} inserts into a switch body before its first case",
                m.id
            );
        }
    }
    // Known sites of CPython 3.13.5.
    let find = |id: &str| {
        a.iter()
            .find(|m| m.id == id)
            .unwrap_or_else(|| panic!("no mutant {id}"))
    };
    let add_int = find("Python/specialize.c:2089:remove");
    assert_eq!(add_int.family, "BINARY_OP");
    assert!(add_int
        .new
        .join("\n")
        .contains("SPECIALIZATION_FAIL(BINARY_OP"));
    assert_eq!(find("Python/specialize.c:1001:remove").family, "LOAD_ATTR");
    assert_eq!(
        find("Python/specialize.c:1894:sibling.2").new[0].trim(),
        "instr->op.code = bound_method ? CALL_BOUND_METHOD_EXACT_ARGS : CALL_PY_GENERAL;"
    );
    assert_eq!(
        find("Python/specialize.c:2400:remove")
            .new
            .last()
            .unwrap()
            .trim(),
        "goto failure;"
    );
    // Every family and every operator has mutants.
    let families: BTreeSet<&str> = a.iter().map(|m| m.family.as_str()).collect();
    let expected = [
        "BINARY_OP",
        "BINARY_SUBSCR",
        "CALL",
        "COMPARE_OP",
        "CONTAINS_OP",
        "FOR_ITER",
        "LOAD_ATTR",
        "LOAD_GLOBAL",
        "LOAD_SUPER_ATTR",
        "SEND",
        "STORE_ATTR",
        "STORE_SUBSCR",
        "TO_BOOL",
        "UNPACK_SEQUENCE",
    ];
    assert_eq!(families, expected.into_iter().collect());
    let ops: BTreeSet<Operator> = a.iter().map(|m| m.operator).collect();
    assert_eq!(ops.len(), 5, "{ops:?}");
    // Every installed specialized form can be removed.
    let removed: usize = a.iter().filter(|m| m.operator == Operator::Remove).count();
    assert!(removed >= 60, "{removed} remove mutants");
}

/// The shipped equivalent-mutant list names only mutants the generator makes on the real
/// 3.13 specialize.c (a typo or a line shift would exclude nothing, silently), each with a
/// reason; a `fail-kind` one names a SPECIALIZATION_FAIL line.
#[test]
fn shipped_equivalent_mutants_exist_in_the_real_specializer() {
    let text = real_specialize_c();
    let generated: HashSet<String> = generate(FILE, &text).into_iter().map(|m| m.id).collect();
    let listed = pystats_gate::commands::mutants::parse_equivalents(
        pystats_gate::commands::mutants::BUILTIN_EQUIVALENTS,
        std::path::Path::new("corpus/equivalent-mutants.toml"),
    )
    .unwrap();
    assert!(listed.len() >= 10, "{} listed", listed.len());
    let lines: Vec<&str> = text.split('\n').collect();
    for (id, reason) in &listed {
        assert!(generated.contains(id), "{id} is not a generated mutant");
        let line: usize = id.split(':').nth(1).unwrap().parse().unwrap();
        if id.ends_with(":fail-kind") {
            assert!(
                lines[line - 1].contains("SPECIALIZATION_FAIL"),
                "{id}: {}",
                lines[line - 1]
            );
        }
        assert!(reason.len() > 20, "{id}: {reason}");
    }
}

/// Three mutants on the demo repository's base, on a real build: a removed specialization
/// the corpus exercises (killed, naming its family), a sibling downgrade (killed by the
/// form-share rules) and a listed-equivalent mutant (counted apart, not built). A rerun
/// resumes from the result files without building anything.
#[test]
fn mutants_end_to_end_on_a_real_build() {
    let repo = pystats_gate::commands::gate::demo_repo(Some(&suite_cache()), true)
        .expect("demo repository");
    let tmp = tempdir();
    let out = tmp.path().join("m");
    let equivalent = tmp.path().join("equivalent.toml");
    std::fs::write(
        &equivalent,
        "[[mutant]]\nid = \"Python/specialize.c:2089:early-fail\"\nreason = \"listed here to test the accounting\"\n",
    )
    .unwrap();
    let run = |c: &mut assert_cmd::Command| {
        c.args([
            "mutants", "--rev", "base", "--quiet", "--bench", "arith", "--bench", "calls",
        ])
        .arg("--repo")
        .arg(&repo)
        .arg("--out")
        .arg(&out)
        .arg("--equivalent")
        .arg(&equivalent)
        .args(["--only", "*:2089:remove", "--only", "*:2089:early-fail"])
        .args(["--only", "*:1894:sibling"]);
    };
    let mut c = cmd();
    run(&mut c);
    let first = c.exits(0);
    let rep = read_json(&out.join("mutants-report.json"));
    let outcome = |id: &str| {
        rep["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["mutant"]["id"] == id)
            .unwrap_or_else(|| panic!("no result for {id}\n{}", dump(&first)))["outcome"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(
        outcome("Python/specialize.c:2089:remove"),
        "killed",
        "{}",
        dump(&first)
    );
    assert_eq!(
        outcome("Python/specialize.c:1894:sibling"),
        "killed",
        "{}",
        dump(&first)
    );
    assert_eq!(outcome("Python/specialize.c:2089:early-fail"), "equivalent");
    assert_eq!(rep["overall"]["total"], 3);
    assert_eq!(rep["score"], 1.0);
    assert_eq!(rep["families"]["BINARY_OP"]["killed"], 1);
    let md = std::fs::read_to_string(out.join("mutants-report.md")).unwrap();
    assert!(md.contains("| BINARY_OP |"), "{md}");
    assert!(md.contains("Equivalent (excluded) (1)"), "{md}");
    // Resumable: a rerun finds every result and builds nothing.
    let mut c = cmd();
    run(&mut c);
    let second = c.exits(0);
    assert_stdout_contains(&second, "mutation score 100.0%");
    let again = read_json(&out.join("mutants-report.json"));
    assert_eq!(again["wall_seconds"], 0.0, "{}", dump(&second));
    assert_eq!(again["results"], rep["results"]);
}
