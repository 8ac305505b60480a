-- Invitations by email, to an estate (with a role) or to an asset (with a
-- permission): one table, so one token endpoint serves both. Tokens are
-- stored only as hashes.
CREATE TABLE invitations (
    id TEXT PRIMARY KEY NOT NULL,
    resource_type TEXT NOT NULL CHECK (resource_type IN ('estate', 'asset')),
    resource_id TEXT NOT NULL,
    email TEXT NOT NULL,
    role TEXT NOT NULL,
    message TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'declined', 'expired', 'cancelled')),
    token_hash TEXT NOT NULL,
    invited_by TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    invited_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP,
    access_expires_at TIMESTAMP,
    last_sent_at TIMESTAMP NOT NULL,
    resend_count INTEGER NOT NULL DEFAULT 0,
    responded_at TIMESTAMP,
    responded_by TEXT REFERENCES users (id) ON DELETE SET NULL
);
CREATE UNIQUE INDEX invitations_token_hash_key ON invitations (token_hash);
-- One pending invitation per resource and email.
CREATE UNIQUE INDEX invitations_one_pending ON invitations (resource_type, resource_id, email) WHERE status = 'pending';
CREATE INDEX invitations_resource_idx ON invitations (resource_type, resource_id, invited_at);
CREATE INDEX invitations_email_idx ON invitations (email, status);
CREATE INDEX invitations_expiry_idx ON invitations (status, expires_at);
