//! `summarize`: differential tests against the real summarize_stats.py, bad input, formats.

use crate::util::{cmd, dump, fixture, repo_root, tempdir, Exits};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A CPython 3.13 interpreter that can run summarize_stats.py (it imports `opcode`):
/// `PYSTATS_GATE_PYTHON`, else the pristine 3.13 interpreter the product builds itself.
pub fn reference_python() -> PathBuf {
    match std::env::var_os("PYSTATS_GATE_PYTHON") {
        Some(p) => PathBuf::from(p),
        None => crate::util::pristine_python(),
    }
}

/// Pristine CPython 3.13 source (holds the reference Tools/scripts/summarize_stats.py),
/// fetched once by ci/fetch-cpython.sh and cached.
fn reference_source() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("PYSTATS_GATE_CPYTHON_SRC") {
        return Some(PathBuf::from(p));
    }
    let out = Command::new("bash")
        .arg(repo_root().join("ci/fetch-cpython.sh"))
        .args(["python3.13", "trixie"])
        .output()
        .ok()?;
    if !out.status.success() {
        eprintln!(
            "fetch-cpython.sh failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    let path = String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()?
        .trim()
        .to_string();
    let p = PathBuf::from(path);
    p.join("Tools/scripts/summarize_stats.py")
        .exists()
        .then_some(p)
}

/// Interpreter + source for the reference. Never skipped: failing to obtain either fails the test.
fn reference() -> (PathBuf, PathBuf) {
    let src =
        reference_source().expect("could not obtain the CPython 3.13 source (ci/fetch-cpython.sh)");
    (reference_python(), src)
}

/// summarize_stats.py wants flat directories: copy SET/REPEAT/BENCH.txt to REPEAT__BENCH.txt.
fn flatten(set: &Path, into: &Path) -> PathBuf {
    if set.is_file() {
        return set.to_path_buf();
    }
    let dest = into.join(set.file_name().unwrap());
    std::fs::create_dir_all(&dest).unwrap();
    let mut entries: Vec<_> = std::fs::read_dir(set)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for e in entries {
        if e.is_dir() {
            for f in std::fs::read_dir(&e).unwrap() {
                let f = f.unwrap().path();
                if f.extension().is_some_and(|x| x == "txt") {
                    let name = format!(
                        "{}__{}",
                        e.file_name().unwrap().to_string_lossy(),
                        f.file_name().unwrap().to_string_lossy()
                    );
                    std::fs::copy(&f, dest.join(name)).unwrap();
                }
            }
        } else if e.extension().is_some_and(|x| x == "txt") {
            std::fs::copy(&e, dest.join(e.file_name().unwrap())).unwrap();
        }
    }
    dest
}

/// Runs the real summarize_stats.py. Directory iteration is made sorted (the script uses
/// `Path.iterdir()`, whose order is filesystem-dependent and decides tie order); nothing else
/// about the script is touched.
fn run_reference(py: &Path, src: &Path, inputs: &[PathBuf], extra: &[&str]) -> String {
    let script = src.join("Tools/scripts/summarize_stats.py");
    let shim = "import pathlib, runpy, sys\n\
                _iterdir = pathlib.Path.iterdir\n\
                pathlib.Path.iterdir = lambda self: iter(sorted(_iterdir(self)))\n\
                sys.argv = sys.argv[1:]\n\
                runpy.run_path(sys.argv[0], run_name='__main__')\n";
    let out = Command::new(py)
        .arg("-c")
        .arg(shim)
        .arg(&script)
        .args(inputs)
        .args(extra)
        .output()
        .expect("run summarize_stats.py");
    assert!(
        out.status.success(),
        "summarize_stats.py failed: {}",
        dump(&out)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn run_ours(sets: &[PathBuf], extra: &[&str]) -> String {
    let out = cmd().arg("summarize").args(sets).args(extra).exits(0);
    String::from_utf8(out.stdout).unwrap()
}

/// One HTML table of a report: the heading it sits under, its header cells and body cells.
#[derive(Debug, PartialEq)]
struct TableBlock {
    heading: String,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

/// Extracts every table, with whitespace inside cells collapsed.
fn tables(markdown: &str) -> Vec<TableBlock> {
    let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out = vec![];
    let mut heading = String::new();
    let mut lines = markdown.lines().peekable();
    while let Some(line) = lines.next() {
        if line.starts_with('#') {
            heading = line.to_string();
        } else if line == "<table>" {
            let mut t = TableBlock {
                heading: heading.clone(),
                header: vec![],
                rows: vec![],
            };
            let mut cell: Option<String> = None;
            for l in lines.by_ref() {
                if l == "</table>" {
                    break;
                }
                if l == "<tr>" && !t.header.is_empty() {
                    t.rows.push(vec![]);
                }
                if let Some(rest) = l.strip_prefix("<th align=\"") {
                    let text = rest
                        .split_once("\">")
                        .unwrap()
                        .1
                        .strip_suffix("</th>")
                        .unwrap();
                    t.header.push(text.to_string());
                    continue;
                }
                let start = l
                    .strip_prefix("<td align=\"")
                    .map(|r| r.split_once("\">").unwrap().1);
                let text = match (&mut cell, start) {
                    (None, Some(s)) => s.to_string(),
                    (Some(acc), None) => {
                        acc.push('\n');
                        acc.push_str(l);
                        acc.clone()
                    }
                    (None, None) => continue,
                    (Some(_), Some(_)) => panic!("nested cell"),
                };
                match text.strip_suffix("</td>") {
                    Some(done) => {
                        t.rows.last_mut().unwrap().push(norm(done));
                        cell = None;
                    }
                    None => cell = Some(text),
                }
            }
            out.push(t);
        }
    }
    out
}

/// Asserts every table cell is equal, then that the whole text is, date line aside.
fn assert_same_report(reference: &str, ours: &str, what: &str) {
    let (a, b) = (tables(reference), tables(ours));
    assert!(!a.is_empty(), "{what}: reference has no tables");
    for (i, (ta, tb)) in a.iter().zip(&b).enumerate() {
        assert_eq!(ta.heading, tb.heading, "{what}: table #{i} heading");
        assert_eq!(
            ta.header, tb.header,
            "{what}: table #{i} header under {}",
            ta.heading
        );
        for (r, (ra, rb)) in ta.rows.iter().zip(&tb.rows).enumerate() {
            assert_eq!(ra, rb, "{what}: table #{i} under {:?}, row {r}", ta.heading);
        }
        assert_eq!(
            ta.rows.len(),
            tb.rows.len(),
            "{what}: table #{i} under {:?}: row count",
            ta.heading
        );
    }
    assert_eq!(a.len(), b.len(), "{what}: number of tables");
    let strip = |s: &str| {
        s.lines()
            .filter(|l| !l.starts_with("Stats gathered on:"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    let (ra, rb) = (strip(reference), strip(ours));
    if ra != rb {
        let diff = similar::TextDiff::from_lines(&ra, &rb)
            .unified_diff()
            .context_radius(2)
            .to_string();
        panic!(
            "{what}: markdown differs outside table cells:\n{}",
            &diff[..diff.len().min(4000)]
        );
    }
}

fn differential(sets: &[&str], what: &str) {
    differential_paths(&sets.iter().map(|s| fixture(s)).collect::<Vec<_>>(), what);
}

fn differential_paths(ours_inputs: &[PathBuf], what: &str) {
    let (py, src) = reference();
    let tmp = tempdir();
    let ref_inputs: Vec<PathBuf> = ours_inputs
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let dir = tmp.path().join(i.to_string());
            std::fs::create_dir_all(&dir).unwrap();
            flatten(p, &dir)
        })
        .collect();
    let reference = run_reference(&py, &src, &ref_inputs, &[]);
    let ours = run_ours(ours_inputs, &[]);
    assert_same_report(&reference, &ours, what);
}

/// Tier-2 counters in the exact shapes 3.13's specialize.c prints them under _Py_TIER2
/// (the Debian-configured build has no tier 2, so the values are planted into real dumps).
fn tier2_lines(seed: u64) -> String {
    let mut s = String::new();
    let v = |i: u64| (seed * 7919 + i * 104729) % 100_000;
    for (i, k) in [
        "Optimization attempts",
        "Optimization traces created",
        "Optimization traces executed",
        "Optimization uops executed",
        "Optimization trace stack overflow",
        "Optimization trace stack underflow",
        "Optimization trace too long",
        "Optimization trace too short",
        "Optimization inner loop",
        "Optimization recursive call",
        "Optimization low confidence",
        "Executors invalidated",
    ]
    .iter()
    .enumerate()
    {
        s += &format!("{k}: {}\n", v(i as u64));
    }
    for h in ["Trace length", "Trace run length", "Optimized trace length"] {
        for i in 0..12u64 {
            let val = if i > 8 { 0 } else { v(i + 40) % 500 };
            s += &format!("{h}[{}]: {val}\n", 1u64 << i);
        }
    }
    for (i, k) in [
        "Optimization optimizer attempts",
        "Optimization optimizer successes",
        "Optimization optimizer failure no memory",
        "Optimizer remove globals builtins changed",
        "Optimizer remove globals incorrect keys",
    ]
    .iter()
    .enumerate()
    {
        s += &format!("{k}: {}\n", v(i as u64 + 20));
    }
    let uops = [
        "_LOAD_FAST",
        "_STORE_FAST",
        "_GUARD_TYPE_VERSION",
        "_BINARY_OP_ADD_INT",
        "_EXIT_TRACE",
    ];
    for (i, u) in uops.iter().enumerate() {
        s += &format!("uops[{u}].execution_count : {}\n", v(i as u64 + 60));
        if i % 2 == 0 {
            s += &format!(
                "uops[{u}].specialization.miss : {}\n",
                v(i as u64 + 70) % 100
            );
        }
    }
    s += &format!(
        "unsupported_opcode[WITH_EXCEPT_START].count : {}\n",
        v(80) % 50 + 1
    );
    s += &format!(
        "unsupported_opcode[YIELD_VALUE].count : {}\n",
        v(81) % 50 + 1
    );
    for (i, a) in uops.iter().enumerate() {
        for (j, b) in uops.iter().enumerate() {
            if (i + j) % 2 == 0 {
                s += &format!(
                    "uop[{a}].pair_count[{b}] : {}\n",
                    v((i * 5 + j) as u64 + 90) % 1000
                );
            }
        }
    }
    s += &format!(
        "error_in_opcode[_CHECK_VALIDITY].count : {}\n",
        v(99) % 9 + 1
    );
    s
}

fn with_tier2(src: &Path, dest: &Path, seed: u64) -> PathBuf {
    std::fs::create_dir_all(dest).unwrap();
    for entry in std::fs::read_dir(src).unwrap() {
        let p = entry.unwrap().path();
        let mut text = std::fs::read_to_string(&p).unwrap();
        // Tier-2 stats come before the rare events in a real dump.
        let at = text.find("Rare event (set_class)").unwrap();
        text.insert_str(at, &tier2_lines(seed + p.file_name().unwrap().len() as u64));
        std::fs::write(dest.join(p.file_name().unwrap()), text).unwrap();
    }
    dest.to_path_buf()
}

#[test]
fn differential_tier2_tables() {
    let tmp = tempdir();
    let a = with_tier2(
        &fixture("real-3.13.5/whole-process"),
        &tmp.path().join("a"),
        1,
    );
    let b = with_tier2(
        &fixture("real-3.13.5/concatenated"),
        &tmp.path().join("b"),
        2,
    );
    // PYSTATS_GATE_WRITE_GOLDEN=1 refreshes the committed golden copies from the real script.
    let cases = [
        (vec![a.clone()], "tier2-single"),
        (vec![a, b], "tier2-comparative"),
    ];
    for (inputs, name) in cases {
        let golden = fixture(&format!("real-3.13.5/reference/{name}.md"));
        let (py, src) = reference();
        let flat: Vec<PathBuf> = inputs
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let d = tmp.path().join(format!("flat-{name}-{i}"));
                std::fs::create_dir_all(&d).unwrap();
                flatten(p, &d)
            })
            .collect();
        let reference = run_reference(&py, &src, &flat, &[]);
        if std::env::var_os("PYSTATS_GATE_WRITE_GOLDEN").is_some() {
            let body: String = reference
                .lines()
                .filter(|l| !l.starts_with("Stats gathered on:"))
                .map(|l| format!("{l}\n"))
                .collect();
            std::fs::write(&golden, body).unwrap();
        }
        assert_same_report(&reference, &run_ours(&inputs, &[]), name);
        // The committed golden copy must agree with the live script too.
        let golden_text = std::fs::read_to_string(&golden).unwrap();
        assert_same_report(&golden_text, &run_ours(&inputs, &[]), name);
    }
}

/// Real Tier 2 dumps (tests/fixtures/real-3.13.5-tier2, written by a `build --tier2`
/// interpreter): every cell equal to the real script's, the optimization sections included,
/// single and comparative.
#[test]
fn differential_real_tier2_dumps() {
    let set = fixture("real-3.13.5-tier2");
    let md = run_ours(std::slice::from_ref(&set), &[]);
    for needle in [
        "<td align=\"left\">_LOAD_FAST</td>",
        "<summary> trace length histogram </summary>",
        "Optimizer attempts",
    ] {
        assert!(md.contains(needle), "real tier 2 rows: {needle} missing");
    }
    differential(&["real-3.13.5-tier2"], "real tier 2, single");
    differential(
        &["real-3.13.5-tier2-invalidate"],
        "real tier 2, executors invalidated",
    );
    differential(
        &["real-3.13.5-tier2/run-1", "real-3.13.5-tier2/run-2"],
        "real tier 2, comparative",
    );
}

#[test]
fn differential_single_set_of_repeats() {
    differential(&["real-3.13.5/aa-base"], "single aa-base");
}

#[test]
fn differential_comparative_aa() {
    differential(
        &["real-3.13.5/aa-base", "real-3.13.5/aa-head"],
        "aa-base vs aa-head",
    );
}

#[test]
fn differential_whole_process_and_concatenated_dumps() {
    differential(&["real-3.13.5/whole-process"], "whole-process");
    differential(&["real-3.13.5/concatenated"], "concatenated");
    differential(
        &["real-3.13.5/aa-head", "real-3.13.5/whole-process"],
        "aa-head vs whole-process",
    );
    differential(
        &["real-3.13.5/whole-process", "real-3.13.5/aa-base/run-2"],
        "whole-process vs run-2",
    );
}

/// Two distinct keys naming one field (`opcode[X].f` and `opcode[X]..f`): summarize_stats.py
/// keeps the last one (`opcode_stats[name][rest.strip(".")] = value`); so do summary (checked
/// against the real script) and metrics.
#[test]
fn differential_duplicate_field_keys_keep_the_last() {
    let tmp = tempdir();
    let set = tmp.path().join("dup");
    crate::util::copy_dir(&fixture("real-3.13.5/whole-process"), &set);
    let file = set.join("loop.txt");
    let mut text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("opcode[LOAD_ATTR].specialization.hit"));
    text.push_str("opcode[LOAD_ATTR]..specialization.hit : 7\n");
    std::fs::write(&file, text).unwrap();
    differential_paths(std::slice::from_ref(&set), "duplicate field keys");
    let out = cmd()
        .arg("metrics")
        .arg(&set)
        .args(["--format", "json", "--filter", "family.LOAD_ATTR.hit"])
        .exits(0);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["metrics"]["family.LOAD_ATTR.hit"]["values"],
        serde_json::json!([7.0])
    );
}

#[test]
fn differential_summarize_json_input() {
    differential(&["real-3.13.5/whole-process.summarize.json"], "json single");
    differential(
        &[
            "real-3.13.5/aa-base",
            "real-3.13.5/whole-process.summarize.json",
        ],
        "dir vs json",
    );
}

#[test]
fn differential_json_output_round_trip() {
    // The script's own --json-output of a fixture, read back by us and by the script.
    let (py, src) = reference();
    let tmp = tempdir();
    let flat = flatten(&fixture("real-3.13.5/aa-head"), tmp.path());
    let json = tmp.path().join("head.json");
    run_reference(
        &py,
        &src,
        &[flat],
        &["--json-output", json.to_str().unwrap()],
    );
    let reference = run_reference(&py, &src, std::slice::from_ref(&json), &[]);
    assert_same_report(
        &reference,
        &run_ours(&[json], &[]),
        "json-output round trip",
    );
}

/// Golden reports written by the real summarize_stats.py (date line removed), so the
/// comparison also runs where no 3.13 interpreter exists.
#[test]
fn golden_reports_from_real_script() {
    for (sets, golden) in [
        (
            vec!["real-3.13.5/aa-base"],
            "real-3.13.5/reference/aa-base.md",
        ),
        (
            vec!["real-3.13.5/aa-base", "real-3.13.5/aa-head"],
            "real-3.13.5/reference/aa-base-vs-aa-head.md",
        ),
        (
            vec!["real-3.13.5/whole-process"],
            "real-3.13.5/reference/whole-process.md",
        ),
    ] {
        let reference = std::fs::read_to_string(fixture(golden)).unwrap();
        let inputs: Vec<PathBuf> = sets.iter().map(|s| fixture(s)).collect();
        assert_same_report(&reference, &run_ours(&inputs, &[]), golden);
    }
}

#[test]
fn json_and_text_formats() {
    let set = fixture("real-3.13.5/aa-base");
    let json = run_ours(std::slice::from_ref(&set), &["--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["schema_version"], 1);
    assert_eq!(v["sections"][0]["title"], "Execution counts");
    let text = run_ours(
        &[set.clone(), fixture("real-3.13.5/aa-head")],
        &["--format", "text"],
    );
    assert!(text.contains("Execution counts"), "{text}");
    assert!(text.contains("Base Count"), "{text}");
    let tmp = tempdir();
    let out = tmp.path().join("r.md");
    cmd()
        .args(["summarize", "-o"])
        .arg(&out)
        .arg(&set)
        .assert()
        .success()
        .stdout("");
    assert!(std::fs::read_to_string(&out)
        .unwrap()
        .starts_with("## Execution counts"));
}

fn write(dir: &Path, rel: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.join(rel);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(&p, bytes).unwrap();
    p
}

fn expect_input_error(set: &Path, needle: &str) {
    let out = cmd().arg("summarize").arg(set).exits(2);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(needle),
        "stderr lacks {needle:?}: {}",
        dump(&out)
    );
    assert!(!err.contains("panicked"), "{}", dump(&out));
}

#[test]
fn bad_input_names_file_and_line() {
    let tmp = tempdir();
    let d = tmp.path();
    write(
        d,
        "malformed/run-1/a.txt",
        b"opcode[NOP].execution_count : 1\nthis is not a counter\n",
    );
    expect_input_error(&d.join("malformed"), "a.txt:2:");
    write(
        d,
        "truncated/a.txt",
        b"opcode[NOP].execution_count : 1\nopcode[NOP].execution_co",
    );
    expect_input_error(&d.join("truncated"), "a.txt:2:");
    write(
        d,
        "utf8/a.txt",
        b"opcode[NOP].execution_count : 1\n\xff\xfe : 3\n",
    );
    expect_input_error(&d.join("utf8"), "a.txt:2:");
    std::fs::create_dir_all(d.join("empty")).unwrap();
    expect_input_error(&d.join("empty"), "empty stats set");
    write(d, "norepeat/run-1/a.txt", b"x : 1\n");
    std::fs::create_dir_all(d.join("norepeat/run-2")).unwrap();
    expect_input_error(&d.join("norepeat"), "run-2: repeat has no *.txt dumps");
    let big = format!("opcode[NOP].execution_count : {}\n", u64::MAX);
    write(d, "overflow/run-1/a.txt", big.as_bytes());
    write(
        d,
        "overflow/run-2/a.txt",
        b"opcode[NOP].execution_count : 1\n",
    );
    expect_input_error(&d.join("overflow"), "overflows 64 bits");
    expect_input_error(&d.join("overflow"), "run-2/a.txt:1:");
    write(d, "emptyfile/a.txt", b"");
    expect_input_error(&d.join("emptyfile"), "a.txt:0: empty dump file");
    write(d, "mixed/a.txt", b"x : 1\n");
    write(d, "mixed/run-1/a.txt", b"x : 1\n");
    expect_input_error(&d.join("mixed"), "use one layout");
    write(
        d,
        "toolarge/a.txt",
        b"opcode[NOP].execution_count : 18446744073709551616\n",
    );
    expect_input_error(&d.join("toolarge"), "a.txt:1:");
    expect_input_error(&d.join("does-not-exist"), "no such stats set");
    write(d, "bad.json", b"{\"a\": -1}");
    expect_input_error(&d.join("bad.json"), "bad.json");
}

#[test]
fn allow_malformed_skips_and_reports() {
    let tmp = tempdir();
    let set = tmp.path().join("set");
    let good = std::fs::read(fixture("real-3.13.5/aa-base/run-1/arith.txt")).unwrap();
    let mut bad = good.clone();
    bad.extend_from_slice(b"garbage line\n");
    write(&set, "run-1/arith.txt", &bad);
    let out = cmd()
        .arg("summarize")
        .arg("--allow-malformed")
        .arg(&set)
        .exits(0);
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.contains("## Malformed input"), "{md}");
    assert!(md.contains("arith.txt:226"), "{md}");
}

#[test]
fn unknown_counters_are_kept_and_shown() {
    let tmp = tempdir();
    let set = tmp.path().join("set");
    let mut text = std::fs::read(fixture("real-3.13.5/aa-base/run-1/arith.txt")).unwrap();
    text.extend_from_slice(b"JIT total memory size : 4096\nObject immortal increfs : 7\n");
    write(&set, "run-1/arith.txt", &text);
    let md = run_ours(&[set], &[]);
    assert!(md.contains("## Other counters"), "{md}");
    assert!(md.contains("JIT total memory size"), "{md}");
    assert!(
        md.contains("Immortal increfs"),
        "object counters go to Object stats: {md}"
    );
}

/// Rewrites every line of a set's dumps into `dest` with `f` (None drops the line).
fn rewrite_set(src: &Path, dest: &Path, f: &dyn Fn(&str) -> Option<String>) {
    for entry in std::fs::read_dir(src).unwrap() {
        let p = entry.unwrap().path();
        let target = dest.join(p.file_name().unwrap());
        if p.is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            rewrite_set(&p, &target, f);
        } else if p.extension().is_some_and(|x| x == "txt") {
            let text = std::fs::read_to_string(&p).unwrap();
            let out: String = text.lines().filter_map(f).map(|l| l + "\n").collect();
            std::fs::write(target, out).unwrap();
        }
    }
}

/// A 3.12-shaped set (numeric opcode ids), derived from the real 3.13 fixture with the
/// 3.12 opcode numbering of the embedded table (synthetic: no real 3.12 dumps exist here).
#[test]
fn numeric_312_opcodes_are_named() {
    let meta = pystats_gate::stats::metadata::Metadata::embedded("3.12").unwrap();
    let number = |name: &str| meta.opnames.iter().position(|n| n == name);
    let tmp = tempdir();
    let set = tmp.path().join("v312");
    std::fs::create_dir_all(&set).unwrap();
    let re =
        regex::Regex::new(r"^(\s*)opcode\[([A-Z_0-9]+)\](.*?)(pair_count\[([A-Z_0-9]+)\])?(.*)$")
            .unwrap();
    rewrite_set(&fixture("real-3.13.5/aa-base"), &set, &|l| {
        let Some(c) = re.captures(l) else {
            return Some(l.to_string());
        };
        let i = number(&c[2])?;
        let pair = match c.get(5) {
            Some(j) => format!("pair_count[{}]", number(j.as_str())?),
            None => String::new(),
        };
        Some(format!("{}opcode[{i}]{}{pair}{}", &c[1], &c[3], &c[6]))
    });
    let md = run_ours(std::slice::from_ref(&set), &[]);
    assert!(
        md.contains("<td align=\"left\">LOAD_FAST</td>"),
        "opcode names restored"
    );
    assert!(
        !md.contains("<td align=\"left\">124</td>"),
        "no raw numbers left"
    );
    let json = run_ours(&[set], &["--format", "json"]);
    assert!(
        json.contains("\"metadata_version\": \"3.12\""),
        "3.12 detected from numeric ids"
    );
}

/// BASE from real 3.13 dumps, HEAD reshaped like 3.14+ output (renamed subscript
/// specializations, mortal/immortal increfs, JIT sizes, GC reachability, failure kind 41).
#[test]
fn cross_version_compare_never_crashes() {
    let tmp = tempdir();
    let head = tmp.path().join("v314");
    std::fs::create_dir_all(&head).unwrap();
    rewrite_set(&fixture("real-3.13.5/aa-head"), &head, &|l| {
        let l = l.replace("BINARY_SUBSCR_", "BINARY_OP_SUBSCR_");
        let l = l.replace("Object increfs", "Object mortal increfs");
        if l.starts_with("Rare event (set_class)") {
            return Some(format!(
                "{l}\nObject immortal increfs: 5\nJIT total memory size: 4096\nGC[0] objects reachable from roots: 3\n    opcode[LOAD_ATTR].specialization.failure_kinds[41] : 2\nRare event (new_event): 1"
            ));
        }
        Some(l)
    });
    let base = fixture("real-3.13.5/aa-base");
    let out = cmd().arg("summarize").arg(&base).arg(&head).exits(0);
    let md = String::from_utf8_lossy(&out.stdout);
    assert!(md.contains("## Version differences"), "{md}");
    assert!(md.contains("JIT total memory size"), "{md}");
    assert!(
        md.contains("<th align=\"right\">Head Reachable from roots</th>"),
        "{md}"
    );
    assert!(md.contains("Immortal increfs"), "{md}");
    assert!(md.contains("new event"), "{md}");
    // The renamed specialization lines up under its 3.13 name: one row, both counts, and
    // the report lists the rename.
    assert!(md.contains("## Version normalization"), "{md}");
    assert!(
        !md.contains("<td align=\"left\">BINARY_OP_SUBSCR_LIST_INT</td>\n<td align=\"right\">"),
        "{md}"
    );
    let row = md
        .split("<td align=\"left\">BINARY_SUBSCR_LIST_INT</td>")
        .nth(1)
        .expect("renamed row");
    let cells: Vec<&str> = row.lines().skip(1).take(3).collect();
    assert!(
        cells
            .iter()
            .all(|c| c.contains("align=\"right\">") && !c.contains("right\"></td>")),
        "{cells:?}"
    );
    // Explicit versions too, and the JSON/text renderers.
    for fmt in ["json", "text"] {
        cmd()
            .arg("summarize")
            .arg(&base)
            .arg(&head)
            .args(["--format", fmt])
            .exits(0);
    }
    cmd()
        .arg("summarize")
        .arg(&head)
        .args(["--python-version", "3.14"])
        .exits(0);
    cmd()
        .arg("summarize")
        .arg(&head)
        .args(["--python-version", "2.7"])
        .exits(2);
}

/// The differential test on dumps the product itself just produced: the pristine 3.13 build
/// runs part of the corpus, and summarize_stats.py must agree with us on every cell.
#[test]
fn differential_on_a_fresh_corpus_run() {
    let tmp = tempdir();
    let py = crate::util::pristine_python();
    let mut sets = vec![];
    for (name, repeats) in [("base", "2"), ("head", "1")] {
        let out = tmp.path().join(name);
        cmd()
            .args(["run", "--quiet", "--python"])
            .arg(&py)
            .args([
                "--repeats",
                repeats,
                "--bench",
                "attrs",
                "--bench",
                "calls",
                "--out",
            ])
            .arg(&out)
            .exits(0);
        sets.push(out);
    }
    differential_paths(&sets[..1], "fresh corpus run, single");
    differential_paths(&sets, "fresh corpus runs, comparative");
    // Summary's family, effectiveness and call numbers are the metrics on fresh dumps too.
    crate::model::assert_summary_equals_metrics(&sets[0]);
}

/// `--cpython-src` on the real 3.13 tree gives the same tables as the embedded 3.13 table.
#[test]
fn cpython_src_matches_embedded_313() {
    let src = reference_source().expect("could not obtain the CPython 3.13 source");
    let set = fixture("real-3.13.5/whole-process");
    let from_src = run_ours(
        std::slice::from_ref(&set),
        &["--cpython-src", src.to_str().unwrap()],
    );
    let embedded = run_ours(&[set], &["--python-version", "3.13"]);
    assert_same_report(&embedded, &from_src, "--cpython-src vs embedded");
    cmd()
        .arg("summarize")
        .arg(fixture("real-3.13.5/aa-base"))
        .args(["--cpython-src", "/nonexistent"])
        .exits(2);
}
