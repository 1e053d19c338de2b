//! Tests of `crmlens managers` (not built yet).
