-- Bulk asset invitations: several emails times several assets, sent in one
-- step. Each (email, asset) pair is an ordinary invitation row, tied to its
-- batch here (a table of its own: diesel's tables stop at 16 columns, and
-- invitations has 16); each recipient gets one email and one token, kept
-- below (as a hash), that answers every row of the batch addressed to
-- them. The rows' own token hashes are never mailed.
CREATE TABLE invitation_batch_rows (
    invitation_id TEXT PRIMARY KEY NOT NULL REFERENCES invitations (id) ON DELETE CASCADE,
    batch_id TEXT NOT NULL
);
CREATE INDEX invitation_batch_rows_batch_idx ON invitation_batch_rows (batch_id, invitation_id);
CREATE TABLE invitation_batch_recipients (
    batch_id TEXT NOT NULL,
    email TEXT NOT NULL,
    token_hash TEXT NOT NULL,
    PRIMARY KEY (batch_id, email)
);
CREATE UNIQUE INDEX invitation_batch_recipients_token_hash_key ON invitation_batch_recipients (token_hash);
-- One row per email a batch sent (the first and each resend) and how many
-- invitation rows it covered, written with the rows' audit events: the
-- daily invitation limit counts emails, so a batch's recipient counts once
-- however many assets their email lists.
CREATE TABLE invitation_batch_mailings (
    id TEXT PRIMARY KEY NOT NULL,
    batch_id TEXT NOT NULL,
    email TEXT NOT NULL,
    sent_by TEXT NOT NULL,
    sent_at TIMESTAMP NOT NULL,
    rows_covered INTEGER NOT NULL
);
CREATE INDEX invitation_batch_mailings_sender_idx ON invitation_batch_mailings (sent_by, sent_at);
