//! Integration tests: bisect.
