//! The executor and what it needs, shared by the commands that spend or
//! grade: preflight (gathering the facts before any spend), the job (one
//! arm's seeds, step by step as `study::plan` decides), one CLI invocation
//! watched, the sandboxes (Docker with its labelling proxy, or Modal with
//! its environments), the loop over arms, the latest oracle, and verify as
//! the commands run it.
//!
//! May import: `study` and `edges`; never `commands` (tests/layers.rs
//! fails if it does). `study` never imports `engine`.

pub mod arm;
pub mod check;
pub mod graded;
pub mod invoke;
pub mod job;
pub mod lanes;
pub mod oracle;
pub mod preflight;
pub mod sandboxes;
pub mod verify;
