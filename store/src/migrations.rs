//! The migrations of each engine, embedded in the binary.

use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};

/// The migrations of one engine as `(version, file, name)`, the SQL read from
/// `migrations/<engine>/<file>.sql`.
macro_rules! engine_migrations {
    ($engine:literal: $(($version:literal, $file:literal, $name:literal)),+ $(,)?) => {
        &[$(($version, $name, include_str!(concat!("../migrations/", $engine, "/", $file, ".sql")))),+]
    };
}

const SQLITE: &[(i64, &str, &str)] = engine_migrations!("sqlite":
    (1, "0001_init", "init"),
    (2, "0002_bus", "bus"),
    (3, "0003_routing", "routing"),
    (4, "0004_oversight", "oversight"),
    (5, "0005_timers", "timers"),
    (6, "0006_raw_parking", "raw parking"),
    (7, "0007_confidential", "confidential"),
    (8, "0008_people", "people"),
    (20, "0020_escalated", "escalated"),
    (21, "0021_appellant_keys", "appellant keys"),
    (22, "0022_appeal_owners", "appeal owners"),
    (23, "0023_sign_in", "sign in"),
    (24, "0024_stat_facts", "stat facts"),
    (25, "0025_stat_facts_by_hour", "stat facts by hour"),
    (30, "0030_submitted_by", "submitted by"),
    (31, "0031_stat_facts_hour", "stat facts by hour"),
    (32, "0032_reference_data", "reference data"),
    (40, "0040_duplicate_index", "duplicate index"),
);
const POSTGRES: &[(i64, &str, &str)] = engine_migrations!("postgres":
    (1, "0001_init", "init"),
    (2, "0002_bus", "bus"),
    (3, "0003_routing", "routing"),
    (4, "0004_oversight", "oversight"),
    (5, "0005_timers", "timers"),
    (6, "0006_raw_parking", "raw parking"),
    (7, "0007_confidential", "confidential"),
    (8, "0008_people", "people"),
    (20, "0020_escalated", "escalated"),
    (21, "0021_appellant_keys", "appellant keys"),
    (22, "0022_appeal_owners", "appeal owners"),
    (23, "0023_sign_in", "sign in"),
    (24, "0024_stat_facts", "stat facts"),
    (25, "0025_stat_facts_by_hour", "stat facts by hour"),
    (30, "0030_submitted_by", "submitted by"),
    (31, "0031_stat_facts_hour", "stat facts by hour"),
    (32, "0032_reference_data", "reference data"),
    (40, "0040_duplicate_index", "duplicate index"),
);

fn migrator(list: &'static [(i64, &'static str, &'static str)]) -> Migrator {
    Migrator::with_migrations(
        list.iter()
            .map(|(version, name, sql)| {
                Migration::new(
                    *version,
                    (*name).into(),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

pub fn sqlite() -> Migrator {
    migrator(SQLITE)
}

pub fn postgres() -> Migrator {
    migrator(POSTGRES)
}
