//! Integration tests: workflow.
