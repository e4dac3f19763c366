//! The platform's configuration: one typed struct, from defaults < file < `HOTLINE_*` env.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Everything a process of the platform can be told. The defaults run embedded mode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where the SQLite database, the generated secret and other local state live.
    pub data_dir: PathBuf,
    /// Where the HTTP API listens.
    pub http_addr: SocketAddr,
    /// `postgres://…` for distributed mode, `sqlite:…` for a specific file; unset: SQLite in
    /// the data directory.
    pub database_url: Option<String>,
    /// RabbitMQ for distributed mode; unset: the in-process bus.
    pub amqp_url: Option<String>,
    /// Prefix of the RabbitMQ exchange and queue names.
    pub bus_prefix: String,
    /// Meilisearch for distributed mode; unset: the embedded search index.
    pub meili_url: Option<String>,
    pub meili_key: Option<String>,
    /// The token-signing secret; unset: generated at first start and kept in the data
    /// directory. Every process of one platform must share it.
    pub secret: Option<String>,
    /// The city's time zone: deadlines and ticket days are computed in it.
    pub timezone: String,
    /// More calendar files (e.g. next year's State Council notice) in the format of
    /// `schemas/calendar/cn-official-days.csv`, added to the shipped calendar in the first
    /// version of an empty database's calendar (afterwards admins publish new versions).
    pub calendar_files: Vec<PathBuf>,
    /// The city's taxonomy (units, categories, matters) replacing `schemas/taxonomy/taxonomy.toml`
    /// as the first version of an empty database's taxonomy.
    pub taxonomy: Option<PathBuf>,
    /// The router dispatches by itself at or above this confidence (0–1: the calibrated
    /// probability that its unit is right) when its unit also leads the second clearly; below,
    /// the appeal waits in the dispatcher's queue.
    pub dispatch_threshold: f64,
    /// A model file from `hotline train`, blended with the taxonomy's keywords; unset: the
    /// keywords alone.
    pub router_model: Option<PathBuf>,
    /// How far back (hours) the router looks for probable duplicates; 0 turns it off.
    pub duplicate_window_hours: u32,
    /// Time-limit policies replacing `schemas/sla/policies.toml` as the first version of an
    /// empty database's policies.
    pub sla_policies: Option<PathBuf>,
    /// Notifications (dispatches, reminders, warnings, escalations, rating requests) are
    /// POSTed as JSON to this URL (the city's SMS or WeChat template gateway, `http://` or
    /// `https://`); unset: written to the log.
    pub notify_webhook_url: Option<String>,
    /// A PEM file of CA certificates the webhook's `https://` certificate may also chain to
    /// (a city's own CA), besides the public roots.
    pub notify_webhook_ca: Option<PathBuf>,
    /// Where people reach the platform (the console and its public pages), e.g.
    /// `https://12345.example.gov.cn`: links in notifications use it (the rating link is
    /// `{public_url}/rate?ticket=…&token=…`), and session cookies are `Secure` when it is
    /// `https://`.
    pub public_url: String,
    /// Load the demo units into an empty database.
    pub demo_data: bool,
    /// Public submissions (no token) one client address may make per minute; 0: no limit.
    pub public_submissions_per_minute: u32,
    /// How many of those may come at once.
    pub public_submission_burst: u32,
    /// Public submissions one appellant (phone number, else WeChat openid) may make per hour;
    /// 0: no limit.
    pub appellant_submissions_per_hour: u32,
    /// Staff submissions (a valid token) one client address may make per minute, as many at
    /// once; 0: no limit.
    pub staff_submissions_per_minute: u32,
    /// Reverse proxies (IP addresses) whose `X-Forwarded-For` names the client; none: the
    /// peer is the client.
    pub trusted_proxies: Vec<IpAddr>,
    /// How many hours a staff token (`hotline token issue`) is valid: 1 to 8760 (a year).
    pub staff_token_hours: u32,
    /// `text` or `json` logs.
    pub log_format: LogFormat,
}

/// The longest a staff token may be valid: a year.
const MAX_STAFF_TOKEN_HOURS: u32 = 365 * 24;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    Text,
    Json,
}

/// The keys `HOTLINE_*` variables may set: the struct's own fields, so a field added is a key
/// at once; other `HOTLINE_*` variables (tests', logging) are not configuration.
fn keys() -> Vec<String> {
    figment::value::Value::serialize(Config::default())
        .ok()
        .and_then(|v| v.into_dict())
        .map(|dict| dict.into_keys().collect())
        .unwrap_or_default()
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("./data"),
            http_addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            database_url: None,
            amqp_url: None,
            bus_prefix: "hotline".to_owned(),
            meili_url: None,
            meili_key: None,
            secret: None,
            timezone: "Asia/Shanghai".to_owned(),
            calendar_files: Vec::new(),
            taxonomy: None,
            dispatch_threshold: hotline_router::routing::DISPATCH_THRESHOLD,
            router_model: None,
            duplicate_window_hours: 7 * 24,
            sla_policies: None,
            notify_webhook_url: None,
            notify_webhook_ca: None,
            public_url: "http://127.0.0.1:8080".to_owned(),
            demo_data: true,
            public_submissions_per_minute: 10,
            public_submission_burst: 5,
            appellant_submissions_per_hour: 5,
            staff_submissions_per_minute: 600,
            trusted_proxies: Vec::new(),
            staff_token_hours: 12,
            log_format: LogFormat::Text,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Figment(#[from] Box<figment::Error>),
    #[error("configuration: unknown time zone {0:?} (expected an IANA name such as Asia/Shanghai)")]
    TimeZone(String),
    /// A value that parses but cannot be used; `key` is the setting (`HOTLINE_<KEY>`).
    #[error("configuration: {key}: {problem}")]
    Invalid { key: &'static str, problem: String },
}

impl Config {
    /// Defaults, then `file` (or `hotline.toml` when present), then `HOTLINE_*` variables.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        match file {
            Some(path) => figment = figment.merge(Toml::file_exact(path)),
            None => figment = figment.merge(Toml::file("hotline.toml")),
        }
        let keys = keys();
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let config: Config = figment
            .merge(Env::prefixed("HOTLINE_").only(&keys))
            .extract()
            .map_err(Box::new)?;
        config.validate()?;
        Ok(config)
    }

    /// Every rule a loaded configuration must keep, checked once.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, problem: &str| ConfigError::Invalid {
            key,
            problem: problem.to_owned(),
        };
        self.time_zone()?;
        if !(0.0..=1.0).contains(&self.dispatch_threshold) {
            return Err(invalid("dispatch_threshold", "must be between 0 and 1"));
        }
        let name_like = |s: &str| {
            !s.is_empty()
                && s.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        if !name_like(&self.bus_prefix) {
            return Err(invalid(
                "bus_prefix",
                "must be ASCII letters, digits, '-', '_' or '.'",
            ));
        }
        if let Some(url) = &self.database_url
            && !["postgres://", "postgresql://", "sqlite:"]
                .iter()
                .any(|scheme| url.starts_with(scheme))
        {
            return Err(invalid(
                "database_url",
                "must start with postgres://, postgresql:// or sqlite:",
            ));
        }
        if let Some(url) = &self.amqp_url
            && !(url.starts_with("amqp://") || url.starts_with("amqps://"))
        {
            return Err(invalid("amqp_url", "must start with amqp:// or amqps://"));
        }
        if !(self.public_url.starts_with("http://") || self.public_url.starts_with("https://")) {
            return Err(invalid("public_url", "must start with http:// or https://"));
        }
        if self.public_submissions_per_minute > 0 && self.public_submission_burst == 0 {
            return Err(invalid(
                "public_submission_burst",
                "must be at least 1 while public_submissions_per_minute limits submissions",
            ));
        }
        if let Some(ip) = self
            .trusted_proxies
            .iter()
            .find(|ip| ip.is_unspecified() || ip.is_multicast())
        {
            return Err(ConfigError::Invalid {
                key: "trusted_proxies",
                problem: format!("{ip} is not a proxy's address"),
            });
        }
        if !(1..=MAX_STAFF_TOKEN_HOURS).contains(&self.staff_token_hours) {
            return Err(invalid(
                "staff_token_hours",
                "must be between 1 and 8760 (a year)",
            ));
        }
        Ok(())
    }

    /// The rating page of the public URL: the link sent after a reply adds `ticket` and `token`.
    pub fn rating_link_base(&self) -> String {
        format!("{}/rate", self.public_url.trim_end_matches('/'))
    }

    /// How long a staff token is valid.
    pub fn staff_token_lifetime(&self) -> chrono::Duration {
        chrono::Duration::hours(i64::from(self.staff_token_hours))
    }

    /// This configuration with the intake limits off (benchmarks, bulk loads, tests).
    pub fn without_intake_limits(self) -> Config {
        Config {
            public_submissions_per_minute: 0,
            appellant_submissions_per_hour: 0,
            staff_submissions_per_minute: 0,
            ..self
        }
    }

    /// The intake limits the gateway applies.
    pub fn limit_settings(&self) -> hotline_gateway::LimitSettings {
        hotline_gateway::LimitSettings {
            public_per_minute: self.public_submissions_per_minute,
            public_burst: self.public_submission_burst,
            appellant_per_hour: self.appellant_submissions_per_hour,
            staff_per_minute: self.staff_submissions_per_minute,
            trusted_proxies: self.trusted_proxies.clone(),
        }
    }

    pub fn time_zone(&self) -> Result<chrono_tz::Tz, ConfigError> {
        self.timezone
            .parse()
            .map_err(|_| ConfigError::TimeZone(self.timezone.clone()))
    }

    /// The database to use: the configured URL, or SQLite in the data directory.
    pub fn database(&self) -> Database {
        match &self.database_url {
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Database::Postgres(url.clone())
            }
            Some(url) => Database::SqliteUrl(url.clone()),
            None => Database::SqliteFile(self.data_dir.join("hotline.db")),
        }
    }
}

/// Which engine and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    SqliteFile(PathBuf),
    SqliteUrl(String),
    Postgres(String),
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment::Jail's closures return figment::Error
mod tests {
    use super::*;

    #[test]
    fn defaults_run_embedded() {
        figment::Jail::expect_with(|_| {
            let c = Config::load(None).unwrap();
            assert_eq!(c.http_addr.to_string(), "127.0.0.1:8080");
            assert_eq!(
                c.database(),
                Database::SqliteFile(PathBuf::from("./data/hotline.db"))
            );
            assert_eq!(c.timezone, "Asia/Shanghai");
            Ok(())
        });
    }

    #[test]
    fn env_overrides_file() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "hotline.toml",
                "http_addr = \"127.0.0.1:9000\"\ntimezone = \"Asia/Urumqi\"",
            )?;
            jail.set_env("HOTLINE_HTTP_ADDR", "127.0.0.1:9100");
            jail.set_env("HOTLINE_DATABASE_URL", "postgres://localhost/x");
            jail.set_env("HOTLINE_TEST_PG_URL", "postgres://elsewhere/y");
            let c = Config::load(None).unwrap();
            assert_eq!(c.http_addr.to_string(), "127.0.0.1:9100");
            assert_eq!(c.timezone, "Asia/Urumqi");
            assert_eq!(
                c.database(),
                Database::Postgres("postgres://localhost/x".into())
            );
            Ok(())
        });
    }

    #[test]
    fn every_field_is_a_key() {
        let keys = keys();
        assert_eq!(keys.len(), 26);
        for key in [
            "data_dir",
            "dispatch_threshold",
            "notify_webhook_ca",
            "log_format",
            "trusted_proxies",
            "public_submissions_per_minute",
        ] {
            assert!(keys.iter().any(|k| k == key), "{key}");
        }
        figment::Jail::expect_with(|jail| {
            jail.set_env("HOTLINE_DUPLICATE_WINDOW_HOURS", "12");
            jail.set_env("HOTLINE_BUS_PREFIX", "city-a");
            jail.set_env("HOTLINE_TRUSTED_PROXIES", "[10.0.0.1,::1]");
            jail.set_env("HOTLINE_APPELLANT_SUBMISSIONS_PER_HOUR", "0");
            jail.set_env("HOTLINE_STAFF_TOKEN_HOURS", "8");
            let c = Config::load(None).unwrap();
            assert_eq!(c.staff_token_lifetime(), chrono::Duration::hours(8));
            assert_eq!(c.duplicate_window_hours, 12);
            assert_eq!(c.bus_prefix, "city-a");
            let proxies: Vec<IpAddr> = vec!["10.0.0.1".parse().unwrap(), "::1".parse().unwrap()];
            assert_eq!(c.trusted_proxies, proxies);
            assert_eq!(c.limit_settings().appellant_per_hour, 0);
            assert_eq!(c.limit_settings().public_per_minute, 10);
            Ok(())
        });
    }

    #[test]
    fn invalid_values_name_their_key() {
        for (var, value, key) in [
            ("HOTLINE_DISPATCH_THRESHOLD", "1.5", "dispatch_threshold"),
            ("HOTLINE_BUS_PREFIX", "城市", "bus_prefix"),
            ("HOTLINE_DATABASE_URL", "mysql://db/x", "database_url"),
            ("HOTLINE_AMQP_URL", "http://mq", "amqp_url"),
            ("HOTLINE_PUBLIC_URL", "ftp://x", "public_url"),
            (
                "HOTLINE_PUBLIC_SUBMISSION_BURST",
                "0",
                "public_submission_burst",
            ),
            ("HOTLINE_TRUSTED_PROXIES", "[0.0.0.0]", "trusted_proxies"),
            ("HOTLINE_STAFF_TOKEN_HOURS", "0", "staff_token_hours"),
            ("HOTLINE_STAFF_TOKEN_HOURS", "8761", "staff_token_hours"),
        ] {
            figment::Jail::expect_with(|jail| {
                jail.set_env(var, value);
                match Config::load(None) {
                    Err(ConfigError::Invalid { key: k, .. }) => assert_eq!(k, key),
                    other => panic!("{var}={value}: {other:?}"),
                }
                Ok(())
            });
        }
    }

    #[test]
    fn the_example_file_loads() {
        let example = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../deploy/hotline.example.toml"
        );
        figment::Jail::expect_with(|_| {
            let c = Config::load(Some(Path::new(example))).unwrap();
            assert_eq!(c.limit_settings(), Config::default().limit_settings());
            Ok(())
        });
    }

    #[test]
    fn rejects_unknown_time_zone() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("HOTLINE_TIMEZONE", "Mars/Olympus");
            assert!(matches!(Config::load(None), Err(ConfigError::TimeZone(_))));
            Ok(())
        });
    }
}
