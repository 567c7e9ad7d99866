//! Report models of the bisect, history and mutants commands: plain data the commands build and `report` renders.

pub mod bisect;
pub mod history;
pub mod mutants;
