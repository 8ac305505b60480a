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

/// Declares a string newtype (`$ty(String)`, private field) with `as_str`,
/// `Display`, `AsRef<str>`, `FromStr`/`TryFrom<String>` and string serde, all
/// through its `parse` constructor. With `single_line: max`, `parse` is
/// [`single_line_text`] with at most `max` characters (`MAX_CHARS`).
macro_rules! string_value {
    ($(#[$meta:meta])* $ty:ident, single_line: $max:literal) => {
        string_value!($(#[$meta])* $ty);

        impl $ty {
            pub const MAX_CHARS: usize = $max;

            pub fn parse(input: &str) -> Result<Self, ValueError> {
                single_line_text(input, Self::MAX_CHARS).map(Self)
            }
        }
    };
    ($(#[$meta:meta])* $ty:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $ty(String);

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

string_value!(
    /// An email address: trimmed and lower-cased, so two spellings of one
    /// address compare equal (the spec compares emails case-insensitively).
    #[derive(PartialOrd, Ord)]
    Email
);

impl Email {
    pub const MAX_CHARS: usize = 254;

    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let s = input.trim().to_lowercase();
        if s.is_empty() {
            return Err(ValueError::InvalidEmail);
        }
        if s.chars().count() > Self::MAX_CHARS {
            return Err(ValueError::TooLong { max: Self::MAX_CHARS });
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

string_value!(
    /// A username: 3 to 32 ASCII letters, digits, `_`, `.` or `-`, starting
    /// with a letter or digit. The case is kept as typed for display;
    /// uniqueness and lookups use [`Username::canonical`].
    Username
);

impl Username {
    pub const MIN_CHARS: usize = 3;
    pub const MAX_CHARS: usize = 32;

    /// Surrounding whitespace is ignored; everything else must be allowed.
    pub fn parse(input: &str) -> Result<Self, ValueError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(ValueError::Blank);
        }
        if !s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
            || !s.starts_with(|c: char| c.is_ascii_alphanumeric())
        {
            return Err(ValueError::InvalidUsername);
        }
        // ASCII only from here, so bytes == chars.
        if s.len() < Self::MIN_CHARS {
            return Err(ValueError::TooShort { min: Self::MIN_CHARS });
        }
        if s.len() > Self::MAX_CHARS {
            return Err(ValueError::TooLong { max: Self::MAX_CHARS });
        }
        Ok(Self(s.to_owned()))
    }

    /// The lower-case form used for uniqueness and lookup.
    pub fn canonical(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

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
            return Err(ValueError::TooShort { min: Self::MIN_CHARS });
        }
        if n > Self::MAX_CHARS {
            return Err(ValueError::TooLong { max: Self::MAX_CHARS });
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

string_value!(
    /// A display name: trimmed, 1 to 100 characters, no control characters.
    DisplayName, single_line: 100
);

string_value!(
    /// The name of an estate, a site or an asset: trimmed, 1 to 200
    /// characters, no control characters.
    Name, single_line: 200
);

string_value!(
    /// The inviter's plain-text message: at most 1,000 characters (Unicode
    /// scalar values, not bytes). Line breaks and tabs are allowed; other
    /// control characters (NUL among them, which PostgreSQL text cannot
    /// store) are not. The text is kept as typed; it is escaped wherever it
    /// is rendered.
    Message
);

impl Message {
    pub const MAX_CHARS: usize = 1000;

    pub fn parse(input: &str) -> Result<Self, ValueError> {
        if input.chars().count() > Self::MAX_CHARS {
            return Err(ValueError::TooLong { max: Self::MAX_CHARS });
        }
        if input.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
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
    if (MIN_YEAR..=MAX_YEAR).contains(&d.year()) { Ok(d) } else { Err(ValueError::YearOutOfRange) }
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
        if at > now { Ok(Self(at)) } else { Err(ValueError::NotInFuture) }
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
mod tests;
