-- An account root disabled (it cannot sign in; its sessions ended) and an
-- account its owner deleted (the row stays as a nameless tombstone so the
-- audit trail and the invitations it sent keep naming "a deleted account").
ALTER TABLE users ADD COLUMN disabled_at TIMESTAMP;
ALTER TABLE users ADD COLUMN deleted_at TIMESTAMP;
