//! The dashboards (统计看板): a chosen period's volume by day, service category, channel and
//! unit; the response (签收及时率), on-time (按期办结率) and satisfaction (满意率) rates of each
//! unit with a ranking; the overdue trend; the hot topics of the week (热点诉求). Every figure is
//! the caller's as `GET /api/v1/stats` counts it (`service::stat_scope`), summed in SQL from the
//! facts the store keeps beside each appeal; every table is a chart's summary and downloads as
//! CSV (UTF-8 with a BOM, for Excel) and XLSX.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, LazyLock, Mutex, Weak};
use std::time::{Duration as StdDuration, Instant};

use askama::Template;
use axum::Router;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, Duration, NaiveDate, Utc};
use hotline_gateway::AppState;
use hotline_gateway::access::Stats;
use hotline_gateway::service;
use hotline_schemas::stats::Figures;
use hotline_schemas::{Actor, Channel, ErrorCode};
use hotline_store::{FactKind, StatGroup, StatRow, StatScope};
use serde::Deserialize;
use strum::IntoEnumIterator;

use crate::Console;
use crate::error::Failure;
use crate::i18n::Tr;
use crate::pages::{Chrome, page};
use crate::session::SignedIn;

/// The routes of the dashboards.
pub fn routes() -> Router<Arc<Console>> {
    Router::new()
        .route("/console/dashboard", get(dashboard))
        .route("/console/dashboard/export", get(export))
}

/// Days the dashboard covers unless told (today and the 29 before).
const DEFAULT_DAYS: i64 = 30;
/// The longest period one page sums.
const MAX_DAYS: i64 = 366;
/// Words of the hot-topics table.
const TOPICS: usize = 10;
/// Characters of each body the hot topics read (titles are read whole).
const TOPIC_BODY_CHARS: i64 = 120;
/// Appeals the hot topics read at most per fortnight.
const TOPIC_APPEALS: i64 = 200_000;
/// How long computed hot topics are kept (segmenting a fortnight's appeals takes a moment).
const TOPICS_KEPT: StdDuration = StdDuration::from_secs(300);

// ---- Tables, and their downloads ------------------------------------------------------------

/// A value in a table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Int(i64),
    /// A share, 0–1 (none: nothing to divide by).
    Rate(Option<f64>),
    /// A number shown with one decimal.
    Num(Option<f64>),
}

impl Cell {
    /// As the page shows it.
    pub fn shown(&self) -> String {
        match self {
            Cell::Text(text) => text.clone(),
            Cell::Int(n) => n.to_string(),
            Cell::Rate(Some(r)) => format!("{:.1}%", r * 100.0),
            Cell::Num(Some(n)) => format!("{n:.1}"),
            Cell::Rate(None) | Cell::Num(None) => "—".to_owned(),
        }
    }

    /// Whether it is a number (right-aligned).
    pub fn numeric(&self) -> bool {
        !matches!(self, Cell::Text(_))
    }

    /// As a CSV file holds it: text that a spreadsheet would take for a formula is quoted.
    fn csv(&self) -> String {
        match self {
            Cell::Text(text) if text.starts_with(['=', '+', '-', '@', '\t', '\r']) => {
                format!("'{text}")
            }
            Cell::Rate(Some(r)) => format!("{:.4}", r),
            Cell::Rate(None) | Cell::Num(None) => String::new(),
            other => other.shown(),
        }
    }
}

/// A table of a page: what it shows and what its downloads hold.
#[derive(Debug, Clone)]
pub struct Table {
    /// Its name in links, element ids and file names.
    pub id: &'static str,
    pub title: String,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// A download's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    pub fn parse(value: Option<&str>) -> Result<Format, Failure> {
        match value {
            Some("csv") | None => Ok(Format::Csv),
            Some("xlsx") => Ok(Format::Xlsx),
            Some(_) => Err(invalid("format")),
        }
    }
}

/// `invalid_query` naming `field`.
pub fn invalid(field: &str) -> Failure {
    Failure::Api(
        hotline_schemas::DomainError::new(ErrorCode::InvalidQuery)
            .with_field(field)
            .into(),
    )
}

/// The table as CSV: UTF-8 with a byte-order mark, so that Excel reads Chinese right.
pub fn csv(table: &Table) -> Result<Vec<u8>, Failure> {
    let mut out = "\u{feff}".as_bytes().to_vec();
    {
        let mut writer = csv::Writer::from_writer(&mut out);
        writer.write_record(&table.headers).map_err(failed)?;
        for row in &table.rows {
            writer
                .write_record(row.iter().map(Cell::csv))
                .map_err(failed)?;
        }
        writer.flush().map_err(failed)?;
    }
    Ok(out)
}

/// The table as an Excel workbook of one sheet: numbers as numbers, shares as percentages.
pub fn xlsx(table: &Table) -> Result<Vec<u8>, Failure> {
    use rust_xlsxwriter::{Format as Style, Workbook};
    let mut book = Workbook::new();
    let bold = Style::new().set_bold();
    let share = Style::new().set_num_format("0.0%");
    let decimal = Style::new().set_num_format("0.0");
    let sheet = book.add_worksheet();
    sheet.set_name(table.id).map_err(failed)?;
    for (c, title) in table.headers.iter().enumerate() {
        let c = u16::try_from(c).map_err(failed)?;
        sheet
            .write_string_with_format(0, c, title, &bold)
            .map_err(failed)?;
        sheet.set_column_width(c, 16).map_err(failed)?;
    }
    for (r, row) in table.rows.iter().enumerate() {
        let r = u32::try_from(r + 1).map_err(failed)?;
        for (c, cell) in row.iter().enumerate() {
            let c = u16::try_from(c).map_err(failed)?;
            match cell {
                Cell::Text(text) => sheet.write_string(r, c, text).map(|_| ()),
                Cell::Int(n) => sheet.write_number(r, c, *n as f64).map(|_| ()),
                Cell::Rate(Some(x)) => sheet.write_number_with_format(r, c, *x, &share).map(|_| ()),
                Cell::Num(Some(x)) => sheet
                    .write_number_with_format(r, c, *x, &decimal)
                    .map(|_| ()),
                Cell::Rate(None) | Cell::Num(None) => Ok(()),
            }
            .map_err(failed)?;
        }
    }
    book.save_to_buffer().map_err(failed)
}

/// A download of `table` as `name` (without extension).
pub fn download(table: &Table, format: Format, name: &str) -> Result<Response, Failure> {
    let (body, kind, ext) = match format {
        Format::Csv => (csv(table)?, "text/csv; charset=utf-8", "csv"),
        Format::Xlsx => (
            xlsx(table)?,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
    };
    let disposition = format!("attachment; filename=\"{name}.{ext}\"");
    Ok((
        [
            (header::CONTENT_TYPE, kind.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        body,
    )
        .into_response())
}

fn failed(e: impl std::fmt::Display) -> Failure {
    Failure::Api(service::internal(&e))
}

// ---- The period -----------------------------------------------------------------------------

/// What the dashboard's address may say.
#[derive(Debug, Default, Deserialize)]
pub struct Asked {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
    #[serde(default)]
    table: Option<String>,
    #[serde(default)]
    format: Option<String>,
}

/// The days a dashboard covers, both included, and what was wrong with the asked ones.
struct Period {
    from_day: NaiveDate,
    to_day: NaiveDate,
    problem: Option<&'static str>,
}

impl Period {
    /// The asked days, else the last 30 (today included) in the city's time zone.
    fn of(asked: &Asked, today: NaiveDate) -> Period {
        let default = Period {
            from_day: today - Duration::days(DEFAULT_DAYS - 1),
            to_day: today,
            problem: None,
        };
        let day = |v: &Option<String>| {
            v.as_deref()
                .filter(|s| !s.is_empty())
                .map(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d"))
        };
        match (day(&asked.from), day(&asked.to)) {
            (None, None) => default,
            (Some(Ok(from_day)), Some(Ok(to_day))) if from_day <= to_day => {
                if (to_day - from_day).num_days() >= MAX_DAYS {
                    Period {
                        from_day: to_day - Duration::days(MAX_DAYS - 1),
                        to_day,
                        problem: Some("dash-range-too-long"),
                    }
                } else {
                    Period {
                        from_day,
                        to_day,
                        problem: None,
                    }
                }
            }
            _ => Period {
                problem: Some("dash-range-invalid"),
                ..default
            },
        }
    }

    /// The last day of the week the hot topics are of: the period's last, or today when that
    /// is earlier.
    fn topics_day(&self, now: DateTime<Utc>, tz: chrono_tz::Tz) -> NaiveDate {
        self.to_day.min(now.with_timezone(&tz).date_naive())
    }

    fn query(&self) -> String {
        format!("from={}&to={}", self.from_day, self.to_day)
    }
}

// ---- The figures ------------------------------------------------------------------------------

/// The city's (or the caller's) figures and each unit's, from rows summed by unit (and maybe
/// hour) and the overdue count per unit: the same as `hotline_schemas::stats::compute`.
pub fn figures_of(
    rows: &[StatRow],
    overdue: &[(Option<hotline_schemas::UnitCode>, i64)],
) -> (Figures, BTreeMap<String, Figures>) {
    let mut city = Figures::default();
    let mut units: BTreeMap<String, Figures> = BTreeMap::new();
    for row in rows {
        city.add(row.kind, row.tally);
        if let Some(unit) = &row.unit
            && row.kind != FactKind::Breached
        {
            units
                .entry(unit.clone())
                .or_default()
                .add(row.kind, row.tally);
        }
    }
    for (unit, n) in overdue {
        let n = u64::try_from(*n).unwrap_or(0);
        city.overdue += n;
        if let Some(unit) = unit {
            units.entry(unit.to_string()).or_default().overdue += n;
        }
    }
    city.finish();
    units.values_mut().for_each(Figures::finish);
    (city, units)
}

/// A day's counts.
#[derive(Debug, Clone, Copy, Default)]
struct Day {
    received: u64,
    dispatched: u64,
    replied: u64,
    replied_late: u64,
    breached: u64,
}

/// What a dashboard shows.
struct Numbers {
    city: Figures,
    /// Each unit's figures, the units the caller's statistics name (a leader's: theirs).
    units: BTreeMap<String, Figures>,
    days: BTreeMap<NaiveDate, Day>,
    /// Appeals received per category code (none: not classified yet).
    categories: BTreeMap<Option<String>, u64>,
    channels: BTreeMap<String, u64>,
    topics: Arc<Vec<Topic>>,
}

async fn numbers(
    console: &Console,
    actor: &Actor,
    period: &Period,
) -> Result<(Numbers, DateTime<Utc>, DateTime<Utc>), Failure> {
    let app = &console.app;
    let (from, to) = service::period(app, period.from_day, period.to_day)?;
    let scope = service::stat_scope(app, actor);
    let limit = service::response_limit(app);
    let store = &app.store;
    let now = app.now();
    let tz = app.tz();
    // The week of the hot topics ends with the period's last day, or today when that is earlier.
    let topics_day = period.topics_day(now, tz);
    let (_, week_end) = service::period(app, topics_day, topics_day)?;
    // Per unit for the figures, per hour (of every unit) for the days: two small results
    // where one by unit and hour would return a row for most units in most hours.
    let (by_unit, by_hour, by_matter_channel, overdue, topics) = tokio::try_join!(
        async {
            Ok::<_, Failure>(
                store
                    .stat_rows(from, to, &scope, StatGroup::Unit, limit)
                    .await?,
            )
        },
        async {
            Ok(store
                .stat_rows(from, to, &scope, StatGroup::Hour, limit)
                .await?)
        },
        async {
            Ok(store
                .stat_rows(from, to, &scope, StatGroup::MatterChannel, limit)
                .await?)
        },
        async { Ok(store.overdue_by_unit(now, &scope).await?) },
        hot_topics(app, &scope, week_end),
    )?;
    let (city, mut units) = figures_of(&by_unit, &overdue);
    if service::leads_units(actor) {
        units.retain(|code, _| actor.in_charge_of.iter().any(|u| u.as_str() == code));
    }
    let mut days: BTreeMap<NaiveDate, Day> = period
        .from_day
        .iter_days()
        .take_while(|d| *d <= period.to_day)
        .map(|d| (d, Day::default()))
        .collect();
    for row in &by_hour {
        let Some(at) = DateTime::from_timestamp(row.hour.saturating_mul(3600), 0) else {
            continue;
        };
        let Some(day) = days.get_mut(&at.with_timezone(&tz).date_naive()) else {
            continue;
        };
        let t = row.tally;
        match row.kind {
            FactKind::Received => day.received += t.count,
            FactKind::Dispatched => day.dispatched += t.count,
            FactKind::Replied => {
                day.replied += t.count;
                day.replied_late += t.count - t.flagged.min(t.count);
            }
            FactKind::Breached => day.breached += t.count,
            FactKind::Rated => {}
        }
    }

    let mut categories: BTreeMap<Option<String>, u64> = BTreeMap::new();
    let mut channels: BTreeMap<String, u64> = BTreeMap::new();
    let taxonomy = app.taxonomy();
    for row in by_matter_channel
        .iter()
        .filter(|r| r.kind == FactKind::Received)
    {
        let category = row
            .matter
            .as_deref()
            .and_then(|m| taxonomy.matter(m))
            .map(|m| m.category.clone());
        *categories.entry(category).or_default() += row.tally.count;
        *channels
            .entry(row.channel.clone().unwrap_or_default())
            .or_default() += row.tally.count;
    }
    Ok((
        Numbers {
            city,
            units,
            days,
            categories,
            channels,
            topics,
        },
        from,
        to,
    ))
}

// ---- Hot topics -------------------------------------------------------------------------------

/// A word of the hot topics: in how many appeals of the week, and of the week before.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    pub word: String,
    pub this_week: u64,
    pub last_week: u64,
}

impl Topic {
    pub fn rise(&self) -> i64 {
        i64::try_from(self.this_week).unwrap_or(i64::MAX)
            - i64::try_from(self.last_week).unwrap_or(i64::MAX)
    }
}

static JIEBA: LazyLock<jieba_rs::Jieba> = LazyLock::new(jieba_rs::Jieba::new);

/// Words too common in appeals to say what they are about.
const STOP_WORDS: &[&str] = &[
    "我们",
    "你们",
    "他们",
    "她们",
    "自己",
    "这个",
    "那个",
    "这些",
    "那些",
    "这里",
    "那里",
    "什么",
    "怎么",
    "为什么",
    "如何",
    "可以",
    "没有",
    "不是",
    "就是",
    "还是",
    "已经",
    "一直",
    "一下",
    "一个",
    "现在",
    "目前",
    "今天",
    "昨天",
    "时候",
    "以来",
    "以上",
    "以下",
    "之前",
    "之后",
    "但是",
    "而且",
    "因为",
    "所以",
    "如果",
    "虽然",
    "并且",
    "或者",
    "以及",
    "还有",
    "进行",
    "有关",
    "相关",
    "部门",
    "问题",
    "情况",
    "反映",
    "希望",
    "要求",
    "请求",
    "协调",
    "处理",
    "解决",
    "帮助",
    "尽快",
    "及时",
    "市民",
    "群众",
    "企业",
    "本人",
    "我司",
    "公司",
    "你好",
    "您好",
    "谢谢",
    "感谢",
    "诉求",
    "投诉",
    "咨询",
    "建议",
    "举报",
    "表扬",
    "请问",
    "是否",
    "能否",
    "需要",
    "我们的",
    "无人",
    "多次",
    "非常",
    "比较",
    "严重",
    "影响",
    "发现",
    "出现",
];

/// Numerals and measure words: "三个", "两天" say how many, not what about.
const COUNTING: &str = "零一二三四五六七八九十百千万两几多半个天月年次家号栋层周";

/// The words of `text` the hot topics count: two characters or more, with a letter and no
/// digit (numbers, masked data and punctuation are not topics), not a stop word.
fn words_of(text: &str) -> HashSet<String> {
    JIEBA
        .cut(text, false)
        .into_iter()
        .map(|w| w.word.trim().to_lowercase())
        .filter(|w| {
            w.chars().count() >= 2
                && w.chars().any(char::is_alphabetic)
                && !w.chars().any(|c| c.is_numeric() || c == '*')
                && !STOP_WORDS.contains(&w.as_str())
                && !w.chars().all(|c| COUNTING.contains(c))
        })
        .collect()
}

/// The words that rose most in the 7 days before `to` over the 7 days before them.
pub fn rank_topics(
    texts: &[hotline_store::AppealText],
    week_start: DateTime<Utc>,
    limit: usize,
) -> Vec<Topic> {
    let mut counts: HashMap<String, (u64, u64)> = HashMap::new();
    for text in texts {
        let mut words = format!("{}\n{}", text.title, text.body);
        if let Some(name) = text.person.as_deref().filter(|n| n.chars().count() >= 2) {
            words = words.replace(name, " ");
        }
        let this_week = text.created_at >= week_start;
        for word in words_of(&words) {
            let entry = counts.entry(word).or_default();
            if this_week {
                entry.0 += 1;
            } else {
                entry.1 += 1;
            }
        }
    }
    let mut topics: Vec<Topic> = counts
        .into_iter()
        .map(|(word, (this_week, last_week))| Topic {
            word,
            this_week,
            last_week,
        })
        .filter(|t| t.rise() > 0)
        .collect();
    topics.sort_by(|a, b| {
        b.rise()
            .cmp(&a.rise())
            .then(b.this_week.cmp(&a.this_week))
            .then(a.word.cmp(&b.word))
    });
    topics.truncate(limit);
    topics
}

/// Hot topics computed lately, per platform (held weakly: a stopped one's go with it), scope
/// and week.
type TopicCache = Vec<(Weak<AppState>, String, Instant, Arc<Vec<Topic>>)>;
static TOPIC_CACHE: LazyLock<Mutex<TopicCache>> = LazyLock::new(|| Mutex::new(Vec::new()));

/// The hot topics of the week ending at `to`, within `scope` (kept for a few minutes).
async fn hot_topics(
    app: &Arc<AppState>,
    scope: &StatScope,
    to: DateTime<Utc>,
) -> Result<Arc<Vec<Topic>>, Failure> {
    let key = format!("{scope:?}|{}", to.timestamp());
    let mine = Arc::downgrade(app);
    let found = TOPIC_CACHE.lock().ok().and_then(|mut cache| {
        cache.retain(|(_, _, at, _)| at.elapsed() < TOPICS_KEPT);
        cache
            .iter()
            .find(|(platform, k, _, _)| Weak::ptr_eq(platform, &mine) && *k == key)
            .map(|(_, _, _, topics)| topics.clone())
    });
    if let Some(topics) = found {
        return Ok(topics);
    }
    let week_start = to - Duration::days(7);
    let texts = app
        .store
        .appeal_texts(
            to - Duration::days(14),
            to,
            scope,
            TOPIC_BODY_CHARS,
            TOPIC_APPEALS,
        )
        .await?;
    let topics = tokio::task::spawn_blocking(move || rank_topics(&texts, week_start, TOPICS))
        .await
        .map_err(failed)?;
    let topics = Arc::new(topics);
    if let Ok(mut cache) = TOPIC_CACHE.lock() {
        cache.push((mine, key, Instant::now(), topics.clone()));
    }
    Ok(topics)
}

// ---- The page ---------------------------------------------------------------------------------

/// A key figure at the top of the page.
pub struct Card {
    pub id: &'static str,
    pub label: String,
    pub value: String,
}

/// A chart and the table that summarises it.
pub struct Panel {
    pub table: Table,
    /// The chart's data for `dashboard.js` (JSON, escaped by the template as an attribute).
    pub chart: Option<String>,
    pub note: Option<String>,
    /// Its downloads' links.
    pub csv: String,
    pub xlsx: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    chrome: Chrome,
    from: String,
    to: String,
    problem: Option<String>,
    whose: String,
    cards: Vec<Card>,
    panels: Vec<Panel>,
}

/// A unit's name in the visitor's language: the taxonomy's, else the store's (the demo
/// units), else its code.
pub fn unit_label(
    console: &Console,
    tr: &Tr,
    stored: &[hotline_schemas::value::unit::Unit],
    code: &str,
) -> String {
    if let Some(u) = console.app.taxonomy().unit(code) {
        return if tr.lang().starts_with("en") {
            u.name_en.clone()
        } else {
            u.name.clone()
        };
    }
    stored
        .iter()
        .find(|u| u.code.as_str() == code)
        .map_or_else(|| code.to_owned(), |u| u.name.clone())
}

fn rate_of(r: Option<f64>) -> Cell {
    Cell::Rate(r)
}

fn int(n: u64) -> Cell {
    Cell::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

/// A unit's composite score (综合得分): the mean of its response, on-time and satisfaction
/// rates that have anything to count, out of 100.
fn score(f: &Figures) -> Option<f64> {
    let rates: Vec<f64> = [f.response_rate, f.on_time_rate, f.satisfaction_rate]
        .into_iter()
        .flatten()
        .collect();
    (!rates.is_empty()).then(|| rates.iter().sum::<f64>() / rates.len() as f64 * 100.0)
}

/// The tables (and charts) of a dashboard, in the order the page shows them.
fn panels(
    console: &Console,
    tr: &Tr,
    stored: &[hotline_schemas::value::unit::Unit],
    n: &Numbers,
    period: &Period,
) -> Vec<Panel> {
    let english = tr.lang().starts_with("en");
    let share =
        |count: u64, total: u64| Cell::Rate((total > 0).then(|| count as f64 / total as f64));
    let mut out = Vec::new();
    let mut add = |table: Table, chart: Option<serde_json::Value>, note: Option<String>| {
        let query = format!("table={}&{}", table.id, period.query());
        out.push(Panel {
            csv: format!("/console/dashboard/export?{query}&format=csv"),
            xlsx: format!("/console/dashboard/export?{query}&format=xlsx"),
            chart: chart.map(|c| c.to_string()),
            note,
            table,
        });
    };

    // Volume by day.
    let labels: Vec<String> = n
        .days
        .keys()
        .map(|d| d.format("%m-%d").to_string())
        .collect();
    let days = Table {
        id: "days",
        title: tr.t("dash-by-day"),
        headers: vec![
            tr.t("dash-col-day"),
            tr.t("dash-received"),
            tr.t("dash-dispatched"),
            tr.t("dash-replied"),
        ],
        rows: n
            .days
            .iter()
            .map(|(d, v)| {
                vec![
                    Cell::Text(d.to_string()),
                    int(v.received),
                    int(v.dispatched),
                    int(v.replied),
                ]
            })
            .collect(),
    };
    let series = |name: String, pick: fn(&Day) -> u64| serde_json::json!({ "name": name, "data": n.days.values().map(pick).collect::<Vec<_>>() });
    let chart = serde_json::json!({
        "kind": "line",
        "labels": labels,
        "series": [
            series(tr.t("dash-received"), |d| d.received),
            series(tr.t("dash-dispatched"), |d| d.dispatched),
            series(tr.t("dash-replied"), |d| d.replied),
        ],
    });
    add(days, Some(chart), None);

    // The overdue trend.
    let trend = Table {
        id: "overdue",
        title: tr.t("dash-overdue-trend"),
        headers: vec![
            tr.t("dash-col-day"),
            tr.t("dash-breached"),
            tr.t("dash-replied-late"),
        ],
        rows: n
            .days
            .iter()
            .map(|(d, v)| {
                vec![
                    Cell::Text(d.to_string()),
                    int(v.breached),
                    int(v.replied_late),
                ]
            })
            .collect(),
    };
    let chart = serde_json::json!({
        "kind": "bar",
        "labels": labels,
        "series": [
            series(tr.t("dash-breached"), |d| d.breached),
            series(tr.t("dash-replied-late"), |d| d.replied_late),
        ],
    });
    add(
        trend,
        Some(chart),
        Some(tr.t1("dash-overdue-now", "count", n.city.overdue)),
    );

    // By service category.
    let received: u64 = n.categories.values().sum();
    let taxonomy = console.app.taxonomy();
    let mut categories: Vec<(String, u64)> = n
        .categories
        .iter()
        .map(|(code, count)| {
            let name = match code.as_deref().and_then(|c| taxonomy.category(c)) {
                Some(cat) if english => cat.name_en.clone(),
                Some(cat) => cat.name.clone(),
                None => tr.t("dash-unclassified"),
            };
            (name, *count)
        })
        .collect();
    categories.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let table = Table {
        id: "categories",
        title: tr.t("dash-by-category"),
        headers: vec![
            tr.t("dash-col-category"),
            tr.t("dash-received"),
            tr.t("dash-col-share"),
        ],
        rows: categories
            .iter()
            .map(|(name, count)| {
                vec![
                    Cell::Text(name.clone()),
                    int(*count),
                    share(*count, received),
                ]
            })
            .collect(),
    };
    let chart = serde_json::json!({
        "kind": "pie",
        "labels": categories.iter().map(|(name, _)| name).collect::<Vec<_>>(),
        "series": [{ "name": tr.t("dash-received"), "data": categories.iter().map(|(_, c)| c).collect::<Vec<_>>() }],
    });
    add(table, Some(chart), None);

    // By channel.
    let received: u64 = n.channels.values().sum();
    let channels: Vec<(String, u64)> = Channel::iter()
        .map(|ch| {
            (
                tr.code("ov-channel", ch.as_str()),
                n.channels.get(ch.as_str()).copied().unwrap_or(0),
            )
        })
        .collect();
    let table = Table {
        id: "channels",
        title: tr.t("dash-by-channel"),
        headers: vec![
            tr.t("dash-col-channel"),
            tr.t("dash-received"),
            tr.t("dash-col-share"),
        ],
        rows: channels
            .iter()
            .map(|(name, count)| {
                vec![
                    Cell::Text(name.clone()),
                    int(*count),
                    share(*count, received),
                ]
            })
            .collect(),
    };
    let chart = serde_json::json!({
        "kind": "pie",
        "labels": channels.iter().map(|(name, _)| name).collect::<Vec<_>>(),
        "series": [{ "name": tr.t("dash-received"), "data": channels.iter().map(|(_, c)| c).collect::<Vec<_>>() }],
    });
    add(table, Some(chart), None);

    // By unit: volume, then the ranking.
    let mut units: Vec<(String, &Figures)> = n
        .units
        .iter()
        .map(|(code, f)| (unit_label(console, tr, stored, code), f))
        .collect();
    units.sort_by(|a, b| b.1.dispatched.cmp(&a.1.dispatched).then(a.0.cmp(&b.0)));
    let table = Table {
        id: "units",
        title: tr.t("dash-by-unit"),
        headers: vec![
            tr.t("dash-col-unit"),
            tr.t("dash-received"),
            tr.t("dash-dispatched"),
            tr.t("dash-replied"),
            tr.t("dash-overdue"),
        ],
        rows: units
            .iter()
            .map(|(name, f)| {
                vec![
                    Cell::Text(name.clone()),
                    int(f.received),
                    int(f.dispatched),
                    int(f.replied),
                    int(f.overdue),
                ]
            })
            .collect(),
    };
    let shown: Vec<&(String, &Figures)> = units.iter().take(15).collect();
    let chart = serde_json::json!({
        "kind": "hbar",
        "labels": shown.iter().map(|(name, _)| name).collect::<Vec<_>>(),
        "series": [
            { "name": tr.t("dash-dispatched"), "data": shown.iter().map(|(_, f)| f.dispatched).collect::<Vec<_>>() },
            { "name": tr.t("dash-overdue"), "data": shown.iter().map(|(_, f)| f.overdue).collect::<Vec<_>>() },
        ],
    });
    add(table, Some(chart), None);

    let mut ranked: Vec<(String, &Figures, Option<f64>)> = units
        .iter()
        .map(|(name, f)| (name.clone(), *f, score(f)))
        .collect();
    ranked.sort_by(|a, b| {
        b.2.unwrap_or(-1.0)
            .total_cmp(&a.2.unwrap_or(-1.0))
            .then(b.1.dispatched.cmp(&a.1.dispatched))
            .then(a.0.cmp(&b.0))
    });
    let table = Table {
        id: "ranking",
        title: tr.t("dash-ranking"),
        headers: vec![
            tr.t("dash-col-rank"),
            tr.t("dash-col-unit"),
            tr.t("dash-response-rate"),
            tr.t("dash-on-time-rate"),
            tr.t("dash-satisfaction-rate"),
            tr.t("dash-col-score"),
        ],
        rows: ranked
            .iter()
            .enumerate()
            .map(|(i, (name, f, s))| {
                vec![
                    Cell::Int(i64::try_from(i + 1).unwrap_or(i64::MAX)),
                    Cell::Text(name.clone()),
                    rate_of(f.response_rate),
                    rate_of(f.on_time_rate),
                    rate_of(f.satisfaction_rate),
                    Cell::Num(*s),
                ]
            })
            .collect(),
    };
    let shown: Vec<&(String, &Figures, Option<f64>)> = ranked.iter().take(15).collect();
    let pct = |r: Option<f64>| r.map(|r| (r * 1000.0).round() / 10.0);
    let chart = serde_json::json!({
        "kind": "hbar",
        "percent": true,
        "labels": shown.iter().map(|(name, _, _)| name).collect::<Vec<_>>(),
        "series": [
            { "name": tr.t("dash-response-rate"), "data": shown.iter().map(|(_, f, _)| pct(f.response_rate)).collect::<Vec<_>>() },
            { "name": tr.t("dash-on-time-rate"), "data": shown.iter().map(|(_, f, _)| pct(f.on_time_rate)).collect::<Vec<_>>() },
            { "name": tr.t("dash-satisfaction-rate"), "data": shown.iter().map(|(_, f, _)| pct(f.satisfaction_rate)).collect::<Vec<_>>() },
        ],
    });
    add(table, Some(chart), Some(tr.t("dash-ranking-note")));

    // Hot topics.
    let table = Table {
        id: "topics",
        title: tr.t("dash-topics"),
        headers: vec![
            tr.t("dash-col-rank"),
            tr.t("dash-col-word"),
            tr.t("dash-col-this-week"),
            tr.t("dash-col-last-week"),
            tr.t("dash-col-rise"),
        ],
        rows: n
            .topics
            .iter()
            .enumerate()
            .map(|(i, t)| {
                vec![
                    Cell::Int(i64::try_from(i + 1).unwrap_or(i64::MAX)),
                    Cell::Text(t.word.clone()),
                    int(t.this_week),
                    int(t.last_week),
                    Cell::Int(t.rise()),
                ]
            })
            .collect(),
    };
    let chart = (!n.topics.is_empty()).then(|| {
        serde_json::json!({
            "kind": "hbar",
            "labels": n.topics.iter().map(|t| &t.word).collect::<Vec<_>>(),
            "series": [
                { "name": tr.t("dash-col-this-week"), "data": n.topics.iter().map(|t| t.this_week).collect::<Vec<_>>() },
                { "name": tr.t("dash-col-last-week"), "data": n.topics.iter().map(|t| t.last_week).collect::<Vec<_>>() },
            ],
        })
    });
    let last = period.topics_day(console.app.now(), console.app.tz());
    let note = tr.ta(
        "dash-topics-note",
        &[
            ("from", (last - Duration::days(6)).to_string()),
            ("to", last.to_string()),
        ],
    );
    add(table, chart, Some(note));
    // Overall, as a table (the cards at the top show the main figures).
    let c = &n.city;
    let summary = Table {
        id: "summary",
        title: tr.t("dash-summary"),
        headers: vec![tr.t("dash-col-measure"), tr.t("dash-col-value")],
        rows: vec![
            vec![Cell::Text(tr.t("dash-received")), int(c.received)],
            vec![Cell::Text(tr.t("dash-dispatched")), int(c.dispatched)],
            vec![Cell::Text(tr.t("dash-responded")), int(c.responded_in_time)],
            vec![
                Cell::Text(tr.t("dash-response-rate")),
                rate_of(c.response_rate),
            ],
            vec![Cell::Text(tr.t("dash-replied")), int(c.replied)],
            vec![
                Cell::Text(tr.t("dash-replied-on-time")),
                int(c.replied_on_time),
            ],
            vec![
                Cell::Text(tr.t("dash-on-time-rate")),
                rate_of(c.on_time_rate),
            ],
            vec![Cell::Text(tr.t("dash-rated")), int(c.rated)],
            vec![Cell::Text(tr.t("dash-satisfied")), int(c.satisfied)],
            vec![
                Cell::Text(tr.t("dash-satisfaction-rate")),
                rate_of(c.satisfaction_rate),
            ],
            vec![Cell::Text(tr.t("dash-overdue")), int(c.overdue)],
            vec![
                Cell::Text(tr.t("dash-handling-hours")),
                Cell::Num(c.average_handling_hours),
            ],
        ],
    };
    add(summary, None, Some(tr.t("dash-summary-note")));

    out
}

/// Whose figures the visitor sees.
fn whose(
    console: &Console,
    tr: &Tr,
    stored: &[hotline_schemas::value::unit::Unit],
    actor: &Actor,
) -> String {
    let scope = service::stat_scope(&console.app, actor);
    if let Some(unit) = &scope.unit {
        tr.t1(
            "dash-whose-unit",
            "unit",
            unit_label(console, tr, stored, unit),
        )
    } else if let Some(units) = &scope.dispatched_to {
        let names: Vec<String> = units
            .iter()
            .map(|u| unit_label(console, tr, stored, u))
            .collect();
        tr.t1("dash-whose-leader", "units", names.join("、"))
    } else if scope.confidential {
        tr.t("dash-whose-all")
    } else {
        tr.t("dash-whose-ordinary")
    }
}

/// `GET /console/dashboard?from=&to=`: the dashboard of a period (default: the last 30 days).
pub async fn dashboard(
    State(console): State<Arc<Console>>,
    tr: Tr,
    SignedIn(visitor, ..): SignedIn<Stats>,
    Query(asked): Query<Asked>,
) -> Result<Response, Failure> {
    let actor = visitor.actor();
    let today = console
        .app
        .now()
        .with_timezone(&console.app.tz())
        .date_naive();
    let period = Period::of(&asked, today);
    let (n, _, _) = numbers(&console, &actor, &period).await?;
    let stored = console.app.store.units().await?;
    let c = &n.city;
    let cards = vec![
        Card {
            id: "received",
            label: tr.t("dash-received"),
            value: c.received.to_string(),
        },
        Card {
            id: "response-rate",
            label: tr.t("dash-response-rate"),
            value: Cell::Rate(c.response_rate).shown(),
        },
        Card {
            id: "on-time-rate",
            label: tr.t("dash-on-time-rate"),
            value: Cell::Rate(c.on_time_rate).shown(),
        },
        Card {
            id: "satisfaction-rate",
            label: tr.t("dash-satisfaction-rate"),
            value: Cell::Rate(c.satisfaction_rate).shown(),
        },
        Card {
            id: "overdue",
            label: tr.t("dash-overdue"),
            value: c.overdue.to_string(),
        },
    ];
    let panels = panels(&console, &tr, &stored, &n, &period);
    page(&DashboardPage {
        whose: whose(&console, &tr, &stored, &actor),
        from: period.from_day.to_string(),
        to: period.to_day.to_string(),
        problem: period.problem.map(|key| tr.t(key)),
        cards,
        panels,
        chrome: Chrome::staff(tr, &visitor, "/console/dashboard"),
    })
}

/// `GET /console/dashboard/export?table=&format=csv|xlsx&from=&to=`: one table of the
/// dashboard as a file.
pub async fn export(
    State(console): State<Arc<Console>>,
    tr: Tr,
    SignedIn(visitor, ..): SignedIn<Stats>,
    Query(asked): Query<Asked>,
) -> Result<Response, Failure> {
    let actor = visitor.actor();
    let format = Format::parse(asked.format.as_deref())?;
    let today = console
        .app
        .now()
        .with_timezone(&console.app.tz())
        .date_naive();
    let period = Period::of(&asked, today);
    if period.problem.is_some() {
        return Err(invalid("from"));
    }
    let (n, _, _) = numbers(&console, &actor, &period).await?;
    let stored = console.app.store.units().await?;
    let wanted = asked.table.as_deref().unwrap_or("summary");
    let panel = panels(&console, &tr, &stored, &n, &period)
        .into_iter()
        .find(|p| p.table.id == wanted)
        .ok_or_else(|| invalid("table"))?;
    let name = format!(
        "dashboard-{}-{}-{}",
        panel.table.id, period.from_day, period.to_day
    );
    download(&panel.table, format, &name)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use chrono::TimeZone;

    #[test]
    fn csv_starts_with_a_bom_and_quotes_what_looks_like_a_formula() {
        let table = Table {
            id: "t",
            title: "t".into(),
            headers: vec!["单位".into(), "满意率".into()],
            rows: vec![
                vec![Cell::Text("区发改局".into()), Cell::Rate(Some(0.5))],
                vec![Cell::Text("=1+1".into()), Cell::Rate(None)],
            ],
        };
        let bytes = csv(&table).unwrap();
        assert!(bytes.starts_with(b"\xef\xbb\xbf"));
        let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
        assert_eq!(text, "单位,满意率\n区发改局,0.5000\n'=1+1,\n");
        let book = xlsx(&table).unwrap();
        assert!(book.starts_with(b"PK"), "a zip");
    }

    #[test]
    fn hot_topics_are_the_words_that_rose_most() {
        let at = |d: u32| Utc.with_ymd_and_hms(2026, 11, d, 2, 0, 0).unwrap();
        let text = |d: u32, title: &str, person: Option<&str>| hotline_store::AppealText {
            created_at: at(d),
            title: title.into(),
            body: String::new(),
            person: person.map(Into::into),
        };
        let texts = vec![
            text(20, "小区停水三天", None),
            text(21, "小区停水无人管 13912345678", None),
            text(21, "王小明反映工地噪音", Some("王小明")),
            text(10, "工地噪音扰民", None),
            text(11, "工地噪音", None),
        ];
        let topics = rank_topics(&texts, at(17), 10);
        let words: Vec<&str> = topics.iter().map(|t| t.word.as_str()).collect();
        assert_eq!(words[..2], ["停水", "小区"], "{topics:?}");
        assert!(!words.contains(&"噪音"), "as often as the week before");
        assert!(!words.contains(&"三天"), "a count, not a topic");
        assert!(
            !words
                .iter()
                .any(|w| w.contains("王小明") || w.contains("139"))
        );
        assert_eq!(topics[0].this_week, 2);
    }

    #[test]
    fn a_period_is_the_asked_days_or_the_last_thirty() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let p = Period::of(&Asked::default(), today);
        assert_eq!(
            (p.from_day.to_string(), p.to_day.to_string()),
            ("2026-10-25".into(), "2026-11-23".into())
        );
        let asked = Asked {
            from: Some("2026-11-30".into()),
            to: Some("2026-11-01".into()),
            ..Asked::default()
        };
        assert_eq!(
            Period::of(&asked, today).problem,
            Some("dash-range-invalid")
        );
    }
}
