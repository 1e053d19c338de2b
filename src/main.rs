//! The `crmlens` binary: a thin shell over the library (see `crmlens::cli`).

fn main() -> std::process::ExitCode {
    crmlens::cli::main()
}
