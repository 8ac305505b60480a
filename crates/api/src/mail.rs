//! The mail pipeline: templates that turn events into outbox rows, and the
//! worker that delivers those rows over SMTP, into `.eml` files, or to the log.

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use keyholder_store::db::LogThrottle;
use keyholder_store::outbox::{self, NewMail, OutboxMail};
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::{FileTransport, Message, SmtpTransport, Transport};
use tokio::sync::watch;

use crate::config::Config;
use crate::state::AppState;

/// How long a verification link works.
pub const VERIFY_EMAIL_TTL_HOURS: i64 = 48;
/// How long a password reset link works.
pub const PASSWORD_RESET_TTL_HOURS: i64 = 1;
/// How long the link that confirms a new email address works.
pub const EMAIL_CHANGE_TTL_HOURS: i64 = 48;

/// An address as a notice to another one shows it: the first character of
/// the local part, then `***`, then the domain (`a***@example.org`).
pub fn masked(email: &str) -> String {
    match email.split_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".to_owned(),
    }
}

/// Email bodies for each event. Links carry tokens in the `#token=` fragment.
pub mod templates {
    use super::*;

    /// An invitation its sender hears is about to expire unanswered.
    #[derive(Debug, Clone)]
    pub struct Unanswered {
        pub invitee: String,
        /// `the estate Riverside`, `the asset Van`.
        pub what: String,
        pub at: DateTime<Utc>,
    }

    /// The lines of a reminder's list: the first 20, then how many more.
    fn listed(lines: impl ExactSizeIterator<Item = String>) -> String {
        let total = lines.len();
        let mut shown: Vec<String> = lines.take(20).collect();
        if total > shown.len() {
            shown.push(format!("- and {} more", total - shown.len()));
        }
        shown.join("\n")
    }

    pub fn verify_email(app_base: &str, to: &str, username: &str, token: &str) -> NewMail {
        NewMail {
            kind: "verify_email",
            recipient: to.to_owned(),
            subject: "Confirm your email address for Keyholder".to_owned(),
            body_text: format!(
                "Hello {username},\n\n\
                 Please confirm that this is your email address by opening this link:\n\n\
                 {app_base}/verify-email#token={token}\n\n\
                 The link works for {VERIFY_EMAIL_TTL_HOURS} hours. If you did not create a \
                 Keyholder account, you can ignore this email.\n\n-- Keyholder\n"
            ),
        }
    }

    pub fn password_reset(app_base: &str, to: &str, username: &str, token: &str) -> NewMail {
        NewMail {
            kind: "password_reset",
            recipient: to.to_owned(),
            subject: "Reset your Keyholder password".to_owned(),
            body_text: format!(
                "Hello {username},\n\n\
                 Someone asked to reset the password of your Keyholder account. To choose a \
                 new password, open this link:\n\n\
                 {app_base}/reset-password#token={token}\n\n\
                 The link works once, for {PASSWORD_RESET_TTL_HOURS} hour. If you did not ask \
                 for this, ignore this email: your password stays as it is.\n\n-- Keyholder\n"
            ),
        }
    }

    /// To the new address: the link that confirms the change.
    pub fn confirm_new_email(app_base: &str, to: &str, username: &str, token: &str) -> NewMail {
        NewMail {
            kind: "email_change",
            recipient: to.to_owned(),
            subject: "Confirm your new email address for Keyholder".to_owned(),
            body_text: format!(
                "Hello {username},\n\n\
                 You asked to use this address for your Keyholder account. Open this link to \
                 confirm it:\n\n\
                 {app_base}/confirm-email#token={token}\n\n\
                 The link works once, for {EMAIL_CHANGE_TTL_HOURS} hours. Until then your \
                 account keeps its current address. If you did not ask for this, ignore this \
                 email.\n\n-- Keyholder\n"
            ),
        }
    }

    /// To the old address when a change is asked for: no link.
    pub fn email_change_requested(to: &str, username: &str, new_email: &str) -> NewMail {
        let new = masked(new_email);
        NewMail {
            kind: "email_change_notice",
            recipient: to.to_owned(),
            subject: "A change of your Keyholder email address was requested".to_owned(),
            body_text: format!(
                "Hello {username},\n\n\
                 Someone signed in to your Keyholder account asked to move it to the address \
                 {new}. Nothing changes until that address confirms it. If this was not you, \
                 change your password at once: that also signs out every other session.\n\n\
                 -- Keyholder\n"
            ),
        }
    }

    /// To the old address once the new one confirmed the change.
    pub fn email_changed(to: &str, username: &str, new_email: &str) -> NewMail {
        let new = masked(new_email);
        NewMail {
            kind: "email_changed",
            recipient: to.to_owned(),
            subject: "Your Keyholder email address was changed".to_owned(),
            body_text: format!(
                "Hello {username},\n\n\
                 Your Keyholder account now uses the address {new}; this address no longer \
                 signs in or receives its emails. If this was not you, reset your password \
                 from the new address or contact your administrator.\n\n-- Keyholder\n"
            ),
        }
    }

    /// Access given without an invitation (optional: `access_granted`).
    pub fn access_granted(to: &str, username: &str, what: &str, by: &str) -> NewMail {
        NewMail {
            kind: "access_granted",
            recipient: to.to_owned(),
            subject: format!("{by} gave you access on Keyholder"),
            body_text: format!(
                "Hello {username},\n\n\
                 {by} gave you access to {what}. Everything you can reach, and through whom, \
                 is listed under My access in Keyholder.\n\n\
                 You can turn these emails off in your notification settings.\n\n-- Keyholder\n"
            ),
        }
    }

    /// Access taken back or lowered (optional: `access_reduced`).
    pub fn access_reduced(to: &str, username: &str, what: &str, by: &str) -> NewMail {
        NewMail {
            kind: "access_reduced",
            recipient: to.to_owned(),
            subject: "Your access changed on Keyholder".to_owned(),
            body_text: format!(
                "Hello {username},\n\n\
                 {by} changed your access: {what}.\n\n\
                 You can turn these emails off in your notification settings.\n\n-- Keyholder\n"
            ),
        }
    }

    /// Three days before shares of the user end (optional:
    /// `access_expiring`): every asset whose share ends, with its end.
    pub fn access_expiring(
        to: &str,
        username: &str,
        shares: &[(String, DateTime<Utc>)],
    ) -> NewMail {
        let subject = match shares {
            [(asset, _)] => format!("Your access to {asset} ends soon"),
            _ => format!("Your access to {} assets ends soon", shares.len()),
        };
        let list = listed(shares.iter().map(|(asset, until)| {
            format!("- {asset}: ends on {}", until.format("%Y-%m-%d %H:%M UTC"))
        }));
        NewMail {
            kind: "access_expiring",
            recipient: to.to_owned(),
            subject,
            body_text: format!(
                "Hello {username},\n\n\
                 Your shared access ends soon:\n\n{list}\n\n\
                 Ask whoever shared it with you if you need it longer.\n\n\
                 You can turn these emails off in your notification settings.\n\n-- Keyholder\n"
            ),
        }
    }

    /// Three days before invitations the user sent expire unanswered
    /// (optional: `invitation_expiring`): each invitee, what for, and when.
    pub fn invitation_expiring(to: &str, username: &str, rows: &[Unanswered]) -> NewMail {
        let subject = match rows {
            [one] => format!("Your invitation to {} expires soon", one.invitee),
            _ => format!("{} invitations you sent expire soon", rows.len()),
        };
        let list = listed(rows.iter().map(|r| {
            format!(
                "- {} for {}: expires on {}",
                r.invitee,
                r.what,
                r.at.format("%Y-%m-%d %H:%M UTC")
            )
        }));
        NewMail {
            kind: "invitation_expiring",
            recipient: to.to_owned(),
            subject,
            body_text: format!(
                "Hello {username},\n\n\
                 These invitations you sent have not been answered and expire soon:\n\n{list}\n\n\
                 You can resend them to give their invitees more time.\n\n\
                 You can turn these emails off in your notification settings.\n\n-- Keyholder\n"
            ),
        }
    }

    /// To the address of an account just deleted.
    pub fn account_deleted(to: &str, username: &str) -> NewMail {
        NewMail {
            kind: "account_deleted",
            recipient: to.to_owned(),
            subject: "Your Keyholder account was deleted".to_owned(),
            body_text: format!(
                "Hello {username},\n\n\
                 Your Keyholder account was deleted, as you asked: your memberships, \
                 collaborations, household and shares have ended, and the invitations you \
                 sent that were still pending are cancelled. This address can register \
                 again at any time.\n\n-- Keyholder\n"
            ),
        }
    }

    /// A sign-in from a client none of the account's live sessions has
    /// (a security email: always sent).
    pub fn new_sign_in(
        to: &str,
        username: &str,
        client: &str,
        address: &str,
        at: DateTime<Utc>,
    ) -> NewMail {
        let at = at.format("%Y-%m-%d %H:%M UTC");
        NewMail {
            kind: "new_sign_in",
            recipient: to.to_owned(),
            subject: "New sign-in to your Keyholder account".to_owned(),
            body_text: format!(
                "Hello {username},\n\n\
                 Your account was signed in to at {at} from {client} ({address}). If this \
                 was you, there is nothing to do. If not, change your password at once: that \
                 signs out every other session, and your sessions are listed under Sessions.\n\n\
                 -- Keyholder\n"
            ),
        }
    }

    pub fn password_changed(to: &str, username: &str) -> NewMail {
        NewMail {
            kind: "password_changed",
            recipient: to.to_owned(),
            subject: "Your Keyholder password was changed".to_owned(),
            body_text: format!(
                "Hello {username},\n\n\
                 The password of your Keyholder account was just changed, and every session \
                 that began before the change has been signed out. If this was not you, \
                 reset your password at once.\n\n-- Keyholder\n"
            ),
        }
    }

    /// A webhook endpoint was disabled after failing again and again.
    pub fn webhook_disabled(to: &str, username: &str, url: &str, reason: &str) -> NewMail {
        NewMail {
            kind: "webhook_disabled",
            recipient: to.to_owned(),
            subject: "A Keyholder webhook was disabled".to_owned(),
            body_text: format!(
                "Hello {username},\n\n\
                 Keyholder stopped sending events to your webhook at {url}: {reason}. \
                 Its deliveries wait in its delivery log. Fix the receiver, then enable the \
                 webhook again (PATCH /api/v1/webhooks/{{id}} with {{\"enabled\": true}}) and \
                 redeliver what it missed.\n\n-- Keyholder\n"
            ),
        }
    }
}

/// Where mail goes.
pub enum Delivery {
    Smtp(SmtpTransport),
    Files(FileTransport, PathBuf),
    Log,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

impl Delivery {
    /// From the configuration: SMTP URL, else mail folder, else the log.
    pub fn from_config(config: &Config) -> anyhow::Result<Self> {
        if let Some(url) = config.smtp_url.as_deref().filter(|u| !u.trim().is_empty()) {
            let transport = SmtpTransport::from_url(url)
                .map_err(|e| anyhow::anyhow!("KEYHOLDER_SMTP_URL is not a usable SMTP URL: {e}"))?
                .timeout(Some(Duration::from_secs(20)))
                .build();
            return Ok(Self::Smtp(transport));
        }
        if let Some(dir) = &config.mail_dir {
            std::fs::create_dir_all(dir).map_err(|e| {
                anyhow::anyhow!("cannot create KEYHOLDER_MAIL_DIR {}: {e}", dir.display())
            })?;
            return Ok(Self::Files(FileTransport::new(dir), dir.clone()));
        }
        Ok(Self::Log)
    }

    pub fn describe(&self) -> &'static str {
        match self {
            Self::Smtp(_) => "smtp",
            Self::Files(..) => "files",
            Self::Log => "log",
        }
    }

    fn deliver(&self, from: &Mailbox, mail: &OutboxMail) -> Result<(), String> {
        if let Self::Log = self {
            // The log never carries one-time tokens: links are shown redacted.
            tracing::info!(
                mail_id = %mail.id,
                to = %mail.recipient,
                subject = %mail.subject,
                body = %redact_tokens(&mail.body_text),
                "email (no SMTP URL or mail folder configured; links are redacted)"
            );
            return Ok(());
        }
        let to: Mailbox =
            mail.recipient.parse().map_err(|e| format!("bad recipient address: {e}"))?;
        // One Message-ID per outbox row: a delivery retried after a lost
        // answer carries the same id, so mail systems can tell it is one.
        let message_id = format!("<{}@{}>", mail.id, from.email.domain());
        let message = Message::builder()
            .message_id(Some(message_id))
            .from(from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body_text.clone())
            .map_err(|e| format!("cannot build message: {e}"))?;
        match self {
            Self::Smtp(t) => t.send(&message).map(|_| ()).map_err(|e| e.to_string()),
            Self::Files(t, _) => t.send(&message).map(|_| ()).map_err(|e| e.to_string()),
            Self::Log => Ok(()),
        }
    }
}

/// Replaces every `token=...` value in a text by `[redacted]`.
pub fn redact_tokens(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("token=") {
        out.push_str(&rest[..i + 6]);
        out.push_str("[redacted]");
        let after = &rest[i + 6..];
        let end = after
            .find(|c: char| c.is_whitespace() || c == '&' || c == '"' || c == '<')
            .unwrap_or(after.len());
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// The background worker that empties the outbox: the application's
/// database, clock, metrics and wake-up, and how it delivers.
pub struct MailWorker {
    state: AppState,
    delivery: Arc<Delivery>,
    from: Mailbox,
    poll: Duration,
    /// Delivered rows whose "sent" mark did not reach the database yet:
    /// they are marked, never sent again.
    delivered_unmarked: HashSet<uuid::Uuid>,
    /// While the database or the mail server is down every poll fails:
    /// a line a minute says so.
    outbox_errors: LogThrottle,
    delivery_errors: LogThrottle,
}

/// How long a claimed row stays reserved for the worker that claimed it.
const LEASE_SECONDS: i64 = 300;
const BATCH: i64 = 20;

impl MailWorker {
    pub fn new(state: AppState, delivery: Delivery, from: Mailbox, poll: Duration) -> Self {
        let delivery = Arc::new(delivery);
        Self {
            state,
            delivery,
            from,
            poll,
            delivered_unmarked: HashSet::new(),
            outbox_errors: LogThrottle::new(Duration::from_secs(60)),
            delivery_errors: LogThrottle::new(Duration::from_secs(60)),
        }
    }

    /// Runs until `shutdown` turns true; the batch under way is finished first.
    pub async fn run(mut self, mut shutdown: watch::Receiver<bool>) {
        tracing::info!(delivery = self.delivery.describe(), "mail worker started");
        if let Delivery::Log = *self.delivery {
            tracing::warn!(
                "no SMTP URL or mail folder is configured: emails go to the log with their \
                 one-time links redacted; set KEYHOLDER_MAIL_DIR (for example data/mail) to \
                 receive them as .eml files, or KEYHOLDER_SMTP_URL to send them"
            );
        }
        loop {
            if *shutdown.borrow() {
                break;
            }
            match self.drain().await {
                Err(e) => {
                    if let Some(held_back) = self.outbox_errors.admit() {
                        tracing::warn!(error = %e, held_back, "mail worker could not read the outbox; retrying (logged at most once a minute)");
                    }
                }
                Ok(_) => {
                    if self.outbox_errors.reset() {
                        tracing::info!("mail worker reads the outbox again");
                    }
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(self.poll) => {}
                _ = self.state.mail_wakeup.notified() => {}
                _ = shutdown.changed() => {}
            }
        }
        tracing::info!("mail worker stopped");
    }

    /// Delivers every due row, batch by batch.
    pub async fn drain(&mut self) -> Result<usize, String> {
        let mut total = 0;
        loop {
            self.retry_marks().await;
            let now = self.state.clock.now();
            let db = self.state.db.clone();
            let batch = tokio::task::spawn_blocking(move || {
                db.write(|c| {
                    outbox::claim_due(c, now, now + chrono::Duration::seconds(LEASE_SECONDS), BATCH)
                })
            })
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e: keyholder_store::StoreError| e.to_string())?;
            if batch.is_empty() {
                self.update_gauge().await;
                return Ok(total);
            }
            for mail in batch {
                if self.delivered_unmarked.contains(&mail.id) {
                    continue;
                }
                self.deliver_one(mail).await;
                total += 1;
            }
        }
    }

    async fn deliver_one(&mut self, mail: OutboxMail) {
        let delivery = self.delivery.clone();
        let from = self.from.clone();
        let id = mail.id;
        let kind = mail.kind.clone();
        let result = tokio::task::spawn_blocking(move || delivery.deliver(&from, &mail))
            .await
            .unwrap_or_else(|e| Err(format!("delivery task failed: {e}")));
        let now = self.state.clock.now();
        let db = self.state.db.clone();
        match result {
            Ok(()) => {
                self.state.metrics.mail_delivered.inc();
                tracing::info!(mail_id = %id, kind = %kind, "email delivered");
                let marked = tokio::task::spawn_blocking(move || {
                    db.write(|c| outbox::mark_sent(c, id, now))
                })
                .await;
                if !matches!(marked, Ok(Ok(()))) {
                    tracing::warn!(mail_id = %id, "email delivered but not yet marked as sent");
                    self.delivered_unmarked.insert(id);
                }
            }
            Err(error) => {
                self.state.metrics.mail_failed.inc();
                let message = error.clone();
                let next = tokio::task::spawn_blocking(move || {
                    db.write(|c| outbox::mark_failed(c, id, &message, now))
                })
                .await;
                let next: Option<DateTime<Utc>> = next.ok().and_then(Result::ok);
                // SMTP replies often quote the recipient: keep it out of the log.
                let error = crate::telemetry::redact_emails(&error);
                if let Some(held_back) = self.delivery_errors.admit() {
                    tracing::warn!(mail_id = %id, kind = %kind, %error, next_attempt = ?next, held_back, "email delivery failed; will retry (logged at most once a minute)");
                }
            }
        }
    }

    async fn retry_marks(&mut self) {
        if self.delivered_unmarked.is_empty() {
            return;
        }
        let ids: Vec<_> = self.delivered_unmarked.iter().copied().collect();
        let now = self.state.clock.now();
        for id in ids {
            let db = self.state.db.clone();
            let ok =
                tokio::task::spawn_blocking(move || db.write(|c| outbox::mark_sent(c, id, now)))
                    .await;
            if matches!(ok, Ok(Ok(()))) {
                self.delivered_unmarked.remove(&id);
            }
        }
    }

    async fn update_gauge(&self) {
        let db = self.state.db.clone();
        if let Ok(Ok(counts)) = tokio::task::spawn_blocking(move || db.read(outbox::counts)).await {
            self.state.metrics.mail_pending.set(counts.pending);
        }
    }
}

/// Emails about invitations.
pub mod invitation_templates {
    use super::*;

    /// The inviter's message, quoted, with a blank line after (or nothing).
    fn inviter_wrote(inviter: &str, message: Option<&str>) -> String {
        message.map(|m| format!("{inviter} wrote:\n\n{}\n\n", quote(m))).unwrap_or_default()
    }

    /// When an invitation expires and, once accepted, when its access ends.
    fn expiry_lines(
        expires_at: Option<chrono::DateTime<chrono::Utc>>,
        access_expires_at: Option<chrono::DateTime<chrono::Utc>>,
    ) -> String {
        let mut expiry = match expires_at {
            Some(at) => format!("The invitation expires on {} (UTC).", at.format("%Y-%m-%d %H:%M")),
            None => "The invitation does not expire.".to_owned(),
        };
        if let Some(until) = access_expires_at {
            expiry.push_str(&format!(
                " Once accepted, the access ends on {} (UTC).",
                until.format("%Y-%m-%d %H:%M")
            ));
        }
        expiry
    }

    /// Who invites, to what, with which role, until when.
    pub struct Offer<'a> {
        pub app_base: &'a str,
        pub to: &'a str,
        pub inviter: &'a str,
        /// "the estate Riverside" or "Van 7".
        pub resource: &'a str,
        /// "editor", "view", ...
        pub role: &'a str,
        pub message: Option<&'a str>,
        pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
        /// Time-limited access: when the granted access itself ends.
        pub access_expires_at: Option<chrono::DateTime<chrono::Utc>>,
        pub token: &'a str,
    }

    pub fn invitation(o: &Offer<'_>) -> NewMail {
        let message = inviter_wrote(o.inviter, o.message);
        let expiry = expiry_lines(o.expires_at, o.access_expires_at);
        NewMail {
            kind: "invitation",
            recipient: o.to.to_owned(),
            subject: format!("{} invited you to {} on Keyholder", o.inviter, o.resource),
            body_text: format!(
                "Hello,\n\n{inviter} invited you to {resource} on Keyholder, as {role}.\n\n\
                 {message}To accept or decline, open this link (you can create an account \
                 there if you have none):\n\n{base}/invitations/accept#token={token}\n\n\
                 {expiry}\n\n-- Keyholder\n",
                inviter = o.inviter,
                resource = o.resource,
                role = o.role,
                base = o.app_base,
                token = o.token,
            ),
        }
    }

    /// What a bulk invitation offers one recipient: every asset, one
    /// permission, one link.
    pub struct BulkOffer<'a> {
        pub app_base: &'a str,
        pub to: &'a str,
        pub inviter: &'a str,
        /// Each asset as emails name it ("Van 7 (KX21 ABC)").
        pub assets: &'a [String],
        /// "view access", ...
        pub role: &'a str,
        pub message: Option<&'a str>,
        pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
        pub access_expires_at: Option<chrono::DateTime<chrono::Utc>>,
        pub token: &'a str,
    }

    /// One email per recipient of a bulk invitation: the link accepts or
    /// declines every asset listed.
    pub fn bulk_invitation(o: &BulkOffer<'_>) -> NewMail {
        let message = inviter_wrote(o.inviter, o.message);
        let expiry = expiry_lines(o.expires_at, o.access_expires_at);
        let list: String = o.assets.iter().map(|a| format!("- {a}\n")).collect();
        let what = match o.assets {
            [one] => one.clone(),
            many => format!("{} assets", many.len()),
        };
        NewMail {
            kind: "invitation",
            recipient: o.to.to_owned(),
            subject: format!("{} invited you to {what} on Keyholder", o.inviter),
            body_text: format!(
                "Hello,\n\n{inviter} invited you to these assets on Keyholder, as {role}:\n\n\
                 {list}\n{message}To accept or decline them all, open this link (you can create \
                 an account there if you have none):\n\n{base}/invitations/accept#token={token}\n\n\
                 {expiry}\n\n-- Keyholder\n",
                inviter = o.inviter,
                role = o.role,
                base = o.app_base,
                token = o.token,
            ),
        }
    }

    /// Tells the sender that the invitee accepted or declined.
    pub fn responded(to: &str, invitee: &str, resource: &str, accepted: bool) -> NewMail {
        let verb = if accepted { "accepted" } else { "declined" };
        NewMail {
            kind: "invitation_responded",
            recipient: to.to_owned(),
            subject: format!("{invitee} {verb} your invitation to {resource}"),
            body_text: format!(
                "Hello,\n\n{invitee} {verb} your invitation to {resource} on Keyholder.\n\n-- Keyholder\n"
            ),
        }
    }

    /// The inviter's text, quoted line by line (plain text; never markup).
    fn quote(text: &str) -> String {
        text.lines().map(|l| format!("> {l}")).collect::<Vec<_>>().join("\n")
    }
}
