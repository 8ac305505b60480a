//! Shared pieces of the resource routes: pagination, user summaries, role
//! schemas (references to the enum components of [`super::wire`]) and
//! domain refusals as problems.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::ApiError;

/// Declares a list's query struct (deriving `Debug`, `Deserialize`,
/// `Validate` and `IntoParams`, read from the query string): its own fields
/// as written (each ending with a comma), then the paging fields every list
/// shares, `page`, `per_page` and, where named, `cursor`, each with the doc
/// comment written before its name and the same bounds everywhere. The
/// fields are spelled into the struct rather than flattened from one: with
/// `#[serde(flatten)]` a query string's numbers no longer parse, and each
/// list documents its paging in its own words.
macro_rules! paged_query {
    (
        $(#$attr:tt)*
        pub struct $name:ident { $($fields:tt)* }
        paging {
            $(#$page_doc:tt)* page,
            $(#$per_page_doc:tt)* per_page,
            $($(#$cursor_doc:tt)* cursor,)?
        }
    ) => {
        $(#$attr)*
        #[derive(Debug, serde::Deserialize, validator::Validate, utoipa::IntoParams)]
        #[into_params(parameter_in = Query)]
        pub struct $name {
            $($fields)*
            $(#$page_doc)*
            #[validate(range(min = 1, max = 1_000_000))]
            #[param(minimum = 1, maximum = 1_000_000)]
            pub page: Option<i64>,
            $(#$per_page_doc)*
            #[validate(range(min = 1, max = 100))]
            #[param(minimum = 1, maximum = 100)]
            pub per_page: Option<i64>,
            $(
                $(#$cursor_doc)*
                #[validate(length(min = 1, max = 512))]
                #[param(min_length = 1, max_length = 512, pattern = r"^[A-Za-z0-9_-]+$")]
                pub cursor: Option<String>,
            )?
        }
    };
}
pub(crate) use paged_query;

paged_query! {
    /// The paging of every list: `?cursor=` (the `next_cursor` of the page
    /// before) and `?per_page=`; `?page=` still works for short lists, but a
    /// deep page is as cheap as the first only through the cursor.
    pub struct CursorQuery {}
    paging {
        /// Page number, from 1 (ignored when `cursor` is given). Deep pages by
        /// number cost more the deeper they are; follow `next_cursor` instead.
        page,
        /// Items per page, 1 to 100 (default 25).
        per_page,
        /// The `next_cursor` of the previous page: the page after it.
        cursor,
    }
}

impl CursorQuery {
    pub fn per_page(&self) -> i64 {
        self.per_page.unwrap_or(25)
    }

    /// The page number echoed back (1 when paging by cursor).
    pub fn page(&self) -> i64 {
        if self.cursor.is_some() { 1 } else { self.page.unwrap_or(1) }
    }

    /// Rows to skip: only when paging by number.
    pub fn offset(&self) -> i64 {
        if self.cursor.is_some() { 0 } else { (self.page() - 1).saturating_mul(self.per_page()) }
    }

    /// The decoded cursor (422 `cursor` when it is not one of ours).
    pub fn after(&self) -> Result<Option<Cursor>, ApiError> {
        self.cursor.as_deref().map(Cursor::decode).transpose()
    }

    /// The rows this page holds, the cursor's sort key read by `key` (422
    /// `cursor` when it is not this list's).
    pub fn window<K>(
        &self,
        key: impl Fn(&Cursor) -> Result<K, ApiError>,
    ) -> Result<keyholder_store::paging::Window<K>, ApiError> {
        let after = self.after()?.map(|c| Ok::<_, ApiError>((key(&c)?, c.id))).transpose()?;
        Ok(keyholder_store::paging::Window { limit: self.per_page(), offset: self.offset(), after })
    }
}

/// A keyset position: the sort key of the last row shown and its id. Sent
/// to clients as an opaque string.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor {
    /// The sort key of the last row (its text form).
    #[serde(rename = "k")]
    pub key: Option<String>,
    /// The last row's id (the tie-breaker).
    #[serde(rename = "i")]
    pub id: Uuid,
}

impl Cursor {
    pub fn new(key: Option<String>, id: Uuid) -> Self {
        Self { key, id }
    }

    pub fn encode(&self) -> String {
        use base64::Engine;
        let json = serde_json::to_vec(self).unwrap_or_default();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    pub fn decode(raw: &str) -> Result<Self, ApiError> {
        use base64::Engine;
        let bad = || ApiError::field("cursor", "not a cursor this list gave out");
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(raw.trim())
            .map_err(|_| bad())?;
        let cursor: Self = serde_json::from_slice(&bytes).map_err(|_| bad())?;
        if cursor.key.as_deref().is_some_and(|k| k.len() > 320 || k.chars().any(char::is_control)) {
            return Err(bad());
        }
        Ok(cursor)
    }

    /// A cursor keyed by an instant (years 1 to 9999, such as an expiry), to
    /// the nanosecond (what the rows hold), as RFC 3339.
    pub fn at(time: chrono::DateTime<chrono::Utc>, id: Uuid) -> Self {
        Self::new(Some(time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)), id)
    }

    /// The key of a cursor made by [`Cursor::at`] (422 when it is not one).
    pub fn instant(&self) -> Result<chrono::DateTime<chrono::Utc>, ApiError> {
        self.key
            .as_deref()
            .and_then(|k| chrono::DateTime::parse_from_rfc3339(k).ok())
            .map(|t| t.with_timezone(&chrono::Utc))
            .ok_or_else(|| ApiError::field("cursor", "not a cursor this list gave out"))
    }

    /// A cursor keyed by an instant and a text (such as a canonical
    /// username), written `instant/text`.
    pub fn at_and(time: chrono::DateTime<chrono::Utc>, text: &str, id: Uuid) -> Self {
        let at = Self::at(time, id).key.unwrap_or_default();
        Self::new(Some(format!("{at}/{text}")), id)
    }

    /// The key of a cursor made by [`Cursor::at_and`] (422 when it is not
    /// one).
    pub fn instant_and(&self) -> Result<(chrono::DateTime<chrono::Utc>, String), ApiError> {
        let (at, text) = self
            .text()?
            .split_once('/')
            .ok_or_else(|| ApiError::field("cursor", "not a cursor this list gave out"))?;
        let at = Self::new(Some(at.to_owned()), self.id).instant()?;
        Ok((at, text.to_owned()))
    }

    /// The key as text (422 when there is none).
    pub fn text(&self) -> Result<&str, ApiError> {
        self.key
            .as_deref()
            .ok_or_else(|| ApiError::field("cursor", "not a cursor this list gave out"))
    }
}

/// Totals are counted up to this many; beyond it `total` stops there and
/// `total_exact` is false, so no page pays for counting a huge list.
pub const TOTAL_CAP: i64 = 1000;

/// One page of a list: the envelope every list answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct CursorPage<T: ToSchema> {
    pub items: Vec<T>,
    /// Items across pages, counted up to 1,000: when there are more, this is
    /// 1000 and `total_exact` is false.
    #[schema(example = 57)]
    pub total: i64,
    /// Whether `total` is the exact count (false: there are more than 1,000).
    #[schema(example = true)]
    pub total_exact: bool,
    #[schema(example = 1)]
    pub page: i64,
    #[schema(example = 25)]
    pub per_page: i64,
    /// Pass as `?cursor=` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

impl<T: ToSchema> CursorPage<T> {
    /// `counted` is the total as counted up to `TOTAL_CAP + 1`.
    pub fn new(items: Vec<T>, counted: i64, q: &CursorQuery, next: Option<Cursor>) -> Self {
        Self {
            items,
            total: counted.min(TOTAL_CAP),
            total_exact: counted <= TOTAL_CAP,
            page: q.page(),
            per_page: q.per_page(),
            next_cursor: next.map(|c| c.encode()),
        }
    }
}

/// Another user as others see them. `email` is shown only where the person
/// was reached by email (estate and site members, asset shares and
/// invitations) and only to those who administer that resource; people added
/// by username (collaborators, household members) are shown without it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({
    "id": "2a9b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d",
    "username": "sam",
    "display_name": "Sam Okafor",
    "email": "sam@example.com"
}))]
pub struct UserSummary {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub email: Option<String>,
}

pub use super::wire::{
    AssetLevel, AssetPermission, EstateRole, InvitationStatus, SiteOverride, SiteRole,
};

/// Parses a role-like value from a request field (422 naming the field).
pub fn parse_field<T: std::str::FromStr>(field: &str, value: &str) -> Result<T, ApiError>
where
    T::Err: std::fmt::Display,
{
    value.parse().map_err(|e: T::Err| ApiError::field(field, e.to_string()))
}

/// A user as shown to others (the email only to those who may see it).
pub fn summary(u: &keyholder_store::users::User, show_email: bool) -> UserSummary {
    UserSummary {
        id: u.id,
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        email: show_email.then(|| u.email.clone()),
    }
}

/// A person as shown in lists (the email only to those who may see it).
pub fn person(p: &keyholder_store::collaborators::Person, show_email: bool) -> UserSummary {
    UserSummary {
        id: p.id,
        username: p.username.clone(),
        display_name: p.display_name.clone(),
        email: show_email.then(|| p.email.clone()),
    }
}

/// Where a created resource can be found: the `Location` of its 201.
pub trait Located {
    /// The resource's path on this server.
    fn location(&self) -> String;
}

/// Implements [`Located`] for views whose path comes from their own fields.
macro_rules! located {
    ($($view:ty => |$v:ident| $path:expr;)*) => {$(
        impl $crate::views::common::Located for $view {
            fn location(&self) -> String {
                let $v = self;
                $path
            }
        }
    )*};
}
pub(crate) use located;
