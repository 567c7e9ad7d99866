//! Location of the on-disk cache (~/.cache/pystats-gate).

use std::path::{Path, PathBuf};

/// Environment variable overriding the cache root.
pub const CACHE_ENV: &str = "PYSTATS_GATE_CACHE";

/// The cache root: `explicit`, else `$PYSTATS_GATE_CACHE`, else `pystats-gate` under the
/// platform's cache directory (`dirs`: `$XDG_CACHE_HOME` when absolute, else `~/.cache`).
pub fn cache_root(explicit: Option<&Path>) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    if let Some(p) = std::env::var_os(CACHE_ENV).filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    // No home directory at all (a bare container user): under the temporary directory.
    dirs::cache_dir()
        .unwrap_or_else(|| std::env::temp_dir().join(".cache"))
        .join("pystats-gate")
}
