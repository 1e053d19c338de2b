//! Tests of `crmlens funnel pipeline` (not built yet).
