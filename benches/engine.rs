//! Engine benchmarks on a generated dataset: opening it (listing files, reading footers,
//! registering every table) and a scan + group-by over all orders.
//!
//! The dataset is generated once into `target/bench-data/<customers>/` (1M customers by default;
//! set `CRMLENS_BENCH_CUSTOMERS` for another scale, or `CRMLENS_BENCH_DATASET` to use an
//! existing one). Run: `cargo bench --bench engine`.

use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};
use crmlens::config::Config;
use crmlens::engine::Engine;
use crmlens::generate::{GenerateOptions, generate};

fn dataset() -> PathBuf {
    if let Some(p) = std::env::var_os("CRMLENS_BENCH_DATASET") {
        return PathBuf::from(p);
    }
    let customers: u64 = std::env::var("CRMLENS_BENCH_CUSTOMERS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!("target/bench-data/{customers}"));
    if !dir.join("orders").exists() && !dir.join("orders.parquet").exists() {
        eprintln!(
            "generating {customers} customers into {} (once)",
            dir.display()
        );
        let options = GenerateOptions {
            out: dir.clone(),
            customers,
            seed: 7,
            ..GenerateOptions::default()
        };
        generate(&options).expect("generate the benchmark dataset");
    }
    dir
}

fn bench(c: &mut Criterion) {
    let dir = dataset();
    let config = Config::for_dataset(&dir);
    let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
    let mut group = c.benchmark_group("engine");
    group.sample_size(10);
    group.bench_function("open_dataset", |b| {
        b.iter(|| rt.block_on(Engine::open(&config)).expect("open"));
    });
    let engine = rt.block_on(Engine::open(&config)).expect("open");
    let query = "select customer_id, count(*) as orders, sum(amount) as revenue, max(ordered_at) as last \
                 from orders where status = 'paid' group by customer_id";
    group.bench_function("orders_group_by_customer", |b| {
        b.iter(|| {
            let batches = rt.block_on(engine.query(query)).expect("query");
            batches.iter().map(|b| b.num_rows()).sum::<usize>()
        });
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
