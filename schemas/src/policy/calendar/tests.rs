use super::*;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).unwrap()
}

fn official() -> BusinessCalendar {
    BusinessCalendar::official().unwrap()
}

#[test]
fn official_data_loads_and_covers_2020_to_2026() {
    let cal = official();
    assert_eq!(
        cal.years().collect::<Vec<_>>(),
        (2020..=2026).collect::<Vec<_>>()
    );
    for year in 2020..=2026 {
        assert!(cal.covers(year), "{year}");
    }
    assert!(!cal.covers(2019));
    assert!(!cal.covers(2031));
}

#[test]
fn shipped_copy_matches_shared_data() {
    let shared = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/calendar/cn-official-days.csv"
    );
    // Only checked where the shared data directory exists next to the workspace.
    if let Ok(text) = std::fs::read_to_string(shared) {
        assert_eq!(text, OFFICIAL_CSV);
    }
}

#[test]
fn ordinary_weekends_and_weekdays() {
    let cal = official();
    // 2026-11-16 is a Monday; no holiday that week.
    for day in 16..=20 {
        assert!(cal.is_working_day(d(2026, 11, day)), "2026-11-{day}");
    }
    assert!(!cal.is_working_day(d(2026, 11, 21))); // Saturday
    assert!(!cal.is_working_day(d(2026, 11, 22))); // Sunday
    assert_eq!(cal.listed(d(2026, 11, 21)), None);
    assert_eq!(cal.next_working_day(d(2026, 11, 20)), d(2026, 11, 23));
    assert_eq!(cal.next_working_day(d(2026, 11, 21)), d(2026, 11, 23));
    assert_eq!(cal.next_working_day(d(2026, 11, 18)), d(2026, 11, 19));
}

#[test]
fn spring_festival_2026() {
    let cal = official();
    // Holiday 2026-02-15 (Sun) .. 2026-02-23 (Mon), including the weekday 02-16..02-20, 02-23.
    for day in 15..=23 {
        let date = d(2026, 2, day);
        assert!(!cal.is_working_day(date), "{date}");
        assert_eq!(cal.listed(date), Some(DayKind::Holiday));
        assert_eq!(cal.festival(date), Some("Spring Festival"));
    }
    // Adjusted working Saturdays before and after.
    assert_eq!(d(2026, 2, 14).weekday(), Weekday::Sat);
    assert!(cal.is_working_day(d(2026, 2, 14)));
    assert_eq!(cal.listed(d(2026, 2, 14)), Some(DayKind::Workday));
    assert_eq!(d(2026, 2, 28).weekday(), Weekday::Sat);
    assert!(cal.is_working_day(d(2026, 2, 28)));
    // The Sunday after 02-14 is a holiday, the Sunday after 02-28 an ordinary rest day.
    assert!(!cal.is_working_day(d(2026, 3, 1)));
    // Friday 02-13 → Saturday 02-14 (working) → Tuesday 02-24.
    assert_eq!(cal.next_working_day(d(2026, 2, 13)), d(2026, 2, 14));
    assert_eq!(cal.next_working_day(d(2026, 2, 14)), d(2026, 2, 24));
    assert_eq!(cal.add_working_days(d(2026, 2, 12), 3), d(2026, 2, 24));
    assert_eq!(cal.add_working_days(d(2026, 2, 27), 1), d(2026, 2, 28));
    assert_eq!(cal.add_working_days(d(2026, 2, 27), 2), d(2026, 3, 2));
}

#[test]
fn national_day_2026() {
    let cal = official();
    for day in 1..=7 {
        assert!(!cal.is_working_day(d(2026, 10, day)), "2026-10-{day}");
    }
    // Mid-autumn 2026-09-25..27 is off too; 2026-09-20 (Sun) and 2026-10-10 (Sat) are worked.
    for day in 25..=27 {
        assert!(!cal.is_working_day(d(2026, 9, day)), "2026-09-{day}");
    }
    assert_eq!(d(2026, 9, 20).weekday(), Weekday::Sun);
    assert!(cal.is_working_day(d(2026, 9, 20)));
    assert_eq!(d(2026, 10, 10).weekday(), Weekday::Sat);
    assert!(cal.is_working_day(d(2026, 10, 10)));
    assert!(!cal.is_working_day(d(2026, 10, 11)));
    assert_eq!(cal.next_working_day(d(2026, 9, 30)), d(2026, 10, 8));
    // 10-08 (Thu), 10-09 (Fri), 10-10 (Sat, adjusted).
    assert_eq!(cal.add_working_days(d(2026, 9, 30), 3), d(2026, 10, 10));
    assert_eq!(cal.add_working_days(d(2026, 9, 30), 4), d(2026, 10, 12));
}

#[test]
fn add_zero_working_days_is_the_same_day() {
    let cal = official();
    assert_eq!(cal.add_working_days(d(2026, 10, 3), 0), d(2026, 10, 3));
    assert_eq!(cal.add_working_days(d(2026, 11, 18), 1), d(2026, 11, 19));
}

#[test]
fn uncovered_year_falls_back_to_weekends() {
    let cal = official();
    assert!(!cal.covers(2031));
    // 2031-10-01 is a Wednesday: without that year's notice it is a working day.
    assert_eq!(d(2031, 10, 1).weekday(), Weekday::Wed);
    assert!(cal.is_working_day(d(2031, 10, 1)));
    assert!(!cal.is_working_day(d(2031, 10, 4))); // Saturday
    assert_eq!(cal.add_working_days(d(2031, 9, 30), 3), d(2031, 10, 3));
    // Warned once, remembered across clones.
    let clone = cal.clone();
    assert!(clone.is_working_day(d(2031, 10, 2)));
    assert!(cal.warned.lock().unwrap().contains(&2031));
}

#[test]
fn extend_with_next_years_notice_without_code_change() {
    let mut cal = official();
    assert!(cal.is_working_day(d(2031, 10, 1)));
    let notice_2031 = "\
date,kind,festival
# A made-up notice, as a city would load it.
2031-09-28,workday,National Day
2031-10-01,holiday,National Day
2031-10-02,holiday,National Day
2031-10-03,holiday,National Day
2031-10-04,holiday,National Day
2031-10-05,holiday,National Day
2031-10-06,holiday,National Day
2031-10-07,holiday,National Day
2031-10-11,workday,
";
    cal.extend_from_csv(notice_2031).unwrap();
    assert!(cal.covers(2031));
    assert!(!cal.is_working_day(d(2031, 10, 1)));
    assert!(cal.is_working_day(d(2031, 9, 28))); // Sunday, adjusted
    assert!(cal.is_working_day(d(2031, 10, 11))); // Saturday, adjusted
    assert_eq!(cal.festival(d(2031, 10, 11)), None);
    assert_eq!(cal.festival(d(2031, 10, 1)), Some("National Day"));
    // 09-30 (Tue) → 10-08 (Wed), 10-09, 10-10.
    assert_eq!(cal.add_working_days(d(2031, 9, 30), 3), d(2031, 10, 10));
    // Earlier years untouched.
    assert!(!cal.is_working_day(d(2026, 10, 1)));
}

#[test]
fn later_entries_win() {
    let mut cal = official();
    cal.extend_from_csv("date,kind,festival\n2026-10-07,workday,Correction\n")
        .unwrap();
    assert!(cal.is_working_day(d(2026, 10, 7)));
    assert_eq!(cal.festival(d(2026, 10, 7)), Some("Correction"));
    // Within one text, the later line wins too.
    let cal = BusinessCalendar::from_csv(
        "date,kind,festival\n2027-01-04,holiday,A\n2027-01-04,workday,B\n",
    )
    .unwrap();
    assert!(cal.is_working_day(d(2027, 1, 4)));
}

#[test]
fn failed_extension_adds_nothing() {
    let mut cal = official();
    let err = cal
        .extend_from_csv("date,kind,festival\n2031-10-01,holiday,X\n2031-10-02,holliday,X\n")
        .unwrap_err();
    assert_eq!(
        err,
        CalendarError::UnknownKind {
            line: 3,
            value: "holliday".into()
        }
    );
    assert!(!cal.covers(2031));
    assert!(cal.is_working_day(d(2031, 10, 1)));
}

#[test]
fn bad_date_names_line_and_value() {
    let err = BusinessCalendar::from_csv(
        "date,kind,festival\n2026-01-01,holiday,A\n2026-02-30,holiday,B\n",
    )
    .unwrap_err();
    assert_eq!(
        err,
        CalendarError::BadDate {
            line: 3,
            value: "2026-02-30".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "calendar CSV line 3: bad date \"2026-02-30\", expected YYYY-MM-DD"
    );
    let err = BusinessCalendar::from_csv("date,kind,festival\n01/10/2026,holiday,A\n").unwrap_err();
    assert!(matches!(err, CalendarError::BadDate { line: 2, ref value } if value == "01/10/2026"));
}

#[test]
fn unknown_kind_names_line_and_value() {
    let err = BusinessCalendar::from_csv("date,kind,festival\n2026-01-01,day-off,A\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "calendar CSV line 2: unknown kind \"day-off\", expected \"holiday\" or \"workday\""
    );
    // Case matters: the format is lowercase.
    assert!(BusinessCalendar::from_csv("date,kind,festival\n2026-01-01,Holiday,A\n").is_err());
}

#[test]
fn bad_header_is_refused() {
    let err = BusinessCalendar::from_csv("day,kind,festival\n2026-01-01,holiday,A\n").unwrap_err();
    assert_eq!(
        err,
        CalendarError::BadHeader {
            line: 1,
            found: "day,kind,festival".into()
        }
    );
    assert!(err.to_string().contains("line 1"));
    assert!(err.to_string().contains("\"day,kind,festival\""));
    // A file without a header (first line is data) is refused too.
    let err = BusinessCalendar::from_csv("2026-01-01,holiday,A\n").unwrap_err();
    assert!(matches!(err, CalendarError::BadHeader { line: 1, .. }));
    // Empty text.
    let err = BusinessCalendar::from_csv("").unwrap_err();
    assert!(matches!(err, CalendarError::BadHeader { ref found, .. } if found.is_empty()));
}

#[test]
fn wrong_field_count_is_refused_with_line() {
    let err = BusinessCalendar::from_csv(
        "date,kind,festival\n2026-01-01,holiday,A\n2026-01-02,holiday\n",
    )
    .unwrap_err();
    assert_eq!(
        err,
        CalendarError::Malformed {
            line: 3,
            message: "expected 3 fields (date,kind,festival), found 2".into()
        }
    );
}

#[test]
fn tolerant_of_bom_spaces_crlf_and_comments() {
    let text = "\u{feff}date, kind, festival\r\n# comment\r\n 2027-02-06 , workday , Spring Festival \r\n\r\n2027-02-08,holiday,\"Spring Festival\"\r\n";
    let cal = BusinessCalendar::from_csv(text).unwrap();
    assert!(cal.covers(2027));
    assert!(cal.is_working_day(d(2027, 2, 6)));
    assert_eq!(cal.festival(d(2027, 2, 6)), Some("Spring Festival"));
    assert!(!cal.is_working_day(d(2027, 2, 8)));
}

#[test]
fn empty_calendar_is_weekends_only() {
    let cal = BusinessCalendar::default();
    assert!(!cal.covers(2026));
    assert!(cal.is_working_day(d(2026, 10, 1)));
    assert_eq!(cal.add_working_days(d(2026, 11, 20), 3), d(2026, 11, 25));
}

#[test]
fn end_of_range_does_not_panic() {
    let cal = BusinessCalendar::default();
    assert_eq!(cal.next_working_day(NaiveDate::MAX), NaiveDate::MAX);
    assert_eq!(cal.add_working_days(NaiveDate::MAX, 5), NaiveDate::MAX);
}

#[test]
fn every_official_workday_is_a_weekend_day() {
    let cal = official();
    for (date, entry) in &cal.days {
        if entry.kind == DayKind::Workday {
            assert!(
                matches!(date.weekday(), Weekday::Sat | Weekday::Sun),
                "{date} is listed as an adjusted working day but is a weekday"
            );
        }
    }
}
