//! Integration tests: the Python wheel (maturin `bin` bindings) installs a working `pystats-gate` into a fresh virtualenv (through the GitHub Action's install step).
//!
//! Cost: maturin comes from the tools virtualenv under the cache root (`ci/tools.sh`, made
//! once). maturin's cargo build uses this test build's target directory as its build
//! directory, so it reuses every compiled dependency and recompiles only the few crates whose
//! features differ without dev-dependencies (once; later runs are no-ops). Its final binary
//! goes to `target/wheel/`, so the binary the other tests run is never replaced under them.

use crate::util::*;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The tools virtualenv's bin directory (maturin, actionlint), made on first use.
fn tools_bin() -> PathBuf {
    let out = Command::new("bash")
        .arg(repo_root().join("ci/tools.sh"))
        .output()
        .expect("running ci/tools.sh");
    expect_code(&out, 0);
    let stdout = String::from_utf8_lossy(&out.stdout);
    PathBuf::from(
        stdout
            .lines()
            .last()
            .expect("ci/tools.sh prints its bin dir")
            .trim(),
    )
}

/// Runs `c`, asserting exit code `code`.
fn run(c: &mut Command, code: i32) -> Output {
    let out = c
        .output()
        .unwrap_or_else(|e| panic!("cannot run {c:?}: {e}"));
    expect_code(&out, code);
    out
}

/// Builds the wheel into `dir` with maturin; returns its path.
fn build_wheel(dir: &Path) -> PathBuf {
    // CARGO_TARGET_TMPDIR is `<target>/tmp`.
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap();
    let mut build = Command::new(tools_bin().join("maturin"));
    build
        .args(["build", "--quiet", "--out"])
        .arg(dir)
        .current_dir(repo_root())
        .env("CARGO_BUILD_BUILD_DIR", target)
        .env("CARGO_TARGET_DIR", target.join("wheel"));
    if !cfg!(debug_assertions) {
        build.arg("--release"); // the profile this test binary was built with
    }
    run(&mut build, 0);
    let wheels: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "whl"))
        .collect();
    assert_eq!(
        wheels.len(),
        1,
        "expected one wheel in {}: {wheels:?}",
        dir.display()
    );
    wheels[0].clone()
}

#[test]
fn wheel_installs_a_working_pystats_gate_into_a_fresh_virtualenv() {
    let tmp = tempdir();
    let wheel = build_wheel(&tmp.path().join("dist"));
    let name = wheel.file_name().unwrap().to_string_lossy().to_string();
    assert!(
        name.starts_with(&format!(
            "pystats_gate-{}-py3-none-",
            env!("CARGO_PKG_VERSION")
        )),
        "a binary wheel for any Python 3: {name}"
    );

    // Installed the way the GitHub Action installs a wheel (`install: <wheel file>`): its
    // install step makes a fresh virtualenv and puts its bin directory on $GITHUB_PATH.
    let runner_temp = tmp.path().join("runner-temp");
    let github_path = tmp.path().join("github-path");
    let o = run(
        Command::new("bash")
            .arg(repo_root().join("ci/github/action/install.sh"))
            .arg(&wheel)
            .env("GITHUB_ACTION_PATH", repo_root())
            .env("RUNNER_TEMP", &runner_temp)
            .env("GITHUB_PATH", &github_path),
        0,
    );
    assert_stdout_contains(&o, &format!("pystats-gate {}", env!("CARGO_PKG_VERSION")));
    let venv_bin = runner_temp.join("pystats-gate-venv/bin");
    assert_eq!(
        std::fs::read_to_string(&github_path).unwrap(),
        format!("{}\n", venv_bin.display())
    );
    let exe = venv_bin.join("pystats-gate");
    assert!(exe.is_file(), "the wheel installs {}", exe.display());

    // From a directory outside the repository, on copies of the fixtures, with an empty cache:
    // whatever it needs (rules, corpus, metadata) must come from the installed binary.
    let work = tmp.path().join("work");
    copy_dir(&fixture("real-3.13.5/aa-base"), &work.join("base"));
    copy_dir(&fixture("real-3.13.5/aa-head"), &work.join("head"));
    let installed = |args: &[&str]| {
        let mut c = Command::new(&exe);
        c.args(args)
            .current_dir(&work)
            .env("PYSTATS_GATE_CACHE", tmp.path().join("cache"))
            .env_remove("GITHUB_ACTIONS");
        c
    };

    let o = run(&mut installed(&["--version"]), 0);
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        format!("pystats-gate {}", env!("CARGO_PKG_VERSION"))
    );

    let o = run(
        &mut installed(&["summarize", "base", "--format", "text"]),
        0,
    );
    assert_stdout_contains(&o, "Execution counts");
    assert_stdout_contains(&o, "BINARY_OP_ADD_INT");

    let o = run(
        &mut installed(&["compare", "base", "head", "--format", "json"]),
        0,
    );
    let report = stdout_json(&o);
    assert_eq!(report["verdict"], "pass", "{}", dump(&o));
    // The shipped rules were found (embedded) and evaluated.
    assert_eq!(
        report["rules_files"][0],
        "rules/default.toml",
        "{}",
        dump(&o)
    );
    let outcomes = report["outcomes"].as_array().unwrap();
    assert!(
        outcomes.iter().any(|r| r["rule"] == "family-miss-ratio"),
        "{}",
        dump(&o)
    );

    // The corpus is embedded too.
    let o = run(&mut installed(&["corpus", "--list"]), 0);
    assert_stdout_contains(&o, "attrs.py");
}
