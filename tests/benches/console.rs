//! Console page benchmark (issue 12): the server time of every page of the console with N
//! appeals (default 100,000) on the embedded store (SQLite). The appeals arrive evenly over the
//! last 45 days and each goes as far through its life as its age allows, by the domain's own
//! commands (and the time-limit steps the worker would have fired, up to now): one in five is
//! dispatched to DEMO-FGJ, the unit whose inbox is measured, the others to the taxonomy's
//! units with one of their matters; most are accepted and replied to, and most replies rated;
//! some wait for a dispatcher or were returned, some are unsigned or overdue (and escalated,
//! the last level owned by the unit's leader), some ask for an extension, a few are
//! confidential (书记信箱). One in ten hotline calls is the measured agent's; callers call
//! again (four appeals a number).
//!
//! Each page is asked 20 times after 3 warm-up requests, over loopback by a signed-in visitor
//! of the role that uses it; the report gives the first (cold) request, the median, p95 and
//! maximum in milliseconds, and marks a median over the 200 ms target. A page that does not
//! answer 200 is listed with its status.
//!
//! Run: `cargo bench -p hotline --bench console` (`-- 20000` for fewer appeals).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use chrono::{DateTime, TimeDelta, Utc};
use hotline::{Config, Platform};
use hotline_schemas::command::UnitLeaders;
use hotline_schemas::lifecycle::{Decision, Intake, Rules, decide, fire};
use hotline_schemas::value::ticket::ticket_day;
use hotline_schemas::{
    Actor, Appeal, Appellant, Channel, Command, Kind, Location, NewAppeal, NewUser, Priority,
    Rating, Role, User, UserId,
};
use hotline_store::{CommitMeta, Submission};
use reqwest::redirect::Policy;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

const PASSWORD: &str = "benchmark password 2026";
const WARM_UP: usize = 3;
const TIMED: usize = 20;
const TARGET_MS: f64 = 200.0;
/// The unit whose inbox is measured.
const UNIT: &str = "DEMO-FGJ";
/// The days the appeals arrive over (the dashboards' default range is the last 30).
const DAYS: i64 = 45;
/// Appeals a caller's number has (the desk's caller history).
const CALLS_A_NUMBER: usize = 4;

fn new_appeal(i: usize, n: usize) -> NewAppeal {
    let topics = [
        (
            "小区夜间施工噪音扰民",
            "晚上十点后仍在施工,影响休息,请处理。",
        ),
        (
            "厂房用地审批缓慢",
            "工业用地审批三个月无进展,影响企业投产。",
        ),
        ("道路井盖破损", "幸福路口井盖破损,夜间行人容易受伤。"),
        (
            "企业人才补贴申请咨询",
            "想了解高层次人才补贴的申请条件和材料。",
        ),
        (
            "拖欠工资三个月",
            "公司拖欠工资三个月,多次讨要无果,请劳动监察介入。",
        ),
        ("超市销售过期食品", "在小区门口超市买到过期牛奶,要求查处。"),
    ];
    let (title, body) = topics[i % topics.len()];
    let numbers = (n / CALLS_A_NUMBER).max(1);
    NewAppeal {
        channel: match i % 6 {
            0 | 2 => Channel::Web,
            4 => Channel::Wechat,
            _ => Channel::Hotline,
        },
        kind: match i % 8 {
            3 => Kind::Consultation,
            5 => Kind::Help,
            7 => Kind::Suggestion,
            _ => Kind::Complaint,
        },
        priority: if i % 50 == 7 {
            Priority::Urgent
        } else {
            Priority::Normal
        },
        title: format!("{title} {i}"),
        body: body.to_owned(),
        appellant: Appellant::Person {
            name: "李女士".to_owned(),
            phone: Some(format!("139{:08}", i % numbers)),
            wechat_openid: None,
        },
        location: Location {
            address: Some("宝安区新安街道".to_owned()),
            ..Location::default()
        },
        attachments: Vec::new(),
    }
}

/// A staff actor of `role` with no user behind it (another of the city's staff).
fn staff(name: &str, role: Role, unit: Option<&str>) -> Actor {
    Actor {
        name: name.to_owned(),
        role,
        unit: unit.map(Into::into),
        appeal: None,
        user: None,
        in_charge_of: Vec::new(),
        mailbox_reader: false,
    }
}

/// The users who sign in, by username.
struct People {
    users: BTreeMap<&'static str, User>,
}

impl People {
    fn get(&self, name: &str) -> &User {
        &self.users[name]
    }

    fn all(&self) -> Vec<User> {
        self.users.values().cloned().collect()
    }
}

/// A user of `role` who signs in as `username` (leaders and supervisors in charge of the
/// measured unit).
async fn user(
    platform: &Platform,
    username: &'static str,
    role: Role,
    unit: Option<&str>,
    mailbox_reader: bool,
) -> anyhow::Result<User> {
    let new = NewUser {
        name: format!("{username} 测试"),
        username: Some(username.to_owned()),
        role,
        unit: unit.map(Into::into),
        in_charge_of: if matches!(role, Role::Leader | Role::Supervisor) {
            vec![UNIT.into()]
        } else {
            Vec::new()
        },
        mailbox_reader,
    };
    let user = new.into_user(UserId::new(), Utc::now())?;
    platform.store.add_user(&user).await?;
    hotline::people::set_password(platform.store.as_ref(), user.id, PASSWORD).await?;
    Ok(user)
}

/// An appeal's life, command by command, each at its time: the steps of its time limits due
/// before each command are fired first, as the worker would have, and those due by `now` at
/// the end. All of it is one change, stored in one transaction.
struct Life<'a> {
    rules: &'a Rules,
    leaders: &'a dyn Fn(&Appeal) -> UnitLeaders,
    now: DateTime<Utc>,
    appeal: Appeal,
    decision: Option<Decision>,
    /// Set when a step was in the future (or refused): the life stops there.
    stopped: bool,
    /// Why the domain refused a step, if it did.
    refused: Option<String>,
}

impl Life<'_> {
    fn take(&mut self, decision: Decision) {
        self.appeal = decision.appeal().clone();
        self.decision = Some(match self.decision.take() {
            None => decision,
            Some(d) => d.then(decision),
        });
    }

    fn fire_until(&mut self, at: DateTime<Utc>) -> anyhow::Result<()> {
        let system = Actor::system();
        let leaders = (self.leaders)(&self.appeal);
        if let Some(d) = fire(&self.appeal, &self.rules.context(at, &system), &leaders)? {
            self.take(d);
        }
        Ok(())
    }

    /// `command` by `actor` at `at`; `false` (and the life stopped) when `at` is yet to come
    /// or the domain refuses it.
    fn then(&mut self, at: DateTime<Utc>, actor: &Actor, command: Command) -> anyhow::Result<bool> {
        if self.stopped || at > self.now {
            self.stopped = true;
            return Ok(false);
        }
        self.fire_until(at)?;
        match decide(&self.appeal, command, &self.rules.context(at, actor)) {
            Ok(d) => {
                self.take(d);
                Ok(true)
            }
            Err(e) => {
                self.refused = Some(e.to_string());
                self.stopped = true;
                Ok(false)
            }
        }
    }

    fn finish(mut self) -> anyhow::Result<(Option<Decision>, Option<String>)> {
        let now = self.now;
        self.fire_until(now)?;
        Ok((self.decision, self.refused))
    }
}

/// What the pages are measured on: ids and links of appeals of each kind.
#[derive(Default)]
struct Seeded {
    /// Dispatched to the measured unit, accepted, with a long history.
    unit_case: String,
    /// Waiting for a dispatcher.
    waiting: String,
    /// Logged by the measured agent.
    agent_case: String,
    /// Overdue and owned by the measured leader.
    owned: String,
    /// Confidential, with the discipline office.
    confidential: String,
    /// A replied appeal: its ticket number, the appellant's token and a rating link's.
    replied: Option<(String, String, String)>,
    /// A caller's number.
    number: String,
    /// Appeals per status, and how many are overdue, escalated, owned and confidential.
    mix: BTreeMap<String, usize>,
}

/// `h` hours.
fn hours(h: i64) -> TimeDelta {
    TimeDelta::hours(h)
}

async fn seed(platform: &Platform, people: &People, n: usize) -> anyhow::Result<Seeded> {
    let (rules, taxonomy) = (platform.rules(), platform.taxonomy());
    let (rules, taxonomy) = (rules.as_ref(), taxonomy.as_ref());
    let discipline = rules
        .discipline_unit
        .clone()
        .context("the taxonomy names a discipline office")?;
    // The units dispatched to besides the measured one, each with its matters.
    let units: Vec<(String, Vec<String>)> = taxonomy
        .units
        .iter()
        .filter(|u| u.code != discipline)
        .map(|u| {
            let matters = taxonomy
                .matters
                .iter()
                .filter(|m| m.unit == u.code && !m.confidential)
                .map(|m| m.code.to_string())
                .collect();
            (u.code.to_string(), matters)
        })
        .filter(|(_, matters): &(String, Vec<String>)| !matters.is_empty())
        .collect();
    anyhow::ensure!(!units.is_empty(), "the taxonomy has units with matters");
    let fgj_matters: Vec<String> = taxonomy
        .matters
        .iter()
        .filter(|m| m.unit == "FGJ")
        .map(|m| m.code.to_string())
        .collect();
    let all = people.all();
    let leaders = |appeal: &Appeal| {
        let title = appeal
            .unit
            .as_deref()
            .and_then(|u| taxonomy.unit(u))
            .and_then(|u| u.leader.clone());
        UnitLeaders::of(appeal, &all, title)
    };
    let public = Actor::public();
    let agent = people.get("agent").actor();
    let other_agent = staff("话务员", Role::Agent, None);
    let dispatcher = staff("派单员", Role::Dispatcher, None);
    let reader = people.get("mailbox").actor();
    let leader = people.get("leader").actor();
    let now = Utc::now();
    let span = TimeDelta::days(DAYS);
    let started = Instant::now();
    let mut refusals: BTreeMap<String, usize> = BTreeMap::new();
    let mut seeded = Seeded {
        number: format!("139{:08}", 0),
        ..Seeded::default()
    };
    for i in 0..n {
        // Evenly over the span, the last a minute ago; `r` varies each life's course.
        let created =
            now - span + (span - TimeDelta::minutes(1)) * i32::try_from(i)? / i32::try_from(n)?;
        let r = (i * 7919 + i / 7) % 1000;
        let new = new_appeal(i, n);
        let taker = match new.channel {
            Channel::Hotline if i % 10 == 1 => &agent,
            Channel::Hotline => &other_agent,
            _ => &public,
        };
        let intake = Intake::new(new, &rules.context(created, taker))?;
        let appeal = platform
            .store
            .submit(Submission {
                intake,
                day: ticket_day(created, rules.tz),
                idempotency: None,
                traceparent: None,
            })
            .await?
            .appeal;
        let id = appeal.id;
        let mut life = Life {
            rules,
            leaders: &leaders,
            now,
            appeal,
            decision: None,
            stopped: false,
            refused: None,
        };
        let (unit, matters) = if i % 5 == 0 {
            (UNIT.to_owned(), &fgj_matters)
        } else {
            let (u, m) = &units[(i / 5) % units.len()];
            (u.clone(), m)
        };
        let matter = matters.get(i % matters.len().max(1)).cloned();
        let dispatched = created + TimeDelta::minutes(5 + (r as i64 % 60));
        if r < 10 {
            // A confidential letter: with the mailbox readers, then the discipline office.
            let marked = life.then(
                created + TimeDelta::minutes(2),
                &reader,
                Command::MarkConfidential { subject_unit: None },
            )?;
            if marked && r >= 4 {
                let office = staff("纪委监委", Role::Unit, Some(discipline.as_str()));
                life.then(
                    dispatched,
                    &reader,
                    Command::Dispatch {
                        unit: discipline.clone(),
                        matter: None,
                    },
                )?;
                life.then(dispatched + hours(1), &office, Command::Accept)?;
                if r >= 7 {
                    life.then(
                        dispatched + hours(30),
                        &office,
                        Command::Reply {
                            result: "已立案调查,结果另行告知。".to_owned(),
                        },
                    )?;
                }
                if seeded.confidential.is_empty() {
                    seeded.confidential = id.to_string();
                }
            }
        } else if r < 40 {
            // Still waiting for a dispatcher.
            seeded.waiting = id.to_string();
        } else {
            let unit_actor = staff("承办人", Role::Unit, Some(&unit));
            life.then(
                dispatched,
                &dispatcher,
                Command::Dispatch {
                    unit: unit.as_str().into(),
                    matter: matter.map(Into::into),
                },
            )?;
            if r < 50 {
                // Returned: back in the queue.
                life.then(
                    dispatched + hours(1),
                    &unit_actor,
                    Command::Return {
                        reason: "不属于本单位职责范围。".to_owned(),
                    },
                )?;
            } else if r >= 60 {
                // Signed for (late, for some), then replied to unless overdue.
                let signed = dispatched + TimeDelta::minutes(if r < 70 { 180 } else { 20 });
                life.then(signed, &unit_actor, Command::Accept)?;
                if r < 80 {
                    // An urgent appeal's limit is in hours, and so is its extension.
                    let urgent = life.appeal.priority == Priority::Urgent;
                    life.then(
                        signed + hours(2),
                        &unit_actor,
                        Command::RequestExtension {
                            days: (!urgent).then_some(3),
                            hours: urgent.then_some(6),
                            reason: "需现场核实并协调多个部门。".to_owned(),
                        },
                    )?;
                } else if r < 130 {
                    // Overdue: some owned by the leader (包案).
                    let at = signed + hours(24 * 6);
                    if unit == UNIT && r < 100 {
                        // Unless the last level of the ladder gave it to them already.
                        life.fire_until(at.min(now))?;
                        if !life.appeal.is_owned_by(leader.user) {
                            life.then(at, &leader, Command::Own)?;
                        }
                    }
                } else {
                    let replied = signed + hours(4 + (r as i64 * 37) % 116);
                    let done = life.then(
                        replied,
                        &unit_actor,
                        Command::Reply {
                            result: "已核实并处理,现场已整改到位。".to_owned(),
                        },
                    )?;
                    if done && r % 4 != 3 {
                        let rating = match r % 10 {
                            0..=4 => Rating::VerySatisfied,
                            5 | 6 => Rating::Satisfied,
                            7 => Rating::BasicallySatisfied,
                            8 if r % 3 == 0 => Rating::Dissatisfied,
                            _ => Rating::Satisfied,
                        };
                        let me = public.following(id);
                        life.then(
                            replied + hours(20),
                            &me,
                            Command::Rate {
                                rating,
                                comment: None,
                            },
                        )?;
                    } else if done
                        && seeded.replied.is_none()
                        && created > now - TimeDelta::days(10)
                    {
                        let ticket = life.appeal.ticket_no.to_string();
                        let token = platform.signer.issue_appellant(id, now)?;
                        let rating =
                            platform
                                .signer
                                .issue_rating(id, now, now + TimeDelta::days(7))?;
                        seeded.replied = Some((ticket, token, rating));
                    }
                    if unit == UNIT && done && seeded.unit_case.is_empty() && i > n / 2 {
                        seeded.unit_case = id.to_string();
                    }
                }
            }
            // r in 50..60: dispatched and never signed for.
        }
        if taker.user.is_some() && seeded.agent_case.is_empty() {
            seeded.agent_case = id.to_string();
        }
        let (decision, refused) = life.finish()?;
        if let Some(why) = refused {
            *refusals.entry(why).or_default() += 1;
        }
        let appeal = match &decision {
            Some(d) => {
                platform.store.commit(d, &CommitMeta::default()).await?;
                d.appeal().clone()
            }
            None => platform.store.appeal(id).await?.context("stored")?,
        };
        if seeded.owned.is_empty() && appeal.is_owned_by(leader.user) {
            seeded.owned = id.to_string();
        }
        *seeded
            .mix
            .entry(appeal.status.as_str().to_owned())
            .or_default() += 1;
        for (what, yes) in [
            ("overdue", appeal.is_overdue(now)),
            ("escalated", appeal.is_escalated()),
            ("owned", !appeal.owners.is_empty()),
            ("confidential", appeal.confidential),
            ("extension pending", appeal.pending_extension.is_some()),
            (
                "waiting for a dispatcher",
                appeal.status.awaits_dispatch() && !appeal.confidential,
            ),
            (
                "with the measured unit",
                appeal.unit.as_deref() == Some(UNIT) && appeal.status.is_open(),
            ),
        ] {
            if yes {
                *seeded.mix.entry(what.to_owned()).or_default() += 1;
            }
        }
        if (i + 1).is_multiple_of(10_000) {
            eprintln!(
                "  {} appeals stored ({:.0}/s)",
                i + 1,
                (i + 1) as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    for (why, count) in refusals {
        eprintln!("  {count} lives stopped early, the domain refusing a step: {why}");
    }
    Ok(seeded)
}

/// The session cookie of `username`, signed in through the sign-in form.
async fn session(base: &str, username: &str) -> anyhow::Result<String> {
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()?;
    let page = client.get(format!("{base}/sign-in")).send().await?;
    let form_cookie = page
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .context("the sign-in page sets its form cookie")?
        .to_owned();
    let html = page.text().await?;
    let csrf = html
        .split("name=\"_csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .context("a CSRF token")?
        .to_owned();
    let signed = client
        .post(format!("{base}/sign-in"))
        .header("cookie", form_cookie)
        .form(&[
            ("_csrf", csrf.as_str()),
            ("username", username),
            ("password", PASSWORD),
        ])
        .send()
        .await?;
    signed
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("hotline_session="))
        .and_then(|v| v.split(';').next())
        .map(str::to_owned)
        .context("signed in")
}

/// Copies the data directory `from` (its database checkpointed first, so that the file holds
/// everything) to `to`.
async fn copy_data(from: &std::path::Path, to: &std::path::Path) -> anyhow::Result<()> {
    use sqlx::Connection as _;
    let db = from.join("hotline.db");
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite://{}", db.display())).await?;
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&mut conn)
        .await?;
    conn.close().await?;
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        let shm_or_wal =
            name.to_string_lossy().ends_with("-shm") || name.to_string_lossy().ends_with("-wal");
        if entry.file_type()?.is_file() && !shm_or_wal {
            std::fs::copy(entry.path(), to.join(&name))?;
        }
    }
    Ok(())
}

/// Milliseconds at the `q` quantile of sorted `samples`.
fn quantile(samples: &[f64], q: f64) -> f64 {
    let index = ((samples.len() as f64 - 1.0) * q).round() as usize;
    samples[index.min(samples.len() - 1)]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(100_000);
    hotline::install_tls_provider();
    // Seeded where writes need not reach the disk (tmpfs, when there is one), then copied:
    // the pages are measured on a database file on the ordinary disk (or in
    // HOTLINE_BENCH_DATA, kept for a look at the query plans).
    let seed_dir = tempfile::tempdir_in("/dev/shm").or_else(|_| tempfile::tempdir())?;
    let seed_config = Config {
        data_dir: seed_dir.path().join("data"),
        ..Config::default()
    }
    .without_intake_limits();
    let seeding = Platform::open(&seed_config, hotline_gateway::system_clock()).await?;
    let seeding_rules = seeding.rules();
    let roles: [(&'static str, Role, Option<&str>, bool); 8] = [
        ("unit", Role::Unit, Some(UNIT), false),
        (
            "discipline",
            Role::Unit,
            seeding_rules.discipline_unit.as_deref(),
            false,
        ),
        ("agent", Role::Agent, None, false),
        ("dispatcher", Role::Dispatcher, None, false),
        ("mailbox", Role::Dispatcher, None, true),
        ("supervisor", Role::Supervisor, None, false),
        ("leader", Role::Leader, None, false),
        ("admin", Role::Admin, None, false),
    ];
    let mut users = BTreeMap::new();
    for (name, role, unit, reader) in roles {
        users.insert(name, user(&seeding, name, role, unit, reader).await?);
    }
    let people = People { users };
    eprintln!("seeding {n} appeals on SQLite …");
    let seeded_at = Instant::now();
    let s = seed(&seeding, &people, n).await?;
    eprintln!("seeded in {:.1} s", seeded_at.elapsed().as_secs_f64());
    let kept = std::env::var_os("HOTLINE_BENCH_DATA").map(std::path::PathBuf::from);
    let dir = tempfile::tempdir()?;
    let data_dir = kept.clone().unwrap_or_else(|| dir.path().join("data"));
    copy_data(&seed_config.data_dir, &data_dir).await?;
    drop(seeding);
    drop(seed_dir);
    let config = Config {
        data_dir,
        ..Config::default()
    }
    .without_intake_limits();
    let platform = Platform::open(&config, hotline_gateway::system_clock()).await?;
    let stop = CancellationToken::new();
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let server = tokio::spawn(hotline_gateway::serve(
        listener,
        platform.http_app(stop.clone()),
        stop.clone().cancelled_owned(),
    ));
    let (ticket, token, rating) = s.replied.clone().context("a replied appeal to follow")?;
    let follow = format!("/follow?ticket={ticket}&token={token}");
    let rate = format!("/rate?ticket={ticket}&token={rating}");
    let last_queue_page = s
        .mix
        .get("waiting for a dispatcher")
        .copied()
        .unwrap_or(0)
        .div_ceil(50)
        .max(1);
    let pages: Vec<(&str, String)> = vec![
        ("public", "/".to_owned()),
        ("public", "/submit".to_owned()),
        ("public", "/sign-in".to_owned()),
        ("public", "/follow".to_owned()),
        ("public", follow),
        ("public", rate),
        ("agent", "/console".to_owned()),
        ("agent", "/console/desk".to_owned()),
        ("agent", format!("/console/desk?number={}", s.number)),
        ("agent", format!("/console/desk/appeals/{}", s.agent_case)),
        ("dispatcher", "/console/queue".to_owned()),
        (
            "dispatcher",
            format!("/console/queue?page={last_queue_page}"),
        ),
        (
            "dispatcher",
            format!("/console/queue/appeals/{}", s.waiting),
        ),
        ("dispatcher", "/console/dashboard".to_owned()),
        ("mailbox", "/console/queue/mailbox".to_owned()),
        ("mailbox", "/console/oversight/mailbox".to_owned()),
        (
            "mailbox",
            format!("/console/queue/appeals/{}", s.confidential),
        ),
        ("unit", "/console/inbox".to_owned()),
        ("unit", format!("/console/appeals/{}", s.unit_case)),
        ("unit", "/console/dashboard".to_owned()),
        ("discipline", "/console/inbox".to_owned()),
        ("discipline", "/console/oversight/mailbox".to_owned()),
        ("supervisor", "/console/oversight".to_owned()),
        (
            "supervisor",
            format!("/console/oversight/appeals/{}", s.unit_case),
        ),
        (
            "supervisor",
            "/console/oversight/export?format=csv".to_owned(),
        ),
        (
            "supervisor",
            "/console/oversight/export?format=xlsx".to_owned(),
        ),
        ("supervisor", "/console/queue".to_owned()),
        ("supervisor", "/console/dashboard".to_owned()),
        (
            "supervisor",
            "/console/dashboard/export?table=units&format=csv".to_owned(),
        ),
        (
            "supervisor",
            "/console/dashboard/export?table=days&format=xlsx".to_owned(),
        ),
        ("leader", "/console/oversight".to_owned()),
        ("leader", format!("/console/oversight/appeals/{}", s.owned)),
        ("leader", "/console/dashboard".to_owned()),
        (
            "leader",
            "/console/dashboard/export?table=ranking&format=xlsx".to_owned(),
        ),
        ("admin", "/console/desk".to_owned()),
        ("admin", "/console/queue/mailbox".to_owned()),
        ("admin", "/console/oversight".to_owned()),
        ("admin", "/console/oversight/mailbox".to_owned()),
        ("admin", "/console/dashboard".to_owned()),
        (
            "admin",
            "/console/dashboard/export?table=summary&format=csv".to_owned(),
        ),
        ("admin", "/console/admin".to_owned()),
    ];
    let client = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()?;
    let mix: Vec<String> = s.mix.iter().map(|(k, v)| format!("{k} {v}")).collect();
    println!(
        "{n} appeals on SQLite over {DAYS} days ({}); {TIMED} requests a page after {WARM_UP} to warm up",
        mix.join(", ")
    );
    println!(
        "{:<11} {:<52} {:>8} {:>8} {:>8} {:>8}",
        "who", "page", "first", "median", "p95", "max"
    );
    let mut medians = Vec::new();
    for (who, path) in pages {
        let cookie = if who == "public" {
            String::new()
        } else {
            session(&base, who).await?
        };
        let mut samples = Vec::with_capacity(TIMED);
        let mut first = 0.0;
        let mut status = reqwest::StatusCode::OK;
        for round in 0..WARM_UP + TIMED {
            let started = Instant::now();
            let response = client
                .get(format!("{base}{path}"))
                .header("cookie", &cookie)
                .send()
                .await?;
            status = response.status();
            response.bytes().await?;
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            if round == 0 {
                first = ms;
            }
            if round >= WARM_UP {
                samples.push(ms);
            }
        }
        // Long addresses (tokens, ids) shortened for the table.
        let shown: String = if path.chars().count() > 52 {
            format!("{}…", path.chars().take(51).collect::<String>())
        } else {
            path.clone()
        };
        if status != reqwest::StatusCode::OK {
            println!("{who:<11} {shown:<52} {status} (not measured)");
            continue;
        }
        samples.sort_by(f64::total_cmp);
        let median = quantile(&samples, 0.5);
        medians.push(median);
        let flag = if median > TARGET_MS {
            "  over 200 ms"
        } else {
            ""
        };
        println!(
            "{who:<11} {shown:<52} {first:>8.1} {median:>8.1} {:>8.1} {:>8.1}{flag}",
            quantile(&samples, 0.95),
            samples[samples.len() - 1]
        );
    }
    medians.sort_by(f64::total_cmp);
    if let Some(slowest) = medians.last() {
        println!(
            "{} pages; slowest median {slowest:.1} ms; median of the medians {:.1} ms",
            medians.len(),
            quantile(&medians, 0.5)
        );
    }
    stop.cancel();
    tokio::time::timeout(Duration::from_secs(10), server).await???;
    Ok(())
}
