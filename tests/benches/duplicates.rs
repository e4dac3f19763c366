//! Duplicate lookup benchmark (issue 13): the time per appeal of the router's duplicate lookup
//! (the index's candidates, `Store::duplicate_candidates`, then the exact check,
//! `routing::find_duplicate`) with 10,000, 100,000 and 1,000,000 appeals in the 7-day window,
//! bulk-loaded (`Store::import`). Embedded SQLite always; PostgreSQL when `HOTLINE_TEST_PG_URL`
//! is set (a scratch database is created and dropped).
//!
//! The window's appeals are sentences of the real letters in
//! `../shared/data/appeals/tipdm2020c/unlabeled.csv` put together three at a time (random
//! words when it is missing). Of the probes, half retell an appeal of the window (one
//! character in forty changed) and must be found and linked to it, half are new.
//!
//! Run: `cargo bench -p hotline --bench duplicates` (options after `--`: the window sizes and
//! the probes per size, e.g. `-- 10000,100000 200`).

#[path = "common/scratch_pg.rs"]
mod scratch_pg;

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use hotline_router::RoutingPolicy;
use hotline_router::routing::find_duplicate;
use hotline_schemas::lifecycle::{Decision, Intake, Rules};
use hotline_schemas::reference::{
    Reference, SHIPPED_CALENDAR, SHIPPED_POLICIES, SHIPPED_TAXONOMY, Texts, Versions,
};
use hotline_schemas::{
    Actor, Appeal, AppealId, Appellant, Channel, Kind, Location, NewAppeal, Priority, Role,
    TicketNo,
};
use hotline_store::{PostgresStore, SqliteStore, Store};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Appeals per import (one transaction each).
const IMPORT_BATCH: usize = 10_000;
/// Candidates the router compares at most (as `RouterHandler` asks for).
const CANDIDATES: i64 = 50;

/// Where the window's texts come from.
struct Words {
    sentences: Vec<String>,
    characters: Vec<char>,
}

impl Words {
    fn load() -> Words {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/data/appeals/tipdm2020c/unlabeled.csv");
        let mut sentences = Vec::new();
        if let Ok(mut reader) = csv::Reader::from_path(&path) {
            for record in reader.records().flatten() {
                let body = record.get(2).unwrap_or_default();
                sentences.extend(
                    body.split(['。', '！', '？', '!', '?', '\n'])
                        .map(str::trim)
                        .filter(|s| s.chars().count() >= 8)
                        .map(str::to_owned),
                );
            }
        }
        let characters = "的一是在不了有和人这中大为上个我以要他时来用们生到作地于出就分对成会可主发年动同\
                          工也能下过子说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自"
            .chars()
            .collect();
        Words {
            sentences,
            characters,
        }
    }

    fn text(&self, rng: &mut StdRng) -> String {
        if self.sentences.is_empty() {
            let len = rng.random_range(40..200);
            return (0..len)
                .map(|_| self.characters[rng.random_range(0..self.characters.len())])
                .collect();
        }
        (0..3)
            .map(|_| self.sentences[rng.random_range(0..self.sentences.len())].as_str())
            .collect::<Vec<_>>()
            .join("。")
    }
}

fn new_appeal(body: String, phone: String) -> NewAppeal {
    NewAppeal {
        channel: Channel::Hotline,
        kind: Kind::Complaint,
        priority: Priority::Normal,
        title: body.chars().take(12).collect(),
        body,
        appellant: Appellant::Person {
            name: "市民".to_owned(),
            phone: Some(phone),
            wechat_openid: None,
        },
        location: Location::default(),
        attachments: Vec::new(),
    }
}

/// `text` with about one character in forty changed.
fn retold(text: &str, words: &Words, rng: &mut StdRng) -> String {
    text.chars()
        .map(|c| {
            if rng.random_range(0..40) == 0 {
                words.characters[rng.random_range(0..words.characters.len())]
            } else {
                c
            }
        })
        .collect()
}

struct Window {
    rules: Arc<Rules>,
    words: Words,
    rng: StdRng,
    end: DateTime<Utc>,
    loaded: usize,
    /// Some of the window's appeals, for the probes to retell.
    kept: Vec<Appeal>,
}

impl Window {
    /// Imports appeals received at random in the 7 days before `end` until there are `n`.
    async fn fill(&mut self, store: &dyn Store, n: usize) -> anyhow::Result<()> {
        let agent = Actor {
            name: "话务员".to_owned(),
            role: Role::Agent,
            unit: None,
            appeal: None,
            user: None,
            in_charge_of: Vec::new(),
            mailbox_reader: false,
        };
        let week_ms = TimeDelta::days(7).num_milliseconds();
        while self.loaded < n {
            let upto = (self.loaded + IMPORT_BATCH).min(n);
            let mut batch: Vec<Decision> = Vec::with_capacity(upto - self.loaded);
            for i in self.loaded..upto {
                let at = self.end - TimeDelta::milliseconds(self.rng.random_range(1..week_ms));
                let body = self.words.text(&mut self.rng);
                let new = new_appeal(body, format!("137{i:08}"));
                let intake = Intake::new(new, &self.rules.context(at, &agent))?;
                let received = intake.receive(TicketNo::new(format!("B{i:09}")));
                if i % 997 == 0 && self.kept.len() < 1_000 {
                    self.kept.push(received.appeal().clone());
                }
                batch.push(received);
            }
            store.import(&batch).await?;
            self.loaded = upto;
        }
        Ok(())
    }

    /// `count` probes at the window's end: half retell a kept appeal (which it must find).
    fn probes(&mut self, count: usize) -> Vec<(Appeal, Option<AppealId>)> {
        (0..count)
            .map(|i| {
                let (body, original) = match self.kept.get(i / 2 % self.kept.len().max(1)) {
                    Some(kept) if i % 2 == 0 => (
                        retold(&kept.body, &self.words, &mut self.rng),
                        Some(kept.id),
                    ),
                    _ => (self.words.text(&mut self.rng), None),
                };
                let new = new_appeal(body, format!("136{i:08}"));
                let appeal =
                    Appeal::received(AppealId::new(), TicketNo::new("probe"), new, self.end);
                (appeal, original)
            })
            .collect()
    }
}

/// The `q` quantile of sorted durations.
fn quantile(sorted: &[Duration], q: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * q).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

async fn run(
    engine: &str,
    store: &dyn Store,
    sizes: &[usize],
    probes: usize,
) -> anyhow::Result<()> {
    let texts = Texts {
        taxonomy: SHIPPED_TAXONOMY,
        calendar: SHIPPED_CALENDAR,
        policies: SHIPPED_POLICIES,
    };
    let reference = Reference::build(Versions::default(), texts, Shanghai)?;
    let end = Shanghai
        .with_ymd_and_hms(2026, 11, 27, 12, 0, 0)
        .single()
        .ok_or_else(|| anyhow::anyhow!("a valid local time"))?
        .with_timezone(&Utc);
    let mut window = Window {
        rules: reference.rules.clone(),
        words: Words::load(),
        rng: StdRng::seed_from_u64(13),
        end,
        loaded: 0,
        kept: Vec::new(),
    };
    let policy = RoutingPolicy::default();
    println!(
        "duplicates bench ({engine}): texts from {}",
        if window.words.sentences.is_empty() {
            "random words"
        } else {
            "the TipDM letters' sentences"
        }
    );
    for &n in sizes {
        let started = Instant::now();
        window.fill(store, n).await?;
        let loading = started.elapsed();
        let mut times = Vec::with_capacity(probes);
        let (mut repeats, mut found_originals, mut linked, mut false_links, mut candidates) =
            (0, 0, 0, 0, 0);
        for (probe, original) in window.probes(probes) {
            let started = Instant::now();
            let found = store
                .duplicate_candidates(
                    &probe,
                    probe.created_at - policy.duplicate_window,
                    CANDIDATES,
                )
                .await?;
            let duplicate = find_duplicate(&probe, None, &found, &policy);
            times.push(started.elapsed());
            candidates += found.len();
            match original {
                Some(id) => {
                    repeats += 1;
                    found_originals += usize::from(found.iter().any(|a| a.id == id));
                    linked += usize::from(duplicate == Some(id));
                }
                None => false_links += usize::from(duplicate.is_some()),
            }
        }
        times.sort();
        println!(
            "  {n:>9} appeals in the window (loaded in {:.1} s): lookup per appeal median {:.2} ms, \
             p99 {:.2} ms; {:.1} candidates on average; repeats found {found_originals}/{repeats}, \
             linked {linked}/{repeats}; new ones linked {false_links}/{}",
            loading.as_secs_f64(),
            quantile(&times, 0.5).as_secs_f64() * 1e3,
            quantile(&times, 0.99).as_secs_f64() * 1e3,
            candidates as f64 / probes.max(1) as f64,
            probes - repeats,
        );
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let sizes: Vec<usize> = args
        .first()
        .map(|a| a.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000, 1_000_000]);
    let probes: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(200);

    let dir = tempfile::tempdir()?;
    let sqlite = SqliteStore::open(&dir.path().join("hotline.db")).await?;
    sqlite.migrate().await?;
    run("embedded SQLite", &sqlite, &sizes, probes).await?;
    drop(sqlite);
    drop(dir);

    let Ok(admin_url) = std::env::var("HOTLINE_TEST_PG_URL") else {
        println!("duplicates bench: HOTLINE_TEST_PG_URL is not set; PostgreSQL skipped");
        return Ok(());
    };
    scratch_pg::with_scratch_database(&admin_url, "hotline_bench_duplicates", |url| async move {
        let pg = PostgresStore::connect(&url).await?;
        pg.migrate().await?;
        run("PostgreSQL", &pg, &sizes, probes).await
    })
    .await
}
