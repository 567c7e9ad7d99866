//! Report renderers: compute first, render last; renderers never recompute numbers.
