//! Tests of `crmlens forecast` (not built yet).
