use super::*;
use chrono::{Datelike, Weekday};
use chrono_tz::Asia::Shanghai;

fn calendar() -> BusinessCalendar {
    BusinessCalendar::official().unwrap()
}

fn policies() -> SlaPolicies {
    SlaPolicies::default_policies().unwrap()
}

/// A Shanghai wall-clock time as an instant.
fn sh(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Shanghai
        .with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).single().unwrap()
}

fn weekday(t: DateTime<Utc>) -> Weekday {
    t.with_timezone(&Shanghai).weekday()
}

const WD3: Limit = Limit::WorkingDays(3);

// ---- Limit ----

#[test]
fn limit_parses_and_displays() {
    assert_eq!("30m".parse::<Limit>().unwrap(), Limit::Minutes(30));
    assert_eq!("12h".parse::<Limit>().unwrap(), Limit::Hours(12));
    assert_eq!("3wd".parse::<Limit>().unwrap(), Limit::WorkingDays(3));
    assert_eq!(" 15wd ".parse::<Limit>().unwrap(), Limit::WorkingDays(15));
    for limit in [Limit::Minutes(30), Limit::Hours(12), Limit::WorkingDays(3)] {
        assert_eq!(limit.to_string().parse::<Limit>().unwrap(), limit);
    }
    assert_eq!(Limit::WorkingDays(3).to_string(), "3wd");
    assert!(Limit::Hours(12).is_clock_time());
    assert!(!WD3.is_clock_time());
    assert_eq!(
        Limit::Minutes(30).clock_duration(),
        Some(TimeDelta::minutes(30))
    );
    assert_eq!(WD3.clock_duration(), None);
}

#[test]
fn limit_rejects_bad_values() {
    for bad in [
        "",
        "3",
        "3d",
        "wd",
        "-3wd",
        "3 wd",
        "1.5h",
        "3WD",
        "99999999999m",
    ] {
        let err = bad.parse::<Limit>().unwrap_err();
        assert!(!err.reason.is_empty(), "{bad}: {err}");
    }
    let err = "0wd".parse::<Limit>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid limit \"0wd\": must be greater than zero"
    );
    let err = "400wd".parse::<Limit>().unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid limit \"400wd\": longer than a year (at most 366wd)"
    );
    assert!("8784h".parse::<Limit>().is_ok());
    assert!("8785h".parse::<Limit>().is_err());
}

// ---- Policies ----

#[test]
fn default_policies_match_the_spec() {
    let p = policies();
    let normal = p.policy_for(Kind::Complaint, Channel::Hotline, Priority::Normal);
    assert_eq!(
        normal,
        &SlaPolicy {
            response: Limit::Minutes(30),
            resolution: Limit::WorkingDays(3),
            warnings: vec![0.5, 0.8],
        }
    );
    let urgent = p.policy_for(Kind::Help, Channel::Wechat, Priority::Urgent);
    assert_eq!(urgent.response, Limit::Minutes(30));
    assert_eq!(urgent.resolution, Limit::Hours(12));
    assert_eq!(urgent.warnings, vec![0.5, 0.8]);
    assert_eq!(p.rework_limit(), Limit::WorkingDays(15));
    assert_eq!(
        p.extension_lead(Priority::Normal),
        Some(Limit::WorkingDays(1))
    );
    assert_eq!(p.extension_lead(Priority::Urgent), None);
    // The shipped defaults have no overrides: every kind and channel gets the same.
    for kind in [Kind::Consultation, Kind::Praise, Kind::Report] {
        for channel in [Channel::Mailbox, Channel::Open311, Channel::Web] {
            assert_eq!(p.policy_for(kind, channel, Priority::Normal), normal);
            assert_eq!(p.policy_for(kind, channel, Priority::Urgent), urgent);
        }
    }
}

const BASE: &str = r#"
response = "30m"
warnings = [0.5, 0.8]
[resolution]
normal = "3wd"
urgent = "12h"
[rework]
limit = "15wd"
[extension]
lead = "1wd"
"#;

fn with(extra: &str) -> Result<SlaPolicies, SlaError> {
    SlaPolicies::from_toml(&format!("{BASE}{extra}"))
}

#[test]
fn follow_up_defaults_partial_overrides_and_unknown_keys() {
    assert_eq!(policies().follow_up(), &FollowUp::default());
    assert_eq!(with("").unwrap().follow_up(), &FollowUp::default());
    let p = with("[follow_up]\nremind_every = \"1h\"\nmax_reworks = 0\n").unwrap();
    assert_eq!(p.follow_up().remind_every, Limit::Hours(1));
    assert_eq!(p.follow_up().max_reworks, 0);
    assert_eq!(p.follow_up().leader_after, Limit::WorkingDays(1));
    let err = with("[follow_up]\nremind_evry = \"1h\"\n").unwrap_err();
    assert!(err.to_string().contains("remind_evry"), "{err}");
    let err = with("[follow_up]\nrating_wait = \"5d\"\n").unwrap_err();
    assert!(err.to_string().contains("5d"), "{err}");
}

#[test]
fn overrides_by_kind_channel_priority_first_match_wins() {
    let p = with(
        r#"
[[rule]]
kind = "consultation"
priority = "normal"
resolution = "1wd"

[[rule]]
kind = "consultation"
channel = "mailbox"
resolution = "5wd"

[[rule]]
channel = "mailbox"
response = "2h"
warnings = [0.3, 0.6, 0.9]

[[rule]]
kind = "suggestion"
resolution = "10wd"
"#,
    )
    .unwrap();
    // Rule 1: normal consultations on any channel, including the mailbox (first match).
    let c = p.policy_for(Kind::Consultation, Channel::Mailbox, Priority::Normal);
    assert_eq!(c.resolution, Limit::WorkingDays(1));
    assert_eq!(c.response, Limit::Minutes(30));
    assert_eq!(c.warnings, vec![0.5, 0.8]);
    assert_eq!(
        p.policy_for(Kind::Consultation, Channel::Web, Priority::Normal)
            .resolution,
        Limit::WorkingDays(1)
    );
    // Rule 1 does not match urgent; rule 2 does for the mailbox.
    let c = p.policy_for(Kind::Consultation, Channel::Mailbox, Priority::Urgent);
    assert_eq!(c.resolution, Limit::WorkingDays(5));
    assert_eq!(c.response, Limit::Minutes(30));
    // An urgent web consultation: no rule, defaults.
    assert_eq!(
        p.policy_for(Kind::Consultation, Channel::Web, Priority::Urgent)
            .resolution,
        Limit::Hours(12)
    );
    // Rule 3: mailbox complaints keep the per-priority resolution, change the rest.
    let m = p.policy_for(Kind::Complaint, Channel::Mailbox, Priority::Normal);
    assert_eq!(m.response, Limit::Hours(2));
    assert_eq!(m.resolution, Limit::WorkingDays(3));
    assert_eq!(m.warnings, vec![0.3, 0.6, 0.9]);
    let m = p.policy_for(Kind::Complaint, Channel::Mailbox, Priority::Urgent);
    assert_eq!(m.resolution, Limit::Hours(12));
    // Rule 4: suggestions, any priority.
    assert_eq!(
        p.policy_for(Kind::Suggestion, Channel::Hotline, Priority::Urgent)
            .resolution,
        Limit::WorkingDays(10)
    );
    // Others: defaults.
    assert_eq!(
        p.policy_for(Kind::Complaint, Channel::Hotline, Priority::Normal)
            .resolution,
        Limit::WorkingDays(3)
    );
}

#[test]
fn serde_deserialize_validates_too() {
    #[derive(Deserialize)]
    struct Config {
        sla: SlaPolicies,
    }
    let nested = BASE.replace("[resolution]", "[sla.resolution]");
    let nested = nested
        .replace("[rework]", "[sla.rework]")
        .replace("[extension]", "[sla.extension]")
        .replacen("response", "[sla]\nresponse", 1);
    let config: Config = toml::from_str(&nested).unwrap();
    assert_eq!(config.sla, policies());
    let broken = nested.replace("[0.5, 0.8]", "[0.8, 0.5]");
    let err = toml::from_str::<Config>(&broken).err().unwrap();
    assert!(err.to_string().contains("strictly increasing"), "{err}");
}

fn invalid_message(result: Result<SlaPolicies, SlaError>) -> (String, String) {
    match result {
        Err(SlaError::Invalid { field, message }) => (field, message),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

#[test]
fn validation_of_thresholds() {
    for (warnings, expected) in [
        ("[0.0, 0.8]", "threshold 0 must be strictly between 0 and 1"),
        ("[0.5, 1.0]", "threshold 1 must be strictly between 0 and 1"),
        (
            "[0.5, 1.5]",
            "threshold 1.5 must be strictly between 0 and 1",
        ),
        ("[-0.2]", "threshold -0.2 must be strictly between 0 and 1"),
        ("[nan]", "threshold NaN must be strictly between 0 and 1"),
        (
            "[0.8, 0.5]",
            "thresholds must be strictly increasing, but 0.5 follows 0.8",
        ),
        (
            "[0.5, 0.5]",
            "thresholds must be strictly increasing, but 0.5 follows 0.5",
        ),
    ] {
        let text = BASE.replace("[0.5, 0.8]", warnings);
        let (field, message) = invalid_message(SlaPolicies::from_toml(&text));
        assert_eq!(field, "warnings");
        assert_eq!(message, expected);
    }
    // No warnings at all is allowed.
    let p = SlaPolicies::from_toml(&BASE.replace("[0.5, 0.8]", "[]")).unwrap();
    assert!(
        p.policy_for(Kind::Help, Channel::Web, Priority::Normal)
            .warnings
            .is_empty()
    );
    let (field, _) = invalid_message(with("[[rule]]\nkind = \"help\"\nwarnings = [0.9, 0.2]\n"));
    assert_eq!(field, "rule[1].warnings");
}

#[test]
fn validation_of_limits_and_shape() {
    let err = SlaPolicies::from_toml(&BASE.replace("\"30m\"", "\"0m\"")).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("invalid limit \"0m\": must be greater than zero"),
        "{text}"
    );
    assert!(text.contains("line 2"), "{text}");

    let err = SlaPolicies::from_toml(&BASE.replace("\"3wd\"", "\"3 days\"")).unwrap_err();
    assert!(
        err.to_string().contains("invalid limit \"3 days\""),
        "{err}"
    );

    // A typo in a field name is refused, not ignored.
    let err = SlaPolicies::from_toml(&BASE.replace("lead =", "laed =")).unwrap_err();
    assert!(err.to_string().contains("laed"), "{err}");
    // A missing section.
    let err = SlaPolicies::from_toml(&BASE.replace("[rework]\nlimit = \"15wd\"", "")).unwrap_err();
    assert!(err.to_string().contains("rework"), "{err}");
    // An unknown kind.
    let err = with("[[rule]]\nkind = \"gossip\"\nresolution = \"1wd\"\n").unwrap_err();
    assert!(err.to_string().contains("gossip"), "{err}");

    let (field, message) = invalid_message(with("[[rule]]\nresolution = \"1wd\"\n"));
    assert_eq!(field, "rule[1]");
    assert!(message.contains("every appeal"), "{message}");
    let (field, message) = invalid_message(with(
        "[[rule]]\nkind = \"help\"\nresolution = \"1wd\"\n[[rule]]\nkind = \"praise\"\n",
    ));
    assert_eq!(field, "rule[2]");
    assert!(message.contains("overrides nothing"), "{message}");
    assert_eq!(
        SlaError::Invalid {
            field,
            message: "x".into()
        }
        .to_string(),
        "SLA policies: rule[2]: x"
    );
}

// ---- Deadlines ----

#[test]
fn friday_afternoon_plus_three_working_days_is_wednesday() {
    let cal = calendar();
    let clock = SlaClock::new(&cal, Shanghai);
    let due = clock.add(sh(2026, 11, 20, 15, 0), WD3);
    assert_eq!(weekday(sh(2026, 11, 20, 15, 0)), Weekday::Fri);
    assert_eq!(due, sh(2026, 11, 25, 15, 0));
    assert_eq!(weekday(due), Weekday::Wed);
    // Seconds are kept.
    let start = sh(2026, 11, 20, 15, 0) + TimeDelta::seconds(42);
    assert_eq!(
        clock.add(start, WD3),
        sh(2026, 11, 25, 15, 0) + TimeDelta::seconds(42)
    );
    // A Monday dispatch ends on Thursday.
    assert_eq!(
        clock.add(sh(2026, 11, 16, 9, 30), WD3),
        sh(2026, 11, 19, 9, 30)
    );
    assert_eq!(
        clock.add(sh(2026, 11, 20, 15, 0), Limit::WorkingDays(1)),
        sh(2026, 11, 23, 15, 0)
    );
}

#[test]
fn rest_day_dispatch_starts_next_working_day_at_midnight() {
    let cal = calendar();
    let clock = SlaClock::new(&cal, Shanghai);
    // Saturday and Sunday → Monday 00:00 → Thursday 00:00.
    assert_eq!(
        clock.add(sh(2026, 11, 21, 10, 0), WD3),
        sh(2026, 11, 26, 0, 0)
    );
    assert_eq!(
        clock.add(sh(2026, 11, 22, 23, 59), WD3),
        sh(2026, 11, 26, 0, 0)
    );
    // Monday 00:00 itself is a working-day start.
    assert_eq!(
        clock.add(sh(2026, 11, 23, 0, 0), WD3),
        sh(2026, 11, 26, 0, 0)
    );
    // Inside the National Day holiday → Thursday 10-08 00:00, then 10-09, 10-10 (adjusted
    // Saturday), 10-12.
    assert_eq!(
        clock.add(sh(2026, 10, 3, 14, 0), WD3),
        sh(2026, 10, 12, 0, 0)
    );
}

#[test]
fn national_day_2026_is_skipped() {
    let cal = calendar();
    let clock = SlaClock::new(&cal, Shanghai);
    // Wednesday 09-30 10:00: 10-01..07 off; 10-08 (Thu), 10-09 (Fri), 10-10 (Sat, adjusted
    // working day in the 2026 notice) → Saturday 10-10 10:00.
    assert!(cal.is_working_day(NaiveDate::from_ymd_opt(2026, 10, 10).unwrap()));
    let due = clock.add(sh(2026, 9, 30, 10, 0), WD3);
    assert_eq!(due, sh(2026, 10, 10, 10, 0));
    assert_eq!(weekday(due), Weekday::Sat);
    // The Mid-autumn holiday 09-25..27 just before: Thursday 09-24 → 09-28, 29, 30.
    assert_eq!(
        clock.add(sh(2026, 9, 24, 16, 0), WD3),
        sh(2026, 9, 30, 16, 0)
    );
}

#[test]
fn spring_festival_2026_is_skipped() {
    let cal = calendar();
    let clock = SlaClock::new(&cal, Shanghai);
    // Thursday 02-12 10:00: 02-13 (Fri), 02-14 (Sat, adjusted), then 02-15..23 off,
    // 02-24 (Tue) → Tuesday 02-24 10:00.
    assert_eq!(
        clock.add(sh(2026, 2, 12, 10, 0), WD3),
        sh(2026, 2, 24, 10, 0)
    );
    // Friday 02-13 17:00: 02-14, 02-24, 02-25.
    assert_eq!(
        clock.add(sh(2026, 2, 13, 17, 0), WD3),
        sh(2026, 2, 25, 17, 0)
    );
    // Inside the holiday → 02-24 00:00 → 02-27 00:00.
    assert_eq!(
        clock.add(sh(2026, 2, 18, 11, 0), WD3),
        sh(2026, 2, 27, 0, 0)
    );
    // Thursday 02-26: 02-27, 02-28 (Sat, adjusted), 03-02 (Mon).
    assert_eq!(clock.add(sh(2026, 2, 26, 9, 0), WD3), sh(2026, 3, 2, 9, 0));
}

#[test]
fn adjusted_working_saturday_is_not_a_rest_day_start() {
    let cal = calendar();
    let clock = SlaClock::new(&cal, Shanghai);
    assert_eq!(weekday(sh(2026, 2, 14, 9, 0)), Weekday::Sat);
    // Counted from Saturday 09:00 itself: 02-24, 02-25, 02-26 at 09:00 (a rest-day start
    // would give 02-27 00:00).
    assert_eq!(clock.add(sh(2026, 2, 14, 9, 0), WD3), sh(2026, 2, 26, 9, 0));
    // Same on 2026-10-10: 10-12, 10-13, 10-14.
    assert_eq!(
        clock.add(sh(2026, 10, 10, 9, 0), WD3),
        sh(2026, 10, 14, 9, 0)
    );
}

#[test]
fn clock_time_limits_ignore_weekends_and_holidays() {
    let cal = calendar();
    let clock = SlaClock::new(&cal, Shanghai);
    // 30 minutes across midnight into a Saturday.
    assert_eq!(
        clock.add(sh(2026, 11, 20, 23, 45), Limit::Minutes(30)),
        sh(2026, 11, 21, 0, 15)
    );
    // 12 hours from Friday 18:00 ends Saturday 06:00.
    assert_eq!(
        clock.add(sh(2026, 11, 20, 18, 0), Limit::Hours(12)),
        sh(2026, 11, 21, 6, 0)
    );
    // 12 hours inside the National Day holiday.
    assert_eq!(
        clock.add(sh(2026, 10, 1, 20, 0), Limit::Hours(12)),
        sh(2026, 10, 2, 8, 0)
    );
    // 30 minutes on Spring Festival eve.
    assert_eq!(
        clock.add(sh(2026, 2, 16, 23, 50), Limit::Minutes(30)),
        sh(2026, 2, 17, 0, 20)
    );
}

#[test]
fn local_date_not_utc_date_decides_rest_days() {
    let cal = calendar();
    let clock = SlaClock::new(&cal, Shanghai);
    // 2026-11-20 17:00 UTC is Friday in UTC but Saturday 01:00 in Shanghai: rest-day rule,
    // Monday 00:00 + 3wd = Thursday 00:00 Shanghai (Wednesday 16:00 UTC).
    let start = utc(2026, 11, 20, 17, 0);
    assert_eq!(start, sh(2026, 11, 21, 1, 0));
    assert_eq!(clock.add(start, WD3), sh(2026, 11, 26, 0, 0));
    assert_eq!(clock.add(start, WD3), utc(2026, 11, 25, 16, 0));
    // 2026-11-22 20:00 UTC is Monday 04:00 in Shanghai: a working-day start.
    assert_eq!(
        clock.add(utc(2026, 11, 22, 20, 0), WD3),
        sh(2026, 11, 26, 4, 0)
    );
    // 2026-11-20 15:59 UTC is Friday 23:59 in Shanghai.
    assert_eq!(
        clock.add(utc(2026, 11, 20, 15, 59), WD3),
        sh(2026, 11, 25, 23, 59)
    );
}

#[test]
fn on_dispatch_sets_all_deadlines() {
    let cal = calendar();
    let clock = SlaClock::new(&cal, Shanghai);
    let p = policies();
    let at = sh(2026, 11, 20, 15, 0);
    let normal = clock.on_dispatch(
        p.policy_for(Kind::Complaint, Channel::Hotline, Priority::Normal),
        at,
    );
    assert_eq!(
        normal,
        Deadlines {
            response_due: Some(sh(2026, 11, 20, 15, 30)),
            resolve_due: Some(sh(2026, 11, 25, 15, 0)),
            original_resolve_due: Some(sh(2026, 11, 25, 15, 0)),
        }
    );
    let urgent = clock.on_dispatch(
        p.policy_for(Kind::Complaint, Channel::Hotline, Priority::Urgent),
        at,
    );
    assert_eq!(urgent.response_due, Some(sh(2026, 11, 20, 15, 30)));
    assert_eq!(urgent.resolve_due, Some(sh(2026, 11, 21, 3, 0)));
    assert_eq!(urgent.original_resolve_due, urgent.resolve_due);
}

#[test]
fn extension_counts_from_the_current_deadline() {
    let cal = calendar();
    let clock = SlaClock::new(&cal, Shanghai);
    // Deadline Wednesday 09-30 16:00 + 2wd skips National Day: 10-08, 10-09.
    assert_eq!(
        clock.extend(sh(2026, 9, 30, 16, 0), Limit::WorkingDays(2)),
        sh(2026, 10, 9, 16, 0)
    );
    // An urgent deadline on a Saturday + 1wd: from Monday 00:00 → Tuesday 00:00.
    assert_eq!(
        clock.extend(sh(2026, 11, 21, 3, 0), Limit::WorkingDays(1)),
        sh(2026, 11, 24, 0, 0)
    );
    assert_eq!(
        clock.extend(sh(2026, 11, 21, 3, 0), Limit::Hours(6)),
        sh(2026, 11, 21, 9, 0)
    );
}

#[test]
fn extension_request_deadline_normal() {
    let cal = calendar();
    let clock = SlaClock::new(&cal, Shanghai);
    let p = policies();
    let due = sh(2026, 11, 25, 15, 0); // Wednesday
    let in_time = |now| clock.extension_request_in_time(&p, now, due, Priority::Normal);
    assert!(in_time(sh(2026, 11, 20, 15, 0)));
    assert!(in_time(sh(2026, 11, 24, 14, 59)));
    // Exactly one working day before is still in time.
    assert!(in_time(sh(2026, 11, 24, 15, 0)));
    assert!(!in_time(sh(2026, 11, 24, 15, 1)));
    assert!(!in_time(sh(2026, 11, 25, 10, 0)));
    assert!(!in_time(sh(2026, 11, 26, 10, 0)));
    // Deadline Monday 10:00: the latest request is Friday 10:00 (the weekend does not count).
    let due = sh(2026, 11, 23, 10, 0);
    let in_time = |now| clock.extension_request_in_time(&p, now, due, Priority::Normal);
    assert!(in_time(sh(2026, 11, 20, 10, 0)));
    assert!(!in_time(sh(2026, 11, 20, 10, 1)));
    assert!(!in_time(sh(2026, 11, 21, 9, 0))); // Saturday: Monday 00:00 + 1wd > due
    // Deadline Tuesday 00:00 leaves all of Monday: a Saturday request is in time.
    let due = sh(2026, 11, 24, 0, 0);
    assert!(clock.extension_request_in_time(&p, sh(2026, 11, 21, 9, 0), due, Priority::Normal));
    // Across National Day: deadline 10-08 16:00, latest request 09-30 16:00.
    let due = sh(2026, 10, 8, 16, 0);
    assert!(clock.extension_request_in_time(&p, sh(2026, 9, 30, 16, 0), due, Priority::Normal));
    assert!(!clock.extension_request_in_time(&p, sh(2026, 9, 30, 16, 1), due, Priority::Normal));
    assert!(!clock.extension_request_in_time(&p, sh(2026, 10, 5, 9, 0), due, Priority::Normal));
}

#[test]
fn extension_request_deadline_urgent() {
    let cal = calendar();
    let clock = SlaClock::new(&cal, Shanghai);
    let p = policies();
    let due = sh(2026, 11, 21, 3, 0);
    let in_time = |now| clock.extension_request_in_time(&p, now, due, Priority::Urgent);
    assert!(in_time(sh(2026, 11, 20, 16, 0)));
    assert!(in_time(sh(2026, 11, 21, 2, 59)));
    assert!(!in_time(sh(2026, 11, 21, 3, 0)));
    assert!(!in_time(sh(2026, 11, 21, 4, 0)));
    // A city may require a lead for urgent appeals too.
    let p = SlaPolicies::from_toml(&format!("{BASE}urgent_lead = \"2h\"\n")).unwrap();
    assert_eq!(p.extension_lead(Priority::Urgent), Some(Limit::Hours(2)));
    let in_time = |now| clock.extension_request_in_time(&p, now, due, Priority::Urgent);
    assert!(in_time(sh(2026, 11, 21, 1, 0)));
    assert!(!in_time(sh(2026, 11, 21, 1, 1)));
}

#[test]
fn rework_gets_fifteen_working_days() {
    let cal = calendar();
    let clock = SlaClock::new(&cal, Shanghai);
    let p = policies();
    // Monday 2026-11-16 10:00 + 15wd = three full weeks later, Monday 12-07 10:00.
    assert_eq!(
        clock.rework_due(&p, sh(2026, 11, 16, 10, 0)),
        sh(2026, 12, 7, 10, 0)
    );
    // Across National Day: 09-28 (Mon) 10:00 → 09-29, 09-30, 10-08, 10-09, 10-10, 10-12..16,
    // 10-19..23 = 15 → Friday 10-23 10:00.
    assert_eq!(
        clock.rework_due(&p, sh(2026, 9, 28, 10, 0)),
        sh(2026, 10, 23, 10, 0)
    );
}

#[test]
fn working_time_between() {
    let cal = calendar();
    let clock = SlaClock::new(&cal, Shanghai);
    let start = sh(2026, 11, 20, 15, 0);
    let due = sh(2026, 11, 25, 15, 0);
    assert_eq!(clock.working_time_between(start, due), TimeDelta::hours(72));
    assert_eq!(clock.working_time_between(due, start), TimeDelta::zero());
    // All of a weekend: nothing.
    assert_eq!(
        clock.working_time_between(sh(2026, 11, 21, 0, 0), sh(2026, 11, 23, 0, 0)),
        TimeDelta::zero()
    );
    // Every working-day deadline is exactly n × 24 h of working time away.
    for start in [
        sh(2026, 9, 30, 10, 0),
        sh(2026, 2, 12, 10, 0),
        sh(2026, 2, 14, 9, 0),
        sh(2026, 11, 21, 10, 0),
        sh(2026, 10, 3, 14, 0),
    ] {
        for n in [1, 3, 15] {
            let due = clock.add(start, Limit::WorkingDays(n));
            assert_eq!(
                clock.working_time_between(start, due),
                TimeDelta::hours(24 * i64::from(n)),
                "{start} + {n}wd"
            );
        }
    }
}

#[test]
fn warnings_for_three_working_days_count_working_time() {
    let cal = calendar();
    let clock = SlaClock::new(&cal, Shanghai);
    let p = policies();
    let policy = p.policy_for(Kind::Complaint, Channel::Hotline, Priority::Normal);
    let start = sh(2026, 11, 20, 15, 0);
    let due = clock.add(start, policy.resolution);
    // 72 working hours: Fri 9 h, Mon 24 h, Tue 24 h, Wed 15 h.
    // 50% = 36 h: Fri 9 + Mon 24 = 33, + 3 → Tue 03:00.
    // 80% = 57.6 h: 9 + 24 + 24 = 57, + 0.6 h → Wed 00:36.
    assert_eq!(
        clock.warning_instants(policy, start, due),
        vec![sh(2026, 11, 24, 3, 0), sh(2026, 11, 25, 0, 36)]
    );
}

#[test]
fn warnings_for_urgent_twelve_hours_count_clock_time() {
    let cal = calendar();
    let clock = SlaClock::new(&cal, Shanghai);
    let p = policies();
    let policy = p.policy_for(Kind::Complaint, Channel::Hotline, Priority::Urgent);
    // Friday 18:00 → Saturday 06:00: the weekend does not matter.
    let start = sh(2026, 11, 20, 18, 0);
    let due = clock.add(start, policy.resolution);
    assert_eq!(due, sh(2026, 11, 21, 6, 0));
    assert_eq!(
        clock.warning_instants(policy, start, due),
        vec![sh(2026, 11, 21, 0, 0), sh(2026, 11, 21, 3, 36)]
    );
}

#[test]
fn warnings_across_holidays_and_edges() {
    let cal = calendar();
    let clock = SlaClock::new(&cal, Shanghai);
    let wd = Limit::WorkingDays(3);
    // 09-30 10:00 → 10-10 10:00: 14 h + 24 (10-08) + 24 (10-09) + 10 = 72 h.
    let start = sh(2026, 9, 30, 10, 0);
    let due = clock.add(start, wd);
    assert_eq!(
        clock.instants_at_fractions(wd, &[0.5, 0.8], start, due),
        vec![
            sh(2026, 10, 9, 0, 0) - TimeDelta::hours(2),
            sh(2026, 10, 9, 19, 36)
        ]
    );
    // Exactly at the end of a working day: the instant is the start of the next one.
    // 14 h / 72 h of working time is 09-30 24:00, i.e. 10-08 00:00.
    assert_eq!(
        clock.instants_at_fractions(wd, &[14.0 / 72.0], start, due),
        vec![sh(2026, 10, 8, 0, 0)]
    );
    // A rest-day start: the working time starts Monday 00:00.
    let start = sh(2026, 11, 21, 10, 0);
    let due = clock.add(start, wd);
    assert_eq!(
        clock.instants_at_fractions(wd, &[0.5], start, due),
        vec![sh(2026, 11, 24, 12, 0)]
    );
    // Out-of-range fractions are clamped; an empty or inverted interval gives `due`.
    assert_eq!(
        clock.instants_at_fractions(
            Limit::Hours(12),
            &[-1.0, 2.0, f64::NAN],
            start,
            start + TimeDelta::hours(12)
        ),
        vec![start, start + TimeDelta::hours(12), start]
    );
    assert_eq!(
        clock.instants_at_fractions(wd, &[0.5], due, start),
        vec![start]
    );
    assert!(clock.instants_at_fractions(wd, &[], start, due).is_empty());
}

#[test]
fn warning_instants_are_ordered_and_within_the_interval() {
    let cal = calendar();
    let clock = SlaClock::new(&cal, Shanghai);
    let fractions = [0.1, 0.25, 0.5, 0.8, 0.95];
    for start in [
        sh(2026, 2, 12, 10, 0),
        sh(2026, 2, 14, 9, 0),
        sh(2026, 9, 30, 23, 0),
        sh(2026, 12, 31, 18, 0),
    ] {
        for limit in [
            Limit::WorkingDays(3),
            Limit::WorkingDays(15),
            Limit::Hours(12),
        ] {
            let due = clock.add(start, limit);
            let instants = clock.instants_at_fractions(limit, &fractions, start, due);
            assert_eq!(instants.len(), fractions.len());
            assert!(instants.windows(2).all(|w| w[0] < w[1]), "{instants:?}");
            assert!(instants.iter().all(|&t| start <= t && t < due));
            if !limit.is_clock_time() {
                let total = clock.working_time_between(start, due);
                for (&t, &f) in instants.iter().zip(&fractions) {
                    assert_eq!(clock.working_time_between(start, t), scale(total, f));
                    assert!(cal.is_working_day(t.with_timezone(&Shanghai).date_naive()));
                }
            }
        }
    }
}

#[test]
fn uncovered_year_uses_weekends_only() {
    let cal = calendar();
    let clock = SlaClock::new(&cal, Shanghai);
    // 2031-10-01 (Wed) is not known to be a holiday without the 2031 notice.
    assert_eq!(
        clock.add(sh(2031, 9, 30, 10, 0), WD3),
        sh(2031, 10, 3, 10, 0)
    );
    let mut cal = calendar();
    cal.extend_from_csv(
        "date,kind,festival\n2031-10-01,holiday,National Day\n2031-10-02,holiday,National Day\n",
    )
    .unwrap();
    let clock = SlaClock::new(&cal, Shanghai);
    assert_eq!(
        clock.add(sh(2031, 9, 30, 10, 0), WD3),
        sh(2031, 10, 7, 10, 0)
    );
}

#[test]
fn daylight_saving_gaps_and_overlaps_do_not_panic() {
    use chrono_tz::Europe::Berlin;
    // Make the DST Sundays working days so that deadlines land on them.
    let cal = BusinessCalendar::from_csv(
        "date,kind,festival\n2026-03-28,workday,\n2026-03-29,workday,\n2026-10-25,workday,\n",
    )
    .unwrap();
    let clock = SlaClock::new(&cal, Berlin);
    let berlin = |y, m, d, h, min| {
        Berlin
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .earliest()
            .unwrap()
            .with_timezone(&Utc)
    };
    // Saturday 02:30 + 1wd → Sunday 02:30, which does not exist (02:00 → 03:00): 03:30 CEST.
    let due = clock.add(berlin(2026, 3, 28, 2, 30), Limit::WorkingDays(1));
    assert_eq!(due, utc(2026, 3, 29, 1, 30));
    // Saturday 02:30 + 1wd → Sunday 02:30, which occurs twice: the earlier (CEST).
    let cal2 = BusinessCalendar::from_csv(
        "date,kind,festival\n2026-10-24,workday,\n2026-10-25,workday,\n",
    )
    .unwrap();
    let clock2 = SlaClock::new(&cal2, Berlin);
    let due = clock2.add(berlin(2026, 10, 24, 2, 30), Limit::WorkingDays(1));
    assert_eq!(due, utc(2026, 10, 25, 0, 30));
    // The 23-hour and 25-hour days count as they are.
    assert_eq!(
        clock.working_time_between(
            utc(2026, 3, 28, 0, 0) - TimeDelta::hours(1),
            utc(2026, 3, 30, 0, 0) - TimeDelta::hours(2)
        ),
        TimeDelta::hours(47)
    );
    assert_eq!(
        clock2.working_time_between(
            utc(2026, 10, 24, 0, 0) - TimeDelta::hours(2),
            utc(2026, 10, 26, 0, 0) - TimeDelta::hours(1)
        ),
        TimeDelta::hours(49)
    );
}

#[test]
fn the_shipped_file_documents_every_field() {
    // Every key the format knows appears (possibly commented out) in the shipped file.
    for key in [
        "response",
        "warnings",
        "[resolution]",
        "normal",
        "urgent",
        "[rework]",
        "limit",
        "[extension]",
        "lead",
        "urgent_lead",
        "[[rule]]",
        "kind",
        "channel",
        "priority",
    ] {
        assert!(DEFAULT_POLICIES_TOML.contains(key), "{key}");
    }
}
