//! Accounts.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::db::Conn;
use crate::error::{Result, StoreError};
use crate::id::DbId;
use crate::schema::users;
use crate::time::{from_db, to_db};

#[derive(Queryable, Selectable, Debug, Clone)]
#[diesel(table_name = users)]
struct UserRow {
    id: DbId,
    email: String,
    username: String,
    username_canonical: String,
    display_name: String,
    password_hash: String,
    is_root: bool,
    email_verified_at: Option<chrono::NaiveDateTime>,
    credentials_changed_at: chrono::NaiveDateTime,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
    disabled_at: Option<chrono::NaiveDateTime>,
    deleted_at: Option<chrono::NaiveDateTime>,
}

/// A user as read from the database.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    pub id: Uuid,
    /// Normalised lower-case email.
    pub email: String,
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub is_root: bool,
    pub email_verified_at: Option<DateTime<Utc>>,
    /// Access tokens issued before this instant are refused.
    pub credentials_changed_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Set while root keeps the account from signing in.
    pub disabled_at: Option<DateTime<Utc>>,
    /// Set once its owner deleted it (the row is a tombstone).
    pub deleted_at: Option<DateTime<Utc>>,
}

debug_showing!(User: id, username, is_root);

impl User {
    pub fn email_verified(&self) -> bool {
        self.email_verified_at.is_some()
    }
}

impl TryFrom<UserRow> for User {
    type Error = StoreError;
    fn try_from(r: UserRow) -> Result<Self> {
        let _ = r.username_canonical;
        Ok(Self {
            id: r.id.0,
            email: r.email,
            username: r.username,
            display_name: r.display_name,
            password_hash: r.password_hash,
            is_root: r.is_root,
            email_verified_at: r.email_verified_at.map(from_db),
            credentials_changed_at: from_db(r.credentials_changed_at),
            created_at: from_db(r.created_at),
            updated_at: from_db(r.updated_at),
            disabled_at: r.disabled_at.map(from_db),
            deleted_at: r.deleted_at.map(from_db),
        })
    }
}

/// Insert form of a user.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub username: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub is_root: bool,
    pub email_verified_at: Option<DateTime<Utc>>,
}

#[derive(Insertable)]
#[diesel(table_name = users)]
struct UserInsert<'a> {
    id: DbId,
    email: &'a str,
    username: &'a str,
    username_canonical: String,
    display_name: &'a str,
    password_hash: &'a str,
    is_root: bool,
    email_verified_at: Option<chrono::NaiveDateTime>,
    credentials_changed_at: chrono::NaiveDateTime,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
}

/// Which unique key a new account collides with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Taken {
    Email,
    Username,
}

/// Inserts a user. Checks both unique keys first so the caller can name the
/// field; the unique indexes remain the final guard against races.
pub fn insert(
    conn: &mut Conn,
    new: &NewUser<'_>,
    now: DateTime<Utc>,
) -> Result<Result<User, Taken>> {
    if find_by_email(conn, new.email)?.is_some() {
        return Ok(Err(Taken::Email));
    }
    let canonical = new.username.to_lowercase();
    if find_by_username(conn, &canonical)?.is_some() {
        return Ok(Err(Taken::Username));
    }
    let id = Uuid::new_v4();
    let row = UserInsert {
        id: DbId(id),
        email: new.email,
        username: new.username,
        username_canonical: canonical,
        display_name: new.display_name,
        password_hash: new.password_hash,
        is_root: new.is_root,
        email_verified_at: new.email_verified_at.map(to_db),
        credentials_changed_at: to_db(now),
        created_at: to_db(now),
        updated_at: to_db(now),
    };
    match diesel::insert_into(users::table).values(&row).execute(conn).map_err(StoreError::from) {
        Ok(_) => {}
        Err(StoreError::Conflict(c)) if c.contains("email") => return Ok(Err(Taken::Email)),
        Err(StoreError::Conflict(_)) => return Ok(Err(Taken::Username)),
        Err(e) => return Err(e),
    }
    get(conn, id).map(Ok)
}

/// Sets a user's username and display name. Checks the username's unique
/// key first so the caller can name it (a concurrent taker is caught by
/// the unique index all the same).
pub fn set_profile(
    conn: &mut Conn,
    id: Uuid,
    username: &str,
    display_name: &str,
    now: DateTime<Utc>,
) -> Result<Result<User, Taken>> {
    let canonical = username.to_lowercase();
    if find_by_username(conn, &canonical)?.is_some_and(|u| u.id != id) {
        return Ok(Err(Taken::Username));
    }
    let changed = diesel::update(users::table.find(DbId(id)))
        .set((
            users::username.eq(username),
            users::username_canonical.eq(&canonical),
            users::display_name.eq(display_name),
            users::updated_at.eq(to_db(now)),
        ))
        .execute(conn)
        .map_err(StoreError::from);
    match changed {
        Ok(_) => get(conn, id).map(Ok),
        Err(StoreError::Conflict(_)) => Ok(Err(Taken::Username)),
        Err(e) => Err(e),
    }
}

/// Moves the account to a new email address, proven by the link it was
/// sent (so it counts as verified now when the old one was). `Err(Taken)`
/// when another account holds the address.
pub fn set_email(
    conn: &mut Conn,
    id: Uuid,
    email: &str,
    now: DateTime<Utc>,
) -> Result<Result<User, Taken>> {
    if find_by_email(conn, email)?.is_some_and(|u| u.id != id) {
        return Ok(Err(Taken::Email));
    }
    let changed = diesel::update(users::table.find(DbId(id)))
        .set((users::email.eq(email), users::updated_at.eq(to_db(now))))
        .execute(conn)
        .map_err(StoreError::from);
    match changed {
        Ok(_) => {}
        Err(StoreError::Conflict(_)) => return Ok(Err(Taken::Email)),
        Err(e) => return Err(e),
    }
    diesel::update(users::table.find(DbId(id)).filter(users::email_verified_at.is_not_null()))
        .set(users::email_verified_at.eq(Some(to_db(now))))
        .execute(conn)?;
    get(conn, id).map(Ok)
}

/// The user `$filter` picks out, if any.
macro_rules! find_one {
    ($conn:expr, $filter:expr) => {
        users::table
            .filter($filter)
            .select(UserRow::as_select())
            .first($conn)
            .optional()?
            .map(User::try_from)
            .transpose()
    };
}

pub fn find(conn: &mut Conn, id: Uuid) -> Result<Option<User>> {
    find_one!(conn, users::id.eq(DbId(id)))
}

pub fn get(conn: &mut Conn, id: Uuid) -> Result<User> {
    find(conn, id)?.ok_or(StoreError::NotFound)
}

/// By normalised (lower-case) email.
pub fn find_by_email(conn: &mut Conn, email: &str) -> Result<Option<User>> {
    find_one!(conn, users::email.eq(email).and(users::deleted_at.is_null()))
}

/// By username, case-insensitively.
pub fn find_by_username(conn: &mut Conn, username: &str) -> Result<Option<User>> {
    find_one!(
        conn,
        users::username_canonical.eq(username.to_lowercase()).and(users::deleted_at.is_null())
    )
}

/// By email or username, as typed at login.
pub fn find_by_login(conn: &mut Conn, login: &str) -> Result<Option<User>> {
    let login = login.trim();
    if login.contains('@') {
        find_by_email(conn, &login.to_lowercase())
    } else {
        find_by_username(conn, login)
    }
}

pub fn set_password_hash(conn: &mut Conn, id: Uuid, hash: &str, now: DateTime<Utc>) -> Result<()> {
    let n = diesel::update(users::table.find(DbId(id)))
        .set((
            users::password_hash.eq(hash),
            users::credentials_changed_at.eq(to_db(now)),
            users::updated_at.eq(to_db(now)),
        ))
        .execute(conn)?;
    if n == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// Marks the email verified (keeps the first verification time). Returns
/// whether this call was the first verification.
pub fn mark_email_verified(conn: &mut Conn, id: Uuid, now: DateTime<Utc>) -> Result<bool> {
    let n = diesel::update(users::table.find(DbId(id)).filter(users::email_verified_at.is_null()))
        .set((users::email_verified_at.eq(Some(to_db(now))), users::updated_at.eq(to_db(now))))
        .execute(conn)?;
    Ok(n == 1)
}

/// Hands a never-verified account to whoever proved the inbox (signing up
/// through an emailed invitation): new username, display name and password,
/// the email verified, and every earlier session ended. Returns `Ok(None)`
/// when the username belongs to another account.
pub fn claim_unverified(
    conn: &mut Conn,
    id: Uuid,
    username: &str,
    display_name: &str,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<User>> {
    let canonical = username.to_lowercase();
    if find_by_username(conn, &canonical)?.is_some_and(|other| other.id != id) {
        return Ok(None);
    }
    let n = diesel::update(users::table.find(DbId(id)).filter(users::email_verified_at.is_null()))
        .set((
            users::username.eq(username),
            users::username_canonical.eq(&canonical),
            users::display_name.eq(display_name),
            users::password_hash.eq(password_hash),
            users::email_verified_at.eq(Some(to_db(now))),
            users::credentials_changed_at.eq(to_db(now)),
            users::updated_at.eq(to_db(now)),
        ))
        .execute(conn);
    match n.map_err(StoreError::from) {
        Ok(0) => Err(StoreError::NotFound),
        Ok(_) => get(conn, id).map(Some),
        Err(StoreError::Conflict(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Which accounts the administrators' list keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountStatus {
    /// Neither disabled nor deleted.
    Active,
    Disabled,
    Deleted,
    /// Not deleted, its email not verified.
    Unverified,
    /// Root accounts.
    Root,
}

/// What the administrators' list of accounts keeps.
#[derive(Debug, Clone, Default)]
pub struct AccountFilter {
    /// A part of the username or the email, in any case.
    pub q: Option<String>,
    pub status: Option<AccountStatus>,
}

/// A page of accounts, newest first (then by id), as the filter keeps
/// them; the total counted up to [`COUNT_LIMIT`](crate::paging::COUNT_LIMIT).
pub fn list(
    conn: &mut Conn,
    filter: &AccountFilter,
    window: &crate::paging::Window<DateTime<Utc>>,
) -> Result<crate::paging::Page<User>> {
    use crate::paging::{after_instant, count_up_to};
    let pattern = filter.q.as_deref().map(|q| crate::garage::like_pattern(Some(q)));
    let base = || {
        let mut q = users::table.into_boxed();
        if let Some(p) = &pattern {
            q = q.filter(
                users::username_canonical
                    .like(p.clone())
                    .escape('\\')
                    .or(users::email.like(p.clone()).escape('\\')),
            );
        }
        match filter.status {
            None => {}
            Some(AccountStatus::Active) => {
                q = q.filter(users::disabled_at.is_null()).filter(users::deleted_at.is_null());
            }
            Some(AccountStatus::Disabled) => q = q.filter(users::disabled_at.is_not_null()),
            Some(AccountStatus::Deleted) => q = q.filter(users::deleted_at.is_not_null()),
            Some(AccountStatus::Unverified) => {
                q = q
                    .filter(users::email_verified_at.is_null())
                    .filter(users::deleted_at.is_null());
            }
            Some(AccountStatus::Root) => q = q.filter(users::is_root.eq(true)),
        }
        q
    };
    let rows: Vec<UserRow> =
        after_instant!(base(), window.after.as_ref(), users::created_at, users::id, desc)
            .select(UserRow::as_select())
            .order((users::created_at.desc(), users::id.desc()))
            .limit(window.limit.saturating_add(1))
            .offset(window.offset)
            .load(conn)?;
    let counted = count_up_to!(conn, base, users::id);
    let users = rows.into_iter().map(User::try_from).collect::<Result<Vec<_>>>()?;
    Ok(crate::paging::Page::cut(users, window.limit, counted))
}

/// How many root accounts are enabled (not disabled, not deleted).
pub fn enabled_roots(conn: &mut Conn) -> Result<i64> {
    Ok(users::table
        .filter(users::is_root.eq(true))
        .filter(users::disabled_at.is_null())
        .filter(users::deleted_at.is_null())
        .count()
        .get_result(conn)?)
}

/// Disables the account (`Some(now)`) or enables it again (`None`).
pub fn set_disabled(
    conn: &mut Conn,
    id: Uuid,
    disabled: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<User> {
    diesel::update(users::table.find(DbId(id)))
        .set((users::disabled_at.eq(disabled.map(to_db)), users::updated_at.eq(to_db(now))))
        .execute(conn)?;
    get(conn, id)
}

/// The root accounts' ids, in id order.
pub fn root_ids(conn: &mut Conn) -> Result<Vec<Uuid>> {
    let ids: Vec<DbId> = users::table
        .filter(users::is_root.eq(true))
        .select(users::id)
        .order(users::id)
        .load(conn)?;
    Ok(ids.into_iter().map(Uuid::from).collect())
}
