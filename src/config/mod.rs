//! `crmlens.toml`: where the dataset is, the analysis date, currency and time zone, the sales
//! pipeline, the churn window and the engine's resources. Unknown keys are errors that name the
//! key and suggest the closest valid one, because a typo'd key silently ignored would change a
//! figure without anyone noticing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::hint::closest;
use crate::{Error, Result};

pub mod affinity;
pub mod engine_url;
pub mod scope;
pub mod service;

pub use affinity::AffinityConfig;
pub use engine_url::EngineUrl;
pub use scope::Scope;
pub use service::ServiceConfig;

/// The file name looked for in the working directory when `--config` is not given.
pub const DEFAULT_CONFIG_FILE: &str = "crmlens.toml";

/// The whole configuration.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Dataset directory; relative paths are resolved against the configuration file's folder.
    pub dataset: Option<PathBuf>,
    /// Analysis date (inclusive); default: the latest order date in the data. Written either
    /// as a TOML date (`as_of = 2024-06-30`) or a string (`as_of = "2024-06-30"`).
    #[serde(deserialize_with = "date_or_string")]
    pub as_of: Option<NaiveDate>,
    /// The date taken as today (default: the system clock's date in the dataset time zone).
    /// Timestamps after it are validation errors, and the default as_of ignores orders
    /// dated after it.
    #[serde(deserialize_with = "date_or_string")]
    pub today: Option<NaiveDate>,
    /// The dataset's currency (ISO 4217), for labels.
    pub currency: String,
    /// Time zone of naive timestamps and of calendar-day arithmetic (IANA name).
    pub timezone: String,
    /// Order statuses that count as purchases.
    pub purchase_statuses: Vec<String>,
    pub pipeline: PipelineConfig,
    pub churn: ChurnConfig,
    pub rfm: RfmConfig,
    pub abc_xyz: AbcXyzConfig,
    pub clv: ClvConfig,
    pub managers: ManagersConfig,
    pub campaigns: CampaignsConfig,
    pub event_funnel: EventFunnelConfig,
    pub service: ServiceConfig,
    pub affinity: AffinityConfig,
    pub engine: EngineConfig,
    /// Raw DataFusion options, keys without the `datafusion.` prefix
    /// (e.g. `"execution.batch_size" = 8192`).
    pub datafusion: BTreeMap<String, toml::Value>,
    /// Where the configuration was read from (not a key).
    #[serde(skip)]
    pub source: Option<PathBuf>,
    /// Row-level scope of this run (`--scope`, or set by a library caller). Not a key of the
    /// file: a scope is a per-run access decision, not a setting of the installation.
    #[serde(skip)]
    pub scope: Option<Scope>,
}

/// The sales pipeline: ordered stages and the terminal "lost" stage.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct PipelineConfig {
    /// Stages in order; the last one is the won stage.
    pub stages: Vec<String>,
    /// The terminal stage of lost deals (outside the ordered stages).
    pub lost_stage: String,
    /// Per-hundred conversion: a deal created within this many days of a cold contact is an
    /// opportunity from it (PRODUCT.md, "Per-hundred conversion").
    pub opportunity_days: u32,
    /// Forecast: the stage probabilities are learned from deals closed in this many months
    /// before as_of (PRODUCT.md, "Forecast").
    pub forecast_lookback_months: u32,
}

/// The churn window.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ChurnConfig {
    /// A customer is active at t if they purchased in (t − inactive_days, t].
    pub inactive_days: u32,
}

/// RFM scoring (PRODUCT.md, "RFM").
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RfmConfig {
    /// Only purchases in the last N days (up to as_of) count; unset = all history.
    pub lookback_days: Option<u32>,
    /// The named-segment rule table; unset = the built-in ten-segment map
    /// (`queries/rfm_segments.toml`). Relative to the configuration file.
    pub segments: Option<PathBuf>,
    /// Fixed business thresholds instead of percentiles, per measure: four ascending
    /// values. Recency: days at most t1 → 5, at most t2 → 4, at most t3 → 3, at most t4 → 2,
    /// else 1. Frequency and monetary: at least t4 → 5, at least t3 → 4, at least t2 → 3,
    /// at least t1 → 2, else 1.
    pub thresholds: RfmThresholds,
}

/// Fixed RFM thresholds; a measure without thresholds is scored by percentiles.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct RfmThresholds {
    pub recency: Option<Vec<f64>>,
    pub frequency: Option<Vec<f64>>,
    pub monetary: Option<Vec<f64>>,
}

/// ABC / XYZ class boundaries (PRODUCT.md, "ABC / XYZ").
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AbcXyzConfig {
    /// Cumulative revenue share up to `a` → A, up to `b` → B, the rest → C.
    pub a: f64,
    pub b: f64,
    /// Coefficient of variation of monthly revenue at most `x` → X, at most `y` → Y, else Z.
    pub x: f64,
    pub y: f64,
    /// Months of history for XYZ, ending with the month of as_of.
    pub xyz_months: u32,
}

impl Default for AbcXyzConfig {
    fn default() -> Self {
        AbcXyzConfig {
            a: 0.80,
            b: 0.95,
            x: 0.10,
            y: 0.25,
            xyz_months: 12,
        }
    }
}

/// Predicted CLV (PRODUCT.md, "CLV, predicted").
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ClvConfig {
    /// A fit saved by `crmlens clv fit --save FILE`; when set, `customer_features` fills
    /// p_alive, expected_purchases, expected_avg_value and clv. Relative to the configuration
    /// file.
    pub model_file: Option<PathBuf>,
    /// CLV horizon H in months (of 30 days).
    pub horizon_months: u32,
    /// Monthly discount rate d.
    pub monthly_discount: f64,
    /// Margin applied to expected spend (1.0 = revenue).
    pub margin: f64,
    /// Horizon of `expected_purchases` in days.
    pub horizon_days: u32,
}

impl Default for ClvConfig {
    fn default() -> Self {
        ClvConfig {
            model_file: None,
            horizon_months: 12,
            monthly_discount: 0.01,
            margin: 1.0,
            horizon_days: 90,
        }
    }
}

/// Sales-department control (PRODUCT.md, "Manager KPIs").
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ManagersConfig {
    /// A new lead (deal) counts as answered in time when its first activity comes within this
    /// many minutes of the deal's creation.
    pub response_sla_minutes: u32,
    /// The working days of the week, as three-letter English names ("mon" … "sun").
    pub working_days: Vec<String>,
    /// Public holidays, dates that are not working days: `holidays = ["2025-01-01"]`.
    pub holidays: Vec<NaiveDate>,
}

impl Default for ManagersConfig {
    fn default() -> Self {
        ManagersConfig {
            response_sla_minutes: 30,
            working_days: ["mon", "tue", "wed", "thu", "fri"]
                .map(String::from)
                .to_vec(),
            holidays: Vec::new(),
        }
    }
}

/// Campaign effectiveness (PRODUCT.md, "Campaigns and sources").
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct CampaignsConfig {
    /// A member converts when they convert (or buy) within this many days of being sent the
    /// campaign.
    pub attribution_days: u32,
    /// The margin applied to incremental revenue in ROI (1.0 = revenue).
    pub margin: f64,
}

impl Default for CampaignsConfig {
    fn default() -> Self {
        CampaignsConfig {
            attribution_days: 30,
            margin: 1.0,
        }
    }
}

/// The default event funnel: the view `event_funnel` and `crmlens funnel events` without
/// `--steps` (PRODUCT.md, "Event funnel").
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EventFunnelConfig {
    /// The event names of the steps, in order.
    pub steps: Vec<String>,
    /// The conversion window from funnel entry, e.g. "7d", "24h", "30m" or seconds ("3600").
    pub window: String,
    /// `window_funnel` modes, e.g. ["strict_order"].
    pub mode: Vec<String>,
}

impl Default for EventFunnelConfig {
    fn default() -> Self {
        EventFunnelConfig {
            steps: ["visit", "signup", "cart", "purchase"]
                .map(String::from)
                .to_vec(),
            window: "7d".into(),
            mode: Vec::new(),
        }
    }
}

/// Parses a duration such as "7d", "2w", "24h", "30m", "90s" or a bare number of seconds.
pub fn parse_duration(text: &str) -> std::result::Result<i64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: i64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a duration (expected e.g. 7d, 24h, 30m, 90s)"))?;
    let scale = match unit.trim() {
        "" | "s" => 1,
        "m" | "min" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        other => {
            return Err(format!(
                "{text:?}: unknown unit {other:?} (expected s, m, h, d or w, e.g. 7d)"
            ));
        }
    };
    match n.checked_mul(scale) {
        Some(s) if s > 0 => Ok(s),
        _ => Err(format!("{text:?}: expected a positive duration")),
    }
}

/// The engine's resources.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct EngineConfig {
    /// Memory limit for query execution, e.g. "4GB" or "512MB"; unset = 35% of the machine's
    /// memory (or of the container's limit), see [`crate::engine::session::DEFAULT_MEMORY_SHARE`].
    #[serde(deserialize_with = "memory_limit")]
    pub memory_limit: Option<ByteSize>,
    /// Where operators spill when over the memory limit; default: the system temp directory.
    pub spill_dir: Option<PathBuf>,
    /// Partitions of query plans; default: the number of CPU cores, at least 16.
    pub target_partitions: Option<usize>,
    /// Rows per record batch; default: DataFusion's 8192.
    pub batch_size: Option<usize>,
    /// Where queries run: unset = in this process; `df://HOST:PORT` = on the Ballista cluster
    /// whose scheduler listens there (needs the `distributed` feature; see
    /// [`EngineUrl`]).
    #[serde(deserialize_with = "engine_url")]
    pub url: Option<EngineUrl>,
    /// File holding the cluster's shared secret, which a scheduler bound beyond loopback
    /// demands of its clients (`crmlens scheduler --secret-file`); relative to this file.
    /// The environment variable `CRMLENS_CLUSTER_SECRET` (the secret itself) takes precedence.
    pub cluster_secret_file: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            dataset: None,
            as_of: None,
            today: None,
            currency: "USD".into(),
            timezone: "UTC".into(),
            purchase_statuses: vec!["paid".into()],
            pipeline: PipelineConfig::default(),
            churn: ChurnConfig::default(),
            rfm: RfmConfig::default(),
            abc_xyz: AbcXyzConfig::default(),
            clv: ClvConfig::default(),
            managers: ManagersConfig::default(),
            campaigns: CampaignsConfig::default(),
            event_funnel: EventFunnelConfig::default(),
            service: Default::default(),
            affinity: AffinityConfig::default(),
            engine: EngineConfig::default(),
            datafusion: BTreeMap::new(),
            source: None,
            scope: None,
        }
    }
}

impl Default for PipelineConfig {
    fn default() -> Self {
        PipelineConfig {
            stages: ["lead", "qualified", "proposal", "negotiation", "won"]
                .map(String::from)
                .to_vec(),
            lost_stage: "lost".into(),
            opportunity_days: 90,
            forecast_lookback_months: 12,
        }
    }
}

impl Default for ChurnConfig {
    fn default() -> Self {
        ChurnConfig { inactive_days: 180 }
    }
}

impl Config {
    /// Built-in defaults pointing at a dataset directory.
    pub fn for_dataset(path: impl Into<PathBuf>) -> Self {
        Config {
            dataset: Some(path.into()),
            ..Config::default()
        }
    }

    /// Discovery as CLI.md says: the given file, else `./crmlens.toml` if present, else defaults.
    pub fn discover(explicit: Option<&Path>) -> Result<Config> {
        match explicit {
            Some(path) => Config::load(path),
            None => {
                let default = Path::new(DEFAULT_CONFIG_FILE);
                if default.is_file() {
                    Config::load(default)
                } else {
                    Ok(Config::default())
                }
            }
        }
    }

    /// Reads and checks one configuration file.
    pub fn load(path: &Path) -> Result<Config> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Config {
            path: path.to_path_buf(),
            message: format!("cannot read: {e}"),
        })?;
        let mut config = Config::parse(&text).map_err(|message| Error::Config {
            path: path.to_path_buf(),
            message,
        })?;
        if let Some(dir) = path.parent() {
            for p in [
                &mut config.dataset,
                &mut config.rfm.segments,
                &mut config.clv.model_file,
                &mut config.engine.cluster_secret_file,
            ] {
                if let Some(rel) = p.as_ref().filter(|p| p.is_relative()) {
                    *p = Some(dir.join(rel));
                }
            }
        }
        config.source = Some(path.to_path_buf());
        Ok(config)
    }

    /// Parses configuration text; the error is a message with the line and a suggestion.
    pub fn parse(text: &str) -> std::result::Result<Config, String> {
        let config: Config = toml::from_str(text).map_err(|e| {
            if e.message().starts_with("unknown field `scope`") {
                "scope: a row-level scope is given per run (--scope manager=M001), not in the configuration file".to_string()
            } else {
                describe_toml_error(&e)
            }
        })?;
        config.check()?;
        Ok(config)
    }

    /// Checks that go beyond types: a usable pipeline, a known time zone, sane numbers.
    fn check(&self) -> std::result::Result<(), String> {
        for (key, date) in [("as_of", self.as_of), ("today", self.today)] {
            if let Some(d) = date {
                check_date(d).map_err(|e| format!("{key}: {e}"))?;
            }
        }
        if self.pipeline.stages.len() < 2 {
            return Err(
                "pipeline.stages: expected at least two stages, e.g. [\"lead\", \"won\"]".into(),
            );
        }
        let mut seen = std::collections::HashSet::new();
        for s in self
            .pipeline
            .stages
            .iter()
            .chain(std::iter::once(&self.pipeline.lost_stage))
        {
            if !seen.insert(s.as_str()) {
                return Err(format!(
                    "pipeline: stage {s:?} appears twice (stages and lost_stage must be distinct)"
                ));
            }
        }
        if self.timezone.parse::<chrono_tz_name::Tz>().is_err() {
            return Err(format!(
                "timezone: {:?} is not an IANA time zone name (expected e.g. \"UTC\" or \"Europe/Berlin\")",
                self.timezone
            ));
        }
        if self.churn.inactive_days == 0 {
            return Err("churn.inactive_days: expected a positive number of days".into());
        }
        if self.purchase_statuses.is_empty() {
            return Err(
                "purchase_statuses: expected at least one order status, e.g. [\"paid\"]".into(),
            );
        }
        for (name, t) in [
            ("recency", &self.rfm.thresholds.recency),
            ("frequency", &self.rfm.thresholds.frequency),
            ("monetary", &self.rfm.thresholds.monetary),
        ] {
            if let Some(t) = t
                && (t.len() != 4
                    || t.windows(2).any(|w| w[0] >= w[1])
                    || t.iter().any(|v| !v.is_finite()))
            {
                return Err(format!(
                    "rfm.thresholds.{name}: expected four strictly ascending numbers, found {t:?}"
                ));
            }
        }
        if self.rfm.lookback_days == Some(0) {
            return Err("rfm.lookback_days: expected a positive number of days".into());
        }
        let ax = &self.abc_xyz;
        if !(0.0 < ax.a && ax.a < ax.b && ax.b <= 1.0) {
            return Err(format!(
                "abc_xyz: expected 0 < a < b ≤ 1 (cumulative revenue shares), found a = {}, b = {}",
                ax.a, ax.b
            ));
        }
        if !(0.0 <= ax.x && ax.x < ax.y) {
            return Err(format!(
                "abc_xyz: expected 0 ≤ x < y (coefficients of variation), found x = {}, y = {}",
                ax.x, ax.y
            ));
        }
        if ax.xyz_months < 2 {
            return Err("abc_xyz.xyz_months: expected at least 2 months".into());
        }
        if self.pipeline.opportunity_days == 0 || self.pipeline.forecast_lookback_months == 0 {
            return Err(
                "pipeline: expected opportunity_days ≥ 1 and forecast_lookback_months ≥ 1".into(),
            );
        }
        const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
        if self.managers.working_days.is_empty() {
            return Err("managers.working_days: expected at least one day, e.g. [\"mon\"]".into());
        }
        for d in &self.managers.working_days {
            if !DAYS.contains(&d.to_lowercase().as_str()) {
                return Err(format!(
                    "managers.working_days: {d:?} is not a day; expected one of {}",
                    DAYS.join(", ")
                ));
            }
        }
        if self.campaigns.attribution_days == 0
            || !(self.campaigns.margin > 0.0 && self.campaigns.margin <= 1.0)
        {
            return Err(format!(
                "campaigns: expected attribution_days ≥ 1 and 0 < margin ≤ 1, found {}, {}",
                self.campaigns.attribution_days, self.campaigns.margin
            ));
        }
        if self.event_funnel.steps.is_empty() || self.event_funnel.steps.len() > 32 {
            return Err("event_funnel.steps: expected 1 to 32 event names".into());
        }
        parse_duration(&self.event_funnel.window)
            .map_err(|e| format!("event_funnel.window: {e}"))?;
        self.service.seconds()?;
        self.affinity.check()?;
        let clv = &self.clv;
        if clv.horizon_months == 0
            || !(0.0..1.0).contains(&clv.monthly_discount)
            || !(clv.margin > 0.0 && clv.margin <= 1.0)
        {
            return Err(format!(
                "clv: expected horizon_months ≥ 1, 0 ≤ monthly_discount < 1 and 0 < margin ≤ 1, found {}, {}, {}",
                clv.horizon_months, clv.monthly_discount, clv.margin
            ));
        }
        if self.engine.target_partitions == Some(0) || self.engine.batch_size == Some(0) {
            return Err("engine: target_partitions and batch_size must be positive".into());
        }
        Ok(())
    }

    /// The decimals of the currency's minor unit (ISO 4217): amounts stored as floats are
    /// read at this precision.
    pub fn currency_scale(&self) -> u8 {
        const NONE: &[&str] = &[
            "BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
            "VND", "VUV", "XAF", "XOF", "XPF",
        ];
        const THREE: &[&str] = &["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"];
        let code = self.currency.to_ascii_uppercase();
        if NONE.contains(&code.as_str()) {
            0
        } else if THREE.contains(&code.as_str()) {
            3
        } else {
            2
        }
    }

    /// Today: `today` when set, else the system clock's date in the dataset time zone.
    pub fn today(&self) -> NaiveDate {
        self.today.unwrap_or_else(|| {
            let now = chrono::Utc::now();
            match self.timezone.parse::<chrono_tz_name::Tz>() {
                Ok(zone) => now.with_timezone(&zone).date_naive(),
                Err(_) => now.date_naive(),
            }
        })
    }

    /// The `[datafusion]` table as `datafusion.*` option strings.
    pub fn datafusion_options(&self) -> Vec<(String, String)> {
        self.datafusion
            .iter()
            .map(|(k, v)| {
                let key = if k.starts_with("datafusion.") {
                    k.clone()
                } else {
                    format!("datafusion.{k}")
                };
                let value = match v {
                    toml::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (key, value)
            })
            .collect()
    }
}

fn date_or_string<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<NaiveDate>, D::Error> {
    use serde::de::Error as _;
    let text = match toml::Value::deserialize(d)? {
        toml::Value::String(s) => s,
        toml::Value::Datetime(dt) => dt.to_string(),
        other => {
            return Err(D::Error::custom(format!(
                "expected a date YYYY-MM-DD, found {other}"
            )));
        }
    };
    NaiveDate::parse_from_str(&text, "%Y-%m-%d")
        .map(Some)
        .map_err(|_| D::Error::custom(format!("expected a date YYYY-MM-DD, found {text:?}")))
}

/// The first date crmlens computes with: timestamps before it are validation errors.
pub const FIRST_DATE: NaiveDate = NaiveDate::from_ymd_opt(1900, 1, 1).expect("a date");
/// The last one: DataFusion turns dates into nanosecond timestamps, which end in April 2262,
/// and the analyses reach years around as_of.
pub const LAST_DATE: NaiveDate = NaiveDate::from_ymd_opt(2199, 12, 31).expect("a date");

/// Whether a date (as_of, today) is one crmlens can compute with; the error says the range.
pub fn check_date(date: NaiveDate) -> std::result::Result<NaiveDate, String> {
    if (FIRST_DATE..=LAST_DATE).contains(&date) {
        Ok(date)
    } else {
        Err(format!(
            "{date} is outside the dates crmlens computes with ({FIRST_DATE} to {LAST_DATE})"
        ))
    }
}

/// A `YYYY-MM-DD` date in [`FIRST_DATE`]..=[`LAST_DATE`], for `--as-of`.
pub fn parse_date(text: &str) -> std::result::Result<NaiveDate, String> {
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("expected a date YYYY-MM-DD, found {text:?}"))?;
    check_date(date)
}

/// `[engine] memory_limit`, parsed where it is read ("4GB", "512MB", a number of bytes).
fn memory_limit<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<ByteSize>, D::Error> {
    parsed(d, "engine.memory_limit")
}

/// `[engine] url`, parsed where it is read.
fn engine_url<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<EngineUrl>, D::Error> {
    parsed(d, "engine.url")
}

/// A string key parsed into its type; the error names the key.
fn parsed<'de, D, T>(d: D, key: &str) -> std::result::Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    use serde::de::Error as _;
    let text = String::deserialize(d)?;
    text.parse()
        .map(Some)
        .map_err(|e| D::Error::custom(format!("{key}: {e}")))
}

/// Time zone validation without pulling chrono-tz into our own dependencies: DataFusion's
/// arrow already carries it, and arrow's `Tz` parses IANA names and fixed offsets.
mod chrono_tz_name {
    pub use datafusion::arrow::array::timezone::Tz;
}

/// Turns serde's "unknown field `x`, expected one of `a`, `b`" into a message that also says
/// "did you mean `a`?", with the line from the TOML parser.
fn describe_toml_error(e: &toml::de::Error) -> String {
    let message = e.message().to_string();
    let location = e.span().map(|s| s.start);
    let mut out = message.clone();
    if let Some(rest) = message.strip_prefix("unknown field `")
        && let Some((key, expected)) = rest.split_once('`')
    {
        let candidates: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        out = format!("unknown key `{key}`");
        if let Some(best) = closest(key, candidates.iter().copied()) {
            out.push_str(&format!(", did you mean `{best}`?"));
        }
        out.push_str(&format!(" (valid keys here: {})", candidates.join(", ")));
    }
    match location {
        Some(_) => format!("{out}\n{e}").trim_end().to_string(),
        None => out,
    }
}

/// A size in bytes, written as "4GB", "512 MiB" or a number of bytes ([`parse_size`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub usize);

impl ByteSize {
    pub fn bytes(self) -> usize {
        self.0
    }
}

impl std::str::FromStr for ByteSize {
    type Err = String;
    fn from_str(text: &str) -> std::result::Result<ByteSize, String> {
        parse_size(text).map(ByteSize)
    }
}

impl std::fmt::Display for ByteSize {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}B", self.0)
    }
}

impl Serialize for ByteSize {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Parses "4GB", "512 MiB", "1073741824" into bytes.
pub fn parse_size(text: &str) -> std::result::Result<usize, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size (expected e.g. \"4GB\", \"512MB\")"))?;
    let factor: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tb" | "tib" => 1024.0_f64.powi(4),
        other => {
            return Err(format!(
                "unknown size unit {other:?} in {text:?} (expected B, KB, MB, GB or TB)"
            ));
        }
    };
    let bytes = number * factor;
    if !(bytes.is_finite() && bytes >= 1.0) {
        return Err(format!("{text:?} is not a positive size"));
    }
    Ok(bytes as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typo_suggests_closest_key() {
        let err = Config::parse("[churn]\ninactve_days = 90\n").unwrap_err();
        assert!(err.contains("unknown key `inactve_days`"), "{err}");
        assert!(err.contains("did you mean `inactive_days`?"), "{err}");
        let err = Config::parse("datset = \"x\"\n").unwrap_err();
        assert!(err.contains("did you mean `dataset`?"), "{err}");
    }

    #[test]
    fn full_config_parses() {
        let c = Config::parse(
            r#"
            dataset = "data"
            as_of = 2024-06-30
            currency = "EUR"
            timezone = "Europe/Berlin"
            [pipeline]
            stages = ["lead", "demo", "won"]
            lost_stage = "lost"
            [churn]
            inactive_days = 90
            [engine]
            memory_limit = "2GB"
            target_partitions = 4
            [datafusion]
            "execution.parquet.pushdown_filters" = true
            "#,
        )
        .unwrap();
        assert_eq!(c.as_of, NaiveDate::from_ymd_opt(2024, 6, 30));
        assert_eq!(c.pipeline.stages.len(), 3);
        assert_eq!(
            c.datafusion_options(),
            vec![(
                "datafusion.execution.parquet.pushdown_filters".to_string(),
                "true".to_string()
            )]
        );
    }

    #[test]
    fn bad_values_are_named() {
        assert!(
            Config::parse("timezone = \"Mars/Olympus\"")
                .unwrap_err()
                .contains("timezone")
        );
        assert!(
            Config::parse("[engine]\nmemory_limit = \"4 parsecs\"")
                .unwrap_err()
                .contains("memory_limit")
        );
        assert!(
            Config::parse("[engine]\nurl = \"http://localhost:50050\"")
                .unwrap_err()
                .contains("engine.url")
        );
        assert!(
            Config::parse("[pipeline]\nstages = [\"won\"]")
                .unwrap_err()
                .contains("at least two")
        );
    }

    #[test]
    fn scope_is_not_a_file_setting() {
        let err = Config::parse("[scope]\nmanager = \"M001\"\n").unwrap_err();
        assert!(err.contains("--scope"), "{err}");
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("4GB"), Ok(4 << 30));
        assert_eq!(parse_size("512 MiB"), Ok(512 << 20));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("-1GB").is_err());
    }
}
