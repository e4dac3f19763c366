use super::*;
use chrono::TimeZone;

#[test]
fn uses_local_day() {
    // 2026-11-21 17:00 UTC is already 2026-11-22 01:00 in Shanghai.
    let at = Utc.with_ymd_and_hms(2026, 11, 21, 17, 0, 0).unwrap();
    let day = ticket_day(at, chrono_tz::Asia::Shanghai);
    assert_eq!(format_ticket_no(day, 123), "20261122-000123");
    assert_eq!(ticket_day(at, chrono_tz::UTC).to_string(), "2026-11-21");
}

#[test]
fn sorts_by_day_then_counter() {
    let d1 = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    let d2 = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let mut v = vec![
        format_ticket_no(d2, 1),
        format_ticket_no(d1, 10),
        format_ticket_no(d1, 9),
    ];
    v.sort();
    assert_eq!(v, ["20261122-000009", "20261122-000010", "20261123-000001"]);
}
