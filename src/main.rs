//! The `crmlens` binary: a thin shell over the library (see `crmlens::cli`).

/// mimalloc instead of the system allocator: query plans with several concurrent branches
/// (customer_features joins five aggregations over the orders) allocate and free large
/// buffers from both cores at once, and glibc's malloc spent more time in the kernel
/// returning and re-faulting that memory than the query spent computing (see the issue-3
/// note for the figures).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    crmlens::cli::main()
}
