//! The study's nouns and rules, pure: pairs, subsets, results and evals, the
//! one outcome of a (run, pair), difficulty, the outcome table, the plan of
//! `seeds`, Figure 4 and the noise numbers.
//!
//! Nothing here starts a process, touches a file or reads the clock, so every
//! rule is tested on data made in memory. May import: `std`, crates, and
//! other `study` modules; never `edges` or `commands` (tests/layers.rs fails
//! if it does).

pub mod analysis;
pub mod arms;
pub mod changed;
pub mod class;
pub mod classify;
pub mod cores;
pub mod dataset;
pub(crate) mod difficulty;
pub mod exact;
pub mod fig4;
pub mod images;
pub mod json;
pub mod manifest;
pub mod models;
pub(crate) mod noise;
pub mod oracle;
pub mod outcome;
pub mod pair;
pub(crate) mod plan;
pub(crate) mod problem;
pub(crate) mod provenance;
pub(crate) mod result;
pub mod run;
pub mod setting;
pub mod shared;
pub mod story;
pub(crate) mod subset;
pub mod table;
pub mod timestamp;
pub mod verdict;
pub mod verify;
