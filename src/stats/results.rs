//! What a corpus run computed: the workload result the driver prints (`checksum ...`), read from its output and kept in the manifest.

use sha2::{Digest, Sha256};

/// The driver's line announcing the workload's result (`corpus/driver.py`).
pub const RESULT_PREFIX: &str = "checksum ";

/// Longest result kept verbatim; a longer one is kept as its digest.
pub const MAX_RESULT_CHARS: usize = 200;

/// The workload result in a run's output: the text after the last line starting with
/// [`RESULT_PREFIX`] (the driver prints it last), made fit for a manifest and a report by
/// [`keepable`]. None when the run printed none (a corpus without our driver).
pub fn result_from_output(output: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(output);
    text.lines()
        .rev()
        .find_map(|l| l.strip_prefix(RESULT_PREFIX))
        .map(|r| keepable(r.trim_end()))
}

/// A result as recorded: itself when short and printable, else `sha256:<hex>` of it, so
/// that equal results stay equal and no report shows control characters or pages of text.
pub fn keepable(result: &str) -> String {
    if check_result(result).is_ok() {
        return result.to_string();
    }
    format!("sha256:{}", hex::encode(Sha256::digest(result.as_bytes())))
}

/// Why a recorded result cannot be shown as it is (a manifest written by hand or damaged).
pub fn check_result(result: &str) -> Result<(), String> {
    if result.chars().count() > MAX_RESULT_CHARS {
        return Err(format!(
            "a result of {} characters (at most {MAX_RESULT_CHARS}; longer ones are recorded as sha256:<hex>)",
            result.chars().count()
        ));
    }
    if let Some(c) = result.chars().find(|c| c.is_control()) {
        return Err(format!("a result with the control character {c:?}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_result_line_wins_and_long_or_odd_results_become_digests() {
        let out = b"checksum 1\nsome benchmark output\nchecksum (2, 'x')\ntrailing stderr\n";
        assert_eq!(result_from_output(out).as_deref(), Some("(2, 'x')"));
        assert_eq!(result_from_output(b"no result here\n"), None);
        let long = format!("checksum {}\n", "9".repeat(MAX_RESULT_CHARS + 1));
        let kept = result_from_output(long.as_bytes()).unwrap();
        assert!(
            kept.starts_with("sha256:") && kept.len() == 7 + 64,
            "{kept}"
        );
        assert!(check_result(&kept).is_ok());
        assert!(keepable("a\u{1b}[31m").starts_with("sha256:"));
        assert_ne!(keepable(&"1".repeat(300)), keepable(&"2".repeat(300)));
        assert!(check_result("tab\there").is_err());
    }
}
