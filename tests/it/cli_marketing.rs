//! Tests of `crmlens marketing` (not built yet).
