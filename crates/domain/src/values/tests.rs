use super::*;
use chrono::Duration;

/// A single-line text value: `padded` is trimmed to `trimmed`, blanks are
/// refused, `control` (holding a control character) is refused, and `max`
/// characters of `fill` are the most it takes.
fn assert_single_line<T: AsRef<str> + fmt::Debug + PartialEq>(
    parse: fn(&str) -> Result<T, ValueError>,
    (padded, trimmed): (&str, &str),
    control: &str,
    (fill, max): (&str, usize),
) {
    assert_eq!(parse(padded).expect("valid").as_ref(), trimmed);
    assert_eq!(parse("   "), Err(ValueError::Blank));
    assert_eq!(parse(control), Err(ValueError::ControlCharacter));
    assert!(parse(&fill.repeat(max)).is_ok());
    assert_eq!(parse(&fill.repeat(max + 1)), Err(ValueError::TooLong { max }));
}

#[test]
fn names_are_trimmed_non_blank_and_bounded() {
    assert_single_line(Name::parse, ("  North Yard ", "North Yard"), "a\u{0}b", ("x", 200));
}

#[test]
fn email_is_trimmed_and_lower_cased() {
    let e = Email::parse("  Alice.Smith@Example.COM ").expect("valid");
    assert_eq!(e.as_str(), "alice.smith@example.com");
    assert_eq!(e.to_string(), "alice.smith@example.com");
    assert_eq!(e.domain(), "example.com");
    assert_eq!(e, Email::parse("alice.smith@example.com").expect("valid"));
}

#[test]
fn email_rejects_malformed_addresses() {
    for bad in [
        "",
        "   ",
        "alice",
        "@example.com",
        "alice@",
        "alice@example",
        "alice@@example.com",
        "a@b@example.com",
        "alice@example..com",
        "alice@.example.com",
        "alice@example.com.",
        "al ice@example.com",
        "alice@exa\tmple.com",
        "alice\u{0}@example.com",
    ] {
        assert_eq!(Email::parse(bad), Err(ValueError::InvalidEmail), "{bad:?} should be refused");
    }
}

#[test]
fn email_has_a_length_limit() {
    let local = "a".repeat(64);
    let domain = format!("{}.com", "b".repeat(254 - 64 - 1 - 4));
    let ok = format!("{local}@{domain}");
    assert_eq!(ok.len(), 254);
    assert!(Email::parse(&ok).is_ok());
    let too_long = format!("{local}@b{domain}");
    assert_eq!(Email::parse(&too_long), Err(ValueError::TooLong { max: 254 }));
}

#[test]
fn email_serde_round_trips_and_validates() {
    let e: Email = serde_json::from_str("\"Bob@Example.org\"").expect("valid");
    assert_eq!(e.as_str(), "bob@example.org");
    assert_eq!(serde_json::to_string(&e).expect("serialise"), "\"bob@example.org\"");
    assert!(serde_json::from_str::<Email>("\"nope\"").is_err());
    assert!(serde_json::from_str::<Username>("\"_x\"").is_err());
}

#[test]
fn username_rules() {
    let u = Username::parse("Alice_01").expect("valid");
    assert_eq!(u.as_str(), "Alice_01");
    assert_eq!(u.canonical(), "alice_01");
    assert!(Username::parse("a.b-c").is_ok());
    assert!(Username::parse("9lives").is_ok());
    assert_eq!(Username::parse("ab"), Err(ValueError::TooShort { min: 3 }));
    assert_eq!(Username::parse(&"a".repeat(33)), Err(ValueError::TooLong { max: 32 }));
    assert!(Username::parse(&"a".repeat(32)).is_ok());
    assert_eq!(Username::parse("_alice"), Err(ValueError::InvalidUsername));
    assert_eq!(Username::parse(".alice"), Err(ValueError::InvalidUsername));
    assert_eq!(Username::parse("al ice"), Err(ValueError::InvalidUsername));
    assert_eq!(Username::parse("alicé"), Err(ValueError::InvalidUsername));
    assert_eq!(Username::parse("a@b"), Err(ValueError::InvalidUsername));
    assert_eq!(Username::parse(""), Err(ValueError::Blank));
    assert_eq!(Username::parse("  bob  ").expect("valid").as_str(), "bob");
}

#[test]
fn password_rules_and_redacted_debug() {
    let p = Password::parse("correct horse").expect("valid");
    assert_eq!(p.expose(), "correct horse");
    assert_eq!(format!("{p:?}"), "Password(***)");
    assert_eq!(Password::parse("short"), Err(ValueError::TooShort { min: 10 }));
    // Counted in characters, not bytes: 9 two-byte chars is too short.
    assert_eq!(Password::parse(&"é".repeat(9)), Err(ValueError::TooShort { min: 10 }));
    assert!(Password::parse(&"é".repeat(10)).is_ok());
    assert_eq!(Password::parse(&" ".repeat(12)), Err(ValueError::Blank));
    assert_eq!(Password::parse(&"x".repeat(1025)), Err(ValueError::TooLong { max: 1024 }));
    assert!(Password::parse(&"x".repeat(1024)).is_ok());
}

#[test]
fn display_name_rules() {
    let padded = ("  Ada Lovelace ", "Ada Lovelace");
    assert_single_line(DisplayName::parse, padded, "Ada\nLovelace", ("é", 100));
}

#[test]
fn message_counts_characters_not_bytes() {
    assert!(Message::parse(&"é".repeat(1000)).is_ok());
    assert_eq!(Message::parse(&"a".repeat(1001)), Err(ValueError::TooLong { max: 1000 }));
    assert!(Message::parse("line one\nline two\ttab").is_ok());
    assert_eq!(Message::parse("nul \u{0} here"), Err(ValueError::ControlCharacter));
    assert_eq!(Message::parse_optional(None), Ok(None));
    assert_eq!(Message::parse_optional(Some("  ")), Ok(None));
    assert!(Message::parse_optional(Some("hi")).expect("ok").is_some());
}

#[test]
fn expiry_must_be_in_the_future() {
    let now = Utc::now();
    assert_eq!(
        Expiry::parse(now + Duration::seconds(1), now).expect("future").at(),
        now + Duration::seconds(1)
    );
    assert_eq!(Expiry::parse(now, now), Err(ValueError::NotInFuture));
    assert_eq!(Expiry::parse(now - Duration::days(1), now), Err(ValueError::NotInFuture));
    assert_eq!(Expiry::parse_optional(None, now), Ok(None));
}

#[test]
fn expiry_ends_with_the_year_9999() {
    let now = Utc::now();
    let last = NaiveDate::from_ymd_opt(9999, 12, 31)
        .and_then(|d| d.and_hms_opt(23, 59, 59))
        .expect("date")
        .and_utc();
    assert_eq!(Expiry::parse(last, now).map(|e| e.at()), Ok(last));
    assert_eq!(Expiry::parse(last + Duration::seconds(1), now), Err(ValueError::YearOutOfRange));
    assert_eq!(ValueError::YearOutOfRange.to_string(), "must be between the years 1 and 9999");
}

#[test]
fn dates_and_times_are_years_1_to_9999() {
    let day = |y| NaiveDate::from_ymd_opt(y, 1, 1).expect("date");
    assert_eq!(storable_date(day(1)), Ok(day(1)));
    assert_eq!(storable_date(day(9999)), Ok(day(9999)));
    for y in [0, -1, 10000, -262_143, 262_142] {
        assert_eq!(storable_date(day(y)), Err(ValueError::YearOutOfRange));
    }
    let first = day(1).and_hms_opt(0, 0, 0).expect("time").and_utc();
    assert_eq!(storable_moment(first), Ok(first));
    assert_eq!(storable_moment(first - Duration::seconds(1)), Err(ValueError::YearOutOfRange));
}

#[test]
fn control_characters_are_refused_except_line_breaks_in_free_text() {
    for c in ['\u{0}', '\u{1}', '\u{1b}', '\u{1f}', '\u{7f}', '\u{85}', '\u{9f}'] {
        assert!(is_refused_control(c, false), "{c:?}");
        assert!(is_refused_control(c, true), "{c:?}");
    }
    for c in ['\n', '\r', '\t'] {
        assert!(is_refused_control(c, false), "{c:?}");
        assert!(!is_refused_control(c, true), "{c:?}");
    }
    for c in ['a', ' ', '\u{a0}', '\u{200b}', '\u{2028}', 'é'] {
        assert!(!is_refused_control(c, false), "{c:?}");
    }
}

#[test]
fn expiry_is_reached_at_its_instant() {
    let now = Utc::now();
    assert!(!is_past(None, now));
    assert!(!is_past(Some(now + Duration::seconds(1)), now));
    assert!(is_past(Some(now), now));
    assert!(is_past(Some(now - Duration::seconds(1)), now));
}

#[test]
fn value_error_messages_read_as_field_messages() {
    assert_eq!(ValueError::InvalidEmail.to_string(), "must be a valid email address");
    assert_eq!(ValueError::TooShort { min: 10 }.to_string(), "must be at least 10 characters");
    assert_eq!(ValueError::TooLong { max: 1000 }.to_string(), "must be at most 1000 characters");
    assert_eq!(ValueError::NotInFuture.to_string(), "must be in the future");
    assert_eq!(
        ValueError::OneOf { allowed: "view, edit, manage" }.to_string(),
        "must be one of view, edit, manage"
    );
}
