//! `ergo-node --config node.toml`: a node from a config file, with no applications of its own
//! (see the library's docs for a binary that links applications in).

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    ergo_node::main_with(|_node| Ok(()))
}
