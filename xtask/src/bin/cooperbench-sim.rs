//! The cooperbench CLI simulator, built beside `xtask` so that the tests find
//! it as `CARGO_BIN_EXE_cooperbench-sim`; all of it lives in the
//! `cooperbench-sim` crate, which imports nothing from the harness.
fn main() {
    std::process::exit(cooperbench_sim::main(std::env::args().skip(1).collect()));
}
