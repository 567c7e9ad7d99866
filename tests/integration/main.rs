//! The one integration-test binary (ripgrep style): each area is a module.

mod util;

mod bisect;
mod build_run;
mod gate_compare;
mod local_loop;
mod pr_comment;
mod summarize;
mod workflow;
