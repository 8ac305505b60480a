-- Which optional emails each user wants (no row: all of them). Security
-- emails (password, email address, account) are not optional.
CREATE TABLE notification_settings (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    access_granted BOOLEAN NOT NULL DEFAULT TRUE,
    access_reduced BOOLEAN NOT NULL DEFAULT TRUE,
    access_expiring BOOLEAN NOT NULL DEFAULT TRUE,
    invitation_expiring BOOLEAN NOT NULL DEFAULT TRUE,
    updated_at TIMESTAMP NOT NULL
);
-- The reminders sent three days before a share ends (kind 'share': the
-- asset and the holder) or a pending invitation expires (kind
-- 'invitation': the invitation), once per end: a new end (a share
-- changed, an invitation resent) is reminded anew. The key is claimed by
-- the insert, so two sweepers on two replicas cannot both send one.
CREATE TABLE expiry_reminders (
    kind TEXT NOT NULL CHECK (kind IN ('share', 'invitation')),
    subject TEXT NOT NULL,
    other TEXT NOT NULL,
    due_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP NOT NULL,
    PRIMARY KEY (kind, subject, other, due_at)
);
CREATE INDEX asset_shares_expiry_idx ON asset_shares (access_expires_at) WHERE access_expires_at IS NOT NULL;
