//! The one integration-test binary (ripgrep style): each area is a module.

mod util;

mod bisect;
mod build_run;
mod gate_compare;
mod hostile;
mod model;
mod noise;
mod summarize;
mod workflow;
