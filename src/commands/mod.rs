//! The subcommands: each orchestrates the stages (exec -> stats -> gate -> report) for one job.
//!
//! The only part that may import every stage; nothing below imports it.

pub mod bisect;
pub mod gate;
pub mod history;
pub mod mutants;
pub mod shell;
