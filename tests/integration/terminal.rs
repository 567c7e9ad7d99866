//! Integration tests: what a person sees: progress under a real terminal (tmux), plain escape-free lines through a pipe, NO_COLOR, shell completions and the man page.

use crate::util::*;
use std::path::{Path, PathBuf};
use std::process::Command;

const ESC: u8 = 0x1b;
/// What the typed `echo "ex""it=$?"` prints (the typed line itself does not contain it).
const EXIT_MARKER: &str = "exit=";

/// Runs `bash -c script` with `args` as $1...; returns stdout, asserting exit 0.
fn bash(script: &str, args: &[&Path]) -> String {
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .arg("bash")
        .args(args)
        .output()
        .expect("bash");
    expect_code(&out, 0);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn bash_completion_script_parses_and_completes_subcommands() {
    let tmp = tempdir();
    let script = tmp.path().join("pystats-gate.bash");
    let o = cmd().args(["completions", "bash"]).exits(0);
    std::fs::write(&script, &o.stdout).unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    for sub in [
        "summarize",
        "compare",
        "gate",
        "bisect-step",
        "completions",
        "manpage",
    ] {
        assert!(text.contains(sub), "bash completions lack {sub}");
    }
    bash(r#"bash -n "$1""#, &[&script]);
    // Source it and ask for the completions of `pystats-gate ga<TAB>`, as bash would.
    let got = bash(
        r#"source "$1"
           fn=$(complete -p pystats-gate | sed -E 's/.* -F ([^ ]+) .*/\1/')
           COMP_WORDS=(pystats-gate ga); COMP_CWORD=1
           COMP_LINE="pystats-gate ga"; COMP_POINT=${#COMP_LINE}
           "$fn" pystats-gate ga pystats-gate
           printf '%s\n' "${COMPREPLY[@]}""#,
        &[&script],
    );
    assert_eq!(got.trim(), "gate");
}

#[test]
fn zsh_and_fish_completions_name_the_command() {
    let o = cmd().args(["completions", "zsh"]).exits(0);
    let zsh = String::from_utf8_lossy(&o.stdout);
    assert!(zsh.starts_with("#compdef pystats-gate"), "{zsh}");
    assert!(zsh.contains("bisect-step"), "{zsh}");
    let o = cmd().args(["completions", "fish"]).exits(0);
    let fish = String::from_utf8_lossy(&o.stdout);
    assert!(fish.contains("complete -c pystats-gate"), "{fish}");
    assert!(fish.contains("summarize"), "{fish}");
    let o = cmd().args(["completions", "tcsh"]).exits(2);
    assert_stderr_contains(&o, "invalid value 'tcsh'");
}

#[test]
fn manpage_has_name_synopsis_and_every_subcommand() {
    let o = cmd().arg("manpage").exits(0);
    let page = String::from_utf8_lossy(&o.stdout);
    for section in [".SH NAME", ".SH SYNOPSIS", ".SH SUBCOMMANDS", ".SH VERSION"] {
        assert!(page.contains(section), "man page lacks {section}\n{page}");
    }
    assert!(page.contains("pystats\\-gate\\-bisect\\-step(1)"), "{page}");
    // One page per command.
    let tmp = tempdir();
    cmd()
        .args(["manpage", "--out-dir"])
        .arg(tmp.path())
        .exits(0);
    for name in [
        "pystats-gate.1",
        "pystats-gate-gate.1",
        "pystats-gate-history-show.1",
    ] {
        let p = tmp.path().join(name);
        let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        assert!(text.contains(".SH SYNOPSIS"), "{}: {text}", p.display());
    }
}

#[test]
fn piped_output_has_no_escape_codes() {
    // `compare`'s text report colours only a terminal.
    let o = cmd()
        .env_remove("NO_COLOR")
        .arg("compare")
        .arg(fixture("real-3.13.5/aa-base"))
        .arg(fixture("real-3.13.5/aa-head"))
        .exits(0);
    assert!(!o.stdout.contains(&ESC), "{}", dump(&o));
    assert!(!o.stderr.contains(&ESC), "{}", dump(&o));

    // `run` through a pipe, outside CI: one plain line per run, no bar, no escapes.
    let tmp = tempdir();
    let o = cmd()
        .env_remove("CI")
        .env_remove("NO_COLOR")
        .args(["run", "--repeats", "2", "--bench", "arith", "--python"])
        .arg(pristine_python())
        .arg("--out")
        .arg(tmp.path().join("set"))
        .exits(0);
    assert!(!o.stdout.contains(&ESC), "{}", dump(&o));
    assert!(!o.stderr.contains(&ESC), "{}", dump(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    for seed in [1, 2] {
        assert!(
            stderr
                .lines()
                .any(|l| l.starts_with(&format!("run: arith seed {seed} ("))),
            "{}",
            dump(&o)
        );
    }
    assert!(stderr.contains("run: 2 of 2 runs ok"), "{}", dump(&o));
}

/// A tmux server of its own (socket in `dir`), killed on drop.
struct Tmux {
    socket: PathBuf,
}

impl Tmux {
    fn new(dir: &Path) -> Tmux {
        Tmux {
            socket: dir.join("tmux.sock"),
        }
    }

    fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-S").arg(&self.socket).env_remove("TMUX");
        c
    }

    /// Starts a plain bash in a detached 200x40 window named `name` and types `shell_cmd`.
    fn start(&self, name: &str, shell_cmd: &str) {
        let o = self
            .cmd()
            .args(["new-session", "-d", "-x", "200", "-y", "40", "-s", name])
            .args(["bash", "--norc", "--noprofile"])
            .output()
            .expect("tmux (ci/setup.sh installs it)");
        expect_code(&o, 0);
        // Typed in, as a person would.
        let o = self
            .cmd()
            .args(["send-keys", "-t", name, shell_cmd, "Enter"])
            .output()
            .unwrap();
        expect_code(&o, 0);
    }

    /// The screen of `name` with its scrollback; with `escapes`, colours and attributes as
    /// escape codes.
    fn capture(&self, name: &str, escapes: bool) -> String {
        let mut c = self.cmd();
        c.args(["capture-pane", "-p", "-S", "-", "-t", name]);
        if escapes {
            c.arg("-e");
        }
        let o = c.output().unwrap();
        expect_code(&o, 0);
        String::from_utf8_lossy(&o.stdout).into_owned()
    }

    /// Captures the screen until `done` appears in it; fails at once if the command ends first.
    fn wait_for(&self, name: &str, done: &str) -> String {
        // Bounded by a count, not a clock: a run of 2 benchmarks takes a few seconds.
        for _ in 0..2400 {
            let screen = self.capture(name, false);
            if screen.contains(done) {
                return screen;
            }
            // The command ended (its exit marker is out) without showing `done`.
            assert!(
                !screen.contains(EXIT_MARKER),
                "{done:?} never appeared:\n{screen}"
            );
            std::thread::sleep(std::time::Duration::from_millis(250));
        }
        panic!("{done:?} never appeared:\n{}", self.capture(name, false));
    }

    /// Types `pystats-gate ARGS` (outside CI, with `env` set) into a new window `name`, waits
    /// for it to end and returns its screen, plain and with escapes.
    fn pystats_gate(&self, name: &str, env: &str, args: &str) -> (String, String) {
        let line = format!(
            "env -u CI -u NO_COLOR PYSTATS_GATE_CACHE='{}' {env} TERM=xterm-256color '{}' {args}; echo \"ex\"\"it=$?\"",
            crate::util::suite_cache().display(),
            assert_cmd::cargo::cargo_bin("pystats-gate").display()
        );
        self.start(name, &line);
        // The typed line reads `"ex""it=`, so only the output matches.
        let screen = self.wait_for(name, EXIT_MARKER);
        (screen, self.capture(name, true))
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").output();
    }
}

#[test]
fn run_under_a_terminal_shows_a_progress_bar_with_counts_and_eta() {
    let python = pristine_python();
    let tmp = tempdir();
    let tmux = Tmux::new(tmp.path());
    let run = |name: &str, env: &str| {
        let args = format!(
            "run --repeats 3 --jobs 1 --bench arith --python '{}' --out '{}'",
            python.display(),
            tmp.path().join(name).display()
        );
        tmux.pystats_gate(name, env, &args)
    };

    let (screen, styled) = run("colour", "");
    assert!(screen.contains("exit=0"), "{screen}");
    // The finished bar stays: prefix, elapsed, a full bar, done/total, ETA; then the summary.
    let bar = screen
        .lines()
        .find(|l| l.starts_with("run [") && l.contains("3/3"))
        .unwrap_or_else(|| panic!("no finished progress bar on screen:\n{screen}"));
    assert!(bar.contains("##########"), "{bar}");
    assert!(bar.contains("ETA"), "{bar}");
    assert!(screen.contains("run: 3 of 3 runs ok"), "{screen}");
    // No plain per-run lines on a terminal: the bar replaces them.
    assert!(!screen.contains("run: arith seed 1"), "{screen}");
    assert!(
        styled.contains("\u{1b}[1m"),
        "bold prefix expected:\n{styled:?}"
    );
    assert!(
        styled.contains("\u{1b}[36m"),
        "cyan bar expected:\n{styled:?}"
    );

    let (screen, styled) = run("nocolour", "NO_COLOR=1");
    assert!(screen.contains("exit=0"), "{screen}");
    assert!(
        screen
            .lines()
            .any(|l| l.starts_with("run [") && l.contains("3/3")),
        "{screen}"
    );
    assert!(
        !styled.contains("\u{1b}["),
        "NO_COLOR: no colours or attributes:\n{styled:?}"
    );
}

#[test]
fn gate_under_a_terminal_shows_run_bars_and_its_summary() {
    // The demo repository's `comment` head: the suite's demo test builds it too (cached).
    let _ = pristine_python();
    let tmp = tempdir();
    let tmux = Tmux::new(tmp.path());
    let args = format!(
        "demo --head comment --bench arith --repeats 2 --out '{}' >/dev/null",
        tmp.path().join("out").display()
    );
    let (screen, _) = tmux.pystats_gate("gate", "", &args);
    assert!(screen.contains("exit=0"), "{screen}");
    assert!(
        screen.contains("demo: gating comment against base"),
        "{screen}"
    );
    // Head always runs (base results may come from the cache): a finished bar with counts.
    let bars: Vec<&str> = screen
        .lines()
        .filter(|l| l.starts_with("run [") && l.contains("2/2") && l.contains("ETA"))
        .collect();
    assert!(!bars.is_empty(), "no finished run bar:\n{screen}");
    assert!(
        screen.contains("gate: "),
        "the closing timing line:\n{screen}"
    );
    assert!(
        !screen.contains("run: arith seed"),
        "no plain lines on a terminal:\n{screen}"
    );
}

#[test]
fn build_under_a_terminal_shows_each_stage() {
    // A fake CPython source whose configure and make each wait for the test to have seen
    // their stage on screen (a file the test creates), so no timing is involved. The waits
    // give up after about 30 s, so that a screen without stages fails the test soon.
    let tmp = tempdir();
    let src = tmp.path().join("src");
    std::fs::create_dir_all(src.join("Python")).unwrap();
    std::fs::write(src.join("Python/ceval.c"), "").unwrap();
    let go = |stage: &str| tmp.path().join(format!("go-{stage}"));
    let configure = src.join("configure");
    std::fs::write(
        &configure,
        format!(
            "#!/bin/sh\ni=0; while [ ! -e '{}' ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i+1)); done\n\
             printf 'all:\\n\\ti=0; while [ ! -e \"{}\" ] && [ $$i -lt 300 ]; do sleep 0.1; i=$$((i+1)); done; exit 1\\n' >Makefile\n",
            go("configure").display(),
            go("make").display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&configure, std::fs::Permissions::from_mode(0o755)).unwrap();

    let tmux = Tmux::new(tmp.path());
    let line = format!(
        "env -u CI -u NO_COLOR TERM=xterm-256color '{}' build --source '{}' --cache-dir '{}' \
         --make-jobs 2; echo \"ex\"\"it=$?\"",
        assert_cmd::cargo::cargo_bin("pystats-gate").display(),
        src.display(),
        tmp.path().join("cache").display()
    );
    tmux.start("build", &line);
    for (stage, on_screen) in [("configure", "] configure"), ("make", "] make -j2")] {
        let screen = tmux.wait_for("build", on_screen);
        let spinner = screen.lines().find(|l| l.contains(on_screen)).unwrap();
        assert!(spinner.contains("build tree-"), "{screen}");
        std::fs::write(go(stage), "").unwrap();
    }
    let screen = tmux.wait_for("build", EXIT_MARKER);
    assert!(screen.contains("exit=3"), "{screen}");
    assert!(screen.contains("error: make failed"), "{screen}");
}
