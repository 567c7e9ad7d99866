//! TODO: statistics.
