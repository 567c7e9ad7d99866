//! TODO: rules.
