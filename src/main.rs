//! The `bdp` binary: parses the command line and runs [`bdp::cli`].
fn main() {
    std::process::exit(bdp::cli::main());
}
