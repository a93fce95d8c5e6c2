//! `ergo-bench`: the benchmark harness. Its scenarios arrive with the engine, network and bench issues.

fn main() {
    eprintln!("ergo-bench: no scenarios are implemented yet (see the project's open issues)");
    std::process::exit(2);
}
