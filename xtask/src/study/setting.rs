//! The study's two words for how a run is made: its setting (one agent
//! given both features, or two given one each) and its backend (where the
//! CLI's sandboxes run), as the CLI's `--setting` and `--backend` name them.

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Docker,
    Modal,
    Gcp,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Docker => "docker",
            Backend::Modal => "modal",
            Backend::Gcp => "gcp",
        }
    }
}

/// A run's setting, as the CLI's `--setting` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Setting {
    #[default]
    Solo,
    Coop,
}

impl Setting {
    pub fn name(self) -> &'static str {
        match self {
            Setting::Solo => "solo",
            Setting::Coop => "coop",
        }
    }

    /// Agents per pair: each has a sandbox of its own on Modal.
    pub fn agents(self) -> u32 {
        match self {
            Setting::Solo => 1,
            Setting::Coop => 2,
        }
    }
}
