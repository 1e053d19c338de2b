//! Tests of `crmlens funnel events` (not built yet).
