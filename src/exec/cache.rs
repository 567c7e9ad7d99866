//! Location of the on-disk cache (~/.cache/pystats-gate).

use std::path::{Path, PathBuf};

/// Environment variable overriding the cache root.
pub const CACHE_ENV: &str = "PYSTATS_GATE_CACHE";

/// The cache root: `explicit`, else `$PYSTATS_GATE_CACHE`, else `$XDG_CACHE_HOME/pystats-gate`
/// (an absolute `XDG_CACHE_HOME` only, as the XDG spec says), else `~/.cache/pystats-gate`.
pub fn cache_root(explicit: Option<&Path>) -> PathBuf {
    if let Some(p) = explicit {
        return p.to_path_buf();
    }
    if let Some(p) = std::env::var_os(CACHE_ENV).filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    if let Some(p) = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
    {
        return p.join("pystats-gate");
    }
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    home.join(".cache").join("pystats-gate")
}
