//! Integration tests: build_run.
