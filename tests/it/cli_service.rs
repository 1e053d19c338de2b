//! Tests of `crmlens service` (not built yet).
