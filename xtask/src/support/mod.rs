//! What the demo, the tests and `e2e` build to run the harness against: a
//! lite-shaped checkout for the simulator (`fixture`) and the offline world
//! the real CLI runs in (`world`: tasks, task images, the model stand-in).
//!
//! May import: `study` and `edges`; never `commands`.

pub mod fixture;
pub(crate) mod infra;
pub mod simulator;
pub(crate) mod world;
