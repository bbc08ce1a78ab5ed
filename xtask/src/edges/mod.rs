//! Everything that touches a process, a file, the clock or Docker: the paths
//! of a checkout (`layout`), reading a run's tree (`logs`), the CLI as a
//! child process (`cli`, its argv in `command`), Docker and which containers
//! are ours, secrets, the lock, quarantine, manifests, the experiment file.
//!
//! Each function here does one effect and leaves the deciding to `study`.
//! May import: `study` and other `edges` modules; never `commands`
//! (tests/layers.rs fails if it does).

pub(crate) mod agent_config;
pub(crate) mod attempts;
pub(crate) mod cli;
pub(crate) mod cli_facts;
pub(crate) mod clock;
pub(crate) mod command;
pub mod dataset;
pub mod docker;
pub mod docker_proxy;
pub(crate) mod eval_summary;
pub(crate) mod eval_times;
pub(crate) mod events;
pub mod experiment;
pub(crate) mod groups;
pub mod identity;
pub mod layout;
pub(crate) mod lock;
pub mod logs;
pub(crate) mod manifest;
pub(crate) mod modal;
pub(crate) mod quarantine;
pub(crate) mod read;
pub(crate) mod redis;
pub(crate) mod secrets;
pub(crate) mod shared;
pub mod short;
pub mod story;
pub(crate) mod write;
