//! `[service]`: the ticket service level (`[service.sla]`) and the survey window, read by the
//! views of [`crate::views::sla`].

use serde::{Deserialize, Serialize};

use super::parse_duration;

/// `[service]` of crmlens.toml.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServiceConfig {
    pub sla: SlaConfig,
    /// How long before a survey answer a closed ticket may be what the answer rates.
    pub survey_window: String,
}

impl Default for ServiceConfig {
    fn default() -> Self {
        ServiceConfig {
            sla: SlaConfig::default(),
            survey_window: "14d".into(),
        }
    }
}

/// `[service.sla]`: the ticket service level.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct SlaConfig {
    /// From opening to the first answer, e.g. "4h".
    pub first_response: String,
    /// From opening to closing, e.g. "3d".
    pub resolution: String,
}

impl Default for SlaConfig {
    fn default() -> Self {
        SlaConfig {
            first_response: "4h".into(),
            resolution: "3d".into(),
        }
    }
}

impl ServiceConfig {
    /// The durations in seconds: (first response, resolution, survey window).
    pub fn seconds(&self) -> std::result::Result<(i64, i64, i64), String> {
        Ok((
            parse_duration(&self.sla.first_response)
                .map_err(|e| format!("service.sla.first_response: {e}"))?,
            parse_duration(&self.sla.resolution)
                .map_err(|e| format!("service.sla.resolution: {e}"))?,
            parse_duration(&self.survey_window)
                .map_err(|e| format!("service.survey_window: {e}"))?,
        ))
    }
}
