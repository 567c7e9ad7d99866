//! Integration tests: what the tool writes when a write fails half-way (a full disk).

use crate::util::*;
use std::os::unix::process::CommandExt;
use std::path::Path;

/// `pystats-gate ARGS` whose writes may not grow any file beyond `limit` bytes (as a full
/// disk would stop them: a write cut short, then an error). SIGXFSZ is ignored, so the
/// write fails with EFBIG instead of killing the process.
fn with_file_size_limit(args: &[&std::ffi::OsStr], limit: u64) -> std::process::Output {
    let mut c = std_cmd();
    c.args(args);
    // SAFETY: setrlimit and signal are async-signal-safe; nothing is allocated.
    unsafe {
        c.pre_exec(move || {
            let lim = libc::rlimit {
                rlim_cur: limit,
                rlim_max: limit,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
    c.output().unwrap()
}

fn result_json(dir: &Path) -> std::path::PathBuf {
    let r = dir.join("r.json");
    cmd()
        .arg("compare")
        .arg(fixture("real-3.13.5/aa-base"))
        .arg(fixture("real-3.13.5/aa-head"))
        .args(["--format", "json", "-o"])
        .arg(&r)
        .exits(0);
    r
}

#[test]
fn a_history_append_cut_short_leaves_the_history_as_it_was() {
    let d = tempdir();
    let (result, history) = (result_json(d.path()), d.path().join("h.jsonl"));
    history_append(&result, &history);
    let before = std::fs::read(&history).unwrap();
    // Room for half of the next line only.
    let limit = before.len() as u64 + before.len() as u64 / 2;
    let args = [
        "history".as_ref(),
        "append".as_ref(),
        result.as_os_str(),
        "--file".as_ref(),
        history.as_os_str(),
    ];
    let out = with_file_size_limit(&args, limit);
    expect_code(&out, 2);
    assert_stderr_contains(&out, "h.jsonl: cannot write");
    assert_eq!(
        std::fs::read(&history).unwrap(),
        before,
        "a half line was left"
    );
    // The history still reads, and the next append is a whole line of its own.
    history_append(&result, &history);
    cmd()
        .args(["history", "show", "--file"])
        .arg(&history)
        .exits(0);
}

/// The hidden entries of `dir` (temporary sets left behind).
fn hidden(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with('.'))
        .collect()
}

#[test]
fn a_set_whose_manifest_cannot_be_written_is_an_output_error_naming_it() {
    // The fake interpreter's dumps are tiny; the manifest naming it is not.
    let d = tempdir();
    let py = crate::hostile_inputs::fake_python(d.path(), "", crate::hostile_inputs::GOOD_DUMP);
    let out_dir = d.path().join("out");
    let corpus = d.path().join("c");
    let args = [
        "run".as_ref(),
        "--python".as_ref(),
        py.as_os_str(),
        "--corpus".as_ref(),
        corpus.as_os_str(),
        "--repeats".as_ref(),
        "1".as_ref(),
        "--quiet".as_ref(),
        "--out".as_ref(),
        out_dir.as_os_str(),
    ];
    let out = with_file_size_limit(&args, 200);
    expect_code(&out, 2);
    assert_stderr_contains(&out, "out: cannot write its manifest.json");
    assert!(!out_dir.exists());
    assert_eq!(hidden(d.path()), Vec::<String>::new());
}

#[test]
fn a_merge_that_cannot_write_its_set_names_the_output_not_an_input() {
    let d = tempdir();
    let shards = crate::workflow::split_fixture(&fixture("real-3.13.5/aa-base"), d.path(), 2);
    let merged = d.path().join("merged");
    let mut args: Vec<&std::ffi::OsStr> = vec!["merge".as_ref()];
    args.extend(shards.iter().map(|s| s.as_os_str()));
    args.extend(["--out".as_ref(), merged.as_os_str()]);
    // The dumps do not fit.
    let out = with_file_size_limit(&args, 1000);
    expect_code(&out, 2);
    assert_stderr_contains(&out, "into the merged set: File too large");
    assert!(
        !String::from_utf8_lossy(&out.stderr).starts_with("error:"),
        "{}",
        dump(&out)
    );
    assert!(!merged.exists());
    assert_eq!(hidden(d.path()), Vec::<String>::new());
}

#[test]
fn a_cache_entry_replaced_over_a_file_or_link_leaves_nothing_renamed_beside_it() {
    let d = tempdir();
    let cache = d.path().join("cache");
    let corpus = || {
        cmd()
            .env(pystats_gate::exec::cache::CACHE_ENV, &cache)
            .arg("corpus")
            .exits(0)
    };
    corpus();
    let entries = || -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(cache.join("corpus"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().to_string())
            .collect();
        v.sort();
        v
    };
    let listed = entries();
    assert_eq!(listed.len(), 1, "{listed:?}");
    let entry = cache.join("corpus").join(&listed[0]);
    // A file where the entry goes: replaced, not kept as `KEY.old.PID`.
    std::fs::remove_dir_all(&entry).unwrap();
    std::fs::write(&entry, "not a corpus").unwrap();
    corpus();
    assert_eq!(entries(), listed);
    assert!(entry.join("corpus.toml").is_file());
    // A link to a directory of the user's: the link is replaced, the directory untouched.
    let user = d.path().join("user");
    std::fs::create_dir(&user).unwrap();
    std::fs::write(user.join("notes.txt"), "keep me").unwrap();
    std::fs::remove_dir_all(&entry).unwrap();
    std::os::unix::fs::symlink(&user, &entry).unwrap();
    corpus();
    assert_eq!(entries(), listed);
    assert!(std::fs::symlink_metadata(&entry).unwrap().is_dir());
    assert_eq!(
        std::fs::read_to_string(user.join("notes.txt")).unwrap(),
        "keep me"
    );
    assert_eq!(std::fs::read_dir(&user).unwrap().count(), 1);
}
