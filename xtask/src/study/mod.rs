//! The study's nouns and rules, pure: pairs, subsets, results and evals, the
//! one outcome of a (run, pair), difficulty, the outcome table, the plan of
//! `seeds`, Figure 4 and the noise numbers.
//!
//! Nothing here starts a process, touches a file or reads the clock, so every
//! rule is tested on data made in memory. May import: `std`, crates, and
//! other `study` modules; never `edges` or `commands` (tests/layers.rs fails
//! if it does).

pub mod difficulty;
pub mod fig4;
pub mod json;
pub mod noise;
pub mod outcome;
pub mod pair;
pub mod plan;
pub mod problem;
pub mod provenance;
pub mod result;
pub mod run;
pub mod subset;
pub mod table;
pub mod timestamp;
