//! Integration tests: summarize.
