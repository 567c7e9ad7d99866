//! The one integration-test binary (ripgrep style): each area is a module.

mod util;

mod adaptive;
mod bisect;
mod build_run;
mod ci_files;
mod gate_compare;
mod hostile;
mod hostile_inputs;
mod incomplete;
mod local_loop;
mod model;
mod mutants;
mod noise;
mod pr_comment;
mod reach;
mod summarize;
mod terminal;
mod wheel;
mod workflow;
mod writes;
