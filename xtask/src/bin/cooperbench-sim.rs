//! The cooperbench CLI simulator; see `xtask::sim`.
fn main() {
    std::process::exit(xtask::sim::main(std::env::args().skip(1).collect()));
}
