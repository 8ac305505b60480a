//! The catalogue of every problem `code` the server sends: its usual status,
//! what it means and the sentence the server sends with it.
//!
//! [`ApiError`](crate::error::ApiError) carries a [`ProblemCode`], so no
//! code can be sent without an entry here; the domain's refusal codes are
//! mapped in by [`ProblemCode::of_refusal`] (a unit test checks every
//! refusal of the domain is catalogued). A code sent with more than one
//! status lists an example per status. Which operations send which code is
//! `openapi::problems`.

use actix_web::http::StatusCode;
use serde_json::{Map, Value, json};
use utoipa::openapi::RefOr;
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Schema, Type};

/// One example problem document of a code: the status it is sent with, the
/// real `detail`, and the `errors` and extra members (JSON text) it carries.
#[derive(Debug)]
pub struct Example {
    pub status: u16,
    pub detail: &'static str,
    pub errors: &'static [(&'static str, &'static str)],
    pub extra: &'static [(&'static str, &'static str)],
}

/// Where a code is documented: on the operations that send it, or once in
/// the catalogue because any request can get it (the router, CORS).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Operation,
    AnyRequest,
}

macro_rules! catalogue {
    ($(
        $(#[doc = $group:literal])?
        $variant:ident $code:literal $scope:ident $meaning:literal {$(
            $status:literal $detail:literal
            $(errors { $($ek:literal : $ev:literal),* })?
            $(extra { $($xk:literal : $xv:literal),* })?
        ),+ $(,)?}
    )*) => {
        /// A stable problem `code`: every one the server sends.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ProblemCode { $($variant,)* }

        impl ProblemCode {
            /// Every code, in catalogue order.
            pub const ALL: &'static [ProblemCode] = &[$(Self::$variant,)*];

            pub const fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $code,)* }
            }

            /// One line saying when it is sent.
            pub const fn meaning(self) -> &'static str {
                match self { $(Self::$variant => $meaning,)* }
            }

            pub const fn scope(self) -> Scope {
                match self { $(Self::$variant => Scope::$scope,)* }
            }

            /// Its examples, the usual status first.
            pub fn examples(self) -> &'static [Example] {
                match self { $(Self::$variant => &[$(Example {
                    status: $status,
                    detail: $detail,
                    errors: &[$($(($ek, $ev)),*)?],
                    extra: &[$($(($xk, $xv)),*)?],
                }),+],)* }
            }
        }
    };
}

catalogue! {
    /// Authentication
    MissingToken "missing_token" Operation "No `Authorization: Bearer` header." {
        401 "Send an access token as Authorization: Bearer <token>.",
    }
    InvalidToken "invalid_token" Operation "The token is malformed, forged, or its account is gone." {
        401 "The access token is not valid.",
    }
    TokenExpired "token_expired" Operation "The access token (or an emailed link) has expired." {
        401 "The access token has expired; sign in again.",
        410 "This link has expired; ask for a new one.",
    }
    TokenRevoked "token_revoked" Operation "The password changed after the token was issued." {
        401 "The password was changed since this token was issued; sign in again.",
    }
    AccountDeletionBlocked "account_deletion_blocked" Operation "The account owns an estate or is the only collaborator of an asset (or is root); `estate_ids` and `asset_ids` name them." {
        409 "Your account cannot be deleted yet: you own an estate: transfer its ownership first."
            extra { "estate_ids": "[\"3f6c1e2a-8b4d-4c7e-9a1f-2d5b6c7e8f90\"]", "asset_ids": "[]" },
    }
    CannotDisableSelf "cannot_disable_self" Operation "Root tried to disable its own account." {
        409 "You cannot disable your own account.",
    }
    LastRoot "last_root" Operation "The account is the only enabled root account." {
        409 "This is the only enabled root account; enable or create another first.",
    }
    AccountDisabled "account_disabled" Operation "The account is disabled by an administrator: it cannot sign in." {
        403 "This account is disabled; contact your administrator.",
    }
    RootRequired "root_required" Operation "Only a root account may do this." {
        403 "Only a root account may do this.",
    }
    SessionEnded "session_ended" Operation "The token's session has ended: signed out, revoked, ended by a password change, or the account is gone." {
        401 "This session has ended (signed out or revoked); sign in again.",
    }
    RefreshTokenInvalid "refresh_token_invalid" Operation "No live session has this refresh token." {
        401 "This refresh token is not valid; sign in again.",
    }
    RefreshTokenReused "refresh_token_reused" Operation "A refresh token was presented after it had been rotated: the whole session is ended." {
        401 "This refresh token was already used, so the session is ended to be safe; sign in again.",
    }
    SessionExpired "session_expired" Operation "The session went unrefreshed for longer than the refresh lifetime." {
        401 "This session has expired; sign in again.",
    }
    SessionNotFound "session_not_found" Operation "No such session among the caller's." {
        404 "You have no session with this id.",
    }
    InvalidCredentials "invalid_credentials" Operation "Wrong login or password (the same answer whether or not the account exists)." {
        401 "The login or the password is not correct.",
    }
    WrongPassword "wrong_password" Operation "The current password given to change it is wrong." {
        403 "The current password is not correct.",
    }
    Unauthorized "unauthorized" AnyRequest "A 401 raised outside the API's own checks." {
        401 "Authentication is required.",
    }
    /// The request itself
    MalformedJson "malformed_json" Operation "The body is not valid JSON." {
        400 "The body is not valid JSON: EOF while parsing an object at line 1 column 1",
    }
    UnsupportedContentType "unsupported_content_type" Operation "The body is not sent as `application/json`." {
        400 "Send the body as JSON with Content-Type: application/json.",
    }
    UnreadableBody "unreadable_body" Operation "The connection broke while the body was read." {
        400 "The request body could not be read.",
    }
    BadRequest "bad_request" AnyRequest "A request the server cannot read at all." {
        400 "The request could not be read.",
    }
    PayloadTooLarge "payload_too_large" Operation "The body is over the size limit." {
        413 "The body is larger than 65536 bytes.",
    }
    MalformedMultipart "malformed_multipart" Operation "An upload that is not `multipart/form-data` with one `file` part, or whose parts cannot be read." {
        400 "Send the file as multipart/form-data, in a part named file.",
    }
    UploadTimeout "upload_timeout" Operation "An upload took longer than `KEYHOLDER_UPLOAD_TIMEOUT` (600 s by default) to arrive and be stored; nothing was kept." {
        408 "The upload took longer than 600 seconds; nothing was kept. Try again.",
    }
    FileTooLarge "file_too_large" Operation "An uploaded file over the size limit (`KEYHOLDER_FILE_MAX_BYTES`, 10 MiB by default)." {
        413 "The file is larger than 10485760 bytes.",
    }
    UnsupportedFileType "unsupported_file_type" Operation "An uploaded file whose content is not JPEG, PNG, WebP, GIF, HEIF/HEIC or PDF (judged from its bytes, not its name or declared type)." {
        415 "Only JPEG, PNG, WebP, GIF, HEIF/HEIC and PDF files are taken; this file is none of them.",
    }
    UnsupportedMediaType "unsupported_media_type" AnyRequest "A body of a type the route does not take." {
        415 "Send the body as application/json.",
    }
    MethodNotAllowed "method_not_allowed" AnyRequest "The path exists, the method does not (see `Allow`)." {
        405 "PUT is not allowed on this path.",
    }
    CorsRefused "cors_refused" AnyRequest "A cross-origin request from an origin, method or header not allowed." {
        403 "CORS request refused: Origin is not allowed to make this request.",
    }
    ValidationFailed "validation_failed" Operation "One or more fields, query parameters or members are invalid; `errors` names each." {
        422 "Some fields are not valid." errors { "name": "must not be blank" },
    }
    Error "error" AnyRequest "Any other error status the HTTP layer answers on its own." {
        400 "Bad Request",
    }
    /// Limits
    RateLimited "rate_limited" Operation "Too many requests from this address or account; see `Retry-After`." {
        429 "Too many requests from this address; try again in 12 seconds.",
    }
    DailyInvitationLimit "daily_invitation_limit" Operation "The day's share of invitation emails is spent; see `Retry-After`." {
        429 "You have sent 200 invitation emails in the last 24 hours; try again later.",
    }
    EmailRecentlySent "email_recently_sent" Operation "A verification link was sent moments ago; see `Retry-After`." {
        429 "A link was sent moments ago; you can ask for another in 45 seconds.",
    }
    FileLimitReached "file_limit_reached" Operation "The asset holds as many files as allowed (`KEYHOLDER_FILES_PER_ASSET`, 200 by default); delete one first." {
        409 "This asset already holds 200 files; delete one before uploading another.",
    }
    ExportTooLarge "export_too_large" Operation "An export would hold more than 50,000 rows; narrow the filters." {
        422 "The export would hold more than 50,000 rows; narrow the filters and export again.",
    }
    ServerBusy "server_busy" Operation "Too many passwords being checked at once; see `Retry-After`." {
        503 "The server is busy checking other passwords; try again in a moment.",
    }
    /// The server
    InternalError "internal_error" Operation "A fault on the server's side; it is logged." {
        500 "Something went wrong on our side; it has been logged.",
    }
    ServiceUnavailable "service_unavailable" Operation "The database does not answer; see `Retry-After`." {
        503 "The database is unavailable; try again shortly.",
    }
    /// Not found
    NotFound "not_found" Operation "No such resource (a path id that is not a UUID, a row gone, an explanation not the caller's to see)." {
        404 "No such resource.",
    }
    AssetNotFound "asset_not_found" Operation "No such asset, or out of the caller's reach." {
        404 "No such asset.",
    }
    AssetsNotFound "assets_not_found" Operation "Some selected assets do not exist or are out of reach; `asset_ids` names them." {
        404 "Some selected assets do not exist or are not visible to you."
            extra { "asset_ids": "[\"0190e3a4-5b6c-7d8e-9f00-112233445566\"]" },
    }
    SiteNotFound "site_not_found" Operation "No such site, or the caller is kept off it." {
        404 "No such site.",
    }
    EstateNotFound "estate_not_found" Operation "No such estate, or the caller is not a member." {
        404 "No such estate.",
    }
    UserNotFound "user_not_found" Operation "No user by that username, email or id." {
        404 "No user is named alice.",
    }
    RecordNotFound "record_not_found" Operation "No such record on this asset." {
        404 "No such record on this asset.",
    }
    PhotoNotFound "photo_not_found" Operation "No such photo on this asset." {
        404 "No such photo on this asset.",
    }
    FileNotFound "file_not_found" Operation "No such file on this asset." {
        404 "No such file on this asset.",
    }
    ShareNotFound "share_not_found" Operation "The user holds no share on this asset." {
        404 "This user holds no share on this asset.",
    }
    WebhookNotFound "webhook_not_found" Operation "No such webhook endpoint, or not the caller's to manage." {
        404 "No such webhook.",
    }
    DeliveryNotFound "delivery_not_found" Operation "No such delivery of this webhook endpoint." {
        404 "No such delivery of this webhook.",
    }
    InvitationNotFound "invitation_not_found" Operation "No such invitation (or an unknown or replaced token)." {
        404 "No such invitation.",
    }
    TokenInvalid "token_invalid" Operation "An emailed link's token is unknown or replaced." {
        404 "This link is not valid; ask for a new one.",
    }
    NotACollaborator "not_a_collaborator" Operation "The user is not a collaborator of this asset." {
        404 "The user is not a collaborator of this asset.",
    }
    NotHouseholdMember "not_household_member" Operation "The user is not a member of this household." {
        404 "The user is not a member of this household.",
    }
    RootHasNoHousehold "root_has_no_household" Operation "Root users have no household." {
        404 "Root users have no household: a household that sees every asset would be a security risk.",
    }
    NotAMember "not_a_member" Operation "The user is not a member of the estate (422 when a body names them)." {
        404 "Site access requires estate membership: the user is not a member of this estate.",
        422 "Some fields are not valid." errors { "user_id": "is not a member of this estate" },
    }
    /// Not allowed
    EmailNotVerified "email_not_verified" Operation "The caller's email is not verified yet, so they share nothing." {
        403 "Verify your email address before adding collaborators: follow the link we sent you, or ask for a new one.",
    }
    EditAccessRequired "edit_access_required" Operation "The action needs edit access to the asset." {
        403 "This needs edit access to the asset; you have view.",
    }
    ManageAccessRequired "manage_access_required" Operation "The action needs manage access to the asset." {
        403 "This needs manage access to the asset; you have edit.",
    }
    FullAccessRequired "full_access_required" Operation "The action needs full access to the asset (or every selected asset)." {
        403 "This needs full access to the asset; you have manage.",
    }
    SiteEditorRequired "site_editor_required" Operation "Placing an asset at a site needs the site editor role there." {
        403 "Placing an asset at a site needs an effective site role of editor or above at that site.",
    }
    EstateAdminRequired "estate_admin_required" Operation "Taking an asset out of an estate needs its admin or owner role." {
        403 "Taking an asset out of an estate needs the estate admin or owner role in the estate it leaves.",
    }
    InsufficientRole "insufficient_role" Operation "The caller's estate or site role does not allow this." {
        403 "Renaming an estate needs the admin or owner role in this estate.",
    }
    SelfRoleChange "self_role_change" Operation "Nobody changes their own role or site access." {
        403 "Nobody changes their own role or site access; another administrator must do it (to leave the estate, use leave).",
    }
    OwnerTransferRequired "owner_transfer_required" Operation "The owner moves only by transfer." {
        403 "An estate has exactly one owner: ownership moves only by transfer, and the owner cannot be demoted, removed or leave until they transfer it.",
    }
    CannotGrantRole "cannot_grant_role" Operation "Admins grant only editor and viewer; only the owner grants admin." {
        403 "Estate admins and site admins may grant only the editor and viewer roles (and keep a member off a site); only the owner grants admin.",
    }
    CannotChangeMember "cannot_change_member" Operation "Admins change only editors and viewers." {
        403 "Estate admins and site admins may change only members whose estate role is editor or viewer.",
    }
    CannotReplaceOverride "cannot_replace_override" Operation "Admins replace only site overrides of editor or below." {
        403 "Estate admins and site admins may replace only site overrides of editor or below.",
    }
    SiteAdminScope "site_admin_scope" Operation "A site admin grants only at the sites they administer." {
        403 "A site admin grants editor and viewer roles at the sites they administer only, never at other sites or at estate level.",
    }
    InvitationEmailMismatch "invitation_email_mismatch" Operation "The invitation is for another email than the signed-in account's." {
        403 "An invitation can be accepted only by the account with the invited email address.",
    }
    /// Invalid by a rule
    NoOverrideForAdmins "no_override_for_admins" Operation "Owners and admins cannot be given site overrides." {
        422 "Estate owners and admins administer every site and cannot be given site overrides.",
    }
    DuplicateSite "duplicate_site" Operation "A site appears twice in a member's site list." {
        422 "Each site may appear only once in a member's site list.",
    }
    SelfInvitation "self_invitation" Operation "An invitation to the sender's own email." {
        422 "You cannot send an invitation to your own email address.",
    }
    OwnHousehold "own_household" Operation "A user cannot join their own household." {
        422 "A user cannot be a member of their own household.",
    }
    RootCannotBeMember "root_cannot_be_member" Operation "A root user cannot be a household member." {
        422 "A root user cannot be added as a household member.",
    }
    /// Conflicts with the current state
    Conflict "conflict" Operation "A concurrent change got there first; reload and try again." {
        409 "The change conflicts with the current state; reload and try again.",
    }
    EmailTaken "email_taken" Operation "An account with this email exists." {
        409 "An account with this email already exists; sign in or reset the password.",
    }
    UsernameTaken "username_taken" Operation "The username is taken." {
        409 "The username alice is taken.",
    }
    EmailRegistered "email_registered" Operation "The invited email has an account: sign in, then accept." {
        409 "An account with this email exists: sign in, then accept the invitation.",
    }
    AlreadyVerified "already_verified" Operation "The email is already verified." {
        409 "Your email address is already verified.",
    }
    TokenUsed "token_used" Operation "The emailed link was used already." {
        409 "This link has already been used.",
    }
    AlreadyCollaborator "already_collaborator" Operation "The user already collaborates on the asset." {
        409 "The user is already a collaborator of this asset.",
    }
    LastCollaborator "last_collaborator" Operation "The change would leave an asset without collaborators; `asset_ids` names them." {
        409 "An asset always keeps at least one collaborator; the change would leave the named assets with none."
            extra { "asset_ids": "[\"0190e3a4-5b6c-7d8e-9f00-112233445566\"]" },
    }
    AlreadyMember "already_member" Operation "The user is already a member (of the household or estate)." {
        409 "The user is already a member of this household.",
    }
    MutualMembership "mutual_membership" Operation "Two users cannot be in each other's households." {
        409 "Two users cannot be members of each other's households.",
    }
    EstateHasAssets "estate_has_assets" Operation "Assets are still placed in the estate." {
        409 "3 assets are placed in this estate; move or delete them first.",
    }
    SiteHasAssets "site_has_assets" Operation "Assets are still placed at the site." {
        409 "2 assets are placed at this site; move or delete them first.",
    }
    InvitationPending "invitation_pending" Operation "A pending invitation to this email for this resource exists." {
        409 "A pending invitation to this email for this asset already exists; resend or cancel it.",
    }
    InvitationNotPending "invitation_not_pending" Operation "The invitation is final; `invitation_status` names its status." {
        409 "Only a pending invitation can be accepted, declined, cancelled or resent; this one is final."
            extra { "invitation_status": "\"accepted\"" },
    }
    InviterCannotGrant "inviter_cannot_grant" Operation "The sender may no longer grant what the invitation offers." {
        409 "Whoever sent this invitation may no longer grant this access; ask for a new invitation.",
    }
    /// Gone
    InvitationExpired "invitation_expired" Operation "The invitation expired before it was answered." {
        410 "The invitation has expired and can no longer be accepted or declined; ask the sender for a new one."
            extra { "invitation_status": "\"expired\"" },
    }
    // Requests: conditions and idempotency.
    PreconditionFailed "precondition_failed" Operation "`If-Match` names a tag the resource no longer has: read it again." {
        412 "The resource changed since the ETag sent in If-Match; read it again and retry.",
    }
    IdempotencyKeyReused "idempotency_key_reused" Operation "The `Idempotency-Key` was used in the last 24 hours for another path or body." {
        422 "This Idempotency-Key was used for a different request (another path or body) in the last 24 hours; use a new key.",
    }
    IdempotencyKeyInProgress "idempotency_key_in_progress" Operation "A request with this `Idempotency-Key` is still running; see `Retry-After`." {
        409 "A request with this Idempotency-Key is still being processed; retry after Retry-After.",
    }
}

impl ProblemCode {
    /// The status it is usually sent with.
    pub fn status(self) -> StatusCode {
        StatusCode::from_u16(self.examples()[0].status).unwrap_or(StatusCode::BAD_REQUEST)
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|c| c.as_str() == code)
    }

    /// The catalogued code of a domain refusal. Every refusal code is
    /// catalogued (`every_domain_refusal_is_catalogued`); were one not, it
    /// would be logged and answered with the generic code of its status.
    pub fn of_refusal(code: &'static str, status: StatusCode) -> Self {
        Self::parse(code).unwrap_or_else(|| {
            tracing::error!(code, "a domain refusal code missing from the catalogue");
            match status {
                StatusCode::NOT_FOUND => Self::NotFound,
                StatusCode::CONFLICT => Self::Conflict,
                StatusCode::UNPROCESSABLE_ENTITY => Self::ValidationFailed,
                _ => Self::InsufficientRole,
            }
        })
    }

    /// The example it is sent with at `status` (the first one otherwise).
    pub fn example_at(self, status: u16) -> &'static Example {
        let examples = self.examples();
        examples.iter().find(|e| e.status == status).unwrap_or(&examples[0])
    }

    /// A whole problem document as the server sends it at `status`.
    pub fn document(self, status: u16) -> Value {
        let e = self.example_at(status);
        let title =
            StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("Error");
        let mut doc = json!({
            "type": format!("urn:keyholder:problem:{}", self.as_str()),
            "title": title,
            "status": status,
            "detail": e.detail,
            "code": self.as_str(),
        });
        if !e.errors.is_empty() {
            let errors: Map<String, Value> =
                e.errors.iter().map(|(k, v)| ((*k).to_owned(), json!(v))).collect();
            doc["errors"] = Value::Object(errors);
        }
        for (k, v) in e.extra {
            doc[*k] = serde_json::from_str(v).unwrap_or_else(|_| json!(v));
        }
        doc
    }

    /// The catalogue as a Markdown table (code, statuses, meaning).
    pub fn table() -> String {
        let mut s = String::from("| code | status | meaning |\n|---|---|---|\n");
        for c in Self::ALL {
            let statuses: Vec<String> = c.examples().iter().map(|e| e.status.to_string()).collect();
            let meaning = match c.scope() {
                Scope::Operation => c.meaning().to_owned(),
                Scope::AnyRequest => format!("{} (any request)", c.meaning()),
            };
            s.push_str(&format!("| `{}` | {} | {meaning} |\n", c.as_str(), statuses.join(", ")));
        }
        s
    }
}

impl std::fmt::Display for ProblemCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for ProblemCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// The contract's `ProblemCode`: a string enum of every code, described by
/// the catalogue's table; `x-any-request` lists the codes any request can
/// get (they are not repeated on each operation).
impl utoipa::PartialSchema for ProblemCode {
    fn schema() -> RefOr<Schema> {
        let any: Vec<&str> = Self::ALL
            .iter()
            .filter(|c| c.scope() == Scope::AnyRequest)
            .map(|c| c.as_str())
            .collect();
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(Self::ALL.iter().map(|c| c.as_str())))
            .description(Some(format!(
                "The stable machine-readable code of a problem. Every code the server sends:\n\n{}",
                Self::table()
            )))
            .extensions(Some(ExtensionsBuilder::new().add("x-any-request", json!(any)).build()))
            .into()
    }
}

impl utoipa::ToSchema for ProblemCode {}

#[cfg(test)]
mod tests;
