//! Validated values ("parse, don't validate").
//!
//! Each newtype has a private field and a `parse` constructor; once you hold an
//! [`Email`] or a [`Username`] it is valid and no code checks it again. The
//! [`ValueError`] messages are written to be shown next to a field in a 422
//! answer ("must be a valid email address").

use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

/// Why a value was refused. `Display` is a short message for a 422 field error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("must be a valid email address")]
    InvalidEmail,
    #[error(
        "must contain only ASCII letters, digits, '_', '.' and '-', and start with a letter or digit"
    )]
    InvalidUsername,
    #[error("must not be blank")]
    Blank,
    #[error("must be at least {min} characters")]
    TooShort { min: usize },
    #[error("must be at most {max} characters")]
    TooLong { max: usize },
    #[error("must not contain control characters")]
    ControlCharacter,
    #[error("must be in the future")]
    NotInFuture,
    /// A date or time outside the years both databases store and compare.
    #[error("must be between the years {min} and {max}", min = MIN_YEAR, max = MAX_YEAR)]
    YearOutOfRange,
    /// A role, permission or state outside the allowed values.
    #[error("must be one of {allowed}")]
    OneOf { allowed: &'static str },
}

impl ValueError {
    /// A stable machine code for the field error.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidEmail => "invalid_email",
            Self::InvalidUsername => "invalid_username",
            Self::Blank => "blank",
            Self::TooShort { .. } => "too_short",
            Self::TooLong { .. } => "too_long",
            Self::ControlCharacter => "control_character",
            Self::NotInFuture => "not_in_future",
            Self::YearOutOfRange => "year_out_of_range",
            Self::OneOf { .. } => "not_allowed_value",
        }
    }
}

/// Implements `as_str`, `Display`, `AsRef<str>`, `FromStr`/`TryFrom<String>`
/// and string serde for a string newtype with a `parse` constructor.
macro_rules! string_value {
    ($ty:ident) => {
        impl $ty {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $ty {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::str::FromStr for $ty {
            type Err = ValueError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }

        impl TryFrom<String> for $ty {
            type Error = ValueError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(&s)
            }
        }

        impl TryFrom<&str> for $ty {
            type Error = ValueError;
            fn try_from(s: &str) -> Result<Self, Self::Error> {
                Self::parse(s)
            }
        }

        impl From<$ty> for String {
            fn from(v: $ty) -> String {
                v.0
            }
        }
    };
}

/// An email address: trimmed and lower-cased, so two spellings of one address
/// compare equal (the spec compares emails case-insensitively).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub const MAX_CHARS: usize = 254;

    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let s = input.trim().to_lowercase();
        if s.is_empty() {
            return Err(ValueError::InvalidEmail);
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(ValueError::TooLong {
                max: Self::MAX_CHARS,
            });
        }
        if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ValueError::InvalidEmail);
        }
        let mut parts = s.split('@');
        let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(ValueError::InvalidEmail);
        };
        if local.is_empty() || !domain.contains('.') || domain.split('.').any(str::is_empty) {
            return Err(ValueError::InvalidEmail);
        }
        Ok(Self(s))
    }

    /// The part after the `@`.
    pub fn domain(&self) -> &str {
        self.0.rsplit('@').next().unwrap_or_default()
    }
}
string_value!(Email);

/// A username: 3 to 32 ASCII letters, digits, `_`, `.` or `-`, starting with a
/// letter or digit. The case is kept as typed for display; uniqueness and
/// lookups use [`Username::canonical`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Username(String);

impl Username {
    pub const MIN_CHARS: usize = 3;
    pub const MAX_CHARS: usize = 32;

    /// Surrounding whitespace is ignored; everything else must be allowed.
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(ValueError::Blank);
        }
        if !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
            || !s.starts_with(|c: char| c.is_ascii_alphanumeric())
        {
            return Err(ValueError::InvalidUsername);
        }
        // ASCII only from here, so bytes == chars.
        if s.len() < Self::MIN_CHARS {
            return Err(ValueError::TooShort {
                min: Self::MIN_CHARS,
            });
        }
        if s.len() > Self::MAX_CHARS {
            return Err(ValueError::TooLong {
                max: Self::MAX_CHARS,
            });
        }
        Ok(Self(s.to_owned()))
    }

    /// The lower-case form used for uniqueness and lookup.
    pub fn canonical(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}
string_value!(Username);

/// A plain-text password as typed. Never printed: `Debug` shows
/// `Password(***)` and there is no `Display` or `Serialize`.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 10;
    pub const MAX_CHARS: usize = 1024;

    /// Kept exactly as typed (no trimming): whitespace is part of a password.
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let n = input.chars().count();
        if n < Self::MIN_CHARS {
            return Err(ValueError::TooShort {
                min: Self::MIN_CHARS,
            });
        }
        if n > Self::MAX_CHARS {
            return Err(ValueError::TooLong {
                max: Self::MAX_CHARS,
            });
        }
        if input.chars().all(char::is_whitespace) {
            return Err(ValueError::Blank);
        }
        Ok(Self(input.to_owned()))
    }

    /// The secret itself, for hashing only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

impl TryFrom<String> for Password {
    type Error = ValueError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

/// Trimmed, non-blank, at most `max` characters, no control characters.
fn single_line_text(input: &str, max: usize) -> Result<String, ValueError> {
    let s = input.trim();
    if s.is_empty() {
        return Err(ValueError::Blank);
    }
    if s.chars().any(char::is_control) {
        return Err(ValueError::ControlCharacter);
    }
    if s.chars().count() > max {
        return Err(ValueError::TooLong { max });
    }
    Ok(s.to_owned())
}

/// A display name: trimmed, 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(input: &str) -> Result<Self, ValueError> {
        single_line_text(input, Self::MAX_CHARS).map(Self)
    }
}
string_value!(DisplayName);

/// The name of an estate, a site or an asset: trimmed, 1 to 200 characters,
/// no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Name(String);

impl Name {
    pub const MAX_CHARS: usize = 200;

    pub fn parse(input: &str) -> Result<Self, ValueError> {
        single_line_text(input, Self::MAX_CHARS).map(Self)
    }
}
string_value!(Name);

/// The inviter's plain-text message: at most 1,000 characters (Unicode scalar
/// values, not bytes). Line breaks and tabs are allowed; other control
/// characters (NUL among them, which PostgreSQL text cannot store) are not.
/// The text is kept as typed; it is escaped wherever it is rendered.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Message(String);

impl Message {
    pub const MAX_CHARS: usize = 1000;

    pub fn parse(input: &str) -> Result<Self, ValueError> {
        if input.chars().count() > Self::MAX_CHARS {
            return Err(ValueError::TooLong {
                max: Self::MAX_CHARS,
            });
        }
        if input
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(ValueError::ControlCharacter);
        }
        Ok(Self(input.to_owned()))
    }

    /// An optional message: absent or blank (only whitespace) is no message.
    pub fn parse_optional(input: Option<&str>) -> Result<Option<Self>, ValueError> {
        match input {
            None => Ok(None),
            Some(s) if s.trim().is_empty() => Ok(None),
            Some(s) => Self::parse(s).map(Some),
        }
    }
}
string_value!(Message);

/// Whether `c` is refused in text that is stored or searched: every control
/// character (Unicode category Cc: U+0000 to U+001F and U+007F to U+009F;
/// PostgreSQL text cannot hold NUL at all). Multi-line free text (a message,
/// notes) keeps line feed, carriage return and tab.
pub fn is_refused_control(c: char, multi_line: bool) -> bool {
    c.is_control() && !(multi_line && matches!(c, '\n' | '\r' | '\t'))
}

/// The first year a client may send in a date or time.
pub const MIN_YEAR: i32 = 1;
/// The last year a client may send in a date or time: SQLite compares
/// timestamps as text, which orders only four-digit years (year 10000 would
/// sort before 2026), and PostgreSQL's range starts in 4713 BC.
pub const MAX_YEAR: i32 = 9999;

/// A client-supplied moment within [`MIN_YEAR`]..=[`MAX_YEAR`] (in UTC).
pub fn storable_moment(at: DateTime<Utc>) -> Result<DateTime<Utc>, ValueError> {
    if (MIN_YEAR..=MAX_YEAR).contains(&at.year()) {
        Ok(at)
    } else {
        Err(ValueError::YearOutOfRange)
    }
}

/// A client-supplied date within [`MIN_YEAR`]..=[`MAX_YEAR`].
pub fn storable_date(d: NaiveDate) -> Result<NaiveDate, ValueError> {
    if (MIN_YEAR..=MAX_YEAR).contains(&d.year()) {
        Ok(d)
    } else {
        Err(ValueError::YearOutOfRange)
    }
}

/// A moment that was in the future when it was given (an invitation's
/// `expires_at`, a share's `access_expires_at`), no later than the year
/// [`MAX_YEAR`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Expiry(DateTime<Utc>);

impl Expiry {
    /// `at` must be strictly after `now`, and no later than the year
    /// [`MAX_YEAR`].
    pub fn parse(at: DateTime<Utc>, now: DateTime<Utc>) -> Result<Self, ValueError> {
        let at = storable_moment(at)?;
        if at > now {
            Ok(Self(at))
        } else {
            Err(ValueError::NotInFuture)
        }
    }

    /// An optional expiry: `None` means never.
    pub fn parse_optional(
        at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Option<Self>, ValueError> {
        at.map(|at| Self::parse(at, now)).transpose()
    }

    pub fn at(&self) -> DateTime<Utc> {
        self.0
    }
}

impl From<Expiry> for DateTime<Utc> {
    fn from(e: Expiry) -> Self {
        e.0
    }
}

/// Whether a moment with an optional expiry has passed it. An expiry is
/// reached at its instant: at `now == at` the thing has expired. `None` never
/// expires.
pub fn is_past(expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    expires_at.is_some_and(|at| now >= at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn names_are_trimmed_non_blank_and_bounded() {
        assert_eq!(
            Name::parse("  North Yard ").map(|n| n.as_str().to_owned()),
            Ok("North Yard".to_owned())
        );
        assert_eq!(Name::parse("   "), Err(ValueError::Blank));
        assert_eq!(Name::parse("a\u{0}b"), Err(ValueError::ControlCharacter));
        assert!(Name::parse(&"x".repeat(200)).is_ok());
        assert_eq!(
            Name::parse(&"x".repeat(201)),
            Err(ValueError::TooLong { max: 200 })
        );
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
            assert_eq!(
                Email::parse(bad),
                Err(ValueError::InvalidEmail),
                "{bad:?} should be refused"
            );
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
        assert_eq!(
            Email::parse(&too_long),
            Err(ValueError::TooLong { max: 254 })
        );
    }

    #[test]
    fn email_serde_round_trips_and_validates() {
        let e: Email = serde_json::from_str("\"Bob@Example.org\"").expect("valid");
        assert_eq!(e.as_str(), "bob@example.org");
        assert_eq!(
            serde_json::to_string(&e).expect("serialise"),
            "\"bob@example.org\""
        );
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
        assert_eq!(
            Username::parse(&"a".repeat(33)),
            Err(ValueError::TooLong { max: 32 })
        );
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
        assert_eq!(
            Password::parse("short"),
            Err(ValueError::TooShort { min: 10 })
        );
        // Counted in characters, not bytes: 9 two-byte chars is too short.
        assert_eq!(
            Password::parse(&"é".repeat(9)),
            Err(ValueError::TooShort { min: 10 })
        );
        assert!(Password::parse(&"é".repeat(10)).is_ok());
        assert_eq!(Password::parse(&" ".repeat(12)), Err(ValueError::Blank));
        assert_eq!(
            Password::parse(&"x".repeat(1025)),
            Err(ValueError::TooLong { max: 1024 })
        );
        assert!(Password::parse(&"x".repeat(1024)).is_ok());
    }

    #[test]
    fn display_name_rules() {
        assert_eq!(
            DisplayName::parse("  Ada Lovelace ")
                .expect("valid")
                .as_str(),
            "Ada Lovelace"
        );
        assert_eq!(DisplayName::parse("   "), Err(ValueError::Blank));
        assert_eq!(
            DisplayName::parse("Ada\nLovelace"),
            Err(ValueError::ControlCharacter)
        );
        assert!(DisplayName::parse(&"é".repeat(100)).is_ok());
        assert_eq!(
            DisplayName::parse(&"é".repeat(101)),
            Err(ValueError::TooLong { max: 100 })
        );
    }

    #[test]
    fn message_counts_characters_not_bytes() {
        assert!(Message::parse(&"é".repeat(1000)).is_ok());
        assert_eq!(
            Message::parse(&"a".repeat(1001)),
            Err(ValueError::TooLong { max: 1000 })
        );
        assert!(Message::parse("line one\nline two\ttab").is_ok());
        assert_eq!(
            Message::parse("nul \u{0} here"),
            Err(ValueError::ControlCharacter)
        );
        assert_eq!(Message::parse_optional(None), Ok(None));
        assert_eq!(Message::parse_optional(Some("  ")), Ok(None));
        assert!(Message::parse_optional(Some("hi")).expect("ok").is_some());
    }

    #[test]
    fn expiry_must_be_in_the_future() {
        let now = Utc::now();
        assert_eq!(
            Expiry::parse(now + Duration::seconds(1), now)
                .expect("future")
                .at(),
            now + Duration::seconds(1)
        );
        assert_eq!(Expiry::parse(now, now), Err(ValueError::NotInFuture));
        assert_eq!(
            Expiry::parse(now - Duration::days(1), now),
            Err(ValueError::NotInFuture)
        );
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
        assert_eq!(
            Expiry::parse(last + Duration::seconds(1), now),
            Err(ValueError::YearOutOfRange)
        );
        assert_eq!(
            ValueError::YearOutOfRange.to_string(),
            "must be between the years 1 and 9999"
        );
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
        assert_eq!(
            storable_moment(first - Duration::seconds(1)),
            Err(ValueError::YearOutOfRange)
        );
    }

    #[test]
    fn control_characters_are_refused_except_line_breaks_in_free_text() {
        for c in [
            '\u{0}', '\u{1}', '\u{1b}', '\u{1f}', '\u{7f}', '\u{85}', '\u{9f}',
        ] {
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
        assert_eq!(
            ValueError::InvalidEmail.to_string(),
            "must be a valid email address"
        );
        assert_eq!(
            ValueError::TooShort { min: 10 }.to_string(),
            "must be at least 10 characters"
        );
        assert_eq!(
            ValueError::TooLong { max: 1000 }.to_string(),
            "must be at most 1000 characters"
        );
        assert_eq!(ValueError::NotInFuture.to_string(), "must be in the future");
        assert_eq!(
            ValueError::OneOf {
                allowed: "view, edit, manage"
            }
            .to_string(),
            "must be one of view, edit, manage"
        );
    }
}
