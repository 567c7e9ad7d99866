//! Integration tests: gate_compare.
